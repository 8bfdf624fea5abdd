//! ZenRows. `GET /v1/subscriptions/self/details` with the key in the `X-API-Key` header (scrape
//! calls take `?apikey=`, this endpoint does not) answers the current period: `usage` (USD
//! spent), `usage_credits`, `credit_limit`, `usage_percent`, `period_ends_at`, `plan {…}`.
//!
//! `credit_limit` is read as the period's USD allowance, matching `usage`. Which unit it is in
//! is not documented, so `usage_percent` decides: when `usage_credits / credit_limit` matches
//! it and `usage / credit_limit` does not, the reading is in credits instead.
//! Out of credit: 402 `AUTH004` (the status code decides; AUTH011 "no subscription" is a 402 too).

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "zenrows",
    name: "ZenRows",
    category: Category::Scraping,
    default_base_url: "https://api.zenrows.com",
    units: "USD (credits on credit-based plans)",
    key_help: "API key",
    top_up_url: "https://app.zenrows.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

/// How far (in percentage points) a computed share may be from `usage_percent` and still match.
const PERCENT_TOLERANCE: f64 = 0.6;

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
        let usd = number_at(&json, "/usage");
        let credits = number_at(&json, "/usage_credits");
        let percent = number_at(&json, "/usage_percent");
        let matches = |used: Option<f64>| match (used, percent) {
            (Some(u), Some(p)) if limit > 0.0 => (u / limit * 100.0 - p).abs() <= PERCENT_TOLERANCE,
            _ => false,
        };
        let (unit, used) = if !matches(usd) && matches(credits) {
            (Unit::credits(), credits)
        } else {
            (Unit::usd(), usd)
        };
        let used = used.ok_or_else(|| ctx.missing("usage"))?;
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
            ..Reading::new(unit)
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
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const PATH: &str = "/v1/subscriptions/self/details";

    #[tokio::test]
    async fn reads_usd_usage_against_the_limit_with_the_key_in_x_api_key() {
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
        assert_eq!(r.limit, Some(69.0), "credit_limit");
        assert_eq!(r.used, Some(31.25), "usage is USD spent this period");
        assert_eq!(r.remaining, Some(37.75), "limit − usage");
        assert_eq!(
            r.unit.as_str(),
            "usd",
            "31.25 / 69 = 45.29 % = usage_percent, so the limit is in USD"
        );
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 3, 0, 0, 0).unwrap()),
            "period_ends_at"
        );
        assert_eq!(r.note.as_deref(), Some("Developer plan, active"));
        assert_key_only_in(&server, Place::Header("x-api-key")).await;
    }

    #[tokio::test]
    async fn a_credit_denominated_limit_is_read_in_credits() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"status":"ACTIVE","usage":31.25,"usage_credits":250000,"credit_limit":1000000,"usage_percent":25.0,"period_ends_at":"2026-12-03T00:00:00Z"}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("zenrows", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            (r.unit.as_str(), r.used, r.remaining),
            ("credits", Some(250_000.0), Some(750_000.0)),
            "usage_percent 25 matches credits (250k/1M), not dollars (31.25/1M)"
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
