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

    #[error("database error: {0}")]
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
