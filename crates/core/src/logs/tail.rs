//! Incremental, crash-safe reading of log sources.
//!
//! Each file a source matches has a row in `log_files`: its identity (device, inode, a hash of
//! its first bytes) and how far it was read. A scan reads only the bytes after that offset, and
//! commits the events of each batch *in the same transaction* as the new offset, so a process
//! killed at any instant resumes exactly where its last commit ended: nothing lost, nothing
//! stored twice (events are also unique per file row + byte offset).
//!
//! Identity is what makes rotation safe:
//! - rename-and-create (`app.log` → `app.log.1`, new `app.log`): the old row follows the old
//!   inode to its new name, its unread tail is read there, and the new file gets a new row;
//! - copytruncate (`app.log` copied to `app.log.1`, then truncated): the copy is found by its
//!   head hash and its tail read; the truncated file restarts at 0 under a new row;
//! - truncation, deletion and re-creation: the head no longer matches, the old row is retired
//!   and the file starts over under a new row (old events keep their keys);
//! - a partial last line is left for the next scan (the offset stops after the last newline);
//! - gzip'd rotated files are read through a decoder (offsets count decompressed bytes) and,
//!   being final, their last line needs no newline.
//!
//! A file whose device, inode and size are what the last scan left costs one `stat` and one
//! indexed lookup.
//!
//! Faults and hostile files:
//! - a file that cannot be read (permissions, a corrupt or cut `.gz`, over a size cap, a parser
//!   that panicked) gets its error on its row and is skipped; the other files and sources are
//!   read. While it stays as it was when it failed (device, inode, size, mtime and ctime), a
//!   rescan costs a stat; the next read that commits clears the error;
//! - sizes are bounded by what a file inflates to (a `.har.gz` by [`MAX_DOCUMENT`], a line
//!   `.gz` by [`MAX_INFLATED`]), a line longer than [`MAX_LINE`] is skipped to its newline
//!   unparsed, and the newline search never goes over a byte twice;
//! - a source's folders are walked once each, symbolic links included ([`matching_files`]).
//!
//! Two scanners on one database (the app and the CLI) may read the same file at once: each
//! batch's write first advances the row *from the offset and path its scanner started at*
//! ([`ls::advance_file`]); the one that loses writes nothing of it and leaves the file to the
//! other. A scan's transaction may hold several files' batches ([`Writer`]), bounded in bytes
//! and time. A row
//! is never reset to 0 by a scanner that thought the file new, and a file is looked at only
//! after its row is read, so one scanner's progress never looks like a truncation to another.
//!
//! Why ~940 lines before its tests: file identity, rotation and the transactional scan share one
//! invariant (an offset is committed with the rows it produced); the three parts are marked by
//! section rules.

use super::prefilter::Prefilter;
use super::prices::PriceTable;
use super::{
    agent_event, detect_format_bytes, parser, request_seen, FileMemory, Format, Located, LogFormat,
    ParseCx, RateLimit, Record,
};
use crate::db::log_sources::{self as ls, FileState};
use crate::db::{cliff_events, usage_records};
use crate::model::{AccountId, CliffEvent, LogSource, LogSourceId, UsageRecord};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::SqlitePool;
use std::collections::{HashMap, HashSet};
use std::io::{Read, Seek, SeekFrom};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Bytes hashed to recognise a file again. 1 KiB of log lines holds timestamps, so two different
/// files practically never share it.
pub const HEAD_LEN: usize = 1024;

/// A head shorter than this does not identify a file by content alone (a CSV header, a banner);
/// it needs the same inode too.
const MIN_CONTENT_MATCH: usize = 64;

/// Bytes read (and committed) per transaction during a backfill. 8 MiB keeps a transaction
/// short (tens of ms) while making commit overhead negligible at 500 MB/s.
pub const DEFAULT_BATCH_BYTES: usize = 8 << 20;

/// The longest line parsed (Claude Code tool results reach several MiB). A longer one is not a
/// log line (a binary file, a runaway writer): it is skipped up to its newline, with a note.
pub const MAX_LINE: usize = 64 << 20;

/// Whole-document formats (HAR) larger than this, decompressed, are skipped with an error on
/// the file: a document is parsed in memory.
pub const MAX_DOCUMENT: u64 = 512 << 20;

/// A `.gz` is inflated to at most this, or to [`GZ_RATIO`] times its size if that is more: a
/// 1 MB gzip bomb holds 4 GB of spaces, while real logs compress 10 to 30 times.
pub const MAX_INFLATED: u64 = 4 << 30;
const GZ_RATIO: u64 = 200;

/// Directory levels a `**` descends below a source's root.
pub const MAX_DEPTH: usize = 32;

/// Files one source may match; past it the rest are reported, not read (narrow the glob).
pub const MAX_FILES: usize = 100_000;

/// New events kept in a [`ScanReport`] for printing; the count goes on past it.
const MAX_REPORTED_EVENTS: usize = 10_000;

/// Bytes looked at to detect a file's format (several lines of a long-lined JSON log).
const DETECT_BYTES: usize = 64 * 1024;

/// Rotated siblings looked at when a file's old self must be found.
const MAX_SIBLINGS: usize = 1000;

#[cfg(test)]
thread_local! {
    /// A byte string that makes the parse step panic on a line holding it: the real parsers
    /// have no known panic left for the test of the catch to rely on.
    pub(crate) static PANIC_ON: std::cell::Cell<Option<&'static [u8]>> =
        const { std::cell::Cell::new(None) };
    /// Bytes searched for a newline, to show that the search is linear in a long line.
    pub(crate) static SEARCHED: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Backfill progress of one source, reported after every batch (the dashboard draws
/// it as a bar on the source's row).
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export, rename = "LogProgress")]
pub struct Progress {
    pub source_id: LogSourceId,
    #[ts(type = "number")]
    pub files_done: usize,
    #[ts(type = "number")]
    pub files_total: usize,
    #[ts(type = "number")]
    pub bytes_done: u64,
    #[ts(type = "number")]
    pub bytes_total: u64,
    pub path: String,
}

/// A progress callback: the CLI draws a bar, the app emits UI events.
pub type ProgressFn<'a> = dyn Fn(&Progress) + Send + Sync + 'a;

/// How to scan.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    /// Overrides the source's format for this scan.
    pub format: Option<Format>,
    /// Bytes per committed batch.
    pub batch_bytes: usize,
    /// Stored as `updated_at`; never used as an event time.
    pub now: DateTime<Utc>,
    pub prices: Arc<PriceTable>,
    /// Set from elsewhere to stop the scan after the batch in progress (each batch is written
    /// with its offset in one transaction, so stopping between batches loses and repeats
    /// nothing).
    pub cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Limits on untrusted files ([`MAX_LINE`], [`MAX_DOCUMENT`], [`MAX_INFLATED`],
    /// [`MAX_FILES`]); tests lower them to stay fast.
    pub max_line: usize,
    pub max_document: u64,
    pub max_inflated: u64,
    pub max_files: usize,
    /// Run after each commit of a scan's transaction (tests start another scanner there).
    #[cfg(test)]
    pub(crate) after_commit: Option<CommitHook>,
}

#[cfg(test)]
#[derive(Clone)]
pub(crate) struct CommitHook(pub Arc<dyn Fn() + Send + Sync>);

#[cfg(test)]
impl std::fmt::Debug for CommitHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitHook")
    }
}

impl ScanOptions {
    pub fn new(now: DateTime<Utc>, prices: Arc<PriceTable>) -> Self {
        ScanOptions {
            format: None,
            batch_bytes: DEFAULT_BATCH_BYTES,
            now,
            prices,
            cancel: None,
            max_line: MAX_LINE,
            max_document: MAX_DOCUMENT,
            max_inflated: MAX_INFLATED,
            max_files: MAX_FILES,
            #[cfg(test)]
            after_commit: None,
        }
    }

    fn cancelled(&self) -> bool {
        self.cancel
            .as_ref()
            .is_some_and(|c| c.load(std::sync::atomic::Ordering::Acquire))
    }
}

/// What happened to one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub path: String,
    pub format: Option<Format>,
    pub bytes_read: u64,
    pub events: usize,
    pub usage_records: usize,
    /// Same identity and size as last time: only a stat.
    pub unchanged: bool,
    /// Rotation, truncation, an unknown format …
    pub note: Option<String>,
    /// Why the file could not be read (it is skipped until it changes; `logs list` shows it).
    pub error: Option<String>,
}

/// A source that could not be scanned, or part of it (a bad glob or zone, a directory that
/// cannot be listed, too many files). The other sources are scanned all the same.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceError {
    pub source_id: LogSourceId,
    pub pattern: String,
    pub message: String,
}

/// What a scan did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ScanReport {
    pub files: Vec<FileReport>,
    pub bytes_read: u64,
    /// Events stored by this scan (a line seen before is not counted again).
    pub events_new: usize,
    /// Usage records written (new or grown).
    pub usage_records: usize,
    /// The new events (at most 10 000), oldest file first.
    pub events: Vec<CliffEvent>,
    /// Codex rate-limit readings seen, in order.
    pub rate_limits: Vec<RateLimit>,
    /// Sources (or parts of them) that could not be scanned; files that could not be read are
    /// in `files`, with their `error`.
    pub errors: Vec<SourceError>,
}

