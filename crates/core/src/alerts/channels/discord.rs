//! Discord webhooks (<https://discord.com/developers/docs/resources/webhook#execute-webhook>):
//! one embed (title, description, link, colour, fields, timestamp), mentions disabled so that
//! no text from a provider can ping anyone. Discord answers 204 (200 with `?wait=true`); a
//! deleted webhook is 404 `Unknown Webhook`, a 429 carries `Retry-After`.

use super::{cut, secret_url, AlertMessage, ChannelOptions, Format, Outgoing, Target};
use crate::alerts::Severity;
use crate::http::Request;
use crate::secrets::Secret;
use crate::Result;
use serde_json::json;

pub(super) struct Discord;

impl Format for Discord {
    fn secret_is(&self) -> Option<&'static str> {
        Some("the webhook URL (https://discord.com/api/webhooks/…)")
    }

    fn check(&self, secret: Option<&Secret>, _: &ChannelOptions) -> Result<()> {
        secret_url(secret, "the Discord webhook URL", false).map(drop)
    }

    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing> {
        let url = secret_url(target.secret.as_ref(), "the Discord webhook URL", false)?;
        let color = match msg.severity {
            Severity::Critical => 0xD9_2D_20,
            Severity::Warning => 0xE8_A3_17,
            Severity::Info => 0x3B_82_F6,
        };
        let mut fields = Vec::new();
        if let Some(r) = &msg.remaining_text {
            fields.push(json!({ "name": "Remaining", "value": cut(r, 1024), "inline": true }));
        }
        if let Some(b) = msg.band_text() {
            fields.push(json!({ "name": "Runway", "value": cut(&b, 1024), "inline": true }));
        }
        let mut embed = json!({
            "title": cut(&msg.title, 256),
            "description": cut(&msg.body, 4096),
            "color": color,
            "timestamp": msg.time.to_rfc3339(),
            "fields": fields,
            "footer": { "text": "Cliffwatch" },
        });
        if let Some(top_up) = &msg.top_up_url {
            embed["url"] = json!(top_up);
        }
        let body = json!({
            "username": "Cliffwatch",
            "embeds": [embed],
            "allowed_mentions": { "parse": [] },
        });
        Ok(Outgoing::Http(
            Request::new(reqwest::Method::POST, url).json_body(&body),
        ))
    }
}
