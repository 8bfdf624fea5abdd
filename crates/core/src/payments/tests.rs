//! Each protocol from its spec's own examples, and bodies and headers made to be broken.

use super::*;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn read_with(
    status: u16,
    headers: &[(String, String)],
    req: &[(String, String)],
    body: &str,
) -> Option<Payment> {
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    read(&Exchange {
        status,
        headers,
        request_headers: req,
        json: json.as_ref(),
    })
}

fn read1(status: u16, headers: &[(String, String)], body: &str) -> Option<Payment> {
    read_with(status, headers, &[], body)
}

/// specs/x402-specification-v1.md §5, verbatim.
const X402_V1: &str = r#"{"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base-sepolia","maxAmountRequired":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","resource":"https://api.example.com/premium-data","description":"Access to premium market data","mimeType":"application/json","outputSchema":null,"maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}]}"#;

/// specs/x402-specification-v2.md §5.1.1, verbatim.
const X402_V2: &str = r#"{"x402Version":2,"error":"PAYMENT-SIGNATURE header is required","resource":{"url":"https://api.example.com/premium-data","description":"Access to premium market data","mimeType":"application/json"},"accepts":[{"scheme":"exact","network":"eip155:84532","amount":"10000","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"extra":{"name":"USDC","version":"2"}}],"extensions":{}}"#;

#[test]
fn x402_v1_body_from_the_spec() {
    let p = read1(402, &[], X402_V1).expect("a challenge");
    assert_eq!(
        (p.protocol, p.stage, p.version),
        (Scheme::X402, Stage::Challenge, Some(1))
    );
    assert_eq!(
        p.amount.as_deref(),
        Some("0.01"),
        "10000 base units of 6-decimal USDC"
    );
    assert_eq!(p.amount_atomic.as_deref(), Some("10000"));
    assert_eq!(p.currency.as_deref(), Some("USDC"));
    assert_eq!(p.decimals, Some(6));
    assert_eq!(p.network.as_deref(), Some("base-sepolia"));
    assert_eq!(
        p.pay_to.as_deref(),
        Some("0x209693Bc6afc0C5328bA36FaF03C514EF312287C")
    );
    assert_eq!(
        p.resource.as_deref(),
        Some("https://api.example.com/premium-data")
    );
    assert_eq!(p.expires.as_deref(), Some("60 s"));
    assert_eq!(p.offers, 1);
    assert_eq!(p.view().price.as_deref(), Some("0.01 USDC"));
    assert_eq!(p.view().pay_to.as_deref(), Some("0x2096…287C"));
}

#[test]
fn x402_v2_header_in_every_base64_alphabet_keeps_the_top_level_resource() {
    let padded = STANDARD.encode(X402_V2);
    let unpadded = padded.trim_end_matches('=').to_owned();
    let url_safe = URL_SAFE_NO_PAD.encode(X402_V2);
    for enc in [padded, unpadded, url_safe] {
        for body in ["{}", "<html><body>Pay</body></html>", ""] {
            let p = read1(402, &h(&[("PAYMENT-REQUIRED", &enc)]), body).expect("the header");
            assert_eq!(p.version, Some(2));
            assert_eq!(p.amount.as_deref(), Some("0.01"));
            assert_eq!(p.network.as_deref(), Some("eip155:84532"));
            assert_eq!(
                p.resource.as_deref(),
                Some("https://api.example.com/premium-data"),
                "v2 names the resource at the top"
            );
            assert_eq!(
                p.description.as_deref(),
                Some("Access to premium market data")
            );
        }
    }
}

#[test]
fn an_unknown_token_keeps_its_base_units_and_says_so() {
    let body = r#"{"x402Version":2,"resource":{"url":"https://x.example/a"},"accepts":[{"scheme":"exact","network":"eip155:8453","amount":"123456789","asset":"0x1111111111111111111111111111111111111111","payTo":"0xabc","maxTimeoutSeconds":30,"extra":{"name":"Some Token Name"}}]}"#;
    let p = read1(
        402,
        &h(&[("payment-required", &STANDARD.encode(body))]),
        "{}",
    )
    .unwrap();
    assert_eq!(p.amount, None, "no guessed decimals");
    assert_eq!(p.amount_atomic.as_deref(), Some("123456789"));
    assert!(p.note.as_deref().unwrap().contains("decimals unknown"));
    assert_eq!(
        p.view().price.as_deref(),
        Some("123456789 base units of 0x1111…1111 (decimals unknown)")
    );
    assert!(p.is_priced_challenge(), "still a price asked");
}

