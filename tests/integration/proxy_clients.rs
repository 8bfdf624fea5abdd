//! The recording proxy with clients nobody here wrote (issue 16): the official OpenAI Python SDK
//! (PyPI, pinned in tests/python/requirements.txt) with `base_url` at `cliffwatch proxy`, and
//! curl, against a loopback upstream that speaks OpenAI's wire format
//! (`cliffwatch_bench::wire`).
//!
//! One plain and one `stream=True` completion, an upstream 402, an x402 v2 challenge and a
//! 200 MB download pass through. Asserted: the client gets byte-identical bodies and the same
//! status and headers (minus hop-by-hop); the key arrives at the upstream unchanged and is
//! stored nowhere; the usage recorded is what the upstream sent; the 402 and the challenge are in
//! the history with their payment data; with the breaker on, the next request is answered by a
//! local 402 and never reaches the upstream.

use crate::support::{cliffwatch, contains, files_under, json, ok, run, stdout};
use cliffwatch_bench::wire::{self, Upstream};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The client's own key: it must reach the upstream and nothing else.
const CLIENT_KEY: &str = "sk-or-v1-proxyclient0123456789abcdefPLANTED";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `cliffwatch proxy` on a free port; killed on drop.
struct ProxyProcess {
    child: Child,
    addr: String,
}