impl ScanReport {
    fn absorb(&mut self, other: ScanReport) {
        self.files.extend(other.files);
        self.errors.extend(other.errors);
        self.bytes_read += other.bytes_read;
        self.events_new += other.events_new;
        self.usage_records += other.usage_records;
        let room = MAX_REPORTED_EVENTS.saturating_sub(self.events.len());
        self.events.extend(other.events.into_iter().take(room));
        self.rate_limits.extend(other.rate_limits);
    }
}

// ---------------------------------------------------------------------------------------------
// Public API over a Cliffwatch.

/// Adds a log source: a path, a directory (all files below it) or a glob. `format` `None` means
/// auto-detect per file; `zone` is the IANA zone of timestamps written without an offset;
/// `account` links the source's events and usage to an account (by label); `options` holds the
/// jsonl mapping (`{"preset": "pino", "status": "/res/code"}`).
pub async fn add_source(
    cw: &Cliffwatch,
    pattern: &str,
    format: Option<Format>,
    zone: Option<&str>,
    account: Option<&str>,
    options: serde_json::Value,
) -> Result<LogSource> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err(Error::InvalidInput("give a path or a glob to watch".into()));
    }
    glob::Pattern::new(&expand_home(pattern)).map_err(|e| {
        Error::InvalidInput(format!(
            "`{pattern}` is not a valid glob ({e}): quote it, or escape [ and ] as [[] and []]"
        ))
    })?;
    if let Some(z) = zone {
        parse_zone(Some(z))?;
    }
    let options = if options.is_null() {
        serde_json::json!({})
    } else {
        options
    };
    if format.is_none_or(|f| f == Format::Jsonl) {
        super::JsonlMapping::from_options(&options)?;
    }
    let account_id = match account {
        Some(label) => Some(
            crate::db::accounts::get_by_label(cw.pool(), label)
                .await?
                .account
                .id,
        ),
        None => None,
    };
    let fmt = format.map_or("auto", Format::as_str);
    let id = ls::insert(cw.pool(), pattern, fmt, zone, account_id, cw.clock().now()).await?;
    ls::set_options(cw.pool(), id, &options).await?;
    cw.announce(crate::events::Change::LogSources);
    ls::list(cw.pool())
        .await?
        .into_iter()
        .find(|s| s.id == id)
        .ok_or_else(|| Error::Malformed("a log source vanished right after it was added".into()))
}

/// Scans one source now, by pattern. A pattern that is not a source yet is added first (with
/// `format`, or auto-detection), so that the next scan of it reads only new bytes. `format`
/// overrides a known source's format for this scan.
pub async fn scan(
    cw: &Cliffwatch,
    pattern_or_source: &str,
    format: Option<Format>,
    progress: Option<&ProgressFn<'_>>,
) -> Result<ScanReport> {
    let source = match ls::get_by_pattern(cw.pool(), pattern_or_source.trim()).await? {
        Some(s) => s,
        None => {
            add_source(
                cw,
                pattern_or_source,
                format,
                None,
                None,
                serde_json::Value::Null,
            )
            .await?
        }
    };
    let mut opts = ScanOptions::new(cw.clock().now(), Arc::new(PriceTable::load(cw.data_dir())?));
    opts.format = format;
    scan_source(cw.pool(), &source, &opts, progress).await
}

/// Scans every enabled source.
pub async fn scan_all(cw: &Cliffwatch, progress: Option<&ProgressFn<'_>>) -> Result<ScanReport> {
    scan_all_until(cw, progress, None).await
}

/// [`scan_all`] that stops after the batch in progress once `cancel` is set.
pub async fn scan_all_until(
    cw: &Cliffwatch,
    progress: Option<&ProgressFn<'_>>,
    cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
) -> Result<ScanReport> {
    let mut opts = ScanOptions::new(cw.clock().now(), Arc::new(PriceTable::load(cw.data_dir())?));
    opts.cancel = cancel;
    let mut report = ScanReport::default();
    for s in ls::list(cw.pool()).await?.into_iter().filter(|s| s.enabled) {
        if opts.cancelled() {
            break;
        }
        // One source that cannot be scanned (a zone that no longer exists, a bad glob from an
        // older version) must not keep the ones after it from being read.
        match scan_source(cw.pool(), &s, &opts, progress).await {
            Ok(r) => report.absorb(r),
            Err(e) if is_store_error(&e) => return Err(e),
            Err(e) => report.errors.push(SourceError {
                source_id: s.id,
                pattern: s.pattern.clone(),
                message: e.to_string(),
            }),
        }
    }
    Ok(report)
}

/// Errors of the store itself: every other source would fail the same way.
fn is_store_error(e: &Error) -> bool {
    matches!(
        e,
        Error::Database(_)
            | Error::Migration(_)
            | Error::ReadOnlyDatabase { .. }
            | Error::CorruptDatabase { .. }
    )
}

/// All log sources, oldest first.
pub async fn list_sources(cw: &Cliffwatch) -> Result<Vec<LogSource>> {
    ls::list(cw.pool()).await
}

/// Removes a source by its pattern (its events stay in the 402 history).
pub async fn remove_source(cw: &Cliffwatch, pattern: &str) -> Result<LogSource> {
    let s = ls::get_by_pattern(cw.pool(), pattern.trim())
        .await?
        .ok_or_else(|| {
            Error::InvalidInput(format!(
                "`{pattern}` is not a log source: `cliffwatch logs list` shows them"
            ))
        })?;
    ls::delete(cw.pool(), s.id).await?;
    Ok(s)
}

/// The 402 history (and other failed requests), newest first.
pub async fn events(cw: &Cliffwatch, filter: &cliff_events::Filter) -> Result<Vec<CliffEvent>> {
    cliff_events::list(cw.pool(), filter).await
}

