//! Bright Data: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "brightdata",
    name: "Bright Data",
    category: Category::Scraping,
    default_base_url: "https://api.brightdata.com",
    units: "USD",
    key_help: "API token (account settings)",
    top_up_url: "https://brightdata.com/cp/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct BrightData;

#[async_trait::async_trait]
impl Provider for BrightData {
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