impl ProxyProcess {
    fn start(data: &Path) -> ProxyProcess {
        let mut c = cliffwatch(data);
        c.args(["proxy", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("spawn cliffwatch proxy");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let addr = loop {
            let line = lines
                .next()
                .expect("the proxy says where it listens")
                .unwrap();
            if let Some(rest) = line.strip_prefix("cliffwatch: proxy on http://") {
                break rest.split('/').next().unwrap().to_owned();
            }
        };
        // Keep draining stderr so the proxy never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines.by_ref() {});
        ProxyProcess { child, addr }
    }
}

impl Drop for ProxyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// curl, as a user would run it: status and headers to one file, the body to another.
fn curl(args: &[&str], dir: &Path, name: &str) -> (u16, Vec<(String, String)>, PathBuf) {
    let (head, body) = (
        dir.join(format!("{name}.head")),
        dir.join(format!("{name}.body")),
    );
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "120", "-D"])
        .arg(&head)
        .arg("-o")
        .arg(&body)
        .args(args)
        .output()
        .expect("curl is installed (scripts/setup)");
    assert!(
        out.status.success(),
        "curl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&head).unwrap();
    // A large upload gets `100 Continue` first: the final answer is the last block.
    let last = text
        .split("\r\n\r\n")
        .filter(|b| !b.trim().is_empty())
        .last()
        .unwrap_or_default();
    let mut lines = last.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

/// Headers a client compares: all but the hop-by-hop ones and `date` (a second apart).
fn comparable(mut h: Vec<(String, String)>) -> Vec<(String, String)> {
    h.retain(|(n, _)| {
        !matches!(
            n.as_str(),
            "date" | "connection" | "keep-alive" | "transfer-encoding"
        )
    });
    h.sort();
    h
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while Instant::now() < until {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn events(data: &Path) -> Vec<serde_json::Value> {
    let mut c = cliffwatch(data);
    c.args(["--json", "events"]);
    json(&ok(run(c))).as_array().cloned().unwrap_or_default()
}

/// A usage row as stored: (model, input, output, cache read, cost, dedupe key).
type UsageRow = (Option<String>, i64, i64, i64, Option<f64>, String);

fn usage_rows(data: &Path) -> Vec<UsageRow> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let url = format!("sqlite://{}?mode=ro", data.join("cliffwatch.db").display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let rows = sqlx::query_as(
            "SELECT model, input_tokens, output_tokens, cache_read_tokens, cost, dedupe_key \
             FROM usage_records WHERE account_id IS NOT NULL ORDER BY dedupe_key",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    })
}

fn python(args: &[&str]) -> serde_json::Value {
    let py = repo().join("target/pyvenv/bin/python");
    assert!(
        py.exists(),
        "{} is missing: run scripts/setup (it creates the venv with the SDKs pinned in \
         tests/python/requirements.txt)",
        py.display()
    );
    let out = Command::new(py)
        .arg(repo().join("tests/python/openai_client.py"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the OpenAI SDK client failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn real_clients_through_the_proxy_are_recorded_and_the_breaker_stops_them() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let upstream = Upstream::start(0, 2).unwrap();
    let mut add = cliffwatch(&data);
    // The account's own key (for balance polls) stays in an environment variable.
    add.env("CW_TEST_POLL_KEY", "sk-or-v1-pollkey-not-the-clients-0000")
        .args([
            "account",
            "add",
            "--provider",
            "openrouter",
            "--label",
            "router",
        ])
        .args([
            "--base-url",
            &upstream.base_url(),
            "--secret-env",
            "CW_TEST_POLL_KEY",
        ]);
    ok(run(add));
    let proxy = ProxyProcess::start(&data);
    let base = format!("http://{}/a/router/v1", proxy.addr);

    // The SDK: a plain completion, a stream (parsed and raw), then the upstream's 402.
    let got = python(&[&base, CLIENT_KEY, "normal"]);
    assert_eq!(got["plain"]["status"], 200);
    assert_eq!(
        got["plain"]["body"].as_str().unwrap(),
        wire::plain_body("gpt-4o-mini"),
        "the plain body arrives byte for byte"
    );
    assert_eq!(
        got["plain"]["request_id"], "req-wire-plain",
        "end-to-end headers pass"
    );
    assert_eq!(got["plain"]["usage"]["prompt_tokens"], wire::PLAIN_USAGE.0);
    assert_eq!(
        got["stream"]["text"], "Top up soon.",
        "the SDK parsed the stream"
    );
    assert_eq!(
        got["stream"]["usage"]["completion_tokens"],
        wire::STREAM_USAGE.1
    );
    assert_eq!(got["stream_raw"]["content_type"], "text/event-stream");
    assert_eq!(
        got["stream_raw"]["body"].as_str().unwrap(),
        wire::stream_events("gpt-4o-mini").concat(),
        "the stream arrives byte for byte"
    );
    assert_eq!(got["refused"]["status"], 402);
    assert_eq!(got["refused"]["body"].as_str().unwrap(), wire::BROKE_BODY);
    let seen = upstream.seen();
    assert_eq!(
        seen.len(),
        4,
        "four requests reached the upstream: {seen:?}"
    );
    for s in &seen {
        assert_eq!(
            s.authorization.as_deref(),
            Some(format!("Bearer {CLIENT_KEY}").as_str()),
            "the client's own key arrives unchanged"
        );
        assert_eq!(
            s.host.as_deref(),
            Some(upstream.addr.to_string().as_str()),
            "Host is the upstream's"
        );
        assert!(
            s.hop_by_hop.is_empty(),
            "no hop-by-hop field crosses: {:?}",
            s.hop_by_hop
        );
    }

    // curl, direct and through the proxy: the same status, headers and bytes.
    let body = r#"{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}"#;
    let post = |url: &str, name: &str| {
        curl(
            &[
                "-H",
                "content-type: application/json",
                "-H",
                &format!("authorization: Bearer {CLIENT_KEY}"),
                "--data",
                body,
                url,
            ],
            tmp.path(),
            name,
        )
    };
    let direct = post(
        &format!("{}/v1/chat/completions", upstream.base_url()),
        "direct",
    );
    let proxied = post(&format!("{base}/chat/completions"), "proxied");
    assert_eq!(direct.0, proxied.0);
    assert_eq!(
        comparable(direct.1),
        comparable(proxied.1),
        "the same headers, minus hop-by-hop"
    );
    assert_eq!(
        std::fs::read(&direct.2).unwrap(),
        std::fs::read(&proxied.2).unwrap(),
        "the same bytes"
    );

    // An x402 v2 challenge: passed on as it came, stored with its price.
    let x402 = format!("http://{}/a/router/x402/data", proxy.addr);
    let (status, headers, _) = curl(&[&x402], tmp.path(), "x402");
    assert_eq!(status, 402);
    assert!(
        headers.iter().any(|(n, _)| n == "payment-required"),
        "the challenge header reaches the client"
    );

    // 200 MB streamed through and checked byte for byte without holding it.
    const BIG: u64 = 200 * 1024 * 1024;
    let (status, headers, file) = curl(
        &[&format!("http://{}/a/router/bytes/{BIG}", proxy.addr)],
        tmp.path(),
        "big",
    );
    assert_eq!(status, 200);
    assert!(headers
        .iter()
        .any(|(n, v)| n == "content-length" && v == &BIG.to_string()));
    let mut f = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(&file).unwrap());
    let (mut at, mut buf) = (0u64, vec![0u8; 1 << 20]);
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        for (i, b) in buf[..n].iter().enumerate() {
            assert_eq!(
                *b,
                wire::byte_at(at + i as u64),
                "byte {} of the download",
                at + i as u64
            );
        }
        at += n as u64;
    }
    assert_eq!(at, BIG, "every byte arrived");

    // And 200 MB up: a request body of any size streams through (the same bytes, as a file).
    let sent = tmp.path().join("upload.bin");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&sent).unwrap());
        let chunk: Vec<u8> = (0..BIG).map(wire::byte_at).collect();
        std::io::Write::write_all(&mut w, &chunk).unwrap();
    }
    std::fs::remove_file(&file).unwrap();
    let (status, _, answer) = curl(
        &[
            "--data-binary",
            &format!("@{}", sent.display()),
            "-H",
            "content-type: application/octet-stream",
            &format!("http://{}/a/router/upload", proxy.addr),
        ],
        tmp.path(),
        "upload",
    );
    assert_eq!(status, 200);
    let answer: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&answer).unwrap()).unwrap();
    assert_eq!(
        answer["bytes"], BIG,
        "the whole upload reached the upstream: {answer}"
    );
    assert_eq!(answer["intact"], true, "byte for byte");
    std::fs::remove_file(&sent).unwrap();

    // What was recorded: the 402 (out of credit) and the challenge (a price), from the proxy.
    wait_for("the 402 and the challenge in the history", || {
        events(&data).len() >= 2
    });
    let evs = events(&data);
    let out_of_credit = evs
        .iter()
        .find(|e| e["outcome"] == "out_of_credit")
        .unwrap_or_else(|| panic!("the upstream's 402 is out of credit: {evs:?}"));
    assert_eq!(out_of_credit["origin"], "proxy");
    assert_eq!(out_of_credit["status"], 402);
    let challenge = evs
        .iter()
        .find(|e| e["outcome"] == "payment_required")
        .unwrap_or_else(|| panic!("the x402 challenge is a price asked: {evs:?}"));
    assert_eq!(challenge["payment"]["protocol"], "x402", "{challenge}");
    assert_eq!(
        challenge["payment"]["amount_atomic"], "10000",
        "{challenge}"
    );

    // Usage: what the upstream sent, once per answer (the plain answer came twice, by the SDK
    // and by curl: one id, one record), priced from the table (the upstream states no cost).
    wait_for("the usage of both answers", || usage_rows(&data).len() >= 2);
    let rows = usage_rows(&data);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (prompt, completion, cached) = wire::PLAIN_USAGE;
    let plain = rows
        .iter()
        .find(|r| r.5.ends_with("chatcmpl-wire-plain"))
        .expect("the plain answer's usage");
    assert_eq!(
        (plain.1, plain.2, plain.3),
        (prompt - cached, completion, cached)
    );
    assert!(plain.4.is_some_and(|c| c > 0.0), "priced: {plain:?}");
    let stream = rows
        .iter()
        .find(|r| r.5.ends_with("chatcmpl-wire-stream"))
        .expect("the stream's usage, from its final chunk");
    assert_eq!((stream.1, stream.2), wire::STREAM_USAGE);

    // The breaker: on, and the account is known out of credit (the 402 above) — the next
    // request is answered here and never reaches the upstream.
    let mut on = cliffwatch(&data);
    on.args(["account", "breaker", "router", "on"]);
    ok(run(on));
    let mut st = cliffwatch(&data);
    st.args(["--json", "status"]);
    let status = json(&ok(run(st)));
    assert!(
        status["accounts"][0]["breaker_open_since"].is_string(),
        "status --json shows the open breaker: {status}"
    );
    let mut st = cliffwatch(&data);
    st.arg("status");
    let text = stdout(&ok(run(st)));
    assert!(
        text.contains(", breaker open") && text.contains("Breaker open for `router` since"),
        "status shows the open breaker: {text}"
    );
    let before = upstream.seen().len();
    // The proxy re-reads routes within two seconds of another process's change.
    std::thread::sleep(Duration::from_millis(2_200));
    let got = python(&[&base, CLIENT_KEY, "breaker"]);
    assert_eq!(got["refused"]["status"], 402);
    assert_eq!(got["refused"]["breaker"], "open");
    let refusal = got["refused"]["body"].as_str().unwrap();
    assert!(
        refusal.contains("`router`") && refusal.contains("out of credit since"),
        "the local 402 says which account and since when: {refusal}"
    );
    assert_eq!(
        upstream.seen().len(),
        before,
        "the request never reached the upstream"
    );

    // No key anywhere Cliffwatch writes.
    drop(proxy);
    for f in files_under(&data) {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !contains(&bytes, &CLIENT_KEY[10..]),
            "the client's key is in {}",
            f.display()
        );
    }
}
