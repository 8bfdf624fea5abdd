//! Scrappey (anti-bot scraping). `GET /api/v1/balance?key=KEY` on `publisher.scrappey.com`
//! answers `{"balance": …}`. Scrappey documents neither the endpoint nor the balance's unit: the
//! path and field come from its official wrappers (`getBalance()` in scrappey-wrapper) and
//! user scripts. Its prices are in EUR per 1 000 scrapes, but whether `balance` is euros or
//! request credits is not said, so the reading is counted as credits and says so. The key can
//! only go in the query.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "scrappey",
    name: "Scrappey",
    category: Category::Scraping,
    default_base_url: "https://publisher.scrappey.com",
    units: "balance (unit not documented: EUR or credits)",
    key_help: "API key",
    top_up_url: "https://app.scrappey.com",
    // No documented limit.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

/// Said with every reading: the number's unit is Scrappey's secret.
pub const UNIT_NOTE: &str = "Scrappey does not document the balance's unit (EUR or credits)";

#[derive(Debug)]
pub struct Scrappey;

#[async_trait::async_trait]
impl Provider for Scrappey {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let mut url = ctx.url("/api/v1/balance")?;
        url.query_pairs_mut()
            .append_pair("key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        Ok(Reading {
            remaining: Some(ctx.number(&json, "/balance")?),
            note: Some(UNIT_NOTE.into()),
            ..Reading::new(Unit::credits())
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
    async fn reads_the_balance_and_says_its_unit_is_unknown() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/v1/balance"))
            .and(query_param("key", KEY))
            .respond_with(fixture("scrappey", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("scrappey", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(12.35), "balance");
        assert_eq!(
            r.unit.as_str(),
            "credits",
            "not a currency: EUR is not documented for the balance"
        );
        assert_eq!(
            r.note.as_deref(),
            Some(super::UNIT_NOTE),
            "the doubt is shown"
        );
        assert_key_only_in(&server, Place::Query("key")).await;
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/api/v1/balance", "scrappey", file).await;
            let e = poll("scrappey", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
