//! Queries on `usage_records`: tokens and cost per request, from agent logs and cost reports.

use crate::clock::{from_db, to_db};
use crate::model::{AccountId, UsageRecord};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::SqliteExecutor;

/// The most tokens one request may claim. A million times the largest context window of 2026;
/// a log that says more is corrupt or hostile, and the count is clamped so that no SUM over
/// the table can overflow.
pub const MAX_TOKENS: i64 = 1_000_000_000_000;

/// The largest cost one request may claim, in its currency.
const MAX_COST: f64 = 1e6;

/// `r` as it may be stored: token counts clamped to `0..=MAX_TOKENS`, a cost that is not a
/// finite amount in `0..=MAX_COST` dropped, and `None` for a time the store could not read back.
fn storable(r: UsageRecord) -> Option<UsageRecord> {
    if !crate::clock::storable(r.occurred_at) {
        return None;
    }
    let t = |v: i64| v.clamp(0, MAX_TOKENS);
    Some(UsageRecord {
        input_tokens: t(r.input_tokens),
        output_tokens: t(r.output_tokens),
        cache_creation_tokens: t(r.cache_creation_tokens),
        cache_read_tokens: t(r.cache_read_tokens),
        reasoning_tokens: t(r.reasoning_tokens),
        cost: r
            .cost
            .filter(|c| c.is_finite() && (0.0..=MAX_COST).contains(c)),
        ..r
    })
}

/// A token sum that cannot overflow: SQLite's `sum()` over integers raises "integer overflow"
/// and fails the whole query; `total()` sums as a float (exact below 2^53).
fn token_sum(col: &str) -> String {
    format!("CAST(min(total({col}), 9.0e18) AS INTEGER) AS {col}")
}

/// Stores a record. The same request written several times (Claude Code rewrites a message as
/// it streams) keeps one row with the largest usage seen, never a sum. Returns true when a new
/// row was created.
pub async fn upsert(conn: &mut sqlx::SqliteConnection, r: &UsageRecord) -> Result<bool> {
    let r = &storable(r.clone()).ok_or_else(|| {
        crate::Error::InvalidInput(format!(
            "a usage record's time {} is outside what the store keeps",
            r.occurred_at
        ))
    })?;
    let inserted = sqlx::query(
        "INSERT INTO usage_records (account_id, source_id, occurred_at, provider, model, \
           input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, reasoning_tokens, \
           cost, currency, host, protocol, dedupe_key) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(r.account_id)
    .bind(r.source_id)
    .bind(to_db(r.occurred_at))
    .bind(&r.provider)
    .bind(&r.model)
    .bind(r.input_tokens)
    .bind(r.output_tokens)
    .bind(r.cache_creation_tokens)
    .bind(r.cache_read_tokens)
    .bind(r.reasoning_tokens)
    .bind(r.cost)
    .bind(&r.currency)
    .bind(&r.host)
    .bind(&r.protocol)
    .bind(&r.dedupe_key)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        == 1;
    if !inserted {
        sqlx::query(
            "UPDATE usage_records SET \
               input_tokens = max(input_tokens, ?1), output_tokens = max(output_tokens, ?2), \
               cache_creation_tokens = max(cache_creation_tokens, ?3), \
               cache_read_tokens = max(cache_read_tokens, ?4), \
               reasoning_tokens = max(reasoning_tokens, ?5), \
               cost = CASE WHEN ?6 IS NULL THEN cost ELSE max(coalesce(cost, 0), ?6) END \
             WHERE dedupe_key = ?7",
        )
        .bind(r.input_tokens)
        .bind(r.output_tokens)
        .bind(r.cache_creation_tokens)
        .bind(r.cache_read_tokens)
        .bind(r.reasoning_tokens)
        .bind(r.cost)
        .bind(&r.dedupe_key)
        .execute(&mut *conn)
        .await?;
    }
    Ok(inserted)
}

/// Totals per day (UTC), model, and for pay-per-call spend host, protocol and currency, from
/// `since` on.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct DailyTotal {
    pub day: String,
    pub provider: String,
    pub model: Option<String>,
    /// Where pay-per-call payments went; `None` for token usage.
    pub host: Option<String>,
    /// `x402`, `mpp`, `pay_per_crawl` for pay-per-call spend; `None` for token usage.
    pub protocol: Option<String>,
    /// The cost's currency (USD for priced tokens, the asset of a payment: USDC, sat …).
    pub currency: Option<String>,
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    pub cost: f64,
}

