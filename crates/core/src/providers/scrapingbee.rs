//! ScrapingBee. `GET /api/v1/usage?api_key=KEY` (free, real time, at most 6 calls a minute)
//! answers `{"max_api_credit","used_api_credit","max_concurrency","current_concurrency",
//! "renewal_subscription_date"}`: remaining = max − used credits, and the allowance renews on
//! the renewal date. Out of credit is a 401 "No more credit available" (a classifier row tells
//! it from a rejected key, which ScrapingBee answers with 401 "Invalid api key: <key>").

use super::{Category, PollContext, PollError, Provider, ProviderInfo, Reading, NO_OPTIONS};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "scrapingbee",
    name: "ScrapingBee",
    category: Category::Scraping,
    default_base_url: "https://app.scrapingbee.com",
    units: "credits",
    key_help: "API key",
    top_up_url: "https://app.scrapingbee.com/account/manage/plan",
    // The usage endpoint allows 6 calls a minute.
    min_poll_interval_s: 10,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ScrapingBee;

#[async_trait::async_trait]
impl Provider for ScrapingBee {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/api/v1/usage")?;
        url.query_pairs_mut()
            .append_pair("api_key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        let limit = ctx.number(&json, "/max_api_credit")?;
        let used = ctx.number(&json, "/used_api_credit")?;
        let resets_at = json
            .get("renewal_subscription_date")
            .and_then(|v| v.as_str())
            .and_then(parse_time);
        Ok(Reading {
            limit: Some(limit),
            used: Some(used),
            resets_at,
            ..Reading::new(Unit::credits())
        }
        .derive_remaining())
    }
}

/// RFC 3339, or a naive date-time / date taken as UTC (the docs show no offset).
fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
                .iter()
                .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
                .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
        })
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use chrono::TimeZone;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_credits_and_sends_the_key_as_query() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/usage"))
            .and(query_param("api_key", KEY))
            .respond_with(fixture("scrapingbee", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("scrapingbee", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.limit, Some(150_000.0), "max_api_credit");
        assert_eq!(r.used, Some(123_456.0), "used_api_credit");
        assert_eq!(r.remaining, Some(26_544.0), "max − used");
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(
            r.resets_at,
            Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 12, 14, 8, 30, 0)
                    .unwrap()
            ),
            "the renewal date without an offset is UTC"
        );
        assert_key_only_in(&server, Place::Query("api_key")).await;
    }

    #[tokio::test]
    async fn a_401_is_out_of_credit_only_when_it_says_so() {
        let server = serve("/api/v1/usage", "scrapingbee", "out_of_credit").await;
        let e = poll("scrapingbee", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "out_of_credit");

        let server = serve("/api/v1/usage", "scrapingbee", "invalid_key").await;
        let e = poll("scrapingbee", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "invalid_key");
        assert!(
            e.to_string().contains("Invalid api key: REDACTED") && !e.to_string().contains(KEY),
            "the echoed key is scrubbed, the rest of the message kept: {e}"
        );

        let server = serve("/api/v1/usage", "scrapingbee", "rate_limited").await;
        let e = poll("scrapingbee", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "rate_limited");
    }

    #[test]
    fn renewal_dates_parse_with_or_without_offset() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap();
        assert_eq!(super::parse_time("2026-12-14"), Some(t), "date only");
        assert_eq!(super::parse_time("2026-12-14T00:00:00Z"), Some(t));
        assert_eq!(super::parse_time("2026-12-14T01:00:00+01:00"), Some(t));
        assert_eq!(super::parse_time("2026-12-14 00:00:00.000"), Some(t));
        assert_eq!(super::parse_time("soon"), None, "text is not a date");
    }
}
