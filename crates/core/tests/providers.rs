//! Adapter tests: each provider's recorded answers served from a loopback wiremock server.
//! Numbers and units are asserted exactly; the key must go where the provider wants it and
//! nowhere else; every failure answer must come back as the right error kind without the key.

mod support;

use support::{assert_key_only_in, assert_kind, fixture, poll, Place, KEY};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

use chrono::TimeZone;
use cliffwatch_core::providers::PollError;

async fn serve(p: &str, file: (&str, &str)) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path(p))
        .respond_with(fixture(file.0, file.1))
        .mount(&server)
        .await;
    server
}

fn none() -> serde_json::Value {
    serde_json::json!({})
}

// ---- OpenRouter ----

#[tokio::test]
async fn openrouter_reads_the_per_key_limit() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/v1/key"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(fixture("openrouter", "success"))
        .expect(1)
        .mount(&server)
        .await;
    let r = poll("openrouter", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining,
        Some(17.19),
        "limit_remaining is the money left on this key"
    );
    assert_eq!(r.limit, Some(25.0));
    assert_eq!(
        r.used,
        Some(7.81),
        "a monthly limit counts usage_monthly, not all-time usage"
    );
    assert_eq!(r.unit.as_str(), "usd");
    assert_eq!(
        r.resets_at,
        Some(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()),
        "limit_reset monthly resets on the 1st, UTC"
    );
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

#[tokio::test]
async fn openrouter_management_key_reads_account_credits() {
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/key"))
        .respond_with(fixture("openrouter", "key_unlimited"))
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/credits"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(fixture("openrouter", "credits"))
        .expect(1)
        .mount(&server)
        .await;
    let r = poll("openrouter", &server, none()).await.unwrap();
    assert_eq!(r.limit, Some(50.0), "total_credits");
    assert_eq!(r.used, Some(37.81), "total_usage");
    let remaining = r.remaining.unwrap();
    assert!(
        (remaining - 12.19).abs() < 1e-9,
        "remaining = credits − usage, got {remaining}"
    );
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

#[tokio::test]
async fn openrouter_inference_key_refused_by_credits_keeps_the_key_reading() {
    let server = MockServer::start().await;
    let mut key = fixture("openrouter", "key_unlimited");
    // An inference key without a limit: /credits answers 403 for it.
    key = key.set_body_raw(
        r#"{"data":{"limit":null,"limit_reset":null,"limit_remaining":null,"usage":3.5,"is_management_key":false}}"#,
        "application/json",
    );
    Mock::given(path("/api/v1/key"))
        .respond_with(key)
        .mount(&server)
        .await;
    Mock::given(path("/api/v1/credits"))
        .respond_with(wiremock::ResponseTemplate::new(403).set_body_string(
            r#"{"error":{"code":403,"message":"Only management keys can perform this operation"}}"#,
        ))
        .mount(&server)
        .await;
    let r = poll("openrouter", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining, None,
        "an unlimited key has no remaining of its own"
    );
    assert_eq!(r.used, Some(3.5), "all-time usage without a limit period");
}

#[tokio::test]
async fn openrouter_402_is_out_of_credit_and_in_flight_budget_is_transient() {
    let server = serve("/api/v1/key", ("openrouter", "out_of_credit")).await;
    let e = poll("openrouter", &server, none()).await.unwrap_err();
    assert_kind(&e, "out_of_credit");
    let c = e.classification().unwrap();
    assert!(
        !c.transient,
        "limit_source openrouter_credits does not clear by itself"
    );

    let server = serve("/api/v1/key", ("openrouter", "in_flight_budget")).await;
    let e = poll("openrouter", &server, none()).await.unwrap_err();
    assert_kind(&e, "out_of_credit");
    let c = e.classification().unwrap();
    assert!(c.transient, "openrouter_in_flight_budget clears by itself");
    assert_eq!(c.retry_after, Some(std::time::Duration::from_secs(3)));
}

#[tokio::test]
async fn openrouter_invalid_key_and_rate_limit() {
    let server = serve("/api/v1/key", ("openrouter", "invalid_key")).await;
    assert_kind(
        &poll("openrouter", &server, none()).await.unwrap_err(),
        "invalid_key",
    );
    let server = serve("/api/v1/key", ("openrouter", "rate_limited")).await;
    let e = poll("openrouter", &server, none()).await.unwrap_err();
    assert_kind(&e, "rate_limited");
    assert!(
        matches!(e, PollError::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 20),
        "Retry-After is carried to the scheduler: {e:?}"
    );
}

// ---- DeepSeek ----

#[tokio::test]
async fn deepseek_reads_the_currency_with_money_and_never_adds_currencies() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/user/balance"))
        .and(header("authorization", format!("Bearer {KEY}").as_str()))
        .respond_with(fixture("deepseek", "success"))
        .expect(1)
        .mount(&server)
        .await;
    let r = poll("deepseek", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining,
        Some(7.83),
        "total_balance of the USD entry, parsed from a string"
    );
    assert_eq!(
        r.unit.as_str(),
        "usd",
        "the CNY entry is empty, so USD is the reading"
    );
    assert_eq!(
        r.note.as_deref(),
        Some("also: 0 cny"),
        "the other currency is named, not added"
    );
    assert_key_only_in(&server, Place::Header("authorization")).await;

    let server = serve("/user/balance", ("deepseek", "success_numbers")).await;
    let r = poll("deepseek", &server, none()).await.unwrap();
    assert_eq!(
        (r.remaining, r.unit.as_str()),
        (Some(110.5), "cny"),
        "numbers parse too"
    );
}

