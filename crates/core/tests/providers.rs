//! Adapter tests: each provider's recorded answers served from a loopback wiremock server.
//! Numbers and units are asserted exactly; the key must go where the provider wants it and
//! nowhere else; every failure answer must come back as the right error kind without the key.

#[path = "../src/providers/adapter_testkit.rs"]
mod support;

use support::{assert_key_only_in, assert_kind, fixture, poll, serve, Place, KEY};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer};

use chrono::TimeZone;
use cliffwatch_core::providers::PollError;

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
async fn openrouter_key_with_its_own_limit_says_account_credits_are_not_checked() {
    let server = serve("/api/v1/key", "openrouter", "success").await;
    let r = poll("openrouter", &server, none()).await.unwrap();
    let note = r.note.unwrap();
    assert!(
        note.contains("account credits not checked") && note.contains("management key"),
        "a per-key reading hides an account that runs dry first; the note says how to see it: {note}"
    );
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
    let server = serve("/api/v1/key", "openrouter", "out_of_credit").await;
    let e = poll("openrouter", &server, none()).await.unwrap_err();
    assert_kind(&e, "out_of_credit");
    let c = e.classification().unwrap();
    assert!(
        !c.transient,
        "limit_source openrouter_credits does not clear by itself"
    );

    let server = serve("/api/v1/key", "openrouter", "in_flight_budget").await;
    let e = poll("openrouter", &server, none()).await.unwrap_err();
    assert_kind(&e, "out_of_credit");
    let c = e.classification().unwrap();
    assert!(c.transient, "openrouter_in_flight_budget clears by itself");
    assert_eq!(c.retry_after, Some(std::time::Duration::from_secs(3)));
}

#[tokio::test]
async fn openrouter_invalid_key_and_rate_limit() {
    let server = serve("/api/v1/key", "openrouter", "invalid_key").await;
    assert_kind(
        &poll("openrouter", &server, none()).await.unwrap_err(),
        "invalid_key",
    );
    let server = serve("/api/v1/key", "openrouter", "rate_limited").await;
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

    let server = serve("/user/balance", "deepseek", "success_numbers").await;
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
        let server = serve("/user/balance", "deepseek", file).await;
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
    let server = serve("/account", "scraperapi", "out_of_credit").await;
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
        let server = serve("/account", "scraperapi", file).await;
        assert_kind(
            &poll("scraperapi", &server, none()).await.unwrap_err(),
            kind,
        );
    }
}

// ---- Every provider's failure answers, one table ----

