//! Queries on `cliff_events`: the 402 history (and other failed requests) from polls and logs.

use crate::clock::{from_db, to_db};
use crate::model::{AccountId, CliffEvent, CliffEventId, EventOrigin, Outcome};
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteExecutor};

#[derive(FromRow)]
struct Row {
    id: i64,
    account_id: Option<i64>,
    provider: Option<String>,
    occurred_at: String,
    origin: String,
    outcome: String,
    status: Option<i64>,
    method: Option<String>,
    host: Option<String>,
    url: Option<String>,
    code: Option<String>,
    message: Option<String>,
    quota: Option<String>,
    payment: Option<String>,
    log_file_id: Option<i64>,
    byte_offset: Option<i64>,
}

impl TryFrom<Row> for CliffEvent {
    type Error = crate::Error;
    fn try_from(r: Row) -> Result<Self> {
        Ok(CliffEvent {
            id: Some(CliffEventId(r.id)),
            account_id: r.account_id.map(AccountId),
            provider: r.provider,
            occurred_at: from_db(&r.occurred_at)?,
            origin: match r.origin.as_str() {
                "poll" => EventOrigin::Poll,
                "log" => EventOrigin::Log,
                "proxy" => EventOrigin::Proxy,
                o => {
                    return Err(crate::Error::Malformed(format!(
                        "unknown event origin `{o}`"
                    )))
                }
            },
            outcome: Outcome::parse(&r.outcome)?,
            status: r.status,
            method: r.method,
            host: r.host,
            url: r.url,
            code: r.code,
            message: r.message,
            quota: r.quota,
            payment: r
                .payment
                .as_deref()
                .and_then(|p| serde_json::from_str(p).ok()),
            log_file_id: r.log_file_id,
            byte_offset: r.byte_offset,
        })
    }
}

const COLUMNS: &str = "id, account_id, provider, occurred_at, origin, outcome, status, method, \
     host, url, code, message, quota, payment, log_file_id, byte_offset";

/// Stores an event. A log event already stored for the same file and byte offset is ignored,
/// so re-reading a line never counts it twice. Returns the new id, or `None` for a duplicate.
/// Every event passes the redactor here, whoever built it: no key is ever stored.
pub async fn insert(db: impl SqliteExecutor<'_>, e: &CliffEvent) -> Result<Option<CliffEventId>> {
    let mut e = e.clone();
    crate::redact::redact_event(&mut e);
    let res = sqlx::query(
        "INSERT INTO cliff_events (account_id, provider, occurred_at, origin, outcome, status, \
         method, host, url, code, message, quota, payment, log_file_id, byte_offset) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (log_file_id, byte_offset) DO NOTHING",
    )
    .bind(e.account_id)
    .bind(&e.provider)
    // A time the store could not read back would fail every later read of the history.
    .bind(crate::clock::to_db_checked(e.occurred_at)?)
    .bind(e.origin.as_str())
    .bind(e.outcome.as_str())
    .bind(e.status)
    .bind(&e.method)
    .bind(&e.host)
    .bind(&e.url)
    .bind(&e.code)
    .bind(&e.message)
    .bind(&e.quota)
    .bind(e.payment.as_ref().map(|p| p.to_string()))
    .bind(e.log_file_id)
    .bind(e.byte_offset)
    .execute(db)
    .await?;
    Ok((res.rows_affected() == 1).then(|| CliffEventId(res.last_insert_rowid())))
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub since: Option<DateTime<Utc>>,
    pub account: Option<AccountId>,
    pub provider: Option<String>,
    pub outcome: Option<Outcome>,
    pub limit: Option<i64>,
}

/// How many events each account (or provider, for events without one) has per outcome.
pub async fn counts(
    db: impl SqliteExecutor<'_>,
) -> Result<Vec<(Option<AccountId>, Option<String>, String, i64)>> {
    let rows: Vec<(Option<i64>, Option<String>, String, i64)> = sqlx::query_as(
        "SELECT account_id, provider, outcome, count(*) FROM cliff_events \
         GROUP BY account_id, provider, outcome ORDER BY account_id, provider, outcome",
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(a, p, o, n)| (a.map(AccountId), p, o, n))
        .collect())
}

