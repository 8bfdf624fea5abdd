//! 2Captcha, API v2: `POST https://api.2captcha.com/getBalance` with `{"clientKey": KEY}` answers
//! `{"errorId":0,"balance":3.87}` (USD). It is Anti-Captcha's protocol, error ids included
//! (1 `ERROR_KEY_DOES_NOT_EXIST`, 10 `ERROR_ZERO_BALANCE`, in the body with HTTP 200), so the
//! request and error handling are [`super::anticaptcha::client_key_balance`]. The legacy
//! `res.php?key=…` API is not used: it puts the key in the URL.

use super::anticaptcha::client_key_balance;
use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::Http;
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "twocaptcha",
    name: "2Captcha",
    category: Category::Captcha,
    default_base_url: "https://api.2captcha.com",
    units: "USD",
    key_help: "API key (clientKey)",
    top_up_url: "https://2captcha.com/enterpage",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct TwoCaptcha;

#[async_trait::async_trait]
impl Provider for TwoCaptcha {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let json = client_key_balance(ctx, http).await?;
        Ok(Reading {
            remaining: Some(ctx.number(&json, "/balance")?),
            ..Reading::new(Unit::usd())
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_usd_balance_with_the_key_in_the_body() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/getBalance"))
            .and(body_json(serde_json::json!({ "clientKey": KEY })))
            .respond_with(fixture("twocaptcha", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("twocaptcha", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(3.87), "balance is the USD left");
        assert_eq!(r.unit.as_str(), "usd");
        assert_key_only_in(&server, Place::JsonBody("clientKey")).await;
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/getBalance", "twocaptcha", file).await;
            let e = poll("twocaptcha", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }

    #[tokio::test]
    async fn zero_balance_says_where_to_top_up() {
        let server = serve("/getBalance", "twocaptcha", "out_of_credit").await;
        let e = poll("twocaptcha", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("https://2captcha.com/enterpage"),
            "an HTTP 200 zero balance is still a cliff with a top-up link: {e}"
        );
    }
}
