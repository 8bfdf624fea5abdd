//! `cliffwatch watch` end to end against loopback providers whose balances drain: the demo's
//! server plays OpenRouter, ScraperAPI and 2Captcha on a compressed clock, the real adapters
//! poll it, and the alert rules must fire the warning, then the critical alert, then the
//! out-of-credit alert — once each — and the daemon must stop cleanly on SIGTERM.

use crate::support::*;
use std::collections::BTreeMap;
use std::io::BufRead;
use std::process::Stdio;
use std::time::{Duration, Instant};

#[test]
fn watch_fires_warning_then_critical_then_out_of_credit_once_each() {
    let tmp = tempfile::tempdir().unwrap();
    let mut c = cliffwatch(tmp.path());
    // 50 ms per 30 demo minutes: the OpenRouter key (30 demo hours of runway) runs dry in ~3 s.
    c.args([
        "--json",
        "watch",
        "--demo",
        "--no-desktop",
        "--demo-tick-ms",
        "50",
    ])
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn cliffwatch watch");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                let _ = tx.send(v);
            }
        }
    });

    // account label by id, as the demo adds them: scraper-prod, llm-main, captcha.
    let llm = 2;
    let mut alerts: BTreeMap<i64, serde_json::Value> = BTreeMap::new();
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline {
        let Ok(v) = rx.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        if v["event"] == "alerts" {
            for a in v["alerts"].as_array().unwrap() {
                alerts.insert(a["id"].as_i64().unwrap(), a.clone());
            }
        }
        let llm_dry = alerts
            .values()
            .any(|a| a["account_id"] == llm && a["kind"] == "out_of_credit");
        if llm_dry {
            // A few more ticks: a repeated alert would show up now.
            std::thread::sleep(Duration::from_millis(500));
            while let Ok(v) = rx.try_recv() {
                if v["event"] == "alerts" {
                    for a in v["alerts"].as_array().unwrap() {
                        alerts.insert(a["id"].as_i64().unwrap(), a.clone());
                    }
                }
            }
            break;
        }
    }
    // Clean shutdown on SIGTERM.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(
        exit.success(),
        "watch exits 0 on SIGTERM, got {exit:?}; stderr:\n{err}"
    );
    assert!(err.contains("stopping"), "it said it was stopping: {err}");

    let of = |kind: &str| -> Vec<&serde_json::Value> {
        alerts
            .values()
            .filter(|a| a["account_id"] == llm && a["kind"] == kind)
            .collect()
    };
    let summary: Vec<String> = alerts
        .values()
        .map(|a| {
            format!(
                "#{} acc {} {} at {}",
                a["id"], a["account_id"], a["kind"], a["raised_at"]
            )
        })
        .collect();
    for kind in ["runway_warning", "runway_critical", "out_of_credit"] {
        assert_eq!(
            of(kind).len(),
            1,
            "exactly one {kind} alert for the draining key: {summary:#?}"
        );
    }
    let at = |kind: &str| of(kind)[0]["raised_at"].as_str().unwrap().to_owned();
    assert!(
        at("runway_warning") <= at("runway_critical"),
        "warning before critical: {summary:#?}"
    );
    assert!(
        at("runway_critical") < at("out_of_credit"),
        "critical before out of credit: {summary:#?}"
    );
    assert!(
        alerts.values().all(|a| a["account_id"] != 3),
        "the healthy captcha account raised nothing: {summary:#?}"
    );
    assert!(
        !tmp.path().join("cliffwatch.db").exists(),
        "the demo never touches the real data directory"
    );
}
