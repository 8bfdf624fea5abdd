//! Exports: balances, the 402 history, usage and alerts, as CSV (RFC 4180: a header row,
//! quoting where a field needs it, CRLF line ends, UTC RFC 3339 times) or as the same JSON the
//! CLI's `--json` prints (one serialiser). A balances CSV reads back through `import balances`.
//!
//! Text in these files came from providers' and logs' answers, so it is untrusted: a field that
//! a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, a tab or a carriage return first) is
//! written with a leading `'`, and everything passed the redactor before it was stored.

use crate::db;
use crate::model::{AccountId, CliffEvent};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Dataset {
    Balances,
    Events,
    Usage,
    Alerts,
}

impl Dataset {
    pub fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "balances" => Dataset::Balances,
            "events" => Dataset::Events,
            "usage" => Dataset::Usage,
            "alerts" => Dataset::Alerts,
            other => {
                return Err(Error::InvalidInput(format!(
                    "nothing to export called `{other}`: balances, events, usage or alerts"
                )))
            }
        })
    }
}

/// CSV or JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExportFormat {
    Csv,
    Json,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "csv" => Ok(ExportFormat::Csv),
            "json" => Ok(ExportFormat::Json),
            other => Err(Error::InvalidInput(format!(
                "`{other}` is not an export format: csv or json"
            ))),
        }
    }
}

/// Which rows: from `since` on, of one account. Usage and alerts take `since` only for usage.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct ExportQuery {
    pub since: Option<DateTime<Utc>>,
    pub account: Option<AccountId>,
}

/// The export as text, ready to write to a file or standard output.
pub async fn export(
    cw: &Cliffwatch,
    what: Dataset,
    format: ExportFormat,
    q: &ExportQuery,
) -> Result<String> {
    Ok(render(cw, what, format, q).await?.0)
}

/// Writes the export to `path` (the app's Export buttons, after a save dialog) and returns how
/// many rows it holds. The file is written beside its final name and renamed over it, so a
/// crash or a full disk never leaves a half-written export where a previous one was; a path
/// that is a directory is refused.
pub async fn export_to(
    cw: &Cliffwatch,
    what: Dataset,
    format: ExportFormat,
    q: &ExportQuery,
    path: &std::path::Path,
) -> Result<usize> {
    let cannot = |e: &dyn std::fmt::Display| {
        Error::InvalidInput(format!(
            "cannot write the export to {}: {e}",
            path.display()
        ))
    };
    if path.is_dir() {
        return Err(Error::InvalidInput(format!(
            "{} is a folder: choose a file name to export to",
            path.display()
        )));
    }
    let Some(name) = path.file_name() else {
        return Err(Error::InvalidInput(format!(
            "{} names no file: choose a file name to export to",
            path.display()
        )));
    };
    let (text, rows) = render(cw, what, format, q).await?;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| std::path::Path::new("."))
        .to_path_buf();
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        uuid::Uuid::new_v4().simple()
    ));
    let target = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        use std::io::Write;
        let written = (|| {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, &target)
        })();
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    })
    .await
    .map_err(|e| cannot(&e))?
    .map_err(|e| cannot(&e))?;
    Ok(rows)
}

/// The export's text and how many rows (CSV lines after the header, JSON array items) it has.
async fn render(
    cw: &Cliffwatch,
    what: Dataset,
    format: ExportFormat,
    q: &ExportQuery,
) -> Result<(String, usize)> {
    match what {
        Dataset::Balances => balances(cw, format, q).await,
        Dataset::Events => {
            let events = super::history::cliff_events(
                cw,
                &super::history::EventQuery {
                    since: q.since,
                    account: q.account,
                    ..Default::default()
                },
            )
            .await?;
            let text = match format {
                ExportFormat::Json => json(&events)?,
                ExportFormat::Csv => events_csv(cw, &events).await?,
            };
            Ok((text, events.len()))
        }
        Dataset::Usage => {
            let days = super::history::usage_by_day(cw, q.since).await?;
            let text = match format {
                ExportFormat::Json => json(&days)?,
                ExportFormat::Csv => {
                    let mut w = Csv::new(&[
                        "day",
                        "provider",
                        "model",
                        "host",
                        "protocol",
                        "currency",
                        "requests",
                        "input_tokens",
                        "output_tokens",
                        "cache_creation_tokens",
                        "cache_read_tokens",
                        "cost",
                    ]);
                    for d in &days {
                        w.row(&[
                            Cell::Text(&d.day),
                            Cell::Text(&d.provider),
                            Cell::opt(d.model.as_deref()),
                            Cell::opt(d.host.as_deref()),
                            Cell::opt(d.protocol.as_deref()),
                            Cell::opt(d.currency.as_deref()),
                            Cell::Int(d.requests),
                            Cell::Int(d.input_tokens),
                            Cell::Int(d.output_tokens),
                            Cell::Int(d.cache_creation_tokens),
                            Cell::Int(d.cache_read_tokens),
                            Cell::Num(Some(d.cost)),
                        ]);
                    }
                    w.finish()
                }
            };
            Ok((text, days.len()))
        }
        Dataset::Alerts => {
            let alerts: Vec<_> = super::history::alerts(cw, true)
                .await?
                .into_iter()
                .map(|row| row.alert)
                .filter(|a| q.account.is_none_or(|id| a.account_id == Some(id)))
                .filter(|a| q.since.is_none_or(|s| a.raised_at >= s))
                .collect();
            let text = match format {
                ExportFormat::Json => json(&alerts)?,
                ExportFormat::Csv => {
                    let mut w = Csv::new(&[
                        "id",
                        "account_id",
                        "kind",
                        "severity",
                        "state",
                        "title",
                        "body",
                        "raised_at",
                        "resolved_at",
                        "snoozed_until",
                        "notified_at",
                        "subject",
                    ]);
                    for a in &alerts {
                        w.row(&[
                            Cell::Int(a.id.0),
                            a.account_id.map_or(Cell::Empty, |i| Cell::Int(i.0)),
                            Cell::Text(&a.kind),
                            Cell::Text(&a.severity),
                            Cell::Text(&a.state),
                            Cell::Text(&a.title),
                            Cell::Text(&a.body),
                            Cell::Time(Some(a.raised_at)),
                            Cell::Time(a.resolved_at),
                            Cell::Time(a.snoozed_until),
                            Cell::Time(a.notified_at),
                            Cell::opt(a.subject.as_deref()),
                        ]);
                    }
                    w.finish()
                }
            };
            Ok((text, alerts.len()))
        }
    }
}

