//! Custom: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "custom",
    name: "Custom (declarative)",
    category: Category::Custom,
    default_base_url: "",
    units: "any (you choose)",
    key_help: "whatever your endpoint needs, or none",
    top_up_url: "",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "spec",
        label: "Request and JSON-pointer spec (JSON)",
        required: true,
    }],
};

#[derive(Debug)]
pub struct Custom;

#[async_trait::async_trait]
impl Provider for Custom {
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
