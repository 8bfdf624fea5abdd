//! Moonshot: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "moonshot",
    name: "Moonshot AI (Kimi)",
    category: Category::Llm,
    default_base_url: "https://api.moonshot.ai",
    units: "USD (.ai) or CNY (.cn host)",
    key_help: "API key; set --base-url https://api.moonshot.cn for the China platform",
    top_up_url: "https://platform.moonshot.ai/console/pay",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Moonshot;

#[async_trait::async_trait]
impl Provider for Moonshot {
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
