//! ZenMux. `GET /api/v1/management/payg/balance` (management key) →
//! `data {currency, total_credits, top_up_credits, bonus_credits}`; credits are money in
//! `currency` (USD).

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "zenmux",
    name: "ZenMux",
    category: Category::Llm,
    default_base_url: "https://zenmux.ai",
    units: "USD",
    key_help: "management key",
    top_up_url: "https://zenmux.ai/settings/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct ZenMux;

#[async_trait::async_trait]
impl Provider for ZenMux {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/api/v1/management/payg/balance")?)
            .bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        if json.get("success").and_then(|v| v.as_bool()) == Some(false) {
            return Err(ctx.missing("data (success: false)"));
        }
        let total = ctx.number(&json, "/data/total_credits")?;
        let currency = json
            .pointer("/data/currency")
            .and_then(|v| v.as_str())
            .unwrap_or("usd");
        Ok(Reading {
            remaining: Some(total),
            ..Reading::new(Unit::currency(currency))
        })
    }
}
