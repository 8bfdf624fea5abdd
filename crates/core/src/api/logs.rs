//! Log sources: the list with how far each has been read, a preview of a path or glob before
//! it is added, add and remove (the running watcher hears of both).

use crate::db;
use crate::events::Change;
use crate::logs::{self, Format};
use crate::model::{CliffEvent, LogSource, LogSourceId};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use serde::Serialize;
use ts_rs::TS;

/// A log source as the Logs screen lists it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogSourceRow {
    pub source: LogSource,
    /// Files matched and read so far.
    #[ts(type = "number")]
    pub files: i64,
    #[ts(type = "number")]
    pub bytes_read: i64,
    #[ts(type = "number")]
    pub events: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    /// "watching", "disabled" or "no files matched yet".
    pub status: String,
    /// Files that could not be read (unreadable, a corrupt `.gz`, over a size cap): they are
    /// skipped until they change, and the others are read.
    #[ts(type = "number")]
    pub file_errors: i64,
    /// The newest of those errors, in words (it names the file).
    pub last_error: Option<String>,
}

/// What adding a path or glob would do, before it is added.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogPreview {
    pub pattern: String,
    /// The first matching files (at most 20).
    pub files: Vec<String>,
    #[ts(type = "number")]
    pub files_total: u32,
    /// The detected format of the first readable file, if any.
    pub format: Option<String>,
    /// Failed requests found in the first 64 KiB of that file.
    #[ts(type = "number")]
    pub events_in_head: u32,
    /// The first few of them, as they would be stored.
    pub sample: Vec<CliffEvent>,
    /// Why nothing would be detected, in words.
    pub note: Option<String>,
}

/// The log sources with how far each has been read.
pub async fn list(cw: &Cliffwatch) -> Result<Vec<LogSourceRow>> {
    let pool = cw.pool();
    let mut out = Vec::new();
    for source in db::log_sources::list(pool).await? {
        let db::log_sources::Progress {
            files,
            bytes_read,
            events,
            last_event_at,
            file_errors,
            last_error,
        } = db::log_sources::progress(pool, source.id).await?;
        let status = if !source.enabled {
            "disabled"
        } else if files == 0 {
            "no files matched yet"
        } else {
            "watching"
        };
        out.push(LogSourceRow {
            last_event_at,
            status: status.into(),
            files,
            bytes_read,
            events,
            file_errors,
            last_error,
            source,
        });
    }
    Ok(out)
}

/// What adding `pattern` as a log source would find: the matching files, the detected format
/// and the failed requests in the head of the first file. Reads at most 64 KiB; stores nothing.
pub fn preview(pattern: &str) -> Result<LogPreview> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err(Error::InvalidInput("give a path or a glob to watch".into()));
    }
    // The walk a scan does (each folder once, symbolic-link loops included, depth-capped),
    // stopped at 10 000 files.
    let (matched, _) = logs::matching_files(pattern, 10_000)?;
    let mut preview = LogPreview {
        pattern: pattern.into(),
        files: matched
            .iter()
            .take(20)
            .map(|p| p.display().to_string())
            .collect(),
        files_total: matched.len() as u32,
        format: None,
        events_in_head: 0,
        sample: Vec::new(),
        note: None,
    };
    let Some(first) = matched.first() else {
        preview.note =
            Some("no file matches yet; Cliffwatch will pick files up as they appear".into());
        return Ok(preview);
    };
    let head = logs::read_head(first, 64 * 1024)
        .map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", first.display())))?;
    let Some(format) = logs::detect_format_bytes(&head) else {
        preview.note = Some(format!(
            "{} does not look like any known format ({}); pick one, or use jsonl with a mapping",
            first.display(),
            Format::ALL.map(Format::as_str).join(", ")
        ));
        return Ok(preview);
    };
    preview.format = Some(format.as_str().into());
    let parser = logs::parser(format, &serde_json::Value::Null)?;
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let mut memory = logs::FileMemory::default();
    let events: Vec<CliffEvent> =
        logs::parse_bytes(parser.as_ref(), &head, chrono_tz::UTC, &mut memory)
            .into_iter()
            .filter_map(|l| match l.record {
                logs::Record::Request(r) => logs::request_event(&r, epoch),
                logs::Record::AgentError(e) => Some(logs::agent_event(&e, epoch)),
                _ => None,
            })
            .collect();
    preview.events_in_head = events.len() as u32;
    preview.sample = events.into_iter().take(5).collect();
    Ok(preview)
}

/// Adds a log source; the running watcher hears of it (see [`crate::logs::add_source`]).
pub use crate::logs::add_source as add;

/// Removes a log source; what it found stays in the history.
pub async fn remove(cw: &Cliffwatch, id: LogSourceId) -> Result<()> {
    db::log_sources::delete(cw.pool(), id).await?;
    cw.announce(Change::LogSources);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_detects_a_format_and_finds_the_402s() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("access.log");
        std::fs::write(
            &log,
            "127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] \"GET /v1/x HTTP/1.1\" 200 12 \"-\" \"curl\"\n\
             127.0.0.1 - - [21/Nov/2026:10:00:01 +0000] \"GET /v1/x HTTP/1.1\" 402 12 \"-\" \"curl\"\n",
        )
        .unwrap();
        let p = preview(&tmp.path().join("*.log").display().to_string()).unwrap();
        assert_eq!(p.files_total, 1);
        assert_eq!(p.format.as_deref(), Some("combined"), "{p:?}");
        assert_eq!(p.events_in_head, 1, "the 402 line, not the 200: {p:?}");
        let none = preview(&tmp.path().join("*.nothing").display().to_string()).unwrap();
        assert_eq!(none.files_total, 0);
        assert!(none.note.is_some(), "says why nothing was found");
    }
}
