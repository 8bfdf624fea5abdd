//! Hunter (email finder). `GET /v2/account` (free) with the key in the `X-API-KEY` header (Hunter
//! also takes `?api_key=`, which would put it in the URL) answers `{"data":{"plan_name",
//! "reset_date":"YYYY-MM-DD","requests":{"credits":{"used","available","remaining"}}}}`.
//! `remaining` is what is left: `available` already includes pack credits, so
//! `available − used` undercounts (Hunter's own cursor-plugin skill says to read `remaining`).
//! Legacy plans have `searches`/`verifications` buckets instead of `credits`; then the
//! searches bucket is read and named. Hunter's 429 means the monthly usage limit is reached and
//! its 403 means the per-second rate limit (classifier rows).

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, NaiveDate, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "hunter",
    name: "Hunter",
    category: Category::Search,
    default_base_url: "https://api.hunter.io",
    units: "credits",
    key_help: "API key (hunter.io/api-keys)",
    top_up_url: "https://hunter.io/pricing",
    // The account endpoint has no documented limit of its own.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Hunter;

#[async_trait::async_trait]
impl Provider for Hunter {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v2/account")?)
            .secret_header("X-API-KEY", ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let requests = "/data/requests";
        let (bucket, note) = if json.pointer(&format!("{requests}/credits")).is_some() {
            ("credits", None)
        } else if json.pointer(&format!("{requests}/searches")).is_some() {
            (
                "searches",
                Some("legacy plan: the searches bucket (verifications are counted apart)".into()),
            )
        } else {
            return Err(ctx.missing("data.requests.credits"));
        };
        let at = |field: &str| format!("{requests}/{bucket}/{field}");
        let resets_at = json
            .pointer("/data/reset_date")
            .and_then(|v| v.as_str())
            .and_then(parse_date);
        Ok(Reading {
            remaining: Some(ctx.number(&json, &at("remaining"))?),
            limit: super::number_at(&json, &at("available")),
            used: super::number_at(&json, &at("used")),
            resets_at,
            note,
            ..Reading::new(Unit::credits())
        })
    }
}

/// `2026-12-01` (the docs' form) or a full RFC 3339 time, as UTC.
fn parse_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .ok()
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
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn reads_remaining_credits_with_the_key_in_a_header() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/v2/account"))
            .and(header("x-api-key", KEY))
            .respond_with(fixture("hunter", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("hunter", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.remaining,
            Some(180.0),
            "remaining, not available − used (550 − 320 = 230 would count pack credits twice)"
        );
        assert_eq!(r.limit, Some(550.0), "available, packs included");
        assert_eq!(r.used, Some(320.0));
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()),
            "reset_date is a date, taken as UTC midnight"
        );
        assert_key_only_in(&server, Place::Header("x-api-key")).await;
    }

    #[tokio::test]
    async fn a_legacy_plan_reads_its_searches_bucket() {
        let server = MockServer::start().await;
        Mock::given(path("/v2/account"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"data":{"reset_date":"2026-12-01","requests":{"searches":{"used":10,"available":50,"remaining":40},"verifications":{"used":5,"available":100,"remaining":95}}}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("hunter", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(40.0), "searches.remaining");
        assert!(r.note.unwrap().contains("searches"), "the bucket is named");
    }

    #[tokio::test]
    async fn no_bucket_at_all_is_a_bad_response_not_zero() {
        let server = MockServer::start().await;
        Mock::given(path("/v2/account"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"data":{"plan_name":"Free","requests":{}}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let e = poll("hunter", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "bad_response");
    }

    #[tokio::test]
    async fn a_429_is_the_monthly_limit_and_a_403_is_speed() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/v2/account", "hunter", file).await;
            let e = poll("hunter", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
