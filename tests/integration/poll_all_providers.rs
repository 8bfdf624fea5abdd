//! Issue 3's "done when": `poll --once --json` against loopback servers gives correct readings
//! for every provider in one run.
//!
//! One wiremock server plays all 25 providers and a custom (LiteLLM-style) endpoint, each under
//! its own path prefix (`/<id>/…`), which is also the account's `--base-url`: adapters join
//! their paths onto the base URL (`PollContext::url`), so a prefix works and the three captcha
//! services, which all call `/getBalance`, stay apart. Every mock answers the provider's
//! `success` fixture and only when the key arrives where that provider wants it (header, query
//! parameter, JSON body or basic auth); a key anywhere else gets wiremock's 404, which the
//! account reports as an error. Each account has its own key in its own environment variable,
//! so a key reaching the wrong provider is caught too. The expected numbers and units are the
//! ones the adapters' own unit tests assert for the same fixtures.

use crate::support::*;
use serde_json::Value;
use std::path::Path;
use std::process::Command;
use wiremock::matchers::{
    basic_auth, body_json, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockBuilder, MockServer, ResponseTemplate};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../tests/fixtures/providers"
);

/// Deepgram's project and Twilio's account SID. Both end up in the request path, where the
/// table spells them out again (`concat!` takes only literals).
const DEEPGRAM_PROJECT: &str = "p-123";
const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";

/// The custom account's spec: LiteLLM's `/key/info`, a path joined to the account's base URL.
const LITELLM_SPEC: &str = r#"{"method": "GET", "url": "/key/info", "auth": {"type": "bearer"},
    "limit": "/info/max_budget", "used": "/info/spend", "unit": "usd",
    "out_of_credit": [{"status": 400, "body_contains": "budget has been exceeded"}]}"#;

