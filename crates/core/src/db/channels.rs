//! Queries on `channels` (where alerts go besides the desktop) and `alert_deliveries` (what each
//! channel was told, or is still to be told).

use crate::clock::{from_db, to_db};
use crate::model::AlertId;
use crate::Result;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteExecutor};

/// A stored channel. Its secret is not here: only where it lives.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredChannel {
    pub id: i64,
    pub kind: String,
    pub label: String,
    /// `keychain:<id>`, `env:<VAR>` or `none`.
    pub secret_ref: String,
    /// The last characters of the secret, for listings.
    pub secret_hint: Option<String>,
    pub min_severity: String,
    pub options: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

#[derive(FromRow)]
struct ChannelRow {
    id: i64,
    kind: String,
    label: String,
    secret_ref: String,
    secret_hint: Option<String>,
    min_severity: String,
    options: String,
    created_at: String,
}

impl TryFrom<ChannelRow> for StoredChannel {
    type Error = crate::Error;
    fn try_from(r: ChannelRow) -> Result<Self> {
        Ok(StoredChannel {
            options: serde_json::from_str(&r.options).map_err(|e| {
                crate::Error::Malformed(format!("options of channel `{}`: {e}", r.label))
            })?,
            id: r.id,
            kind: r.kind,
            label: r.label,
            secret_ref: r.secret_ref,
            secret_hint: r.secret_hint,
            min_severity: r.min_severity,
            created_at: from_db(&r.created_at)?,
        })
    }
}

const CHANNEL_COLUMNS: &str =
    "id, kind, label, secret_ref, secret_hint, min_severity, options, created_at";

/// A channel to store.
#[derive(Debug)]
pub struct NewChannel<'a> {
    pub kind: &'a str,
    pub label: &'a str,
    pub secret_ref: &'a str,
    pub secret_hint: Option<&'a str>,
    pub min_severity: &'a str,
    pub options: &'a serde_json::Value,
    pub now: DateTime<Utc>,
}

/// Stores a channel; a taken label is `Ok(None)`.
pub async fn insert(db: impl SqliteExecutor<'_>, c: &NewChannel<'_>) -> Result<Option<i64>> {
    let res = sqlx::query(
        "INSERT INTO channels (kind, label, secret_ref, secret_hint, min_severity, options, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(label) DO NOTHING",
    )
    .bind(c.kind)
    .bind(c.label)
    .bind(c.secret_ref)
    .bind(c.secret_hint)
    .bind(c.min_severity)
    .bind(c.options.to_string())
    .bind(to_db(c.now))
    .execute(db)
    .await?;
    Ok((res.rows_affected() == 1).then(|| res.last_insert_rowid()))
}

