//! Alert channels through the real binary: one channel of each kind against a loopback receiver
//! that answers like the real service (Slack's `ok`, Discord's 204, ntfy's JSON, Telegram's
//! `{"ok": true}`), `channel test` for each, and a running `watch` whose account goes out of
//! credit: the alert reaches the webhook and `alerts --json` shows each channel's delivery.

use crate::loopback_provider::Provider;
use crate::support::*;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Got {
    path: String,
    headers: String,
    body: serde_json::Value,
}

/// A loopback HTTP receiver answering by path like the services channels post to.
struct Receiver {
    port: u16,
    got: Arc<Mutex<Vec<Got>>>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let g = g.clone();
                std::thread::spawn(move || answer(conn, &g));
            }
        });
        Receiver { port, got }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    fn wait_for(&self, what: impl Fn(&Got) -> bool, limit: Duration) -> Option<Got> {
        let start = Instant::now();
        while start.elapsed() < limit {
            if let Some(g) = self.got().into_iter().find(&what) {
                return Some(g);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }
}

fn answer(mut conn: TcpStream, got: &Mutex<Vec<Got>>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let (head_end, length) = loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..i]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (i + 4, length);
        }
    };
    while data.len() < head_end + length {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
    let path = head.split_whitespace().nth(1).unwrap_or("").to_owned();
    let body = serde_json::from_slice(&data[head_end..]).unwrap_or(serde_json::Value::Null);
    got.lock().unwrap().push(Got {
        path: path.clone(),
        headers: head.to_ascii_lowercase(),
        body,
    });
    let (status, body) = if path.starts_with("/slack/") {
        ("200 OK", "ok".to_owned())
    } else if path.starts_with("/discord/") {
        ("204 No Content", String::new())
    } else if path.contains("/sendMessage") {
        (
            "200 OK",
            r#"{"ok":true,"result":{"message_id":42}}"#.to_owned(),
        )
    } else if path == "/ntfy/" {
        ("200 OK", r#"{"id":"x1","event":"message"}"#.to_owned())
    } else if path.starts_with("/gone") {
        ("404 Not Found", "no_service".to_owned())
    } else {
        ("200 OK", "{}".to_owned())
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

const TOKEN: &str = "424242:AAF-planted_TelegramToken";

#[test]
fn a_channel_of_each_kind_gets_its_wire_format() {
    let tmp = tempfile::tempdir().unwrap();
    let rx = Receiver::start();
    let out_file = tmp.path().join("alert-from-command.json");
    let secrets = [
        ("CW_HOOK", rx.url("/hook/s3cr3t-path")),
        ("CW_SLACK", rx.url("/slack/T0/B0/planted-slack")),
        (
            "CW_DISCORD",
            rx.url("/discord/api/webhooks/1/planted-discord"),
        ),
        ("CW_NTFY", rx.url("/ntfy/cw-planted-topic")),
        ("CW_TG", TOKEN.to_owned()),
        ("CW_GONE", rx.url("/gone/planted-gone")),
    ];
    let cmd = |args: &[&str]| {
        let mut c = cliffwatch(tmp.path());
        for (k, v) in &secrets {
            c.env(k, v);
        }
        c.args(args);
        c
    };
    let api_base = rx.url("");
    let out = out_file.display().to_string();
    let adds: Vec<Vec<&str>> = vec![
        vec![
            "--kind",
            "webhook",
            "--label",
            "hook",
            "--secret-env",
            "CW_HOOK",
        ],
        vec![
            "--kind",
            "slack",
            "--label",
            "slack",
            "--secret-env",
            "CW_SLACK",
        ],
        vec![
            "--kind",
            "discord",
            "--label",
            "discord",
            "--secret-env",
            "CW_DISCORD",
        ],
        vec![
            "--kind",
            "ntfy",
            "--label",
            "ntfy",
            "--secret-env",
            "CW_NTFY",
            "--min-severity",
            "critical",
        ],
        vec![
            "--kind",
            "telegram",
            "--label",
            "tg",
            "--secret-env",
            "CW_TG",
            "--chat-id",
            "-1001",
            "--api-base",
            &api_base,
        ],
        vec![
            "--kind",
            "command",
            "--label",
            "cmd",
            "--program",
            "tee",
            "--arg",
            &out,
        ],
        vec![
            "--kind",
            "webhook",
            "--label",
            "gone",
            "--secret-env",
            "CW_GONE",
        ],
    ];
    let mut outputs = Vec::new();
    for a in &adds {
        let mut args = vec!["channel", "add"];
        args.extend(a.iter().copied());
        outputs.push(ok(run(cmd(&args))));
    }
    for label in ["hook", "slack", "discord", "ntfy", "tg", "cmd"] {
        let o = ok(run(cmd(&["--json", "channel", "test", label])));
        assert_eq!(json(&o)["delivered"], true, "{label}: {}", stdout(&o));
        outputs.push(o);
    }
    let gone = run(cmd(&["channel", "test", "gone"]));
    let why = fails(&gone);
    assert!(
        why.contains("HTTP 404") && why.contains("no_service"),
        "{why}"
    );
    outputs.push(gone);

    let got = rx.got();
    let by = |prefix: &str| {
        got.iter()
            .find(|g| g.path.starts_with(prefix))
            .unwrap_or_else(|| panic!("nothing reached {prefix}: {got:?}"))
            .clone()
    };
    let hook = by("/hook/");
    assert_eq!(hook.body["test"], true);
    assert_eq!(hook.body["version"], 1);
    assert!(hook.headers.contains("x-cliffwatch-event: test"));
    assert!(hook.headers.contains("content-type: application/json"));
    assert_eq!(by("/slack/").body["blocks"][0]["text"]["type"], "mrkdwn");
    assert_eq!(
        by("/discord/").body["embeds"][0]["title"],
        "Cliffwatch · test: this channel works"
    );
    let ntfy = by("/ntfy/");
    assert_eq!(ntfy.path, "/ntfy/", "published to the server root");
    assert_eq!(ntfy.body["topic"], "cw-planted-topic");
    let tg = by("/bot");
    assert_eq!(tg.path, format!("/bot{TOKEN}/sendMessage"));
    assert_eq!(tg.body["chat_id"], "-1001");
    let from_command: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&out_file).unwrap()).unwrap();
    assert_eq!(from_command["test"], true);

    let listed = ok(run(cmd(&["--json", "channel", "list"])));
    let rows = json(&listed);
    assert_eq!(rows.as_array().unwrap().len(), 7);
    assert_eq!(rows[0]["secret"], "env $CW_HOOK");
    assert_eq!(rows[3]["min_severity"], "critical");
    outputs.push(listed);
    outputs.push(run(cmd(&["channel", "list"])));

    // Refused before anything is stored.
    for (args, says) in [
        (
            vec!["--kind", "slack", "--label", "x"],
            "needs the incoming-webhook URL",
        ),
        (
            vec![
                "--kind",
                "telegram",
                "--label",
                "x",
                "--secret-env",
                "CW_TG",
            ],
            "--chat-id",
        ),
        (vec!["--kind", "command", "--label", "x"], "--program"),
        (
            vec!["--kind", "pager", "--label", "x"],
            "unknown channel kind",
        ),
        (
            vec![
                "--kind",
                "webhook",
                "--label",
                "hook",
                "--secret-env",
                "CW_HOOK",
            ],
            "exists",
        ),
    ] {
        let mut all = vec!["channel", "add"];
        all.extend(args);
        let o = run(cmd(&all));
        let e = fails(&o);
        assert!(e.contains(says), "{all:?}: {e}");
        outputs.push(o);
    }

    ok(run(cmd(&["channel", "remove", "gone"])));
    assert_eq!(
        json(&ok(run(cmd(&["--json", "channel", "list"]))))
            .as_array()
            .unwrap()
            .len(),
        6
    );
    no_planted_secret(&outputs, tmp.path(), &secrets.map(|(_, v)| v));
}

/// None of the channels' secrets — not the URL's secret part, not the token — is in any output
/// or any file of the data directory.
fn no_planted_secret(outputs: &[std::process::Output], data: &std::path::Path, secrets: &[String]) {
    let needles: Vec<String> = secrets
        .iter()
        .map(|s| s.rsplit('/').next().unwrap_or(s).to_owned())
        .chain(["AAF-planted_TelegramToken".to_owned()])
        .collect();
    for o in outputs {
        for n in &needles {
            assert!(!contains(&o.stdout, n), "{n} in stdout: {}", stdout(o));
            assert!(!contains(&o.stderr, n), "{n} in stderr: {}", stderr(o));
        }
    }
    for f in files_under(data) {
        if f.extension().is_some_and(|e| e == "json") {
            continue; // the command channel's own output file
        }
        let bytes = std::fs::read(&f).unwrap();
        for n in &needles {
            assert!(!contains(&bytes, n), "{n} found in {}", f.display());
        }
    }
}

#[test]
fn watch_tells_the_channels_when_an_account_runs_dry() {
    let tmp = tempfile::tempdir().unwrap();
    let rx = Receiver::start();
    let provider = Provider::start();
    let hook = rx.url("/hook/watch-planted");
    let gone = rx.url("/gone/watch-planted");
    let cmd = |args: &[&str]| {
        let mut c = cliffwatch(tmp.path());
        c.env("CW_HOOK", &hook)
            .env("CW_GONE", &gone)
            .env("CW_DEEPSEEK", "sk-planted-deepseek-0000000000000000")
            .args(args);
        c
    };
    ok(run(cmd(&[
        "account",
        "add",
        "--provider",
        "deepseek",
        "--label",
        "dry",
        "--base-url",
        &provider.dry_url(),
        "--secret-env",
        "CW_DEEPSEEK",
    ])));
    ok(run(cmd(&[
        "channel",
        "add",
        "--kind",
        "webhook",
        "--label",
        "hook",
        "--secret-env",
        "CW_HOOK",
    ])));
    ok(run(cmd(&[
        "channel",
        "add",
        "--kind",
        "webhook",
        "--label",
        "gone",
        "--secret-env",
        "CW_GONE",
    ])));
    let err = tmp.path().join("watch.err");
    let mut c = cmd(&["watch", "--no-desktop"]);
    c.stdout(Stdio::null())
        .stderr(std::fs::File::create(&err).unwrap());
    let mut child = c.spawn().unwrap();
    let alert = rx.wait_for(
        |g| g.path.starts_with("/hook/") && g.body["kind"] == "out_of_credit",
        Duration::from_secs(60),
    );
    // The refused channel is recorded as failed; give the pass a moment to store both.
    let start = Instant::now();
    let mut rows = serde_json::Value::Null;
    while start.elapsed() < Duration::from_secs(20) {
        rows = json(&ok(run(cmd(&["--json", "alerts", "--all"]))));
        let states: Vec<String> = rows
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|a| a["deliveries"].as_array().cloned().unwrap_or_default())
            .map(|d| {
                format!(
                    "{}={}",
                    d["channel"].as_str().unwrap_or(""),
                    d["state"].as_str().unwrap_or("")
                )
            })
            .collect();
        if states.contains(&"hook=delivered".to_owned())
            && states.contains(&"gone=failed".to_owned())
        {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = child.kill();
    let _ = child.wait();
    let alert = alert.unwrap_or_else(|| {
        panic!(
            "no out_of_credit alert reached the webhook: {:?}\n{}",
            rx.got(),
            std::fs::read_to_string(&err).unwrap_or_default()
        )
    });
    assert_eq!(alert.body["account"], "dry");
    assert_eq!(alert.body["provider"], "deepseek");
    assert_eq!(alert.body["severity"], "critical");
    assert_eq!(alert.body["test"], false);
    assert!(alert.body["top_up_url"]
        .as_str()
        .unwrap()
        .starts_with("https://"));
    let oc = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["kind"] == "out_of_credit")
        .unwrap_or_else(|| panic!("{rows}"));
    let d = oc["deliveries"].as_array().unwrap();
    let hook_row = d.iter().find(|x| x["channel"] == "hook").unwrap();
    assert_eq!(hook_row["state"], "delivered", "{oc}");
    assert_eq!(hook_row["attempts"], 1);
    let gone_row = d.iter().find(|x| x["channel"] == "gone").unwrap();
    assert_eq!(gone_row["state"], "failed", "a 404 is not retried: {oc}");
    assert!(gone_row["last_error"].as_str().unwrap().contains("404"));
    let hooked = rx
        .got()
        .into_iter()
        .filter(|g| g.path.starts_with("/hook/") && g.body["kind"] == "out_of_credit")
        .count();
    assert_eq!(hooked, 1, "told once per episode");
    let text = rows.to_string();
    assert!(!text.contains("watch-planted"), "{text}");
}
