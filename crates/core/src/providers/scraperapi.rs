//! ScraperAPI. `GET /account?api_key=KEY` (free; counters refresh every 15 s) gives
//! `requestLimit` and `requestCount` for the billing cycle that started on `subscriptionDate`.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;
use chrono::{DateTime, Months, Utc};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "scraperapi",
    name: "ScraperAPI",
    category: Category::Scraping,
    default_base_url: "https://api.scraperapi.com",
    units: "credits",
    key_help: "API key",
    top_up_url: "https://dashboard.scraperapi.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ScraperApi;

#[async_trait::async_trait]
impl Provider for ScraperApi {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/account")?;
        url.query_pairs_mut()
            .append_pair("api_key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        let limit = ctx.number(&json, "/requestLimit")?;
        let used = ctx.number(&json, "/requestCount")?;
        let resets_at = json
            .get("subscriptionDate")
            .and_then(|v| v.as_str())
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .and_then(|start| next_anniversary(start.with_timezone(&Utc), ctx.now));
        Ok(Reading {
            // `creditsLeft` is read by one client only; prefer it when present, else derive.
            remaining: number_at(&json, "/creditsLeft"),
            limit: Some(limit),
            used: Some(used),
            resets_at,
            ..Reading::new(Unit::credits())
        }
        .derive_remaining())
    }
}

/// The first monthly anniversary of `start` after `now` (ScraperAPI cycles are monthly from
/// the subscription date).
fn next_anniversary(start: DateTime<Utc>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (1..=1200u32)
        .map(|m| start.checked_add_months(Months::new(m)))
        .find_map(|t| t.filter(|t| *t > now))
}