pub async fn daily_totals(
    db: impl SqliteExecutor<'_>,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<DailyTotal>> {
    let sql = format!(
        "SELECT substr(occurred_at, 1, 10) AS day, provider, model, host, protocol, currency, \
           count(*) AS requests, {}, {}, {}, {}, total(cost) AS cost \
         FROM usage_records WHERE (?1 IS NULL OR occurred_at >= ?1) \
         GROUP BY day, provider, model, host, protocol, currency \
         ORDER BY day, provider, model, host, protocol, currency",
        token_sum("input_tokens"),
        token_sum("output_tokens"),
        token_sum("cache_creation_tokens"),
        token_sum("cache_read_tokens"),
    );
    Ok(sqlx::query_as(&sql)
        .bind(since.map(to_db))
        .fetch_all(db)
        .await?)
}

/// Pay-per-call spend of one account from `since` on, per protocol, host and currency.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct SpendTotal {
    pub protocol: String,
    pub host: Option<String>,
    pub currency: Option<String>,
    pub payments: i64,
    /// Sum of the amounts that could be read (a payment in an asset of unknown decimals has
    /// none).
    pub amount: f64,
}

pub async fn spend(
    db: impl SqliteExecutor<'_>,
    account: AccountId,
    since: DateTime<Utc>,
) -> Result<Vec<SpendTotal>> {
    Ok(sqlx::query_as(
        "SELECT protocol, host, currency, count(*) AS payments, total(cost) AS amount \
         FROM usage_records WHERE account_id = ?1 AND protocol IS NOT NULL AND occurred_at >= ?2 \
         GROUP BY protocol, host, currency ORDER BY amount DESC, payments DESC",
    )
    .bind(account)
    .bind(to_db(since))
    .fetch_all(db)
    .await?)
}

/// Paid answers from `host` since `since` (any account): challenges that were then paid.
pub async fn payments_to(
    db: impl SqliteExecutor<'_>,
    host: &str,
    since: DateTime<Utc>,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT count(*) FROM usage_records WHERE host = ?1 AND protocol IS NOT NULL \
           AND occurred_at >= ?2",
    )
    .bind(host)
    .bind(to_db(since))
    .fetch_one(db)
    .await?)
}

/// Rows per multi-row upsert: 15 columns × 400 stays far below SQLite's 32 766 variables.
const UPSERT_CHUNK: usize = 400;

