//! Queries on `accounts`.

use crate::clock::{from_db, to_db};
use crate::model::{Account, AccountId, AccountState};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteExecutor};

/// What is needed to insert an account. `secret_ref` is a reference, never a key.
#[derive(Debug, Clone)]
pub struct Insert<'a> {
    pub provider: &'a str,
    pub label: &'a str,
    pub base_url: Option<&'a str>,
    pub secret_ref: &'a str,
    pub secret_hint: Option<&'a str>,
    pub budget: Option<f64>,
    pub options: &'a serde_json::Value,
    pub now: DateTime<Utc>,
}

#[derive(FromRow)]
struct Row {
    id: i64,
    provider: String,
    label: String,
    base_url: Option<String>,
    secret_ref: String,
    secret_hint: Option<String>,
    budget: Option<f64>,
    budget_set_at: Option<String>,
    options: String,
    state: String,
    state_message: Option<String>,
    poll_interval_s: Option<i64>,
    breaker: i64,
    created_at: String,
    updated_at: String,
}

/// An account row plus its secret reference, which only core sees.
#[derive(Debug, Clone)]
pub struct Stored {
    pub account: Account,
    pub secret_ref: crate::secrets::SecretRef,
}

impl TryFrom<Row> for Stored {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self> {
        let secret_ref = crate::secrets::SecretRef::from_db(&r.secret_ref)?;
        let options = serde_json::from_str(&r.options)
            .map_err(|e| Error::Malformed(format!("options of account `{}`: {e}", r.label)))?;
        Ok(Stored {
            account: Account {
                id: AccountId(r.id),
                provider: r.provider,
                label: r.label,
                base_url: r.base_url,
                secret: secret_ref.describe(),
                secret_hint: r.secret_hint,
                budget: r.budget,
                budget_set_at: r.budget_set_at.as_deref().map(from_db).transpose()?,
                options,
                state: AccountState::parse(&r.state)?,
                state_message: r.state_message,
                poll_interval_s: r.poll_interval_s,
                breaker: r.breaker != 0,
                created_at: from_db(&r.created_at)?,
                updated_at: from_db(&r.updated_at)?,
            },
            secret_ref,
        })
    }
}

const COLUMNS: &str =
    "id, provider, label, base_url, secret_ref, secret_hint, budget, budget_set_at, \
     options, state, state_message, poll_interval_s, breaker, created_at, updated_at";

/// Inserts an account; a duplicate label is [`Error::AccountExists`].
pub async fn insert(db: impl SqliteExecutor<'_>, a: &Insert<'_>) -> Result<AccountId> {
    let now = to_db(a.now);
    let res = sqlx::query(
        "INSERT INTO accounts (provider, label, base_url, secret_ref, secret_hint, budget, \
         budget_set_at, options, state, created_at, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'unknown', ?, ?)",
    )
    .bind(a.provider)
    .bind(a.label)
    .bind(a.base_url)
    .bind(a.secret_ref)
    .bind(a.secret_hint)
    .bind(a.budget)
    .bind(a.budget.map(|_| now.clone()))
    .bind(a.options.to_string())
    .bind(&now)
    .bind(&now)
    .execute(db)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::AccountExists(a.label.into()),
        other => Error::Database(other),
    })?;
    Ok(AccountId(res.last_insert_rowid()))
}

/// All accounts, ordered by label.
pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<Stored>> {
    let rows: Vec<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts ORDER BY label"))
        .fetch_all(db)
        .await?;
    // One unreadable row must not stop every other account's polling, alerts and view.
    Ok(crate::db::lenient("accounts", rows, Stored::try_from))
}

/// The account with this label.
pub async fn get_by_label(db: impl SqliteExecutor<'_>, label: &str) -> Result<Stored> {
    let row: Option<Row> =
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts WHERE label = ?"))
            .bind(label)
            .fetch_optional(db)
            .await?;
    row.ok_or_else(|| Error::AccountNotFound(label.into()))?
        .try_into()
}

