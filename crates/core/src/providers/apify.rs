//! Apify: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

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

    async fn poll(&self, _ctx: &PollContext<'_>, _http: &Http) -> Result<Reading, PollError> {
        Err(PollError::config(format!(
            "polling {} is not implemented yet",
            INFO.name
        )))
    }
}
