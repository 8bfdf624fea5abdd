//! ZenMux: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "zenmux",
    name: "ZenMux",
    category: Category::Llm,
    default_base_url: "https://zenmux.ai",
    units: "USD",
    key_help: "management key",
    top_up_url: "https://zenmux.ai/settings/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ZenMux;

#[async_trait::async_trait]
impl Provider for ZenMux {
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
