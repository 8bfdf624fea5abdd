//! ElevenLabs. `GET /v1/user/subscription` with `xi-api-key` → `character_limit` (allowance),
//! `character_count` (used this period), `next_character_count_reset_unix`. Characters.

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
        let json = ctx.fetch_json(http, req).await?;
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
