//! Novita: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "novita",
    name: "Novita AI",
    category: Category::Llm,
    default_base_url: "https://api.novita.ai",
    units: "USD (reported in 1/10000 USD)",
    key_help: "API key",
    top_up_url: "https://novita.ai/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Novita;

#[async_trait::async_trait]
impl Provider for Novita {
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