#[rstest::rstest]
#[case("moonshot", "/v1/users/me/balance", "out_of_credit", "out_of_credit")]
#[case("moonshot", "/v1/users/me/balance", "invalid_key", "invalid_key")]
#[case("moonshot", "/v1/users/me/balance", "rate_limited", "rate_limited")]
#[case("siliconflow", "/v1/user/info", "out_of_credit", "out_of_credit")]
#[case("siliconflow", "/v1/user/info", "invalid_key", "invalid_key")]
#[case("siliconflow", "/v1/user/info", "rate_limited", "rate_limited")]
#[case("deepinfra", "/payment/checklist", "out_of_credit", "out_of_credit")]
#[case("deepinfra", "/payment/checklist", "invalid_key", "invalid_key")]
#[case("deepinfra", "/payment/checklist", "rate_limited", "rate_limited")]
#[case(
    "novita",
    "/openapi/v1/billing/balance/detail",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "novita",
    "/openapi/v1/billing/balance/detail",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "novita",
    "/openapi/v1/billing/balance/detail",
    "rate_limited",
    "rate_limited"
)]
#[case("venice", "/api/v1/billing/balance", "out_of_credit", "out_of_credit")]
#[case("venice", "/api/v1/billing/balance", "invalid_key", "invalid_key")]
#[case("venice", "/api/v1/billing/balance", "rate_limited", "rate_limited")]
#[case(
    "zenmux",
    "/api/v1/management/payg/balance",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "zenmux",
    "/api/v1/management/payg/balance",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "zenmux",
    "/api/v1/management/payg/balance",
    "rate_limited",
    "rate_limited"
)]
#[case(
    "elevenlabs",
    "/v1/user/subscription",
    "out_of_credit",
    "out_of_credit"
)]
#[case("elevenlabs", "/v1/user/subscription", "invalid_key", "invalid_key")]
#[case("elevenlabs", "/v1/user/subscription", "rate_limited", "rate_limited")]
#[case(
    "scrapingbee",
    "/api/v1/usage",
    "out_of_credit_monthly",
    "out_of_credit"
)]
#[case(
    "apify",
    "/v2/users/me/limits",
    "out_of_credit_hard_limit",
    "out_of_credit"
)]
#[case("apify", "/v2/users/me/limits", "forbidden", "forbidden")]
#[case(
    "deepgram",
    "/v1/projects/p-123/balances",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "deepgram",
    "/v1/projects/p-123/balances",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "deepgram",
    "/v1/projects/p-123/balances",
    "rate_limited",
    "rate_limited"
)]
#[case("openai", "/v1/organization/costs", "out_of_credit", "out_of_credit")]
#[case("openai", "/v1/organization/costs", "invalid_key", "invalid_key")]
#[case("openai", "/v1/organization/costs", "rate_limited", "rate_limited")]
#[case(
    "anthropic",
    "/v1/organizations/cost_report",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "anthropic",
    "/v1/organizations/cost_report",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "anthropic",
    "/v1/organizations/cost_report",
    "rate_limited",
    "rate_limited"
)]
#[case("linkup", "/v1/credits/balance", "out_of_credit", "out_of_credit")]
#[case("linkup", "/v1/credits/balance", "invalid_key", "invalid_key")]
#[case("linkup", "/v1/credits/balance", "rate_limited", "rate_limited")]
#[case(
    "dataforseo",
    "/v3/appendix/user_data",
    "out_of_credit",
    "out_of_credit"
)]
#[case("dataforseo", "/v3/appendix/user_data", "invalid_key", "invalid_key")]
#[case("dataforseo", "/v3/appendix/user_data", "rate_limited", "rate_limited")]
#[case("hunter", "/v2/account", "out_of_credit", "out_of_credit")]
#[case("hunter", "/v2/account", "invalid_key", "invalid_key")]
#[case("hunter", "/v2/account", "rate_limited", "rate_limited")]
#[case("crawlbase", "/account", "invalid_key", "invalid_key")]
#[case("crawlbase", "/account", "rate_limited", "rate_limited")]
#[case("scrapegraphai", "/api/credits", "out_of_credit", "out_of_credit")]
#[case("scrapegraphai", "/api/credits", "invalid_key", "invalid_key")]
#[case("scrapegraphai", "/api/credits", "rate_limited", "rate_limited")]
#[case("valueserp", "/account", "out_of_credit", "out_of_credit")]
#[case("valueserp", "/account", "invalid_key", "invalid_key")]
#[case("valueserp", "/account", "rate_limited", "rate_limited")]
#[case("scrappey", "/api/v1/balance", "out_of_credit", "out_of_credit")]
#[case("scrappey", "/api/v1/balance", "invalid_key", "invalid_key")]
#[case("scrappey", "/api/v1/balance", "rate_limited", "rate_limited")]
#[case("nopecha", "/status", "out_of_credit", "out_of_credit")]
#[case("nopecha", "/status", "invalid_key", "invalid_key")]
#[case("nopecha", "/status", "rate_limited", "rate_limited")]
#[case("deathbycaptcha", "/api/user", "invalid_key", "invalid_key")]
#[case("deathbycaptcha", "/api/user", "rate_limited", "rate_limited")]
#[case(
    "xai",
    "/v1/billing/teams/team-123/prepaid/balance",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "xai",
    "/v1/billing/teams/team-123/prepaid/balance",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "xai",
    "/v1/billing/teams/team-123/prepaid/balance",
    "rate_limited",
    "rate_limited"
)]
#[case("fal", "/v1/account/billing", "out_of_credit", "out_of_credit")]
#[case("fal", "/v1/account/billing", "invalid_key", "invalid_key")]
#[case("fal", "/v1/account/billing", "rate_limited", "rate_limited")]
#[case("fal", "/v1/account/billing", "forbidden", "forbidden")]
#[case("featherless", "/credits/balance", "out_of_credit", "out_of_credit")]
#[case("featherless", "/credits/balance", "invalid_key", "invalid_key")]
#[case("featherless", "/credits/balance", "rate_limited", "rate_limited")]
#[case("featherless", "/credits/balance", "forbidden", "forbidden")]
#[case("runpod", "/graphql", "out_of_credit", "out_of_credit")]
#[case("runpod", "/graphql", "invalid_key", "invalid_key")]
#[case("runpod", "/graphql", "rate_limited", "rate_limited")]
#[case(
    "huggingface",
    "/api/settings/billing/usage-v2",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "huggingface",
    "/api/settings/billing/usage-v2",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "huggingface",
    "/api/settings/billing/usage-v2",
    "rate_limited",
    "rate_limited"
)]
#[case(
    "huggingface",
    "/api/settings/billing/usage-v2",
    "forbidden",
    "forbidden"
)]
#[case(
    "cloudflare_ai_gateway",
    "/client/v4/accounts/acc-123/ai-gateway/billing/credit-balance",
    "out_of_credit",
    "out_of_credit"
)]
#[case(
    "cloudflare_ai_gateway",
    "/client/v4/accounts/acc-123/ai-gateway/billing/credit-balance",
    "invalid_key",
    "invalid_key"
)]
#[case(
    "cloudflare_ai_gateway",
    "/client/v4/accounts/acc-123/ai-gateway/billing/credit-balance",
    "rate_limited",
    "rate_limited"
)]
#[case("exa", "/team-management/credits", "out_of_credit", "out_of_credit")]
#[case("exa", "/team-management/credits", "invalid_key", "invalid_key")]
#[case("exa", "/team-management/credits", "rate_limited", "rate_limited")]
#[tokio::test]
async fn failure_answers_are_classified(
    #[case] provider: &str,
    #[case] endpoint: &str,
    #[case] file: &str,
    #[case] kind: &str,
) {
    let server = serve(endpoint, provider, file).await;
    let mut acc = support::account(provider, &server.uri(), options_for(provider));
    acc.budget = Some(100.0);
    acc.budget_set_at = Some(support::now() - chrono::Duration::days(7));
    let e = support::poll_account(&acc).await.unwrap_err();
    assert_kind(&e, kind);
}

