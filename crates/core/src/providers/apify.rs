//! Apify. `GET /v2/users/me/limits` with `Authorization: Bearer <token>` answers
//! `{"data":{"monthlyUsageCycle":{"startAt","endAt"},"limits":{"maxMonthlyUsageUsd",…},
//! "current":{"monthlyUsageUsd",…}}}`. The cliff is the account's monthly usage limit: remaining
//! = `maxMonthlyUsageUsd − monthlyUsageUsd`, reset at the cycle's `endAt`. Hitting it surfaces as
//! "Monthly usage hard limit exceeded"; its status is not documented (402 is assumed).

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "apify",
    name: "Apify",
    category: Category::Scraping,
    default_base_url: "https://api.apify.com",
    units: "USD (monthly usage limit)",
    key_help: "API token",
    top_up_url: "https://console.apify.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Apify;

#[async_trait::async_trait]
impl Provider for Apify {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v2/users/me/limits")?)
            .bearer(ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let data = json.get("data").ok_or_else(|| ctx.missing("data"))?;
        let used = ctx.number(data, "/current/monthlyUsageUsd")?;
        // No limit set: spend is known, the cliff is not.
        let limit = number_at(data, "/limits/maxMonthlyUsageUsd");
        let resets_at = data
            .pointer("/monthlyUsageCycle/endAt")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s.trim()).ok())
            .map(|t| t.with_timezone(&Utc));
        Ok(Reading {
            limit,
            used: Some(used),
            resets_at,
            note: Some(match limit {
                Some(_) => "monthly usage limit".into(),
                None => "no monthly usage limit set: spend only".into(),
            }),
            ..Reading::new(Unit::usd())
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

    const PATH: &str = "/v2/users/me/limits";

    #[tokio::test]
    async fn reads_the_monthly_usage_limit_with_a_bearer_token() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("apify", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("apify", &server, serde_json::json!({})).await.unwrap();
        assert_eq!(r.limit, Some(300.0), "maxMonthlyUsageUsd");
        assert_eq!(r.used, Some(43.21), "monthlyUsageUsd");
        assert_close(r.remaining, 256.79, "limit − usage this cycle");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(
            r.resets_at,
            Some(
                chrono::Utc
                    .with_ymd_and_hms(2026, 12, 2, 23, 59, 59)
                    .unwrap()
                    + chrono::Duration::milliseconds(999)
            ),
            "the cycle's endAt"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn without_a_limit_there_is_spend_but_no_remaining() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"data":{"monthlyUsageCycle":{"startAt":"2026-11-03T00:00:00.000Z","endAt":"2026-12-02T23:59:59.999Z"},"limits":{"maxMonthlyUsageUsd":null},"current":{"monthlyUsageUsd":5}}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("apify", &server, serde_json::json!({})).await.unwrap();
        assert_eq!(
            (r.remaining, r.limit, r.used),
            (None, None, Some(5.0)),
            "null is not a limit of zero"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(PATH, "apify", file).await;
            let e = poll("apify", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