/// [`upsert`] for many records in few statements (a backfill writes hundreds of thousands).
/// Same rule: one row per dedupe key with the largest usage seen. Callers pass at most one
/// record per key (SQLite refuses to update one row twice in a statement): merge first. The
/// records are moved into the statements, not copied.
pub async fn upsert_many(
    conn: &mut sqlx::SqliteConnection,
    records: Vec<UsageRecord>,
) -> Result<()> {
    // Records whose time the store could not read back are left out (the parsers already
    // refuse such times; this is the last line).
    let mut records: Vec<UsageRecord> = records.into_iter().filter_map(storable).collect();
    // In time order, the two time indexes (and the rows) are appended to, not written all over.
    // A stable sort: of records with one key and one time, the first given is still the one
    // whose other columns are kept.
    records.sort_by_key(|r| r.occurred_at);
    let mut left = records.len();
    let mut records = records.into_iter();
    while left > 0 {
        // Full statements, then the rest in halving sizes: a few statement shapes, each
        // prepared once per connection (a statement of any other length is parsed anew).
        let n = if left >= UPSERT_CHUNK {
            UPSERT_CHUNK
        } else {
            1 << left.ilog2()
        };
        left -= n;
        let chunk: Vec<UsageRecord> = records.by_ref().take(n).collect();
        let mut sql = String::from(
            "INSERT INTO usage_records (account_id, source_id, occurred_at, provider, model, \
               input_tokens, output_tokens, cache_creation_tokens, cache_read_tokens, \
               reasoning_tokens, cost, currency, host, protocol, dedupe_key) VALUES ",
        );
        for i in 0..chunk.len() {
            sql.push_str(if i == 0 {
                "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            } else {
                ",(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            });
        }
        sql.push_str(
            " ON CONFLICT (dedupe_key) DO UPDATE SET \
               input_tokens = max(input_tokens, excluded.input_tokens), \
               output_tokens = max(output_tokens, excluded.output_tokens), \
               cache_creation_tokens = max(cache_creation_tokens, excluded.cache_creation_tokens), \
               cache_read_tokens = max(cache_read_tokens, excluded.cache_read_tokens), \
               reasoning_tokens = max(reasoning_tokens, excluded.reasoning_tokens), \
               cost = CASE WHEN excluded.cost IS NULL THEN cost ELSE max(coalesce(cost, 0), excluded.cost) END",
        );
        let mut q = sqlx::query(&sql);
        for r in chunk {
            q = q
                .bind(r.account_id)
                .bind(r.source_id)
                .bind(to_db(r.occurred_at))
                .bind(r.provider)
                .bind(r.model)
                .bind(r.input_tokens)
                .bind(r.output_tokens)
                .bind(r.cache_creation_tokens)
                .bind(r.cache_read_tokens)
                .bind(r.reasoning_tokens)
                .bind(r.cost)
                .bind(r.currency)
                .bind(r.host)
                .bind(r.protocol)
                .bind(r.dedupe_key);
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Sums over all records from `since` on (optionally of one provider).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Totals {
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost: f64,
}

pub async fn totals(
    db: impl SqliteExecutor<'_>,
    since: Option<DateTime<Utc>>,
    provider: Option<&str>,
) -> Result<Totals> {
    let sql = format!(
        "SELECT count(*) AS requests, {}, {}, {}, {}, {}, total(cost) AS cost \
         FROM usage_records WHERE (?1 IS NULL OR occurred_at >= ?1) AND (?2 IS NULL OR provider = ?2)",
        token_sum("input_tokens"),
        token_sum("output_tokens"),
        token_sum("cache_creation_tokens"),
        token_sum("cache_read_tokens"),
        token_sum("reasoning_tokens"),
    );
    Ok(sqlx::query_as(&sql)
        .bind(since.map(to_db))
        .bind(provider)
        .fetch_one(db)
        .await?)
}

/// `(account, time, cost)` of every record linked to an account (or to `account` only) with
/// `from <= occurred_at <= to`, oldest first: what the forecast refines timing with.
pub async fn costs_between(
    db: impl SqliteExecutor<'_>,
    account: Option<AccountId>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<(AccountId, DateTime<Utc>, Option<f64>)>> {
    // Two statements rather than `?1 IS NULL OR account_id = ?1`, which SQLite cannot answer
    // from the (account_id, occurred_at) index.
    let sql = if account.is_some() {
        "SELECT account_id, occurred_at, cost FROM usage_records \
         WHERE account_id = ?1 AND occurred_at >= ?2 AND occurred_at <= ?3 \
         ORDER BY occurred_at"
    } else {
        "SELECT account_id, occurred_at, cost FROM usage_records \
         WHERE account_id IS NOT NULL AND occurred_at >= ?2 AND occurred_at <= ?3 \
         ORDER BY account_id, occurred_at"
    };
    let rows: Vec<(i64, String, Option<f64>)> = sqlx::query_as(sql)
        .bind(account)
        .bind(to_db(from))
        .bind(to_db(to))
        .fetch_all(db)
        .await?;
    Ok(crate::db::lenient(
        "usage_records",
        rows,
        |(id, at, cost)| Ok((AccountId(id), from_db(&at)?, cost)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn rec(key: &str, out: i64, cost: f64) -> UsageRecord {
        UsageRecord {
            account_id: None,
            source_id: None,
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0).unwrap(),
            provider: "anthropic".into(),
            model: Some("claude-sonnet-4-5".into()),
            input_tokens: 10,
            output_tokens: out,
            cache_creation_tokens: 0,
            cache_read_tokens: 5,
            reasoning_tokens: 0,
            cost: Some(cost),
            currency: Some("usd".into()),
            host: None,
            protocol: None,
            dedupe_key: key.into(),
        }
    }

    #[tokio::test]
    async fn rewrites_of_one_request_keep_the_largest_usage() {
        let db = crate::db::open_in_memory().await.unwrap();
        let mut c = db.acquire().await.unwrap();
        assert!(
            upsert(&mut c, &rec("m1:r1", 25, 0.1)).await.unwrap(),
            "first write creates"
        );
        assert!(
            !upsert(&mut c, &rec("m1:r1", 173, 0.3)).await.unwrap(),
            "rewrite updates"
        );
        assert!(
            !upsert(&mut c, &rec("m1:r1", 25, 0.1)).await.unwrap(),
            "stale rewrite is ignored"
        );
        upsert(&mut c, &rec("m2:r2", 7, 0.05)).await.unwrap();
        drop(c);
        let days = daily_totals(&db, None).await.unwrap();
        assert_eq!(days.len(), 1);
        assert_eq!(days[0].requests, 2, "two distinct requests");
        assert_eq!(
            days[0].output_tokens, 180,
            "max(25,173) + 7, not a sum of rewrites"
        );
        assert!((days[0].cost - 0.35).abs() < 1e-9);
    }
    #[tokio::test]
    async fn upsert_many_keeps_the_largest_usage_like_upsert() {
        let db = crate::db::open_in_memory().await.unwrap();
        let mut c = db.acquire().await.unwrap();
        let batch: Vec<_> = (0..1000).map(|i| rec(&format!("k{i}"), 10, 0.01)).collect();
        upsert_many(&mut c, batch).await.unwrap();
        upsert_many(&mut c, vec![rec("k1", 173, 0.3), rec("k2", 1, 0.001)])
            .await
            .unwrap();
        drop(c);
        let t = totals(&db, None, None).await.unwrap();
        assert_eq!(
            t.requests, 1000,
            "1000 keys over several chunks, rewrites add no rows"
        );
        assert_eq!(
            t.output_tokens,
            998 * 10 + 173 + 10,
            "k1 grew to 173, k2's smaller rewrite is ignored"
        );
        assert!((t.cost - (998.0 * 0.01 + 0.3 + 0.01)).abs() < 1e-9);
        assert_eq!(
            totals(&db, None, Some("openai")).await.unwrap().requests,
            0,
            "provider filter"
        );
    }

    #[tokio::test]
    async fn token_counts_near_i64_max_neither_overflow_a_sum_nor_poison_the_table() {
        let db = crate::db::open_in_memory().await.unwrap();
        let mut c = db.acquire().await.unwrap();
        // Written straight to the table (as an older version could have), past any clamp:
        // two rows whose sum overflows i64 made every `usage` read fail.
        for key in ["a", "b"] {
            sqlx::query(
                "INSERT INTO usage_records (occurred_at, provider, input_tokens, output_tokens, \
                   cache_creation_tokens, cache_read_tokens, reasoning_tokens, dedupe_key) \
                 VALUES ('2026-11-21T10:00:00.000Z', 'x', ?, 0, 0, 0, 0, ?)",
            )
            .bind(i64::MAX / 2 + 1)
            .bind(key)
            .execute(&mut *c)
            .await
            .unwrap();
        }
        drop(c);
        let t = totals(&db, None, None)
            .await
            .expect("a huge sum saturates, it does not fail");
        assert_eq!(t.requests, 2);
        assert!(
            t.input_tokens >= 9_000_000_000_000_000_000,
            "saturated, not wrapped"
        );
        daily_totals(&db, None).await.expect("the daily view too");

        // Through the front door the counts are clamped, negative ones to 0.
        let mut huge = rec("c", i64::MAX, f64::INFINITY);
        huge.input_tokens = -5;
        let mut c = db.acquire().await.unwrap();
        upsert_many(&mut c, vec![huge]).await.unwrap();
        let (inp, out, cost): (i64, i64, Option<f64>) = sqlx::query_as(
            "SELECT input_tokens, output_tokens, cost FROM usage_records WHERE dedupe_key = 'c'",
        )
        .fetch_one(&mut *c)
        .await
        .unwrap();
        assert_eq!(
            (inp, out, cost),
            (0, MAX_TOKENS, None),
            "clamped; an infinite cost is no cost"
        );
    }

    #[tokio::test]
    async fn a_record_the_store_could_not_read_back_is_never_written() {
        let db = crate::db::open_in_memory().await.unwrap();
        let mut c = db.acquire().await.unwrap();
        let mut far = rec("far", 1, 0.1);
        far.occurred_at = DateTime::from_timestamp_millis(1_716_723_772_500_000).unwrap();
        assert!(
            upsert(&mut c, &far).await.is_err(),
            "refused with a message"
        );
        upsert_many(&mut c, vec![far, rec("ok", 1, 0.1)])
            .await
            .unwrap();
        drop(c);
        assert_eq!(
            totals(&db, None, None).await.unwrap().requests,
            1,
            "only the readable one"
        );
    }
}
