//! Linkup (web search). `GET /v1/credits/balance` with `Authorization: Bearer KEY` answers
//! `{"balance": 123.456}`: the prepaid credit left, denominated in USD (docs.linkup.so
//! "/credits/balance"; the May 2026 switch to USD kept balances at parity). Eligible accounts
//! are topped back up to $20 each month, but the endpoint says nothing about when, so no reset
//! is read. Running out of credit is a 429 with `error.code` `INSUFFICIENT_FUNDS_CREDITS` (a
//! key's own budget: `EXCEED_BUDGET_LIMIT`); a 429 `TOO_MANY_REQUESTS` is speed. Classifier
//! rows tell them apart.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "linkup",
    name: "Linkup",
    category: Category::Search,
    default_base_url: "https://api.linkup.so",
    units: "USD",
    key_help: "API key",
    top_up_url: "https://app.linkup.so",
    // No documented limit on the balance endpoint.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Linkup;

#[async_trait::async_trait]
impl Provider for Linkup {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v1/credits/balance")?)
            .bearer(ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        // `balance` is required by the OpenAPI schema: missing is a changed API, not zero.
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
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn reads_the_usd_balance_with_a_bearer_key() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v1/credits/balance"))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("linkup", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("linkup", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.remaining,
            Some(123.456),
            "balance is the prepaid credit left"
        );
        assert_eq!(
            r.unit.as_str(),
            "usd",
            "Linkup credits are denominated in USD"
        );
        assert_eq!(r.resets_at, None, "the monthly top-up date is not reported");
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn a_429_is_out_of_credit_only_when_its_code_says_so() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/v1/credits/balance", "linkup", file).await;
            let e = poll("linkup", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }

    #[tokio::test]
    async fn a_missing_balance_is_not_zero() {
        let server = MockServer::start().await;
        Mock::given(path("/v1/credits/balance"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(r#"{"balance":null}"#, "application/json"),
            )
            .mount(&server)
            .await;
        let e = poll("linkup", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "bad_response");
    }
}
