//! The team roll-up of `deploy/` tested for real (issue 15, part 4): Debian's Prometheus and
//! Alertmanager, started here on free loopback ports with their own configuration and data
//! directories, scrape `cliffwatch watch --listen` while it polls a loopback provider on which
//! one account is refused with a 402 and another reads a balance of zero; the SHIPPED rules
//! file (`deploy/prometheus/cliffwatch.rules.yml`, as is) fires `CliffwatchOutOfCredit` for
//! both, and Alertmanager delivers them to a webhook receiver in this process, within
//! [`ALERT_DEADLINE`]. Beside it: `promtool check` / `promtool test
//! rules` / `amtool check-config` on the shipped files, and a check that every metric the rules
//! and the Grafana dashboard name is one `/metrics` serves, so renaming a metric breaks a test
//! instead of a team's dashboard.
//!
//! The binaries come from `scripts/setup` (Debian's `prometheus` and `prometheus-alertmanager`).
//! When they are missing these tests fail and say so; they never skip.

use crate::loopback_provider::Provider;
use crate::support::*;
use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

const PROMETHEUS: &str = "/usr/bin/prometheus";
const PROMTOOL: &str = "/usr/bin/promtool";
const ALERTMANAGER: &str = "/usr/bin/prometheus-alertmanager";
const AMTOOL: &str = "/usr/bin/amtool";
const SYSTEMD_ANALYZE: &str = "/usr/bin/systemd-analyze";

/// From the watcher's start to the alert at the receiver. Measured here: about 6 s (a first
/// poll, a 1 s scrape, a 1 s rule evaluation, Alertmanager's 1 s group wait); 120 s leaves room
/// for a loaded CI machine without letting a broken pipeline hang the run.
const ALERT_DEADLINE: Duration = Duration::from_secs(120);
/// How long Prometheus or Alertmanager may take to answer `/-/ready` (both take under 1 s here).
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// The keys live in environment variables (`--secret-env`): the keychain may be absent here.
const KEYS: [(&str, &str); 3] = [
    ("CW_PROM_KEY_DRY", "sk-prom-dry-0001"),
    ("CW_PROM_KEY_EMPTY", "sk-prom-empty-0002"),
    ("CW_PROM_KEY_OK", "sk-prom-ok-0003"),
];

/// A file of this checkout (the tests are compiled by crates/cli).
fn repo_file(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
}

/// Fails, never skips, when a binary `scripts/setup` installs is missing.
#[track_caller]
fn require(bin: &str) {
    assert!(
        Path::new(bin).is_file(),
        "{bin} is missing: run scripts/setup (it installs Debian's prometheus, \
         prometheus-alertmanager and systemd, which the team roll-up tests run for real)"
    );
}

/// A process that is killed when the test ends, passed or failed, so no Prometheus,
/// Alertmanager or watcher outlives a failing run. Its output goes to a file, whose tail is
/// printed when the test is failing.
struct Proc {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Proc {
    fn spawn(name: &'static str, mut c: Command, log: PathBuf) -> Proc {
        let out = std::fs::File::create(&log).unwrap();
        c.stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out);
        let child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e} (run scripts/setup)"));
        Proc { name, child, log }
    }

    /// The last lines of its output, for a failure message.
    fn tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<_> = text.lines().collect();
        lines[lines.len().saturating_sub(25)..].join("\n")
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("---- {} output (tail) ----\n{}", self.name, self.tail());
        }
    }
}

/// A loopback port nobody listens on right now. Prometheus and Alertmanager take a port, not a
/// socket, so there is a window in which another process could take it: [`start_ready`] retries
/// with a fresh port when the server exits at start.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Percent-encodes a query-string value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// One HTTP/1.0 GET (no chunked answers, the server closes); `None` when nothing answers.
fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let raw = String::from_utf8_lossy(&raw);
    let status = raw.split_whitespace().nth(1)?.parse().ok()?;
    let body = raw.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())?;
    Some((status, body))
}

