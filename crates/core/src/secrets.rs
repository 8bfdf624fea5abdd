//! API keys. A key lives only in the OS keychain (or, for servers and CI without one, in an
//! environment variable the user names); the database keeps a [`SecretRef`] that says where to
//! find it. In memory a key is a [`Secret`], which never prints itself and wipes itself on drop.

use crate::{Error, Result};
use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;
use zeroize::Zeroize;

/// An API key in memory. `Debug` and `Display` print `***`; [`Secret::expose`] is the only way
/// to the text, so every use of the raw key is greppable.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a key, trimming the surrounding whitespace a paste or `echo` leaves behind.
    pub fn new(raw: impl Into<String>) -> Result<Self> {
        let mut raw = raw.into();
        let trimmed = raw.trim().to_owned();
        raw.zeroize();
        if trimmed.is_empty() {
            return Err(Error::InvalidInput("the API key is empty".into()));
        }
        if trimmed.chars().any(|c| c.is_control()) {
            return Err(Error::InvalidInput(
                "the API key contains control characters (a stray newline or tab inside it?)"
                    .into(),
            ));
        }
        Ok(Self(trimmed))
    }

    /// The raw key, for the one place that sends it to its provider.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// At most the last 4 characters, for the UI ("…f3a9"). Keys shorter than 12 characters show
    /// fewer, so that a short key is never mostly revealed.
    pub fn hint(&self) -> String {
        let n = self.0.chars().count();
        let show = if n >= 12 { 4 } else { n / 4 };
        let tail: String = self.0.chars().skip(n - show).collect();
        format!("…{tail}")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where an account's key is kept. Stored in the database as text: `keychain:<id>`,
/// `env:<VARIABLE>` or `none` (for a custom provider that needs no key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    Keychain(String),
    Env(String),
    None,
}

impl SecretRef {
    pub fn new_keychain() -> Self {
        SecretRef::Keychain(uuid::Uuid::new_v4().to_string())
    }

    pub fn to_db(&self) -> String {
        match self {
            SecretRef::Keychain(id) => format!("keychain:{id}"),
            SecretRef::Env(var) => format!("env:{var}"),
            SecretRef::None => "none".into(),
        }
    }

    pub fn from_db(s: &str) -> Result<Self> {
        if s == "none" {
            return Ok(SecretRef::None);
        }
        match s.split_once(':') {
            Some(("keychain", id)) if !id.is_empty() => Ok(SecretRef::Keychain(id.into())),
            Some(("env", var)) if valid_env_name(var) => Ok(SecretRef::Env(var.into())),
            _ => Err(Error::Malformed(format!("unknown secret reference `{s}`"))),
        }
    }

    /// A short description for listings: "keychain", "env $VAR" or "none".
    pub fn describe(&self) -> String {
        match self {
            SecretRef::Keychain(_) => "keychain".into(),
            SecretRef::Env(var) => format!("env ${var}"),
            SecretRef::None => "none".into(),
        }
    }

    /// Fetches the key. `label` names the account in error messages.
    pub fn resolve(&self, keychain: &dyn SecretStore, label: &str) -> Result<Option<Secret>> {
        match self {
            SecretRef::Keychain(id) => keychain.get(id).map(Some).map_err(|e| match e {
                Error::SecretNotFound(_) => Error::SecretNotFound(label.into()),
                other => other,
            }),
            SecretRef::Env(var) => read_env_secret(var).map(Some),
            SecretRef::None => Ok(None),
        }
    }
}

/// Environment variable names as POSIX shells accept them.
pub fn valid_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

/// Reads a key from the named environment variable.
pub fn read_env_secret(var: &str) -> Result<Secret> {
    match std::env::var(var) {
        Ok(v) if !v.trim().is_empty() => Secret::new(v),
        _ => Err(Error::SecretEnvMissing(var.into())),
    }
}

/// A keychain: stores keys under an opaque id. Implementations block (the OS keychain talks
/// D-Bus / XPC / Win32), so async callers run them on `spawn_blocking`.
pub trait SecretStore: Send + Sync + fmt::Debug {
    fn set(&self, id: &str, secret: &Secret) -> Result<()>;
    /// `Err(Error::SecretNotFound)` when nothing is stored under `id`.
    fn get(&self, id: &str) -> Result<Secret>;
    /// Deleting an id that holds nothing is not an error.
    fn delete(&self, id: &str) -> Result<()>;
}

/// The OS keychain through `keyring`: Secret Service on Linux, Keychain on macOS, Credential
/// Manager on Windows. Entries are filed under `service` with the id as the user name.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    service: String,
}

/// The keychain service name Cliffwatch files its keys under.
pub const KEYRING_SERVICE: &str = "cliffwatch";

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, id: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, id).map_err(keyring_error)
    }
}

/// The environment variable that files keys under another keychain service name, so that tests
/// and second profiles never touch a user's real Cliffwatch entries.
pub const KEYRING_SERVICE_ENV: &str = "CLIFFWATCH_KEYRING_SERVICE";

