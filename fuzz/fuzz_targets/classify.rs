//! The classifier on any status, headers and body (payment headers and bodies included), then
//! the event a log would store from it: never a panic, and a key planted anywhere in the answer
//! in a known key shape is gone from everything the event would store or show.
#![no_main]
use cliffwatch_core::classify::{classify, Observation};
use cliffwatch_core::logs::{self, Request};
use libfuzzer_sys::fuzz_target;

const PLANTED: &str = "sk-or-v1-0123456789abcdef0123456789abcdef0123456789abcdef";

fuzz_target!(|data: &[u8]| {
    let [s0, s1, at, rest @ ..] = data else {
        return;
    };
    let status = u16::from_le_bytes([*s0, *s1]) % 1000;
    // Headers: `name: value` lines up to a blank line; the rest is the body.
    let text = String::from_utf8_lossy(rest);
    let (head, body) = text.split_once("\n\n").unwrap_or(("", &text));
    let headers: Vec<(String, String)> = head
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    // The key planted at a fuzzer-chosen character of the body.
    let cut = body
        .char_indices()
        .map(|(i, _)| i)
        .nth(usize::from(*at))
        .unwrap_or(body.len());
    let body = format!("{} {PLANTED} {}", &body[..cut], &body[cut..]);
    let c = classify(&Observation {
        provider: None,
        host: Some("api.example.com"),
        status,
        headers: &headers,
        request_headers: &[],
        body: body.as_bytes(),
    });
    let _ = c.outcome;
    let req = Request {
        time: None,
        status,
        method: Some("POST".into()),
        url: Some(format!("https://api.example.com/v1?api_key={PLANTED}")),
        host: Some("api.example.com".into()),
        headers: headers.clone(),
        // The request's headers are read (what a paid request paid) and must never be kept.
        request_headers: vec![
            ("Authorization".into(), format!("Bearer {PLANTED}")),
            ("PAYMENT-SIGNATURE".into(), head.to_owned()),
        ],
        body: Some(body.clone().into_bytes()),
        note: None,
        echo: false,
    };
    let fallback = chrono::DateTime::from_timestamp(1_764_000_000, 0).expect("a fixed time");
    let seen = logs::request_seen(&req, fallback);
    if let Some(e) = &seen.event {
        let shown = serde_json::to_string(e).expect("an event serialises");
        assert!(!shown.contains(PLANTED), "the planted key survived: {shown}");
    }
    if let Some(s) = &seen.spend {
        let shown = format!("{:?}", s);
        assert!(!shown.contains(PLANTED), "the planted key survived in spend: {shown}");
    }
});
