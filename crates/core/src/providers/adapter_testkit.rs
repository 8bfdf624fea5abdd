//! Test helpers for the provider adapters: recorded-response fixtures, a loopback wiremock
//! server, one poll against it, and the check that the key went where the provider wants it and
//! nowhere else.
//!
//! One file serves two kinds of test. It is a `#[cfg(test)]` module of `providers` for the tests
//! that live beside their adapter (`cargo test -p cliffwatch-core providers::<id>` runs one
//! provider's), and `tests/providers.rs` and `tests/poll.rs` include it with `#[path]`. So it
//! names the crate `cliffwatch_core`, never `crate`: inside the crate that name comes from the
//! `extern crate self` in `lib.rs`.
//!
//! A fixture (`tests/fixtures/providers/<id>/<name>.json`) is a recorded HTTP answer:
//! `{"status": 402, "headers": {"Retry-After": "7"}, "body": <any JSON>}` or, for a provider that
//! answers in plain text, `"body_text": "…"` instead of `"body"`. `status` defaults to 200.
#![allow(dead_code)]

use chrono::{DateTime, TimeZone, Utc};
use cliffwatch_core::http::{Http, HttpConfig, MAX_BODY};
use cliffwatch_core::model::{Account, AccountId, AccountState};
use cliffwatch_core::providers::{self, PollContext, PollError, Reading};
use cliffwatch_core::secrets::Secret;
use std::time::Duration;
use wiremock::{MockServer, Request, ResponseTemplate};

/// A key that is easy to find wherever it leaks.
pub const KEY: &str = "sk-TEST-PLANTED-KEY-7f3a9c";

/// The instant every adapter test polls at.
pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

/// A fixture as the response wiremock serves.
pub fn fixture(id: &str, name: &str) -> ResponseTemplate {
    let path = format!(
        "{}/../../tests/fixtures/providers/{id}/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("fixture {path}: {e}"));
    let f: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("fixture {id}/{name} is not JSON: {e}"));
    let status = f.get("status").and_then(|s| s.as_u64()).unwrap_or(200) as u16;
    let mut t = ResponseTemplate::new(status);
    if let Some(h) = f.get("headers").and_then(|h| h.as_object()) {
        for (k, v) in h {
            t = t.insert_header(k.as_str(), v.as_str().expect("header values are strings"));
        }
    }
    if let Some(text) = f.get("body_text").and_then(|b| b.as_str()) {
        t = t.set_body_raw(text.as_bytes().to_vec(), "text/plain");
    } else if let Some(body) = f.get("body") {
        t = t.set_body_raw(body.to_string().into_bytes(), "application/json");
    }
    t
}

/// An account of `provider` pointed at `base_url`.
pub fn account(provider: &str, base_url: &str, options: serde_json::Value) -> Account {
    Account {
        id: AccountId(1),
        provider: provider.into(),
        label: format!("{provider}-test"),
        base_url: Some(base_url.into()),
        secret: "keychain".into(),
        secret_hint: Some("…7f3a9c".into()),
        budget: None,
        budget_set_at: None,
        options,
        state: AccountState::Unknown,
        state_message: None,
        poll_interval_s: None,
        breaker: false,
        created_at: now(),
        updated_at: now(),
    }
}

/// A client with the app's body cap; the timeouts only bound a test whose server hangs.
pub fn http() -> Http {
    Http::new(HttpConfig {
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        max_body: MAX_BODY,
    })
    .unwrap()
}

/// One poll of `account` with [`KEY`] against its base URL.
pub async fn poll_account(account: &Account) -> Result<Reading, PollError> {
    let info = providers::find(&account.provider).unwrap();
    let secret = Secret::new(KEY).unwrap();
    let ctx = PollContext {
        info,
        account,
        secret: Some(&secret),
        base_url: account.base_url.as_deref().unwrap(),
        now: now(),
    };
    providers::adapter(&account.provider)
        .unwrap()
        .poll(&ctx, &http())
        .await
}

/// One poll of a fresh `provider` account with [`KEY`] against `server`.
pub async fn poll(
    provider: &str,
    server: &MockServer,
    options: serde_json::Value,
) -> Result<Reading, PollError> {
    poll_account(&account(provider, &server.uri(), options)).await
}

/// A server that answers `path` with the fixture `<id>/<name>`.
pub async fn serve(path: &str, id: &str, name: &str) -> MockServer {
    let server = MockServer::start().await;
    wiremock::Mock::given(wiremock::matchers::path(path))
        .respond_with(fixture(id, name))
        .mount(&server)
        .await;
    server
}