/// Where a provider wants its key.
#[derive(Debug, Clone, Copy)]
enum Key {
    /// `Authorization: Bearer <key>`.
    Bearer,
    /// `Authorization: Token <key>` (Deepgram).
    Token,
    /// This header holds the bare key.
    Header(&'static str),
    /// This query parameter is the key.
    Query(&'static str),
    /// `{"clientKey": <key>}` is the whole JSON body (the Anti-Captcha protocol).
    ClientKeyBody,
    /// HTTP basic auth with this user and the key as password (Twilio).
    Basic(&'static str),
}

/// Something else the request must carry for the provider to answer.
#[derive(Debug, Clone, Copy)]
enum Also {
    Nothing,
    Header(&'static str, &'static str),
    Query(&'static str, &'static str),
}

#[derive(Debug)]
struct Case {
    provider: &'static str,
    method: &'static str,
    /// The path the adapter calls, relative to the account's base URL.
    path: &'static str,
    key: Key,
    also: Also,
    /// Extra `account add` flags (`--budget`, `--project-id`, `--account-sid`).
    args: &'static [&'static str],
    /// Spend-only cost reports are paginated: the `page` cursor `success.json` hands out, whose
    /// answer is `success_page2.json`.
    next_page: Option<&'static str>,
    remaining: Option<f64>,
    limit: Option<f64>,
    used: Option<f64>,
    unit: &'static str,
    /// How the adapter gets from the fixture to these numbers.
    why: &'static str,
}

const fn case(provider: &'static str, path: &'static str, key: Key) -> Case {
    Case {
        provider,
        method: "GET",
        path,
        key,
        also: Also::Nothing,
        args: &[],
        next_page: None,
        remaining: None,
        limit: None,
        used: None,
        unit: "usd",
        why: "",
    }
}

const CASES: &[Case] = &[
    Case {
        remaining: Some(17.19),
        limit: Some(25.0),
        used: Some(7.81),
        why: "per-key limit_remaining, limit, and usage_monthly for a monthly reset",
        ..case("openrouter", "/api/v1/key", Key::Bearer)
    },
    Case {
        remaining: Some(7.83),
        why: "the USD entry's total_balance string; the empty CNY entry is not added",
        ..case("deepseek", "/user/balance", Key::Bearer)
    },
    Case {
        remaining: Some(49.58),
        why: "available_balance, USD because the host is not moonshot.cn",
        ..case("moonshot", "/v1/users/me/balance", Key::Bearer)
    },
    Case {
        remaining: Some(88.88),
        why: "totalBalance string, USD because the host is not siliconflow.cn",
        ..case("siliconflow", "/v1/user/info", Key::Bearer)
    },
    Case {
        also: Also::Query("compute_owed", "true"),
        remaining: Some(12.5),
        why: "stripe_balance −12.5 is $12.50 prepaid; limit caps cycle spend, not the balance",
        ..case("deepinfra", "/payment/checklist", Key::Bearer)
    },
    Case {
        remaining: Some(12.3456),
        why: "availableBalance \"123456\" in 1/10000 USD",
        ..case("novita", "/openapi/v1/billing/balance/detail", Key::Bearer)
    },
    Case {
        remaining: Some(18.4),
        why: "consumptionCurrency USD reads balances.usd",
        ..case("venice", "/api/v1/billing/balance", Key::Bearer)
    },
    Case {
        remaining: Some(42.5),
        why: "data.total_credits in data.currency",
        ..case("zenmux", "/api/v1/management/payg/balance", Key::Bearer)
    },
    Case {
        remaining: Some(65_488.0),
        limit: Some(100_000.0),
        used: Some(34_512.0),
        unit: "characters",
        why: "character_limit − character_count",
        ..case(
            "elevenlabs",
            "/v1/user/subscription",
            Key::Header("xi-api-key"),
        )
    },
    Case {
        args: &["--project-id", DEEPGRAM_PROJECT],
        remaining: Some(200.0),
        why: "150.25 + 49.75, two balances in the same unit",
        ..case("deepgram", "/v1/projects/p-123/balances", Key::Token)
    },
    Case {
        also: Also::Query("bucket_width", "1d"),
        args: &["--budget", "50"],
        next_page: Some("page_AAAAAGdGxdEiJdKOAAAAAGcqsYA="),
        remaining: Some(44.0),
        limit: Some(50.0),
        used: Some(6.0),
        why: "budget 50 − (4.2175 + \"1.5\" + 0.2825) spent over two cost pages",
        ..case("openai", "/v1/organization/costs", Key::Bearer)
    },
    Case {
        also: Also::Header("anthropic-version", "2023-06-01"),
        args: &["--budget", "25"],
        next_page: Some("page_2"),
        remaining: Some(15.0),
        limit: Some(25.0),
        used: Some(10.0),
        why: "budget 25 − (\"123.45\" + \"876.55\") cents over two cost pages",
        ..case(
            "anthropic",
            "/v1/organizations/cost_report",
            Key::Header("x-api-key"),
        )
    },
    Case {
        remaining: Some(18_766.0),
        limit: Some(100_000.0),
        used: Some(81_234.0),
        unit: "credits",
        why: "requestLimit − requestCount",
        ..case("scraperapi", "/account", Key::Query("api_key"))
    },
    Case {
        remaining: Some(26_544.0),
        limit: Some(150_000.0),
        used: Some(123_456.0),
        unit: "credits",
        why: "max_api_credit − used_api_credit",
        ..case("scrapingbee", "/api/v1/usage", Key::Query("api_key"))
    },
    Case {
        remaining: Some(1_510_000.0),
        limit: Some(2_760_000.0),
        used: Some(1_250_000.0),
        unit: "credits",
        why: "credit_limit − usage_credits, both in credits",
        ..case(
            "zenrows",
            "/v1/subscriptions/self/details",
            Key::Header("x-api-key"),
        )
    },
    Case {
        remaining: Some(123_400.0),
        limit: Some(500_000.0),
        used: Some(376_600.0),
        unit: "credits",
        why: "remained_credits of plan_total_credits",
        ..case("scrapingant", "/v2/usage", Key::Query("x-api-key"))
    },
    Case {
        remaining: Some(333.33),
        used: Some(123.45),
        why: "balance 456.78 − pending_balance 123.45; a wallet has no limit",
        ..case("brightdata", "/customer/balance", Key::Bearer)
    },
    Case {
        remaining: Some(256.79),
        limit: Some(300.0),
        used: Some(43.21),
        why: "maxMonthlyUsageUsd − monthlyUsageUsd",
        ..case("apify", "/v2/users/me/limits", Key::Bearer)
    },
    Case {
        remaining: Some(87_654.0),
        limit: Some(100_000.0),
        unit: "credits",
        why: "remainingCredits of planCredits; used is not derived (top-ups)",
        ..case("firecrawl", "/v2/team/credit-usage", Key::Bearer)
    },
    Case {
        remaining: Some(1334.0),
        limit: Some(5000.0),
        used: Some(3766.0),
        unit: "searches",
        why: "total_searches_left (plan + extra), searches_per_month, this_month_usage",
        ..case("serpapi", "/account.json", Key::Query("api_key"))
    },
    Case {
        remaining: Some(580.0),
        limit: Some(1000.0),
        used: Some(420.0),
        unit: "credits",
        why: "key.limit is null, so the account's plan_limit − plan_usage",
        ..case("tavily", "/usage", Key::Bearer)
    },
    Case {
        method: "POST",
        remaining: Some(3.87),
        why: "balance in USD",
        ..case("twocaptcha", "/getBalance", Key::ClientKeyBody)
    },
    Case {
        method: "POST",
        remaining: Some(12.3456),
        why: "balance in USD; captchaCredits are named in the note, not added",
        ..case("anticaptcha", "/getBalance", Key::ClientKeyBody)
    },
    Case {
        method: "POST",
        remaining: Some(4.5612),
        why: "balance in USD",
        ..case("capsolver", "/getBalance", Key::ClientKeyBody)
    },
    Case {
        args: &["--account-sid", TWILIO_SID],
        remaining: Some(14.27),
        why: "the \"14.27\" balance string in the account's currency",
        ..case(
            "twilio",
            "/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Balance.json",
            Key::Basic(TWILIO_SID),
        )
    },
    Case {
        remaining: Some(6.25),
        limit: Some(10.0),
        used: Some(3.75),
        why: "the spec's pointers /info/max_budget and /info/spend; remaining derived",
        ..case("custom", "/key/info", Key::Bearer)
    },
];

/// The account's key: distinct per provider, so a key at the wrong provider is visible.
fn key_of(provider: &str) -> String {
    format!("cw-it-{provider}-key-5e1f")
}

fn env_var_of(provider: &str) -> String {
    format!("CW_IT_KEY_{}", provider.to_ascii_uppercase())
}

/// `cliffwatch` with every account's key variable set.
fn cw(data_dir: &Path) -> Command {
    let mut c = cliffwatch(data_dir);
    for case in CASES {
        c.env(env_var_of(case.provider), key_of(case.provider));
    }
    c
}

/// `tests/fixtures/providers/<id>/<name>.json` as the answer wiremock gives.
fn fixture(id: &str, name: &str) -> ResponseTemplate {
    let file = format!("{FIXTURES}/{id}/{name}.json");
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("fixture {file}: {e}"));
    let f: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
    let status = f.get("status").and_then(Value::as_u64).unwrap_or(200) as u16;
    let body = f
        .get("body")
        .unwrap_or_else(|| panic!("{file}: success fixtures answer JSON"));
    ResponseTemplate::new(status).set_body_raw(body.to_string().into_bytes(), "application/json")
}

/// A mock for `case` that answers only when the key (and whatever else the provider needs)
/// is where the provider wants it.
fn matching(case: &Case) -> MockBuilder {
    let key = key_of(case.provider);
    let mock =
        Mock::given(method(case.method)).and(path(format!("/{}{}", case.provider, case.path)));
    let mock = match case.key {
        Key::Bearer => mock.and(header("authorization", format!("Bearer {key}").as_str())),
        Key::Token => mock.and(header("authorization", format!("Token {key}").as_str())),
        Key::Header(name) => mock.and(header(name, key.as_str())),
        Key::Query(name) => mock.and(query_param(name, key.as_str())),
        Key::ClientKeyBody => mock.and(body_json(serde_json::json!({ "clientKey": key }))),
        Key::Basic(user) => mock.and(basic_auth(user, key.as_str())),
    };
    match case.also {
        Also::Nothing => mock,
        Also::Header(name, value) => mock.and(header(name, value)),
        Also::Query(name, value) => mock.and(query_param(name, value)),
    }
}

async fn mount_all(server: &MockServer) {
    for case in CASES {
        let id = case.provider;
        match case.next_page {
            None => {
                matching(case)
                    .respond_with(fixture(id, "success"))
                    .named(id)
                    .expect(1)
                    .mount(server)
                    .await
            }
            Some(cursor) => {
                matching(case)
                    .and(query_param_is_missing("page"))
                    .respond_with(fixture(id, "success"))
                    .named(format!("{id} page 1"))
                    .expect(1)
                    .mount(server)
                    .await;
                matching(case)
                    .and(query_param("page", cursor))
                    .respond_with(fixture(id, "success_page2"))
                    .named(format!("{id} page 2"))
                    .expect(1)
                    .mount(server)
                    .await;
            }
        }
    }
}

fn add_account(data_dir: &Path, case: &Case, base_url: &str) {
    let id = case.provider;
    let mut add = cw(data_dir);
    add.args(["--json", "account", "add", "--provider", id, "--label", id])
        .args(["--base-url", base_url])
        .args(["--secret-env", &env_var_of(id)])
        .args(case.args);
    if id == "custom" {
        let spec = data_dir.join("litellm-spec.json");
        std::fs::write(&spec, LITELLM_SPEC).unwrap();
        add.arg("--spec").arg(spec);
    }
    let added = json(&ok(run(add)));
    assert_eq!(added["provider"], id, "{id}: account added");
}

/// `want` and `got` (a JSON number or null) agree to 1e-9: fixtures are decimal and some
/// readings are differences (456.78 − 123.45 is not exactly 333.33 in binary).
#[track_caller]
fn assert_amount(got: &Value, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: expected null, got {got}"),
        Some(w) => {
            let g = got
                .as_f64()
                .unwrap_or_else(|| panic!("{what}: expected {w}, got {got}"));
            assert!((g - w).abs() < 1e-9, "{what}: expected {w}, got {g}");
        }
    }
}