fn options_for(provider: &str) -> serde_json::Value {
    match provider {
        "deepgram" => serde_json::json!({"project_id": "p-123"}),
        "dataforseo" => serde_json::json!({"login": "ops@example.com"}),
        "deathbycaptcha" => serde_json::json!({"username": "ops"}),
        "xai" => serde_json::json!({"team_id": "team-123"}),
        "cloudflare_ai_gateway" => serde_json::json!({"account_id": "acc-123"}),
        _ => none(),
    }
}

/// Mounts `fixture` at `endpoint`, answering only when the key is in `header` (exact value).
async fn serve_with_header(
    endpoint: &str,
    header_name: &str,
    value: &str,
    file: (&str, &str),
) -> MockServer {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(endpoint))
        .and(header(header_name, value))
        .respond_with(fixture(file.0, file.1))
        .expect(1)
        .mount(&server)
        .await;
    server
}

fn bearer() -> String {
    format!("Bearer {KEY}")
}

// ---- Moonshot ----

#[tokio::test]
async fn moonshot_reads_available_balance_in_the_host_currency() {
    let server = serve_with_header(
        "/v1/users/me/balance",
        "authorization",
        &bearer(),
        ("moonshot", "success"),
    )
    .await;
    let r = poll("moonshot", &server, none()).await.unwrap();
    assert_eq!(
        (r.remaining, r.unit.as_str()),
        (Some(49.58), "usd"),
        "available = cash + voucher, USD off .cn"
    );
    assert_key_only_in(&server, Place::Header("authorization")).await;

    let server = serve("/v1/users/me/balance", "moonshot", "success_debt").await;
    let r = poll("moonshot", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining,
        Some(20.0),
        "negative cash is not subtracted twice"
    );
    assert!(r.note.unwrap().contains("-5.25"), "the debt is named");
}

