//! Hugging Face (Inference Providers credits). `GET /api/settings/billing/usage-v2?startDate=S&
//! endDate=E` (Unix seconds: the start of the UTC month, then now) with a Bearer token that can
//! read billing (a classic `read` token, or a fine-grained one with "Billing read").
//!
//! **Undocumented response.** The path is in Hugging Face's Hub OpenAPI spec, but its answer is
//! not. The shape read here is what public clients parse (CodexBar's `HuggingFaceUsageFetcher`):
//! `usage.inferenceProviders.{usedNanoUsd, includedNanoUsd, limitNanoUsd, numRequests,
//! periodEnd}`, amounts in billionths of a dollar, `limitNanoUsd` 0 meaning no spending limit
//! set. It may change without notice; an answer without `usedNanoUsd` is a bad response.
//!
//! The reading: used = this month's Inference Providers spend; limit = the included monthly
//! credits plus the spending limit when one is set (usage past the included credits is billed
//! up to it); remaining = limit − used. With no included-credit figure the limit is unknown.
//! Exhausted credits answer 402 on inference (the classifier's status rule).

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Datelike, TimeZone, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "huggingface",
    name: "Hugging Face",
    category: Category::Llm,
    default_base_url: "https://huggingface.co",
    units: "USD",
    key_help: "an access token that can read billing (a classic read token, or fine-grained with \
               Billing read); for an organization, a token of an org admin",
    top_up_url: "https://huggingface.co/settings/billing",
    // Hugging Face publishes no limit for this endpoint.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

const NANO: f64 = 1e9;

#[derive(Debug)]
pub struct HuggingFace;

#[async_trait::async_trait]
impl Provider for HuggingFace {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let now = ctx.now;
        let month_start = Utc
            .with_ymd_and_hms(now.year(), now.month(), 1, 0, 0, 0)
            .single()
            .unwrap_or(now);
        let mut url = ctx.url("/api/settings/billing/usage-v2")?;
        // Seconds: clients report that milliseconds make the endpoint answer 500.
        url.query_pairs_mut()
            .append_pair("startDate", &month_start.timestamp().to_string())
            .append_pair("endDate", &now.timestamp().to_string());
        let json = ctx
            .fetch_json(http, Request::get(url).bearer(ctx.secret()?.expose()))
            .await?;
        let inference = json
            .pointer("/usage/inferenceProviders")
            .filter(|v| v.is_object())
            .ok_or_else(|| ctx.missing("usage.inferenceProviders"))?;
        let used = number_at(inference, "/usedNanoUsd")
            .map(|n| n / NANO)
            .ok_or_else(|| ctx.missing("usage.inferenceProviders.usedNanoUsd"))?;
        let included = number_at(inference, "/includedNanoUsd").map(|n| n / NANO);
        // 0 is how the answer says "no spending limit" (client evidence), not a $0 limit.
        let spend_limit = number_at(inference, "/limitNanoUsd")
            .map(|n| n / NANO)
            .filter(|l| *l > 0.0);
        let limit = included.map(|i| i + spend_limit.unwrap_or(0.0));
        let note = match (included, spend_limit) {
            (Some(i), Some(s)) => format!("{i} USD included this month + {s} USD spending limit"),
            (Some(i), None) => format!(
                "{i} USD included this month; usage past it is billed (no spending limit set)"
            ),
            (None, Some(s)) => {
                format!("{s} USD spending limit; included credits unknown, so remaining is unknown")
            }
            (None, None) => "included credits unknown: remaining unknown".to_owned(),
        };
        Ok(Reading {
            limit,
            used: Some(used),
            resets_at: inference.get("periodEnd").and_then(parse_time),
            note: Some(note),
            ..Reading::new(Unit::usd())
        }
        .derive_remaining())
    }
}

/// `periodEnd` as RFC 3339 text or Unix seconds / milliseconds (its format is undocumented).
fn parse_time(v: &serde_json::Value) -> Option<DateTime<Utc>> {
    match v {
        serde_json::Value::String(s) => DateTime::parse_from_rfc3339(s.trim())
            .ok()
            .map(|t| t.with_timezone(&Utc)),
        serde_json::Value::Number(n) => {
            let n = n.as_f64()?;
            // Past ~2286 in seconds means milliseconds.
            let secs = if n > 1e10 { n / 1000.0 } else { n };
            if !secs.is_finite() || !(0.0..=1e11).contains(&secs) {
                return None;
            }
            DateTime::from_timestamp(secs as i64, 0)
        }
        _ => None,
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use chrono::TimeZone;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer};

    const PATH: &str = "/api/settings/billing/usage-v2";

    #[tokio::test]
    async fn spend_against_included_credits_and_the_spending_limit() {
        let server = MockServer::start().await;
        let month = chrono::Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param(
                "startDate",
                month.timestamp().to_string().as_str(),
            ))
            .and(query_param(
                "endDate",
                now().timestamp().to_string().as_str(),
            ))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("huggingface", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("huggingface", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_close(r.used, 1.25, "usedNanoUsd 1250000000");
        assert_close(r.limit, 12.0, "2 USD included + 10 USD spending limit");
        assert_close(r.remaining, 10.75, "limit − used");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(
            r.resets_at,
            Some(chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()),
            "periodEnd"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn no_included_figure_leaves_remaining_unknown() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
                r#"{"usage":{"inferenceProviders":{"usedNanoUsd":500000000,"limitNanoUsd":0}}}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("huggingface", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.used, Some(0.5));
        assert_eq!(r.limit, None, "absent is partial, never a fabricated 0");
        assert_eq!(r.remaining, None);
    }

    #[test]
    fn period_end_parses_text_seconds_and_milliseconds() {
        let t = chrono::Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let j = |v: serde_json::Value| super::parse_time(&v);
        assert_eq!(j(serde_json::json!("2026-12-01T00:00:00Z")), Some(t));
        assert_eq!(j(serde_json::json!(t.timestamp())), Some(t));
        assert_eq!(j(serde_json::json!(t.timestamp() * 1000)), Some(t));
        assert_eq!(j(serde_json::json!("soon")), None);
        assert_eq!(j(serde_json::json!(-5)), None, "no dates before 1970");
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
            ("forbidden", "forbidden"),
        ] {
            let server = serve(PATH, "huggingface", file).await;
            let e = poll("huggingface", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
