//! ZenRows. `GET /v1/subscriptions/self/details` with the key in the `X-API-Key` header (scrape
//! calls take `?apikey=`, this endpoint does not) answers the current period: `usage` (USD
//! spent), `usage_credits` (the same consumption in credits), `credit_limit`, `usage_percent`
//! (may be absent), `period_ends_at`, `plan {…}`.
//!
//! `credit_limit` is the plan's allowance in credits (`credit_limit × plan.unit_cost =
//! plan.price`, per ZenRows' own CLI, ZenRows/cli `src/core/usage.ts`), so the reading is
//! always in credits: remaining = `credit_limit − usage_credits`. The unit cost differs per
//! plan, so dollars are never converted to credits here.
//! Out of credit: 402 `AUTH004` (the status code decides; AUTH011 "no subscription" is a 402 too).

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "zenrows",
    name: "ZenRows",
    category: Category::Scraping,
    default_base_url: "https://api.zenrows.com",
    units: "credits",
    key_help: "API key",
    top_up_url: "https://app.zenrows.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ZenRows;

#[async_trait::async_trait]
impl Provider for ZenRows {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v1/subscriptions/self/details")?)
            .secret_header("X-API-Key", ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let limit = ctx.number(&json, "/credit_limit")?;
        let used = ctx.number(&json, "/usage_credits")?;
        let resets_at = json
            .get("period_ends_at")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
            .map(|t| t.with_timezone(&Utc));
        let status = json.get("status").and_then(|v| v.as_str());
        let plan = json.pointer("/plan/name").and_then(|v| v.as_str());
        let note = match (plan, status) {
            (Some(p), Some(s)) => Some(format!("{p} plan, {}", s.to_ascii_lowercase())),
            (Some(p), None) => Some(format!("{p} plan")),
            (None, Some(s)) => Some(format!("subscription {}", s.to_ascii_lowercase())),
            (None, None) => None,
        };
        Ok(Reading {
            limit: Some(limit),
            used: Some(used),
            resets_at,
            note,
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
    use chrono::TimeZone;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer};

    const PATH: &str = "/v1/subscriptions/self/details";

    #[tokio::test]
    async fn reads_credits_against_the_limit_with_the_key_in_x_api_key() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(header("x-api-key", KEY))
            .respond_with(fixture("zenrows", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("zenrows", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.limit, Some(2_760_000.0), "credit_limit, in credits");
        assert_eq!(r.used, Some(1_250_000.0), "usage_credits, not the $31.25");
        assert_eq!(
            r.remaining,
            Some(1_510_000.0),
            "credit_limit − usage_credits"
        );
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap()),
            "period_ends_at"
        );
        assert_eq!(r.note.as_deref(), Some("Developer plan, active"));
        assert_key_only_in(&server, Place::Header("x-api-key")).await;
    }

    #[tokio::test]
    async fn zenrows_credit_limit_is_credits_per_its_own_cli_even_without_usage_percent() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(fixture("zenrows", "success_no_percent"))
            .mount(&server)
            .await;
        let r = poll("zenrows", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            (r.unit.as_str(), r.limit, r.used, r.remaining),
            ("credits", Some(5_000.0), Some(1_200.0), Some(3_800.0)),
            "credit_limit × unit_cost = price (5000 × $0.001 = $5), so the limit is credits"
        );
        assert!(
            r.resets_at.is_some(),
            "the period end still gives the reset, which the forecast needs"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(PATH, "zenrows", file).await;
            let e = poll("zenrows", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
            if file == "out_of_credit" {
                assert_eq!(
                    e.classification().and_then(|c| c.code.as_deref()),
                    Some("AUTH004"),
                    "the ZenRows error code is kept for the UI"
                );
            }
        }
    }
}