// ---- SiliconFlow ----

#[tokio::test]
async fn siliconflow_reads_total_balance() {
    let server = serve_with_header(
        "/v1/user/info",
        "authorization",
        &bearer(),
        ("siliconflow", "success"),
    )
    .await;
    let r = poll("siliconflow", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining,
        Some(88.88),
        "totalBalance = gift + paid, from a string"
    );
    assert_eq!(
        r.unit.as_str(),
        "usd",
        "only the .cn host prices in CNY; any other host is read as the .com platform (USD)"
    );
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

// ---- DeepInfra ----

#[tokio::test]
async fn deepinfra_negative_stripe_balance_is_money_left() {
    let server = MockServer::start().await;
    Mock::given(path("/payment/checklist"))
        .and(query_param("compute_owed", "true"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(fixture("deepinfra", "success"))
        .expect(1)
        .mount(&server)
        .await;
    let r = poll("deepinfra", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining,
        Some(12.5),
        "stripe_balance −12.5 means $12.50 prepaid"
    );
    assert_eq!(
        r.limit, None,
        "limit caps the billing cycle's spend, not the balance"
    );
    assert_eq!(r.unit.as_str(), "usd");
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

// ---- Novita ----

#[tokio::test]
async fn novita_divides_ten_thousandths() {
    let server = serve_with_header(
        "/openapi/v1/billing/balance/detail",
        "authorization",
        &bearer(),
        ("novita", "success"),
    )
    .await;
    let r = poll("novita", &server, none()).await.unwrap();
    assert_eq!(
        r.remaining,
        Some(12.3456),
        "\"123456\" in 1/10000 USD is $12.3456"
    );
    assert_eq!(r.unit.as_str(), "usd");
    assert_eq!(r.note.as_deref(), Some("pending charges 2.6544 USD"));
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

// ---- Venice ----

#[tokio::test]
async fn venice_reads_the_consumption_currency() {
    let server = serve_with_header(
        "/api/v1/billing/balance",
        "authorization",
        &bearer(),
        ("venice", "success"),
    )
    .await;
    let r = poll("venice", &server, none()).await.unwrap();
    assert_eq!(
        (r.remaining, r.unit.as_str()),
        (Some(18.4), "usd"),
        "consumptionCurrency USD reads balances.usd"
    );
    assert_key_only_in(&server, Place::Header("authorization")).await;

    let server = serve("/api/v1/billing/balance", "venice", "success_diem").await;
    let r = poll("venice", &server, none()).await.unwrap();
    assert_eq!(
        (r.remaining, r.unit.as_str()),
        (Some(3.25), "credits"),
        "DIEM is counted as credits"
    );
    assert!(r.note.unwrap().starts_with("DIEM"), "and named");
}

// ---- ZenMux ----

#[tokio::test]
async fn zenmux_reads_total_credits() {
    let server = serve_with_header(
        "/api/v1/management/payg/balance",
        "authorization",
        &bearer(),
        ("zenmux", "success"),
    )
    .await;
    let r = poll("zenmux", &server, none()).await.unwrap();
    assert_eq!((r.remaining, r.unit.as_str()), (Some(42.5), "usd"));
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

// ---- ElevenLabs ----

#[tokio::test]
async fn elevenlabs_counts_characters_and_its_reset() {
    let server = serve_with_header(
        "/v1/user/subscription",
        "xi-api-key",
        KEY,
        ("elevenlabs", "success"),
    )
    .await;
    let r = poll("elevenlabs", &server, none()).await.unwrap();
    assert_eq!(r.limit, Some(100_000.0));
    assert_eq!(r.used, Some(34_512.0));
    assert_eq!(
        r.remaining,
        Some(65_488.0),
        "character_limit − character_count"
    );
    assert_eq!(r.unit.as_str(), "characters");
    assert_eq!(
        r.resets_at,
        chrono::DateTime::from_timestamp(1_766_016_000, 0)
    );
    assert_key_only_in(&server, Place::Header("xi-api-key")).await;
}

// ---- Deepgram ----

#[tokio::test]
async fn deepgram_sums_project_balances_with_token_auth() {
    let server = serve_with_header(
        "/v1/projects/p-123/balances",
        "authorization",
        &format!("Token {KEY}"),
        ("deepgram", "success"),
    )
    .await;
    let r = poll(
        "deepgram",
        &server,
        serde_json::json!({"project_id": "p-123"}),
    )
    .await
    .unwrap();
    assert_eq!(r.remaining, Some(200.0), "150.25 + 49.75 in the same unit");
    assert_eq!(r.unit.as_str(), "usd");
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

#[tokio::test]
async fn deepgram_without_project_id_is_a_config_error() {
    let server = serve("/v1/projects/p-123/balances", "deepgram", "success").await;
    let e = poll("deepgram", &server, none()).await.unwrap_err();
    assert_kind(&e, "config");
    assert!(
        e.to_string().contains("--project-id"),
        "says how to fix it: {e}"
    );
}

// ---- OpenAI (spend only) ----

#[tokio::test]
async fn openai_sums_every_cost_page_since_the_budget_was_set() {
    let server = MockServer::start().await;
    let since = support::now() - chrono::Duration::days(7);
    Mock::given(path("/v1/organization/costs"))
        .and(query_param("page", "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="))
        .and(header("authorization", bearer().as_str()))
        .respond_with(fixture("openai", "success_page2"))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(path("/v1/organization/costs"))
        .and(query_param(
            "start_time",
            since.timestamp().to_string().as_str(),
        ))
        .and(query_param("bucket_width", "1d"))
        .and(header("authorization", bearer().as_str()))
        .respond_with(fixture("openai", "success"))
        .expect(1) // the second page (also with start_time) hits the page mock, mounted first
        .mount(&server)
        .await;
    let mut acc = support::account("openai", &server.uri(), none());
    acc.budget = Some(50.0);
    acc.budget_set_at = Some(since);
    let r = support::poll_account(&acc).await.unwrap();
    let used = r.used.unwrap();
    assert!(
        (used - 6.0).abs() < 1e-9,
        "4.2175 + 1.5 (a string) + 0.2825 over two pages, got {used}"
    );
    assert!((r.remaining.unwrap() - 44.0).abs() < 1e-9, "budget − spend");
    assert_eq!(r.limit, Some(50.0));
    assert_eq!(r.unit.as_str(), "usd");
    assert_key_only_in(&server, Place::Header("authorization")).await;
}

#[tokio::test]
async fn spend_only_without_a_budget_says_how_to_set_one() {
    let server = serve("/v1/organization/costs", "openai", "success_page2").await;
    let e = poll("openai", &server, none()).await.unwrap_err();
    assert_kind(&e, "config");
    assert!(e.to_string().contains("--budget"), "names the flag: {e}");
}

// ---- Anthropic (spend only) ----

#[tokio::test]
async fn anthropic_cost_report_cents_become_dollars() {
    let server = MockServer::start().await;
    Mock::given(path("/v1/organizations/cost_report"))
        .and(query_param("page", "page_2"))
        .and(header("x-api-key", KEY))
        .and(header("anthropic-version", "2023-06-01"))
        .respond_with(fixture("anthropic", "success_page2"))
        .mount(&server)
        .await;
    Mock::given(path("/v1/organizations/cost_report"))
        .and(query_param("starting_at", "2026-11-14T12:00:00Z"))
        .and(header("x-api-key", KEY))
        .respond_with(fixture("anthropic", "success"))
        .mount(&server)
        .await;
    let mut acc = support::account("anthropic", &server.uri(), none());
    acc.budget = Some(25.0);
    acc.budget_set_at = Some(support::now() - chrono::Duration::days(7));
    let r = support::poll_account(&acc).await.unwrap();
    assert_eq!(r.used, Some(10.0), "\"123.45\" + \"876.55\" cents = $10.00");
    assert_eq!(r.remaining, Some(15.0), "budget − spend");
    assert_eq!(r.unit.as_str(), "usd");
    assert_key_only_in(&server, Place::Header("x-api-key")).await;
}

// ---- Custom (declarative) ----

fn litellm_spec(auth: serde_json::Value) -> serde_json::Value {
    serde_json::json!({"spec": {
        "method": if auth["type"] == "json_body" { "POST" } else { "GET" },
        "url": "https://litellm.example.com/key/info",
        "auth": auth,
        "headers": {"X-Team": "a"},
        "limit": "/info/max_budget",
        "used": "/info/spend",
        "unit": "usd",
        "out_of_credit": [{"status": 400, "body_contains": "budget has been exceeded"}]
    }})
}

#[rstest::rstest]
#[case::bearer(serde_json::json!({"type": "bearer"}), Place::Header("authorization"))]
#[case::header(serde_json::json!({"type": "header", "name": "X-Litellm-Key", "prefix": "Key "}), Place::Header("x-litellm-key"))]
#[case::query(serde_json::json!({"type": "query", "name": "token"}), Place::Query("token"))]
#[case::basic(serde_json::json!({"type": "basic", "username": "team-a"}), Place::Basic)]
#[case::json_body(serde_json::json!({"type": "json_body", "field": "clientKey"}), Place::JsonBody("clientKey"))]
#[tokio::test]
async fn custom_reads_json_pointers_and_puts_the_key_where_the_spec_says(
    #[case] auth: serde_json::Value,
    #[case] place: Place,
) {
    let server = MockServer::start().await;
    Mock::given(path("/key/info"))
        .and(header("x-team", "a"))
        .respond_with(fixture("custom", "success"))
        .expect(1)
        .mount(&server)
        .await;
    let r = poll("custom", &server, litellm_spec(auth)).await.unwrap();
    assert_eq!(r.limit, Some(10.0), "/info/max_budget");
    assert_eq!(r.used, Some(3.75), "/info/spend");
    assert_eq!(r.remaining, Some(6.25), "derived: limit − used");
    assert_eq!(r.unit.as_str(), "usd");
    assert_key_only_in(&server, place).await;
}

#[rstest::rstest]
#[case("out_of_credit", "out_of_credit")]
#[case("invalid_key", "invalid_key")]
#[case("rate_limited", "rate_limited")]
#[tokio::test]
async fn custom_failures_use_the_spec_rules_then_the_classifier(
    #[case] file: &str,
    #[case] kind: &str,
) {
    let server = serve("/key/info", "custom", file).await;
    let e = poll(
        "custom",
        &server,
        litellm_spec(serde_json::json!({"type": "bearer"})),
    )
    .await
    .unwrap_err();
    assert_kind(&e, kind);
}

#[tokio::test]
async fn custom_scale_and_a_bad_spec() {
    let server = serve("/key/info", "custom", "success").await;
    let spec = serde_json::json!({"spec": {"url": "/key/info", "remaining": "/info/spend", "unit": "credits", "scale": 100}});
    let r = poll("custom", &server, spec).await.unwrap();
    assert_eq!(r.remaining, Some(375.0), "scale multiplies (3.75 × 100)");
    let bad = serde_json::json!({"spec": {"url": "/key/info", "unit": "usd"}});
    let e = poll("custom", &server, bad).await.unwrap_err();
    assert_kind(&e, "config");
    let missing =
        serde_json::json!({"spec": {"url": "/key/info", "remaining": "/info/nope", "unit": "usd"}});
    let e = poll("custom", &server, missing).await.unwrap_err();
    assert_kind(&e, "bad_response");
    assert!(
        e.to_string().contains("/info/nope"),
        "names the pointer that found nothing: {e}"
    );
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
        e.to_string().contains("Invalid key REDACTED"),
        "the echo is kept, the key is not: {e}"
    );
}

// ---- Every provider, hostile bodies ----

/// What each provider needs besides its key to send a request at all.
fn options_to_poll(provider: &str) -> serde_json::Value {
    match provider {
        "deepgram" => serde_json::json!({"project_id": "p-123"}),
        "twilio" => serde_json::json!({"account_sid": "AC0123456789abcdef0123456789abcdef"}),
        "xai" => serde_json::json!({"team_id": "team-1"}),
        "cloudflare_ai_gateway" => serde_json::json!({"account_id": "0123456789abcdef"}),
        "dataforseo" => serde_json::json!({"login": "me@example.com"}),
        "deathbycaptcha" => serde_json::json!({"username": "me"}),
        _ => none(),
    }
}

/// Every provider (but `custom`, which has its own spec tests) against answers no provider
/// documents, on every path it might call: each is an error or a partial reading, never a
/// panic, never a fabricated zero (an empty object is not "nothing left"), and never the key.
#[tokio::test]
async fn every_provider_survives_hostile_bodies_without_inventing_a_zero() {
    let bodies: &[(&str, &str)] = &[
        (
            "an HTML login page",
            "<!DOCTYPE html><html><body>Sign in</body></html>",
        ),
        ("truncated JSON", r#"{"data": {"balance": 12"#),
        ("an empty object", "{}"),
        ("null", "null"),
        ("an array", "[1, 2, 3]"),
        (
            "nulls everywhere",
            r#"{"data": null, "result": null, "balance": null, "credits": null}"#,
        ),
        (
            "strings where numbers go",
            r#"{"balance": "lots", "remaining": "NaN", "total": "1e999"}"#,
        ),
        ("deep nesting", &"[".repeat(5000)),
    ];
    let mut fabricated = Vec::new();
    for info in cliffwatch_core::providers::PROVIDERS
        .iter()
        .filter(|p| p.id != "custom")
    {
        for (what, body) in bodies {
            let server = MockServer::start().await;
            Mock::given(wiremock::matchers::any())
                .respond_with(
                    wiremock::ResponseTemplate::new(200)
                        .set_body_raw(body.as_bytes().to_vec(), "application/json"),
                )
                .mount(&server)
                .await;
            let got = poll(info.id, &server, options_to_poll(info.id)).await;
            match got {
                Ok(r) => {
                    let zero = |v: Option<f64>| v == Some(0.0);
                    if zero(r.remaining) && !zero(r.limit) {
                        fabricated.push(format!("{} on {what}: {r:?}", info.id));
                    }
                    assert!(
                        !format!("{r:?}").contains(KEY),
                        "{} on {what}: the key in a reading",
                        info.id
                    );
                }
                Err(e) => assert!(
                    !e.to_string().contains(KEY),
                    "{} on {what}: the key in an error: {e}",
                    info.id
                ),
            }
        }
    }
    assert!(
        fabricated.is_empty(),
        "a zero nobody reported:\n{}",
        fabricated.join("\n")
    );
}