#[test]
fn cloudflare_x402_form_is_in_cents() {
    let body = r#"{"x402Version":2,"accepts":[{"scheme":"batch-settlement","network":"cloudflare:402","amount":"1","asset":"USD","payTo":"merchant","extra":{"version":"1.0.0"}}]}"#;
    let p = read1(402, &h(&[("PAYMENT-REQUIRED", &STANDARD.encode(body))]), "").unwrap();
    assert_eq!(
        (p.amount.as_deref(), p.currency.as_deref()),
        (Some("0.01"), Some("USD"))
    );
    // Its settlement: `{amount, asset, network, timestamp}` and no `success`.
    let settle =
        r#"{"amount":"5","asset":"USD","network":"cloudflare:402","timestamp":1730872968}"#;
    let p = read1(
        200,
        &h(&[("PAYMENT-RESPONSE", &STANDARD.encode(settle))]),
        "",
    )
    .unwrap();
    assert_eq!(p.stage, Stage::Paid);
    assert_eq!(
        (p.amount.as_deref(), p.currency.as_deref()),
        (Some("0.05"), Some("USD"))
    );
}

#[test]
fn x402_settlements_paid_and_failed() {
    // v2: the amount paid is in the request's PAYMENT-SIGNATURE (`accepted`).
    let v2: serde_json::Value = serde_json::from_str(X402_V2).unwrap();
    let sig = serde_json::json!({"x402Version": 2, "accepted": v2["accepts"][0], "payload": {"signature": "0xsig"}});
    let ok = r#"{"success":true,"transaction":"0x1234","network":"eip155:84532","payer":"0x857b"}"#;
    let p = read_with(
        200,
        &h(&[("PAYMENT-RESPONSE", &STANDARD.encode(ok))]),
        &h(&[("PAYMENT-SIGNATURE", &STANDARD.encode(sig.to_string()))]),
        r#"{"data":1}"#,
    )
    .unwrap();
    assert_eq!(p.stage, Stage::Paid);
    assert_eq!(p.amount.as_deref(), Some("0.01"));
    assert_eq!(p.currency.as_deref(), Some("USDC"));
    assert_eq!(p.transaction.as_deref(), Some("0x1234"));
    // v1: X-PAYMENT-RESPONSE with success false, sent on a 402.
    let fail = r#"{"success":false,"errorReason":"insufficient_funds","transaction":"","network":"base-sepolia","payer":"0x857b"}"#;
    let p = read1(
        402,
        &h(&[("X-PAYMENT-RESPONSE", &STANDARD.encode(fail))]),
        X402_V1,
    )
    .unwrap();
    assert_eq!(
        p.stage,
        Stage::Failed,
        "the failure outranks the challenge repeated in the body"
    );
    assert_eq!(p.error.as_deref(), Some("insufficient_funds"));
    // v1 body whose error is insufficient_funds after a payment was tried.
    let again = X402_V1.replace("X-PAYMENT header is required", "insufficient_funds");
    assert_eq!(read1(402, &[], &again).unwrap().stage, Stage::Failed);
}

