//! Deepgram: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "deepgram",
    name: "Deepgram",
    category: Category::Llm,
    default_base_url: "https://api.deepgram.com",
    units: "USD",
    key_help: "API key with access to the project",
    top_up_url: "https://console.deepgram.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "project_id",
        label: "Project ID",
        required: true,
    }],
};

#[derive(Debug)]
pub struct Deepgram;

#[async_trait::async_trait]
impl Provider for Deepgram {
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
