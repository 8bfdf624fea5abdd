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
            match format {
                ExportFormat::Json => json(&events),
                ExportFormat::Csv => Ok(events_csv(cw, &events).await?),
            }
        }
        Dataset::Usage => {
            let days = super::history::usage_by_day(cw, q.since).await?;
            match format {
                ExportFormat::Json => json(&days),
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
                    Ok(w.finish())
                }
            }
        }
        Dataset::Alerts => {
            let alerts: Vec<_> = super::history::alerts(cw, true)
                .await?
                .into_iter()
                .map(|row| row.alert)
                .filter(|a| q.account.is_none_or(|id| a.account_id == Some(id)))
                .filter(|a| q.since.is_none_or(|s| a.raised_at >= s))
                .collect();
            match format {
                ExportFormat::Json => json(&alerts),
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
                    Ok(w.finish())
                }
            }
        }
    }
}

async fn balances(cw: &Cliffwatch, format: ExportFormat, q: &ExportQuery) -> Result<String> {
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
    match format {
        ExportFormat::Json => json(&samples.iter().map(|(_, _, s)| s).collect::<Vec<_>>()),
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
            Ok(w.finish())
        }
    }
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
    use super::*;

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