/// Usage per UTC day, provider and model from `since` on (`cliffwatch usage`).
pub async fn daily_usage(
    cw: &Cliffwatch,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<usage_records::DailyTotal>> {
    usage_records::daily_totals(cw.pool(), since).await
}

/// Usage totals from agent logs (and cost reports) from `since` on, optionally of one provider.
pub async fn usage_totals(
    cw: &Cliffwatch,
    since: Option<DateTime<Utc>>,
    provider: Option<&str>,
) -> Result<usage_records::Totals> {
    usage_records::totals(cw.pool(), since, provider).await
}

// ---------------------------------------------------------------------------------------------
// Files and identity.

/// `~/x` → `$HOME/x`.
pub fn expand_home(pattern: &str) -> String {
    match (pattern.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => Path::new(&home).join(rest).to_string_lossy().into_owned(),
        _ => pattern.to_owned(),
    }
}

/// The glob a source's pattern stands for: a directory means every file below it.
pub(crate) fn source_glob(pattern: &str) -> String {
    let p = expand_home(pattern);
    let meta = p.contains(['*', '?', '[']);
    if !meta && Path::new(&p).is_dir() {
        format!("{}/**/*", p.trim_end_matches('/'))
    } else {
        p
    }
}

fn parse_zone(zone: Option<&str>) -> Result<Tz> {
    match zone {
        None => Ok(chrono_tz::UTC),
        Some(z) => z.parse::<Tz>().map_err(|_| {
            Error::InvalidInput(format!(
                "unknown time zone `{z}`: use an IANA name such as Europe/Berlin or UTC"
            ))
        }),
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Stat {
    dev: i64,
    ino: i64,
    size: u64,
    mtime: DateTime<Utc>,
    /// The inode's change time in ns (Unix `ctime`): a chmod changes it, the size does not.
    changed: i64,
    gz: bool,
}

impl Stat {
    /// Whether the file holds fewer bytes than `offset` (a truncation). Offsets in a `.gz` count
    /// decompressed bytes, which its size on disk cannot tell.
    fn shorter_than(&self, offset: i64) -> bool {
        !self.gz && self.size < offset.max(0) as u64
    }

    /// What a file that failed looked like: while a rescan finds the same, it is not tried
    /// again (a chmod, a rewrite or a new inode changes it).
    fn fingerprint(&self) -> String {
        format!(
            "{}:{}:{}:{}:{}",
            self.dev,
            self.ino,
            self.size,
            self.mtime.timestamp_nanos_opt().unwrap_or_default(),
            self.changed
        )
    }
}

fn stat(path: &Path) -> std::io::Result<Stat> {
    Ok(stat_of(path, &std::fs::metadata(path)?))
}

fn stat_of(path: &Path, m: &std::fs::Metadata) -> Stat {
    #[cfg(unix)]
    let (dev, ino, changed) = {
        use std::os::unix::fs::MetadataExt;
        (
            m.dev() as i64,
            m.ino() as i64,
            m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
        )
    };
    #[cfg(not(unix))]
    let (dev, ino, changed) = (0i64, 0i64, 0i64);
    let mtime = m
        .modified()
        .ok()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default();
    Stat {
        dev,
        ino,
        size: m.len(),
        mtime,
        changed,
        gz: is_gz(path),
    }
}

/// A directory's or file's identity, to walk each once (`None` where there is no inode).
fn identity(m: &std::fs::Metadata) -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Some((m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        let _ = m;
        None
    }
}

/// The files a source's pattern matches, sorted by path, with what went wrong listing them.
///
/// Walks from the longest prefix without glob characters, following symbolic links (a log
/// folder is often one) but entering no directory twice and yielding no file twice (by device
/// and inode: `ln -s . loop` or two links to one folder would otherwise count every event again,
/// and two loops would never end), at most [`MAX_DEPTH`] levels deep for `**` and exactly as
/// deep as the pattern otherwise, and at most `max_files` files.
pub fn matching_files(pattern: &str, max_files: usize) -> Result<(Vec<PathBuf>, Vec<String>)> {
    let (files, errors) = walk(pattern, max_files)?;
    Ok((files.into_iter().map(|(p, _)| p).collect(), errors))
}

/// The files found (with what they looked like) and the errors met on the way.
type Walked = (Vec<(PathBuf, Stat)>, Vec<String>);

fn walk(pattern: &str, max_files: usize) -> Result<Walked> {
    let bad = |e: glob::PatternError| {
        Error::InvalidInput(format!("`{pattern}` is not a valid glob: {e}"))
    };
    let full = source_glob(pattern);
    glob::Pattern::new(&full).map_err(bad)?;
    let mut root = PathBuf::new();
    let mut rest: Vec<String> = Vec::new();
    for comp in Path::new(&full).components() {
        let c = comp.as_os_str().to_string_lossy();
        if !rest.is_empty() || c.contains(['*', '?', '[']) {
            rest.push(c.into_owned());
        } else {
            root.push(comp);
        }
    }
    let mut files: Vec<(PathBuf, Stat)> = Vec::new();
    let mut errors = Vec::new();
    if rest.is_empty() {
        // A plain file.
        match std::fs::metadata(&root) {
            Ok(m) if m.is_file() => files.push((root.clone(), stat_of(&root, &m))),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => errors.push(format!("cannot read {}: {e}", root.display())),
        }
        return Ok((files, errors));
    }
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let rest_pat = glob::Pattern::new(&rest.join("/")).map_err(bad)?;
    // `prefix[d - 1]` matches a directory `d` levels down that can hold a match (none once a
    // `**` is passed: anything can).
    let mut prefix = Vec::new();
    for d in 1..rest.len() {
        if rest[..d].iter().any(|c| c.contains("**")) {
            break;
        }
        prefix.push(glob::Pattern::new(&rest[..d].join("/")).map_err(bad)?);
    }
    let depth = if rest.iter().any(|c| c.contains("**")) {
        MAX_DEPTH
    } else {
        rest.len()
    };
    let walk_root: &Path = if root.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &root
    };
    let mut dirs: HashSet<(u64, u64)> = HashSet::new();
    let mut seen: HashMap<(u64, u64), usize> = HashMap::new();
    let mut via_link: Vec<bool> = Vec::new();
    let mut it = walkdir::WalkDir::new(walk_root)
        .follow_links(true)
        .max_depth(depth)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = it.next() {
        let entry = match entry {
            Ok(e) => e,
            // A link back to a folder being walked: its files are walked already.
            Err(e) if e.loop_ancestor().is_some() => continue,
            Err(e) => {
                let path = e.path().unwrap_or(walk_root).to_path_buf();
                match e.into_io_error() {
                    // Gone since it was listed, a dangling link, a root not created yet.
                    Some(io) if io.kind() == std::io::ErrorKind::NotFound => {}
                    Some(io) => errors.push(format!("cannot read {}: {io}", path.display())),
                    None => errors.push(format!("cannot read {}", path.display())),
                }
                continue;
            }
        };
        let Ok(meta) = entry.metadata() else { continue };
        let rel = entry.path().strip_prefix(walk_root).unwrap_or(entry.path());
        if entry.file_type().is_dir() {
            let fresh = identity(&meta).is_none_or(|id| dirs.insert(id));
            let reachable = entry.depth() == 0
                || prefix
                    .get(entry.depth() - 1)
                    .is_none_or(|p| p.matches_path_with(rel, opts));
            if !fresh || !reachable {
                it.skip_current_dir();
            }
            continue;
        }
        if entry.depth() == 0 || !meta.is_file() || !rest_pat.matches_path_with(rel, opts) {
            continue;
        }
        let path = if root.as_os_str().is_empty() {
            rel.to_path_buf()
        } else {
            entry.path().to_path_buf()
        };
        let link = entry.path_is_symlink();
        if let Some(id) = identity(&meta) {
            if let Some(&i) = seen.get(&id) {
                // One file under two names: keep the real one over a link to it.
                if via_link[i] && !link {
                    files[i] = (path.clone(), stat_of(&path, &meta));
                    via_link[i] = false;
                }
                continue;
            }
            seen.insert(id, files.len());
        }
        if files.len() >= max_files {
            errors.push(format!(
                "more than {max_files} files match `{pattern}`: only the first {max_files} are read; narrow the pattern"
            ));
            break;
        }
        files.push((path.clone(), stat_of(&path, &meta)));
        via_link.push(link);
    }
    files.sort_by(|a, b| a.0.cmp(&b.0));
    Ok((files, errors))
}

fn is_gz(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// A reader of a file's content (decompressed for `.gz`) from `offset` on.
fn open_at(path: &Path, offset: u64) -> std::io::Result<Box<dyn Read + Send>> {
    let mut f = std::fs::File::open(path)?;
    if is_gz(path) {
        let mut d = flate2::read::MultiGzDecoder::new(std::io::BufReader::new(f));
        std::io::copy(&mut (&mut d).take(offset), &mut std::io::sink())?;
        Ok(Box::new(d))
    } else {
        f.seek(SeekFrom::Start(offset))?;
        Ok(Box::new(f))
    }
}

/// The first `n` bytes of a file's content (fewer if it is shorter).
pub fn read_head(path: &Path, n: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(n);
    open_at(path, 0)?.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `len:hash` of a head, `None` for an empty file.
fn head_hash(head: &[u8]) -> Option<String> {
    (!head.is_empty()).then(|| format!("{}:{:016x}", head.len(), fnv1a(head)))
}

/// Whether `head` (the first bytes of a file, up to [`HEAD_LEN`]) starts with what `stored`
/// hashed. Returns the hashed length on a match.
fn head_matches(stored: &str, head: &[u8]) -> Option<usize> {
    let (len, hash) = stored.split_once(':')?;
    let len: usize = len.parse().ok()?;
    (head.len() >= len && format!("{:016x}", fnv1a(&head[..len])) == hash).then_some(len)
}

fn is_retired(path: &str) -> bool {
    path.contains('\0')
}

// ---------------------------------------------------------------------------------------------
// Scanning.

struct SourceCx<'a> {
    source: &'a LogSource,
    parser: Option<Box<dyn LogFormat>>,
    zone: Tz,
    account_provider: Option<String>,
    glob: glob::Pattern,
    opts: &'a ScanOptions,
    buf: std::sync::Mutex<Vec<u8>>,
    prefilter: Option<super::prefilter::Prefilter>,
    /// Whether the source had file rows when the scan began; a first backfill has nothing a
    /// new file could be an older name of, and skips that lookup.
    had_rows: bool,
}

struct Pending {
    path: PathBuf,
    stat: Stat,
    pending: u64,
    row: Option<(i64, FileState)>,
}

/// Scans one source: every file its pattern matches, oldest first.
pub async fn scan_source(
    pool: &SqlitePool,
    source: &LogSource,
    opts: &ScanOptions,
    progress: Option<&ProgressFn<'_>>,
) -> Result<ScanReport> {
    let pattern = source_glob(&source.pattern);
    let glob_pat = glob::Pattern::new(&pattern).map_err(|e| {
        Error::InvalidInput(format!("`{}` is not a valid glob: {e}", source.pattern))
    })?;
    let format = match opts.format {
        Some(f) => Some(f),
        None => Format::parse(&source.format)?,
    };
    let account_provider = match source.account_id {
        Some(AccountId(id)) => {
            sqlx::query_as::<_, (String,)>("SELECT provider FROM accounts WHERE id = ?")
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(|(p,)| p)
        }
        None => None,
    };
    let cx = SourceCx {
        source,
        parser: format.map(|f| parser(f, &source.options)).transpose()?,
        zone: parse_zone(source.zone.as_deref())?,
        account_provider,
        glob: glob_pat,
        opts,
        buf: std::sync::Mutex::new(Vec::new()),
        prefilter: None,
        had_rows: sqlx::query_as::<_, (i64,)>("SELECT count(*) FROM log_files WHERE source_id = ?")
            .bind(source.id)
            .fetch_one(pool)
            .await?
            .0
            > 0,
    };
    let cx = SourceCx {
        prefilter: cx
            .parser
            .as_ref()
            .map(|p| super::prefilter::Prefilter::new(p.needles(), p.needles_ignore_case())),
        ..cx
    };

    let mut report = ScanReport::default();
    let mut todo: Vec<Pending> = Vec::new();
    let (found, walk_errors) = walk(&source.pattern, opts.max_files)?;
    report
        .errors
        .extend(walk_errors.into_iter().map(|message| SourceError {
            source_id: source.id,
            pattern: source.pattern.clone(),
            message,
        }));
    let mut rows = if cx.had_rows {
        ls::file_rows(pool, source.id).await?
    } else {
        HashMap::new()
    };
    for (path, st) in found {
        let path_s = path.to_string_lossy().into_owned();
        let row = rows.remove(&path_s);
        let pending = match &row {
            // It failed last time and has not changed since: only a stat.
            Some(r)
                if r.last_error.is_some()
                    && r.last_error_stat.as_deref() == Some(st.fingerprint().as_str()) =>
            {
                report.files.push(FileReport {
                    path: path_s,
                    unchanged: true,
                    error: r.last_error.clone(),
                    ..Default::default()
                });
                continue;
            }
            Some(ls::FileRow { state: f, .. })
                if f.device == Some(st.dev)
                    && f.inode == Some(st.ino)
                    && f.size_seen == st.size as i64 =>
            {
                report.files.push(FileReport {
                    path: path_s,
                    unchanged: true,
                    ..Default::default()
                });
                continue;
            }
            Some(r) => st.size.saturating_sub(r.state.byte_offset.max(0) as u64),
            None => st.size,
        };
        todo.push(Pending {
            path,
            stat: st,
            pending,
            row: row.map(|r| (r.id, r.state)),
        });
    }
    todo.sort_by(|a, b| {
        a.stat
            .mtime
            .cmp(&b.stat.mtime)
            .then_with(|| a.path.cmp(&b.path))
    });
    let mut prog = Progress {
        source_id: source.id,
        files_done: 0,
        files_total: todo.len(),
        bytes_done: 0,
        bytes_total: todo.iter().map(|p| p.pending).sum(),
        path: String::new(),
    };
    let mut w = Writer::new(pool, opts);
    // A first backfill of a line format reads and parses ahead on a thread of its own while
    // this one stores.
    let mut prefetch = match (&format, cx.had_rows) {
        (Some(fmt), false)
            if !todo.is_empty() && cx.parser.as_ref().is_some_and(|p| !p.is_document()) =>
        {
            let files = todo.iter().map(|p| (p.path.clone(), p.stat)).collect();
            Prefetch::start(files, parser(*fmt, &source.options)?, cx.zone, opts)
        }
        _ => None,
    };
    for (i, p) in todo.into_iter().enumerate() {
        if opts.cancelled() {
            break;
        }
        prog.path = p.path.to_string_lossy().into_owned();
        let ahead = prefetch.as_mut().map(|pf| (pf, i));
        match scan_file(&mut w, &cx, &p, &mut prog, progress, ahead).await {
            Ok(r) => report.absorb(r),
            // One file that cannot be read is reported on that file and skipped; the others
            // are read. Errors of the store still end the scan.
            Err(e @ Error::LogFile { .. }) => {
                let message = e.to_string();
                let gone = matches!(std::fs::metadata(&p.path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound);
                // A file that vanished has nothing to keep an error on. Otherwise the error is
                // keyed on the stat taken *before* the read: a file that changed since is tried
                // again at the next scan.
                if !gone {
                    ls::set_file_error(
                        w.conn().await?,
                        source.id,
                        &prog.path,
                        Some(p.stat.dev),
                        Some(p.stat.ino),
                        &p.stat.fingerprint(),
                        &message,
                        opts.now,
                    )
                    .await?;
                }
                report.files.push(FileReport {
                    path: prog.path.clone(),
                    error: Some(message),
                    ..Default::default()
                });
            }
            Err(e) => return Err(e),
        }
        prog.files_done += 1;
        w.batch_done(0).await?;
        if let Some(f) = progress {
            f(&prog);
        }
    }
    w.commit().await?;
    Ok(report)
}

/// One file: find (or make) its row, follow a rotation, then read what is new.
async fn scan_file(
    w: &mut Writer<'_>,
    cx: &SourceCx<'_>,
    p: &Pending,
    prog: &mut Progress,
    progress: Option<&ProgressFn<'_>>,
    prefetched: Option<(&mut Prefetch, usize)>,
) -> Result<ScanReport> {
    let (path, st, existing) = (p.path.as_path(), p.stat, p.row.clone());
    let mut report = ScanReport::default();
    let path_s = path.to_string_lossy().into_owned();
    let mut note = None;
    // The pre-pass row may be stale: following a rotation earlier in this scan, or another
    // scanner, can have moved or advanced it (a first backfill, with no rows, skips this). The
    // file is looked at *after* its row is read: another scanner's offset (and head hash) then
    // never reaches past what this one sees, so a file that only grew is not taken for a
    // truncated or replaced one.
    let (existing, st) = if cx.had_rows || existing.is_some() {
        let row = ls::get_file(w.conn().await?, cx.source.id, &path_s).await?;
        (row, stat(path).map_err(|e| io_err(path, e))?)
    } else {
        (existing, st)
    };
    let head = read_head(path, HEAD_LEN).map_err(|e| io_err(path, e))?;

    let mut row: Option<(i64, FileState)> = None;
    if let Some((id, f)) = existing {
        let same_inode = f.device == Some(st.dev) && f.inode == Some(st.ino);
        let same_head = match f.head_hash.as_deref() {
            Some(h) => {
                head_matches(h, &head).is_some_and(|len| same_inode || len >= MIN_CONTENT_MATCH)
            }
            None => same_inode,
        };
        if same_head && !st.shorter_than(f.byte_offset) {
            row = Some((id, f));
        } else {
            // Not the file we were reading: rotated, truncated, or replaced.
            note = Some(if same_inode {
                "truncated: read from the start"
            } else {
                "replaced or rotated: read from the start"
            });
            let (r, lost) = follow_old_file(w, cx, path, id, f, prog, progress).await?;
            report.absorb(r);
            if lost {
                report.files.push(FileReport {
                    path: path_s,
                    note: Some(LOST_RACE.into()),
                    ..Default::default()
                });
                return Ok(report);
            }
        }
    }
    let row = match row {
        Some((id, f)) => Some((id, f.path.clone(), f, false)),
        None => match if cx.had_rows {
            adopt(w, cx, path, &st, &head).await?
        } else {
            None
        } {
            Some((id, f)) => {
                note.get_or_insert("rotated: continued where the old name left off");
                Some((id, f.path.clone(), f, false))
            }
            None => new_row(w, cx, &path_s, &st).await?,
        },
    };
    let Some((id, expected_path, mut f, new_row)) = row else {
        report.files.push(FileReport {
            path: path_s,
            note: Some(LOST_RACE.into()),
            ..Default::default()
        });
        return Ok(report);
    };
    let expected = ls::Expected {
        byte_offset: f.byte_offset,
        path: expected_path,
    };
    f.path = path_s.clone();
    f.device = Some(st.dev);
    f.inode = Some(st.ino);
    let (mut r, _) = read_file(
        w, cx, id, f, expected, new_row, path, st, &head, prog, progress, prefetched,
    )
    .await?;
    if let Some(n) = note {
        if let Some(fr) = r.files.last_mut() {
            fr.note.get_or_insert_with(|| n.to_owned());
        }
    }
    report.absorb(r);
    Ok(report)
}

/// Said of a file another scanner (the app and the CLI on one database) read first.
const LOST_RACE: &str = "another scanner read this file further: left to it";
#[cfg(test)]
pub(crate) const LOST_RACE_FOR_TEST: &str = LOST_RACE;

/// A row for a file seen for the first time: `(id, the row's path, its state, whether it is
/// fresh)`. Another scanner may have made it a moment ago and read from it: then its state is
/// taken as it is, never reset. `None` when a stale row holds the path and cannot be retired
/// (another scanner is moving it).
async fn new_row(
    w: &mut Writer<'_>,
    cx: &SourceCx<'_>,
    path_s: &str,
    st: &Stat,
) -> Result<Option<(i64, String, FileState, bool)>> {
    let fresh = FileState {
        source_id: cx.source.id,
        path: path_s.to_owned(),
        device: Some(st.dev),
        inode: Some(st.ino),
        head_hash: None,
        byte_offset: 0,
        size_seen: -1,
    };
    for _ in 0..2 {
        let (id, stored) = ls::insert_or_get_file(w.conn().await?, &fresh, cx.opts.now).await?;
        if stored.device == fresh.device && stored.inode == fresh.inode {
            let is_fresh = stored == fresh;
            return Ok(Some((id, stored.path.clone(), stored, is_fresh)));
        }
        // A row of another file at this path (its rotation could not be followed to the end,
        // e.g. a half-written document): retire it, and start this file under a new row.
        let expected = ls::Expected {
            byte_offset: stored.byte_offset,
            path: stored.path.clone(),
        };
        if !ls::retire_file_if(w.conn().await?, id, &expected, cx.opts.now).await? {
            return Ok(None);
        }
    }
    Ok(None)
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::LogFile {
        path: path.to_owned(),
        detail: e.to_string(),
    }
}

/// A parser that panicked. The payload is never formatted: it may quote the line, and a line
/// may hold a key.
fn crashed(path: &Path) -> Error {
    Error::LogFile {
        path: path.to_owned(),
        detail: "the parser crashed on it (a bug in Cliffwatch, please report it); the file is \
                 skipped until it changes"
            .into(),
    }
}

/// `n` bytes in words: "512 MiB", "4 KiB", "100 bytes".
fn size_text(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// A row of this source that is this file under an older name (renamed, copied, compressed),
/// and whose own file is gone from where the row says.
async fn adopt(
    w: &mut Writer<'_>,
    cx: &SourceCx<'_>,
    path: &Path,
    st: &Stat,
    head: &[u8],
) -> Result<Option<(i64, FileState)>> {
    let path_s = path.to_string_lossy();
    let hh = head_hash(head);
    let cands = ls::identity_candidates(
        w.conn().await?,
        cx.source.id,
        &path_s,
        Some(st.dev),
        Some(st.ino),
        hh.as_deref(),
    )
    .await?;
    for (id, f) in cands {
        let same_inode = f.device == Some(st.dev) && f.inode == Some(st.ino) && !st.gz;
        let content = f.head_hash.as_deref().and_then(|h| head_matches(h, head));
        let ok = match content {
            Some(len) => same_inode || len >= MIN_CONTENT_MATCH,
            None => same_inode && f.head_hash.is_none(),
        };
        if !ok || st.shorter_than(f.byte_offset) {
            continue;
        }
        if !is_retired(&f.path) {
            // Still live where it is (a hard link, or a copy that was never rotated)?
            if let Ok(other) = stat(Path::new(&f.path)) {
                if Some(other.dev) == f.device && Some(other.ino) == f.inode {
                    continue;
                }
            }
        }
        // Moved to this name by the first commit of `read_file`, on the condition that the row
        // is still where and as it was here (another scanner may adopt it at the same time).
        return Ok(Some((id, f)));
    }
    Ok(None)
}

/// The file a row was reading is no longer at its path. Look for it beside (renamed by
/// rotation, or copied by copytruncate, maybe compressed), read its unread tail there, and move
/// the row to that name (or retire it when the source's pattern does not cover that name or
/// the old file cannot be found). Also returns whether another scanner changed the row first.
async fn follow_old_file(
    w: &mut Writer<'_>,
    cx: &SourceCx<'_>,
    path: &Path,
    id: i64,
    f: FileState,
    prog: &mut Progress,
    progress: Option<&ProgressFn<'_>>,
) -> Result<(ScanReport, bool)> {
    let expected = ls::Expected {
        byte_offset: f.byte_offset,
        path: f.path.clone(),
    };
    let found = find_sibling(path, &f)?;
    let Some((q, qst, qhead)) = found else {
        let retired = ls::retire_file_if(w.conn().await?, id, &expected, cx.opts.now).await?;
        return Ok((ScanReport::default(), !retired));
    };
    let q_s = q.to_string_lossy().into_owned();
    let target = if cx.glob.matches_path(&q)
        && ls::file_id(w.conn().await?, cx.source.id, &q_s)
            .await?
            .is_none()
    {
        q_s
    } else {
        format!("{}\0retired:{id}", f.path)
    };
    let mut moved = f;
    moved.path = target;
    moved.device = Some(qst.dev);
    moved.inode = Some(qst.ino);
    let (mut r, lost) = read_file(
        w, cx, id, moved, expected, false, &q, qst, &qhead, prog, progress, None,
    )
    .await?;
    if let Some(fr) = r.files.last_mut() {
        if !lost {
            fr.note = Some(format!("unread tail of the rotated {}", path.display()));
        }
    }
    Ok((r, lost))
}

fn find_sibling(path: &Path, f: &FileState) -> Result<Option<(PathBuf, Stat, Vec<u8>)>> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(name) = path.file_name() else {
        return Ok(None);
    };
    let name = name.to_string_lossy().into_owned();
    let stem = name.split('.').next().unwrap_or(&name).to_owned();
    let mut by_content = None;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(None);
    };
    for entry in entries.filter_map(|e| e.ok()).take(MAX_SIBLINGS) {
        let p = entry.path();
        let n = entry.file_name().to_string_lossy().into_owned();
        if p == path || !n.starts_with(&stem) {
            continue;
        }
        let Ok(st) = stat(&p) else { continue };
        if !p.is_file() {
            continue;
        }
        if !st.gz && f.device == Some(st.dev) && f.inode == Some(st.ino) {
            // The old file itself: if it cannot be read, say so rather than retire its row
            // with its tail unread.
            let head = read_head(&p, HEAD_LEN).map_err(|e| io_err(&p, e))?;
            return Ok(Some((p, st, head)));
        }
        if by_content.is_none() {
            if let Some(h) = f.head_hash.as_deref() {
                let Ok(head) = read_head(&p, HEAD_LEN) else {
                    continue;
                };
                let len_ok = head_matches(h, &head).is_some_and(|len| len >= MIN_CONTENT_MATCH);
                if len_ok && !st.shorter_than(f.byte_offset) {
                    by_content = Some((p, st, head));
                }
            }
        }
    }
    Ok(by_content)
}

/// Reads a file from its row's offset to the end, committing each batch with its offset (each
/// commit on the condition that the row is still as `expected`). Returns the report and
/// whether another scanner moved the row first (then this one stopped reading the file).
#[allow(clippy::too_many_arguments)]
async fn read_file(
    w: &mut Writer<'_>,
    cx: &SourceCx<'_>,
    id: i64,
    mut f: FileState,
    mut expected: ls::Expected,
    new_row: bool,
    path: &Path,
    st: Stat,
    head: &[u8],
    prog: &mut Progress,
    progress: Option<&ProgressFn<'_>>,
    prefetched: Option<(&mut Prefetch, usize)>,
) -> Result<(ScanReport, bool)> {
    let mut report = ScanReport::default();
    let mut fr = FileReport {
        path: path.to_string_lossy().into_owned(),
        ..Default::default()
    };
    // The head only ever grows: re-hash the longer prefix now that continuity is established.
    if head.len()
        >= f.head_hash
            .as_deref()
            .and_then(|h| h.split_once(':')?.0.parse::<usize>().ok())
            .unwrap_or(0)
    {
        f.head_hash = head_hash(head);
    }
    let detected;
    let parser: &dyn LogFormat = match &cx.parser {
        Some(p) => p.as_ref(),
        None => {
            match detect_format_bytes(&read_head(path, DETECT_BYTES).map_err(|e| io_err(path, e))?)
            {
                Some(fmt) => {
                    detected = parser(fmt, &cx.source.options)?;
                    detected.as_ref()
                }
                None => {
                    fr.note = Some("format not recognised: give --format".into());
                    f.size_seen = st.size as i64;
                    let moved =
                        ls::advance_file(w.conn().await?, id, &expected, &f, None, cx.opts.now)
                            .await?;
                    if !moved {
                        fr.note = Some(LOST_RACE.into());
                    }
                    report.files.push(fr);
                    return Ok((report, !moved));
                }
            }
        }
    };
    fr.format = Some(parser.format());
    let memory_json = if new_row {
        None
    } else {
        ls::get_file_by_id(w.conn().await?, id)
            .await?
            .and_then(|(_, m)| m)
    };
    let mut memory: FileMemory = memory_json
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let mut batch = Batch::new(cx, id, st.mtime);

    if parser.is_document() {
        let cap = cx.opts.max_document;
        if !st.gz && st.size > cap {
            return Err(Error::LogFile {
                path: path.to_owned(),
                detail: format!("larger than {}: skipped", size_text(cap)),
            });
        }
        // Bounded by what it inflates to, not by its size on disk: a 1 MB .har.gz can hold
        // gigabytes.
        let mut doc = Vec::with_capacity(st.size.min(cap) as usize);
        open_at(path, 0)
            .and_then(|r| r.take(cap.saturating_add(1)).read_to_end(&mut doc))
            .map_err(|e| io_err(path, e))?;
        if doc.len() as u64 > cap {
            return Err(Error::LogFile {
                path: path.to_owned(),
                detail: format!("larger than {} decompressed: skipped", size_text(cap)),
            });
        }
        let complete = catch_unwind(AssertUnwindSafe(|| {
            let mut out = Vec::new();
            let complete = parser.parse_document(
                &doc,
                &mut ParseCx {
                    zone: cx.zone,
                    memory: &mut memory,
                },
                &mut out,
            );
            if complete {
                batch.add(out);
            }
            complete
        }))
        .map_err(|_| crashed(path))?;
        if !complete {
            fr.note = Some("not a complete document yet: will retry when it changes".into());
            report.files.push(fr);
            return Ok((report, false));
        }
        f.byte_offset = doc.len() as i64;
        f.size_seen = st.size as i64;
        fr.bytes_read = doc.len() as u64;
        let moved = batch
            .commit(w, &mut expected, &f, &memory, &mut report, &mut fr)
            .await?;
        if !moved {
            fr.note = Some(LOST_RACE.into());
            fr.bytes_read = 0;
        }
        prog.bytes_done += fr.bytes_read;
        w.batch_done(fr.bytes_read).await?;
        report.bytes_read += fr.bytes_read;
        report.files.push(fr);
        return Ok((report, !moved));
    }

    // Built once per source (an aho-corasick automaton is not free); per file only when the
    // format was detected for that file.
    let own_prefilter;
    let prefilter = match (&cx.prefilter, cx.parser.is_some()) {
        (Some(p), true) => p,
        _ => {
            own_prefilter =
                super::prefilter::Prefilter::new(parser.needles(), parser.needles_ignore_case());
            &own_prefilter
        }
    };
    let offset = f.byte_offset.max(0) as u64;
    // A file new to a backfill (a fresh row: offset 0, no parser memory) was read ahead from
    // its start on another thread; any other (a row another scanner made and read from) is
    // read here, from its offset.
    let mut ahead = prefetched.filter(|_| new_row);
    let mut inline = match ahead {
        Some(_) => None,
        None => Some(LineReader::open(
            path,
            offset,
            st,
            cx.opts,
            memory,
            std::mem::take(&mut *cx.buf.lock().unwrap_or_else(|e| e.into_inner())),
        )?),
    };
    let mut lost = false;
    let mut skipped = None;
    let mut last_memory: Option<FileMemory> = None;
    loop {
        let chunk = if let Some(r) = &mut inline {
            r.next(parser, prefilter, cx.zone)?
        } else if let Some((pf, i)) = &mut ahead {
            let got = pf.next(*i).await;
            match got {
                Some(c) => c?,
                None if cx.opts.cancelled() => break,
                // The thread stopped early: the rest is read here, from what was stored.
                None => {
                    inline = Some(LineReader::open(
                        path,
                        f.byte_offset.max(0) as u64,
                        st,
                        cx.opts,
                        last_memory.take().unwrap_or_default(),
                        Vec::new(),
                    )?);
                    continue;
                }
            }
        } else {
            break;
        };
        batch.add(chunk.records);
        let consumed = chunk.consumed;
        f.byte_offset = f.byte_offset.saturating_add(consumed as i64);
        // Only the last batch may say "seen at this size": a crash mid-file must not make the
        // rest look unchanged. At the end, an idle file (nothing new, or only a partial line)
        // is then a stat.
        f.size_seen = if chunk.eof && chunk.read_error.is_none() {
            st.size as i64
        } else {
            -1
        };
        if !batch
            .commit(w, &mut expected, &f, &chunk.memory, &mut report, &mut fr)
            .await?
        {
            fr.note = Some(LOST_RACE.into());
            lost = true;
            break;
        }
        skipped = chunk.skipped;
        last_memory = Some(chunk.memory);
        fr.bytes_read += consumed;
        prog.bytes_done += consumed;
        w.batch_done(consumed).await?;
        if consumed > 0 {
            if let Some(cb) = progress {
                cb(prog);
            }
        }
        if let Some(e) = chunk.read_error {
            return Err(io_err(path, e));
        }
        if chunk.eof || cx.opts.cancelled() {
            break;
        }
    }
    if let Some(r) = inline {
        *cx.buf.lock().unwrap_or_else(|e| e.into_inner()) = r.into_buf();
    }
    if let (Some((n, at)), false) = (skipped, lost) {
        fr.note.get_or_insert_with(|| {
            format!(
                "{n} line(s) longer than {} skipped unparsed (the first at byte {at})",
                size_text(cx.opts.max_line as u64)
            )
        });
    }
    report.bytes_read += fr.bytes_read;
    report.files.push(fr);
    Ok((report, lost))
}

// ---------------------------------------------------------------------------------------------
// Reading a line file in batches: the part of a scan that needs no database, so a backfill can
// run it ahead on the second core while the first one stores.

/// Lines of one batch, parsed, and how far they reach.
struct Chunk {
    records: Vec<Located>,
    /// Bytes this batch consumed: complete lines, and any over-long line skipped.
    consumed: u64,
    /// The end of the file (or a read error) was reached: this is the file's last batch.
    eof: bool,
    /// The read failed after the lines of this batch: reported once they are stored.
    read_error: Option<std::io::Error>,
    /// The parser's memory after this batch (stored with its offset).
    memory: FileMemory,
    /// Lines skipped so far as longer than a line may be, and the offset of the first.
    skipped: Option<(usize, u64)>,
}

/// Reads a line file from an offset, one batch of complete lines at a time, and parses them.
struct LineReader {
    path: PathBuf,
    reader: Box<dyn Read + Send>,
    buf: Vec<u8>,
    /// Where the next batch starts.
    offset: u64,
    /// Decompressed bytes read so far (a `.gz` stops at `inflate_cap`).
    inflated: u64,
    inflate_cap: Option<u64>,
    gz: bool,
    /// The offset of an over-long line being skipped up to its newline.
    skipping: Option<u64>,
    /// The read started in the middle of a line (the previous scan stopped in an over-long one).
    continued: bool,
    /// `buf[..searched_to]` is known to hold no newline: each byte is searched once, however
    /// long the line (searching the whole buffer again after every read is quadratic in it).
    searched_to: usize,
    skipped_lines: usize,
    first_skipped: Option<u64>,
    batch_bytes: usize,
    max_line: usize,
    memory: FileMemory,
}

impl LineReader {
    /// Opens `path` at `offset` (decompressed, for a `.gz`); `buf` is a buffer to reuse.
    fn open(
        path: &Path,
        offset: u64,
        st: Stat,
        opts: &ScanOptions,
        memory: FileMemory,
        mut buf: Vec<u8>,
    ) -> Result<Self> {
        // Offsets in a .gz count decompressed bytes: a gzip bomb stops at the cap.
        let inflate_cap = st
            .gz
            .then(|| opts.max_inflated.max(st.size.saturating_mul(GZ_RATIO)));
        if let Some(cap) = inflate_cap.filter(|cap| offset > *cap) {
            return Err(over_cap(path, cap, offset));
        }
        // A scan that starts where the previous one stopped in the middle of a line (not after
        // a newline) goes on skipping it.
        let mut skipping = None;
        let mut continued = false;
        let reader = if offset > 0 {
            let mut r = open_at(path, offset - 1).map_err(|e| io_err(path, e))?;
            let mut before = [0u8; 1];
            r.read_exact(&mut before).map_err(|e| io_err(path, e))?;
            if before[0] != b'\n' {
                skipping = Some(offset);
                continued = true;
            }
            r
        } else {
            open_at(path, 0).map_err(|e| io_err(path, e))?
        };
        buf.clear();
        Ok(LineReader {
            path: path.to_owned(),
            reader,
            buf,
            offset,
            inflated: offset,
            inflate_cap,
            gz: st.gz,
            skipping,
            continued,
            searched_to: 0,
            skipped_lines: 0,
            first_skipped: None,
            batch_bytes: opts.batch_bytes,
            max_line: opts.max_line,
            memory,
        })
    }

    /// The next batch: reads until it holds a complete line (or an over-long line to skip, or
    /// the end), and parses its lines.
    fn next(&mut self, parser: &dyn LogFormat, prefilter: &Prefilter, zone: Tz) -> Result<Chunk> {
        loop {
            let want = self
                .batch_bytes
                .saturating_sub(self.buf.len())
                .max(64 * 1024);
            let had = self.buf.len();
            // A read that fails (a .gz cut mid-stream) still stores the complete lines before
            // the failure, then reports it.
            let read = (&mut self.reader)
                .take(want as u64)
                .read_to_end(&mut self.buf);
            let n = self.buf.len() - had;
            let eof = n < want || read.is_err();
            self.inflated += n as u64;
            if let Some(cap) = self.inflate_cap.filter(|cap| self.inflated > *cap) {
                return Err(over_cap(&self.path, cap, self.offset));
            }
            // A rotated .gz file is final, so its last line needs no newline (unless it is cut).
            let final_line = eof && self.gz && read.is_ok();
            let buf = &self.buf;
            // 1. The rest of an over-long line: dropped up to and including its newline.
            let mut start = 0;
            if let Some(at) = self.skipping {
                match memchr::memchr(b'\n', buf) {
                    Some(i) => {
                        start = i + 1;
                        self.skipping = None;
                    }
                    None => {
                        start = buf.len();
                        if final_line {
                            self.skipping = None;
                        }
                    }
                }
                if self.continued && start > 0 {
                    self.skipped_lines += 1;
                    self.first_skipped.get_or_insert(at);
                }
                self.continued = false;
                self.searched_to = start;
            }
            // 2. Complete lines after it.
            let from = start.max(self.searched_to);
            #[cfg(test)]
            SEARCHED.with(|c| c.set(c.get() + (buf.len() - from) as u64));
            let mut complete = match memchr::memrchr(b'\n', &buf[from..]) {
                Some(i) => from + i + 1,
                None => start,
            };
            if final_line {
                complete = buf.len();
            }
            // 3. A partial line already longer than a line may be: skip it up to its newline.
            let mut consumed = complete;
            if buf.len() - complete > self.max_line {
                self.skipping = Some(self.offset + complete as u64);
                self.skipped_lines += 1;
                self.first_skipped
                    .get_or_insert(self.offset + complete as u64);
                consumed = buf.len();
            }
            let mut records = Vec::new();
            if complete > start {
                let base = self.offset + start as u64;
                let lines = &buf[start..complete];
                let (max_line, memory) = (self.max_line, &mut self.memory);
                let (skipped, first) = (&mut self.skipped_lines, &mut self.first_skipped);
                let parsed = catch_unwind(AssertUnwindSafe(|| {
                    let mut pcx = ParseCx { zone, memory };
                    prefilter.for_each_line(lines, |at, line| {
                        let at = base + at as u64;
                        #[cfg(test)]
                        if PANIC_ON
                            .with(|p| p.get())
                            .is_some_and(|n| memchr::memmem::find(line, n).is_some())
                        {
                            panic!("planted: {}", String::from_utf8_lossy(line));
                        }
                        if line.len() > max_line {
                            *skipped += 1;
                            first.get_or_insert(at);
                        } else {
                            parser.parse_line(line, at, &mut pcx, &mut records);
                        }
                    });
                }));
                if parsed.is_err() {
                    return Err(crashed(&self.path));
                }
            }
            if consumed > 0 {
                self.buf.drain(..consumed);
                self.offset += consumed as u64;
            }
            self.searched_to = self.buf.len();
            if consumed > 0 || eof {
                return Ok(Chunk {
                    records,
                    consumed: consumed as u64,
                    eof,
                    read_error: read.err(),
                    memory: self.memory.clone(),
                    skipped: self.first_skipped.map(|at| (self.skipped_lines, at)),
                });
            }
        }
    }

    fn into_buf(mut self) -> Vec<u8> {
        self.buf.clear();
        self.buf
    }
}

fn over_cap(path: &Path, cap: u64, offset: u64) -> Error {
    Error::LogFile {
        path: path.to_owned(),
        detail: format!(
            "it inflates to more than {}: read up to byte {offset}, the rest skipped",
            size_text(cap)
        ),
    }
}

/// A backfill's files read and parsed ahead, in scan order, on a thread of their own.
struct Prefetch {
    rx: tokio::sync::mpsc::Receiver<(usize, Result<Chunk>)>,
    /// A chunk received for a file later than the one asked for.
    ahead: Option<(usize, Result<Chunk>)>,
    budget: Arc<Budget>,
    thread: Option<std::thread::JoinHandle<u64>>,
}

/// Chunks a prefetch thread may hold ready. A small file is one chunk: the thread must be able
/// to run many files ahead while the store commits (with 4, it waited on the store for most
/// of a corpus of small files).
const PREFETCH_CHUNKS: usize = 64;

/// Parsed records a prefetch thread may hold ready over its chunks (a chunk of 8 MiB of short
/// lines can hold 100k): what bounds its memory. A chunk is always let through when none is
/// held, however large.
const PREFETCH_RECORDS: usize = 16_384;

/// Records held between a prefetch thread and the scan: the thread waits while the scan has
/// not taken enough of them.
#[derive(Default)]
struct Budget {
    /// Records held, and whether the scan stopped taking them.
    state: std::sync::Mutex<(usize, bool)>,
    taken: std::sync::Condvar,
}

impl Budget {
    /// Waits until `n` more records may be held; `false` when the scan stopped.
    fn hold(&self, n: usize, cap: usize) -> bool {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        while st.0 > 0 && st.0.saturating_add(n) > cap && !st.1 {
            st = self.taken.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        st.0 = st.0.saturating_add(n);
        !st.1
    }

    fn release(&self, n: usize) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        debug_assert!(st.0 >= n, "records released that were never held");
        st.0 = st.0.saturating_sub(n);
        self.taken.notify_one();
    }

    fn close(&self) {
        self.state.lock().unwrap_or_else(|e| e.into_inner()).1 = true;
        self.taken.notify_one();
    }
}

/// What a chunk counts against its budget: its parsed records (an error holds none).
fn records_in(c: &Result<Chunk>) -> usize {
    c.as_ref().map_or(0, |c| c.records.len())
}

impl Prefetch {
    /// Starts reading `files` from their start. `None` when the thread cannot be started (the
    /// scan then reads inline).
    fn start(
        files: Vec<(PathBuf, Stat)>,
        parser: Box<dyn LogFormat>,
        zone: Tz,
        opts: &ScanOptions,
    ) -> Option<Prefetch> {
        let (tx, rx) = tokio::sync::mpsc::channel(PREFETCH_CHUNKS);
        let prefilter = Prefilter::new(parser.needles(), parser.needles_ignore_case());
        let opts = opts.clone();
        let budget = Arc::new(Budget::default());
        let held = budget.clone();
        #[cfg(test)]
        let panic_on = PANIC_ON.with(|p| p.get());
        let thread = std::thread::Builder::new()
            .name("cliffwatch-scan".into())
            .spawn(move || {
                #[cfg(test)]
                PANIC_ON.with(|p| p.set(panic_on));
                let mut buf = Vec::new();
                'files: for (i, (path, st)) in files.into_iter().enumerate() {
                    let mut r =
                        match LineReader::open(&path, 0, st, &opts, FileMemory::default(), buf) {
                            Ok(r) => r,
                            Err(e) => {
                                buf = Vec::new();
                                if tx.blocking_send((i, Err(e))).is_err() {
                                    break;
                                }
                                continue;
                            }
                        };
                    loop {
                        if opts.cancelled() {
                            break 'files;
                        }
                        let c = r.next(parser.as_ref(), &prefilter, zone);
                        let last = c.as_ref().map_or(true, |c| c.eof);
                        if !held.hold(records_in(&c), PREFETCH_RECORDS)
                            || tx.blocking_send((i, c)).is_err()
                        {
                            break 'files;
                        }
                        if last {
                            break;
                        }
                    }
                    buf = r.into_buf();
                }
                #[cfg(test)]
                return SEARCHED.with(|c| c.get());
                #[cfg(not(test))]
                0
            })
            .ok()?;
        Some(Prefetch {
            rx,
            ahead: None,
            budget,
            thread: Some(thread),
        })
    }

    /// The next chunk of file `i`; `None` when the thread has nothing more for it (it stopped,
    /// or the chunks of `i` were all taken).
    async fn next(&mut self, i: usize) -> Option<Result<Chunk>> {
        loop {
            let (j, c) = match self.ahead.take() {
                Some(x) => x,
                None => {
                    let (j, c) = self.rx.recv().await?;
                    self.budget.release(records_in(&c));
                    (j, c)
                }
            };
            match j.cmp(&i) {
                std::cmp::Ordering::Less => continue,
                std::cmp::Ordering::Equal => return Some(c),
                std::cmp::Ordering::Greater => {
                    self.ahead = Some((j, c));
                    return None;
                }
            }
        }
    }
}

#[cfg(test)]
impl Prefetch {
    /// Parsed records held for the scan.
    fn held(&self) -> usize {
        self.budget
            .state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
    }
}

/// Stops the thread and waits for it.
impl Drop for Prefetch {
    fn drop(&mut self) {
        self.budget.close();
        self.rx.close();
        while self.rx.try_recv().is_ok() {}
        if let Some(t) = self.thread.take() {
            let _searched = t.join();
            #[cfg(test)]
            if let Ok(n) = _searched {
                SEARCHED.with(|c| c.set(c.get() + n));
            }
        }
    }
}

/// Batches' worth of bytes read per transaction during a backfill, over files (32 MiB with
/// the default batch): committing after each file's batch made a corpus of many small files
/// cost one transaction, its WAL pages and a dozen thread hand-offs per file.
const TX_BATCHES: u64 = 4;

/// The longest a scan's transaction stays open: the app's other writers (polls, alerts) wait
/// for it, up to the store's busy timeout.
const TX_TIME: std::time::Duration = std::time::Duration::from_millis(250);

/// The scan's connection and its write transaction. Every read that decides a write and every
/// write of a scan go through it, so a transaction may hold several files' batches, each with
/// its offset: a crash still loses or repeats nothing, as an offset is committed with the rows
/// it produced. The transaction is committed once it holds [`TX_BATCHES`] batches' bytes or has
/// been open for [`TX_TIME`], and at the end of the scan; an error drops it (rolled back,
/// nothing stored).
struct Writer<'p> {
    pool: &'p SqlitePool,
    opts: &'p ScanOptions,
    tx: Option<sqlx::Transaction<'static, sqlx::Sqlite>>,
    opened: std::time::Instant,
    bytes: u64,
    /// Usage of the transaction's batches, merged by dedupe key (a resumed Claude Code session
    /// repeats its messages in a new file) and written in few statements before the commit.
    usage: HashMap<String, UsageRecord>,
}

impl<'p> Writer<'p> {
    fn new(pool: &'p SqlitePool, opts: &'p ScanOptions) -> Self {
        Writer {
            pool,
            opts,
            tx: None,
            opened: std::time::Instant::now(),
            bytes: 0,
            usage: HashMap::new(),
        }
    }

    /// Usage read into the open transaction, written with it.
    async fn usage(&mut self, records: impl Iterator<Item = (String, UsageRecord)>) -> Result<()> {
        for (key, r) in records {
            keep_largest(&mut self.usage, key, r);
        }
        if self.usage.len() >= MAX_PENDING_USAGE {
            self.write_usage().await?;
        }
        Ok(())
    }

    async fn write_usage(&mut self) -> Result<()> {
        if self.usage.is_empty() {
            return Ok(());
        }
        let records: Vec<UsageRecord> = self.usage.drain().map(|(_, v)| v).collect();
        usage_records::upsert_many(self.conn().await?, records).await
    }

    /// The transaction's connection (a transaction is begun, with the write lock, if none is
    /// open).
    async fn conn(&mut self) -> Result<&mut sqlx::SqliteConnection> {
        let tx = match &mut self.tx {
            Some(tx) => tx,
            none => {
                self.opened = std::time::Instant::now();
                self.bytes = 0;
                none.insert(crate::db::begin_write(self.pool).await?)
            }
        };
        Ok(&mut **tx)
    }

    /// After a batch of `bytes`: commits when the transaction is full or old enough.
    async fn batch_done(&mut self, bytes: u64) -> Result<()> {
        self.bytes += bytes;
        let full = self.bytes >= TX_BATCHES.saturating_mul(self.opts.batch_bytes as u64);
        if self.tx.is_some() && (full || self.opened.elapsed() >= TX_TIME) {
            self.commit().await?;
        }
        Ok(())
    }

    /// Commits the open transaction, if any.
    async fn commit(&mut self) -> Result<()> {
        self.write_usage().await?;
        if let Some(tx) = self.tx.take() {
            tx.commit().await?;
            #[cfg(test)]
            if let Some(hook) = &self.opts.after_commit {
                (hook.0)();
            }
        }
        Ok(())
    }
}

/// Usage records a writer keeps before writing them (within its transaction).
const MAX_PENDING_USAGE: usize = 8192;

/// One record per dedupe key with the largest usage seen, as `usage_records::upsert_many`
/// keeps in the store.
fn keep_largest(map: &mut HashMap<String, UsageRecord>, key: String, rec: UsageRecord) {
    match map.entry(key) {
        std::collections::hash_map::Entry::Occupied(mut e) => {
            let e = e.get_mut();
            e.input_tokens = e.input_tokens.max(rec.input_tokens);
            e.output_tokens = e.output_tokens.max(rec.output_tokens);
            e.cache_creation_tokens = e.cache_creation_tokens.max(rec.cache_creation_tokens);
            e.cache_read_tokens = e.cache_read_tokens.max(rec.cache_read_tokens);
            e.reasoning_tokens = e.reasoning_tokens.max(rec.reasoning_tokens);
            e.cost = match (e.cost, rec.cost) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
        }
        std::collections::hash_map::Entry::Vacant(v) => {
            v.insert(rec);
        }
    }
}

/// Records of one batch, turned into rows and committed with the offset.
struct Batch<'a> {
    cx: &'a SourceCx<'a>,
    file_id: i64,
    fallback_time: DateTime<Utc>,
    events: Vec<CliffEvent>,
    usage: HashMap<String, UsageRecord>,
    rate_limits: Vec<RateLimit>,
}

