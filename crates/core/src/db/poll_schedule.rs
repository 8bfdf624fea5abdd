//! Queries on `poll_schedule`: the scheduler's per-account memory (next due time, hold,
//! backoff, waiting for an edit), so that restarts and `poll --once` stay polite.

use crate::clock::{from_db, to_db_checked};
use crate::model::AccountId;
use crate::Result;
use chrono::{DateTime, Utc};
use std::collections::HashMap;

/// One account's schedule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Schedule {
    pub account_id: AccountId,
    /// When the scheduler polls the account next.
    pub next_due_at: DateTime<Utc>,
    /// No request before this, not even a one-off `poll --once`: the provider's minimum
    /// interval or the `Retry-After` it sent.
    pub hold_until: DateTime<Utc>,
    /// Consecutive transient failures (the backoff exponent).
    pub failures: u32,
    /// The key was rejected: it is not sent again until the account is edited.
    pub waiting: bool,
    /// The account's `updated_at` when this was written.
    pub seen_updated_at: Option<DateTime<Utc>>,
}

type Row = (i64, String, String, i64, i64, Option<String>);

fn from_row((id, due, hold, failures, waiting, seen): Row) -> Result<Schedule> {
    Ok(Schedule {
        account_id: AccountId(id),
        next_due_at: from_db(&due)?,
        hold_until: from_db(&hold)?,
        failures: u32::try_from(failures.max(0)).unwrap_or(u32::MAX),
        waiting: waiting != 0,
        seen_updated_at: seen.as_deref().map(from_db).transpose()?,
    })
}

const COLUMNS: &str = "account_id, next_due_at, hold_until, failures, waiting, seen_updated_at";

/// Every account's schedule (an unreadable row is skipped: that account is simply due).
pub async fn all(db: impl sqlx::SqliteExecutor<'_>) -> Result<HashMap<AccountId, Schedule>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM poll_schedule"))
        .fetch_all(db)
        .await?;
    Ok(crate::db::lenient("poll_schedule", rows, from_row)
        .into_iter()
        .map(|s| (s.account_id, s))
        .collect())
}

/// One account's schedule, if it has been polled.
pub async fn get(db: impl sqlx::SqliteExecutor<'_>, id: AccountId) -> Result<Option<Schedule>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM poll_schedule WHERE account_id = ?"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(crate::db::lenient("poll_schedule", row.into_iter().collect(), from_row).pop())
}

/// Writes (replaces) an account's schedule. An account removed meanwhile is no error.
pub async fn set(db: impl sqlx::SqliteExecutor<'_>, s: &Schedule) -> Result<()> {
    sqlx::query(&format!(
        "INSERT INTO poll_schedule ({COLUMNS}) \
         SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?1) \
         ON CONFLICT (account_id) DO UPDATE SET next_due_at = excluded.next_due_at, \
           hold_until = excluded.hold_until, failures = excluded.failures, \
           waiting = excluded.waiting, seen_updated_at = excluded.seen_updated_at"
    ))
    .bind(s.account_id)
    .bind(to_db_checked(s.next_due_at)?)
    .bind(to_db_checked(s.hold_until)?)
    .bind(i64::from(s.failures))
    .bind(i64::from(s.waiting))
    .bind(s.seen_updated_at.map(to_db_checked).transpose()?)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[tokio::test]
    async fn a_schedule_round_trips_and_follows_its_account() {
        let db = crate::db::open_in_memory().await.unwrap();
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap();
        let id = crate::db::test_rows::openrouter_account(&db, t).await;
        let s = Schedule {
            account_id: id,
            next_due_at: t + chrono::Duration::minutes(5),
            hold_until: t + chrono::Duration::minutes(1),
            failures: 3,
            waiting: true,
            seen_updated_at: Some(t),
        };
        set(&db, &s).await.unwrap();
        assert_eq!(get(&db, id).await.unwrap(), Some(s), "exact round trip");
        set(&db, &Schedule { failures: 0, ..s }).await.unwrap();
        assert_eq!(
            all(&db).await.unwrap()[&id].failures,
            0,
            "a second write replaces"
        );
        set(
            &db,
            &Schedule {
                account_id: AccountId(999),
                ..s
            },
        )
        .await
        .expect("an account removed meanwhile is no error");
        assert_eq!(all(&db).await.unwrap().len(), 1, "and leaves no row");
    }
}
