//! Helpers shared by the integration tests.

use std::path::Path;
use std::process::{Command, Output, Stdio};

/// The `cliffwatch` binary with a clean environment: no inherited data dir, a keychain service
/// name of its own so no test touches a user's real entries.
pub fn cliffwatch(data_dir: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cliffwatch"));
    c.env_remove("CLIFFWATCH_DATA_DIR")
        .env(
            "CLIFFWATCH_KEYRING_SERVICE",
            format!("cliffwatch-test-{}", std::process::id()),
        )
        .arg("--data-dir")
        .arg(data_dir)
        .stdin(Stdio::null());
    c
}

/// Runs a command with `stdin` piped in.
pub fn run_with_stdin(mut c: Command, stdin: &str) -> Output {
    use std::io::Write;
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn cliffwatch");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

pub fn run(mut c: Command) -> Output {
    c.output().expect("spawn cliffwatch")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Parses stdout as JSON, failing with the whole output when it is not.
pub fn json(o: &Output) -> serde_json::Value {
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            stdout(o),
            stderr(o)
        )
    })
}

/// Asserts success and returns the output.
#[track_caller]
pub fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "expected success, got {:?}\nstdout:\n{}\nstderr:\n{}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    o
}

/// Asserts a failure with a one-sentence error on stderr, and returns the stderr text.
#[track_caller]
pub fn fails(o: &Output) -> String {
    assert!(
        !o.status.success(),
        "expected failure\nstdout:\n{}",
        stdout(o)
    );
    let err = stderr(o);
    let lines: Vec<_> = err.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "errors are one line on stderr, got:\n{err}");
    assert!(
        lines[0].starts_with("error: "),
        "errors start with `error: `: {err}"
    );
    err
}

/// In CI a missing service (keychain, display, notification daemon) is a broken harness and
/// must fail; elsewhere the test skips with a reason.
pub fn skip_or_fail(reason: &str) {
    if std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false") {
        panic!("CI must provide this service: {reason}");
    }
    eprintln!("SKIP: {reason}");
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

pub fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}
