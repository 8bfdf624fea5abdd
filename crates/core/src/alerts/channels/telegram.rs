//! Telegram bots (<https://core.telegram.org/bots/api#sendmessage>): the secret is the bot
//! token, the chat id an option; `sendMessage` with plain text (no parse mode, so nothing in a
//! provider's text is markup) and an inline "Top up" URL button. The token is in the request's
//! path, so errors name only the host. A self-hosted Bot API server can stand in for
//! api.telegram.org (`--api-base`). Telegram answers `{"ok": true, …}`; a refusal is
//! `{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}`.

use super::{cut, AlertMessage, ChannelOptions, Format, Outgoing, Target, Verdict};
use crate::http::{Request, Response};
use crate::secrets::Secret;
use crate::{Error, Result};
use serde_json::json;

pub(super) struct Telegram;

const API: &str = "https://api.telegram.org";

/// A bot token: `<bot id>:<secret>`, as BotFather gives it.
fn token(secret: Option<&Secret>) -> Result<&str> {
    let t = secret.map(Secret::expose).unwrap_or_default();
    let ok = t.split_once(':').is_some_and(|(id, rest)| {
        !id.is_empty()
            && id.chars().all(|c| c.is_ascii_digit())
            && !rest.is_empty()
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    });
    if ok {
        Ok(t)
    } else {
        Err(Error::InvalidInput(
            "that is not a Telegram bot token: BotFather gives one like 123456789:AA…".into(),
        ))
    }
}

fn chat_id(options: &ChannelOptions) -> Result<&str> {
    options
        .chat_id
        .as_deref()
        .map(str::trim)
        .filter(|c| {
            !c.is_empty()
                && c.len() <= 64
                && (c.starts_with('@')
                    || c.trim_start_matches('-')
                        .chars()
                        .all(|d| d.is_ascii_digit()))
        })
        .ok_or_else(|| {
            Error::InvalidInput(
                "a Telegram channel needs --chat-id: a number (-100… for groups) or @channelname"
                    .into(),
            )
        })
}

fn api_base(options: &ChannelOptions) -> Result<url::Url> {
    let raw = options.api_base.as_deref().unwrap_or(API);
    let url = url::Url::parse(raw)
        .map_err(|_| Error::InvalidInput(format!("--api-base `{raw}` is not a URL")))?;
    if url.scheme() == "https" || (url.scheme() == "http" && crate::urls::is_loopback(&url)) {
        Ok(url)
    } else {
        Err(Error::InvalidInput(
            "--api-base must be https:// (or http:// on this machine)".into(),
        ))
    }
}

impl Format for Telegram {
    fn secret_is(&self) -> Option<&'static str> {
        Some("the bot token (from BotFather)")
    }

    fn check(&self, secret: Option<&Secret>, options: &ChannelOptions) -> Result<()> {
        token(secret)?;
        chat_id(options)?;
        api_base(options).map(drop)
    }

    fn build(&self, msg: &AlertMessage, target: &Target) -> Result<Outgoing> {
        let token = token(target.secret.as_ref())?;
        let mut url = api_base(&target.options)?;
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/bot{token}/sendMessage"));
        let mut body = json!({
            "chat_id": chat_id(&target.options)?,
            "text": cut(&msg.plain_text(), 4096),
            "link_preview_options": { "is_disabled": true },
        });
        if let Some(top_up) = &msg.top_up_url {
            body["reply_markup"] = json!({
                "inline_keyboard": [[{ "text": "Top up", "url": top_up }]],
            });
        }
        Ok(Outgoing::Http(
            Request::new(reqwest::Method::POST, url).json_body(&body),
        ))
    }

    fn judge_ok(&self, resp: &Response) -> Verdict {
        let v: serde_json::Value = serde_json::from_slice(&resp.body).unwrap_or_default();
        if v.get("ok").and_then(serde_json::Value::as_bool) == Some(true) {
            Verdict::Delivered
        } else {
            Verdict::Retry {
                after: None,
                error: format!("{} answered 2xx without \"ok\": true", resp.host),
            }
        }
    }
}
