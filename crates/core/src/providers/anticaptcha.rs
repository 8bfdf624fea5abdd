//! Anti-Captcha. `POST /getBalance` with `{"clientKey": KEY}` answers
//! `{"errorId":0,"balance":12.3456,"captchaCredits":85000}`: `balance` is USD, `captchaCredits`
//! the subscription's captcha credits. Errors come in the body, usually with HTTP 200
//! (`errorId > 0`, `errorCode`, `errorDescription`); the classifier's captcha rows turn
//! `ERROR_ZERO_BALANCE` into out-of-credit and the key codes into an invalid key. Anti-Captcha
//! asks for at most one getBalance call every 30 s.
//!
//! 2Captcha (API v2) and CapSolver speak the same protocol: they use [`client_key_balance`].

use super::{
    as_number, Category, PollContext, PollError, Provider, ProviderInfo, Reading, NO_OPTIONS,
};
use crate::http::{Http, Method, Request};
use crate::model::{Outcome, Unit};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "anticaptcha",
    name: "Anti-Captcha",
    category: Category::Captcha,
    default_base_url: "https://api.anti-captcha.com",
    units: "USD",
    key_help: "API key (clientKey)",
    top_up_url: "https://anti-captcha.com/clients/finance/refill",
    // "Do not call more than once every 30 seconds" (anti-captcha.com/apidoc/methods/getBalance).
    min_poll_interval_s: 30,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct AntiCaptcha;

#[async_trait::async_trait]
impl Provider for AntiCaptcha {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let json = client_key_balance(ctx, http).await?;
        let balance = ctx.number(&json, "/balance")?;
        let credits = json
            .get("captchaCredits")
            .and_then(as_number)
            .filter(|c| *c > 0.0);
        Ok(Reading {
            remaining: Some(balance),
            note: credits.map(|c| format!("also {c} subscription captcha credits")),
            ..Reading::new(Unit::usd())
        })
    }
}

/// `POST {base}/getBalance` with the key as `clientKey` in the JSON body (never in the URL or
/// a header), for the services that speak Anti-Captcha's protocol. Returns the body of an
/// answer with `errorId` 0; anything else is the classified [`PollError`].
pub(super) async fn client_key_balance(
    ctx: &PollContext<'_>,
    http: &Http,
) -> Result<serde_json::Value, PollError> {
    let key = ctx.secret()?.expose();
    let req = Request::new(Method::POST, ctx.url("/getBalance")?)
        .json_body(&serde_json::json!({ "clientKey": key }))
        .header("Accept", "application/json");
    let resp = http.send(req).await?;
    let mut c = ctx.classify(&resp);
    if c.outcome != Outcome::Ok {
        return Err(ctx.error_from(resp.status, c));
    }
    let json = ctx.parse_json(&resp.body)?;
    let error_id = json.get("errorId").and_then(as_number).unwrap_or(0.0);
    if error_id != 0.0 {
        // The classifier turns a numeric `errorId` with HTTP 200 into a refusal; this catches
        // the same error sent as a string (`"errorId":"11"`): never read a balance from it.
        c.outcome = Outcome::ClientError;
        return Err(ctx.error_from(resp.status, c));
    }
    Ok(json)
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{body_json, method, path};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_usd_balance_and_sends_the_key_as_client_key_in_the_body() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/getBalance"))
            .and(body_json(serde_json::json!({ "clientKey": KEY })))
            .respond_with(fixture("anticaptcha", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("anticaptcha", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(12.3456), "balance is the USD left");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!((r.limit, r.used), (None, None), "a wallet has no limit");
        assert_eq!(
            r.note.as_deref(),
            Some("also 85000 subscription captcha credits"),
            "captchaCredits are named, not added to dollars"
        );
        assert_key_only_in(&server, Place::JsonBody("clientKey")).await;
    }

    #[tokio::test]
    async fn in_body_errors_with_http_200_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
            // No classifier row: still an error, never a reading of a missing balance.
            ("ip_not_allowed", "client_error"),
        ] {
            let server = serve("/getBalance", "anticaptcha", file).await;
            let e = poll("anticaptcha", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
            if file == "ip_not_allowed" {
                assert!(
                    e.to_string()
                        .contains("allowed to make requests from your IP"),
                    "errorDescription is quoted so the user knows what to fix: {e}"
                );
            }
        }
    }
}
