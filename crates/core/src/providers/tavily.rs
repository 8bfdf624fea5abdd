//! Tavily. `GET /usage` with `Authorization: Bearer tvly-…` answers
//! `{"key":{"usage","limit"},"account":{"current_plan","plan_usage","plan_limit","paygo_usage",
//! "paygo_limit"}}` in credits. A key with its own `limit` hits that first (HTTP 432), so it is
//! the reading; otherwise (`limit` is usually `null`) the account is: the plan's credits plus
//! the pay-as-you-go allowance when one is set (HTTP 433 when that runs out).

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "tavily",
    name: "Tavily",
    category: Category::Search,
    default_base_url: "https://api.tavily.com",
    units: "credits",
    key_help: "API key (tvly-…)",
    top_up_url: "https://app.tavily.com/billing",
    // `/usage` allows 10 requests per 10 minutes per key (docs.tavily.com/documentation/rate-limits):
    // every two minutes is half of that, leaving room for refresh-now and retries.
    min_poll_interval_s: 120,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Tavily;

#[async_trait::async_trait]
impl Provider for Tavily {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/usage")?)
            .bearer(ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        if let Some(limit) = number_at(&json, "/key/limit") {
            return Ok(Reading {
                limit: Some(limit),
                used: Some(ctx.number(&json, "/key/usage")?),
                note: Some("per-key limit".into()),
                ..Reading::new(Unit::credits())
            }
            .derive_remaining());
        }
        let plan_limit = ctx.number(&json, "/account/plan_limit")?;
        let plan_used = ctx.number(&json, "/account/plan_usage")?;
        let paygo_limit = number_at(&json, "/account/paygo_limit").filter(|l| *l > 0.0);
        let paygo_used = number_at(&json, "/account/paygo_usage").unwrap_or(0.0);
        let plan = json
            .pointer("/account/current_plan")
            .and_then(|v| v.as_str())
            .unwrap_or("current");
        let (limit, used, note) = match paygo_limit {
            Some(pl) => (
                plan_limit + pl,
                plan_used + paygo_used,
                format!(
                    "{plan} plan {plan_used} of {plan_limit} + pay-as-you-go {paygo_used} of {pl}"
                ),
            ),
            None => (plan_limit, plan_used, format!("{plan} plan")),
        };
        Ok(Reading {
            limit: Some(limit),
            used: Some(used),
            note: Some(note),
            ..Reading::new(Unit::credits())
        }
        .derive_remaining())
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    async fn answering(body: &str) -> MockServer {
        let server = MockServer::start().await;
        Mock::given(path("/usage"))
            .respond_with(
                ResponseTemplate::new(200).set_body_raw(body.to_owned(), "application/json"),
            )
            .mount(&server)
            .await;
        server
    }

    #[tokio::test]
    async fn reads_the_account_plan_when_the_key_has_no_limit() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/usage"))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("tavily", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("tavily", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.limit,
            Some(1000.0),
            "key.limit is null: account.plan_limit"
        );
        assert_eq!(r.used, Some(420.0), "account.plan_usage, not the key's 150");
        assert_eq!(r.remaining, Some(580.0));
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(r.note.as_deref(), Some("Researcher plan"));
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn a_key_limit_wins_over_the_account() {
        let server = answering(
            r#"{"key":{"usage":90,"limit":100},"account":{"current_plan":"Researcher","plan_usage":420,"plan_limit":1000}}"#,
        )
        .await;
        let r = poll("tavily", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            (r.limit, r.used, r.remaining),
            (Some(100.0), Some(90.0), Some(10.0)),
            "the key runs dry (432) before the account does"
        );
    }

    #[tokio::test]
    async fn pay_as_you_go_extends_the_plan() {
        let server = answering(
            r#"{"key":{"usage":0,"limit":null},"account":{"current_plan":"Bootstrap","plan_usage":15000,"plan_limit":15000,"paygo_usage":20,"paygo_limit":500}}"#,
        )
        .await;
        let r = poll("tavily", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            (r.limit, r.used, r.remaining),
            (Some(15_500.0), Some(15_020.0), Some(480.0)),
            "the plan is used up; 480 pay-as-you-go credits stand before the 433"
        );
    }

    #[test]
    fn tavily_usage_allows_ten_requests_per_ten_minutes() {
        let per_ten_minutes = 600 / super::INFO.min_poll_interval_s;
        assert!(
            per_ten_minutes < 10,
            "polling alone must stay under /usage's 10 requests per 10 minutes, with room for refresh-now ({per_ten_minutes})"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("out_of_credit_paygo", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/usage", "tavily", file).await;
            let e = poll("tavily", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
