//! Issue 11, class 7: text output prints what log bodies say, and a body is written by
//! whoever answered the request. An ESC or BEL in it must not reach the terminal (here an
//! OSC sequence that retitles the window), while `--json` keeps the text exact.

use crate::support::*;

/// The provider's message, as the body of a 402 logged by the user's own client.
const HOSTILE: &str = "\u{1b}]0;pwned\u{7} quota exhausted\u{9b}2J";

#[test]
fn escapes_from_a_log_body_never_reach_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("requests.jsonl");
    // The body is itself JSON (as a client logs it), so the message is escaped twice here.
    let body = serde_json::json!({"error": {"message": HOSTILE}}).to_string();
    let line = serde_json::json!({
        "time": "2026-06-01T12:00:00Z",
        "status": 402,
        "method": "POST",
        "url": "https://api.openai.com/v1/chat/completions",
        "body": body,
    });
    std::fs::write(&log, format!("{line}\n")).unwrap();
    let data = tmp.path().join("data");
    let cmd = |args: &[&str]| {
        let mut c = cliffwatch(&data);
        c.args(args);
        c
    };

    let scan = ok(run(cmd(&[
        "logs",
        "scan",
        log.to_str().unwrap(),
        "--format",
        "jsonl",
    ])));
    let events = ok(run(cmd(&["events"])));
    for (what, out) in [("logs scan", &scan), ("events", &events)] {
        let text = stdout(out);
        assert!(
            text.contains("]0;pwned quota exhausted"),
            "{what} shows the event's message, less its controls:\n{text}"
        );
        assert!(
            !out.stdout.iter().any(|b| *b == 0x1b || *b == 0x07),
            "{what}: no ESC or BEL reaches the terminal (before the fix the OSC title sequence \
             was printed as is):\n{text:?}"
        );
        assert!(
            !text.contains('\u{9b}'),
            "{what}: no C1 CSI either:\n{text:?}"
        );
    }

    let json = json(&ok(run(cmd(&["--json", "events"]))));
    assert_eq!(
        json[0]["message"].as_str(),
        Some(HOSTILE),
        "--json keeps the exact text (JSON-escaped on the wire): {json}"
    );
    let raw = stdout(&ok(run(cmd(&["--json", "events"]))));
    assert!(
        raw.contains("\\u001b]0;pwned\\u0007"),
        "the JSON encoder escapes the controls, so the JSON text is safe too: {raw}"
    );
}
