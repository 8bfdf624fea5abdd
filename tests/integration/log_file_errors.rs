//! Issue 11, class 4: a file that cannot be read (here a corrupt rotated `.gz`) is skipped and
//! shown on its source by `logs scan` and `logs list` (text and `--json`), while the file
//! beside it is read. Before, the scan stopped at the bad file and exited non-zero, on every
//! rescan, and `logs list` had nowhere to show why.

use crate::support::*;

#[test]
fn an_unreadable_file_is_listed_on_its_source_and_the_rest_is_read() {
    let tmp = tempfile::tempdir().unwrap();
    let logs = tmp.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app.log.1.gz"), b"\x1f\x8b cut short").unwrap();
    std::fs::write(
        logs.join("app.log"),
        "10.0.0.1 - - [21/Nov/2026:10:00:01 +0000] \"GET https://api.scraperapi.com/r1 HTTP/1.1\" 402 12 \"-\" \"bot\"\n",
    )
    .unwrap();
    let data = tmp.path().join("data");
    let cmd = |args: &[&str]| {
        let mut c = cliffwatch(&data);
        c.args(args);
        c
    };
    let dir = logs.to_str().unwrap();

    let scan = stdout(&ok(run(cmd(&[
        "logs", "scan", dir, "--format", "combined",
    ]))));
    assert!(
        scan.contains("1 new event(s)"),
        "the good file is read:\n{scan}"
    );
    assert!(
        scan.contains("error: cannot read") && scan.contains("app.log.1.gz"),
        "the bad one is named with its error:\n{scan}"
    );

    let list = stdout(&ok(run(cmd(&["logs", "list"]))));
    assert!(
        list.contains("ERRORS") && list.contains("1 file(s) cannot be read"),
        "logs list counts it:\n{list}"
    );
    assert!(list.contains("app.log.1.gz"), "and names it:\n{list}");

    let listed = json(&ok(run(cmd(&["--json", "logs", "list"]))));
    let row = &listed[0];
    assert_eq!(
        row["pattern"].as_str(),
        Some(dir),
        "the source's own fields stay: {row}"
    );
    assert_eq!(row["file_errors"].as_i64(), Some(1), "{row}");
    assert_eq!(row["events"].as_i64(), Some(1), "{row}");
    assert!(
        row["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("app.log.1.gz")),
        "{row}"
    );
}
