//! Where Cliffwatch keeps its data: the OS app-data folder unless `--data-dir` or
//! `CLIFFWATCH_DATA_DIR` says otherwise. Tests always pass a temporary directory.

use crate::{Error, Result};
use std::path::{Path, PathBuf};

/// The environment variable that overrides the data directory.
pub const DATA_DIR_ENV: &str = "CLIFFWATCH_DATA_DIR";

/// The database file inside the data directory.
pub const DB_FILE: &str = "cliffwatch.db";

/// The data directory to use: `explicit` (from `--data-dir`), else `$CLIFFWATCH_DATA_DIR`, else
/// the OS app-data folder (`~/.local/share/cliffwatch` on Linux,
/// `~/Library/Application Support/dev.cliffwatch.Cliffwatch` on macOS, `%APPDATA%` on Windows).
pub fn data_dir(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if let Some(p) = std::env::var_os(DATA_DIR_ENV).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    directories::ProjectDirs::from("dev", "cliffwatch", "Cliffwatch")
        .map(|d| d.data_dir().to_path_buf())
        .ok_or_else(|| Error::DataDir {
            path: PathBuf::from("~"),
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no home directory found; pass --data-dir or set CLIFFWATCH_DATA_DIR",
            ),
        })
}

/// Creates the data directory if needed and checks that it can be written, so that a read-only
/// folder is reported as such before anything else is attempted.
pub fn ensure_writable(dir: &Path) -> Result<()> {
    let err = |source| Error::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    // A new data directory is its owner's only (0700 on Unix): it holds the 402 history, the
    // balances and the account list. An existing directory the user chose is left as it is
    // (it could be a shared folder); the database file in it is 0600 either way.
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(err)?;
    let meta = std::fs::metadata(dir).map_err(err)?;
    if !meta.is_dir() {
        return Err(err(std::io::Error::other("it is not a directory")));
    }
    // A probe file is the only check that also holds for root and for read-only mounts.
    let probe = dir.join(format!(".cliffwatch-write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(err)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explicit_dir_wins() {
        let p = Path::new("/tmp/explicit-cliffwatch");
        assert_eq!(data_dir(Some(p)).unwrap(), p);
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_data_dir_and_its_database_are_the_owners_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("new/cliffwatch");
        ensure_writable(&dir).unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(
            mode(&dir),
            0o700,
            "other users must not list the data directory"
        );
        let db = dir.join(DB_FILE);
        let pool = crate::db::open(&db).await.unwrap();
        sqlx::query("CREATE TABLE IF NOT EXISTS t (x)")
            .execute(&pool)
            .await
            .unwrap();
        assert_eq!(
            mode(&db),
            0o600,
            "the database holds the history: owner only"
        );
        let wal = dir.join(format!("{DB_FILE}-wal"));
        if wal.exists() {
            assert_eq!(mode(&wal), 0o600, "the WAL holds the same rows");
        }
        pool.close().await;

        // A database an older version left world-readable is narrowed when opened.
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o644)).unwrap();
        crate::db::open(&db).await.unwrap().close().await;
        assert_eq!(mode(&db), 0o600);
    }

    #[test]
    fn a_file_is_not_a_data_dir() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        let err = ensure_writable(&file).unwrap_err();
        assert_eq!(err.kind(), "data_dir", "got {err}");
    }
}
