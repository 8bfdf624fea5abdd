//! Anti-Captcha: the catalog entry; the adapter itself is still to be written (it answers
//! with a config error until then).

use super::*;
use crate::http::Http;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "anticaptcha",
    name: "Anti-Captcha",
    category: Category::Captcha,
    default_base_url: "https://api.anti-captcha.com",
    units: "USD",
    key_help: "API key (clientKey)",
    top_up_url: "https://anti-captcha.com/clients/finance/refill",
    min_poll_interval_s: 30,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct AntiCaptcha;

#[async_trait::async_trait]
impl Provider for AntiCaptcha {
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