#[tokio::test]
async fn deepseek_failures() {
    for (file, kind) in [
        ("out_of_credit", "out_of_credit"),
        ("invalid_key", "invalid_key"),
        ("rate_limited", "rate_limited"),
    ] {
        let server = serve("/user/balance", ("deepseek", file)).await;
        assert_kind(&poll("deepseek", &server, none()).await.unwrap_err(), kind);
    }
}

// ---- ScraperAPI ----

#[tokio::test]
async fn scraperapi_reads_credits_and_sends_the_key_as_query() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/account"))
        .and(query_param("api_key", KEY))
        .respond_with(fixture("scraperapi", "success"))
        .expect(1)
        .mount(&server)
        .await;
    let r = poll("scraperapi", &server, none()).await.unwrap();
    assert_eq!(r.limit, Some(100_000.0));
    assert_eq!(r.used, Some(81_234.0));
    assert_eq!(r.remaining, Some(18_766.0), "requestLimit − requestCount");
    assert_eq!(r.unit.as_str(), "credits");
    assert_eq!(
        r.resets_at,
        Some(
            chrono::Utc
                .with_ymd_and_hms(2026, 12, 14, 8, 30, 0)
                .unwrap()
        ),
        "the cycle renews monthly on the subscription date"
    );
    assert_key_only_in(&server, Place::Query("api_key")).await;
}

#[tokio::test]
async fn scraperapi_403_plain_text_is_out_of_credit() {
    let server = serve("/account", ("scraperapi", "out_of_credit")).await;
    let e = poll("scraperapi", &server, none()).await.unwrap_err();
    assert_kind(&e, "out_of_credit");
    assert!(
        e.to_string().contains("used up all your API credits"),
        "the body is quoted: {e}"
    );
    for (file, kind) in [
        ("invalid_key", "invalid_key"),
        ("rate_limited", "rate_limited"),
    ] {
        let server = serve("/account", ("scraperapi", file)).await;
        assert_kind(
            &poll("scraperapi", &server, none()).await.unwrap_err(),
            kind,
        );
    }
}

// ---- Shared hostile answers (once, through one adapter) ----

#[tokio::test]
async fn an_html_error_page_is_a_bad_response() {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            "<!DOCTYPE html><html><body><h1>Sign in</h1></body></html>",
            "text/html",
        ))
        .mount(&server)
        .await;
    assert_kind(
        &poll("deepseek", &server, none()).await.unwrap_err(),
        "bad_response",
    );

    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(wiremock::ResponseTemplate::new(502).set_body_raw(
            "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
            "text/html",
        ))
        .mount(&server)
        .await;
    assert_kind(
        &poll("deepseek", &server, none()).await.unwrap_err(),
        "server_error",
    );
}

#[tokio::test]
async fn truncated_json_is_a_bad_response() {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
            r#"{"is_available":true,"balance_infos":[{"currency":"USD","tot"#,
            "application/json",
        ))
        .mount(&server)
        .await;
    let e = poll("deepseek", &server, none()).await.unwrap_err();
    assert_kind(&e, "bad_response");
    assert!(
        e.to_string().contains("cut short"),
        "says what was wrong: {e}"
    );
}

#[tokio::test]
async fn a_documented_field_missing_is_a_bad_response() {
    let server = MockServer::start().await;
    Mock::given(path("/account"))
        .respond_with(
            wiremock::ResponseTemplate::new(200).set_body_raw(r#"{"foo":1}"#, "application/json"),
        )
        .mount(&server)
        .await;
    assert_kind(
        &poll("scraperapi", &server, none()).await.unwrap_err(),
        "bad_response",
    );
}

#[tokio::test]
async fn a_5_mib_body_is_refused() {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(
            wiremock::ResponseTemplate::new(200)
                .set_body_raw(vec![b'['; 5 << 20], "application/json"),
        )
        .mount(&server)
        .await;
    assert_kind(
        &poll("deepseek", &server, none()).await.unwrap_err(),
        "too_large",
    );
}

#[tokio::test]
async fn a_redirect_to_another_host_does_not_carry_the_key() {
    let other = MockServer::start().await;
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(
            wiremock::ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/user/balance", other.uri()).as_str()),
        )
        .mount(&server)
        .await;
    assert_kind(
        &poll("deepseek", &server, none()).await.unwrap_err(),
        "redirect",
    );
    let seen = other.received_requests().await.unwrap();
    assert!(
        seen.is_empty(),
        "the other host received {} requests; it must receive none",
        seen.len()
    );
}

#[tokio::test]
async fn a_key_echoed_in_an_error_body_is_scrubbed_from_the_message() {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(wiremock::ResponseTemplate::new(401).set_body_raw(
            format!(
                r#"{{"error":{{"message":"Invalid key {KEY}","type":"authentication_error"}}}}"#
            ),
            "application/json",
        ))
        .mount(&server)
        .await;
    let e = poll("deepseek", &server, none()).await.unwrap_err();
    assert_kind(&e, "invalid_key");
    assert!(
        e.to_string().contains("Invalid key ***"),
        "the echo is kept, the key is not: {e}"
    );
}
