//! The SQLite store: opening, migrating and guarding the database file. One module per table
//! below holds that table's queries as plain async functions over a pool or a transaction.
//!
//! Opening never overwrites anything: a file that is not a SQLite database, is damaged, or was
//! written by a newer Cliffwatch is reported and left exactly as it was.

pub mod accounts;
pub mod alerts;
pub mod balance_samples;
pub mod channels;
pub mod cliff_events;
pub mod log_sources;
pub mod poll_schedule;
pub mod settings;
#[cfg(test)]
pub(crate) mod test_rows;
pub mod usage_records;

use crate::{Error, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

/// Every migration in /migrations, embedded in the binary.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// How long a writer waits for another connection's lock before giving up. The CLI and the
/// desktop app may share one database; 5 s covers a large backfill transaction.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens (creating if absent) the database at `path`, checks it, and runs pending migrations.
pub async fn open(path: &Path) -> Result<SqlitePool> {
    let existed = path.exists();
    if existed {
        check_header(path)?;
    } else {
        create_private(path)?;
    }
    let opts = SqliteConnectOptions::from_str("sqlite://")
        .map_err(Error::Database)?
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(BUSY_TIMEOUT)
        .foreign_keys(true)
        // Statement journals (a multi-row upsert inside a long transaction) and sorts stay in
        // memory: on disk they were 25,000 small writes in a backfill of 700 files.
        .pragma("temp_store", "memory");
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .after_release(|conn, _| Box::pin(async move { still_usable(conn).await }))
        .connect_with(opts)
        .await
        .map_err(|e| classify_open_error(path, e))?;
    if existed {
        // Reads every page: a truncated or scribbled-over file fails here, before any write.
        let (verdict,): (String,) = sqlx::query_as("PRAGMA quick_check")
            .fetch_one(&pool)
            .await
            .map_err(|e| classify_open_error(path, e))?;
        if verdict != "ok" {
            pool.close().await;
            return Err(Error::CorruptDatabase {
                path: path.into(),
                detail: verdict,
            });
        }
    }
    restrict_to_owner(path);
    check_not_newer(&pool, path).await?;
    MIGRATOR.run(&pool).await.map_err(|e| match e {
        sqlx::migrate::MigrateError::Execute(sqlx::Error::Database(ref d))
            if is_readonly(d.message()) =>
        {
            Error::ReadOnlyDatabase {
                path: path.into(),
                detail: d.message().to_owned(),
            }
        }
        other => Error::Migration(other),
    })?;
    Ok(pool)
}

/// How many rows list reads have skipped because they could not be read back (since start).
static SKIPPED_ROWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Converts the rows of a list read, skipping (and reporting on stderr, and counting) any row
/// that cannot be converted instead of failing the whole list: one bad row must not hide the
/// 402 history, the dashboard or the alerts.
pub(crate) fn lenient<R, T>(
    table: &'static str,
    rows: Vec<R>,
    convert: impl Fn(R) -> Result<T>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        match convert(r) {
            Ok(t) => out.push(t),
            Err(e) => {
                let n = SKIPPED_ROWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                // The first few say why; a flood of them would only drown the log.
                if n < 20 {
                    eprintln!("cliffwatch: skipped an unreadable row of {table}: {e}");
                }
            }
        }
    }
    out
}

/// Rows skipped by list reads since the process started (see [`lenient`]).
pub fn skipped_rows() -> u64 {
    SKIPPED_ROWS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Starts a transaction that will write. `BEGIN IMMEDIATE` takes the write lock up front, so a
/// busy database makes it wait (up to [`BUSY_TIMEOUT`]) instead of failing: a deferred
/// transaction that reads first and writes later cannot wait for the lock in WAL mode and gets
/// "database is locked" at once when another connection wrote in between.
pub async fn begin_write(pool: &SqlitePool) -> Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
    Ok(pool.begin_with("BEGIN IMMEDIATE").await?)
}