async fn balances(
    cw: &Cliffwatch,
    format: ExportFormat,
    q: &ExportQuery,
) -> Result<(String, usize)> {
    let pool = cw.pool();
    let accounts: Vec<_> = db::accounts::list(pool)
        .await?
        .into_iter()
        .map(|s| s.account)
        .filter(|a| q.account.is_none_or(|id| a.id == id))
        .collect();
    let since = q
        .since
        .unwrap_or_else(|| DateTime::<Utc>::from_timestamp(0, 0).unwrap_or_default());
    let mut samples = Vec::new();
    for a in &accounts {
        for s in db::balance_samples::since(pool, a.id, since).await? {
            samples.push((a.label.clone(), a.provider.clone(), s));
        }
    }
    let text = match format {
        ExportFormat::Json => json(&samples.iter().map(|(_, _, s)| s).collect::<Vec<_>>())?,
        ExportFormat::Csv => {
            // `time,remaining` first: the file reads back through `import balances`.
            let mut w = Csv::new(&[
                "time",
                "remaining",
                "limit",
                "used",
                "unit",
                "resets_at",
                "is_topup",
                "account",
                "provider",
            ]);
            for (label, provider, s) in &samples {
                w.row(&[
                    Cell::Time(Some(s.observed_at)),
                    Cell::Num(s.remaining),
                    Cell::Num(s.limit),
                    Cell::Num(s.used),
                    Cell::Text(s.unit.as_str()),
                    Cell::Time(s.resets_at),
                    Cell::Text(if s.is_topup { "true" } else { "false" }),
                    Cell::Text(label),
                    Cell::Text(provider),
                ]);
            }
            w.finish()
        }
    };
    Ok((text, samples.len()))
}

async fn events_csv(cw: &Cliffwatch, events: &[CliffEvent]) -> Result<String> {
    let labels: std::collections::HashMap<AccountId, String> = db::accounts::list(cw.pool())
        .await?
        .into_iter()
        .map(|s| (s.account.id, s.account.label))
        .collect();
    let mut w = Csv::new(&[
        "time", "account", "provider", "origin", "outcome", "status", "method", "host", "url",
        "code", "message", "quota", "protocol", "price", "network", "pay_to",
    ]);
    for e in events {
        let p = crate::payments::view(e.payment.as_ref());
        let label = e
            .account_id
            .and_then(|id| labels.get(&id))
            .map(String::as_str);
        w.row(&[
            Cell::Time(Some(e.occurred_at)),
            Cell::opt(label),
            Cell::opt(e.provider.as_deref()),
            Cell::Text(e.origin.as_str()),
            Cell::Text(e.outcome.as_str()),
            e.status.map_or(Cell::Empty, Cell::Int),
            Cell::opt(e.method.as_deref()),
            Cell::opt(e.host.as_deref()),
            Cell::opt(e.url.as_deref()),
            Cell::opt(e.code.as_deref()),
            Cell::opt(e.message.as_deref()),
            Cell::opt(e.quota.as_deref()),
            Cell::opt(p.as_ref().map(|p| p.protocol.as_str())),
            Cell::opt(p.as_ref().and_then(|p| p.price.as_deref())),
            Cell::opt(p.as_ref().and_then(|p| p.network.as_deref())),
            Cell::opt(p.as_ref().and_then(|p| p.pay_to.as_deref())),
        ]);
    }
    Ok(w.finish())
}

