//! Queries on `log_sources` (what the user asked to watch) and `log_files` (each file matched,
//! with its identity and how far it has been read).

use crate::clock::{from_db, to_db};
use crate::model::{AccountId, LogSource, LogSourceId};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use sqlx::{FromRow, SqliteExecutor};

#[derive(FromRow)]
struct Row {
    id: i64,
    pattern: String,
    format: String,
    zone: Option<String>,
    account_id: Option<i64>,
    options: String,
    enabled: i64,
    created_at: String,
}

impl TryFrom<Row> for LogSource {
    type Error = Error;
    fn try_from(r: Row) -> Result<Self> {
        Ok(LogSource {
            id: LogSourceId(r.id),
            options: serde_json::from_str(&r.options).map_err(|e| {
                Error::Malformed(format!("options of log source `{}`: {e}", r.pattern))
            })?,
            pattern: r.pattern,
            format: r.format,
            zone: r.zone,
            account_id: r.account_id.map(AccountId),
            enabled: r.enabled != 0,
            created_at: from_db(&r.created_at)?,
        })
    }
}

/// Adds a source; the same pattern twice is an error that names it.
pub async fn insert(
    db: impl SqliteExecutor<'_>,
    pattern: &str,
    format: &str,
    zone: Option<&str>,
    account: Option<AccountId>,
    now: DateTime<Utc>,
) -> Result<LogSourceId> {
    let res = sqlx::query(
        "INSERT INTO log_sources (pattern, format, zone, account_id, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(pattern)
    .bind(format)
    .bind(zone)
    .bind(account)
    .bind(to_db(now))
    .execute(db)
    .await
    .map_err(|e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::InvalidInput(format!("`{pattern}` is already a log source"))
        }
        other => Error::Database(other),
    })?;
    Ok(LogSourceId(res.last_insert_rowid()))
}

/// All sources, oldest first.
pub async fn list(db: impl SqliteExecutor<'_>) -> Result<Vec<LogSource>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, pattern, format, zone, account_id, options, enabled, created_at \
         FROM log_sources ORDER BY id",
    )
    .fetch_all(db)
    .await?;
    rows.into_iter().map(LogSource::try_from).collect()
}

/// How far one source has been read: files matched (rotated-away ones not counted), bytes read,
/// the events found and the newest one's time, and the files that cannot be read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub files: i64,
    pub bytes_read: i64,
    pub events: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    pub file_errors: i64,
    pub last_error: Option<String>,
}

