//! Venice: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "venice",
    name: "Venice AI",
    category: Category::Llm,
    default_base_url: "https://api.venice.ai",
    units: "USD or DIEM",
    key_help: "API key",
    top_up_url: "https://venice.ai/settings/api",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Venice;

#[async_trait::async_trait]
impl Provider for Venice {
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
