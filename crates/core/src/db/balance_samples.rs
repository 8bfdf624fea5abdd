//! Queries on `balance_samples`: every reading of a balance endpoint.

use crate::clock::{from_db, to_db, to_db_checked};
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
    // What is written must read back: a time past year 9999 or a NaN amount is refused here,
    // whoever the caller, instead of failing every later read of the account's history.
    let observed_at = to_db_checked(sample.observed_at)?;
    let resets_at = sample.resets_at.map(to_db_checked).transpose()?;
    for (name, v) in [
        ("remaining", sample.remaining),
        ("limit", sample.limit),
        ("used", sample.used),
    ] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(crate::Error::InvalidInput(format!(
                "a reading's {name} is not a finite number"
            )));
        }
    }
    let prev: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM balance_samples WHERE account_id = ? AND observed_at <= ? \
         ORDER BY observed_at DESC, id DESC LIMIT 1"
    ))
    .bind(sample.account_id)
    .bind(&observed_at)
    .fetch_optional(&mut **tx)
    .await?;
    // An unreadable previous row (written by an older version) is no reason to lose this one.
    let prev = crate::db::lenient("balance_samples", prev.into_iter().collect(), |r| {
        BalanceSample::try_from(r)
    })
    .pop();
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
    .bind(observed_at)
    .bind(sample.remaining)
    .bind(sample.limit)
    .bind(sample.used)
    .bind(sample.unit.as_str())
    .bind(resets_at)
    .bind(sample.is_topup as i64)
    .execute(&mut **tx)
    .await?;
    Ok(sample)
}

/// Every account's newest reading, in one query (what [`latest`] gives, for all accounts at
/// once: the status and metrics answers would otherwise ask once per account).
pub async fn latest_all(
    db: impl sqlx::SqliteExecutor<'_>,
) -> Result<std::collections::HashMap<AccountId, BalanceSample>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM balance_samples WHERE id IN ( \
           SELECT (SELECT b.id FROM balance_samples b WHERE b.account_id = a.id \
                   ORDER BY b.observed_at DESC, b.id DESC LIMIT 1) FROM accounts a)"
    ))
    .fetch_all(db)
    .await?;
    Ok(
        crate::db::lenient("balance_samples", rows, BalanceSample::try_from)
            .into_iter()
            .map(|s| (s.account_id, s))
            .collect(),
    )
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
    Ok(
        crate::db::lenient("balance_samples", row.into_iter().collect(), |r| {
            BalanceSample::try_from(r)
        })
        .pop(),
    )
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
    Ok(crate::db::lenient(
        "balance_samples",
        rows,
        BalanceSample::try_from,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    async fn setup() -> (sqlx::SqlitePool, AccountId) {
        let db = crate::db::open_in_memory().await.unwrap();
        let id = add_account(&db, "a").await;
        (db, id)
    }

    async fn add_account(db: &sqlx::SqlitePool, label: &str) -> AccountId {
        let opts = serde_json::json!({});
        crate::db::accounts::insert(
            db,
            &crate::db::accounts::Insert {
                provider: "deepseek",
                label,
                base_url: None,
                secret_ref: "none",
                secret_hint: None,
                budget: None,
                options: &opts,
                now: t(0),
            },
        )
        .await
        .unwrap()
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

    #[tokio::test]
    async fn latest_all_gives_each_accounts_latest_in_one_query() {
        let (db, a) = setup().await;
        let (b, empty) = (add_account(&db, "b").await, add_account(&db, "empty").await);
        let mut tx = db.begin().await.unwrap();
        // Out of time order, and two readings at one instant (the later write wins).
        insert(&mut tx, sample(a, 10, 3.0)).await.unwrap();
        insert(&mut tx, sample(a, 0, 5.0)).await.unwrap();
        insert(&mut tx, sample(b, 7, 8.0)).await.unwrap();
        insert(&mut tx, sample(b, 7, 7.5)).await.unwrap();
        tx.commit().await.unwrap();
        let all = latest_all(&db).await.unwrap();
        assert_eq!(
            all.len(),
            2,
            "an account without readings has none: {all:?}"
        );
        for id in [a, b, empty] {
            assert_eq!(
                all.get(&id).map(|s| (s.observed_at, s.remaining)),
                latest(&db, id)
                    .await
                    .unwrap()
                    .map(|s| (s.observed_at, s.remaining)),
                "{id:?}: the same as latest()"
            );
        }
        assert_eq!(all[&b].remaining, Some(7.5));
    }

    #[tokio::test]
    async fn a_reading_that_could_not_be_read_back_is_refused_and_an_old_bad_row_is_skipped() {
        let (db, id) = setup().await;
        let mut tx = db.begin().await.unwrap();
        let mut far = sample(id, 0, 1.0);
        far.resets_at = DateTime::from_timestamp_millis(1_716_723_772_500_000);
        assert!(
            insert(&mut tx, far).await.is_err(),
            "a reset in year ~56 000 is refused"
        );
        assert!(
            insert(&mut tx, sample(id, 0, f64::NAN)).await.is_err(),
            "NaN is no amount"
        );
        insert(&mut tx, sample(id, 0, 5.0)).await.unwrap();
        // A row an older version wrote with a year the store cannot parse.
        sqlx::query(
            "INSERT INTO balance_samples (account_id, observed_at, remaining, unit, is_topup) \
             VALUES (?, '56372-01-01T00:00:00.000Z', 4.0, 'usd', 0)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let got = since(&db, id, t(-10))
            .await
            .expect("one bad row must not fail the list");
        assert_eq!(
            got.len(),
            1,
            "the readable reading is listed, the bad one skipped"
        );
        let mut tx = db.begin().await.unwrap();
        insert(&mut tx, sample(id, 20, 4.5))
            .await
            .expect("a bad previous row must not stop new readings from being stored");
        tx.commit().await.unwrap();
        assert!(crate::db::skipped_rows() > 0, "skips are counted");
    }
}
