//! Slack incoming webhooks (<https://api.slack.com/messaging/webhooks>): `text` (the
//! notification's fallback) and Block Kit `blocks` — a section in `mrkdwn` and a "Top up"
//! button. Slack answers `200 ok`; refusals come as 400 `invalid_payload`, 403
//! `action_prohibited`, 404 `no_service`, 410 `channel_is_archived` (all final).

use super::{cut, secret_url, AlertMessage, ChannelOptions, Format, Outgoing, Target};
use crate::http::Request;
use crate::secrets::Secret;
use crate::Result;
use serde_json::json;

pub(super) struct Slack;

/// Slack's limit on a section's text.
const SECTION_MAX: usize = 3000;

/// `&`, `<` and `>` are control characters in Slack's mrkdwn (links, mentions).
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

impl Format for Slack {
    fn secret_is(&self) -> Option<&'static str> {
        Some("the incoming-webhook URL (https://hooks.slack.com/services/…)")
    }

    fn check(&self, secret: Option<&Secret>, _: &ChannelOptions) -> Result<()> {
        secret_url(secret, "the Slack webhook URL", false).map(drop)
    }

    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing> {
        let url = secret_url(target.secret.as_ref(), "the Slack webhook URL", false)?;
        let mut text = format!("*{}*\n{}", escape(&msg.title), escape(&msg.body));
        if let Some(b) = msg.band_text() {
            text.push('\n');
            text.push_str(&b);
        }
        let mut blocks = vec![json!({
            "type": "section",
            "text": { "type": "mrkdwn", "text": cut(&text, SECTION_MAX) },
        })];
        if let Some(top_up) = &msg.top_up_url {
            blocks.push(json!({
                "type": "actions",
                "elements": [{
                    "type": "button",
                    "text": { "type": "plain_text", "text": "Top up" },
                    "url": top_up,
                    "style": if msg.severity == crate::alerts::Severity::Critical { "danger" } else { "primary" },
                }],
            }));
        }
        let body = json!({
            "text": cut(&format!("{}: {}", msg.title, msg.body), SECTION_MAX),
            "blocks": blocks,
            "unfurl_links": false,
        });
        Ok(Outgoing::Http(
            Request::new(reqwest::Method::POST, url).json_body(&body),
        ))
    }
}
