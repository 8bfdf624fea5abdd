//! `cliffwatch export`: CSV with a header row, RFC 4180 quoting and UTC times; JSON as `--json`
//! prints it; a balances CSV read back through `import balances` gives the same history; a
//! hostile text field is defused for spreadsheets.

use crate::support::*;

fn add(tmp: &std::path::Path, label: &str) {
    let mut c = cliffwatch(tmp);
    c.env("CW_IT_EXPORT_KEY", "key-for-export-test")
        .args([
            "account",
            "add",
            "--provider",
            "scraperapi",
            "--label",
            label,
        ])
        .args(["--secret-env", "CW_IT_EXPORT_KEY"]);
    ok(run(c));
}

fn export(tmp: &std::path::Path, args: &[&str]) -> String {
    let mut c = cliffwatch(tmp);
    c.arg("export").args(args);
    stdout(&ok(run(c)))
}

#[test]
fn balances_round_trip_through_import_and_csv_is_rfc_4180() {
    let tmp = tempfile::tempdir().unwrap();
    add(tmp.path(), "a");
    add(tmp.path(), "b");
    let csv = tmp.path().join("history.csv");
    std::fs::write(
        &csv,
        "time,remaining\n2026-11-01T00:00:00Z,100\n2026-11-01T06:00:00Z,80.5\n2026-11-02T00:00:00Z,40\n2026-11-02T12:00:00Z,500\n",
    )
    .unwrap();
    let mut import = cliffwatch(tmp.path());
    import
        .args(["import", "balances"])
        .arg(&csv)
        .args(["--account", "a", "--unit", "credits"]);
    ok(run(import));

    let out = export(tmp.path(), &["balances", "--account", "a"]);
    let lines: Vec<&str> = out.split("\r\n").collect();
    assert_eq!(
        lines[0],
        "time,remaining,limit,used,unit,resets_at,is_topup,account,provider"
    );
    assert_eq!(
        lines[1],
        "2026-11-01T00:00:00Z,100,,,credits,,false,a,scraperapi"
    );
    assert!(
        lines[4].contains(",500,") && lines[4].contains(",true,"),
        "the rise is a top-up: {out}"
    );

    // The export reads back into another account as the same history.
    let file = tmp.path().join("a.csv");
    let mut to_file = cliffwatch(tmp.path());
    to_file
        .args(["export", "balances", "--account", "a", "-o"])
        .arg(&file);
    ok(run(to_file));
    let mut back = cliffwatch(tmp.path());
    back.args(["--json", "import", "balances"])
        .arg(&file)
        .args(["--account", "b", "--unit", "credits"]);
    assert_eq!(json(&ok(run(back)))["imported"], 4);
    let b = export(tmp.path(), &["balances", "--account", "b"]);
    let cols = |s: &str| -> Vec<String> {
        s.split("\r\n")
            .skip(1)
            .filter(|l| !l.is_empty())
            .map(|l| l.split(',').take(2).collect::<Vec<_>>().join(","))
            .collect()
    };
    assert_eq!(
        cols(&out),
        cols(&b),
        "time and remaining survive the round trip"
    );

    let j: serde_json::Value = serde_json::from_str(&export(
        tmp.path(),
        &["balances", "--format", "json", "--account", "a"],
    ))
    .unwrap();
    assert_eq!(j.as_array().map(Vec::len), Some(4));
    assert_eq!(j[1]["remaining"], 80.5);
}

#[test]
fn events_csv_quotes_and_defuses_hostile_text() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("api.jsonl");
    std::fs::write(
        &log,
        concat!(
            r#"{"time":"2026-12-02T09:00:00Z","url":"https://api.scraperapi.com/x","status":402,"body":"=HYPERLINK(\"https://evil.example\",\"pay, now\")"}"#,
            "\n"
        ),
    )
    .unwrap();
    let mut scan = cliffwatch(tmp.path());
    scan.args(["logs", "scan"])
        .arg(&log)
        .args(["--format", "jsonl"]);
    ok(run(scan));
    let out = export(tmp.path(), &["events"]);
    let mut lines = out.split("\r\n");
    assert!(lines
        .next()
        .unwrap()
        .starts_with("time,account,provider,origin,outcome,status"));
    let row = lines.next().unwrap();
    assert!(
        row.starts_with("2026-12-02T09:00:00Z,,scraperapi,log,out_of_credit,402,"),
        "{row}"
    );
    assert!(
        row.contains(r#""'=HYPERLINK(""https://evil.example"",""pay, now"")""#),
        "a formula is defused and quoted: {row}"
    );
    let mut bad = cliffwatch(tmp.path());
    bad.args(["export", "wallets"]);
    assert!(fails(&run(bad)).contains("balances, events, usage or alerts"));
}