/// [`Progress`] of source `id`.
pub async fn progress(pool: &sqlx::SqlitePool, id: LogSourceId) -> Result<Progress> {
    let (files, bytes_read): (i64, i64) = sqlx::query_as(
        "SELECT COUNT(*), COALESCE(SUM(byte_offset), 0) FROM log_files \
         WHERE source_id = ? AND instr(path, char(0)) = 0",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    let (events, last): (i64, Option<String>) = sqlx::query_as(
        "SELECT COUNT(*), MAX(e.occurred_at) FROM cliff_events e \
         JOIN log_files f ON f.id = e.log_file_id WHERE f.source_id = ?",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    let (file_errors, last_error): (i64, Option<String>) = sqlx::query_as(
        "SELECT COUNT(*), (SELECT last_error FROM log_files WHERE source_id = ?1 \
           AND last_error IS NOT NULL AND instr(path, char(0)) = 0 \
           ORDER BY last_error_at DESC, id DESC LIMIT 1) \
         FROM log_files WHERE source_id = ?1 AND last_error IS NOT NULL \
           AND instr(path, char(0)) = 0",
    )
    .bind(id)
    .fetch_one(pool)
    .await?;
    Ok(Progress {
        files,
        bytes_read,
        events,
        // An unreadable time (written by a future version) shows as unknown; the row stays.
        last_event_at: last.as_deref().and_then(|t| from_db(t).ok()),
        file_errors,
        last_error,
    })
}

/// Removes a source and its per-file state (events already seen stay in the history).
pub async fn delete(db: impl SqliteExecutor<'_>, id: LogSourceId) -> Result<()> {
    sqlx::query("DELETE FROM log_sources WHERE id = ?")
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// How far one file has been read, and how to recognise it again.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FileState {
    pub source_id: LogSourceId,
    pub path: String,
    pub device: Option<i64>,
    pub inode: Option<i64>,
    pub head_hash: Option<String>,
    pub byte_offset: i64,
    pub size_seen: i64,
}

/// Creates a file's row if it has none; returns its id. A row that exists is left as it is:
/// another scanner (the app and the CLI at once) may have read the file further since this one
/// looked, and resetting its offset would make the next reads store its lines again.
pub async fn upsert_file(
    db: impl SqliteExecutor<'_>,
    f: &FileState,
    now: DateTime<Utc>,
) -> Result<i64> {
    Ok(insert_or_get_file(db, f, now).await?.0)
}

/// [`upsert_file`] that returns the row as stored: `f` when it was inserted, else the state
/// another scanner left.
pub async fn insert_or_get_file(
    db: impl SqliteExecutor<'_>,
    f: &FileState,
    now: DateTime<Utc>,
) -> Result<(i64, FileState)> {
    // `DO UPDATE SET path = path` changes nothing but makes RETURNING give the existing row.
    let row: WithId = sqlx::query_as(
        "INSERT INTO log_files (source_id, path, device, inode, head_hash, byte_offset, size_seen, updated_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) \
         ON CONFLICT (source_id, path) DO UPDATE SET path = log_files.path \
         RETURNING id, source_id, path, device, inode, head_hash, byte_offset, size_seen",
    )
    .bind(f.source_id)
    .bind(&f.path)
    .bind(f.device)
    .bind(f.inode)
    .bind(&f.head_hash)
    .bind(f.byte_offset)
    .bind(f.size_seen)
    .bind(to_db(now))
    .fetch_one(db)
    .await?;
    Ok((row.id, row.state))
}

#[derive(FromRow)]
struct WithId {
    id: i64,
    #[sqlx(flatten)]
    state: FileState,
}

/// A file's row with the error its last read ended on, if any.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct FileRow {
    pub id: i64,
    #[sqlx(flatten)]
    pub state: FileState,
    pub last_error: Option<String>,
    /// The file's identity, size and change times when it failed (see `set_file_error`).
    pub last_error_stat: Option<String>,
}

/// Every file row of a source with its last error, by path: a scan's pre-pass reads them in one
/// query instead of one per file (a folder of 100,000 unchanged transcripts is one query).
pub async fn file_rows(
    db: impl SqliteExecutor<'_>,
    source: LogSourceId,
) -> Result<std::collections::HashMap<String, FileRow>> {
    let rows: Vec<FileRow> = sqlx::query_as(
        "SELECT id, source_id, path, device, inode, head_hash, byte_offset, size_seen, \
           last_error, last_error_stat FROM log_files WHERE source_id = ?",
    )
    .bind(source)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.state.path.clone(), r))
        .collect())
}

/// Records why a file could not be read, creating its row if it has none (at offset 0, so a
/// later read starts from the beginning). The row's offset and identity are left as they are.
/// `stat` is what the file looked like when it failed: a rescan that finds it the same skips it.
#[allow(clippy::too_many_arguments)]
pub async fn set_file_error(
    db: impl SqliteExecutor<'_>,
    source: LogSourceId,
    path: &str,
    device: Option<i64>,
    inode: Option<i64>,
    stat: &str,
    message: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO log_files (source_id, path, device, inode, byte_offset, size_seen, updated_at, \
           last_error, last_error_at, last_error_stat) VALUES (?1, ?2, ?3, ?4, 0, -1, ?5, ?6, ?5, ?7) \
         ON CONFLICT (source_id, path) DO UPDATE SET last_error = excluded.last_error, \
           last_error_at = excluded.last_error_at, last_error_stat = excluded.last_error_stat",
    )
    .bind(source)
    .bind(path)
    .bind(device)
    .bind(inode)
    .bind(to_db(now))
    .bind(message)
    .bind(stat)
    .execute(db)
    .await?;
    Ok(())
}

/// The stored state of one file of a source, if it was read before.
pub async fn get_file(
    db: impl SqliteExecutor<'_>,
    source: LogSourceId,
    path: &str,
) -> Result<Option<(i64, FileState)>> {
    let row: Option<WithId> = sqlx::query_as(
        "SELECT id, source_id, path, device, inode, head_hash, byte_offset, size_seen \
         FROM log_files WHERE source_id = ? AND path = ?",
    )
    .bind(source)
    .bind(path)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.id, r.state)))
}