/// Every channel, in the order they were added.
pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<StoredChannel>> {
    let rows: Vec<ChannelRow> = sqlx::query_as(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels ORDER BY id"
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(StoredChannel::try_from).collect()
}

/// The channel with this label, if any.
pub async fn get_by_label(
    db: impl SqliteExecutor<'_>,
    label: &str,
) -> Result<Option<StoredChannel>> {
    let row: Option<ChannelRow> = sqlx::query_as(&format!(
        "SELECT {CHANNEL_COLUMNS} FROM channels WHERE label = ?"
    ))
    .bind(label)
    .fetch_optional(db)
    .await?;
    row.map(StoredChannel::try_from).transpose()
}

/// Removes a channel and, with it, its deliveries.
pub async fn remove(db: impl SqliteExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM channels WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// One alert's delivery to one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub alert_id: AlertId,
    pub channel_id: i64,
    pub channel_label: String,
    pub channel_kind: String,
    /// `pending`, `delivered` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub payload: String,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

#[derive(FromRow)]
struct DeliveryRow {
    alert_id: i64,
    channel_id: i64,
    label: String,
    kind: String,
    state: String,
    attempts: i64,
    payload: String,
    next_attempt_at: Option<String>,
    last_error: Option<String>,
    delivered_at: Option<String>,
}

impl TryFrom<DeliveryRow> for Delivery {
    type Error = crate::Error;
    fn try_from(r: DeliveryRow) -> Result<Self> {
        Ok(Delivery {
            alert_id: AlertId(r.alert_id),
            channel_id: r.channel_id,
            channel_label: r.label,
            channel_kind: r.kind,
            state: r.state,
            attempts: r.attempts,
            payload: r.payload,
            next_attempt_at: r.next_attempt_at.as_deref().map(from_db).transpose()?,
            last_error: r.last_error,
            delivered_at: r.delivered_at.as_deref().map(from_db).transpose()?,
        })
    }
}

const DELIVERY_SELECT: &str = "SELECT d.alert_id, d.channel_id, c.label, c.kind, d.state, \
     d.attempts, d.payload, d.next_attempt_at, d.last_error, d.delivered_at \
     FROM alert_deliveries d JOIN channels c ON c.id = d.channel_id";

/// Queues `payload` for every channel whose minimum severity this alert reaches. An alert
/// already queued for a channel keeps its row (a pass that retries the desktop must not tell a
/// channel twice). Returns how many were queued.
pub async fn enqueue(
    db: impl SqliteExecutor<'_>,
    alert: AlertId,
    severity_rank: u8,
    payload: &str,
    now: DateTime<Utc>,
) -> Result<u64> {
    let res = sqlx::query(
        "INSERT INTO alert_deliveries (alert_id, channel_id, state, payload, next_attempt_at, updated_at) \
         SELECT ?1, id, 'pending', ?2, ?3, ?3 FROM channels \
         WHERE (CASE min_severity WHEN 'info' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END) <= ?4 \
         ON CONFLICT(alert_id, channel_id) DO NOTHING",
    )
    .bind(alert)
    .bind(payload)
    .bind(to_db(now))
    .bind(i64::from(severity_rank))
    .execute(db)
    .await?;
    Ok(res.rows_affected())
}

/// Forgets an alert's deliveries, so that it is told again (a snooze ran out).
pub async fn forget(db: impl SqliteExecutor<'_>, alert: AlertId) -> Result<()> {
    sqlx::query("DELETE FROM alert_deliveries WHERE alert_id = ?")
        .bind(alert)
        .execute(db)
        .await?;
    Ok(())
}

/// Pending deliveries whose next attempt is due at `now`, oldest first, at most `limit`.
pub async fn due(
    db: impl SqliteExecutor<'_>,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "{DELIVERY_SELECT} WHERE d.state = 'pending' AND d.next_attempt_at <= ? \
         ORDER BY d.next_attempt_at, d.alert_id LIMIT ?"
    ))
    .bind(to_db(now))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// The earliest next attempt among pending deliveries, if any.
pub async fn next_due(db: impl SqliteExecutor<'_>) -> Result<Option<DateTime<Utc>>> {
    let at: Option<(Option<String>,)> =
        sqlx::query_as("SELECT MIN(next_attempt_at) FROM alert_deliveries WHERE state = 'pending'")
            .fetch_optional(db)
            .await?;
    at.and_then(|(a,)| a).as_deref().map(from_db).transpose()
}

/// The deliveries of these alerts, by alert then channel.
pub async fn of_alerts(db: impl SqliteExecutor<'_>, alerts: &[AlertId]) -> Result<Vec<Delivery>> {
    if alerts.is_empty() {
        return Ok(Vec::new());
    }
    let ids = alerts
        .iter()
        .map(|a| a.0.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "{DELIVERY_SELECT} WHERE d.alert_id IN ({ids}) ORDER BY d.alert_id, c.id"
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// The newest delivery of each channel, for listings: (channel id, delivery).
pub async fn latest_per_channel(db: impl SqliteExecutor<'_>) -> Result<Vec<Delivery>> {
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "{DELIVERY_SELECT} WHERE d.updated_at = (SELECT MAX(e.updated_at) FROM alert_deliveries e \
         WHERE e.channel_id = d.channel_id) ORDER BY c.id, d.alert_id DESC"
    ))
    .fetch_all(db)
    .await?;
    rows.into_iter().map(Delivery::try_from).collect()
}

/// What an attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt<'a> {
    Delivered,
    /// Try again at this time.
    Retry {
        at: DateTime<Utc>,
        error: &'a str,
    },
    /// Give up: too many tries, or a refusal that will not change.
    Failed {
        error: &'a str,
    },
}

