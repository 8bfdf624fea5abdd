//! Anthropic: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "anthropic",
    name: "Anthropic",
    category: Category::SpendOnly,
    default_base_url: "https://api.anthropic.com",
    units: "USD spend (remaining = your budget − spend)",
    key_help: "admin key (sk-ant-admin…); set --budget",
    top_up_url: "https://console.anthropic.com/settings/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Anthropic;

#[async_trait::async_trait]
impl Provider for Anthropic {
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
