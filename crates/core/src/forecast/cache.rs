//! Forecasts computed once per change and shared: the alert pass, the tray's repaint and the
//! window's fetch of the same moment read one computation. An entry is good while the
//! account's inputs are unchanged (its [fingerprint](crate::db::accounts::forecast_fingerprints),
//! which also sees writes by another process, such as `cliffwatch import` while the app runs)
//! and for the rest of the wall-clock minute it was computed in: runways count down with time,
//! and a minute is below what any screen shows ("~14 h").

use super::{forecast_stored, usage_signals, Forecast, LoggedCost, HISTORY_DAYS};
use crate::db;
use crate::model::AccountId;
use crate::Result;
use chrono::{DateTime, Duration, Utc};
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

#[derive(Debug, Clone)]
struct Entry {
    fingerprint: String,
    minute: i64,
    forecast: Forecast,
}

/// The shared forecasts of one data directory (held by [`crate::Cliffwatch`]).
#[derive(Debug, Default)]
pub struct ForecastCache {
    entries: Mutex<HashMap<AccountId, Entry>>,
    computed: AtomicU64,
}

impl ForecastCache {
    /// Every account's forecast at `now`, in label order: cached ones as they are, the others
    /// computed (their logged requests read in one query) and kept.
    pub async fn all(&self, pool: &SqlitePool, now: DateTime<Utc>) -> Result<Vec<Forecast>> {
        let minute = now.timestamp().div_euclid(60);
        let fingerprints = db::accounts::forecast_fingerprints(pool).await?;
        let accounts = db::accounts::list(pool).await?;
        let stale: Vec<AccountId> = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            accounts
                .iter()
                .map(|s| s.account.id)
                .filter(|id| {
                    entries.get(id).is_none_or(|e| {
                        e.minute != minute || fingerprints.get(id) != Some(&e.fingerprint)
                    })
                })
                .collect()
        };
        let mut fresh = HashMap::new();
        if !stale.is_empty() {
            let from = now - Duration::days(HISTORY_DAYS);
            let mut usage: HashMap<AccountId, Vec<LoggedCost>> = HashMap::new();
            let rows = if stale.len() == 1 {
                db::usage_records::costs_between(pool, Some(stale[0]), from, now).await?
            } else {
                db::usage_records::costs_between(pool, None, from, now).await?
            };
            for (id, at, cost) in rows {
                usage.entry(id).or_default().push((at, cost));
            }
            for stored in accounts.iter().filter(|s| stale.contains(&s.account.id)) {
                let rows = usage.remove(&stored.account.id).unwrap_or_default();
                let signals = usage_signals(rows.into_iter());
                let f = forecast_stored(pool, &stored.account, &signals, now).await?;
                self.computed.fetch_add(1, Ordering::Relaxed);
                fresh.insert(stored.account.id, f);
            }
        }
        let mut out = Vec::with_capacity(accounts.len());
        let mut gone = Vec::new();
        {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.retain(|id, _| fingerprints.contains_key(id));
            for stored in &accounts {
                let id = stored.account.id;
                if let Some(f) = fresh.remove(&id) {
                    if let Some(fp) = fingerprints.get(&id) {
                        entries.insert(
                            id,
                            Entry {
                                fingerprint: fp.clone(),
                                minute,
                                forecast: f.clone(),
                            },
                        );
                    }
                    out.push(Some(f));
                } else if let Some(e) = entries.get(&id) {
                    out.push(Some(e.forecast.clone()));
                } else {
                    gone.push(out.len());
                    out.push(None);
                }
            }
        }
        // Evicted between the two reads (another caller saw a newer fingerprint): computed
        // afresh, not kept.
        for i in gone {
            let id = accounts[i].account.id;
            out[i] = Some(super::for_account(pool, id, now).await?);
        }
        Ok(out.into_iter().flatten().collect())
    }

    /// [`ForecastCache::all`], keyed by account (not zipped by position with another read of
    /// the account list: an account added or removed in between must not shift every forecast).
    pub async fn by_account(
        &self,
        pool: &SqlitePool,
        now: DateTime<Utc>,
    ) -> Result<HashMap<AccountId, Forecast>> {
        Ok(self
            .all(pool, now)
            .await?
            .into_iter()
            .map(|f| (f.account_id, f))
            .collect())
    }

    /// One account's forecast at `now`, through the cache.
    pub async fn get(
        &self,
        pool: &SqlitePool,
        id: AccountId,
        now: DateTime<Utc>,
    ) -> Result<Forecast> {
        let minute = now.timestamp().div_euclid(60);
        let fingerprint = db::accounts::forecast_fingerprints(pool).await?.remove(&id);
        if let Some(fp) = &fingerprint {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = entries
                .get(&id)
                .filter(|e| e.minute == minute && &e.fingerprint == fp)
            {
                return Ok(e.forecast.clone());
            }
        }
        let f = super::for_account(pool, id, now).await?;
        self.computed.fetch_add(1, Ordering::Relaxed);
        if let Some(fp) = fingerprint {
            self.entries
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(
                    id,
                    Entry {
                        fingerprint: fp,
                        minute,
                        forecast: f.clone(),
                    },
                );
        }
        Ok(f)
    }

    /// How many forecasts this cache has computed (not served from memory), for tests and the
    /// benchmark.
    pub fn computed(&self) -> u64 {
        self.computed.load(Ordering::Relaxed)
    }
}
