//! Twilio: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "twilio",
    name: "Twilio",
    category: Category::Telecom,
    default_base_url: "https://api.twilio.com",
    units: "account currency (USD …)",
    key_help: "Auth token (or API key secret) of the account",
    top_up_url: "https://console.twilio.com/us1/billing/manage-billing/billing-overview",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "account_sid",
        label: "Account SID (AC…)",
        required: true,
    }],
};

#[derive(Debug)]
pub struct Twilio;

#[async_trait::async_trait]
impl Provider for Twilio {
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