/// Where a provider wants its key.
#[derive(Debug, Clone, Copy)]
pub enum Place {
    /// This header holds the key (possibly with a prefix such as `Bearer `).
    Header(&'static str),
    /// This query parameter is the key.
    Query(&'static str),
    /// This top-level JSON body field is the key.
    JsonBody(&'static str),
    /// This `application/x-www-form-urlencoded` body field is the key (DeathByCaptcha).
    FormBody(&'static str),
    /// HTTP Basic auth (the key is the password, base64-encoded in `Authorization`).
    Basic,
}

/// Asserts every request carried the key at `place` and nowhere else: not in the path or
/// another query parameter, not in another header, not in the body.
pub async fn assert_key_only_in(server: &MockServer, place: Place) {
    let requests: Vec<Request> = server.received_requests().await.expect("recording is on");
    assert!(!requests.is_empty(), "the adapter made no request at all");
    for r in &requests {
        let (in_place, header_name, query_name, body_field) = match place {
            Place::Header(h) => (header_has_key(r, h), Some(h), None, None),
            Place::Query(q) => (
                r.url.query_pairs().any(|(k, v)| k == q && v == KEY),
                None,
                Some(q),
                None,
            ),
            Place::JsonBody(f) => (
                serde_json::from_slice::<serde_json::Value>(&r.body)
                    .ok()
                    .and_then(|j| j.get(f).and_then(|v| v.as_str()).map(|v| v == KEY))
                    .unwrap_or(false),
                None,
                None,
                Some(f),
            ),
            Place::Basic => (basic_has_key(r), Some("authorization"), None, None),
            Place::FormBody(f) => (
                url::form_urlencoded::parse(&r.body).any(|(k, v)| k == f && v == KEY),
                None,
                None,
                None,
            ),
        };
        assert!(
            in_place,
            "{} {}: the key must be sent at {place:?}",
            r.method,
            r.url.path()
        );
        assert!(
            !r.url.path().contains(KEY),
            "the key must never be in the URL path"
        );
        for (k, v) in r.url.query_pairs() {
            if Some(k.as_ref()) != query_name {
                assert!(
                    !v.contains(KEY),
                    "the key leaked into query parameter `{k}`"
                );
            }
        }
        let wanted = header_name.map(|h| h.to_ascii_lowercase());
        for (name, value) in r.headers.iter() {
            if Some(name.as_str()) != wanted.as_deref() {
                assert!(
                    !value.to_str().unwrap_or("").contains(KEY),
                    "the key leaked into header `{name}`"
                );
            }
        }
        if let Place::FormBody(f) = place {
            for (k, v) in url::form_urlencoded::parse(&r.body) {
                if k != f {
                    assert!(!v.contains(KEY), "the key leaked into form field `{k}`");
                }
            }
            continue;
        }
        match body_field {
            None => assert!(
                !String::from_utf8_lossy(&r.body).contains(KEY),
                "the key leaked into the request body"
            ),
            Some(f) => {
                let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
                let others = j
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter(|(k, _)| k.as_str() != f)
                    .map(|(_, v)| v.to_string());
                for v in others {
                    assert!(!v.contains(KEY), "the key leaked into another body field");
                }
            }
        }
    }
}

fn header_has_key(r: &Request, name: &str) -> bool {
    r.headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains(KEY))
}

fn basic_has_key(r: &Request) -> bool {
    use base64::Engine as _;
    r.headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .is_some_and(|d| String::from_utf8_lossy(&d).ends_with(&format!(":{KEY}")))
}

/// Asserts `err` is the error `kind` and that neither its message nor its Debug carries the key.
pub fn assert_kind(err: &PollError, kind: &str) {
    assert_eq!(err.kind(), kind, "wrong error kind; message: {err}");
    assert!(
        !err.to_string().contains(KEY),
        "an error message must never carry the key: {err}"
    );
    assert!(
        !format!("{err:?}").contains(KEY),
        "an error's Debug must never carry the key"
    );
}

/// `a` and `b` equal up to float rounding (`0.1 + 0.2`).
pub fn assert_close(a: Option<f64>, b: f64, why: &str) {
    let a = a.unwrap_or_else(|| panic!("expected {b}, got None: {why}"));
    assert!((a - b).abs() < 1e-9, "expected {b}, got {a}: {why}");
}
