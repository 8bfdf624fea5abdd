//! Bad input: each a one-sentence error on stderr and a non-zero exit, nothing overwritten.

use crate::support::*;

#[test]
fn unknown_provider() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.env("CW_IT_K", "k-123456789012").args([
        "account",
        "add",
        "--provider",
        "openrouterr",
        "--label",
        "x",
        "--secret-env",
        "CW_IT_K",
    ]);
    let err = fails(&run(c));
    assert!(err.contains("unknown provider `openrouterr`"), "{err}");
    assert!(
        err.contains("cliffwatch providers"),
        "says what to do: {err}"
    );
}

#[test]
fn missing_env_var() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.env_remove("CW_IT_NOT_SET").args([
        "account",
        "add",
        "--provider",
        "deepseek",
        "--label",
        "x",
        "--secret-env",
        "CW_IT_NOT_SET",
    ]);
    let err = fails(&run(c));
    assert!(
        err.contains("CW_IT_NOT_SET") && err.contains("not set"),
        "{err}"
    );
}

#[test]
fn no_key_source_given() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args(["account", "add", "--provider", "deepseek", "--label", "x"]);
    let err = fails(&run(c));
    assert!(
        err.contains("--secret-stdin") && err.contains("--secret-env"),
        "{err}"
    );
}

#[test]
fn json_errors_also_reach_stdout_as_kind_and_message() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args(["--json", "account", "remove", "ghost"]);
    let o = run(c);
    fails(&o);
    let v = json(&o);
    assert_eq!(v["error"]["kind"], "account_not_found");
    assert!(v["error"]["message"].as_str().unwrap().contains("ghost"));
}

#[test]
fn corrupt_database_is_reported_and_left_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("cliffwatch.db");
    let garbage = b"PK\x03\x04 definitely a zip file, not SQLite".repeat(64);
    std::fs::write(&db, &garbage).unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args(["status"]);
    let err = fails(&run(c));
    assert!(
        err.contains("not a Cliffwatch database") && err.contains("untouched"),
        "{err}"
    );
    assert_eq!(std::fs::read(&db).unwrap(), garbage, "never overwritten");
    assert!(
        !tmp.path().join("cliffwatch.db-wal").exists(),
        "not even a WAL file was started"
    );
}

#[test]
fn newer_database_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.arg("status");
    ok(run(c));
    let db = tmp.path().join("cliffwatch.db");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", db.display())).await.unwrap();
        sqlx::query("INSERT INTO _sqlx_migrations(version, description, success, checksum, execution_time) VALUES (30000101000000, 'future', 1, x'00', 0)")
            .execute(&pool).await.unwrap();
        pool.close().await;
    });
    let before = std::fs::read(&db).unwrap();
    let mut c = cliffwatch(tmp.path());
    c.arg("status");
    let err = fails(&run(c));
    assert!(err.contains("newer version of Cliffwatch"), "{err}");
    assert_eq!(std::fs::read(&db).unwrap(), before, "left untouched");
}

#[test]
fn unwritable_data_dir() {
    let tmp = tempfile::tempdir().unwrap();
    // A path whose parent is a regular file can never be created, even by root (CI runs as root,
    // where chmod 0555 does not stop writes).
    let blocker = tmp.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let mut c = cliffwatch(&blocker.join("data"));
    c.arg("status");
    let err = fails(&run(c));
    assert!(err.contains("cannot use the data directory"), "{err}");

    // And a read-only directory, where the OS enforces it for this user.
    let ro = tmp.path().join("ro");
    std::fs::create_dir(&ro).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"").is_ok() {
        eprintln!("note: running as root, a 0555 directory is writable; the blocked-path case above covers it");
        std::fs::remove_file(ro.join("probe")).unwrap();
    } else {
        let mut c = cliffwatch(&ro);
        c.arg("status");
        let err = fails(&run(c));
        assert!(err.contains("cannot use the data directory"), "{err}");
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn key_is_never_taken_from_argv() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args([
        "account",
        "add",
        "--provider",
        "deepseek",
        "--label",
        "x",
        "--secret",
        "sk-in-argv",
    ]);
    let o = run(c);
    assert!(
        !o.status.success(),
        "there is no flag that takes the key itself"
    );
    assert!(
        !tmp.path().join("cliffwatch.db").exists(),
        "rejected before anything was opened"
    );
}