impl<'a> Batch<'a> {
    fn new(cx: &'a SourceCx<'a>, file_id: i64, fallback_time: DateTime<Utc>) -> Self {
        Batch {
            cx,
            file_id,
            fallback_time,
            events: Vec::new(),
            usage: HashMap::new(),
            rate_limits: Vec::new(),
        }
    }

    fn add(&mut self, records: Vec<Located>) {
        let source: &LogSource = self.cx.source;
        for Located { offset, record } in records {
            let event = match record {
                Record::Request(r) => {
                    let seen = request_seen(&r, self.fallback_time);
                    if let Some(spend) = seen.spend {
                        self.spend(spend, offset);
                    }
                    seen.event
                }
                Record::AgentError(e) => Some(agent_event(&e, self.fallback_time)),
                Record::RateLimit(r) => {
                    self.rate_limits.push(r);
                    None
                }
                Record::Usage(u) => {
                    let cost = u.logged_cost.or_else(|| self.cx.opts.prices.cost(&u));
                    let key = u
                        .key
                        .unwrap_or_else(|| format!("file:{}:{offset}", self.file_id));
                    let rec = UsageRecord {
                        account_id: source.account_id,
                        source_id: Some(LogSourceId(source.id.0)),
                        occurred_at: u.time.unwrap_or(self.fallback_time),
                        provider: u.provider.to_owned(),
                        model: u.model,
                        input_tokens: u.input_tokens,
                        output_tokens: u.output_tokens,
                        cache_creation_tokens: u.cache_creation_tokens,
                        cache_read_tokens: u.cache_read_tokens,
                        reasoning_tokens: u.reasoning_tokens,
                        currency: cost.map(|_| self.cx.opts.prices.currency.clone()),
                        cost,
                        host: None,
                        protocol: None,
                        dedupe_key: key.clone(),
                    };
                    keep_largest(&mut self.usage, key, rec);
                    None
                }
            };
            if let Some(mut e) = event {
                e.account_id = source.account_id;
                if e.provider.is_none() {
                    e.provider = self.cx.account_provider.clone();
                }
                e.log_file_id = Some(self.file_id);
                e.byte_offset = Some(offset as i64);
                self.events.push(e);
            }
        }
    }