#[test]
fn l402_and_lsat_challenges() {
    // bLIP-26's example.
    let v = r#"L402 macaroon="AGIAJEemVQUTEyNCR0exk7ek90Cg==", invoice="lnbc1500n1pw5kjhmpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypq""#;
    let p = read1(402, &h(&[("WWW-Authenticate", v)]), "").unwrap();
    assert_eq!((p.protocol, p.stage), (Scheme::L402, Stage::Challenge));
    assert_eq!(p.amount.as_deref(), Some("150"));
    assert_eq!(p.currency.as_deref(), Some("sat"));
    assert_eq!(p.amount_atomic.as_deref(), Some("1500n"));
    assert_eq!(p.network.as_deref(), Some("bitcoin"));
    // Lightning Labs' newer form, the old scheme name, lower case.
    let v = r#"lsat version="0", token="AGIA", invoice="lntb20m1pvjluezpp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqf""#;
    let p = read1(402, &h(&[("www-authenticate", v)]), "").unwrap();
    assert_eq!(p.amount.as_deref(), Some("2000000"));
    assert_eq!(p.network.as_deref(), Some("testnet"));
    // An invoice without an amount, a garbage invoice, none at all: a challenge, no price.
    for (v, note) in [
        (
            r#"L402 macaroon="m", invoice="lnbc1pvjluezpp5qqqsyqcyq5""#,
            "no amount",
        ),
        (
            r#"L402 macaroon="m", invoice="not-an-invoice""#,
            "could not be read",
        ),
        (r#"L402 macaroon="m""#, "no invoice"),
    ] {
        let p = read1(402, &h(&[("WWW-Authenticate", v)]), "").unwrap();
        assert_eq!(p.amount, None, "{v}");
        assert!(
            p.note.as_deref().unwrap().contains(note),
            "{v}: {:?}",
            p.note
        );
        assert!(!p.is_priced_challenge());
    }
}

#[test]
fn mpp_challenges_problems_and_receipts() {
    // draft-httpauth-payment-00's example (its request decodes to USD).
    let v = r#"Payment id="x7Tg2pLqR9mKvNwY3hBcZa", realm="api.example.com", method="example", intent="charge", expires="2025-01-15T12:05:00Z", request="eyJhbW91bnQiOiIxMDAwIiwiY3VycmVuY3kiOiJVU0QiLCJyZWNpcGllbnQiOiJhY2N0XzEyMyJ9""#;
    let p = read1(402, &h(&[("WWW-Authenticate", v)]), "").unwrap();
    assert_eq!((p.protocol, p.stage), (Scheme::Mpp, Stage::Challenge));
    assert_eq!(p.amount.as_deref(), Some("10"), "1000 cents");
    assert_eq!(p.currency.as_deref(), Some("USD"));
    assert_eq!(p.pay_to.as_deref(), Some("acct_123"));
    assert_eq!(p.expires.as_deref(), Some("2025-01-15T12:05:00Z"));
    assert_eq!(p.method.as_deref(), Some("example"));
    // Lower-case currency, two challenges in two headers: the charge is shown, both counted.
    let req = URL_SAFE_NO_PAD.encode(r#"{"amount":"250","currency":"usd"}"#);
    let hs = h(&[
        (
            "WWW-Authenticate",
            &format!(
                r#"Payment id="a", realm="r", method="stripe", intent="session", request="{req}""#
            ),
        ),
        (
            "WWW-Authenticate",
            &format!(
                r#"Payment id="b", realm="r", method="stripe", intent="charge", request="{req}""#
            ),
        ),
    ]);
    let p = read1(402, &hs, "").unwrap();
    assert_eq!(
        (p.amount.as_deref(), p.currency.as_deref(), p.offers),
        (Some("2.5"), Some("USD"), 2)
    );
    // payment-insufficient: the wallet cannot pay.
    let problem = r#"{"type":"https://paymentauth.org/problems/payment-insufficient","title":"Payment Insufficient","status":402,"detail":"balance too low"}"#;
    let p = read1(402, &[], problem).unwrap();
    assert_eq!(p.stage, Stage::Failed);
    assert_eq!(p.error.as_deref(), Some("payment-insufficient"));
    // A receipt, with the paid amount from the credential's echoed challenge.
    let receipt = URL_SAFE_NO_PAD.encode(r#"{"status":"success","method":"example","timestamp":"2025-01-15T12:00:00Z","reference":"inv_12345"}"#);
    let cred = URL_SAFE_NO_PAD.encode(
        serde_json::json!({"challenge": {"id": "x", "method": "example", "intent": "charge", "request": req}, "payload": {}}).to_string(),
    );
    let p = read_with(
        200,
        &h(&[("Payment-Receipt", &receipt)]),
        &h(&[("Authorization", &format!("Payment {cred}"))]),
        "{}",
    )
    .unwrap();
    assert_eq!(p.stage, Stage::Paid);
    assert_eq!(
        (p.amount.as_deref(), p.transaction.as_deref()),
        (Some("2.5"), Some("inv_12345"))
    );
    // A broken request parameter is a challenge with a note.
    let p = read1(
        402,
        &h(&[(
            "WWW-Authenticate",
            r#"Payment id="a", intent="charge", request="%%%""#,
        )]),
        "",
    )
    .unwrap();
    assert!(p.note.as_deref().unwrap().contains("could not be read"));
}

#[test]
fn pay_per_crawl_headers() {
    let p = read1(402, &h(&[("crawler-price", "USD 0.01")]), "").unwrap();
    assert_eq!(
        (p.protocol, p.stage),
        (Scheme::PayPerCrawl, Stage::Challenge)
    );
    assert_eq!(
        (p.amount.as_deref(), p.currency.as_deref()),
        (Some("0.01"), Some("USD"))
    );
    let p = read1(200, &h(&[("crawler-charged", "USD 0.01")]), "<html></html>").unwrap();
    assert_eq!(p.stage, Stage::Paid);
    let p = read1(403, &h(&[("crawler-error", "PaymentFailed")]), "").unwrap();
    assert_eq!(p.stage, Stage::Failed);
    let p = read1(
        402,
        &h(&[
            ("crawler-price", "USD 0.05"),
            ("crawler-error", "InvalidCrawlerMaxPrice"),
        ]),
        "",
    )
    .unwrap();
    assert_eq!(
        p.stage,
        Stage::Challenge,
        "a max price below the price is still a price asked"
    );
    assert_eq!(p.error.as_deref(), Some("InvalidCrawlerMaxPrice"));
    let p = read1(402, &h(&[("crawler-price", "garbage!! 1 2")]), "").unwrap();
    assert_eq!(p.amount, None);
    assert!(p.note.is_some());
}

#[test]
fn plain_json_instructions_in_each_place() {
    for wrap in ["payment_instructions", "payment", "payment_required"] {
        let body = format!(
            r#"{{"status":402,"message":"Payment Required","{wrap}":{{"amount":0.05,"currency":"USDC","payment_uri":"https://pay.example.com/i/1"}}}}"#
        );
        let p = read1(402, &[], &body).unwrap_or_else(|| panic!("{wrap}"));
        assert_eq!((p.protocol, p.stage), (Scheme::Json, Stage::Challenge));
        assert_eq!(
            (p.amount.as_deref(), p.currency.as_deref()),
            (Some("0.05"), Some("USDC"))
        );
        assert_eq!(p.uri.as_deref(), Some("https://pay.example.com/i/1"));
    }
    let p = read1(402, &[], r#"{"error":{"payment":{"amount":"1.00","currency":"USD","url":"http://insecure.example/pay"}}}"#).unwrap();
    assert_eq!(p.amount.as_deref(), Some("1"));
    assert_eq!(p.uri, None, "http links are dropped");
    assert_eq!(read1(402, &[], r#"{"payment":"yes"}"#), None);
}

#[test]
fn broken_inputs_are_stored_with_what_could_be_read() {
    for bad in [
        "!!!not base64!!!",
        "eyJ4NDAy",
        "e30",
        &STANDARD.encode("[1,2,3]"),
        &STANDARD.encode(r#"{"x402Version":2,"accepts":"#),
    ] {
        let p = read1(402, &h(&[("PAYMENT-REQUIRED", bad)]), "").expect("a challenge all the same");
        assert_eq!(p.protocol, Scheme::X402, "{bad}");
        assert_eq!(p.amount, None, "{bad}");
    }
    let p = read1(200, &h(&[("PAYMENT-RESPONSE", "%%%")]), "").unwrap();
    assert_eq!(
        p.stage,
        Stage::Paid,
        "a 2xx with a receipt we cannot read was still paid"
    );
    assert!(p.note.is_some());
    // Hostile sizes and characters.
    let long = "9".repeat(10_000);
    let body = format!(
        r#"{{"x402Version":1,"accepts":[{{"maxAmountRequired":"{long}","asset":"0x036CbD53842c5426634e7929541eC2318f3dCF7e","network":"base-sepolia","payTo":"{}"}}]}}"#,
        "é\\u0000\\u0007".repeat(500)
    );
    let p = read1(402, &[], &body).unwrap();
    assert_eq!(p.amount, None, "an 10,000-digit amount is not a price");
    assert!(p.pay_to.as_deref().unwrap().chars().count() <= MAX_FIELD);
    assert!(
        !p.pay_to.as_deref().unwrap().contains('\u{0}'),
        "control characters are dropped"
    );
}

#[test]
fn nothing_to_read_is_none() {
    assert_eq!(read1(402, &[], r#"{"error":"Payment required"}"#), None);
    assert_eq!(
        read1(
            200,
            &h(&[("content-type", "application/json")]),
            r#"{"ok":true}"#
        ),
        None
    );
    assert_eq!(
        read1(401, &h(&[("WWW-Authenticate", "Bearer realm=\"api\"")]), ""),
        None
    );
}
