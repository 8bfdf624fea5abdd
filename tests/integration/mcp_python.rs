//! `cliffwatch mcp` driven by a client nobody here wrote: the official MCP Python SDK (`mcp` on
//! PyPI, pinned in tests/python/requirements.txt, installed into target/pyvenv by
//! scripts/setup) spawns the real binary over stdio and runs tests/python/mcp_client.py:
//! initialize → tools/list → tools/call of each tool. The data directory holds two accounts
//! (three days of imported readings, and one with none) and an agent's HAR with an x402
//! challenge linked to the first; the planted key is in the server's environment, the log's
//! URL and the price's resource, and must come back in no answer.

use crate::planted_secret::PLANTED;
use crate::support::*;
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use cliffwatch_core::clock::{Clock, SystemClock};
use std::path::{Path, PathBuf};

const KEY_ENV: &str = "CW_IT_MCP_KEY";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// An agent's HAR: one x402 v2 challenge at `at`, the key in the URL it asked and in the
/// resource the price is for.
fn har(at: DateTime<Utc>) -> String {
    use base64::Engine as _;
    let url = format!("https://paid.example/v1/data?api_key={PLANTED}");
    let required = serde_json::json!({"x402Version": 2, "resource": {"url": url},
        "accepts": [{"scheme": "exact", "network": "eip155:8453", "amount": "20000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60}]});
    let header = base64::engine::general_purpose::STANDARD.encode(required.to_string());
    serde_json::json!({"log": {"version": "1.2", "entries": [{
        "startedDateTime": rfc3339(at),
        "request": {"method": "GET", "url": url, "headers": []},
        "response": {"status": 402, "headers": [{"name": "payment-required", "value": header}],
            "content": {"text": format!("{{\"error\": \"payment required for key {PLANTED}\"}}")}},
    }]}})
    .to_string()
}

fn forecast(tmp: &Path) -> serde_json::Value {
    let mut c = cliffwatch(tmp);
    c.args(["--json", "forecast", "--account", "scraper"]);
    json(&ok(run(c)))[0].clone()
}

fn f64_at(v: &serde_json::Value, path: &str) -> f64 {
    v.pointer(path)
        .and_then(serde_json::Value::as_f64)
        .unwrap_or_else(|| panic!("{path} is a number in {v}"))
}

#[test]
fn the_official_python_sdk_asks_before_it_spends() {
    let python = repo().join("target/pyvenv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run scripts/setup (it creates the venv with the MCP Python SDK pinned in \
         tests/python/requirements.txt)",
        python.display()
    );
    let tmp = tempfile::tempdir().unwrap();
    let now = SystemClock.now();
    for (provider, label) in [("scraperapi", "scraper"), ("openrouter", "fresh")] {
        let mut c = cliffwatch(tmp.path());
        c.env(KEY_ENV, PLANTED)
            .args(["account", "add", "--provider", provider, "--label", label])
            .args(["--secret-env", KEY_ENV]);
        ok(run(c));
    }
    // Three days draining 5 credits an hour, the latest reading 10 minutes ago: a runway of
    // ~5 days with a band.
    let latest = now - Duration::minutes(10);
    let mut csv = String::from("time,remaining\n");
    for h in (0..72).rev() {
        csv.push_str(&format!(
            "{},{}\n",
            rfc3339(latest - Duration::hours(h)),
            1000 - 5 * (71 - h)
        ));
    }
    let csv_file = tmp.path().join("history.csv");
    std::fs::write(&csv_file, csv).unwrap();
    let mut import = cliffwatch(tmp.path());
    import.args(["import", "balances"]).arg(&csv_file).args([
        "--account",
        "scraper",
        "--unit",
        "credits",
    ]);
    ok(run(import));
    let har_file = tmp.path().join("agent.har");
    std::fs::write(&har_file, har(now - Duration::hours(2))).unwrap();
    let mut add = cliffwatch(tmp.path());
    add.args(["logs", "add"])
        .arg(&har_file)
        .args(["--format", "har", "--account", "scraper"]);
    ok(run(add));
    let mut scan = cliffwatch(tmp.path());
    scan.args(["--json", "logs", "scan"]).arg(&har_file);
    assert_eq!(
        json(&ok(run(scan)))["events_new"],
        1,
        "the challenge is stored"
    );

    let (day_ago, hour_ago) = (
        rfc3339(now - Duration::days(1)),
        rfc3339(now - Duration::hours(1)),
    );
    let plan = serde_json::json!([
        {"tool": "get_runway", "arguments": {"account": "scraper"}},
        {"tool": "recent_402s", "arguments": {"account": "scraper", "since": day_ago, "limit": 5}},
        {"tool": "recent_402s", "arguments": {"since": hour_ago}},
        {"tool": "can_afford", "arguments": {"account": "scraper", "hours": 1}},
        {"tool": "can_afford", "arguments": {"account": "scraper", "hours": 100000}},
        {"tool": "can_afford", "arguments": {"account": "scraper", "amount": 10}},
        {"tool": "can_afford", "arguments": {"account": "scraper", "amount": 1000000}},
        {"tool": "can_afford", "arguments": {"account": "fresh", "hours": 1}},
        {"tool": "get_runway", "arguments": {"account": "nobody"}, "expect_error": true},
        {"tool": "can_afford", "arguments": {"account": "scraper", "hours": 1, "amount": 2},
         "expect_error": true},
        {"tool": "recent_402s", "arguments": {"limit": 1000}, "expect_error": true},
    ]);
    let plan_file = tmp.path().join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();

    let before = forecast(tmp.path());
    let mut client = std::process::Command::new(&python);
    client
        .arg(repo().join("tests/python/mcp_client.py"))
        .arg(env!("CARGO_BIN_EXE_cliffwatch"))
        .arg("--data-dir")
        .arg(tmp.path())
        .arg("--calls")
        .arg(&plan_file)
        .args(["--pass-env", KEY_ENV])
        .env_remove("CLIFFWATCH_DATA_DIR")
        .env(
            "CLIFFWATCH_KEYRING_SERVICE",
            format!("cliffwatch-test-{}", std::process::id()),
        )
        .env(KEY_ENV, PLANTED);
    let out = client.output().expect("run the Python MCP client");
    let after = forecast(tmp.path());
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        assert!(
            !contains(bytes, PLANTED) && !contains(bytes, &PLANTED[..PLANTED.len() - 4]),
            "the key reached the client's {stream}:\n{}",
            String::from_utf8_lossy(bytes)
        );
    }
    let report = json(&ok(out));

    assert_eq!(
        report["server"]["name"], "cliffwatch",
        "{}",
        report["server"]
    );
    let tools: Vec<&str> = report["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(
        tools,
        ["list_accounts", "get_runway", "recent_402s", "can_afford"]
    );
    let calls = report["calls"].as_array().unwrap();
    assert_eq!(calls.len(), 12, "list_accounts and the plan's eleven");
    let result = |i: usize| &calls[i]["structured"];

    // list_accounts: the two seeded accounts, the latest reading, no key.
    let accounts = result(0)["accounts"].as_array().unwrap();
    let labels: Vec<_> = accounts
        .iter()
        .filter_map(|a| a["account"]["label"].as_str())
        .collect();
    assert_eq!(labels, ["fresh", "scraper"], "{}", result(0));
    assert_eq!(accounts[1]["latest"]["remaining"], 645.0);
    assert_eq!(accounts[1]["latest"]["unit"], "credits");

    // get_runway: the numbers `forecast --json` gives, taken between two runs of it.
    let runway = result(1);
    for field in [
        "account",
        "provider",
        "remaining",
        "unit",
        "observed_at",
        "rate_per_day",
        "state",
        "history_hours",
        "calibrated_with",
        "refined_by_logs",
    ] {
        assert_eq!(
            runway[field], before[field],
            "{field}: get_runway says what forecast --json says"
        );
        assert_eq!(
            before[field], after[field],
            "{field} does not depend on the clock"
        );
    }
    assert_eq!(runway["state"], "ok", "{runway}");
    for q in ["p10", "p50", "p90"] {
        let path = format!("/runway_hours/{q}");
        let (b, m, a) = (
            f64_at(&before, &path),
            f64_at(runway, &path),
            f64_at(&after, &path),
        );
        assert!(
            b >= m && m >= a && b - a < 0.1,
            "{q}: runways count from now, so the MCP answer lies between the CLI's before ({b}) \
             and after ({a}) it: {m}"
        );
    }

    // recent_402s: the seeded x402 challenge with its parsed payment, key cut out; `since`
    // filters.
    let events = result(2)["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{}", result(2));
    let e = &events[0];
    assert_eq!(
        (e["status"].as_i64(), e["outcome"].as_str()),
        (Some(402), Some("payment_required")),
        "{e}"
    );
    let p = &e["payment"];
    assert_eq!(
        (
            p["protocol"].as_str(),
            p["stage"].as_str(),
            p["amount"].as_str(),
            p["currency"].as_str(),
            p["network"].as_str()
        ),
        (
            Some("x402"),
            Some("challenge"),
            Some("0.02"),
            Some("USDC"),
            Some("eip155:8453")
        ),
        "{p}"
    );
    assert!(
        e["url"].as_str().is_some_and(|u| u.contains("REDACTED")),
        "{e}"
    );
    assert_eq!(
        result(3)["events"],
        serde_json::json!([]),
        "the challenge is older than `since`"
    );

    // can_afford: yes for a small ask, no for a huge one, unknown without a forecast.
    let answer = |i: usize| result(i)["answer"].as_str().unwrap_or_default().to_owned();
    assert_eq!(answer(4), "yes", "1 h of a ~5-day runway: {}", result(4));
    assert_eq!(answer(5), "no", "100,000 h: {}", result(5));
    assert_eq!(answer(6), "yes", "10 of ~645 credits: {}", result(6));
    assert!(result(6)["runway_after_hours"]["p10"].is_number());
    assert_eq!(answer(7), "no", "a million credits: {}", result(7));
    assert_eq!(answer(8), "unknown", "no reading yet: {}", result(8));
    for i in 4..=8 {
        assert!(
            result(i)["reason"].as_str().is_some_and(|r| !r.is_empty()),
            "every answer says why: {}",
            result(i)
        );
    }

    // Errors are tool errors with the core's {kind, message}.
    for (i, kind) in [
        (9, "account_not_found"),
        (10, "invalid_input"),
        (11, "invalid_input"),
    ] {
        assert_eq!(calls[i]["is_error"], true, "{}", calls[i]);
        assert_eq!(result(i)["kind"], kind, "{}", calls[i]);
        assert!(
            result(i)["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            calls[i]
        );
    }
}