/// Starts a server on a free loopback port and waits for its `/-/ready`; retries with another
/// port (three tries) when it exits at start, as it does when the port was taken meanwhile.
fn start_ready(name: &'static str, dir: &Path, command: impl Fn(u16) -> Command) -> (Proc, String) {
    let mut last = String::new();
    for attempt in 0..3 {
        let port = free_port();
        let addr = format!("127.0.0.1:{port}");
        let log = dir.join(format!("{name}-{attempt}.log"));
        let mut p = Proc::spawn(name, command(port), log);
        let deadline = Instant::now() + READY_DEADLINE;
        while Instant::now() < deadline {
            if let Some(status) = p.exited() {
                last = format!("{name} exited at start ({status}):\n{}", p.tail());
                break;
            }
            if get(&addr, "/-/ready").is_some_and(|(s, _)| s == 200) {
                return (p, addr);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        if p.exited().is_none() {
            panic!(
                "{name} was not ready within {READY_DEADLINE:?}:\n{}",
                p.tail()
            );
        }
    }
    panic!("{last}");
}

/// The webhook receiver Alertmanager delivers to: a loopback HTTP server in the test process
/// that keeps every JSON body POSTed to it and answers 200.
struct Receiver {
    port: u16,
    bodies: mpsc::Receiver<serde_json::Value>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, bodies) = mpsc::channel();
        let stop = Arc::new(AtomicBool::new(false));
        let st = stop.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                if let Some(v) = read_post(conn) {
                    let _ = tx.send(v);
                }
            }
        });
        Receiver { port, bodies, stop }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/alertmanager", self.port)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads one request (its `Content-Length` body), answers 200 and returns the body as JSON.
fn read_post(mut conn: TcpStream) -> Option<serde_json::Value> {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    let (head_len, body_len) = loop {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..at]).to_ascii_lowercase();
            let len = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (at + 4, len);
        }
        if raw.len() > 64 << 10 {
            return None;
        }
    };
    while raw.len() < head_len + body_len {
        let n = conn.read(&mut buf).ok()?;
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    serde_json::from_slice(raw.get(head_len..)?).ok()
}

