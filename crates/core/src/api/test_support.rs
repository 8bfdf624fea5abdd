//! What the front door's tests share: a data directory with a manual clock, accounts added
//! through the wizard's path, and a history of hourly readings.

use super::accounts::{add_form, AccountForm};
use crate::clock::ManualClock;
use crate::db;
use crate::model::{AccountId, BalanceSample, Unit};
use crate::secrets::MemoryStore;
use crate::Cliffwatch;
use chrono::{DateTime, Duration, TimeZone, Utc};
use std::sync::Arc;

pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

pub async fn open() -> (tempfile::TempDir, Cliffwatch) {
    let tmp = tempfile::tempdir().unwrap();
    let cw = Cliffwatch::open(
        tmp.path(),
        Arc::new(MemoryStore::new()),
        Arc::new(ManualClock::new(t0())),
    )
    .await
    .unwrap();
    (tmp, cw)
}

pub async fn account(cw: &Cliffwatch, provider: &str, label: &str) -> AccountId {
    let form = AccountForm {
        provider: provider.into(),
        label: label.into(),
        base_url: None,
        secret: Some("sk-test-0123456789abcd".into()),
        budget: None,
        options: Default::default(),
    };
    add_form(cw, form).await.unwrap().account.id
}

/// Hourly readings for `hours` up to t0, draining `per_hour` from `start`.
pub async fn drain(cw: &Cliffwatch, id: AccountId, hours: i64, start: f64, per_hour: f64) {
    let mut tx = cw.pool().begin().await.unwrap();
    for h in 0..=hours {
        let s = BalanceSample {
            account_id: id,
            observed_at: t0() - Duration::hours(hours - h),
            remaining: Some(start - per_hour * h as f64),
            limit: None,
            used: None,
            unit: Unit::usd(),
            resets_at: None,
            is_topup: false,
        };
        db::balance_samples::insert(&mut tx, s).await.unwrap();
    }
    tx.commit().await.unwrap();
}
