//! Novita AI. `GET /openapi/v1/billing/balance/detail` → strings in 1/10000 USD:
//! `availableBalance` (what can still be spent), `cashBalance`, `creditLimit`, `pendingCharges`.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

/// Novita reports money in units of 1/10000 USD.
const TEN_THOUSANDTHS: f64 = 10_000.0;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "novita",
    name: "Novita AI",
    category: Category::Llm,
    default_base_url: "https://api.novita.ai",
    units: "USD (reported in 1/10000 USD)",
    key_help: "API key",
    top_up_url: "https://novita.ai/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Novita;

#[async_trait::async_trait]
impl Provider for Novita {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/openapi/v1/billing/balance/detail")?)
            .bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let available = ctx.number(&json, "/availableBalance")? / TEN_THOUSANDTHS;
        let pending = number_at(&json, "/pendingCharges").map(|p| p / TEN_THOUSANDTHS);
        Ok(Reading {
            remaining: Some(available),
            note: pending
                .filter(|p| *p > 0.0)
                .map(|p| format!("pending charges {p} USD")),
            ..Reading::new(Unit::usd())
        })
    }
}