/// Whether a connection going back to the pool can be used again. A write refused for space
/// (`SQLITE_FULL`) makes SQLite roll the transaction back by itself; sqlx's own rollback then
/// fails ("no transaction is active") and it goes on counting a transaction as open, so that
/// connection would refuse every later `BEGIN` — after space returns, nothing would be written
/// again. Such a connection is closed (the pool opens a fresh one). A connection that still
/// counts a transaction is pinged first, which lets the rollback a dropped transaction queued
/// run, so a normal release is not mistaken for this; one that counts none (nearly every
/// release) goes back without a round trip to SQLite's thread.
async fn still_usable(conn: &mut sqlx::SqliteConnection) -> std::result::Result<bool, sqlx::Error> {
    use sqlx::Connection;
    if !conn.is_in_transaction() {
        return Ok(true);
    }
    conn.ping().await?;
    Ok(!conn.is_in_transaction())
}

/// An in-memory database with the full schema, for tests.
pub async fn open_in_memory() -> Result<SqlitePool> {
    let opts = SqliteConnectOptions::from_str("sqlite::memory:")?.foreign_keys(true);
    // One connection: every connection to `:memory:` is a different database.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    MIGRATOR.run(&pool).await?;
    Ok(pool)
}

/// Creates the empty database file readable by its owner only (0600 on Unix) before SQLite
/// opens it; SQLite would create it with the umask's mode (usually world-readable), and its
/// `-wal`/`-shm` files take the main file's mode.
fn create_private(path: &Path) -> Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path).map(drop).map_err(|source| Error::DataDir {
        path: path.into(),
        source,
    })
}

/// Narrows a database that an older version created world-readable (and its WAL files) to
/// its owner. Best effort: a file we cannot chmod is still usable.
fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mut names = vec![path.to_path_buf()];
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            names.push(p.into());
        }
        for p in names {
            if let Ok(m) = std::fs::metadata(&p) {
                if m.permissions().mode() & 0o077 != 0 {
                    let _ = std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600));
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// A SQLite file starts with these 16 bytes; anything else is not ours to touch. An empty file
/// is what SQLite itself leaves for a database never written, so it is accepted.
fn check_header(path: &Path) -> Result<()> {
    use std::io::Read;
    let mut head = [0u8; 16];
    let mut f = std::fs::File::open(path).map_err(|source| Error::DataDir {
        path: path.into(),
        source,
    })?;
    let n = f.read(&mut head).map_err(|source| Error::DataDir {
        path: path.into(),
        source,
    })?;
    if n == 0 {
        return Ok(());
    }
    if n < 16 || &head != b"SQLite format 3\0" {
        return Err(Error::CorruptDatabase {
            path: path.into(),
            detail: "it does not start with the SQLite header".into(),
        });
    }
    Ok(())
}

/// Refuses a database whose applied migrations include one this build does not know.
async fn check_not_newer(pool: &SqlitePool, path: &Path) -> Result<()> {
    let has_table: Option<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
    )
    .fetch_optional(pool)
    .await?;
    if has_table.is_none() {
        return Ok(());
    }
    let applied: Vec<(i64,)> = sqlx::query_as("SELECT version FROM _sqlx_migrations")
        .fetch_all(pool)
        .await?;
    let known: std::collections::HashSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    if let Some(v) = applied
        .iter()
        .map(|(v,)| *v)
        .filter(|v| !known.contains(v))
        .max()
    {
        pool.close().await;
        return Err(Error::NewerDatabase {
            path: path.into(),
            version: v,
        });
    }
    Ok(())
}

fn is_readonly(msg: &str) -> bool {
    let m = msg.to_ascii_lowercase();
    m.contains("readonly") || m.contains("read-only") || m.contains("read only")
}

