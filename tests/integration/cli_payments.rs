//! `cliffwatch logs scan` of an agent's HAR with payment challenges and a paid answer, then
//! `events` and `usage` as a user reads them: the price in words, `--outcome
//! payment_required`, spend per host in its asset.

use crate::support::*;

fn har() -> String {
    use base64::Engine as _;
    let b64 =
        |v: serde_json::Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    let req = serde_json::json!({"scheme": "exact", "network": "eip155:8453", "amount": "20000",
        "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        "maxTimeoutSeconds": 60});
    let required = serde_json::json!({"x402Version": 2, "resource": {"url": "https://paid.example/v1/data"}, "accepts": [req]});
    let signature = serde_json::json!({"x402Version": 2, "accepted": req, "payload": {}});
    let settled =
        serde_json::json!({"success": true, "transaction": "0xabc1", "network": "eip155:8453"});
    let entry = |t: &str, status: u16, reqh: serde_json::Value, resph: serde_json::Value| {
        serde_json::json!({"startedDateTime": t, "request": {"method": "GET", "url": "https://paid.example/v1/data", "headers": reqh},
            "response": {"status": status, "headers": resph, "content": {"text": "{}"}}})
    };
    serde_json::json!({"log": {"version": "1.2", "entries": [
        entry("2026-12-02T09:00:00Z", 402, serde_json::json!([]), serde_json::json!([{"name": "payment-required", "value": b64(required)}])),
        entry("2026-12-02T09:00:01Z", 200, serde_json::json!([{"name": "payment-signature", "value": b64(signature)}]),
              serde_json::json!([{"name": "payment-response", "value": b64(settled)}])),
        entry("2026-12-02T09:00:02Z", 402, serde_json::json!([]), serde_json::json!([{"name": "crawler-price", "value": "USD 0.01"}])),
    ]}})
    .to_string()
}

#[test]
fn a_scanned_har_shows_prices_and_spend() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("agent.har");
    std::fs::write(&file, har()).unwrap();
    let mut scan = cliffwatch(tmp.path());
    scan.args(["--json", "logs", "scan"]).arg(&file);
    let report = json(&ok(run(scan)));
    assert_eq!(report["events_new"], 2, "{report}");
    assert_eq!(report["usage_records"], 1, "{report}");

    let mut events = cliffwatch(tmp.path());
    events.args(["events", "--outcome", "payment_required"]);
    let text = stdout(&ok(run(events)));
    assert!(
        text.contains("x402 v2 0.02 USDC eip155:8453 → 0x2096…287C"),
        "{text}"
    );
    assert!(text.contains("pay-per-crawl 0.01 USD"), "{text}");

    let mut events = cliffwatch(tmp.path());
    events.args(["--json", "events"]);
    let list = json(&ok(run(events)));
    let p = &list[1]["payment"];
    assert_eq!(
        (
            p["protocol"].as_str(),
            p["stage"].as_str(),
            p["amount"].as_str(),
            p["amount_atomic"].as_str()
        ),
        (Some("x402"), Some("challenge"), Some("0.02"), Some("20000")),
        "{list}"
    );
    assert_eq!(p["resource"], "https://paid.example/v1/data");

    let mut usage = cliffwatch(tmp.path());
    usage.args(["usage"]);
    let text = stdout(&ok(run(usage)));
    assert!(text.contains("x402 payments to paid.example"), "{text}");
    assert!(text.contains("0.02 USDC"), "{text}");
    let mut usage = cliffwatch(tmp.path());
    usage.args(["--json", "usage"]);
    let rows = json(&ok(run(usage)));
    assert_eq!(
        (
            rows[0]["host"].as_str(),
            rows[0]["protocol"].as_str(),
            rows[0]["currency"].as_str()
        ),
        (Some("paid.example"), Some("x402"), Some("USDC")),
        "{rows}"
    );
}
