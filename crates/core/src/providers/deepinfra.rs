//! DeepInfra. `GET /payment/checklist?compute_owed=true` → `stripe_balance`, where a negative
//! value is prepaid money available (−12.5 = $12.50 left) and a positive one is owed; `limit` is
//! the account's spending limit and `suspended` says whether calls are refused.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "deepinfra",
    name: "DeepInfra",
    category: Category::Llm,
    default_base_url: "https://api.deepinfra.com",
    units: "USD",
    key_help: "API key",
    top_up_url: "https://deepinfra.com/dash/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct DeepInfra;

#[async_trait::async_trait]
impl Provider for DeepInfra {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/payment/checklist?compute_owed=true")?)
            .bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let balance = ctx.number(&json, "/stripe_balance")?;
        let suspended = json.get("suspended").and_then(|v| v.as_bool()) == Some(true);
        let note = suspended.then(|| {
            let why = json
                .get("suspend_reason")
                .and_then(|v| v.as_str())
                .unwrap_or("no reason given");
            format!("account suspended: {why}")
        });
        Ok(Reading {
            remaining: Some(-balance),
            limit: number_at(&json, "/limit"),
            note,
            ..Reading::new(Unit::usd())
        })
    }
}
