//! CapSolver. `POST /getBalance` with `{"clientKey": KEY}` answers
//! `{"errorId":0,"balance":<USD>,"packages":[…]}`. Same protocol as Anti-Captcha
//! ([`super::anticaptcha::client_key_balance`]); CapSolver sends its in-body errors with HTTP
//! 200 or with a matching status (a denied key was seen as 401 `ERROR_KEY_DENIED_ACCESS`).
//! Packages (prepaid call bundles) are named in the note, never added to dollars.

use super::anticaptcha::client_key_balance;
use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::Http;
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "capsolver",
    name: "CapSolver",
    category: Category::Captcha,
    default_base_url: "https://api.capsolver.com",
    units: "USD",
    key_help: "API key (clientKey)",
    top_up_url: "https://dashboard.capsolver.com/dashboard/recharge",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct CapSolver;

#[async_trait::async_trait]
impl Provider for CapSolver {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let json = client_key_balance(ctx, http).await?;
        let packages = json
            .get("packages")
            .and_then(|p| p.as_array())
            .map_or(0, Vec::len);
        Ok(Reading {
            remaining: Some(ctx.number(&json, "/balance")?),
            note: (packages > 0).then(|| format!("also {packages} call package(s)")),
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
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn reads_usd_balance_with_the_key_in_the_body() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/getBalance"))
            .and(body_json(serde_json::json!({ "clientKey": KEY })))
            .respond_with(fixture("capsolver", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("capsolver", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(4.5612), "balance is the USD left");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(r.note, None, "no packages, nothing to say");
        assert_key_only_in(&server, Place::JsonBody("clientKey")).await;
    }

    #[tokio::test]
    async fn packages_are_named_not_added() {
        let server = MockServer::start().await;
        Mock::given(path("/getBalance"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"errorId":0,"balance":"1.5","packages":[{"packageId":"p1","type":1,"title":"reCaptcha 10k","numberOfCalls":10000,"status":1,"token":"","expireTime":1798761600}]}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("capsolver", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(1.5), "a numeric string balance parses");
        assert_eq!(r.note.as_deref(), Some("also 1 call package(s)"));
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/getBalance", "capsolver", file).await;
            let e = poll("capsolver", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }

    #[tokio::test]
    async fn zero_balance_with_an_error_status_is_still_out_of_credit() {
        let server = MockServer::start().await;
        Mock::given(path("/getBalance"))
            .respond_with(ResponseTemplate::new(400).set_body_raw(
                r#"{"errorId":1,"errorCode":"ERROR_ZERO_BALANCE","errorDescription":"Insufficient account balance"}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let e = poll("capsolver", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "out_of_credit");
    }
}
