//! OpenRouter. `GET /api/v1/key` works with any key and describes that key (its own limit and
//! usage); `GET /api/v1/credits` gives the account-wide balance and now needs a management key.
//! So: read `/key` first; when the key is a management key, or has no limit of its own (then
//! `/key` says nothing about money left), ask `/credits` as well, and fall back to the per-key
//! reading if `/credits` refuses an inference key (401/403).

use super::{
    next_reset, number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "openrouter",
    name: "OpenRouter",
    category: Category::Llm,
    default_base_url: "https://openrouter.ai",
    units: "USD",
    key_help: "API key (per-key limit via /api/v1/key) or management key (account credits via /api/v1/credits)",
    top_up_url: "https://openrouter.ai/settings/credits",
    // Credit values may be ~60 s stale on OpenRouter's side; polling faster shows nothing new.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct OpenRouter;

#[async_trait::async_trait]
impl Provider for OpenRouter {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let key = ctx.secret()?.expose();
        let json = ctx
            .fetch_json(http, Request::get(ctx.url("/api/v1/key")?).bearer(key))
            .await?;
        let data = json.get("data").ok_or_else(|| ctx.missing("data"))?;
        let is_management = ["/is_management_key", "/is_provisioning_key"]
            .iter()
            .any(|p| data.pointer(p).and_then(|v| v.as_bool()) == Some(true));
        let key_limit = number_at(data, "/limit");

        if is_management || key_limit.is_none() {
            let credits = ctx
                .fetch_json(http, Request::get(ctx.url("/api/v1/credits")?).bearer(key))
                .await;
            match credits {
                Ok(c) => {
                    let total = ctx.number(&c, "/data/total_credits")?;
                    let used = ctx.number(&c, "/data/total_usage")?;
                    return Ok(Reading {
                        remaining: Some(total - used),
                        limit: Some(total),
                        used: Some(used),
                        note: Some("account credits".into()),
                        ..Reading::new(Unit::usd())
                    });
                }
                // An inference key may not read /credits any more: keep the per-key reading.
                Err(PollError::InvalidKey { .. } | PollError::Forbidden { .. })
                    if !is_management => {}
                Err(e) => return Err(e),
            }
        }

        let period = data.get("limit_reset").and_then(|v| v.as_str());
        let used = match period {
            Some("daily") => number_at(data, "/usage_daily"),
            Some("weekly") => number_at(data, "/usage_weekly"),
            Some("monthly") => number_at(data, "/usage_monthly"),
            _ => number_at(data, "/usage"),
        };
        Ok(Reading {
            remaining: number_at(data, "/limit_remaining"),
            limit: key_limit,
            used,
            resets_at: period.and_then(|p| next_reset(ctx.now, p)),
            note: Some(match key_limit {
                // Such a key never asks /credits: the account can run dry before the key does.
                Some(_) => {
                    "per-key limit; account credits not checked (a management key reads them)"
                        .into()
                }
                None => "key without a limit; a management key reads the account balance".into(),
            }),
            ..Reading::new(Unit::usd())
        }
        .derive_remaining())
    }
}