/// The reading fields of one poll result or stored sample.
#[track_caller]
fn assert_reading(got: &Value, case: &Case, source: &str) {
    let id = case.provider;
    for (field, want) in [
        ("remaining", case.remaining),
        ("limit", case.limit),
        ("used", case.used),
    ] {
        assert_amount(
            &got[field],
            want,
            &format!("{id} {source} `{field}` ({})", case.why),
        );
    }
    assert_eq!(got["unit"], case.unit, "{id} {source}: unit ({})", case.why);
}

/// An RFC 3339 timestamp from the JSON output.
#[track_caller]
fn instant(v: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let s = v
        .as_str()
        .unwrap_or_else(|| panic!("expected a timestamp, got {v}"));
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("`{s}`: {e}"))
}

#[tokio::test]
async fn poll_once_json_reads_every_provider_from_its_success_fixture() {
    let server = MockServer::start().await;
    mount_all(&server).await;
    let tmp = tempfile::tempdir().unwrap();
    for case in CASES {
        add_account(
            tmp.path(),
            case,
            &format!("{}/{}", server.uri(), case.provider),
        );
    }

    let mut poll = cw(tmp.path());
    poll.args(["--json", "poll", "--once"]);
    let polled = json(&ok(run(poll)));
    let results = polled.as_array().expect("poll --once --json is an array");
    assert_eq!(
        results.len(),
        CASES.len(),
        "one result per account, all in one run: {polled:#}"
    );
    for case in CASES {
        let id = case.provider;
        let r = results
            .iter()
            .find(|r| r["account"] == id)
            .unwrap_or_else(|| panic!("{id}: no poll result"));
        assert!(
            r["error"].is_null(),
            "{id}: the success fixture must give a reading, got {}",
            r["error"]
        );
        assert_eq!(r["provider"], id, "{id}: provider id");
        assert_eq!(r["state"], "ok", "{id}: money left means state ok");
        assert_reading(r, case, "poll");
        let currency = (!["credits", "characters", "searches"].contains(&case.unit))
            .then(|| case.unit.to_ascii_uppercase());
        assert_eq!(
            r["currency"],
            serde_json::json!(currency),
            "{id}: currency is the upper-case code for money, null for counts"
        );
    }

    // Each provider's endpoint was called exactly once (twice for the paginated spend
    // reports): a poll that found no matching mock would have failed above already, and this
    // also catches an adapter calling its endpoint more than once.
    server.verify().await;
    let requests = server.received_requests().await.expect("recording is on");
    for r in &requests {
        let seen = format!(
            "{} {:?} {}",
            r.url,
            r.headers,
            String::from_utf8_lossy(&r.body)
        );
        for other in CASES {
            let own = r.url.path().starts_with(&format!("/{}/", other.provider));
            assert!(
                own || !seen.contains(&key_of(other.provider)),
                "{}'s key reached another provider's endpoint {}",
                other.provider,
                r.url.path()
            );
        }
    }

    let mut status = cw(tmp.path());
    status.args(["status", "--json"]);
    let status = json(&ok(run(status)));
    let accounts = status["accounts"].as_array().expect("status accounts");
    assert_eq!(accounts.len(), CASES.len(), "every account is in status");
    for case in CASES {
        let id = case.provider;
        let a = accounts
            .iter()
            .find(|a| a["account"]["label"] == id)
            .unwrap_or_else(|| panic!("{id}: missing from status"));
        assert_eq!(a["account"]["state"], "ok", "{id}: stored state");
        let latest = &a["latest"];
        assert!(
            latest.is_object(),
            "{id}: the poll's reading is stored as the latest sample"
        );
        assert_reading(latest, case, "stored sample");
        let polled_at = &results.iter().find(|r| r["account"] == id).unwrap()["polled_at"];
        let gap = instant(&latest["observed_at"]) - instant(polled_at);
        assert_eq!(
            gap.num_milliseconds(),
            0,
            "{id}: the latest sample is the one this poll stored (kept to the millisecond): \
             observed_at {} vs polled_at {polled_at}",
            latest["observed_at"]
        );
    }
}
