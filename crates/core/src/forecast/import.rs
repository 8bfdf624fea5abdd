//! Importing a balance history from CSV (`time,remaining`, further columns ignored): an export
//! from a provider's dashboard, `cliffwatch export balances`, or what the user's own scripts
//! kept.

use crate::db;
use crate::model::{AccountId, BalanceSample, Unit};
use crate::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;
use sqlx::SqlitePool;
use std::collections::HashSet;
use std::io::BufRead;

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Rows stored.
    pub imported: usize,
    /// Rows whose time the account already had a reading for (re-importing is harmless).
    pub duplicates: usize,
    /// Rows stored as top-ups or resets (the balance rose).
    pub top_ups: usize,
}

/// Imports `time,remaining` rows into an account's balance history, in one transaction: a bad
/// row stores nothing and names its line. A header line is skipped. Times may be RFC 3339,
/// `YYYY-MM-DD HH:MM[:SS]` (UTC), `YYYY-MM-DD` (UTC midnight) or Unix seconds. `unit` defaults
/// to the unit of the account's latest reading.
pub async fn import_balances_csv<R: BufRead>(
    pool: &SqlitePool,
    account_id: AccountId,
    reader: R,
    unit: Option<Unit>,
) -> Result<ImportReport> {
    db::accounts::get(pool, account_id).await?;
    let unit = match unit {
        Some(u) => u,
        None => db::balance_samples::latest(pool, account_id)
            .await?
            .map(|s| s.unit)
            .ok_or_else(|| {
                Error::InvalidInput(
                    "this account has no reading yet, so the unit is unknown: pass the unit \
                     (usd, credits …)"
                        .into(),
                )
            })?,
    };
    let rows = parse_balances_csv(reader)?;
    let mut report = ImportReport {
        imported: 0,
        duplicates: 0,
        top_ups: 0,
    };
    let Some(first) = rows.first().map(|r| r.0) else {
        return Ok(report);
    };
    let existing: HashSet<DateTime<Utc>> = db::balance_samples::since(pool, account_id, first)
        .await?
        .into_iter()
        .map(|s| s.observed_at)
        .collect();
    let mut tx = crate::db::begin_write(pool).await?;
    for (at, remaining) in rows {
        if existing.contains(&at) {
            report.duplicates += 1;
            continue;
        }
        let stored = db::balance_samples::insert(
            &mut tx,
            BalanceSample {
                account_id,
                observed_at: at,
                remaining: Some(remaining),
                limit: None,
                used: None,
                unit: unit.clone(),
                resets_at: None,
                is_topup: false,
            },
        )
        .await?;
        report.imported += 1;
        report.top_ups += usize::from(stored.is_topup);
    }
    tx.commit().await?;
    Ok(report)
}

/// The `(time, remaining)` rows of a balance CSV, oldest first, one per time; no store needed
/// (the importer and the fuzz target share it). A header line is skipped; any other line that
/// is not `time,remaining` with a time the store can keep and a finite amount is an error that
/// names its line.
pub fn parse_balances_csv<R: BufRead>(reader: R) -> Result<Vec<(DateTime<Utc>, f64)>> {
    let mut rows = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| Error::InvalidInput(format!("line {}: {e}", i + 1)))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (t, v) = line.split_once(',').ok_or_else(|| {
            Error::InvalidInput(format!(
                "line {}: expected `time,remaining`, got `{line}`",
                i + 1
            ))
        })?;
        // Columns after the second (a Cliffwatch export's limit, unit …) are not read.
        let v = v.split(',').next().unwrap_or(v);
        let (t, v) = (t.trim().trim_matches('"'), v.trim().trim_matches('"'));
        let Some(at) = parse_time(t).filter(|t| crate::clock::storable(*t)) else {
            if rows.is_empty() && v.parse::<f64>().is_err() {
                continue; // the header
            }
            return Err(Error::InvalidInput(format!(
                "line {}: `{t}` is not a time between the years 1 and 9999 (use RFC 3339, `YYYY-MM-DD HH:MM:SS` in UTC, or Unix seconds)",
                i + 1
            )));
        };
        let remaining: f64 = v
            .parse()
            .ok()
            .filter(|x: &f64| x.is_finite())
            .ok_or_else(|| {
                Error::InvalidInput(format!("line {}: `{v}` is not an amount", i + 1))
            })?;
        rows.push((at, remaining));
    }
    rows.sort_by_key(|r| r.0);
    rows.dedup_by_key(|r| r.0);

    Ok(rows)
}

fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Some(d.and_hms_opt(0, 0, 0)?.and_utc());
    }
    if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        return DateTime::from_timestamp(s.parse().ok()?, 0);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn account(db: &SqlitePool) -> AccountId {
        let opts = serde_json::json!({});
        db::accounts::insert(
            db,
            &db::accounts::Insert {
                provider: "deepseek",
                label: "a",
                base_url: None,
                secret_ref: "none",
                secret_hint: None,
                budget: None,
                options: &opts,
                now: DateTime::from_timestamp(0, 0).unwrap(),
            },
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn a_time_the_store_cannot_read_back_is_refused_with_its_line() {
        let db = db::open_in_memory().await.unwrap();
        let id = account(&db).await;
        // Unix seconds that are really milliseconds: year ~318 000.
        let csv = "2026-11-01T00:00:00Z,10\n9999999999999,5\n";
        let err = import_balances_csv(&db, id, csv.as_bytes(), Some(Unit::usd()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(
            db::balance_samples::since(&db, id, DateTime::from_timestamp(0, 0).unwrap())
                .await
                .unwrap()
                .is_empty(),
            "nothing stored, and the history still reads"
        );
    }

    #[tokio::test]
    async fn imports_any_time_format_and_marks_top_ups() {
        let db = db::open_in_memory().await.unwrap();
        let id = account(&db).await;
        let csv = "time,remaining\n\
                   2026-11-01T00:00:00Z,10\n\
                   2026-11-01 06:00:00,8.5\n\
                   2026-11-02,50\n\
                   1793581200,49\n";
        let r = import_balances_csv(&db, id, csv.as_bytes(), Some(Unit::usd()))
            .await
            .unwrap();
        assert_eq!(
            r,
            ImportReport {
                imported: 4,
                duplicates: 0,
                top_ups: 1
            },
            "8.5 → 50 is a top-up"
        );
        let again = import_balances_csv(&db, id, csv.as_bytes(), None)
            .await
            .unwrap();
        assert_eq!(again.imported, 0, "re-importing the same file adds nothing");
        assert_eq!(again.duplicates, 4);
    }

    #[tokio::test]
    async fn a_bad_row_stores_nothing_and_names_its_line() {
        let db = db::open_in_memory().await.unwrap();
        let id = account(&db).await;
        let csv = "2026-11-01T00:00:00Z,10\nyesterday,9\n";
        let err = import_balances_csv(&db, id, csv.as_bytes(), Some(Unit::usd()))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(
            db::balance_samples::latest(&db, id)
                .await
                .unwrap()
                .is_none(),
            "all or nothing"
        );
        let err = import_balances_csv(&db, id, "2026-11-01,1\n".as_bytes(), None)
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "no unit known yet: {err}");
    }
}
