//! A generic webhook: the [`AlertMessage`] as JSON, POSTed to the URL the user gave (the
//! secret: such URLs often carry a token in their path or query).

use super::{secret_url, AlertMessage, ChannelOptions, Format, Outgoing, Target};
use crate::http::Request;
use crate::secrets::Secret;
use crate::Result;

pub(super) struct Webhook;

impl Format for Webhook {
    fn secret_is(&self) -> Option<&'static str> {
        Some("the webhook URL")
    }

    fn check(&self, secret: Option<&Secret>, _: &ChannelOptions) -> Result<()> {
        // Self-hosted receivers on a LAN often have no TLS.
        secret_url(secret, "the webhook URL", true).map(drop)
    }

    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing> {
        let url = secret_url(target.secret.as_ref(), "the webhook URL", true)?;
        let body = serde_json::to_value(msg)
            .map_err(|e| crate::Error::Malformed(format!("alert message: {e}")))?;
        Ok(Outgoing::Http(
            Request::new(reqwest::Method::POST, url)
                .header(
                    "X-Cliffwatch-Event",
                    if msg.test { "test" } else { "alert" },
                )
                .json_body(&body),
        ))
    }
}
