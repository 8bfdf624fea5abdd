//! Rows the unit tests of several modules start from (tests only).

use crate::model::{AccountId, BalanceSample, Unit};
use chrono::{DateTime, Utc};
use sqlx::SqlitePool;

/// An OpenRouter account labelled "main", without a key, created at `now`.
pub(crate) async fn openrouter_account(pool: &SqlitePool, now: DateTime<Utc>) -> AccountId {
    let options = serde_json::json!({});
    super::accounts::insert(
        pool,
        &super::accounts::Insert {
            provider: "openrouter",
            label: "main",
            base_url: None,
            secret_ref: "none",
            secret_hint: None,
            budget: None,
            options: &options,
            now,
        },
    )
    .await
    .unwrap()
}

/// A reading of `remaining` US dollars.
pub(crate) fn usd(account_id: AccountId, at: DateTime<Utc>, remaining: f64) -> BalanceSample {
    BalanceSample {
        account_id,
        observed_at: at,
        remaining: Some(remaining),
        limit: None,
        used: None,
        unit: Unit::usd(),
        resets_at: None,
        is_topup: false,
    }
}

/// Stores `samples` in one transaction.
pub(crate) async fn store(pool: &SqlitePool, samples: impl IntoIterator<Item = BalanceSample>) {
    let mut tx = pool.begin().await.unwrap();
    for s in samples {
        super::balance_samples::insert(&mut tx, s).await.unwrap();
    }
    tx.commit().await.unwrap();
}
