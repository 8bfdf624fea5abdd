//! Queries on `alerts`: every alert raised, with its state (open, snoozed, resolved).

use crate::clock::{from_db, to_db};
use crate::model::{AccountId, AlertId};
use crate::Result;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, SqliteExecutor};
use ts_rs::TS;

/// A stored alert.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Alert {
    pub id: AlertId,
    pub account_id: Option<AccountId>,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub title: String,
    pub body: String,
    pub raised_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub snoozed_until: Option<DateTime<Utc>>,
    pub notified_at: Option<DateTime<Utc>>,
    /// What the alert is about when not one account: the host of an unpaid-challenges alert.
    pub subject: Option<String>,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    account_id: Option<i64>,
    kind: String,
    severity: String,
    state: String,
    title: String,
    body: String,
    raised_at: String,
    resolved_at: Option<String>,
    snoozed_until: Option<String>,
    notified_at: Option<String>,
    subject: Option<String>,
}

impl TryFrom<Row> for Alert {
    type Error = crate::Error;
    fn try_from(r: Row) -> Result<Self> {
        Ok(Alert {
            id: AlertId(r.id),
            account_id: r.account_id.map(AccountId),
            kind: r.kind,
            severity: r.severity,
            state: r.state,
            title: r.title,
            body: r.body,
            raised_at: from_db(&r.raised_at)?,
            resolved_at: r.resolved_at.as_deref().map(from_db).transpose()?,
            snoozed_until: r.snoozed_until.as_deref().map(from_db).transpose()?,
            notified_at: r.notified_at.as_deref().map(from_db).transpose()?,
            subject: r.subject,
        })
    }
}

const COLUMNS: &str = "id, account_id, kind, severity, state, title, body, raised_at, \
     resolved_at, snoozed_until, notified_at, subject";

/// A new open alert.
#[derive(Debug, Clone)]
pub struct NewAlert<'a> {
    pub account_id: Option<AccountId>,
    pub kind: &'a str,
    pub severity: &'a str,
    pub title: &'a str,
    pub body: &'a str,
    pub now: DateTime<Utc>,
    /// See [`Alert::subject`].
    pub subject: Option<&'a str>,
}

pub async fn insert(db: impl SqliteExecutor<'_>, a: &NewAlert<'_>) -> Result<AlertId> {
    let res = sqlx::query(
        "INSERT INTO alerts (account_id, kind, severity, state, title, body, raised_at, subject) \
         VALUES (?, ?, ?, 'open', ?, ?, ?, ?)",
    )
    .bind(a.account_id)
    .bind(a.kind)
    .bind(a.severity)
    // Core writes these, but they name labels and quote forecasts: one redactor for all text.
    .bind(crate::redact::redact_text(a.title))
    .bind(crate::redact::redact_text(a.body))
    .bind(to_db(a.now))
    .bind(a.subject.map(crate::redact::redact_text))
    .execute(db)
    .await?;
    Ok(AlertId(res.last_insert_rowid()))
}

/// The alert of this kind for this account that is not resolved, if any: one episode, one alert.
pub async fn current(
    db: impl SqliteExecutor<'_>,
    account: Option<AccountId>,
    kind: &str,
) -> Result<Option<Alert>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE account_id IS ? AND kind = ? AND state != 'resolved' \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(account)
    .bind(kind)
    .fetch_optional(db)
    .await?;
    row.map(Alert::try_from).transpose()
}

/// The unresolved alert of this kind about `subject` (a host), if any.
pub async fn current_about(
    db: impl SqliteExecutor<'_>,
    kind: &str,
    subject: &str,
) -> Result<Option<Alert>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE kind = ? AND subject = ? AND state != 'resolved' \
         ORDER BY id DESC LIMIT 1"
    ))
    .bind(kind)
    .bind(subject)
    .fetch_optional(db)
    .await?;
    row.map(Alert::try_from).transpose()
}

/// Unresolved alerts of this kind, whatever their subject.
pub async fn unresolved_of_kind(db: impl SqliteExecutor<'_>, kind: &str) -> Result<Vec<Alert>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE kind = ? AND state != 'resolved' ORDER BY id"
    ))
    .bind(kind)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Alert::try_from).collect()
}

