//! Tavily: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "tavily",
    name: "Tavily",
    category: Category::Search,
    default_base_url: "https://api.tavily.com",
    units: "credits",
    key_help: "API key",
    top_up_url: "https://app.tavily.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Tavily;

#[async_trait::async_trait]
impl Provider for Tavily {
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
