//! DeathByCaptcha (captcha solving). HTTP API: `POST /api/user` on `api.dbcapi.me` with the form
//! fields `username` and `password` (`application/x-www-form-urlencoded`, `Accept:
//! application/json`) answers `{"user","rate","balance","is_banned","status":0}`. The balance
//! is in US cents (every official client: `get_balance()` "in US cents"; the vendor's OpenAPI
//! metadata says dollars, which the clients contradict), so it is divided by 100. The official
//! clients default to `http://`, but the API is served over HTTPS too (the vendor's C client:
//! "HTTPS mode (`https://api.dbcapi.me/api`)"), and only HTTPS is used. A 403 is "access denied:
//! check your credentials" (a classifier row makes it a rejected key); a spent account still
//! answers, with a balance of 0 or less.

use super::{Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading};
use crate::http::{Http, Method, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "deathbycaptcha",
    name: "DeathByCaptcha",
    category: Category::Captcha,
    default_base_url: "https://api.dbcapi.me",
    units: "USD (sent in cents)",
    key_help: "password of the DeathByCaptcha user set with --option username=…",
    top_up_url: "https://deathbycaptcha.com",
    min_poll_interval_s: super::DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "username",
        label: "DeathByCaptcha user name",
        required: true,
    }],
};

#[derive(Debug)]
pub struct DeathByCaptcha;

#[async_trait::async_trait]
impl Provider for DeathByCaptcha {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        let user = options
            .get("username")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .unwrap_or_default();
        check_username(user)
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let user = ctx.option("username")?;
        check_username(user).map_err(PollError::config)?;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("username", user)
            .append_pair("password", ctx.secret()?.expose())
            .finish();
        let mut req = Request::new(Method::POST, ctx.url("/api/user")?)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .header("Accept", "application/json");
        req.body = Some(form.into_bytes());
        let json = ctx.fetch_json(http, req).await?;
        let cents = ctx.number(&json, "/balance")?;
        let banned = json.get("is_banned").and_then(|v| v.as_bool()) == Some(true);
        Ok(Reading {
            remaining: Some(cents / 100.0),
            note: banned.then(|| "DeathByCaptcha reports this account as banned".into()),
            ..Reading::new(Unit::usd())
        })
    }
}

/// The user name goes into the form only; it must be there and printable. The message never
/// repeats the value: a password pasted into the wrong field must not end up in an error.
fn check_username(user: &str) -> Result<(), String> {
    if !user.is_empty() && !user.chars().any(char::is_control) {
        Ok(())
    } else {
        Err("DeathByCaptcha accounts need the user name: set it with --option username=…".into())
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use wiremock::matchers::{body_string_contains, header, method, path};
    use wiremock::{Mock, MockServer};

    fn user() -> serde_json::Value {
        serde_json::json!({ "username": "ops" })
    }

    #[tokio::test]
    async fn reads_cents_as_dollars_with_the_password_in_the_form() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/user"))
            .and(header("accept", "application/json"))
            .and(body_string_contains("username=ops"))
            .respond_with(fixture("deathbycaptcha", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("deathbycaptcha", &server, user()).await.unwrap();
        assert_eq!(r.remaining, Some(12.345), "1234.5 US cents is $12.345");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(r.note, None, "not banned");
        assert_key_only_in(&server, Place::FormBody("password")).await;
    }

    #[tokio::test]
    async fn a_spent_account_reads_zero_not_an_error() {
        let server = serve("/api/user", "deathbycaptcha", "out_of_credit").await;
        let r = poll("deathbycaptcha", &server, user()).await.unwrap();
        assert_eq!(
            r.remaining,
            Some(0.0),
            "the user endpoint still answers at zero"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/api/user", "deathbycaptcha", file).await;
            assert_kind(
                &poll("deathbycaptcha", &server, user()).await.unwrap_err(),
                kind,
            );
        }
    }

    #[tokio::test]
    async fn a_missing_username_is_a_config_error_without_a_request() {
        let server = MockServer::start().await;
        let e = poll("deathbycaptcha", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "config");
        assert!(
            e.to_string().contains("--option username="),
            "says how to fix it: {e}"
        );
        assert!(server.received_requests().await.unwrap().is_empty());
        assert!(DeathByCaptcha.validate_options(&user()).is_ok());
        assert!(DeathByCaptcha
            .validate_options(&serde_json::json!({"username": "a\nb"}))
            .is_err());
    }

    #[test]
    fn the_default_base_url_is_https() {
        assert!(INFO.default_base_url.starts_with("https://"));
    }
}
