//! A HAR an agent's HTTP client wrote, with every payment protocol in it, scanned into the store:
//! prices are `payment_required` with their normalised price, a refused payment is out of
//! credit, a paid answer is spend (per host, in its asset), nothing is counted twice, and the
//! opt-in "unpaid challenges" alert fires per host.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, TimeZone, Utc};
use cliffwatch_core::alerts::{self, Delivery, MemoryNotifier};
use cliffwatch_core::db;
use cliffwatch_core::logs::{self, prices::PriceTable, ScanOptions};
use serde_json::json;
use std::sync::Arc;

const HOST: &str = "api.agent.example";
const PLANTED: &str = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef";

fn t(min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 2, 10, min, 0).unwrap()
}

fn entry(
    min: u32,
    status: u16,
    req: serde_json::Value,
    resp: serde_json::Value,
    body: &str,
) -> serde_json::Value {
    json!({
        "startedDateTime": t(min).to_rfc3339(),
        "request": {"method": "GET", "url": format!("https://{HOST}/v1/search?q={min}&api_key={PLANTED}"), "headers": req},
        "response": {"status": status, "headers": resp, "content": {"text": body}}
    })
}

fn hdr(name: &str, value: &str) -> serde_json::Value {
    json!({"name": name, "value": value})
}

fn har() -> String {
    let requirement = json!({"scheme": "exact", "network": "eip155:8453", "amount": "10000",
        "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C",
        "maxTimeoutSeconds": 60, "extra": {"name": "USD Coin", "version": "2"}});
    let required = json!({"x402Version": 2, "error": "PAYMENT-SIGNATURE header is required",
        "resource": {"url": format!("https://{HOST}/v1/search?api_key={PLANTED}"), "description": "one search"},
        "accepts": [requirement]});
    let signature =
        json!({"x402Version": 2, "accepted": requirement, "payload": {"signature": "0xsig"}});
    let settled = json!({"success": true, "transaction": "0xfeed", "network": "eip155:8453", "payer": "0x857b"});
    let refused = json!({"success": false, "errorReason": "insufficient_funds", "transaction": "", "network": "eip155:8453"});
    let invoice = r#"L402 macaroon="AGIAJEemVQUTEyNCR0exk7ek90Cg==", invoice="lnbc1500n1pw5kjhmpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqf""#;
    let entries = vec![
        // 1. The first request: a price (x402 v2 header, empty body).
        entry(
            1,
            402,
            json!([]),
            json!([hdr(
                "PAYMENT-REQUIRED",
                &STANDARD.encode(required.to_string())
            )]),
            "{}",
        ),
        // 2. Paid and answered: spend, not an event.
        entry(
            2,
            200,
            json!([hdr(
                "PAYMENT-SIGNATURE",
                &STANDARD.encode(signature.to_string())
            )]),
            json!([hdr(
                "PAYMENT-RESPONSE",
                &URL_SAFE_NO_PAD.encode(settled.to_string())
            )]),
            r#"{"results":[]}"#,
        ),
        // 3. The tutorial shape: plain JSON payment instructions.
        entry(
            3,
            402,
            json!([]),
            json!([]),
            r#"{"status":402,"message":"Payment Required","payment_instructions":{"amount":0.05,"currency":"USDC","payment_uri":"https://pay.agent.example/i/3"}}"#,
        ),
        // 4. A payment the wallet could not make: the cliff.
        entry(
            4,
            402,
            json!([hdr(
                "PAYMENT-SIGNATURE",
                &STANDARD.encode(signature.to_string())
            )]),
            json!([hdr(
                "PAYMENT-RESPONSE",
                &STANDARD.encode(refused.to_string())
            )]),
            "{}",
        ),
        // 5. A Lightning price.
        entry(
            5,
            402,
            json!([]),
            json!([hdr("WWW-Authenticate", invoice)]),
            "",
        ),
        // 6. A price header with garbage in it: stored with what could be read.
        entry(
            6,
            402,
            json!([]),
            json!([hdr("PAYMENT-REQUIRED", "%%% not base64 %%%")]),
            "<html>pay</html>",
        ),
    ];
    json!({"log": {"version": "1.2", "entries": entries}}).to_string()
}

