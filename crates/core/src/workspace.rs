//! [`Cliffwatch`]: one open data directory — the database, the keychain and the clock —
//! and the operations the CLI and the desktop app share.

use crate::clock::Clock;
use crate::db;
use crate::model::{Account, AccountStatus, StatusReport};
use crate::paths;
use crate::providers;
use crate::secrets::{Secret, SecretRef, SecretStore};
use crate::{Error, Result};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An open Cliffwatch data directory.
#[derive(Debug, Clone)]
pub struct Cliffwatch {
    pool: SqlitePool,
    data_dir: PathBuf,
    keychain: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
}

/// Where a new account's key comes from.
#[derive(Debug)]
pub enum SecretInput {
    /// Store this key in the keychain.
    Keychain(Secret),
    /// Read the key from this environment variable at every use; only the name is stored.
    Env(String),
    /// No key (a custom provider with an open endpoint).
    None,
}

/// What the user gives to add an account.
#[derive(Debug)]
pub struct NewAccount {
    pub provider: String,
    pub label: String,
    pub base_url: Option<String>,
    pub secret: SecretInput,
    pub budget: Option<f64>,
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Cliffwatch {
    /// Opens (creating if needed) the data directory and its database.
    pub async fn open(
        data_dir: &Path,
        keychain: Arc<dyn SecretStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        paths::ensure_writable(data_dir)?;
        let pool = db::open(&data_dir.join(paths::DB_FILE)).await?;
        Ok(Self {
            pool,
            data_dir: data_dir.to_path_buf(),
            keychain,
            clock,
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.clock
    }

    /// Validates and stores a new account; its key goes to the keychain (or stays in the named
    /// environment variable), never to the database.
    pub async fn add_account(&self, new: NewAccount) -> Result<Account> {
        let info = providers::find(&new.provider)?;
        let label = new.label.trim();
        validate_label(label)?;
        let base_url = new.base_url.as_deref().map(validate_base_url).transpose()?;
        if let Some(b) = new.budget {
            if !b.is_finite() || b < 0.0 {
                return Err(Error::InvalidInput(format!(
                    "the budget must be a positive amount, not {b}"
                )));
            }
        }
        for opt in info.options.iter().filter(|o| o.required) {
            let present = new.options.get(opt.key).is_some_and(|v| match v {
                serde_json::Value::String(s) => !s.trim().is_empty(),
                serde_json::Value::Null => false,
                _ => true,
            });
            if !present {
                return Err(Error::InvalidInput(format!(
                    "{} accounts need `{}` ({}): pass --{}",
                    info.name,
                    opt.key,
                    opt.label,
                    opt.key.replace('_', "-")
                )));
            }
        }
        if let Some(unknown) = new
            .options
            .keys()
            .find(|k| !info.options.iter().any(|o| o.key == k.as_str()))
        {
            return Err(Error::InvalidInput(format!(
                "{} accounts take no option `{unknown}`",
                info.name
            )));
        }
        // The provider's own checks (a custom spec that does not parse, a malformed Twilio
        // SID): refused now, not at the first poll.
        providers::adapter(info.id)?
            .validate_options(&serde_json::Value::Object(new.options.clone()))
            .map_err(Error::InvalidInput)?;
        if matches!(new.secret, SecretInput::None) && info.id != "custom" {
            return Err(Error::InvalidInput(format!(
                "{} needs a key ({}): pass --secret-stdin or --secret-env VAR",
                info.name, info.key_help
            )));
        }
        // Refuse a taken label before touching the keychain.
        match db::accounts::get_by_label(&self.pool, label).await {
            Ok(_) => return Err(Error::AccountExists(label.into())),
            Err(Error::AccountNotFound(_)) => {}
            Err(e) => return Err(e),
        }

        let (secret_ref, hint) = self.store_secret(&new.secret).await?;
        let options = serde_json::Value::Object(new.options.clone());
        let inserted = db::accounts::insert(
            &self.pool,
            &db::accounts::Insert {
                provider: info.id,
                label,
                base_url: base_url.as_deref(),
                secret_ref: &secret_ref.to_db(),
                secret_hint: hint.as_deref(),
                budget: new.budget,
                options: &options,
                now: self.clock.now(),
            },
        )
        .await;
        match inserted {
            Ok(id) => Ok(db::accounts::get(&self.pool, id).await?.account),
            Err(e) => {
                // Leave no orphan key behind.
                if let SecretRef::Keychain(id) = secret_ref {
                    let _ = self.keychain_delete(id).await;
                }
                Err(e)
            }
        }
    }

    /// All accounts, by label.
    pub async fn accounts(&self) -> Result<Vec<Account>> {
        Ok(db::accounts::list(&self.pool)
            .await?
            .into_iter()
            .map(|s| s.account)
            .collect())
    }

    /// Removes an account and deletes its key from the keychain.
    pub async fn remove_account(&self, label: &str) -> Result<Account> {
        let stored = db::accounts::get_by_label(&self.pool, label).await?;
        db::accounts::delete(&self.pool, stored.account.id).await?;
        if let SecretRef::Keychain(id) = stored.secret_ref {
            self.keychain_delete(id).await?;
        }
        Ok(stored.account)
    }

    /// Puts a key where it is to live: a new keychain entry (with its last-4 hint), or an
    /// environment variable's name once the variable is checked (failing now rather than at
    /// the first poll).
    async fn store_secret(&self, input: &SecretInput) -> Result<(SecretRef, Option<String>)> {
        match input {
            SecretInput::Keychain(secret) => {
                let r = SecretRef::new_keychain();
                let SecretRef::Keychain(id) = &r else {
                    unreachable!("new_keychain")
                };
                self.keychain_set(id.clone(), secret.clone()).await?;
                Ok((r, Some(secret.hint())))
            }
            SecretInput::Env(var) => {
                if !crate::secrets::valid_env_name(var) {
                    return Err(Error::InvalidInput(format!(
                        "`{var}` is not a valid environment variable name"
                    )));
                }
                crate::secrets::read_env_secret(var)?;
                Ok((SecretRef::Env(var.clone()), None))
            }
            SecretInput::None => Ok((SecretRef::None, None)),
        }
    }

    /// Replaces an account's key in place: its history, alerts and log links stay. The new key
    /// is stored under a new keychain entry first, then the account points at it, then the old
    /// entry is deleted, so a failure at any step leaves a working key behind. The account goes
    /// back to "not polled" (a rejected key waits for exactly this).
    pub async fn replace_secret(&self, label: &str, secret: SecretInput) -> Result<Account> {
        let stored = db::accounts::get_by_label(&self.pool, label).await?;
        if matches!(secret, SecretInput::None) {
            return Err(Error::InvalidInput(
                "a new key is needed to replace the old one".into(),
            ));
        }
        let (secret_ref, hint) = self.store_secret(&secret).await?;
        let updated = db::accounts::set_secret(
            &self.pool,
            stored.account.id,
            &stored.secret_ref.to_db(),
            &secret_ref.to_db(),
            hint.as_deref(),
            self.clock.now(),
        )
        .await
        .and_then(|done| {
            done.then_some(()).ok_or_else(|| {
                Error::InvalidInput(format!(
                    "the key of `{label}` was changed or the account removed meanwhile: try again"
                ))
            })
        });
        if let Err(e) = updated {
            // Leave no orphan key behind.
            if let SecretRef::Keychain(id) = secret_ref {
                let _ = self.keychain_delete(id).await;
            }
            return Err(e);
        }
        if let SecretRef::Keychain(old) = stored.secret_ref {
            // The account no longer points at it; a failure here leaves an orphan entry, not a
            // broken account.
            let _ = self.keychain_delete(old).await;
        }
        Ok(db::accounts::get(&self.pool, stored.account.id)
            .await?
            .account)
    }

    /// The key of an account, fetched from wherever it lives.
    pub async fn secret_for(&self, label: &str) -> Result<Option<Secret>> {
        let stored = db::accounts::get_by_label(&self.pool, label).await?;
        let keychain = self.keychain.clone();
        let label = label.to_owned();
        tokio::task::spawn_blocking(move || stored.secret_ref.resolve(keychain.as_ref(), &label))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }

    /// Every account with its latest reading.
    pub async fn status(&self) -> Result<StatusReport> {
        let mut accounts = Vec::new();
        for stored in db::accounts::list(&self.pool).await? {
            let info = providers::find(&stored.account.provider).ok();
            let latest = db::balance_samples::latest(&self.pool, stored.account.id).await?;
            accounts.push(AccountStatus {
                provider_name: info
                    .map_or_else(|| stored.account.provider.clone(), |i| i.name.into()),
                top_up_url: info
                    .map(|i| i.top_up_url)
                    .filter(|u| !u.is_empty())
                    .map(Into::into),
                latest,
                account: stored.account,
            });
        }
        Ok(StatusReport {
            generated_at: self.clock.now(),
            data_dir: self.data_dir.display().to_string(),
            accounts,
        })
    }

    async fn keychain_set(&self, id: String, secret: Secret) -> Result<()> {
        let keychain = self.keychain.clone();
        tokio::task::spawn_blocking(move || keychain.set(&id, &secret))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }

    async fn keychain_delete(&self, id: String) -> Result<()> {
        let keychain = self.keychain.clone();
        tokio::task::spawn_blocking(move || keychain.delete(&id))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }
}

fn validate_label(label: &str) -> Result<()> {
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "an account label must be 1 to 64 printable characters".into(),
        ));
    }
    Ok(())
}