/// The OS keychain under [`KEYRING_SERVICE`], or under `$CLIFFWATCH_KEYRING_SERVICE` when set.
pub fn os_keychain() -> std::sync::Arc<dyn SecretStore> {
    let service = std::env::var(KEYRING_SERVICE_ENV)
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| KEYRING_SERVICE.to_owned());
    std::sync::Arc::new(KeyringStore::new(service))
}

impl Default for KeyringStore {
    fn default() -> Self {
        Self::new(KEYRING_SERVICE)
    }
}

fn keyring_error(e: keyring::Error) -> Error {
    match e {
        keyring::Error::NoEntry => Error::SecretNotFound(String::new()),
        // keyring's messages describe the store, never the password.
        other => Error::KeychainUnavailable(other.to_string()),
    }
}

impl SecretStore for KeyringStore {
    fn set(&self, id: &str, secret: &Secret) -> Result<()> {
        self.entry(id)?
            .set_password(secret.expose())
            .map_err(keyring_error)
    }

    fn get(&self, id: &str) -> Result<Secret> {
        let raw = self.entry(id)?.get_password().map_err(keyring_error)?;
        Secret::new(raw)
    }

    fn delete(&self, id: &str) -> Result<()> {
        match self.entry(id)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keyring_error(e)),
        }
    }
}

/// An in-memory keychain for tests and the demo mode.
#[derive(Debug, Default)]
pub struct MemoryStore(pub(crate) Mutex<HashMap<String, Secret>>);

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl SecretStore for MemoryStore {
    fn set(&self, id: &str, secret: &Secret) -> Result<()> {
        self.map().insert(id.into(), secret.clone());
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Secret> {
        self.map()
            .get(id)
            .cloned()
            .ok_or_else(|| Error::SecretNotFound(String::new()))
    }

    fn delete(&self, id: &str) -> Result<()> {
        self.map().remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("sk-live-abcdefghijklmnop").unwrap();
        assert_eq!(format!("{s:?}"), "***", "Debug must redact");
        assert_eq!(format!("{s}"), "***", "Display must redact");
        assert_eq!(
            format!("{:?}", Some(&s)),
            "Some(***)",
            "redaction survives nesting"
        );
    }

    #[test]
    fn hint_shows_at_most_four_characters() {
        assert_eq!(
            Secret::new("sk-live-abcdefghijklmnop").unwrap().hint(),
            "…mnop"
        );
        assert_eq!(
            Secret::new("abcdefgh").unwrap().hint(),
            "…gh",
            "short keys show less"
        );
        assert_eq!(
            Secret::new("abc").unwrap().hint(),
            "…",
            "tiny keys show nothing"
        );
    }

    #[test]
    fn secret_is_trimmed_and_validated() {
        assert_eq!(Secret::new("  key123\n").unwrap().expose(), "key123");
        assert!(Secret::new(" \n").is_err(), "an empty key is an error");
        assert!(
            Secret::new("ab\ncd").is_err(),
            "an inner newline is an error"
        );
    }

    #[test]
    fn secret_ref_round_trips_through_text() {
        for r in [
            SecretRef::Keychain("0b9c".into()),
            SecretRef::Env("OPENAI_ADMIN_KEY".into()),
            SecretRef::None,
        ] {
            assert_eq!(SecretRef::from_db(&r.to_db()).unwrap(), r);
        }
        assert!(
            SecretRef::from_db("env:1BAD").is_err(),
            "invalid env names are rejected"
        );
        assert!(
            SecretRef::from_db("plain-key").is_err(),
            "a raw key is never a reference"
        );
    }

    #[test]
    fn env_reference_reads_the_variable_and_reports_a_missing_one() {
        std::env::set_var("CLIFFWATCH_TEST_SECRET_ENV_1", "sk-from-env-1234");
        let store = MemoryStore::new();
        let got = SecretRef::Env("CLIFFWATCH_TEST_SECRET_ENV_1".into())
            .resolve(&store, "a")
            .unwrap()
            .unwrap();
        assert_eq!(got.expose(), "sk-from-env-1234");
        let err = SecretRef::Env("CLIFFWATCH_TEST_SECRET_ENV_UNSET".into())
            .resolve(&store, "a")
            .unwrap_err();
        assert_eq!(err.kind(), "secret_env_missing");
        assert!(err.to_string().contains("CLIFFWATCH_TEST_SECRET_ENV_UNSET"));
    }

    #[test]
    fn memory_store_round_trip_and_missing_entry() {
        let store = MemoryStore::new();
        store
            .set("id1", &Secret::new("k-1234567890ab").unwrap())
            .unwrap();
        assert_eq!(store.get("id1").unwrap().expose(), "k-1234567890ab");
        store.delete("id1").unwrap();
        assert_eq!(store.get("id1").unwrap_err().kind(), "secret_not_found");
        store.delete("id1").unwrap();
    }
}