/// provider, host, cost, currency, protocol of a usage record.
type SpendRow = (
    String,
    Option<String>,
    Option<f64>,
    Option<String>,
    Option<String>,
);

#[tokio::test]
async fn a_har_of_payments_is_prices_a_cliff_and_spend() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.har");
    std::fs::write(&path, har()).unwrap();
    let pool = db::open_in_memory().await.unwrap();
    let pattern = path.display().to_string();
    db::log_sources::insert(&pool, &pattern, "har", None, None, t(0))
        .await
        .unwrap();
    let source = db::log_sources::list(&pool).await.unwrap().remove(0);
    let opts = ScanOptions::new(t(30), Arc::new(PriceTable::shipped()));
    let first = logs::scan_source(&pool, &source, &opts, None)
        .await
        .unwrap();
    assert_eq!(
        first.events_new, 5,
        "five answers that were not paid: {first:?}"
    );
    assert_eq!(first.usage_records, 1, "one paid answer");

    let mut events = db::cliff_events::list(&pool, &Default::default())
        .await
        .unwrap();
    events.reverse();
    let outcomes: Vec<&str> = events.iter().map(|e| e.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        [
            "payment_required",
            "payment_required",
            "out_of_credit",
            "payment_required",
            "payment_required"
        ],
        "prices asked are not an empty wallet; the refused payment is"
    );
    let p = |i: usize| cliffwatch_core::payments::view(events[i].payment.as_ref()).unwrap();
    assert_eq!(
        (p(0).protocol.as_str(), p(0).price.as_deref()),
        ("x402 v2", Some("0.01 USDC"))
    );
    assert_eq!(p(0).pay_to.as_deref(), Some("0x2096…287C"));
    assert_eq!(
        (p(1).protocol.as_str(), p(1).price.as_deref()),
        ("JSON instructions", Some("0.05 USDC"))
    );
    assert_eq!(p(2).note.as_deref(), Some("insufficient_funds"));
    assert_eq!(
        (p(3).protocol.as_str(), p(3).price.as_deref()),
        ("L402", Some("150 sat"))
    );
    assert!(p(4).note.as_deref().unwrap().contains("could not be read"));
    for e in &events {
        let stored = serde_json::to_string(e).unwrap();
        assert!(
            !stored.contains(PLANTED),
            "the key in the resource URL is redacted: {stored}"
        );
    }

    let spend: Vec<SpendRow> =
        sqlx::query_as("SELECT provider, host, cost, currency, protocol FROM usage_records")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        spend,
        [(
            HOST.into(),
            Some(HOST.into()),
            Some(0.01),
            Some("USDC".into()),
            Some("x402".into())
        )]
    );

    let again = logs::scan_source(&pool, &source, &opts, None)
        .await
        .unwrap();
    assert_eq!(
        (again.events_new, again.usage_records),
        (0, 0),
        "nothing twice"
    );

    // No alert for a price asked, until the user asks for one.
    let n = MemoryNotifier::new();
    alerts::evaluate_with(&pool, t(30), &n, Delivery::Notify, None)
        .await
        .unwrap();
    assert!(
        n.take().is_empty(),
        "a price asked is not alerted by default"
    );
    let rules = json!({"unpaid_challenges_per_hour": 3});
    db::settings::set(&pool, alerts::RULES_KEY, &rules)
        .await
        .unwrap();
    alerts::evaluate_with(&pool, t(30), &n, Delivery::Notify, None)
        .await
        .unwrap();
    let told = n.take();
    assert_eq!(
        told.len(),
        1,
        "three prices from one host in the hour, one of them paid: {told:?}"
    );
    assert!(told[0].title.contains(HOST), "{}", told[0].title);
    assert!(told[0].body.contains("3 times"), "{}", told[0].body);
    alerts::evaluate_with(&pool, t(31), &n, Delivery::Notify, None)
        .await
        .unwrap();
    assert!(n.take().is_empty(), "once per episode");
    // An hour later the challenges are old: the episode ends.
    alerts::evaluate_with(
        &pool,
        t(0) + chrono::Duration::hours(2),
        &n,
        Delivery::Notify,
        None,
    )
    .await
    .unwrap();
    let open = db::alerts::unresolved_of_kind(&pool, "unpaid_challenges")
        .await
        .unwrap();
    assert!(open.is_empty(), "resolved once the host is quiet: {open:?}");
}
