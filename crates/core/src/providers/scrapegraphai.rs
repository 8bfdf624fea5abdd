//! ScrapeGraphAI (AI scraping). v2 API: `GET /api/credits` on `v2-api.scrapegraphai.com` with the
//! key in the `SGAI-APIKEY` header answers `{"remaining","used","plan","jobs":{"crawl":{"used",
//! "limit"},"monitor":{…}}}` (docs.scrapegraphai.com api-reference "Credits"): `remaining` is
//! the credits left for request-based endpoints, `used` those consumed this billing cycle. No
//! cycle length or reset date is given, so none is read, and `remaining + used` is not taken as
//! an allowance. Out of credit is a 402 `{"error":"insufficient_credits"}`. The v1 host
//! (`api.scrapegraphai.com/v1/credits`) is deprecated.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "scrapegraphai",
    name: "ScrapeGraphAI",
    category: Category::Scraping,
    default_base_url: "https://v2-api.scrapegraphai.com",
    units: "credits",
    key_help: "API key (sgai-…, from the dashboard)",
    top_up_url: "https://dashboard.scrapegraphai.com",
    // No documented limit on the credits endpoint.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ScrapeGraphAi;

#[async_trait::async_trait]
impl Provider for ScrapeGraphAi {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/api/credits")?)
            .secret_header("SGAI-APIKEY", ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let plan = json
            .get("plan")
            .and_then(|v| v.as_str())
            .map(|p| {
                p.chars()
                    .filter(|c| !c.is_control())
                    .take(60)
                    .collect::<String>()
            })
            .filter(|p| !p.trim().is_empty());
        Ok(Reading {
            remaining: Some(ctx.number(&json, "/remaining")?),
            used: super::number_at(&json, "/used"),
            note: plan.map(|p| format!("plan: {}", p.trim())),
            ..Reading::new(Unit::credits())
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_remaining_credits_with_the_sgai_header() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/credits"))
            .and(header("sgai-apikey", KEY))
            .respond_with(fixture("scrapegraphai", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("scrapegraphai", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(750_000.0), "remaining");
        assert_eq!(r.used, Some(287.0), "used this billing cycle");
        assert_eq!(r.limit, None, "no allowance is documented");
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(r.note.as_deref(), Some("plan: Pro Plan"));
        assert_key_only_in(&server, Place::Header("sgai-apikey")).await;
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/api/credits", "scrapegraphai", file).await;
            let e = poll("scrapegraphai", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
