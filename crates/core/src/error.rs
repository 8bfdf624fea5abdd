//! The one error type of cliffwatch-core. Every variant's message is a sentence that says what
//! happened and, where there is something to do, what to do. Variants exist where a caller
//! branches on them; [`Error::kind`] is the stable name the UI and `--json` output receive.

use std::path::PathBuf;

/// Result alias used throughout cliffwatch-core.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("unknown provider `{0}`: run `cliffwatch providers` to see the supported ids")]
    UnknownProvider(String),

    #[error("no account named `{0}`: run `cliffwatch account list` to see them")]
    AccountNotFound(String),

    #[error("an account named `{0}` already exists: pick another label or remove it first")]
    AccountExists(String),

    #[error("{0}")]
    InvalidInput(String),

    #[error("the environment variable `{0}` is not set (or is not valid UTF-8): export it before running Cliffwatch")]
    SecretEnvMissing(String),

    #[error(
        "no secret is stored in the keychain for account `{0}`: add the account again with its key"
    )]
    SecretNotFound(String),

    #[error("the OS keychain is not available ({0}): unlock it, or use `--secret-env VAR` to read the key from an environment variable")]
    KeychainUnavailable(String),

    #[error("cannot use the data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{path} is not a Cliffwatch database or is damaged ({detail}); it was left untouched — move it aside to start fresh, or restore a backup")]
    CorruptDatabase { path: PathBuf, detail: String },

    #[error("{path} was written by a newer version of Cliffwatch (schema {version}); it was left untouched — upgrade Cliffwatch to open it")]
    NewerDatabase { path: PathBuf, version: i64 },

    #[error("cannot write to the database {path}: {detail}")]
    ReadOnlyDatabase { path: PathBuf, detail: String },

    #[error("{}", database_message(.0))]
    Database(#[from] sqlx::Error),

    #[error("database migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),

    #[error("stored data is malformed: {0}")]
    Malformed(String),

    /// The alert is stored; only telling the user failed. `watch` keeps going (the next pass
    /// retries the delivery) instead of stopping as it does on a database error.
    #[error("could not show the notification ({0}): is a notification daemon running?")]
    Notify(String),

    /// One file of a log source could not be read (unreadable, a corrupt or truncated `.gz`,
    /// over a size cap, a parser crash). A scan records it on that file and goes on with the
    /// others, instead of stopping as it does on a database error.
    #[error("cannot read {path}: {detail}")]
    LogFile { path: PathBuf, detail: String },

    /// A background task ended abnormally (it panicked): a bug to report.
    #[error("{0}: this is a bug in Cliffwatch, please report it")]
    Internal(String),
}

/// SQLite's result code for a write that found no space (`SQLITE_FULL`).
const SQLITE_FULL: &str = "13";

/// A database error as a sentence: a full disk says what to do, the rest say what SQLite said.
fn database_message(e: &sqlx::Error) -> String {
    if let sqlx::Error::Database(d) = e {
        if d.code().as_deref() == Some(SQLITE_FULL) {
            // Each write is one transaction with the offset or reading that produced it, so a
            // failed one left nothing behind: the next run picks up where the last commit was.
            return format!(
                "the disk holding the database is full ({}): free some space; nothing was half-written, and Cliffwatch picks up where it stopped",
                d.message()
            );
        }
    }
    format!("database error: {e}")
}

impl Error {
    /// A stable, machine-readable name for the error, sent to the UI and in `--json` output
    /// as `{kind, message}`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::UnknownProvider(_) => "unknown_provider",
            Error::AccountNotFound(_) => "account_not_found",
            Error::AccountExists(_) => "account_exists",
            Error::InvalidInput(_) => "invalid_input",
            Error::SecretEnvMissing(_) => "secret_env_missing",
            Error::SecretNotFound(_) => "secret_not_found",
            Error::KeychainUnavailable(_) => "keychain_unavailable",
            Error::DataDir { .. } => "data_dir",
            Error::CorruptDatabase { .. } => "corrupt_database",
            Error::NewerDatabase { .. } => "newer_database",
            Error::ReadOnlyDatabase { .. } => "read_only_database",
            Error::Database(_) => "database",
            Error::Migration(_) => "migration",
            Error::Malformed(_) => "malformed",
            Error::Notify(_) => "notify",
            Error::LogFile { .. } => "log_file",
            Error::Internal(_) => "internal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Error;
    use sqlx::Connection;

    /// A full disk without root: `max_page_count` makes SQLite answer `SQLITE_FULL` exactly as
    /// it does on a full filesystem (tests/integration/disk_full.rs does that one as root).
    #[tokio::test]
    async fn a_full_disk_says_so_and_what_to_do() {
        let mut conn = sqlx::SqliteConnection::connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE t (x BLOB)")
            .execute(&mut conn)
            .await
            .unwrap();
        sqlx::query("PRAGMA max_page_count = 8")
            .execute(&mut conn)
            .await
            .unwrap();
        let mut full = None;
        for _ in 0..64 {
            if let Err(e) = sqlx::query("INSERT INTO t VALUES (zeroblob(4096))")
                .execute(&mut conn)
                .await
            {
                full = Some(Error::from(e));
                break;
            }
        }
        let e = full.expect("8 pages fill up");
        let msg = e.to_string();
        assert_eq!(e.kind(), "database", "callers branch on the kind as before");
        assert!(
            msg.contains("disk holding the database is full") && msg.contains("free some space"),
            "a full disk is named, with what to do (not SQLite's bare `(code: 13)`): {msg}"
        );
    }
}