/// Sets an alert's state; `resolved` stamps `resolved_at`, `snoozed` takes `until`.
pub async fn set_state(
    db: impl SqliteExecutor<'_>,
    id: AlertId,
    state: &str,
    until: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "UPDATE alerts SET state = ?1, snoozed_until = ?2, \
           resolved_at = CASE WHEN ?1 = 'resolved' THEN ?3 ELSE resolved_at END WHERE id = ?4",
    )
    .bind(state)
    .bind(until.map(to_db))
    .bind(to_db(now))
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Records that the user was told (a desktop notification went out).
pub async fn mark_notified(
    db: impl SqliteExecutor<'_>,
    id: AlertId,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE alerts SET notified_at = ? WHERE id = ?")
        .bind(to_db(now))
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The alert with this id, if any.
pub async fn get(db: impl SqliteExecutor<'_>, id: AlertId) -> Result<Option<Alert>> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM alerts WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.map(Alert::try_from).transpose()
}

/// Forgets that the user was told, so the alert is delivered again (a snooze ran out).
pub async fn clear_notified(db: impl SqliteExecutor<'_>, id: AlertId) -> Result<()> {
    sqlx::query("UPDATE alerts SET notified_at = NULL WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Alerts newest first; `open_only` leaves out resolved ones.
pub async fn list(db: impl SqliteExecutor<'_>, open_only: bool) -> Result<Vec<Alert>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM alerts WHERE (?1 = 0 OR state != 'resolved') ORDER BY raised_at DESC, id DESC"
    ))
    .bind(open_only as i64)
    .fetch_all(db)
    .await?;
    // One unreadable row must not stop every other account's polling, alerts and view.
    Ok(crate::db::lenient("alerts", rows, Alert::try_from))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap()
    }

    fn new(kind: &str) -> NewAlert<'_> {
        NewAlert {
            account_id: None,
            kind,
            severity: "warning",
            title: "t",
            body: "b",
            now: now(),
            subject: None,
        }
    }

    #[tokio::test]
    async fn current_finds_the_open_episode_until_resolved() {
        let db = crate::db::open_in_memory().await.unwrap();
        assert!(current(&db, None, "runway_warning")
            .await
            .unwrap()
            .is_none());
        let id = insert(&db, &new("runway_warning")).await.unwrap();
        assert_eq!(
            current(&db, None, "runway_warning")
                .await
                .unwrap()
                .unwrap()
                .id,
            id
        );
        assert!(
            current(&db, None, "out_of_credit").await.unwrap().is_none(),
            "kinds are separate"
        );
        set_state(
            &db,
            id,
            "snoozed",
            Some(now() + chrono::Duration::hours(1)),
            now(),
        )
        .await
        .unwrap();
        assert!(
            current(&db, None, "runway_warning")
                .await
                .unwrap()
                .is_some(),
            "snoozed is still current"
        );
        set_state(&db, id, "resolved", None, now()).await.unwrap();
        assert!(
            current(&db, None, "runway_warning")
                .await
                .unwrap()
                .is_none(),
            "resolved ends it"
        );
        let all = list(&db, false).await.unwrap();
        assert_eq!(all[0].resolved_at, Some(now()));
        assert!(
            list(&db, true).await.unwrap().is_empty(),
            "open_only hides resolved"
        );
    }

    #[tokio::test]
    async fn get_and_clear_notified() {
        let db = crate::db::open_in_memory().await.unwrap();
        let id = insert(&db, &new("low_balance")).await.unwrap();
        assert!(
            get(&db, AlertId(id.0 + 1)).await.unwrap().is_none(),
            "unknown id is None"
        );
        mark_notified(&db, id, now()).await.unwrap();
        clear_notified(&db, id).await.unwrap();
        let a = get(&db, id).await.unwrap().unwrap();
        assert_eq!(a.notified_at, None, "cleared so that it is delivered again");
        assert_eq!(a.kind, "low_balance");
    }

    #[tokio::test]
    async fn mark_notified_stamps_time() {
        let db = crate::db::open_in_memory().await.unwrap();
        let id = insert(&db, &new("key_invalid")).await.unwrap();
        mark_notified(&db, id, now()).await.unwrap();
        assert_eq!(list(&db, false).await.unwrap()[0].notified_at, Some(now()));
    }
}
