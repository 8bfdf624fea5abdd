//! OpenAi: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "openai",
    name: "OpenAI",
    category: Category::SpendOnly,
    default_base_url: "https://api.openai.com",
    units: "USD spend (remaining = your budget − spend)",
    key_help: "admin key (sk-admin-…), created by an organization owner; set --budget",
    top_up_url: "https://platform.openai.com/settings/organization/billing/overview",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct OpenAi;

#[async_trait::async_trait]
impl Provider for OpenAi {
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