fn classify_open_error(path: &Path, e: sqlx::Error) -> Error {
    if let sqlx::Error::Database(d) = &e {
        let msg = d.message();
        let lower = msg.to_ascii_lowercase();
        if lower.contains("not a database")
            || lower.contains("malformed")
            || lower.contains("corrupt")
        {
            return Error::CorruptDatabase {
                path: path.into(),
                detail: msg.to_owned(),
            };
        }
        if is_readonly(msg) || lower.contains("unable to open") {
            return Error::ReadOnlyDatabase {
                path: path.into(),
                detail: msg.to_owned(),
            };
        }
    }
    Error::Database(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A write refused for space (here a page limit on one connection; in life a full disk)
    /// makes SQLite roll back by itself, and sqlx then still counts the transaction as open:
    /// that connection refused every later `BEGIN` ("non-zero transaction depth"), so a watch
    /// never wrote again after space returned. The pool closes such a connection instead.
    #[tokio::test]
    async fn a_write_refused_for_space_does_not_poison_a_connection() {
        use sqlx::Connection;
        let tmp = tempfile::tempdir().unwrap();
        let pool = open(&tmp.path().join("c.db")).await.unwrap();
        sqlx::query("CREATE TABLE filler (b BLOB)")
            .execute(&pool)
            .await
            .unwrap();
        for _ in 0..8 {
            let mut conn = pool.acquire().await.unwrap();
            let (pages,): (i64,) = sqlx::query_as("PRAGMA page_count")
                .fetch_one(&mut *conn)
                .await
                .unwrap();
            sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
                .execute(&mut *conn)
                .await
                .unwrap();
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
            let full = sqlx::query("INSERT INTO filler VALUES (zeroblob(1000000))")
                .execute(&mut *tx)
                .await
                .unwrap_err();
            assert!(full.to_string().contains("full"), "{full}");
            drop(tx);
        }
        // Every connection the pool hands out can write again.
        let mut held = Vec::new();
        for _ in 0..4 {
            let mut conn = pool.acquire().await.unwrap();
            sqlx::query("PRAGMA max_page_count = 1000000")
                .execute(&mut *conn)
                .await
                .unwrap();
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await.unwrap();
            sqlx::query("INSERT INTO filler VALUES (x'00')")
                .execute(&mut *tx)
                .await
                .unwrap();
            tx.commit().await.unwrap();
            held.push(conn);
        }
    }

    #[tokio::test]
    async fn creates_and_reopens_a_database() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.db");
        let pool = open(&path).await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal", "WAL lets the CLI read while the app writes");
        pool.close().await;
        open(&path).await.expect("a database we wrote must reopen");
    }

    #[tokio::test]
    async fn garbage_file_is_reported_and_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.db");
        let garbage = b"this is my tax return, not a database\n".repeat(100);
        std::fs::write(&path, &garbage).unwrap();
        let err = open(&path).await.unwrap_err();
        assert_eq!(err.kind(), "corrupt_database", "got: {err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            garbage,
            "the file must not be touched"
        );
    }

    #[tokio::test]
    async fn damaged_database_is_reported_and_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.db");
        let pool = open(&path).await.unwrap();
        for i in 0..200 {
            sqlx::query("INSERT INTO settings(key, value) VALUES (?, ?)")
                .bind(format!("k{i}"))
                .bind("v".repeat(500))
                .execute(&pool)
                .await
                .unwrap();
        }
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
        // Keep the header, scribble over the b-tree pages.
        let mut bytes = std::fs::read(&path).unwrap();
        assert!(bytes.len() > 8192);
        for b in &mut bytes[4096..] {
            *b = 0xA5;
        }
        std::fs::write(&path, &bytes).unwrap();
        let err = open(&path).await.unwrap_err();
        assert_eq!(err.kind(), "corrupt_database", "got: {err}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            bytes,
            "the file must not be touched"
        );
    }

    #[tokio::test]
    async fn concurrent_read_then_write_transactions_wait_instead_of_failing() {
        let tmp = tempfile::tempdir().unwrap();
        let pool = open(&tmp.path().join("c.db")).await.unwrap();
        let mut tasks = Vec::new();
        for i in 0..8 {
            let pool = pool.clone();
            tasks.push(tokio::spawn(async move {
                for j in 0..20 {
                    let mut tx = begin_write(&pool).await?;
                    // Read, then write: the pattern that fails with a deferred BEGIN.
                    let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM settings")
                        .fetch_one(&mut *tx)
                        .await?;
                    sqlx::query("INSERT INTO settings(key, value) VALUES (?, ?)")
                        .bind(format!("k{i}-{j}"))
                        .bind(n.to_string())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                }
                Ok::<_, Error>(())
            }));
        }
        for t in tasks {
            t.await
                .unwrap()
                .expect("no writer may fail with `database is locked`");
        }
        let (n,): (i64,) = sqlx::query_as("SELECT count(*) FROM settings")
            .fetch_one(&pool)
            .await
            .unwrap();
        assert_eq!(n, 160, "every write landed");
    }

    #[tokio::test]
    async fn newer_database_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("c.db");
        let pool = open(&path).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations(version, description, success, checksum, execution_time)
             VALUES (29991231000000, 'from the future', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;
        let err = open(&path).await.unwrap_err();
        assert_eq!(err.kind(), "newer_database", "got: {err}");
        assert!(err.to_string().contains("29991231000000"), "{err}");
    }
}
