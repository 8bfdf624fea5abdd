//! ElevenLabs. `GET /v1/user/subscription` with `xi-api-key` → `character_limit` (allowance),
//! `character_count` (used this period), `next_character_count_reset_unix`. Characters.
//!
//! A key can be restricted per endpoint: one without the `user_read` permission this endpoint
//! needs gets 401 `{"detail": {"status": "missing_permissions", "message": "The API key you
//! used is missing the permission user_read to execute this operation."}}`; the message then
//! names the permission to add rather than calling the key invalid.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "elevenlabs",
    name: "ElevenLabs",
    category: Category::Llm,
    default_base_url: "https://api.elevenlabs.io",
    units: "characters (credits)",
    key_help: "API key (xi-api-key)",
    top_up_url: "https://elevenlabs.io/app/subscription",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ElevenLabs;

#[async_trait::async_trait]
impl Provider for ElevenLabs {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v1/user/subscription")?)
            .secret_header("xi-api-key", ctx.secret()?.expose());
        let json = match ctx.fetch_json(http, req).await {
            Err(PollError::InvalidKey {
                status,
                classification,
                ..
            }) if classification.code.as_deref() == Some("missing_permissions") => {
                let permission = missing_permission(classification.message.as_deref());
                let hint = ctx
                    .account
                    .secret_hint
                    .as_deref()
                    .map(|h| format!(" ending {h}"))
                    .unwrap_or_default();
                return Err(PollError::InvalidKey {
                    status,
                    classification,
                    message: format!(
                        "ElevenLabs accepted the key{hint} but it lacks the `{permission}` permission the subscription endpoint needs (HTTP {status}, missing_permissions): enable it for the key at https://elevenlabs.io/app/settings/api-keys, then edit the account"
                    ),
                });
            }
            r => r?,
        };
        let limit = ctx.number(&json, "/character_limit")?;
        let used = ctx.number(&json, "/character_count")?;
        let resets_at = json
            .get("next_character_count_reset_unix")
            .and_then(|v| v.as_i64())
            .and_then(|s| chrono::DateTime::from_timestamp(s, 0));
        Ok(Reading {
            limit: Some(limit),
            used: Some(used),
            resets_at,
            ..Reading::new(Unit::parse(Unit::CHARACTERS).expect("a known unit"))
        }
        .derive_remaining())
    }
}

/// The permission named in "… missing the permission user_read to execute …"; `user_read`,
/// which `/v1/user/subscription` needs, when the text names none.
fn missing_permission(message: Option<&str>) -> String {
    let mut words = message.unwrap_or("").split_whitespace();
    while let Some(w) = words.next() {
        if w.eq_ignore_ascii_case("permission") {
            if let Some(p) = words.next() {
                let p: String = p
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .take(64)
                    .collect();
                if !p.is_empty() {
                    return p;
                }
            }
        }
    }
    "user_read".into()
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;

    #[tokio::test]
    async fn elevenlabs_missing_permissions_names_user_read() {
        let server = serve("/v1/user/subscription", "elevenlabs", "missing_permissions").await;
        let e = poll("elevenlabs", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "invalid_key");
        let m = e.to_string();
        assert!(
            m.contains("lacks the `user_read` permission"),
            "a scoped key needs a permission, not a new key: {m}"
        );
    }

    #[test]
    fn the_permission_is_read_from_the_message_or_defaults_to_user_read() {
        assert_eq!(
            super::missing_permission(Some(
                "The API key you used is missing the permission voices_read to execute this operation."
            )),
            "voices_read"
        );
        assert_eq!(super::missing_permission(Some("nope")), "user_read");
        assert_eq!(super::missing_permission(None), "user_read");
    }
}