/// Records an attempt at one delivery.
pub async fn record(
    db: impl SqliteExecutor<'_>,
    alert: AlertId,
    channel: i64,
    attempt: &Attempt<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (state, next, error, delivered) = match attempt {
        Attempt::Delivered => ("delivered", None, None, Some(to_db(now))),
        Attempt::Retry { at, error } => ("pending", Some(to_db(*at)), Some(*error), None),
        Attempt::Failed { error } => ("failed", None, Some(*error), None),
    };
    sqlx::query(
        "UPDATE alert_deliveries SET state = ?, attempts = attempts + 1, next_attempt_at = ?, \
           last_error = ?, delivered_at = ?, updated_at = ? WHERE alert_id = ? AND channel_id = ?",
    )
    .bind(state)
    .bind(next)
    .bind(error.map(crate::redact::redact_text))
    .bind(delivered)
    .bind(to_db(now))
    .bind(alert)
    .bind(channel)
    .execute(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::alerts::{insert as insert_alert, NewAlert};
    use chrono::TimeZone;

    fn t(min: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap() + chrono::Duration::minutes(min)
    }

    async fn channel(db: &sqlx::SqlitePool, label: &str, min: &str) -> i64 {
        insert(
            db,
            &NewChannel {
                kind: "webhook",
                label,
                secret_ref: "env:HOOK",
                secret_hint: None,
                min_severity: min,
                options: &serde_json::json!({}),
                now: t(0),
            },
        )
        .await
        .unwrap()
        .expect("a new label")
    }

    async fn alert(db: &sqlx::SqlitePool) -> AlertId {
        insert_alert(
            db,
            &NewAlert {
                account_id: None,
                kind: "unpaid_challenges",
                severity: "warning",
                title: "t",
                body: "b",
                now: t(0),
                subject: Some("api.example"),
            },
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_label_is_taken_once() {
        let db = crate::db::open_in_memory().await.unwrap();
        channel(&db, "ops", "warning").await;
        let again = insert(
            &db,
            &NewChannel {
                kind: "slack",
                label: "ops",
                secret_ref: "none",
                secret_hint: None,
                min_severity: "warning",
                options: &serde_json::json!({}),
                now: t(0),
            },
        )
        .await
        .unwrap();
        assert_eq!(again, None, "the second `ops` is refused, not a duplicate");
    }

    #[tokio::test]
    async fn queued_once_per_channel_that_wants_the_severity() {
        let db = crate::db::open_in_memory().await.unwrap();
        let all = channel(&db, "all", "info").await;
        let _critical_only = channel(&db, "pager", "critical").await;
        let a = alert(&db).await;
        assert_eq!(enqueue(&db, a, 1, "{}", t(0)).await.unwrap(), 1);
        assert_eq!(
            enqueue(&db, a, 1, "{}", t(1)).await.unwrap(),
            0,
            "a second pass over the same alert queues nothing"
        );
        let due_now = due(&db, t(0), 10).await.unwrap();
        assert_eq!(due_now.len(), 1);
        assert_eq!(due_now[0].channel_id, all);

        record(
            &db,
            a,
            all,
            &Attempt::Retry {
                at: t(5),
                error: "503",
            },
            t(0),
        )
        .await
        .unwrap();
        assert!(due(&db, t(4), 10).await.unwrap().is_empty(), "backing off");
        assert_eq!(next_due(&db).await.unwrap(), Some(t(5)));
        record(&db, a, all, &Attempt::Delivered, t(5))
            .await
            .unwrap();
        let stored = of_alerts(&db, &[a]).await.unwrap();
        assert_eq!(stored[0].state, "delivered");
        assert_eq!(stored[0].attempts, 2);
        assert_eq!(stored[0].delivered_at, Some(t(5)));
        assert_eq!(next_due(&db).await.unwrap(), None);

        forget(&db, a).await.unwrap();
        assert_eq!(
            enqueue(&db, a, 1, "{}", t(9)).await.unwrap(),
            1,
            "told again after a snooze ran out"
        );
    }

    #[tokio::test]
    async fn errors_are_stored_redacted_and_removing_a_channel_drops_its_deliveries() {
        let db = crate::db::open_in_memory().await.unwrap();
        let c = channel(&db, "ops", "warning").await;
        let a = alert(&db).await;
        enqueue(&db, a, 2, "{}", t(0)).await.unwrap();
        record(
            &db,
            a,
            c,
            &Attempt::Failed {
                error:
                    "refused https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXXXXXX",
            },
            t(0),
        )
        .await
        .unwrap();
        let stored = of_alerts(&db, &[a]).await.unwrap();
        let err = stored[0].last_error.as_deref().unwrap();
        assert!(!err.contains("XXXXXXXXXXXX"), "{err}");
        assert_eq!(latest_per_channel(&db).await.unwrap().len(), 1);
        remove(&db, c).await.unwrap();
        assert!(of_alerts(&db, &[a]).await.unwrap().is_empty());
    }
}
