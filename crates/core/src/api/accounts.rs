//! Accounts: add (from the CLI or the wizard), edit, remove, replace the key, test and poll —
//! with one check of a provider's options and budget for adding and editing alike.

use super::overview::{self, AccountRow};
use crate::db;
use crate::events::Change;
use crate::model::{Account, AccountId};
use crate::poll::PollResult;
use crate::providers::{self, ProviderInfo};
use crate::secrets::{Secret, SecretRef};
use crate::{Cliffwatch, Error, Result};
use serde::Deserialize;
use ts_rs::TS;

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

/// What the add-account wizard sends. The key crosses from the webview once, here, and goes
/// straight to the keychain; it never comes back.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct AccountForm {
    pub provider: String,
    pub label: String,
    pub base_url: Option<String>,
    /// The key; empty or absent for a custom endpoint that needs none.
    pub secret: Option<String>,
    pub budget: Option<f64>,
    #[ts(type = "Record<string, unknown>")]
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for AccountForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountForm")
            .field("provider", &self.provider)
            .field("label", &self.label)
            .field("base_url", &self.base_url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl AccountForm {
    /// The wizard's answer as a [`NewAccount`]; blank fields count as absent.
    pub fn into_new_account(self) -> Result<NewAccount> {
        let secret = match self.secret.filter(|s| !s.trim().is_empty()) {
            Some(s) => SecretInput::Keychain(Secret::new(s.trim())?),
            None => SecretInput::None,
        };
        Ok(NewAccount {
            provider: self.provider,
            label: self.label,
            base_url: self.base_url.filter(|u| !u.trim().is_empty()),
            secret,
            budget: self.budget,
            options: self.options,
        })
    }
}

/// What the account editor changes. The key is replaced on its own ([`replace_key_by_id`]);
/// the label is the account's identity in the CLI.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct AccountEdit {
    /// Empty or absent: the provider's default.
    pub base_url: Option<String>,
    pub budget: Option<f64>,
    #[ts(type = "Record<string, unknown>")]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// The one check of what a user sets on an account, for adding and editing alike: a base URL
/// keys may be sent to, a budget that is a positive amount, and exactly the options the
/// provider takes (blank ones count as absent), as its adapter validates them. Returns the
/// normalised base URL and options.
fn checked_settings(
    info: &ProviderInfo,
    base_url: Option<&str>,
    budget: Option<f64>,
    options: serde_json::Map<String, serde_json::Value>,
) -> Result<(Option<String>, serde_json::Map<String, serde_json::Value>)> {
    let base_url = base_url
        .filter(|u| !u.trim().is_empty())
        .map(crate::urls::validate_base_url)
        .transpose()?;
    if let Some(b) = budget.filter(|b| !b.is_finite() || *b < 0.0) {
        return Err(Error::InvalidInput(format!(
            "the budget must be a positive amount, not {b}"
        )));
    }
    let options: serde_json::Map<String, serde_json::Value> = options
        .into_iter()
        .filter(|(_, v)| match v {
            serde_json::Value::Null => false,
            serde_json::Value::String(s) => !s.trim().is_empty(),
            _ => true,
        })
        .collect();
    if let Some(unknown) = options
        .keys()
        .find(|k| !info.options.iter().any(|o| o.key == k.as_str()))
    {
        return Err(Error::InvalidInput(format!(
            "{} accounts take no option `{unknown}`",
            info.name
        )));
    }
    if let Some(o) = info
        .options
        .iter()
        .find(|o| o.required && !options.contains_key(o.key))
    {
        return Err(Error::InvalidInput(format!(
            "{} accounts need `{}` ({})",
            info.name, o.key, o.label
        )));
    }
    // The provider's own checks (a custom spec that does not parse, a malformed Twilio SID):
    // refused now, not at the first poll.
    providers::adapter(info.id)?
        .validate_options(&serde_json::Value::Object(options.clone()))
        .map_err(Error::InvalidInput)?;
    Ok((base_url, options))
}

fn validate_label(label: &str) -> Result<()> {
    if label.is_empty() || label.chars().count() > 64 || label.chars().any(char::is_control) {
        return Err(Error::InvalidInput(
            "an account label must be 1 to 64 printable characters".into(),
        ));
    }
    Ok(())
}

/// Validates and stores a new account; its key goes to the keychain (or stays in the named
/// environment variable), never to the database.
pub async fn add(cw: &Cliffwatch, new: NewAccount) -> Result<Account> {
    let info = providers::find(&new.provider)?;
    let label = new.label.trim();
    validate_label(label)?;
    let (base_url, options) =
        checked_settings(info, new.base_url.as_deref(), new.budget, new.options)?;
    if matches!(new.secret, SecretInput::None) && info.id != "custom" {
        return Err(Error::InvalidInput(format!(
            "{} needs a key ({}): pass --secret-stdin or --secret-env VAR",
            info.name, info.key_help
        )));
    }
    // Refuse a taken label before touching the keychain.
    match db::accounts::get_by_label(cw.pool(), label).await {
        Ok(_) => return Err(Error::AccountExists(label.into())),
        Err(Error::AccountNotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let (secret_ref, hint) = cw.store_secret(&new.secret).await?;
    let inserted = db::accounts::insert(
        cw.pool(),
        &db::accounts::Insert {
            provider: info.id,
            label,
            base_url: base_url.as_deref(),
            secret_ref: &secret_ref.to_db(),
            secret_hint: hint.as_deref(),
            budget: new.budget,
            options: &serde_json::Value::Object(options),
            now: cw.clock().now(),
        },
    )
    .await;
    match inserted {
        Ok(id) => {
            cw.announce(Change::Accounts);
            Ok(db::accounts::get(cw.pool(), id).await?.account)
        }
        Err(e) => {
            // Leave no orphan key behind.
            if let SecretRef::Keychain(id) = secret_ref {
                let _ = cw.keychain_delete(id).await;
            }
            Err(e)
        }
    }
}

/// Adds an account from the wizard and returns its dashboard row.
pub async fn add_form(cw: &Cliffwatch, form: AccountForm) -> Result<AccountRow> {
    let account = add(cw, form.into_new_account()?).await?;
    overview::row(cw, account, cw.clock().now()).await
}

/// All accounts, by label.
pub async fn list(cw: &Cliffwatch) -> Result<Vec<Account>> {
    Ok(db::accounts::list(cw.pool())
        .await?
        .into_iter()
        .map(|s| s.account)
        .collect())
}

/// The account with this label.
pub async fn get(cw: &Cliffwatch, label: &str) -> Result<Account> {
    Ok(db::accounts::get_by_label(cw.pool(), label).await?.account)
}

async fn label_of(cw: &Cliffwatch, id: AccountId) -> Result<String> {
    Ok(db::accounts::get(cw.pool(), id).await?.account.label)
}

/// Removes an account and deletes its key from the keychain.
pub async fn remove(cw: &Cliffwatch, label: &str) -> Result<Account> {
    let stored = db::accounts::get_by_label(cw.pool(), label).await?;
    db::accounts::delete(cw.pool(), stored.account.id).await?;
    cw.announce(Change::Accounts);
    if let SecretRef::Keychain(id) = stored.secret_ref {
        cw.keychain_delete(id).await?;
    }
    Ok(stored.account)
}

/// Removes an account (and its key) by id.
pub async fn remove_by_id(cw: &Cliffwatch, id: AccountId) -> Result<Account> {
    remove(cw, &label_of(cw, id).await?).await
}

/// Changes an account's base URL, budget and options, checked as when it was added, and sets
/// its state back to "not polled" so that polling resumes (an invalid-key account waits for
/// an edit). A new budget restarts the spend count from now.
pub async fn edit(cw: &Cliffwatch, id: AccountId, edit: AccountEdit) -> Result<AccountRow> {
    let account = db::accounts::get(cw.pool(), id).await?.account;
    let info = providers::find(&account.provider)?;
    let (base_url, options) =
        checked_settings(info, edit.base_url.as_deref(), edit.budget, edit.options)?;
    let now = cw.clock().now();
    let budget_set_at = if edit.budget != account.budget {
        edit.budget.map(|_| now)
    } else {
        account.budget_set_at
    };
    db::accounts::update_settings(
        cw.pool(),
        id,
        &db::accounts::Settings {
            base_url: base_url.as_deref(),
            budget: edit.budget,
            budget_set_at,
            options: &serde_json::Value::Object(options),
            now,
        },
    )
    .await?;
    cw.announce(Change::Accounts);
    let account = db::accounts::get(cw.pool(), id).await?.account;
    overview::row(cw, account, now).await
}

/// Replaces an account's key in place: its history, alerts and log links stay. The new key
/// is stored under a new keychain entry first, then the account points at it, then the old
/// entry is deleted, so a failure at any step leaves a working key behind. The account goes
/// back to "not polled" (a rejected key waits for exactly this).
pub async fn replace_key(cw: &Cliffwatch, label: &str, secret: SecretInput) -> Result<Account> {
    let stored = db::accounts::get_by_label(cw.pool(), label).await?;
    if matches!(secret, SecretInput::None) {
        return Err(Error::InvalidInput(
            "a new key is needed to replace the old one".into(),
        ));
    }
    let (secret_ref, hint) = cw.store_secret(&secret).await?;
    let updated = db::accounts::set_secret(
        cw.pool(),
        stored.account.id,
        &stored.secret_ref.to_db(),
        &secret_ref.to_db(),
        hint.as_deref(),
        cw.clock().now(),
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
            let _ = cw.keychain_delete(id).await;
        }
        return Err(e);
    }
    cw.announce(Change::Accounts);
    if let SecretRef::Keychain(old) = stored.secret_ref {
        // The account no longer points at it; a failure here leaves an orphan entry, not a
        // broken account.
        let _ = cw.keychain_delete(old).await;
    }
    Ok(db::accounts::get(cw.pool(), stored.account.id)
        .await?
        .account)
}

/// Replaces an account's key typed into the window: stored to the keychain, never returned;
/// the row comes back with the new key's last 4 characters.
pub async fn replace_key_by_id(
    cw: &Cliffwatch,
    id: AccountId,
    secret: String,
) -> Result<AccountRow> {
    let secret =
        Secret::new(secret).map_err(|_| Error::InvalidInput("the new key is empty".into()))?;
    let account = replace_key(cw, &label_of(cw, id).await?, SecretInput::Keychain(secret)).await?;
    overview::row(cw, account, cw.clock().now()).await
}

/// One live poll of an account that stores nothing: "Test connection". The reading, or the
/// provider's refusal classified and in words, is in the result.
pub async fn test(cw: &Cliffwatch, id: AccountId) -> Result<PollResult> {
    crate::poll::test_account(cw, &label_of(cw, id).await?).await
}

/// Polls an account now and stores what it learns: "Poll now".
pub async fn poll(cw: &Cliffwatch, id: AccountId) -> Result<PollResult> {
    let result = crate::poll::poll_account(cw, &label_of(cw, id).await?).await?;
    cw.announce(Change::Accounts);
    Ok(result)
}

/// Imports `time,remaining` rows kept elsewhere into an account's history (see
/// [`crate::forecast::import_balances_csv`]).
pub async fn import_balances(
    cw: &Cliffwatch,
    label: &str,
    csv: impl std::io::BufRead,
    unit: Option<crate::model::Unit>,
) -> Result<crate::forecast::ImportReport> {
    let id = db::accounts::get_by_label(cw.pool(), label)
        .await?
        .account
        .id;
    let report = crate::forecast::import_balances_csv(cw.pool(), id, csv, unit).await?;
    cw.announce(Change::Data);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::model::AccountState;
    use crate::secrets::MemoryStore;
    use chrono::TimeZone;
    use std::sync::Arc;

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
        let acc = add(&cw, new("openrouter", "main", in_keychain(key)))
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
        let acc = add(&cw, new("deepseek", "ds", in_keychain("sk-old-111111wxyz")))
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
        let after = replace_key(&cw, "ds", in_keychain("sk-new-222222abcd"))
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

        let err = replace_key(&cw, "ds", SecretInput::None).await.unwrap_err();
        assert_eq!(err.kind(), "invalid_input");
        let err = replace_key(&cw, "nobody", in_keychain("sk-x-12345678"))
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
        add(&cw, new("deepseek", "ds", in_keychain("sk-old-111111wxyz")))
            .await
            .unwrap();
        let (a, b) = tokio::join!(
            replace_key(&cw, "ds", in_keychain("sk-new-a-1111aaaa")),
            replace_key(&cw, "ds", in_keychain("sk-new-b-2222bbbb")),
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
        add(&cw, new("deepseek", "ds", in_keychain("sk-1234567890ab")))
            .await
            .unwrap();
        remove(&cw, "ds").await.unwrap();
        assert!(list(&cw).await.unwrap().is_empty());
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
            let err = add(&cw, input).await.unwrap_err();
            assert_eq!(err.kind(), kind, "{what}: {err}");
        }
        assert!(list(&cw).await.unwrap().is_empty(), "nothing stored");
        assert!(
            keychain.0.lock().unwrap().is_empty(),
            "nothing left in the keychain"
        );
    }

    #[tokio::test]
    async fn duplicate_label_leaves_no_orphan_key() {
        let (_tmp, cw, keychain) = open().await;
        let k = || in_keychain("sk-1234567890ab");
        add(&cw, new("deepseek", "a", k())).await.unwrap();
        assert_eq!(
            add(&cw, new("tavily", "a", k())).await.unwrap_err().kind(),
            "account_exists"
        );
        assert_eq!(keychain.0.lock().unwrap().len(), 1);
    }
}

#[cfg(test)]
mod form_tests {
    use super::super::test_support::*;
    use super::*;

    #[tokio::test]
    async fn edit_checks_like_add_and_resumes_polling() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openai", "spend").await;
        db::accounts::set_state(
            cw.pool(),
            id,
            crate::model::AccountState::InvalidKey,
            Some("bad"),
            t0(),
        )
        .await
        .unwrap();
        let edit = |base: &str, budget: Option<f64>| AccountEdit {
            base_url: Some(base.into()),
            budget,
            options: Default::default(),
        };
        let row = super::edit(&cw, id, edit("https://gw.example.com/v1/", Some(50.0)))
            .await
            .unwrap();
        assert_eq!(
            row.account.base_url.as_deref(),
            Some("https://gw.example.com/v1"),
            "normalised"
        );
        assert_eq!(row.account.budget, Some(50.0));
        assert_eq!(
            row.account.budget_set_at,
            Some(t0()),
            "a new budget counts spend from now"
        );
        assert_eq!(
            row.account.state,
            crate::model::AccountState::Unknown,
            "polling resumes"
        );
        let err = super::edit(&cw, id, edit("http://gw.example.com", None))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "no clear-text keys: {err}");
        let cleared = super::edit(&cw, id, edit("", None)).await.unwrap();
        assert_eq!(
            cleared.account.base_url, None,
            "empty means the provider's default"
        );
    }

    #[test]
    fn the_form_never_prints_the_key() {
        let form = AccountForm {
            provider: "openrouter".into(),
            label: "x".into(),
            base_url: None,
            secret: Some("sk-PLANTED-abcdef".into()),
            budget: None,
            options: Default::default(),
        };
        assert!(
            !format!("{form:?}").contains("PLANTED"),
            "Debug redacts the key"
        );
    }
}