    /// A paid answer as a usage record: the amount in its asset, where and how it was paid. A
    /// settlement's transaction names the payment wherever it is logged (the same payment in a
    /// HAR and in Caddy's log is one record); else the file and offset do.
    fn spend(&mut self, s: super::Spend, offset: u64) {
        let source: &LogSource = self.cx.source;
        let rec = s.usage_record(
            source.account_id,
            Some(LogSourceId(source.id.0)),
            self.cx.account_provider.clone(),
            format!("file:{}:{offset}", self.file_id),
        );
        let key = rec.dedupe_key.clone();
        self.usage.entry(key).or_insert(rec);
    }

    /// The batch's events, its usage, and the file state that produced them, written in the
    /// writer's transaction on the condition that the file's row is still as `expected` (then
    /// `expected` becomes `f`). `false`: another scanner moved the row first, and nothing of
    /// this batch was written.
    async fn commit(
        &mut self,
        w: &mut Writer<'_>,
        expected: &mut ls::Expected,
        f: &FileState,
        memory: &FileMemory,
        report: &mut ScanReport,
        fr: &mut FileReport,
    ) -> Result<bool> {
        let memory_json = (*memory != FileMemory::default())
            .then(|| serde_json::to_string(memory))
            .transpose()
            .map_err(|e| Error::Malformed(format!("parser memory: {e}")))?;
        let tx = w.conn().await?;
        // First: a scanner that lost the race (the app and the CLI at once) stores nothing of
        // this batch; the write lock is held from the transaction's start to its commit.
        if !ls::advance_file(
            &mut *tx,
            self.file_id,
            expected,
            f,
            memory_json.as_deref(),
            self.cx.opts.now,
        )
        .await?
        {
            self.events.clear();
            self.usage.clear();
            self.rate_limits.clear();
            return Ok(false);
        }
        let mut stored = Vec::new();
        for e in self.events.drain(..) {
            if let Some(id) = cliff_events::insert(&mut *tx, &e).await? {
                let mut e = e;
                e.id = Some(id);
                stored.push(e);
            }
        }
        let usage = self.usage.len();
        w.usage(self.usage.drain()).await?;
        *expected = ls::Expected {
            byte_offset: f.byte_offset,
            path: f.path.clone(),
        };
        fr.events += stored.len();
        fr.usage_records += usage;
        report.events_new += stored.len();
        report.usage_records += usage;
        let room = MAX_REPORTED_EVENTS.saturating_sub(report.events.len());
        report.events.extend(stored.into_iter().take(room));
        report.rate_limits.append(&mut self.rate_limits);
        Ok(true)
    }
}

