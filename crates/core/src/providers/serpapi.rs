//! SerpApi. `GET /account.json?api_key=KEY` (free, not counted as a search) answers the plan
//! and its counters: `searches_per_month`, `plan_searches_left`, `extra_credits`,
//! `total_searches_left`, `this_month_usage`, `last_hour_searches` (older `this_hour_searches`),
//! `account_rate_limit_per_hour`, `plan_renewal_date` (`YYYY-MM-DD`, the next billing date;
//! `null` without a monthly plan). Remaining = `total_searches_left` (plan + extra credits);
//! the plan's searches reset on the renewal date, read as midnight UTC.
//! The answer echoes the key (`api_key`); nothing here copies it anywhere.
//!
//! HTTP 429 means either the hourly throughput limit or an account out of searches; the
//! classifier tells them apart by the text ("run out of searches").

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "serpapi",
    name: "SerpApi",
    category: Category::Search,
    default_base_url: "https://serpapi.com",
    units: "searches",
    key_help: "API key",
    top_up_url: "https://serpapi.com/change-plan",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct SerpApi;

#[async_trait::async_trait]
impl Provider for SerpApi {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/account.json")?;
        url.query_pairs_mut()
            .append_pair("api_key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        let remaining = ctx.number(&json, "/total_searches_left")?;
        let extra = number_at(&json, "/extra_credits").filter(|e| *e > 0.0);
        let hour = number_at(&json, "/last_hour_searches")
            .or_else(|| number_at(&json, "/this_hour_searches"));
        let per_hour = number_at(&json, "/account_rate_limit_per_hour");
        let mut note = Vec::new();
        if let Some(p) = json.get("plan_name").and_then(|v| v.as_str()) {
            note.push(format!("{p} plan"));
        }
        if let Some(e) = extra {
            note.push(format!("includes {e} extra credits"));
        }
        if let (Some(h), Some(l)) = (hour, per_hour) {
            note.push(format!("{h} of {l} searches in the last hour"));
        }
        let resets_at = json
            .get("plan_renewal_date")
            .and_then(|v| v.as_str())
            .and_then(|s| chrono::NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok())
            .map(|d| d.and_time(chrono::NaiveTime::MIN).and_utc());
        Ok(Reading {
            remaining: Some(remaining),
            limit: number_at(&json, "/searches_per_month"),
            used: number_at(&json, "/this_month_usage"),
            resets_at,
            note: (!note.is_empty()).then(|| note.join("; ")),
            ..Reading::new(Unit::parse(Unit::SEARCHES).expect("a known count unit"))
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_searches_left_and_sends_the_key_as_query() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/account.json"))
            .and(query_param("api_key", KEY))
            .respond_with(fixture("serpapi", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("serpapi", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.remaining,
            Some(1334.0),
            "total_searches_left: plan + extra credits"
        );
        assert_eq!(r.limit, Some(5000.0), "searches_per_month");
        assert_eq!(r.used, Some(3766.0), "this_month_usage");
        assert_eq!(r.unit.as_str(), "searches");
        let note = r.note.unwrap();
        assert_eq!(
            note,
            "Developer plan; includes 100 extra credits; 12 of 1000 searches in the last hour",
            "extra credits explain why remaining ≠ limit − used"
        );
        assert!(!note.contains(KEY), "the echoed api_key is never copied");
        assert_key_only_in(&server, Place::Query("api_key")).await;
    }

    #[tokio::test]
    async fn serpapi_plan_renewal_date_is_when_the_plan_resets() {
        let server = serve("/account.json", "serpapi", "success").await;
        let r = poll("serpapi", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.resets_at,
            Some(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 3, 0, 0, 0).unwrap()),
            "plan_renewal_date \"2026-12-03\" is the next billing date"
        );
    }

    #[tokio::test]
    async fn a_429_is_out_of_searches_or_throughput_by_its_text() {
        let server = serve("/account.json", "serpapi", "out_of_credit").await;
        let e = poll("serpapi", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "out_of_credit");

        let server = serve("/account.json", "serpapi", "rate_limited").await;
        let e = poll("serpapi", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "rate_limited");

        let server = serve("/account.json", "serpapi", "invalid_key").await;
        let e = poll("serpapi", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "invalid_key");
    }
}
