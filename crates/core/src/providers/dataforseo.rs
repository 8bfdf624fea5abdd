//! DataForSEO (SEO data). `GET /v3/appendix/user_data` (free) with HTTP Basic auth (API login
//! as user, API password as password) answers the usual DataForSEO envelope
//! `{"status_code":20000,"tasks":[{"status_code":20000,"result":[{"login","money":{"total",
//! "balance","limits","statistics"},"rates":{…}}]}]}`: `money.balance` is the USD left,
//! `money.total` what was ever deposited. Older docs show `tasks` as an object keyed `"0"`;
//! the JSON pointer `/tasks/0` reads both. DataForSEO answers HTTP 200 for everything except
//! 401, 402 (balance), 404 and 500, so a non-20000 `status_code` in a 200 is an error here.

use super::{
    Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "dataforseo",
    name: "DataForSEO",
    category: Category::Search,
    default_base_url: "https://api.dataforseo.com",
    units: "USD",
    key_help: "API password of the API login set with --option login=… (app.dataforseo.com/api-access)",
    top_up_url: "https://app.dataforseo.com/api-dashboard",
    // No limit is documented for user_data itself.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "login",
        label: "API login (the e-mail shown under API Access)",
        required: true,
    }],
};

/// DataForSEO's "Ok." status code, at the top and per task.
const OK: i64 = 20000;

#[derive(Debug)]
pub struct DataForSeo;

#[async_trait::async_trait]
impl Provider for DataForSeo {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        let login = options
            .get("login")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .unwrap_or_default();
        check_login(login)
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let login = ctx.option("login")?;
        check_login(login).map_err(PollError::config)?;
        let req = Request::get(ctx.url("/v3/appendix/user_data")?)
            .basic_auth(login, ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        for ptr in ["/status_code", "/tasks/0/status_code"] {
            if let Some(code) = json.pointer(ptr).and_then(|v| v.as_i64()) {
                if code != OK {
                    return Err(not_ok(ctx, code, &json));
                }
            }
        }
        let money = "/tasks/0/result/0/money";
        let balance = ctx.number(&json, &format!("{money}/balance"))?;
        let total = super::number_at(&json, &format!("{money}/total"));
        Ok(Reading {
            remaining: Some(balance),
            note: total.map(|t| format!("{t} USD deposited in total")),
            ..Reading::new(Unit::usd())
        })
    }
}

/// A 200 whose envelope reports a failure: the status message, redacted, says what it was.
fn not_ok(ctx: &PollContext<'_>, code: i64, json: &serde_json::Value) -> PollError {
    let said = json
        .pointer("/tasks/0/status_message")
        .or_else(|| json.get("status_message"))
        .and_then(|v| v.as_str())
        .map(|m| {
            let m: String = m.chars().take(200).collect();
            format!(": \"{}\"", crate::redact::redact_text(&m))
        })
        .unwrap_or_default();
    PollError::BadResponse {
        message: format!(
            "{} answered status_code {code}{said} instead of its balance: check the account at {}",
            ctx.info.name, ctx.info.top_up_url
        ),
    }
}

/// The login is the Basic-auth user name, so it cannot hold a `:`. The message never repeats
/// the value: a password pasted into the wrong field must not end up in an error.
fn check_login(login: &str) -> Result<(), String> {
    if !login.is_empty() && !login.contains(':') && !login.chars().any(char::is_control) {
        Ok(())
    } else {
        Err(
            "DataForSEO accounts need the API login (app.dataforseo.com/api-access, without a `:`): \
             set it with --option login=…"
                .into(),
        )
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const LOGIN: &str = "ops@example.com";

    fn login() -> serde_json::Value {
        serde_json::json!({ "login": LOGIN })
    }

    #[tokio::test]
    async fn reads_money_balance_in_usd_with_basic_auth() {
        use base64::Engine as _;
        let server = MockServer::start().await;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{LOGIN}:{KEY}"));
        Mock::given(method("GET"))
            .and(path("/v3/appendix/user_data"))
            .and(header("authorization", format!("Basic {basic}").as_str()))
            .respond_with(fixture("dataforseo", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("dataforseo", &server, login()).await.unwrap();
        assert_eq!(r.remaining, Some(42.8675), "money.balance is the USD left");
        assert_eq!(r.unit.as_str(), "usd", "the money section is in USD");
        assert_eq!(
            r.limit, None,
            "money.total is deposits, not a period's allowance"
        );
        assert_eq!(r.note.as_deref(), Some("150 USD deposited in total"));
        assert_key_only_in(&server, Place::Basic).await;
    }

    #[tokio::test]
    async fn the_old_object_shaped_tasks_read_too() {
        let server = MockServer::start().await;
        Mock::given(path("/v3/appendix/user_data"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"status_code":20000,"tasks":{"0":{"status_code":20000,"result":[{"money":{"total":10,"balance":"2.5"}}]}}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("dataforseo", &server, login()).await.unwrap();
        assert_eq!(
            r.remaining,
            Some(2.5),
            "tasks as {{\"0\": …}}, balance as a string"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/v3/appendix/user_data", "dataforseo", file).await;
            assert_kind(
                &poll("dataforseo", &server, login()).await.unwrap_err(),
                kind,
            );
        }
    }

    #[tokio::test]
    async fn a_failed_envelope_in_a_200_is_not_a_balance() {
        let server = MockServer::start().await;
        Mock::given(path("/v3/appendix/user_data"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"status_code":40000,"status_message":"You can set only one task at a time.","tasks":[]}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let e = poll("dataforseo", &server, login()).await.unwrap_err();
        assert_kind(&e, "bad_response");
        assert!(e.to_string().contains("40000"), "names the code: {e}");
    }

    #[tokio::test]
    async fn a_missing_login_is_a_config_error_without_a_request() {
        let server = MockServer::start().await;
        for options in [serde_json::json!({}), serde_json::json!({ "login": "a:b" })] {
            assert_kind(
                &poll("dataforseo", &server, options).await.unwrap_err(),
                "config",
            );
        }
        assert!(server.received_requests().await.unwrap().is_empty());
        assert!(DataForSeo.validate_options(&login()).is_ok());
        let e = DataForSeo
            .validate_options(&serde_json::json!({ "login": format!("x:{KEY}") }))
            .unwrap_err();
        assert!(!e.contains(KEY), "the rejected value is not repeated: {e}");
    }
}