#[cfg(test)]
mod prefetch_tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn a_budget_admits_one_chunk_of_any_size_then_waits_for_the_scan() {
        let b = Arc::new(Budget::default());
        assert!(b.hold(100, 10), "nothing held: let through however large");
        let (tx, rx) = mpsc::channel();
        let b2 = b.clone();
        let t = std::thread::spawn(move || tx.send(b2.hold(1, 10)).unwrap());
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "over the budget: waits"
        );
        b.release(100);
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok(true),
            "room made: let through"
        );
        t.join().unwrap();
        b.release(1);
        // A thread waiting when the scan stops is let go, and told so.
        assert!(b.hold(100, 10), "nothing held again: let through");
        let (tx, rx) = mpsc::channel();
        let b2 = b.clone();
        let t = std::thread::spawn(move || tx.send(b2.hold(1, 10)).unwrap());
        assert!(
            rx.recv_timeout(Duration::from_millis(100)).is_err(),
            "over the budget: waits"
        );
        b.close();
        assert_eq!(
            rx.recv_timeout(Duration::from_secs(10)),
            Ok(false),
            "the scan stopped: let go, and told so"
        );
        t.join().unwrap();
    }

    /// A read-ahead thread that is not being taken from holds at most its budget of parsed
    /// records (plus one chunk), and what it held is all there once the scan takes it.
    #[tokio::test]
    async fn a_read_ahead_holds_at_most_its_budget_and_loses_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let (files, per_file) = (30, 1000);
        let mut paths = Vec::new();
        for f in 0..files {
            let mut text = String::new();
            for i in 0..per_file {
                text.push_str(&format!(
                    "10.0.0.1 - - [21/Nov/2026:10:{:02}:{:02} +0000] \"GET /r{f}-{i} HTTP/1.1\" 402 12 \"-\" \"bot\"\n",
                    (i / 60) % 60,
                    i % 60
                ));
            }
            let p = tmp.path().join(format!("{f:02}.log"));
            std::fs::write(&p, text).unwrap();
            let st = stat(&p).unwrap();
            paths.push((p, st));
        }
        assert!(files * per_file > PREFETCH_RECORDS, "the budget must bind");
        let opts = ScanOptions::new(
            super::super::test_support::fixed_time(),
            Arc::new(super::super::prices::PriceTable::shipped()),
        );
        let parser = parser(Format::Combined, &serde_json::Value::Null).unwrap();
        let mut pf = Prefetch::start(paths, parser, Tz::UTC, &opts).unwrap();
        // Each file is one chunk of `per_file` records: the thread stops once the next would
        // take it over its budget, and stays there while nothing is taken.
        let full = PREFETCH_RECORDS / per_file * per_file;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while pf.held() < full && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(pf.held(), full, "the read-ahead fills its budget");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(
            pf.held(),
            full,
            "and goes no further while nothing is taken"
        );
        let got = tokio::time::timeout(Duration::from_secs(60), async {
            let mut got = 0;
            for i in 0..files {
                while let Some(c) = pf.next(i).await {
                    let c = c.unwrap();
                    got += c.records.len();
                    if c.eof {
                        break;
                    }
                }
            }
            got
        })
        .await
        .expect("taking the chunks makes room for the rest");
        assert_eq!(got, files * per_file, "every record is read once");
        assert_eq!(pf.held(), 0, "all taken: nothing held");
    }
}