/// The account with this id.
pub async fn get(db: impl SqliteExecutor<'_>, id: AccountId) -> Result<Stored> {
    let row: Option<Row> = sqlx::query_as(&format!("SELECT {COLUMNS} FROM accounts WHERE id = ?"))
        .bind(id)
        .fetch_optional(db)
        .await?;
    row.ok_or_else(|| Error::AccountNotFound(format!("#{id}")))?
        .try_into()
}

/// What every account's forecast is built from, in one short text per account: its row (state,
/// budget, last change) and the count, newest id and cost total of its readings and logged
/// requests. Two equal fingerprints mean the same inputs, whichever process wrote them.
pub async fn forecast_fingerprints(
    db: impl SqliteExecutor<'_>,
) -> Result<std::collections::HashMap<AccountId, String>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT a.id, a.updated_at || '|' || a.state || '|' || COALESCE(a.budget, '') || '|' \
           || COALESCE(a.budget_set_at, '') || '|' \
           || (SELECT COUNT(*) || ':' || COALESCE(MAX(b.id), 0) FROM balance_samples b \
                WHERE b.account_id = a.id) || '|' \
           || (SELECT COUNT(*) || ':' || COALESCE(MAX(u.id), 0) || ':' || total(u.cost) \
                FROM usage_records u WHERE u.account_id = a.id) \
         FROM accounts a",
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id, f)| (AccountId(id), f)).collect())
}

/// A cheap stamp of everything an account's status, forecast and metrics stand on: each
/// account's row (label, edits, state, budget) and the newest reading, logged request and 402
/// (their largest ids, read from the rowid index, not counted). Sees writes by other
/// processes too. Equal stamps mean no account was added, edited or removed and no row was
/// added; readings and 402s are otherwise never changed or removed (only with their account).
/// What it misses: a logged request whose cost is raised in place (a transcript read again),
/// which moves a forecast but not the stamp: answers that stand on forecasts also expire with
/// the minute (`/metrics`); the status answer reads usage only for the newest record's time
/// (a breaker closed by a paid answer), which a new record, with a new id, moves.
pub async fn change_stamp(db: impl SqliteExecutor<'_>) -> Result<String> {
    let (stamp,): (String,) = sqlx::query_as(
        "SELECT COALESCE((SELECT group_concat(id || ':' || label || ':' || updated_at || ':' || state || ':' \
                   || COALESCE(budget, '') || ':' || COALESCE(budget_set_at, '') || ':' || breaker, ',') \
                 FROM accounts), '') \
           || '|' || COALESCE((SELECT max(id) FROM balance_samples), 0) \
           || '|' || COALESCE((SELECT max(id) FROM usage_records), 0) \
           || '|' || COALESCE((SELECT max(id) FROM cliff_events), 0)",
    )
    .fetch_one(db)
    .await?;
    Ok(stamp)
}

/// What the account editor writes.
#[derive(Debug, Clone)]
pub struct Settings<'a> {
    pub base_url: Option<&'a str>,
    pub budget: Option<f64>,
    pub budget_set_at: Option<DateTime<Utc>>,
    pub options: &'a serde_json::Value,
    pub now: DateTime<Utc>,
}

