//! [`Cliffwatch`]: one open data directory — the database, the keychain, the clock, the
//! forecasts computed from them and the announcements of what changed. The handle only; what
//! is done with it is behind the front door ([`crate::api`]).

use crate::api::accounts::SecretInput;
use crate::clock::Clock;
use crate::db;
use crate::events::Change;
use crate::forecast::ForecastCache;
use crate::paths;
use crate::secrets::{Secret, SecretRef, SecretStore};
use crate::{Error, Result};
use sqlx::SqlitePool;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::broadcast;

/// How many announced changes a slow listener may fall behind by before it misses some (it
/// then re-reads everything, as after any change: nothing is lost but the detail).
const CHANGES_BACKLOG: usize = 64;

/// An open Cliffwatch data directory. Clones share everything (one pool, one cache, one
/// announcement channel).
#[derive(Debug, Clone)]
pub struct Cliffwatch {
    pool: SqlitePool,
    data_dir: PathBuf,
    keychain: Arc<dyn SecretStore>,
    clock: Arc<dyn Clock>,
    forecasts: Arc<ForecastCache>,
    changes: broadcast::Sender<Change>,
    /// What the engine's read API is doing (the engine writes, hosts read).
    read_api: Arc<std::sync::Mutex<crate::listen::ReadApiStatus>>,
    /// What the engine's recording proxy is doing.
    proxy: Arc<std::sync::Mutex<crate::listen::ReadApiStatus>>,
    /// The last `/metrics` text and `/v1/status` accounts, served again while nothing they
    /// stand on changed.
    metrics: Arc<crate::api::memo::Memo<String>>,
    status: Arc<crate::api::memo::Memo<Vec<crate::model::AccountStatus>>>,
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
            forecasts: Arc::default(),
            changes: broadcast::channel(CHANGES_BACKLOG).0,
            read_api: Arc::default(),
            proxy: Arc::default(),
            metrics: Arc::default(),
            status: Arc::default(),
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

    /// The forecasts shared by alerts, tray and window.
    pub fn forecasts(&self) -> &ForecastCache {
        &self.forecasts
    }

    pub(crate) fn metrics_memo(&self) -> &crate::api::memo::Memo<String> {
        &self.metrics
    }

    pub(crate) fn status_memo(&self) -> &crate::api::memo::Memo<Vec<crate::model::AccountStatus>> {
        &self.status
    }

    /// Tells whoever listens (the running engine, and through it every host) that `change`
    /// happened. Nobody listening is fine: a one-shot CLI command has no engine.
    pub fn announce(&self, change: Change) {
        let _ = self.changes.send(change);
    }

    /// Whether the running engine serves the read API, and where.
    pub fn read_api_status(&self) -> crate::listen::ReadApiStatus {
        self.read_api
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_read_api_status(&self, status: crate::listen::ReadApiStatus) {
        *self.read_api.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }

    /// Whether the running engine serves the recording proxy, and where.
    pub fn proxy_status(&self) -> crate::listen::ReadApiStatus {
        self.proxy.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub(crate) fn set_proxy_status(&self, status: crate::listen::ReadApiStatus) {
        *self.proxy.lock().unwrap_or_else(|e| e.into_inner()) = status;
    }

    /// Hears every [`Cliffwatch::announce`] from now on.
    pub fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    /// Puts a key where it is to live: a new keychain entry (with its last-4 hint), or an
    /// environment variable's name once the variable is checked (failing now rather than at
    /// the first poll).
    pub(crate) async fn store_secret(
        &self,
        input: &SecretInput,
    ) -> Result<(SecretRef, Option<String>)> {
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

    /// The key of an account, fetched from wherever it lives.
    pub async fn secret_for(&self, label: &str) -> Result<Option<Secret>> {
        let stored = db::accounts::get_by_label(&self.pool, label).await?;
        let keychain = self.keychain.clone();
        let label = label.to_owned();
        tokio::task::spawn_blocking(move || stored.secret_ref.resolve(keychain.as_ref(), &label))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }

    /// A secret from wherever `r` says it lives (a channel's URL or token); `label` names its
    /// owner in errors.
    pub(crate) async fn resolve_secret(&self, r: SecretRef, label: &str) -> Result<Option<Secret>> {
        let keychain = self.keychain.clone();
        let label = label.to_owned();
        tokio::task::spawn_blocking(move || r.resolve(keychain.as_ref(), &label))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }

    async fn keychain_set(&self, id: String, secret: Secret) -> Result<()> {
        let keychain = self.keychain.clone();
        tokio::task::spawn_blocking(move || keychain.set(&id, &secret))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }

    pub(crate) async fn keychain_delete(&self, id: String) -> Result<()> {
        let keychain = self.keychain.clone();
        tokio::task::spawn_blocking(move || keychain.delete(&id))
            .await
            .map_err(|e| Error::KeychainUnavailable(format!("keychain task failed: {e}")))?
    }
}
