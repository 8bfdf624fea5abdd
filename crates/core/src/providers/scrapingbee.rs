//! ScrapingBee: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "scrapingbee",
    name: "ScrapingBee",
    category: Category::Scraping,
    default_base_url: "https://app.scrapingbee.com",
    units: "credits",
    key_help: "API key",
    top_up_url: "https://app.scrapingbee.com/account/manage/plan",
    min_poll_interval_s: 10,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ScrapingBee;

#[async_trait::async_trait]
impl Provider for ScrapingBee {
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