/// The source with this exact pattern, if any.
pub async fn get_by_pattern(
    db: impl SqliteExecutor<'_>,
    pattern: &str,
) -> Result<Option<LogSource>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, pattern, format, zone, account_id, options, enabled, created_at \
         FROM log_sources WHERE pattern = ?",
    )
    .bind(pattern)
    .fetch_optional(db)
    .await?;
    row.map(LogSource::try_from).transpose()
}

/// Stores a source's options (the jsonl mapping).
pub async fn set_options(
    db: impl SqliteExecutor<'_>,
    id: LogSourceId,
    options: &serde_json::Value,
) -> Result<()> {
    sqlx::query("UPDATE log_sources SET options = ? WHERE id = ?")
        .bind(options.to_string())
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// A file's state by id, with its parser memory (JSON).
pub async fn get_file_by_id(
    db: impl SqliteExecutor<'_>,
    id: i64,
) -> Result<Option<(FileState, Option<String>)>> {
    #[derive(FromRow)]
    struct WithMemory {
        memory: Option<String>,
        #[sqlx(flatten)]
        state: FileState,
    }
    let row: Option<WithMemory> = sqlx::query_as(
        "SELECT source_id, path, device, inode, head_hash, byte_offset, size_seen, memory \
         FROM log_files WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| (r.state, r.memory)))
}

/// What a scanner read of a row before it read the file: the row may be advanced only from
/// there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub byte_offset: i64,
    pub path: String,
}

/// Rewrites a file's state by id (path included: a rotated file moves with its row) and clears
/// its last error, as a compare-and-swap: only when the row still has the offset and path the
/// scanner started from. `false` means another scanner (the app and the CLI on one database)
/// moved it first; the caller rolls back what it read. Run it first in the transaction that
/// stores the events read up to `f.byte_offset`, so the write lock is taken before any insert.
pub async fn advance_file(
    db: impl SqliteExecutor<'_>,
    id: i64,
    expected: &Expected,
    f: &FileState,
    memory: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = sqlx::query(
        "UPDATE log_files SET path = ?, device = ?, inode = ?, head_hash = ?, byte_offset = ?, \
           size_seen = ?, memory = ?, updated_at = ?, last_error = NULL, last_error_at = NULL, \
           last_error_stat = NULL WHERE id = ? AND byte_offset = ? AND path = ?",
    )
    .bind(&f.path)
    .bind(f.device)
    .bind(f.inode)
    .bind(&f.head_hash)
    .bind(f.byte_offset)
    .bind(f.size_seen)
    .bind(memory)
    .bind(to_db(now))
    .bind(id)
    .bind(expected.byte_offset)
    .bind(&expected.path)
    .execute(db)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Retires a file's row (its path gets a `\0retired:<id>` suffix, so a new file at the same
/// path gets a fresh row and fresh dedupe keys while the old events keep theirs), only when
/// the row still is as `expected` (another scanner may have moved it
/// to the file's new name, or read further). Returns whether it was retired.
pub async fn retire_file_if(
    db: impl SqliteExecutor<'_>,
    id: i64,
    expected: &Expected,
    now: DateTime<Utc>,
) -> Result<bool> {
    let res = sqlx::query(
        "UPDATE log_files SET path = path || char(0) || 'retired:' || id, updated_at = ? \
         WHERE id = ? AND byte_offset = ? AND path = ? AND instr(path, char(0)) = 0",
    )
    .bind(to_db(now))
    .bind(id)
    .bind(expected.byte_offset)
    .bind(&expected.path)
    .execute(db)
    .await?;
    Ok(res.rows_affected() == 1)
}

/// Rows of a source that might be the file now found at `path` under another name: the same
/// device and inode (renamed), the same head hash (copied or compressed), or retired.
pub async fn identity_candidates(
    db: impl SqliteExecutor<'_>,
    source: LogSourceId,
    path: &str,
    device: Option<i64>,
    inode: Option<i64>,
    head_hash: Option<&str>,
) -> Result<Vec<(i64, FileState)>> {
    let rows: Vec<WithId> = sqlx::query_as(
        "SELECT id, source_id, path, device, inode, head_hash, byte_offset, size_seen \
         FROM log_files WHERE source_id = ?1 AND path != ?2 \
           AND ((device = ?3 AND inode = ?4) OR head_hash = ?5 OR instr(path, char(0)) > 0) \
         ORDER BY updated_at DESC, id DESC LIMIT 256",
    )
    .bind(source)
    .bind(path)
    .bind(device)
    .bind(inode)
    .bind(head_hash)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.id, r.state)).collect())
}

