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

use super::prices::PriceTable;
use super::{
    agent_event, detect_format_bytes, parser, request_event, FileMemory, Format, Located,
    LogFormat, ParseCx, RateLimit, Record,
};
use crate::db::log_sources::{self as ls, FileState};
use crate::db::{cliff_events, usage_records};
use crate::model::{AccountId, CliffEvent, LogSource, LogSourceId, UsageRecord};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::SqlitePool;
use std::collections::HashMap;
use std::io::{Read, Seek, SeekFrom};
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

/// The longest line buffered while waiting for its newline (Claude Code tool results reach
/// several MiB).
const MAX_LINE: usize = 64 << 20;

/// Whole-document formats (HAR) larger than this are skipped with a note.
const MAX_DOCUMENT: u64 = 512 << 20;

/// New events kept in a [`ScanReport`] for printing; the count goes on past it.
const MAX_REPORTED_EVENTS: usize = 10_000;

/// Bytes looked at to detect a file's format (several lines of a long-lined JSON log).
const DETECT_BYTES: usize = 64 * 1024;

/// Rotated siblings looked at when a file's old self must be found.
const MAX_SIBLINGS: usize = 1000;

/// Backfill progress of one source, reported after every committed batch (the dashboard draws
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
    /// Set from elsewhere to stop the scan after the batch in progress (each batch is one
    /// transaction with its offset, so stopping between batches loses and repeats nothing).
    pub cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl ScanOptions {
    pub fn new(now: DateTime<Utc>, prices: Arc<PriceTable>) -> Self {
        ScanOptions {
            format: None,
            batch_bytes: DEFAULT_BATCH_BYTES,
            now,
            prices,
            cancel: None,
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
}

impl ScanReport {
    fn absorb(&mut self, other: ScanReport) {
        self.files.extend(other.files);
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
        report.absorb(scan_source(cw.pool(), &s, &opts, progress).await?);
    }
    Ok(report)
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
    gz: bool,
}

impl Stat {
    /// Whether the file holds fewer bytes than `offset` (a truncation). Offsets in a `.gz` count
    /// decompressed bytes, which its size on disk cannot tell.
    fn shorter_than(&self, offset: i64) -> bool {
        !self.gz && self.size < offset.max(0) as u64
    }
}

fn stat(path: &Path) -> std::io::Result<Stat> {
    let m = std::fs::metadata(path)?;
    #[cfg(unix)]
    let (dev, ino) = {
        use std::os::unix::fs::MetadataExt;
        (m.dev() as i64, m.ino() as i64)
    };
    #[cfg(not(unix))]
    let (dev, ino) = (0i64, 0i64);
    let mtime = m
        .modified()
        .ok()
        .map(DateTime::<Utc>::from)
        .unwrap_or_default();
    Ok(Stat {
        dev,
        ino,
        size: m.len(),
        mtime,
        gz: is_gz(path),
    })
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
    let paths = glob::glob(&pattern)
        .map_err(|e| Error::InvalidInput(format!("`{}` is not a valid glob: {e}", source.pattern)))?
        .filter_map(std::result::Result::ok)
        .filter(|p| p.is_file());
    for path in paths {
        let Ok(st) = stat(&path) else { continue };
        let path_s = path.to_string_lossy().into_owned();
        let row = ls::get_file(pool, source.id, &path_s).await?;
        let pending = match &row {
            Some((_, f))
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
            Some((_, f)) => st.size.saturating_sub(f.byte_offset.max(0) as u64),
            None => st.size,
        };
        todo.push(Pending {
            path,
            stat: st,
            pending,
            row,
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
    for p in todo {
        if opts.cancelled() {
            break;
        }
        prog.path = p.path.to_string_lossy().into_owned();
        let r = scan_file(pool, &cx, &p.path, p.stat, p.row, &mut prog, progress).await?;
        report.absorb(r);
        prog.files_done += 1;
        if let Some(f) = progress {
            f(&prog);
        }
    }
    Ok(report)
}

/// One file: find (or make) its row, follow a rotation, then read what is new.
async fn scan_file(
    pool: &SqlitePool,
    cx: &SourceCx<'_>,
    path: &Path,
    st: Stat,
    existing: Option<(i64, FileState)>,
    prog: &mut Progress,
    progress: Option<&ProgressFn<'_>>,
) -> Result<ScanReport> {
    let mut report = ScanReport::default();
    let path_s = path.to_string_lossy().into_owned();
    let head = read_head(path, HEAD_LEN).map_err(|e| io_err(path, e))?;
    let mut note = None;
    let mut new_row = false;
    // The pre-pass row may be stale: following a rotation earlier in this scan can have moved a
    // row to this path. Only a source with rows can have rotations to follow.
    let existing = if cx.had_rows {
        ls::get_file(pool, cx.source.id, &path_s).await?
    } else {
        existing
    };

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
            report.absorb(follow_old_file(pool, cx, path, id, f, prog, progress).await?);
        }
    }
    let row = match row {
        Some(r) => r,
        None => match if cx.had_rows {
            adopt(pool, cx, path, &st, &head).await?
        } else {
            None
        } {
            Some(r) => {
                note.get_or_insert("rotated: continued where the old name left off");
                r
            }
            None => {
                let f = FileState {
                    source_id: cx.source.id,
                    path: path_s.clone(),
                    device: Some(st.dev),
                    inode: Some(st.ino),
                    head_hash: None,
                    byte_offset: 0,
                    size_seen: -1,
                };
                new_row = true;
                (ls::upsert_file(pool, &f, cx.opts.now).await?, f)
            }
        },
    };
    let (id, mut f) = row;
    f.path = path_s.clone();
    f.device = Some(st.dev);
    f.inode = Some(st.ino);
    let mut r = read_file(pool, cx, id, f, new_row, path, st, &head, prog, progress).await?;
    if let Some(n) = note {
        if let Some(fr) = r.files.last_mut() {
            fr.note.get_or_insert_with(|| n.to_owned());
        }
    }
    report.absorb(r);
    Ok(report)
}

fn io_err(path: &Path, e: std::io::Error) -> Error {
    Error::InvalidInput(format!("cannot read {}: {e}", path.display()))
}

/// A row of this source that is this file under an older name (renamed, copied, compressed),
/// and whose own file is gone from where the row says.
async fn adopt(
    pool: &SqlitePool,
    cx: &SourceCx<'_>,
    path: &Path,
    st: &Stat,
    head: &[u8],
) -> Result<Option<(i64, FileState)>> {
    let path_s = path.to_string_lossy();
    let hh = head_hash(head);
    let cands = ls::identity_candidates(
        pool,
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
        return Ok(Some((id, f)));
    }
    Ok(None)
}

/// The file a row was reading is no longer at its path. Look for it beside (renamed by
/// rotation, or copied by copytruncate, maybe compressed), read its unread tail there, and move
/// the row to that name (or retire it when the source's pattern does not cover that name or
/// the old file cannot be found).
async fn follow_old_file(
    pool: &SqlitePool,
    cx: &SourceCx<'_>,
    path: &Path,
    id: i64,
    f: FileState,
    prog: &mut Progress,
    progress: Option<&ProgressFn<'_>>,
) -> Result<ScanReport> {
    let found = find_sibling(path, &f);
    let Some((q, qst, qhead)) = found else {
        ls::retire_file(pool, id, cx.opts.now).await?;
        return Ok(ScanReport::default());
    };
    let q_s = q.to_string_lossy().into_owned();
    let target =
        if cx.glob.matches_path(&q) && ls::file_id(pool, cx.source.id, &q_s).await?.is_none() {
            q_s
        } else {
            format!("{}\0retired:{id}", f.path)
        };
    let mut moved = f;
    moved.path = target;
    moved.device = Some(qst.dev);
    moved.inode = Some(qst.ino);
    let mut r = read_file(pool, cx, id, moved, false, &q, qst, &qhead, prog, progress).await?;
    if let Some(fr) = r.files.last_mut() {
        fr.note = Some(format!("unread tail of the rotated {}", path.display()));
    }
    Ok(r)
}

fn find_sibling(path: &Path, f: &FileState) -> Option<(PathBuf, Stat, Vec<u8>)> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name()?.to_string_lossy().into_owned();
    let stem = name.split('.').next().unwrap_or(&name).to_owned();
    let mut by_content = None;
    for entry in std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok())
        .take(MAX_SIBLINGS)
    {
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
            let head = read_head(&p, HEAD_LEN).ok()?;
            return Some((p, st, head));
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
    by_content
}

/// Reads a file from its row's offset to the end, committing each batch with its offset.
#[allow(clippy::too_many_arguments)]
async fn read_file(
    pool: &SqlitePool,
    cx: &SourceCx<'_>,
    id: i64,
    mut f: FileState,
    new_row: bool,
    path: &Path,
    st: Stat,
    head: &[u8],
    prog: &mut Progress,
    progress: Option<&ProgressFn<'_>>,
) -> Result<ScanReport> {
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
                    ls::update_file(pool, id, &f, None, cx.opts.now).await?;
                    report.files.push(fr);
                    return Ok(report);
                }
            }
        }
    };
    fr.format = Some(parser.format());
    let memory_json = if new_row {
        None
    } else {
        ls::get_file_by_id(pool, id).await?.and_then(|(_, m)| m)
    };
    let mut memory: FileMemory = memory_json
        .as_deref()
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    let mut batch = Batch::new(cx, id, st.mtime);

    if parser.is_document() {
        if st.size > MAX_DOCUMENT {
            fr.note = Some(format!("larger than {} MiB: skipped", MAX_DOCUMENT >> 20));
            report.files.push(fr);
            return Ok(report);
        }
        let mut doc = Vec::with_capacity(st.size as usize);
        open_at(path, 0)
            .and_then(|mut r| r.read_to_end(&mut doc))
            .map_err(|e| io_err(path, e))?;
        let mut out = Vec::new();
        let complete = parser.parse_document(
            &doc,
            &mut ParseCx {
                zone: cx.zone,
                memory: &mut memory,
            },
            &mut out,
        );
        if !complete {
            fr.note = Some("not a complete document yet: will retry when it changes".into());
            report.files.push(fr);
            return Ok(report);
        }
        batch.add(out);
        f.byte_offset = doc.len() as i64;
        f.size_seen = st.size as i64;
        fr.bytes_read = doc.len() as u64;
        batch
            .commit(pool, &f, &memory, &mut report, &mut fr)
            .await?;
        prog.bytes_done += fr.bytes_read;
        report.bytes_read += fr.bytes_read;
        report.files.push(fr);
        return Ok(report);
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
    let mut offset = f.byte_offset.max(0) as u64;
    let mut reader = open_at(path, offset).map_err(|e| io_err(path, e))?;
    // One buffer per scan, reused file after file: a fresh 8 MiB allocation per file would
    // page-fault its way through every file's bytes again.
    let mut buf = std::mem::take(&mut *cx.buf.lock().unwrap_or_else(|e| e.into_inner()));
    buf.clear();
    loop {
        let want = cx.opts.batch_bytes.saturating_sub(buf.len()).max(64 * 1024);
        let n = (&mut reader)
            .take(want as u64)
            .read_to_end(&mut buf)
            .map_err(|e| io_err(path, e))?;
        let eof = n < want;
        // Complete lines only; a rotated .gz file is final, so its last line needs no newline.
        let complete = match memchr::memrchr(b'\n', &buf) {
            Some(i) => i + 1,
            // A "line" this long is not a log line (a binary file): take it as one and move on
            // rather than buffer without bound.
            None if buf.len() >= MAX_LINE => buf.len(),
            None if eof && st.gz => buf.len(),
            None => 0,
        };
        let complete = if eof && st.gz { buf.len() } else { complete };
        if complete > 0 {
            let mut out = Vec::new();
            let mut pcx = ParseCx {
                zone: cx.zone,
                memory: &mut memory,
            };
            prefilter.for_each_line(&buf[..complete], |start, line| {
                parser.parse_line(line, offset + start as u64, &mut pcx, &mut out);
            });
            batch.add(out);
            offset += complete as u64;
            f.byte_offset = offset as i64;
            // Only the last batch may say "seen at this size": a crash mid-file must not make
            // the rest look unchanged.
            f.size_seen = if eof { st.size as i64 } else { -1 };
            batch
                .commit(pool, &f, &memory, &mut report, &mut fr)
                .await?;
            buf.drain(..complete);
            fr.bytes_read += complete as u64;
            prog.bytes_done += complete as u64;
            if let Some(cb) = progress {
                cb(prog);
            }
        } else if eof {
            // Nothing new, or only a partial line: remember the size so an idle file is a stat.
            f.size_seen = st.size as i64;
            batch
                .commit(pool, &f, &memory, &mut report, &mut fr)
                .await?;
        }
        if eof || cx.opts.cancelled() {
            break;
        }
    }
    buf.clear();
    *cx.buf.lock().unwrap_or_else(|e| e.into_inner()) = buf;
    report.bytes_read += fr.bytes_read;
    report.files.push(fr);
    Ok(report)
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
                Record::Request(r) => request_event(&r, self.fallback_time),
                Record::AgentError(e) => Some(agent_event(&e, self.fallback_time)),
                Record::RateLimit(r) => {
                    self.rate_limits.push(r);
                    None
                }
                Record::Usage(u) => {
                    let cost = u.logged_cost.or_else(|| self.cx.opts.prices.cost(&u));
                    let key = u
                        .key
                        .clone()
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
                        dedupe_key: key.clone(),
                    };
                    self.usage
                        .entry(key)
                        .and_modify(|e| {
                            e.input_tokens = e.input_tokens.max(rec.input_tokens);
                            e.output_tokens = e.output_tokens.max(rec.output_tokens);
                            e.cache_creation_tokens =
                                e.cache_creation_tokens.max(rec.cache_creation_tokens);
                            e.cache_read_tokens = e.cache_read_tokens.max(rec.cache_read_tokens);
                            e.reasoning_tokens = e.reasoning_tokens.max(rec.reasoning_tokens);
                            e.cost = match (e.cost, rec.cost) {
                                (Some(a), Some(b)) => Some(a.max(b)),
                                (a, b) => a.or(b),
                            };
                        })
                        .or_insert(rec);
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

    /// One transaction: the batch's events, its usage, and the file state that produced them.
    async fn commit(
        &mut self,
        pool: &SqlitePool,
        f: &FileState,
        memory: &FileMemory,
        report: &mut ScanReport,
        fr: &mut FileReport,
    ) -> Result<()> {
        let memory_json = (*memory != FileMemory::default())
            .then(|| serde_json::to_string(memory))
            .transpose()
            .map_err(|e| Error::Malformed(format!("parser memory: {e}")))?;
        let mut tx = crate::db::begin_write(pool).await?;
        let mut stored = Vec::new();
        for e in self.events.drain(..) {
            if let Some(id) = cliff_events::insert(&mut *tx, &e).await? {
                let mut e = e;
                e.id = Some(id);
                stored.push(e);
            }
        }
        let usage: Vec<UsageRecord> = self.usage.drain().map(|(_, v)| v).collect();
        usage_records::upsert_many(&mut tx, &usage).await?;
        ls::update_file(
            &mut *tx,
            self.file_id,
            f,
            memory_json.as_deref(),
            self.cx.opts.now,
        )
        .await?;
        tx.commit().await?;
        fr.events += stored.len();
        fr.usage_records += usage.len();
        report.events_new += stored.len();
        report.usage_records += usage.len();
        let room = MAX_REPORTED_EVENTS.saturating_sub(report.events.len());
        report.events.extend(stored.into_iter().take(room));
        report.rate_limits.append(&mut self.rate_limits);
        Ok(())
    }
}
