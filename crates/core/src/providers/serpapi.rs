//! SerpApi: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "serpapi",
    name: "SerpApi",
    category: Category::Search,
    default_base_url: "https://serpapi.com",
    units: "searches",
    key_help: "API key",
    top_up_url: "https://serpapi.com/change-plan",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct SerpApi;

#[async_trait::async_trait]
impl Provider for SerpApi {
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