/// Whether `path` (a file path, not a retired marker) has a row in this source.
pub async fn file_id(
    db: impl SqliteExecutor<'_>,
    source: LogSourceId,
    path: &str,
) -> Result<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM log_files WHERE source_id = ? AND path = ?")
            .bind(source)
            .bind(path)
            .fetch_optional(db)
            .await?;
    Ok(row.map(|(id,)| id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap()
    }

    #[tokio::test]
    async fn insert_list_delete_source() {
        let db = crate::db::open_in_memory().await.unwrap();
        let id = insert(
            &db,
            "/var/log/nginx/*.log",
            "combined",
            Some("Europe/Berlin"),
            None,
            now(),
        )
        .await
        .unwrap();
        let all = list(&db).await.unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].zone.as_deref(), Some("Europe/Berlin"));
        let dup = insert(&db, "/var/log/nginx/*.log", "combined", None, None, now()).await;
        assert_eq!(
            dup.unwrap_err().kind(),
            "invalid_input",
            "a duplicate pattern is refused"
        );
        delete(&db, id).await.unwrap();
        assert!(list(&db).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn upsert_never_resets_another_scanners_progress() {
        let db = crate::db::open_in_memory().await.unwrap();
        let src = insert(&db, "/l/*.log", "combined", None, None, now())
            .await
            .unwrap();
        let fresh = FileState {
            source_id: src,
            path: "/l/a.log".into(),
            device: Some(1),
            inode: Some(99),
            head_hash: None,
            byte_offset: 0,
            size_seen: -1,
        };
        let id1 = upsert_file(&db, &fresh, now()).await.unwrap();
        let mut read = fresh.clone();
        read.byte_offset = 250;
        read.head_hash = Some("250:abc".into());
        let start = Expected {
            byte_offset: 0,
            path: "/l/a.log".into(),
        };
        assert!(advance_file(&db, id1, &start, &read, None, now())
            .await
            .unwrap());
        // A second scanner that looked before the first one's commit also thinks "new file".
        let (id2, got) = insert_or_get_file(&db, &fresh, now()).await.unwrap();
        assert_eq!(id1, id2, "same file keeps its id (events point at it)");
        assert_eq!(
            got, read,
            "the row another scanner advanced is returned as it is: the old upsert reset it to 0, \
             and the lines up to 250 were stored again under the next file id"
        );
        let (_, got) = get_file(&db, src, "/l/a.log").await.unwrap().unwrap();
        assert_eq!(got.byte_offset, 250, "and stays at 250");
        assert!(get_file(&db, src, "/l/other.log").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn the_offset_advances_only_from_where_the_scanner_started() {
        let db = crate::db::open_in_memory().await.unwrap();
        let src = insert(&db, "/l/*.log", "combined", None, None, now())
            .await
            .unwrap();
        let mut f = FileState {
            source_id: src,
            path: "/l/a.log".into(),
            device: Some(1),
            inode: Some(7),
            head_hash: None,
            byte_offset: 0,
            size_seen: -1,
        };
        let id = upsert_file(&db, &f, now()).await.unwrap();
        let from0 = Expected {
            byte_offset: 0,
            path: f.path.clone(),
        };
        f.byte_offset = 100;
        assert!(
            advance_file(&db, id, &from0, &f, None, now())
                .await
                .unwrap(),
            "first scanner: 0 → 100"
        );
        let mut stale = f.clone();
        stale.byte_offset = 60;
        assert!(
            !advance_file(&db, id, &from0, &stale, None, now())
                .await
                .unwrap(),
            "a second scanner that also started at 0 loses: the row is at 100 now"
        );
        assert_eq!(get_file(&db, src, "/l/a.log").await.unwrap().unwrap().1, f);
        let moved = Expected {
            byte_offset: 100,
            path: "/l/a.log.1".into(),
        };
        assert!(
            !advance_file(&db, id, &moved, &f, None, now())
                .await
                .unwrap(),
            "the path is part of the expectation"
        );
        assert!(
            !retire_file_if(&db, id, &from0, now()).await.unwrap(),
            "a stale view does not retire the row"
        );
        let at100 = Expected {
            byte_offset: 100,
            path: f.path.clone(),
        };
        assert!(retire_file_if(&db, id, &at100, now()).await.unwrap());
        assert!(file_id(&db, src, "/l/a.log").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_file_error_is_kept_until_the_next_read_commits() {
        let db = crate::db::open_in_memory().await.unwrap();
        let src = insert(&db, "/l/*.log", "combined", None, None, now())
            .await
            .unwrap();
        set_file_error(
            &db,
            src,
            "/l/a.log",
            Some(1),
            Some(7),
            "1:7:10:0:0",
            "cannot read /l/a.log: denied",
            now(),
        )
        .await
        .unwrap();
        let row = file_rows(&db, src)
            .await
            .unwrap()
            .remove("/l/a.log")
            .unwrap();
        assert_eq!(
            (
                row.state.byte_offset,
                row.last_error.as_deref(),
                row.last_error_stat.as_deref()
            ),
            (0, Some("cannot read /l/a.log: denied"), Some("1:7:10:0:0")),
            "an unreadable new file gets a row at offset 0 with its error"
        );
        let mut f = row.state.clone();
        f.byte_offset = 10;
        let from0 = Expected {
            byte_offset: 0,
            path: f.path.clone(),
        };
        assert!(advance_file(&db, row.id, &from0, &f, None, now())
            .await
            .unwrap());
        let row = file_rows(&db, src)
            .await
            .unwrap()
            .remove("/l/a.log")
            .unwrap();
        assert_eq!(
            (row.last_error, row.last_error_stat),
            (None, None),
            "a read that commits clears the error"
        );
        set_file_error(&db, src, "/l/a.log", Some(1), Some(7), "s", "again", now())
            .await
            .unwrap();
        assert_eq!(
            get_file(&db, src, "/l/a.log")
                .await
                .unwrap()
                .unwrap()
                .1
                .byte_offset,
            10,
            "an error on a row keeps its offset"
        );
    }

    #[tokio::test]
    async fn retired_rows_free_the_path_and_stay_findable() {
        let db = crate::db::open_in_memory().await.unwrap();
        let src = insert(&db, "/l/*.log", "combined", None, None, now())
            .await
            .unwrap();
        let st = FileState {
            source_id: src,
            path: "/l/a.log".into(),
            device: Some(1),
            inode: Some(7),
            head_hash: Some("1024:abc".into()),
            byte_offset: 500,
            size_seen: 600,
        };
        let id = upsert_file(&db, &st, now()).await.unwrap();
        let was = Expected {
            byte_offset: 500,
            path: "/l/a.log".into(),
        };
        assert!(retire_file_if(&db, id, &was, now()).await.unwrap());
        assert!(
            file_id(&db, src, "/l/a.log").await.unwrap().is_none(),
            "the path is free for a new file"
        );
        let c = identity_candidates(&db, src, "/l/a.log.1", Some(9), Some(9), None)
            .await
            .unwrap();
        assert_eq!(
            c.len(),
            1,
            "a retired row is a candidate for a rotated file"
        );
        assert_eq!(c[0].1.byte_offset, 500, "with its offset");
        let (mut back, mem) = get_file_by_id(&db, id).await.unwrap().unwrap();
        assert_eq!(mem, None);
        let retired = Expected {
            byte_offset: back.byte_offset,
            path: back.path.clone(),
        };
        back.path = "/l/a.log.1".into();
        assert!(advance_file(&db, id, &retired, &back, Some("{}"), now())
            .await
            .unwrap());
        assert_eq!(
            file_id(&db, src, "/l/a.log.1").await.unwrap(),
            Some(id),
            "moved, same id"
        );
        assert_eq!(
            get_file_by_id(&db, id).await.unwrap().unwrap().1.as_deref(),
            Some("{}")
        );
    }
}