/// Writes an account's edited settings and sets it back to "not polled" (the scheduler sees
/// the newer `updated_at` and polls it afresh).
pub async fn update_settings(
    db: impl SqliteExecutor<'_>,
    id: AccountId,
    s: &Settings<'_>,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET base_url = ?, budget = ?, budget_set_at = ?, options = ?, \
         state = 'unknown', state_message = NULL, updated_at = ? WHERE id = ?",
    )
    .bind(s.base_url)
    .bind(s.budget)
    .bind(s.budget_set_at.map(to_db))
    .bind(s.options.to_string())
    .bind(to_db(s.now))
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// Deletes an account (its samples and alerts go with it; events and usage keep their rows).
pub async fn delete(db: impl SqliteExecutor<'_>, id: AccountId) -> Result<()> {
    sqlx::query("DELETE FROM accounts WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Points an account at a new key (and its last-4 hint) and sets it back to "not polled", so
/// that an account whose old key was rejected is polled again. Only if it still points at
/// `old_ref`: returns false when another change got there first (a second replacement, a
/// removal), and nothing is written.
pub async fn set_secret(
    db: impl SqliteExecutor<'_>,
    id: AccountId,
    old_ref: &str,
    secret_ref: &str,
    secret_hint: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET secret_ref = ?, secret_hint = ?, state = 'unknown', \
         state_message = NULL, updated_at = ? WHERE id = ? AND secret_ref = ?",
    )
    .bind(secret_ref)
    .bind(secret_hint)
    .bind(to_db(now))
    .bind(id)
    .bind(old_ref)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns the proxy's circuit breaker on or off for an account. Not an edit of what is polled:
/// the state and `updated_at` stay, so the scheduler does not poll it afresh.
pub async fn set_breaker(db: impl SqliteExecutor<'_>, id: AccountId, on: bool) -> Result<()> {
    sqlx::query("UPDATE accounts SET breaker = ? WHERE id = ?")
        .bind(on)
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// Since when each account is known out of credit: the first out-of-credit signal — a 402 or
/// disguised 402 from a poll, a log or the proxy, or a reading at or below zero — after the
/// account's newest sign of credit: a top-up (a reading that rose) or a usage record (a request
/// that was answered and paid for, from a log or the proxy). Accounts that are not out of
/// credit are absent; `account` narrows it to one.
pub async fn out_of_credit_since(
    db: impl SqliteExecutor<'_>,
    account: Option<AccountId>,
) -> Result<std::collections::HashMap<AccountId, DateTime<Utc>>> {
    // Each account's newest sign of credit, by index lookups per account (not a scan of every
    // usage record); '' sorts before every time.
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "WITH reset AS ( \
                SELECT a.id AS account_id, max( \
                  coalesce((SELECT max(b.observed_at) FROM balance_samples b \
                            WHERE b.account_id = a.id AND b.is_topup = 1), ''), \
                  coalesce((SELECT max(u.occurred_at) FROM usage_records u \
                            WHERE u.account_id = a.id), '')) AS t \
                FROM accounts a WHERE (?1 IS NULL OR a.id = ?1)), \
              signal AS ( \
                SELECT e.account_id, e.occurred_at AS at FROM cliff_events e \
                  JOIN reset ON reset.account_id = e.account_id \
                  WHERE e.outcome = 'out_of_credit' AND e.occurred_at > reset.t \
                UNION ALL \
                SELECT b.account_id, b.observed_at FROM balance_samples b \
                  JOIN reset ON reset.account_id = b.account_id \
                  WHERE b.remaining IS NOT NULL AND b.remaining <= 0 AND b.observed_at > reset.t) \
         SELECT account_id, min(at) FROM signal GROUP BY account_id",
    )
    .bind(account)
    .fetch_all(db)
    .await?;
    Ok(crate::db::lenient("accounts", rows, |(id, at)| {
        Ok((AccountId(id), from_db(&at)?))
    })
    .into_iter()
    .collect())
}

/// Records what the last poll learned about the key.
pub async fn set_state(
    db: impl SqliteExecutor<'_>,
    id: AccountId,
    state: AccountState,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET state = ?, state_message = ?, updated_at = ? WHERE id = ?")
        .bind(state.as_str())
        // Poll errors quote the provider's answer, which may echo the key.
        .bind(message.map(crate::redact::redact_text))
        .bind(to_db(now))
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    fn insert_args<'a>(label: &'a str, options: &'a serde_json::Value) -> Insert<'a> {
        Insert {
            provider: "openrouter",
            label,
            base_url: None,
            secret_ref: "keychain:abc",
            secret_hint: Some("…f3a9"),
            budget: None,
            options,
            now: t0(),
        }
    }

    #[tokio::test]
    async fn set_secret_only_replaces_the_key_it_was_told_about() {
        let db = crate::db::open_in_memory().await.unwrap();
        let opts = serde_json::json!({});
        let id = insert(&db, &insert_args("main", &opts)).await.unwrap();
        let stale = set_secret(
            &db,
            id,
            "keychain:other",
            "keychain:new",
            Some("…new1"),
            t0(),
        )
        .await
        .unwrap();
        assert!(!stale, "another change got there first: refused");
        assert_eq!(
            get(&db, id).await.unwrap().secret_ref.to_db(),
            "keychain:abc"
        );
        let done = set_secret(&db, id, "keychain:abc", "keychain:new", Some("…new1"), t0())
            .await
            .unwrap();
        assert!(done);
        let got = get(&db, id).await.unwrap();
        assert_eq!(got.secret_ref.to_db(), "keychain:new");
        assert_eq!(got.account.secret_hint.as_deref(), Some("…new1"));
        assert!(
            !set_secret(&db, AccountId(99), "keychain:abc", "keychain:x", None, t0())
                .await
                .unwrap(),
            "no such account: nothing written"
        );
    }

    #[tokio::test]
    async fn insert_then_get_and_list() {
        let db = crate::db::open_in_memory().await.unwrap();
        let opts = serde_json::json!({"project_id": "p1"});
        let id = insert(&db, &insert_args("main", &opts)).await.unwrap();
        let got = get_by_label(&db, "main").await.unwrap();
        assert_eq!(got.account.id, id);
        assert_eq!(
            got.account.options, opts,
            "options survive the JSON round trip"
        );
        assert_eq!(
            got.account.state,
            AccountState::Unknown,
            "new accounts are not polled yet"
        );
        assert_eq!(
            got.account.secret, "keychain",
            "the listing names the store, not the key"
        );
        assert_eq!(get(&db, id).await.unwrap().account.label, "main");
        insert(&db, &insert_args("backup", &opts)).await.unwrap();
        let labels: Vec<_> = list(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.account.label)
            .collect();
        assert_eq!(labels, ["backup", "main"], "list is ordered by label");
    }

    #[tokio::test]
    async fn duplicate_label_is_a_clear_error() {
        let db = crate::db::open_in_memory().await.unwrap();
        let opts = serde_json::json!({});
        insert(&db, &insert_args("main", &opts)).await.unwrap();
        let err = insert(&db, &insert_args("main", &opts)).await.unwrap_err();
        assert_eq!(err.kind(), "account_exists");
    }

    #[tokio::test]
    async fn missing_label_is_account_not_found() {
        let db = crate::db::open_in_memory().await.unwrap();
        assert_eq!(
            get_by_label(&db, "nope").await.unwrap_err().kind(),
            "account_not_found"
        );
    }

    #[tokio::test]
    async fn delete_removes_the_row() {
        let db = crate::db::open_in_memory().await.unwrap();
        let opts = serde_json::json!({});
        let id = insert(&db, &insert_args("main", &opts)).await.unwrap();
        delete(&db, id).await.unwrap();
        assert!(list(&db).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn set_state_updates_state_and_time() {
        let db = crate::db::open_in_memory().await.unwrap();
        let opts = serde_json::json!({});
        let id = insert(&db, &insert_args("main", &opts)).await.unwrap();
        let later = t0() + chrono::Duration::minutes(5);
        set_state(&db, id, AccountState::InvalidKey, Some("401"), later)
            .await
            .unwrap();
        let got = get(&db, id).await.unwrap().account;
        assert_eq!(got.state, AccountState::InvalidKey);
        assert_eq!(got.state_message.as_deref(), Some("401"));
        assert_eq!(got.updated_at, later);
    }
}