/// Starts `cliffwatch watch --listen 127.0.0.1:0` (plus `extra` arguments) and returns it with
/// the address it printed.
fn start_watcher(c: Command, extra: &[&str], dir: &Path) -> (Proc, String) {
    let mut c = c;
    c.args(["watch", "--no-desktop", "--listen", "127.0.0.1:0"])
        .args(extra);
    let log = dir.join("watch.log");
    let mut p = Proc::spawn("cliffwatch watch", c, log.clone());
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        let addr = text
            .lines()
            .find_map(|l| l.split("read API on http://").nth(1))
            .and_then(|r| r.split('/').next());
        if let Some(addr) = addr {
            return (p, addr.to_owned());
        }
        if let Some(status) = p.exited() {
            panic!("the watcher exited ({status}):\n{}", p.tail());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the watcher printed no address within 60 s:\n{}", p.tail());
}

/// Polls `/metrics` until `ready` holds for its text (or 60 s pass).
fn metrics_when(addr: &str, ready: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        if let Some((200, body)) = get(addr, "/metrics") {
            if ready(&body) {
                return body;
            }
            last = body;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("/metrics did not get there within 60 s; last:\n{last}");
}

/// A Prometheus instant query; the whole JSON answer.
fn query(prom: &str, q: &str) -> serde_json::Value {
    let (status, body) = get(prom, &format!("/api/v1/query?query={}", encode(q)))
        .unwrap_or_else(|| panic!("Prometheus did not answer the query {q}"));
    let v: serde_json::Value = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("Prometheus answered {status} with no JSON ({e}): {body}"));
    assert_eq!(
        v["status"], "success",
        "Prometheus rejected the query {q}: {v}"
    );
    v
}

#[test]
fn prometheus_fires_the_shipped_out_of_credit_rule_and_alertmanager_delivers_it() {
    for bin in [PROMETHEUS, ALERTMANAGER] {
        require(bin);
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let data = dir.join("data");
    let provider = Provider::start();
    let receiver = Receiver::start();

    // Three DeepSeek accounts on the loopback provider: "dry" is refused with a 402
    // ("Insufficient Balance"), "empty" reads a balance of 0.00, "ok" one of 10,000. The first
    // two are out of credit, each its own way; "ok" must never reach the receiver.
    let urls = [provider.dry_url(), provider.empty_url(), provider.ok_url()];
    for ((label, url), (var, _)) in ["dry", "empty", "ok"].into_iter().zip(&urls).zip(KEYS) {
        let mut c = cliffwatch(&data);
        c.envs(KEYS)
            .args(["account", "add", "--provider", "deepseek", "--label", label])
            .args(["--base-url", url, "--secret-env", var]);
        ok(run(c));
    }

    let started = Instant::now();
    let mut c = cliffwatch(&data);
    c.envs(KEYS);
    let (_watcher, watcher) = start_watcher(c, &[], dir);

    // Alertmanager: everything to the receiver, 1 s group wait; no cluster port (it would
    // bind 0.0.0.0:9094).
    let am_config = dir.join("alertmanager.yml");
    std::fs::write(
        &am_config,
        format!(
            "route:\n  receiver: test-webhook\n  group_by: [alertname, instance, account]\n  \
             group_wait: 1s\n  group_interval: 1s\n  repeat_interval: 1h\n\
             receivers:\n  - name: test-webhook\n    webhook_configs:\n      - url: {}\n",
            receiver.url()
        ),
    )
    .unwrap();
    let am_data = dir.join("alertmanager-data");
    let (_am, am) = start_ready("alertmanager", dir, |port| {
        let mut c = Command::new(ALERTMANAGER);
        c.arg(format!("--config.file={}", am_config.display()))
            .arg(format!("--storage.path={}", am_data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=");
        c
    });

    // Prometheus: 1 s scrapes and evaluations of the shipped rules file, alerts to the above.
    let rules = repo_file("deploy/prometheus/cliffwatch.rules.yml")
        .canonicalize()
        .unwrap();
    let prom_config = dir.join("prometheus.yml");
    std::fs::write(
        &prom_config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             rule_files:\n  - {rules:?}\n\
             alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: [\"{am}\"]\n\
             scrape_configs:\n  - job_name: cliffwatch\n    static_configs:\n      \
             - targets: [\"{watcher}\"]\n",
            rules = rules.display().to_string()
        ),
    )
    .unwrap();
    let prom_data = dir.join("prometheus-data");
    let (_prom, prom) = start_ready("prometheus", dir, |port| {
        let mut c = Command::new(PROMETHEUS);
        c.arg(format!("--config.file={}", prom_config.display()))
            .arg(format!("--storage.tsdb.path={}", prom_data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"));
        c
    });

    // Wait for the deliveries, polling the receiver.
    let deadline = started + ALERT_DEADLINE;
    let mut delivered: Vec<serde_json::Value> = Vec::new();
    let out_of_credit = |delivered: &[serde_json::Value], account: &str| {
        delivered
            .iter()
            .flat_map(|b| b["alerts"].as_array().cloned().unwrap_or_default())
            .find(|a| {
                a["labels"]["alertname"] == "CliffwatchOutOfCredit"
                    && a["labels"]["account"] == account
            })
    };
    let mut arrived = [None, None];
    let (dry, empty) = loop {
        if let Ok(body) = receiver.bodies.recv_timeout(Duration::from_millis(200)) {
            delivered.push(body);
        }
        for (i, account) in ["dry", "empty"].into_iter().enumerate() {
            if arrived[i].is_none() {
                arrived[i] = out_of_credit(&delivered, account).map(|a| (a, started.elapsed()));
            }
        }
        if let [Some(d), Some(e)] = &arrived {
            break (d.clone(), e.clone());
        }
        if Instant::now() > deadline {
            let alerts = get(&prom, "/api/v1/alerts").map(|(_, b)| b);
            let targets = get(&prom, "/api/v1/targets").map(|(_, b)| b);
            panic!(
                "no CliffwatchOutOfCredit for both \"dry\" and \"empty\" at the receiver within \
                 {ALERT_DEADLINE:?}\n\
                 delivered: {delivered:?}\nPrometheus alerts: {alerts:?}\ntargets: {targets:?}\n\
                 provider served: {:?}",
                provider.served()
            );
        }
    };
    for ((alert, took), account, why) in [
        (&dry, "dry", "refused with a 402"),
        (&empty, "empty", "a balance of 0.00"),
    ] {
        eprintln!(
            "CliffwatchOutOfCredit for \"{account}\" ({why}) reached the webhook receiver {:.1} s \
             after the watcher started",
            took.as_secs_f64()
        );
        let labels = &alert["labels"];
        for (k, want) in [
            ("account", account),
            ("provider", "deepseek"),
            ("state", "out_of_credit"),
            ("severity", "critical"),
            ("job", "cliffwatch"),
            ("instance", watcher.as_str()),
        ] {
            assert_eq!(
                labels[k], want,
                "the alert for {account} ({why}) names the account, provider and watcher the \
                 rule saw ({k}): {alert}"
            );
        }
        // The unit comes from a reading: "dry" never had one (an empty label is no label).
        let unit = if account == "empty" { "usd" } else { "" };
        assert_eq!(labels["unit"].as_str().unwrap_or_default(), unit, "{alert}");
        assert_eq!(alert["status"], "firing", "{alert}");
        assert_eq!(
            alert["annotations"]["summary"],
            format!("deepseek · {account} is out of credit"),
            "the shipped summary template renders the labels: {alert}"
        );
    }
    let served = provider.served();
    assert!(
        served.dry > 0 && served.empty > 0,
        "the alerts stand on real answers from the provider: {served:?}"
    );

    // The recording rule over the 402 history has the dry account's poll 402s in it (it needs
    // two scrapes; give it a few seconds).
    let wait = Instant::now() + Duration::from_secs(30);
    loop {
        let v = query(
            &prom,
            "cliffwatch:out_of_credit_events:increase15m{account=\"dry\"}",
        );
        if v["data"]["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty())
        {
            break;
        }
        assert!(
            Instant::now() < wait,
            "the recording rule over cliffwatch_cliff_events_total{{outcome=\"out_of_credit\"}} \
             stays empty: the outcome label the rules match is not the one /metrics serves: {v}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }

    // Every query the Grafana dashboard runs is PromQL this Prometheus accepts (Grafana's
    // variables replaced as Grafana would), and the panels over current values have data.
    for (title, expr) in dashboard_queries() {
        if expr.starts_with("label_values(") {
            continue;
        }
        let q = expr
            .replace("$__rate_interval", "1m")
            .replace("$__interval", "1s")
            .replace("$__range", "1h")
            .replace("$instance", ".*")
            .replace("$account", ".*");
        let v = query(&prom, &q);
        if title == "Account state" || title == "Last reading age" {
            assert!(
                v["data"]["result"]
                    .as_array()
                    .is_some_and(|r| !r.is_empty()),
                "the dashboard's \"{title}\" panel shows nothing for a live watcher: {q} → {v}"
            );
        }
    }

    // The healthy account never reaches the receiver as out of credit.
    while let Ok(body) = receiver.bodies.try_recv() {
        delivered.push(body);
    }
    assert!(
        !delivered
            .iter()
            .flat_map(|b| b["alerts"].as_array().cloned().unwrap_or_default())
            .any(|a| a["labels"]["alertname"] == "CliffwatchOutOfCredit"
                && a["labels"]["account"] == "ok"),
        "an account with credit is not alerted: {delivered:?}"
    );
}

#[test]
fn promtool_and_amtool_accept_the_shipped_files() {
    for bin in [PROMTOOL, AMTOOL] {
        require(bin);
    }
    let check = |bin: &str, args: &[&str]| {
        let mut c = Command::new(bin);
        c.args(args).current_dir(repo_file(""));
        let o = c.output().unwrap();
        assert!(
            o.status.success(),
            "{bin} {args:?} fails on a shipped file:\n{}{}",
            stdout(&o),
            stderr(&o)
        );
        stdout(&o)
    };
    let out = check(
        PROMTOOL,
        &["check", "rules", "deploy/prometheus/cliffwatch.rules.yml"],
    );
    assert!(out.contains("SUCCESS: 8 rules found"), "{out}");
    check(
        PROMTOOL,
        &[
            "check",
            "config",
            "deploy/prometheus/prometheus.example.yml",
        ],
    );
    // The rules' unit tests: each alert fires (after its `for:`) on the series it is for, with
    // the labels and rendered annotations a receiver gets, and not on the ones it is not for.
    let out = check(
        PROMTOOL,
        &[
            "test",
            "rules",
            "deploy/prometheus/cliffwatch.rules.test.yml",
        ],
    );
    assert!(out.contains("SUCCESS"), "{out}");
    check(
        AMTOOL,
        &[
            "check-config",
            "deploy/alertmanager/alertmanager.example.yml",
        ],
    );
    // The example routing does what its comments say: critical alerts to on-call and the chat,
    // the others to the chat.
    for (labels, want) in [
        (
            ["alertname=CliffwatchOutOfCredit", "severity=critical"],
            "on-call,team-chat",
        ),
        (
            ["alertname=CliffwatchStalePolls", "severity=warning"],
            "team-chat",
        ),
    ] {
        let mut args = vec![
            "config",
            "routes",
            "test",
            "--config.file=deploy/alertmanager/alertmanager.example.yml",
        ];
        args.extend(labels);
        let out = check(AMTOOL, &args);
        assert_eq!(out.trim(), want, "{labels:?} is routed to {want}");
    }
}

/// Every `cliffwatch_…` name in `text` (a PromQL expression), and every `cliffwatch:…`
/// recording-rule name.
fn names_in(text: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut metrics, mut recorded) = (BTreeSet::new(), BTreeSet::new());
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = text[i..].find("cliffwatch") {
        let start = i + at;
        let before_ok = start == 0 || {
            let b = bytes[start - 1];
            !(b.is_ascii_alphanumeric() || b == b'_' || b == b':')
        };
        let mut end = start + "cliffwatch".len();
        while end < bytes.len()
            && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b':')
        {
            end += 1;
        }
        let name = &text[start..end];
        if before_ok {
            if name.starts_with("cliffwatch_") {
                metrics.insert(name.to_owned());
            } else if name.starts_with("cliffwatch:") {
                recorded.insert(name.to_owned());
            }
        }
        i = end;
    }
    (metrics, recorded)
}

/// The shipped rules file's `expr:` and `record:` lines.
fn rules_text() -> (Vec<String>, BTreeSet<String>) {
    let text =
        std::fs::read_to_string(repo_file("deploy/prometheus/cliffwatch.rules.yml")).unwrap();
    let mut exprs = Vec::new();
    let mut records = BTreeSet::new();
    for line in text.lines() {
        let t = line.trim_start().trim_start_matches("- ");
        if let Some(e) = t.strip_prefix("expr:") {
            exprs.push(e.trim().to_owned());
        } else if let Some(r) = t.strip_prefix("record:") {
            records.insert(r.trim().to_owned());
        }
    }
    (exprs, records)
}

/// The Grafana dashboard, parsed.
fn dashboard() -> serde_json::Value {
    let text = std::fs::read_to_string(repo_file("deploy/grafana/cliffwatch.json")).unwrap();
    serde_json::from_str(&text).expect("deploy/grafana/cliffwatch.json is valid JSON")
}

/// (panel or variable title, query) for every query of the dashboard: panel targets' `expr`
/// and the template variables' queries.
fn dashboard_queries() -> Vec<(String, String)> {
    let d = dashboard();
    let mut out = Vec::new();
    for p in d["panels"].as_array().into_iter().flatten() {
        let title = p["title"].as_str().unwrap_or_default().to_owned();
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push((title.clone(), e.to_owned()));
            }
        }
    }
    for v in d["templating"]["list"].as_array().into_iter().flatten() {
        let name = v["name"].as_str().unwrap_or_default().to_owned();
        let q = v["query"]["query"]
            .as_str()
            .or(v["definition"].as_str())
            .or(v["query"].as_str());
        if v["type"] == "query" {
            out.push((name, q.unwrap_or_default().to_owned()));
        }
    }
    out
}

#[test]
fn every_metric_the_rules_and_the_dashboard_use_is_served() {
    // The demo's draining providers, fast: within seconds every series is there, the LLM key
    // out of credit and its client's log answering 402.
    let tmp = tempfile::tempdir().unwrap();
    let c = cliffwatch(&tmp.path().join("data"));
    let (_watcher, addr) = start_watcher(c, &["--demo", "--demo-tick-ms", "50"], tmp.path());
    let metrics = metrics_when(&addr, |m| {
        m.contains("quantile=\"0.1\"")
            && m.contains("cliffwatch_balance_limit{")
            && m.contains("cliffwatch_burn_per_day{")
            && m.contains("cliffwatch_last_poll_timestamp_seconds{")
            && m.lines().any(|l| {
                l.starts_with("cliffwatch_cliff_events_total{")
                    && l.contains("outcome=\"out_of_credit\"")
            })
    });
    // The series names served, and every `label="value"` pair they carry.
    let mut served = BTreeSet::new();
    let mut pairs = BTreeSet::new();
    for line in metrics.lines().filter(|l| !l.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap_or_default();
        served.insert(name.to_owned());
        if let Some(labels) = line.split_once('{').and_then(|(_, r)| r.split_once('}')) {
            for pair in labels.0.split(',') {
                pairs.insert(pair.to_owned());
            }
        }
    }

    let (exprs, records) = rules_text();
    assert!(
        exprs.len() >= 8,
        "every rule of the shipped file was read: {exprs:?}"
    );
    let mut queries: Vec<(String, String)> = exprs
        .into_iter()
        .map(|e| ("deploy/prometheus/cliffwatch.rules.yml".to_owned(), e))
        .collect();
    let from_dashboard = dashboard_queries();
    assert!(
        from_dashboard.len() >= 10,
        "the dashboard's panels and variables were read: {from_dashboard:?}"
    );
    queries.extend(
        from_dashboard
            .into_iter()
            .map(|(t, e)| (format!("deploy/grafana/cliffwatch.json \"{t}\""), e)),
    );
    let mut used = BTreeSet::new();
    for (source, q) in &queries {
        let (metrics_named, recorded_named) = names_in(q);
        for m in &metrics_named {
            assert!(
                served.contains(m),
                "{source} uses {m}, which /metrics does not serve (renamed?): {q}\nserved: {served:?}"
            );
            used.insert(m.clone());
        }
        for r in &recorded_named {
            assert!(
                records.contains(r),
                "{source} uses {r}, which no `record:` of the shipped rules defines: {q}"
            );
        }
        // Label values matched exactly (`state="out_of_credit"`) must be values /metrics uses,
        // or the selector silently matches nothing.
        for key in ["state", "outcome", "quantile"] {
            let needle = format!("{key}=\"");
            let mut rest = q.as_str();
            while let Some(at) = rest.find(&needle) {
                // A whole label name: `alertstate="firing"` is not `state="firing"`.
                let whole = rest[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '_'));
                let tail = &rest[at + needle.len()..];
                let value = tail.split('"').next().unwrap_or_default();
                let pair = format!("{key}=\"{value}\"");
                assert!(
                    !whole || pairs.contains(&pair),
                    "{source} matches {pair}, which no series of /metrics carries: {q}"
                );
                rest = tail;
            }
        }
    }
    // The dashboard covers what it promises: balances, the runway band, states, the 402
    // timeline and the last reading.
    for m in [
        "cliffwatch_balance_remaining",
        "cliffwatch_runway_hours",
        "cliffwatch_account_state",
        "cliffwatch_cliff_events_total",
        "cliffwatch_last_poll_timestamp_seconds",
    ] {
        assert!(
            used.contains(m),
            "{m} is used by the rules or the dashboard"
        );
    }

    // The dashboard's shape: a Prometheus datasource variable every panel and query variable
    // uses, instance and account variables, unique panel ids on a 24-column grid.
    let d = dashboard();
    assert!(
        d["schemaVersion"].as_i64().is_some_and(|v| v >= 36),
        "{}",
        d["schemaVersion"]
    );
    let vars: Vec<_> = d["templating"]["list"].as_array().unwrap().clone();
    let names: Vec<_> = vars.iter().filter_map(|v| v["name"].as_str()).collect();
    for want in ["DS_PROMETHEUS", "instance", "account"] {
        assert!(
            names.contains(&want),
            "the dashboard has a ${want} variable: {names:?}"
        );
    }
    let mut ids = BTreeSet::new();
    for p in d["panels"].as_array().unwrap() {
        let title = p["title"].as_str().unwrap_or_default();
        assert!(
            ids.insert(p["id"].as_i64().unwrap()),
            "unique panel id: {title}"
        );
        assert_eq!(
            p["datasource"]["uid"], "${DS_PROMETHEUS}",
            "\"{title}\" reads the chosen Prometheus"
        );
        let g = &p["gridPos"];
        let (x, w) = (g["x"].as_i64().unwrap(), g["w"].as_i64().unwrap());
        assert!(
            x >= 0 && w > 0 && x + w <= 24,
            "\"{title}\" fits the grid: {g}"
        );
        assert!(
            p["targets"].as_array().is_some_and(|t| !t.is_empty()),
            "\"{title}\" has a query"
        );
    }
    for v in vars.iter().filter(|v| v["type"] == "query") {
        assert_eq!(v["datasource"]["uid"], "${DS_PROMETHEUS}", "{v}");
    }
}

#[test]
fn the_listen_drop_in_runs_the_watcher_on_the_port_the_scrape_config_names() {
    require(SYSTEMD_ANALYZE);
    let unit =
        std::fs::read_to_string(repo_file("deploy/systemd/cliffwatch.service.d/listen.conf"))
            .unwrap();
    let exec: Vec<_> = unit
        .lines()
        .filter(|l| l.starts_with("ExecStart="))
        .collect();
    assert_eq!(
        exec,
        [
            "ExecStart=",
            "ExecStart=/usr/bin/cliffwatch watch --listen 127.0.0.1:9402"
        ],
        "a drop-in first clears the packaged unit's ExecStart, then sets its own"
    );
    let packaged =
        std::fs::read_to_string(repo_file("packaging/linux/cliffwatch.service")).unwrap();
    assert!(
        packaged.contains("\nExecStart=/usr/bin/cliffwatch watch\n"),
        "the drop-in overrides the packaged unit's command, with the same binary"
    );
    let scrape =
        std::fs::read_to_string(repo_file("deploy/prometheus/prometheus.example.yml")).unwrap();
    assert!(
        scrape.contains("\"127.0.0.1:9402\""),
        "the example scrape config scrapes the port the drop-in listens on"
    );

    // systemd itself merges the packaged unit with the drop-in and finds nothing wrong (an
    // unknown key, a misplaced one, two ExecStart= lines). The copies run the binary this test
    // built, as verify checks that the command exists.
    let tmp = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_cliffwatch");
    let dropins = tmp.path().join("cliffwatch.service.d");
    std::fs::create_dir(&dropins).unwrap();
    let service = tmp.path().join("cliffwatch.service");
    std::fs::write(&service, packaged.replace("/usr/bin/cliffwatch", bin)).unwrap();
    std::fs::write(
        dropins.join("listen.conf"),
        unit.replace("/usr/bin/cliffwatch", bin),
    )
    .unwrap();
    let o = Command::new(SYSTEMD_ANALYZE)
        // The trailing colon keeps systemd's own unit directories after ours.
        .env("SYSTEMD_UNIT_PATH", format!("{}:", tmp.path().display()))
        .arg("verify")
        .arg(&service)
        .output()
        .unwrap();
    assert!(
        o.status.success() && stderr(&o).trim().is_empty(),
        "systemd-analyze verify finds the unit and its drop-in clean ({:?}):\n{}",
        o.status,
        stderr(&o)
    );
}
