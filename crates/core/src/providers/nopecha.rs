//! NopeCHA (captcha solving). `GET /status?key=KEY` answers `{"plan","credit","quota",
//! "duration","lastreset"}`: `credit` is what is left of the plan's `quota`, a quota that
//! refills every `duration` seconds from `lastreset` (a Unix time) — daily on the usual plans.
//! NopeCHA publishes no reference for this endpoint; the fields come from client code
//! (CaptchaSharp's `NopechaStatusResponse`, NopeCHA's own browser extension calling `/status`).
//! Errors carry a numeric `error`: 16 is out of credit (answered with HTTP 403, a classifier row
//! makes it out-of-credit), 15 a bad key (401), 11 the rate limit (429).

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Duration, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "nopecha",
    name: "NopeCHA",
    category: Category::Captcha,
    default_base_url: "https://api.nopecha.com",
    units: "credits (daily quota)",
    key_help: "API key (subscription key)",
    top_up_url: "https://nopecha.com/manage",
    // No documented limit on /status.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

/// A quota period longer than this is not believed (a millisecond value read as seconds).
const MAX_PERIOD_DAYS: i64 = 31;

#[derive(Debug)]
pub struct Nopecha;

#[async_trait::async_trait]
impl Provider for Nopecha {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/status")?;
        url.query_pairs_mut()
            .append_pair("key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        let credit = ctx.number(&json, "/credit")?;
        let quota = super::number_at(&json, "/quota");
        Ok(Reading {
            remaining: Some(credit),
            limit: quota,
            used: quota.map(|q| q - credit),
            resets_at: next_refill(&json, ctx.now),
            ..Reading::new(Unit::credits())
        })
    }
}

/// `lastreset + duration`, when both are plausible seconds and the result lies ahead of `now`
/// within one period; anything else is left unknown rather than guessed.
fn next_refill(json: &serde_json::Value, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let last = super::number_at(json, "/lastreset")?;
    let period = super::number_at(json, "/duration")?;
    if !(period > 0.0 && period <= (MAX_PERIOD_DAYS * 86_400) as f64 && last > 0.0) {
        return None;
    }
    // Checked: an untrusted timestamp near the end of time must not overflow.
    let at = DateTime::from_timestamp(last as i64, 0)?
        .checked_add_signed(Duration::seconds(period as i64))?;
    (at > now && at <= now + Duration::days(MAX_PERIOD_DAYS)).then_some(at)
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_the_daily_credit_and_its_refill() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/status"))
            .and(query_param("key", KEY))
            .respond_with(fixture("nopecha", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("nopecha", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(61_234.0), "credit left today");
        assert_eq!(r.limit, Some(100_000.0), "the daily quota");
        assert_eq!(r.used, Some(38_766.0), "quota − credit");
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(
            r.resets_at,
            chrono::DateTime::from_timestamp(1_795_219_200 + 86_400, 0),
            "lastreset + duration: tomorrow 00:00 UTC"
        );
        assert_key_only_in(&server, Place::Query("key")).await;
    }

    #[test]
    fn implausible_refill_times_stay_unknown() {
        let now = now();
        let ms = serde_json::json!({"lastreset": 1_795_219_200_000_u64, "duration": 86_400});
        assert_eq!(
            super::next_refill(&ms, now),
            None,
            "milliseconds are not seconds"
        );
        let past = serde_json::json!({"lastreset": 1_700_000_000, "duration": 86_400});
        assert_eq!(
            super::next_refill(&past, now),
            None,
            "a refill in the past is stale"
        );
        assert_eq!(super::next_refill(&serde_json::json!({}), now), None);
        let end = serde_json::json!({"lastreset": 8_210_266_876_799_i64, "duration": 86_400});
        assert_eq!(
            super::next_refill(&end, now),
            None,
            "the last representable second does not overflow"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/status", "nopecha", file).await;
            let e = poll("nopecha", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
