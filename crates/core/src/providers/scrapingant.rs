//! ScrapingAnt. `GET /v2/usage?x-api-key=KEY` answers `{"plan_name","start_date","end_date",
//! "plan_total_credits","remained_credits"}`; credits do not roll over past `end_date`.
//!
//! ScrapingAnt answers the same 403 ("The API token is wrong or you have exceeded the API
//! credits limit") for a wrong token and for exhausted credits. The classifier calls it out of
//! credit: the account then keeps being polled slowly and a top-up is noticed, whereas calling
//! it an invalid key would stop polling until the account is edited. The message says both.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "scrapingant",
    name: "ScrapingAnt",
    category: Category::Scraping,
    default_base_url: "https://api.scrapingant.com",
    units: "credits",
    key_help: "API key",
    top_up_url: "https://app.scrapingant.com/dashboard",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ScrapingAnt;

#[async_trait::async_trait]
impl Provider for ScrapingAnt {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/v2/usage")?;
        url.query_pairs_mut()
            .append_pair("x-api-key", ctx.secret()?.expose());
        let json = match ctx.fetch_json(http, Request::get(url)).await {
            Ok(j) => j,
            Err(PollError::OutOfCredit {
                status: 403,
                classification,
                message,
            }) => {
                return Err(PollError::OutOfCredit {
                    status: 403,
                    classification,
                    message: format!(
                        "{message} (ScrapingAnt gives the same answer for a wrong key: if the \
                         credits are not used up, check the key)"
                    ),
                })
            }
            Err(e) => return Err(e),
        };
        let limit = ctx.number(&json, "/plan_total_credits")?;
        let remaining = ctx.number(&json, "/remained_credits")?;
        let resets_at = json
            .get("end_date")
            .and_then(|v| v.as_str())
            .and_then(parse_time);
        Ok(Reading {
            remaining: Some(remaining),
            limit: Some(limit),
            used: Some(limit - remaining),
            resets_at,
            note: json
                .get("plan_name")
                .and_then(|v| v.as_str())
                .map(|p| format!("{p} plan")),
            ..Reading::new(Unit::credits())
        })
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
            .and(path("/v2/usage"))
            .and(query_param("x-api-key", KEY))
            .respond_with(fixture("scrapingant", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("scrapingant", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(123_400.0), "remained_credits");
        assert_eq!(r.limit, Some(500_000.0), "plan_total_credits");
        assert_eq!(r.used, Some(376_600.0), "total − remained");
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap()),
            "credits lapse at end_date"
        );
        assert_eq!(r.note.as_deref(), Some("Startup plan"));
        assert_key_only_in(&server, Place::Query("x-api-key")).await;
    }

    #[tokio::test]
    async fn the_shared_403_is_out_of_credit_and_says_to_check_the_key_too() {
        for file in ["out_of_credit", "invalid_key"] {
            let server = serve("/v2/usage", "scrapingant", file).await;
            let e = poll("scrapingant", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, "out_of_credit");
            let m = e.to_string();
            assert!(
                m.contains("exceeded the API credits limit") && m.contains("check the key"),
                "{file}: one 403 for both causes, so the message names both: {m}"
            );
        }
    }

    #[tokio::test]
    async fn the_409_concurrency_limit_is_a_rate_limit() {
        let server = serve("/v2/usage", "scrapingant", "rate_limited").await;
        let e = poll("scrapingant", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "rate_limited");
    }
}