/// Base-URL overrides must be http(s) URLs without credentials; plain http is allowed only for
/// loopback hosts (self-hosted gateways and tests), so a key is never sent in clear text.
pub fn validate_base_url(raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::InvalidInput(format!("`{raw}` is not a valid URL: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(Error::InvalidInput(format!(
                "`{raw}` uses plain http: keys may only be sent over https (plain http is allowed for localhost)"
            )))
        }
        s => return Err(Error::InvalidInput(format!("`{raw}`: unsupported URL scheme `{s}`"))),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::InvalidInput(
            "put credentials in the key, not in the base URL".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        // A query string in a stored base URL is where keys end up (`?key=…`): keys go in the
        // keychain, and the base URL is only scheme, host and path.
        return Err(Error::InvalidInput(format!(
            "`{}` has a query string or fragment: a base URL is scheme, host and path only (put keys in the key field)",
            url.origin().ascii_serialization()
        )));
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

/// Whether `url` points at this machine: decided from the parsed host (an IP address in
/// 127.0.0.0/8 or ::1, or the name `localhost`), never from how the host name starts, so
/// `http://127.attacker.example` is not loopback.
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

#[cfg(test)]
mod loopback_tests {
    use super::*;

    #[rstest::rstest]
    #[case("http://127.attacker.example", false)]
    #[case("http://127.0.0.1.nip.io", false)]
    #[case("http://localhost.attacker.example", false)]
    #[case("http://127.0.0.1@evil.example", false)]
    #[case("http://10.0.0.1", false)]
    #[case("http://127.0.0.2:1", true)]
    #[case("http://[::1]:8080", true)]
    #[case("http://LOCALHOST:9", true)]
    #[case("http://127.1", true)]
    fn plain_http_only_to_this_machine_decided_from_the_parsed_host(
        #[case] url: &str,
        #[case] allowed: bool,
    ) {
        assert_eq!(
            validate_base_url(url).is_ok(),
            allowed,
            "{url}: a look-alike host must not get the key in clear text"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::model::AccountState;
    use crate::secrets::MemoryStore;
    use chrono::TimeZone;

    async fn open() -> (tempfile::TempDir, Cliffwatch, Arc<MemoryStore>) {
        let tmp = tempfile::tempdir().unwrap();
        let keychain = Arc::new(MemoryStore::new());
        let clock = Arc::new(ManualClock::new(
            chrono::Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
        ));
        let cw = Cliffwatch::open(tmp.path(), keychain.clone(), clock)
            .await
            .unwrap();
        (tmp, cw, keychain)
    }

    fn in_keychain(key: &str) -> SecretInput {
        SecretInput::Keychain(Secret::new(key).unwrap())
    }

    /// The keys the keychain holds now.
    fn keys_in(keychain: &MemoryStore) -> Vec<String> {
        let held = keychain.0.lock().unwrap();
        held.values().map(|s| s.expose().to_owned()).collect()
    }

    fn new(provider: &str, label: &str, secret: SecretInput) -> NewAccount {
        NewAccount {
            provider: provider.into(),
            label: label.into(),
            base_url: None,
            secret,
            budget: None,
            options: Default::default(),
        }
    }

    #[tokio::test]
    async fn key_goes_to_keychain_and_only_a_reference_to_the_database() {
        let (tmp, cw, keychain) = open().await;
        let key = "sk-or-v1-PLANTED-0123456789abcdef";
        let acc = cw
            .add_account(new("openrouter", "main", in_keychain(key)))
            .await
            .unwrap();
        assert_eq!(acc.secret_hint.as_deref(), Some("…cdef"));
        assert_eq!(cw.secret_for("main").await.unwrap().unwrap().expose(), key);
        cw.pool().close().await;
        for entry in std::fs::read_dir(tmp.path()).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            assert!(
                !bytes.windows(key.len()).any(|w| w == key.as_bytes()),
                "the key must never be written to the data directory"
            );
        }
        assert_eq!(keychain.0.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn a_key_is_replaced_in_place_and_the_old_one_leaves_the_keychain() {
        let (_tmp, cw, keychain) = open().await;
        let acc = cw
            .add_account(new("deepseek", "ds", in_keychain("sk-old-111111wxyz")))
            .await
            .unwrap();
        crate::db::accounts::set_state(
            cw.pool(),
            acc.id,
            AccountState::InvalidKey,
            Some("401"),
            cw.clock().now(),
        )
        .await
        .unwrap();
        let after = cw
            .replace_secret("ds", in_keychain("sk-new-222222abcd"))
            .await
            .unwrap();
        assert_eq!(after.id, acc.id, "the same account, its history kept");
        assert_eq!(after.secret_hint.as_deref(), Some("…abcd"));
        assert_eq!(
            after.state,
            AccountState::Unknown,
            "a rejected key is polled again"
        );
        assert_eq!(
            cw.secret_for("ds").await.unwrap().unwrap().expose(),
            "sk-new-222222abcd"
        );
        let left = keys_in(&keychain);
        assert_eq!(left, ["sk-new-222222abcd"], "the old key is deleted");

        let err = cw
            .replace_secret("ds", SecretInput::None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        let err = cw
            .replace_secret("nobody", in_keychain("sk-x-12345678"))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "account_not_found");
        assert_eq!(
            keychain.0.lock().unwrap().len(),
            1,
            "nothing stored by a refusal"
        );
    }

    #[tokio::test]
    async fn two_replacements_at_once_leave_exactly_one_key() {
        let (_tmp, cw, keychain) = open().await;
        cw.add_account(new("deepseek", "ds", in_keychain("sk-old-111111wxyz")))
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            cw.replace_secret("ds", in_keychain("sk-new-a-1111aaaa")),
            cw.replace_secret("ds", in_keychain("sk-new-b-2222bbbb")),
        );
        // Interleaved, the second is told to try again; one after the other, both succeed.
        // Either way no key is left behind (db::accounts' set_secret test pins the refusal).
        assert!(a.is_ok() || b.is_ok(), "{a:?} {b:?}");
        let left = keys_in(&keychain);
        let stored = cw.secret_for("ds").await.unwrap().unwrap();
        assert_eq!(
            left,
            [stored.expose()],
            "no orphan key, and it is the stored one"
        );
    }

    #[tokio::test]
    async fn remove_deletes_the_key_too() {
        let (_tmp, cw, keychain) = open().await;
        cw.add_account(new("deepseek", "ds", in_keychain("sk-1234567890ab")))
            .await
            .unwrap();
        cw.remove_account("ds").await.unwrap();
        assert!(cw.accounts().await.unwrap().is_empty());
        assert!(
            keychain.0.lock().unwrap().is_empty(),
            "no orphan key in the keychain"
        );
    }

    #[tokio::test]
    async fn bad_input_is_refused_before_anything_is_stored() {
        let (_tmp, cw, keychain) = open().await;
        let k = || in_keychain("sk-1234567890ab");
        let cases: Vec<(NewAccount, &str)> = vec![
            (new("nope", "a", k()), "unknown_provider"),
            (new("deepseek", "", k()), "invalid_input"),
            (new("deepseek", "a", SecretInput::None), "invalid_input"),
            (
                new(
                    "deepseek",
                    "a",
                    SecretInput::Env("CLIFFWATCH_TEST_UNSET_VAR_9".into()),
                ),
                "secret_env_missing",
            ),
            (new("deepgram", "a", k()), "invalid_input"),
            (
                NewAccount {
                    base_url: Some("http://example.com".into()),
                    ..new("deepseek", "a", k())
                },
                "invalid_input",
            ),
            (
                NewAccount {
                    budget: Some(-1.0),
                    ..new("openai", "a", k())
                },
                "invalid_input",
            ),
            (
                NewAccount {
                    options: serde_json::json!({"spec": {"url": "/x", "unit": "usd"}})
                        .as_object()
                        .unwrap()
                        .clone(),
                    ..new("custom", "a", k())
                },
                "invalid_input",
            ),
        ];
        for (input, kind) in cases {
            let what = format!("{input:?}");
            let err = cw.add_account(input).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{what}: {err}");
        }
        assert!(cw.accounts().await.unwrap().is_empty(), "nothing stored");
        assert!(
            keychain.0.lock().unwrap().is_empty(),
            "nothing left in the keychain"
        );
    }

    #[tokio::test]
    async fn duplicate_label_leaves_no_orphan_key() {
        let (_tmp, cw, keychain) = open().await;
        let k = || in_keychain("sk-1234567890ab");
        cw.add_account(new("deepseek", "a", k())).await.unwrap();
        assert_eq!(
            cw.add_account(new("tavily", "a", k()))
                .await
                .unwrap_err()
                .kind(),
            "account_exists"
        );
        assert_eq!(keychain.0.lock().unwrap().len(), 1);
    }

    #[test]
    fn base_urls_are_normalised_and_checked() {
        assert_eq!(
            validate_base_url("https://gw.example.com/v1/").unwrap(),
            "https://gw.example.com/v1"
        );
        assert!(
            validate_base_url("http://127.0.0.1:8080").is_ok(),
            "loopback http is fine"
        );
        assert!(validate_base_url("http://localhost:4000").is_ok());
        assert!(
            validate_base_url("http://gw.example.com").is_err(),
            "no clear-text keys"
        );
        assert!(validate_base_url("https://user:pw@gw.example.com").is_err());
        assert!(validate_base_url("ftp://x").is_err());
        assert!(
            validate_base_url("https://gw.example.com/v1?key=sk-1").is_err(),
            "a key in a query string would be stored in the database"
        );
    }
}
