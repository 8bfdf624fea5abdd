//! VALUE SERP (Traject Data, Google SERP API). `GET /account?api_key=KEY` (free; the key can
//! only go in the query) answers `{"account_info":{"plan","monthly_credits_limit",
//! "monthly_credits_remaining","monthly_credits_reset_at","topup_credits_remaining",…}}`: one
//! credit is one search. remaining = the month's credits left plus top-up credits when the
//! answer has them. Out of credit is a 402 ("run out of available credits", docs.trajectdata.com
//! /valueserp/response-codes), a bad key a 401, a rate limit a 429.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "valueserp",
    name: "VALUE SERP",
    category: Category::Search,
    default_base_url: "https://api.valueserp.com",
    units: "credits (1 credit = 1 search)",
    key_help: "API key",
    top_up_url: "https://app.valueserp.com",
    // The Account API has no documented limit (and costs nothing).
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ValueSerp;

#[async_trait::async_trait]
impl Provider for ValueSerp {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/account")?;
        url.query_pairs_mut()
            .append_pair("api_key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        let monthly = ctx.number(&json, "/account_info/monthly_credits_remaining")?;
        let topup = super::number_at(&json, "/account_info/topup_credits_remaining");
        let resets_at = json
            .pointer("/account_info/monthly_credits_reset_at")
            .and_then(|v| v.as_str())
            .and_then(parse_time);
        Ok(Reading {
            remaining: Some(monthly + topup.unwrap_or(0.0)),
            limit: super::number_at(&json, "/account_info/monthly_credits_limit"),
            resets_at,
            note: topup
                .filter(|t| *t != 0.0)
                .map(|t| format!("includes {t} top-up credits")),
            ..Reading::new(Unit::credits())
        })
    }
}

/// RFC 3339, or a naive date-time / date taken as UTC.
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
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn reads_monthly_plus_topup_credits_with_the_key_as_query() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/account"))
            .and(query_param("api_key", KEY))
            .respond_with(fixture("valueserp", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("valueserp", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(3_750.0), "3 250 monthly + 500 top-up");
        assert_eq!(r.limit, Some(5_000.0), "monthly_credits_limit");
        assert_eq!(r.unit.as_str(), "credits", "one credit per search");
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 14, 0, 0, 0).unwrap())
        );
        assert_eq!(r.note.as_deref(), Some("includes 500 top-up credits"));
        assert_key_only_in(&server, Place::Query("api_key")).await;
    }

    #[tokio::test]
    async fn without_topup_the_month_is_all() {
        let server = MockServer::start().await;
        Mock::given(path("/account"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"account_info":{"monthly_credits_limit":100,"monthly_credits_remaining":0}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("valueserp", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!((r.remaining, r.note), (Some(0.0), None));
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/account", "valueserp", file).await;
            let e = poll("valueserp", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
