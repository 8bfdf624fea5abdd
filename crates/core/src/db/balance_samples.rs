//! Queries on `balance_samples`: every reading of a balance endpoint.

use crate::clock::{from_db, to_db};
use crate::model::{AccountId, BalanceSample, Unit};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Sqlite, Transaction};

#[derive(FromRow)]
struct Row {
    account_id: i64,
    observed_at: String,
    remaining: Option<f64>,
    limit_total: Option<f64>,
    used: Option<f64>,
    unit: String,
    resets_at: Option<String>,
    is_topup: i64,
}

impl TryFrom<Row> for BalanceSample {
    type Error = crate::Error;
    fn try_from(r: Row) -> Result<Self> {
        Ok(BalanceSample {
            account_id: AccountId(r.account_id),
            observed_at: from_db(&r.observed_at)?,
            remaining: r.remaining,
            limit: r.limit_total,
            used: r.used,
            unit: Unit::parse(&r.unit)?,
            resets_at: r.resets_at.as_deref().map(from_db).transpose()?,
            is_topup: r.is_topup != 0,
        })
    }
}

const COLUMNS: &str =
    "account_id, observed_at, remaining, limit_total, used, unit, resets_at, is_topup";

/// Amounts are compared with this tolerance: providers round to cents or to 1/10000, and a
/// reading that only wobbles in the last digit is not a top-up.
const TOPUP_EPSILON: f64 = 1e-6;

/// Stores a reading. A rise in `remaining` over the previous reading in the same unit is marked
/// as a top-up (or a period reset), so it is never counted as negative spend. Returns the
/// sample as stored.
pub async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    mut sample: BalanceSample,
) -> Result<BalanceSample> {
    let prev: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM balance_samples WHERE account_id = ? AND observed_at <= ? \
         ORDER BY observed_at DESC, id DESC LIMIT 1"
    ))
    .bind(sample.account_id)
    .bind(to_db(sample.observed_at))
    .fetch_optional(&mut **tx)
    .await?;
    let prev = prev.map(BalanceSample::try_from).transpose()?;
    sample.is_topup = match (prev, sample.remaining) {
        (Some(p), Some(now)) if p.unit == sample.unit => p
            .remaining
            .is_some_and(|before| now > before + TOPUP_EPSILON),
        _ => false,
    };
    sqlx::query(&format!(
        "INSERT INTO balance_samples ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    ))
    .bind(sample.account_id)
    .bind(to_db(sample.observed_at))
    .bind(sample.remaining)
    .bind(sample.limit)
    .bind(sample.used)
    .bind(sample.unit.as_str())
    .bind(sample.resets_at.map(to_db))
    .bind(sample.is_topup as i64)
    .execute(&mut **tx)
    .await?;
    Ok(sample)
}

/// The newest reading of an account.
pub async fn latest(
    db: impl sqlx::SqliteExecutor<'_>,
    account: AccountId,
) -> Result<Option<BalanceSample>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM balance_samples WHERE account_id = ? \
         ORDER BY observed_at DESC, id DESC LIMIT 1"
    ))
    .bind(account)
    .fetch_optional(db)
    .await?;
    row.map(BalanceSample::try_from).transpose()
}

/// An account's readings from `since` on (inclusive), oldest first.
pub async fn since(
    db: impl sqlx::SqliteExecutor<'_>,
    account: AccountId,
    since: DateTime<Utc>,
) -> Result<Vec<BalanceSample>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM balance_samples WHERE account_id = ? AND observed_at >= ? \
         ORDER BY observed_at, id"
    ))
    .bind(account)
    .bind(to_db(since))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(BalanceSample::try_from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    async fn setup() -> (sqlx::SqlitePool, AccountId) {
        let db = crate::db::open_in_memory().await.unwrap();
        let opts = serde_json::json!({});
        let id = crate::db::accounts::insert(
            &db,
            &crate::db::accounts::Insert {
                provider: "deepseek",
                label: "a",
                base_url: None,
                secret_ref: "none",
                secret_hint: None,
                budget: None,
                options: &opts,
                now: t(0),
            },
        )
        .await
        .unwrap();
        (db, id)
    }

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    fn sample(id: AccountId, min: i64, remaining: f64) -> BalanceSample {
        crate::db::test_rows::usd(id, t(min), remaining)
    }

    #[tokio::test]
    async fn a_rise_is_marked_as_top_up_and_a_fall_is_not() {
        let (db, id) = setup().await;
        let mut tx = db.begin().await.unwrap();
        assert!(
            !insert(&mut tx, sample(id, 0, 10.0)).await.unwrap().is_topup,
            "first sample"
        );
        assert!(
            !insert(&mut tx, sample(id, 5, 9.5)).await.unwrap().is_topup,
            "spend"
        );
        assert!(
            insert(&mut tx, sample(id, 10, 50.0))
                .await
                .unwrap()
                .is_topup,
            "top-up"
        );
        assert!(
            !insert(&mut tx, sample(id, 15, 50.0))
                .await
                .unwrap()
                .is_topup,
            "flat"
        );
        tx.commit().await.unwrap();
        let all = since(&db, id, t(0)).await.unwrap();
        assert_eq!(all.len(), 4);
        assert_eq!(
            all.iter().filter(|s| s.is_topup).count(),
            1,
            "the flag is stored"
        );
    }

    #[tokio::test]
    async fn latest_and_since_return_in_time_order() {
        let (db, id) = setup().await;
        let mut tx = db.begin().await.unwrap();
        insert(&mut tx, sample(id, 10, 3.0)).await.unwrap();
        insert(&mut tx, sample(id, 0, 5.0)).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(latest(&db, id).await.unwrap().unwrap().remaining, Some(3.0));
        let got: Vec<_> = since(&db, id, t(5))
            .await
            .unwrap()
            .iter()
            .map(|s| s.remaining)
            .collect();
        assert_eq!(got, [Some(3.0)], "since() filters on time");
    }
}
