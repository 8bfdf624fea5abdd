//! Firecrawl. `GET /v2/team/credit-usage` with `Authorization: Bearer fc-…` answers
//! `{"success":true,"data":{"remainingCredits","planCredits","billingPeriodStart",
//! "billingPeriodEnd"}}`. The v1 endpoint (and older self-hosted servers) spell the same fields
//! in snake_case; both spellings are read. Remaining credits may exceed the plan's (top-ups),
//! so `used` is not derived. Out of credit: 402.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "firecrawl",
    name: "Firecrawl",
    category: Category::Scraping,
    default_base_url: "https://api.firecrawl.dev",
    units: "credits",
    key_help: "API key (fc-…)",
    top_up_url: "https://www.firecrawl.dev/app/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Firecrawl;

#[async_trait::async_trait]
impl Provider for Firecrawl {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v2/team/credit-usage")?)
            .bearer(ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let data = json.get("data").ok_or_else(|| ctx.missing("data"))?;
        let field = |camel: &str, snake: &str| {
            number_at(data, &format!("/{camel}")).or_else(|| number_at(data, &format!("/{snake}")))
        };
        let remaining = field("remainingCredits", "remaining_credits")
            .ok_or_else(|| ctx.missing("data.remainingCredits"))?;
        let resets_at = ["billingPeriodEnd", "billing_period_end"]
            .iter()
            .find_map(|k| data.get(*k).and_then(|v| v.as_str()))
            .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(Reading {
            remaining: Some(remaining),
            limit: field("planCredits", "plan_credits"),
            resets_at,
            ..Reading::new(Unit::credits())
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use chrono::TimeZone;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const PATH: &str = "/v2/team/credit-usage";

    #[tokio::test]
    async fn reads_remaining_credits_with_a_bearer_key() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("firecrawl", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("firecrawl", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(87_654.0), "remainingCredits");
        assert_eq!(r.limit, Some(100_000.0), "planCredits");
        assert_eq!(r.used, None, "top-ups make plan − remaining meaningless");
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()),
            "billingPeriodEnd"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn snake_case_fields_of_v1_servers_are_read_too() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"success":true,"data":{"remaining_credits":42,"plan_credits":500,"billing_period_start":"2026-11-01T00:00:00Z","billing_period_end":"2026-12-01T00:00:00Z"}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("firecrawl", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!((r.remaining, r.limit), (Some(42.0), Some(500.0)));
        assert!(r.resets_at.is_some(), "billing_period_end is read");
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(PATH, "firecrawl", file).await;
            let e = poll("firecrawl", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
            if file == "out_of_credit" {
                assert!(
                    e.to_string().contains("Insufficient credits"),
                    "the body's `error` text is quoted: {e}"
                );
            }
        }
    }
}