fn json<T: Serialize + ?Sized>(v: &T) -> Result<String> {
    serde_json::to_string_pretty(v)
        .map(|mut s| {
            s.push('\n');
            s
        })
        .map_err(|e| Error::Malformed(format!("cannot write the export: {e}")))
}

/// One CSV cell.
enum Cell<'a> {
    Text(&'a str),
    Int(i64),
    Num(Option<f64>),
    Time(Option<DateTime<Utc>>),
    Empty,
}

impl<'a> Cell<'a> {
    fn opt(s: Option<&'a str>) -> Self {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

/// An RFC 4180 writer.
struct Csv {
    out: String,
}

impl Csv {
    fn new(header: &[&str]) -> Self {
        let mut w = Csv { out: String::new() };
        w.out.push_str(&header.join(","));
        w.out.push_str("\r\n");
        w
    }

    fn row(&mut self, cells: &[Cell<'_>]) {
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            match c {
                Cell::Text(s) => self.out.push_str(&field(s)),
                Cell::Int(n) => self.out.push_str(&n.to_string()),
                Cell::Num(Some(v)) if v.is_finite() => self.out.push_str(&v.to_string()),
                Cell::Time(Some(t)) => self
                    .out
                    .push_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
                Cell::Num(_) | Cell::Time(None) | Cell::Empty => {}
            }
        }
        self.out.push_str("\r\n");
    }

    fn finish(self) -> String {
        self.out
    }
}

/// A text field, defused for spreadsheets and quoted where RFC 4180 needs it.
fn field(s: &str) -> String {
    let defused = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    };
    if defused.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{account, drain, open};
    use super::*;

    /// The app's Export button: the file holds what `export` prints, the count is its rows,
    /// nothing is left beside it, and a balances CSV reads back through `import balances`.
    #[tokio::test]
    async fn export_to_writes_the_file_and_balances_round_trip_through_import() {
        let (tmp, cw) = open().await;
        let from = account(&cw, "openrouter", "main").await;
        drain(&cw, from, 24, 30.0, 0.5).await;
        let out = tempfile::tempdir().unwrap();
        let path = out.path().join("cliffwatch-balances-2026-11-21.csv");
        std::fs::write(&path, "an older export").unwrap();
        let q = ExportQuery {
            since: None,
            account: Some(from),
        };
        let rows = export_to(&cw, Dataset::Balances, ExportFormat::Csv, &q, &path)
            .await
            .unwrap();
        assert_eq!(rows, 25, "one row per hourly reading, 24 h inclusive");
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(
            written,
            export(&cw, Dataset::Balances, ExportFormat::Csv, &q)
                .await
                .unwrap(),
            "the file is the export, replacing the older one"
        );
        assert_eq!(
            std::fs::read_dir(out.path()).unwrap().count(),
            1,
            "no temporary file is left beside it"
        );

        let to = account(&cw, "openrouter", "copy").await;
        let report = crate::api::accounts::import_balances(
            &cw,
            "copy",
            written.as_bytes(),
            Some(crate::model::Unit::usd()),
        )
        .await
        .unwrap();
        assert_eq!(report.imported, 25, "every exported row reads back");
        let epoch = DateTime::<Utc>::from_timestamp(0, 0).unwrap();
        let pool = cw.pool().clone();
        let remaining = |id| {
            let pool = pool.clone();
            async move {
                db::balance_samples::since(&pool, id, epoch)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|s| (s.observed_at, s.remaining))
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(
            remaining(to).await,
            remaining(from).await,
            "the same times and balances"
        );

        let json_path = out.path().join("alerts.json");
        let none = export_to(
            &cw,
            Dataset::Alerts,
            ExportFormat::Json,
            &ExportQuery::default(),
            &json_path,
        )
        .await
        .unwrap();
        assert_eq!(none, 0, "no alert was raised");
        assert_eq!(std::fs::read_to_string(&json_path).unwrap(), "[]\n");

        let err = export_to(&cw, Dataset::Events, ExportFormat::Csv, &q, out.path())
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "a folder is refused: {err}");
        assert!(err.to_string().contains("is a folder"), "{err}");
        let err = export_to(
            &cw,
            Dataset::Events,
            ExportFormat::Csv,
            &q,
            &tmp.path().join("no-such-dir/x.csv"),
        )
        .await
        .unwrap_err();
        assert!(
            err.to_string().contains("cannot write the export"),
            "a missing folder says so: {err}"
        );
    }

    #[test]
    fn fields_are_quoted_and_defused() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
        assert_eq!(
            field("=HYPERLINK(\"http://x\")"),
            "\"'=HYPERLINK(\"\"http://x\"\")\""
        );
        assert_eq!(field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(field("-1+1"), "'-1+1", "text that looks like a formula");
        let mut w = Csv::new(&["a", "b"]);
        w.row(&[Cell::Num(Some(-1.5)), Cell::Empty]);
        assert_eq!(
            w.finish(),
            "a,b\r\n-1.5,\r\n",
            "numbers are numbers, empty is empty"
        );
    }
}
