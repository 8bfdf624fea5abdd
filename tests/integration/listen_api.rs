//! `cliffwatch watch --listen`: the read API on loopback against the demo's draining providers:
//! `/metrics` in the OpenMetrics text format with every account's balance, runway band and
//! state; `/v1/status` with the CLI's JSON; a foreign `Host` refused (DNS rebinding); a body
//! refused; a non-loopback address without a token refused at start.

use crate::support::*;
use std::io::{BufRead, Read, Write};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// One raw HTTP/1.1 request; returns (status, body).
fn http(addr: &str, path: &str, host: &str, extra: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{extra}\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

#[test]
fn the_read_api_serves_metrics_and_json_and_stays_closed() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args(["watch", "--demo", "--no-desktop", "--demo-tick-ms", "100"])
        .args(["--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = Killed(c.spawn().expect("spawn cliffwatch watch"));
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut addr = None;
    while addr.is_none() && Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
            addr = line
                .split("read API on http://")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .map(str::to_owned);
        }
    }
    let addr = addr.expect("the API prints its address");
    // Wait until the demo's first polls are in.
    let mut metrics = String::new();
    while Instant::now() < deadline {
        let (status, body) = http(&addr, "/metrics", &addr, "");
        assert_eq!(status, 200, "{body}");
        // Polls in, a runway band, and the demo agent's first prices asked (from its log).
        if body.contains("cliffwatch_balance_remaining{")
            && body.contains("quantile=\"0.1\"")
            && body.contains("outcome=\"payment_required\"")
        {
            metrics = body;
            break;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(
        metrics.ends_with("# EOF\n"),
        "OpenMetrics text ends with # EOF: {metrics}"
    );
    for needle in [
        "# TYPE cliffwatch_balance_remaining gauge",
        "account=\"llm-main\"",
        "provider=\"openrouter\"",
        "unit=\"usd\"",
        "cliffwatch_runway_hours{",
        "cliffwatch_account_state{",
        "state=\"ok\"",
        "cliffwatch_last_poll_timestamp_seconds{",
        "# TYPE cliffwatch_cliff_events counter",
        "cliffwatch_cliff_events_total{",
    ] {
        assert!(metrics.contains(needle), "{needle} in {metrics}");
    }
    assert!(
        !metrics.contains("demo-"),
        "no key, no secret in the metrics"
    );

    let (status, body) = http(&addr, "/v1/status", &addr, "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).expect("status JSON");
    assert_eq!(v["accounts"].as_array().map(Vec::len), Some(3), "{v}");
    let (status, body) = http(&addr, "/v1/forecast", &addr, "");
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v[0]["account"].is_string() && v[0]["runway_hours"].is_object()
            || v[0]["state"].is_string(),
        "{v}"
    );
    let (status, _) = http(&addr, "/v1/events?since=2000-01-01T00:00:00Z", &addr, "");
    assert_eq!(status, 200);
    let (status, _) = http(&addr, "/v1/events?since=yesterday", &addr, "");
    assert_eq!(status, 400, "a bad time is the client's error");

    // Closed: another Host (a web page's DNS rebinding), a body, an unknown path, no CORS.
    let (status, _) = http(&addr, "/metrics", "evil.example:9402", "");
    assert_eq!(status, 403);
    let (status, _) = http(&addr, "/v1/status", &addr, "Content-Length: 5\r\n\r\nhello");
    assert!(
        status == 413 || status == 400,
        "a body is refused: {status}"
    );
    let (status, _) = http(&addr, "/v1/accounts/1/key", &addr, "");
    assert_eq!(status, 404);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    write!(s, "GET /v1/status HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n").unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    assert!(
        !raw.to_ascii_lowercase()
            .contains("access-control-allow-origin"),
        "no CORS: {raw}"
    );
    drop(child);
}

#[test]
fn a_public_address_needs_a_token() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    c.args(["watch", "--no-desktop", "--listen", "0.0.0.0:0"]);
    let err = fails(&run(c));
    assert!(err.contains("--token-env"), "says how: {err}");
    let mut c = cliffwatch(tmp.path());
    c.env("CW_IT_API_TOKEN", "short").args([
        "watch",
        "--no-desktop",
        "--listen",
        "0.0.0.0:0",
        "--token-env",
        "CW_IT_API_TOKEN",
    ]);
    let err = fails(&run(c));
    assert!(err.contains("16 characters"), "{err}");
}

/// A child process killed when the test ends, passed or failed (a demo watcher left running
/// would poll on in the background).
struct Killed(std::process::Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
