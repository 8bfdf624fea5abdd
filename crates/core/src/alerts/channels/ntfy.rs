//! ntfy (<https://docs.ntfy.sh/publish/#publish-as-json>): the secret is the topic URL
//! (`https://ntfy.sh/<topic>`, or a self-hosted server's; anyone who knows a topic can read
//! it). Published as JSON to the server's root: title, message, priority (5 for critical, 4 for
//! a warning), tags, a click-through and a "Top up" view action.

use super::{cut, secret_url, AlertMessage, ChannelOptions, Format, Outgoing, Target};
use crate::alerts::Severity;
use crate::http::Request;
use crate::secrets::Secret;
use crate::{Error, Result};
use serde_json::json;

pub(super) struct Ntfy;

/// (server root, topic) from a topic URL.
fn split(secret: Option<&Secret>) -> Result<(url::Url, String)> {
    let url = secret_url(secret, "the ntfy topic URL", true)?;
    let topic = url
        .path_segments()
        .and_then(|mut s| s.next_back())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| {
            Error::InvalidInput(
                "the ntfy topic URL has no topic: it should look like https://ntfy.sh/my-topic"
                    .into(),
            )
        })?;
    if !topic
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        || topic.len() > 64
    {
        return Err(Error::InvalidInput(
            "an ntfy topic is 1 to 64 letters, digits, - or _".into(),
        ));
    }
    let mut root = url.clone();
    let path = url.path();
    let parent = path.strip_suffix(topic.as_str()).unwrap_or("/").to_owned();
    root.set_path(&parent);
    root.set_query(None);
    root.set_fragment(None);
    Ok((root, topic))
}

impl Format for Ntfy {
    fn secret_is(&self) -> Option<&'static str> {
        Some("the topic URL (https://ntfy.sh/<topic>)")
    }

    fn check(&self, secret: Option<&Secret>, _: &ChannelOptions) -> Result<()> {
        split(secret).map(drop)
    }

    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing> {
        let (root, topic) = split(target.secret.as_ref())?;
        let (priority, tag) = match msg.severity {
            Severity::Critical => (5, "rotating_light"),
            Severity::Warning => (4, "warning"),
            Severity::Info => (3, "information_source"),
        };
        let mut message = msg.body.clone();
        if let Some(b) = msg.band_text() {
            message.push('\n');
            message.push_str(&b);
        }
        let mut body = json!({
            "topic": topic,
            "title": cut(&msg.title, 250),
            "message": cut(&message, 4000),
            "priority": priority,
            "tags": [tag, "cliffwatch"],
        });
        if let Some(top_up) = &msg.top_up_url {
            body["click"] = json!(top_up);
            body["actions"] = json!([{
                "action": "view",
                "label": "Top up",
                "url": top_up,
                "clear": true,
            }]);
        }
        Ok(Outgoing::Http(
            Request::new(reqwest::Method::POST, root).json_body(&body),
        ))
    }
}
