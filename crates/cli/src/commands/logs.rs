//! `cliffwatch logs …`: watch request logs and agent transcripts for 402s and usage.

use crate::progress::Bar;
use crate::{output, Context};
use clap::Subcommand;
use cliffwatch_core::logs::{self, Format};
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum LogsCmd {
    /// Watch a file, directory or glob (quote globs so the shell does not expand them).
    Add {
        path_or_glob: String,
        /// One of auto, scrapy, har, combined, caddy, jsonl, python-http, claude-code, codex.
        #[arg(long, default_value = "auto")]
        format: String,
        /// IANA zone of timestamps logged without an offset (e.g. Europe/Berlin).
        #[arg(long)]
        zone: Option<String>,
        /// Link the source's events and usage to this account.
        #[arg(long, value_name = "LABEL")]
        account: Option<String>,
        /// JSON mapping for the jsonl format, e.g. '{"preset":"pino"}'.
        #[arg(long, value_name = "JSON")]
        mapping: Option<String>,
    },
    /// List the watched sources.
    List,
    /// Scan a path or glob now (adding it as a source), storing and printing its events.
    Scan {
        path_or_glob: String,
        #[arg(long, default_value = "auto")]
        format: String,
    },
}

pub async fn run(ctx: &Context, cmd: LogsCmd) -> cliffwatch_core::Result<()> {
    match cmd {
        LogsCmd::Add {
            path_or_glob,
            format,
            zone,
            account,
            mapping,
        } => {
            let format = Format::parse(&format)?;
            let options = match mapping {
                Some(m) => serde_json::from_str(&m).map_err(|e| {
                    cliffwatch_core::Error::InvalidInput(format!(
                        "--mapping is not valid JSON: {e}"
                    ))
                })?,
                None => serde_json::Value::Null,
            };
            let cw = ctx.open().await?;
            let source = cliffwatch_core::api::logs::add(
                &cw,
                &path_or_glob,
                format,
                zone.as_deref(),
                account.as_deref(),
                options,
            )
            .await?;
            if ctx.json {
                return output::json(&source);
            }
            println!(
                "Watching `{}` (format {}).",
                output::clean(&source.pattern),
                source.format
            );
            Ok(())
        }
        LogsCmd::List => {
            let cw = ctx.open().await?;
            let rows = cliffwatch_core::api::logs::list(&cw).await?;
            if ctx.json {
                let listed: Vec<Listed<'_>> = rows.iter().map(Listed::from).collect();
                return output::json(&listed);
            }
            if rows.is_empty() {
                println!("No log sources yet: `cliffwatch logs add PATH_OR_GLOB`.");
                return Ok(());
            }
            let table: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let s = &r.source;
                    vec![
                        s.id.to_string(),
                        s.pattern.clone(),
                        s.format.clone(),
                        s.zone.clone().unwrap_or_else(|| "UTC".into()),
                        if s.enabled {
                            "enabled".into()
                        } else {
                            "disabled".into()
                        },
                        r.files.to_string(),
                        r.events.to_string(),
                        r.file_errors.to_string(),
                    ]
                })
                .collect();
            output::table(
                &[
                    "ID", "PATTERN", "FORMAT", "ZONE", "STATE", "FILES", "EVENTS", "ERRORS",
                ],
                &table,
            );
            for r in rows.iter().filter(|r| r.file_errors > 0) {
                println!(
                    "\n{}: {} file(s) cannot be read and are skipped until they change; the last: {}",
                    output::clean(&r.source.pattern),
                    r.file_errors,
                    output::clean(r.last_error.as_deref().unwrap_or("-"))
                );
            }
            Ok(())
        }
        LogsCmd::Scan {
            path_or_glob,
            format,
        } => {
            let format = Format::parse(&format)?;
            let cw = ctx.open().await?;
            let bar = Bar::new();
            let progress = |p: &logs::Progress| {
                bar.draw(
                    p.bytes_done,
                    p.bytes_total,
                    p.files_done,
                    p.files_total,
                    Instant::now(),
                )
            };
            let report = logs::scan(&cw, &path_or_glob, format, Some(&progress)).await?;
            bar.finish();
            if ctx.json {
                return output::json(&report);
            }
            println!(
                "Read {:.1} MB from {} file(s): {} new event(s), {} usage record(s).",
                report.bytes_read as f64 / 1e6,
                report.files.len(),
                report.events_new,
                report.usage_records
            );
            for f in &report.files {
                match (&f.error, &f.note) {
                    (Some(e), _) => println!("  error: {}", output::clean(e)),
                    (None, Some(n)) => {
                        println!("  {}: {}", output::clean(&f.path), output::clean(n))
                    }
                    (None, None) => {}
                }
            }
            for e in &report.errors {
                println!("  error: {}", output::clean(&e.message));
            }
            crate::commands::events::print_events(&report.events);
            Ok(())
        }
    }
}

/// A source as `logs list --json` gives it: the source's own fields (as before), with how far
/// it has been read and the files that cannot be read.
#[derive(serde::Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    source: &'a cliffwatch_core::model::LogSource,
    files: i64,
    bytes_read: i64,
    events: i64,
    status: &'a str,
    file_errors: i64,
    last_error: Option<&'a str>,
}

impl<'a> From<&'a cliffwatch_core::api::logs::LogSourceRow> for Listed<'a> {
    fn from(r: &'a cliffwatch_core::api::logs::LogSourceRow) -> Self {
        Listed {
            source: &r.source,
            files: r.files,
            bytes_read: r.bytes_read,
            events: r.events,
            status: &r.status,
            file_errors: r.file_errors,
            last_error: r.last_error.as_deref(),
        }
    }
}