/// Events matching `f`, newest first.
pub async fn list(db: impl SqliteExecutor<'_>, f: &Filter) -> Result<Vec<CliffEvent>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM cliff_events \
         WHERE (?1 IS NULL OR occurred_at >= ?1) AND (?2 IS NULL OR account_id = ?2) \
           AND (?3 IS NULL OR provider = ?3) AND (?4 IS NULL OR outcome = ?4) \
         ORDER BY occurred_at DESC, id DESC LIMIT ?5"
    ))
    .bind(f.since.map(to_db))
    .bind(f.account)
    .bind(&f.provider)
    .bind(f.outcome.map(Outcome::as_str))
    .bind(f.limit.unwrap_or(-1))
    .fetch_all(db)
    .await?;
    // One unreadable row (an older version's) must not hide the rest of the 402 history.
    Ok(crate::db::lenient(
        "cliff_events",
        rows,
        CliffEvent::try_from,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event(min: i64, outcome: Outcome, offset: Option<i64>) -> CliffEvent {
        CliffEvent {
            id: None,
            account_id: None,
            provider: Some("scraperapi".into()),
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap()
                + chrono::Duration::minutes(min),
            origin: if offset.is_some() {
                EventOrigin::Log
            } else {
                EventOrigin::Poll
            },
            outcome,
            status: Some(403),
            method: Some("GET".into()),
            host: Some("api.scraperapi.com".into()),
            url: Some("https://api.scraperapi.com/?api_key=REDACTED".into()),
            code: None,
            message: Some("You have used up all your API credits.".into()),
            quota: None,
            payment: Some(serde_json::json!({"amount": "1.00", "currency": "USD"})),
            log_file_id: None,
            byte_offset: offset,
        }
    }

    #[tokio::test]
    async fn same_log_line_is_stored_once() {
        let db = crate::db::open_in_memory().await.unwrap();
        assert!(insert(&db, &event(0, Outcome::OutOfCredit, Some(120)))
            .await
            .unwrap()
            .is_some());
        // log_file_id is NULL here, and NULLs never collide in SQLite: give it a real file id.
        let src = crate::db::log_sources::insert(
            &db,
            "/x/*.log",
            "combined",
            None,
            None,
            Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        )
        .await
        .unwrap();
        let file = crate::db::log_sources::upsert_file(
            &db,
            &crate::db::log_sources::FileState {
                source_id: src,
                path: "/x/a.log".into(),
                device: Some(1),
                inode: Some(2),
                head_hash: None,
                byte_offset: 0,
                size_seen: 0,
            },
            Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap(),
        )
        .await
        .unwrap();
        let mut e = event(1, Outcome::OutOfCredit, Some(4096));
        e.log_file_id = Some(file);
        assert!(
            insert(&db, &e).await.unwrap().is_some(),
            "first sight is stored"
        );
        assert!(
            insert(&db, &e).await.unwrap().is_none(),
            "a re-read line is not counted twice"
        );
    }

    #[tokio::test]
    async fn poll_events_never_collide() {
        let db = crate::db::open_in_memory().await.unwrap();
        insert(&db, &event(0, Outcome::OutOfCredit, None))
            .await
            .unwrap();
        insert(&db, &event(0, Outcome::OutOfCredit, None))
            .await
            .unwrap();
        assert_eq!(list(&db, &Filter::default()).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn list_filters_and_orders_newest_first() {
        let db = crate::db::open_in_memory().await.unwrap();
        insert(&db, &event(0, Outcome::OutOfCredit, None))
            .await
            .unwrap();
        insert(&db, &event(10, Outcome::RateLimited, None))
            .await
            .unwrap();
        insert(&db, &event(20, Outcome::OutOfCredit, None))
            .await
            .unwrap();
        let all = list(&db, &Filter::default()).await.unwrap();
        assert!(all[0].occurred_at > all[2].occurred_at, "newest first");
        assert_eq!(
            all[0].payment,
            Some(serde_json::json!({"amount": "1.00", "currency": "USD"}))
        );
        let ooc = list(
            &db,
            &Filter {
                outcome: Some(Outcome::OutOfCredit),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(ooc.len(), 2, "outcome filter");
        let recent = list(
            &db,
            &Filter {
                since: Some(all[1].occurred_at),
                limit: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(recent.len(), 1, "limit");
        assert_eq!(
            recent[0].occurred_at, all[0].occurred_at,
            "since + newest first"
        );
    }

    #[tokio::test]
    async fn one_unreadable_row_does_not_hide_the_402_history_and_none_is_written() {
        let db = crate::db::open_in_memory().await.unwrap();
        insert(&db, &event(0, Outcome::OutOfCredit, None))
            .await
            .unwrap();
        // An epoch in µs read as ms by an older version: year ~56 000, which RFC 3339 cannot
        // hold. Before, this one row made every read of the history fail.
        let mut far = event(1, Outcome::OutOfCredit, None);
        far.occurred_at = DateTime::from_timestamp_millis(1_716_723_772_500_000).unwrap();
        assert!(
            insert(&db, &far).await.is_err(),
            "refused: it could not be read back"
        );
        sqlx::query(
            "INSERT INTO cliff_events (provider, occurred_at, origin, outcome) \
             VALUES ('x', '56372-01-01T00:00:00.000Z', 'log', 'out_of_credit')",
        )
        .execute(&db)
        .await
        .unwrap();
        let listed = list(&db, &Filter::default())
            .await
            .expect("the list still reads");
        assert_eq!(
            listed.len(),
            1,
            "the good event, without the unreadable one"
        );
    }
}
