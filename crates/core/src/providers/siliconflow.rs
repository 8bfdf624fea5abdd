//! SiliconFlow. `GET /v1/user/info` → `data.totalBalance` (gift `balance` + paid
//! `chargeBalance`), strings. No currency field: api.siliconflow.cn prices in CNY,
//! api.siliconflow.com in USD.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "siliconflow",
    name: "SiliconFlow",
    category: Category::Llm,
    default_base_url: "https://api.siliconflow.cn",
    units: "CNY (.cn) or USD (.com host)",
    key_help: "API key",
    top_up_url: "https://cloud.siliconflow.cn/expensebill",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct SiliconFlow;

#[async_trait::async_trait]
impl Provider for SiliconFlow {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v1/user/info")?).bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let total = ctx.number(&json, "/data/totalBalance")?;
        let unit = if ctx.base_url.contains("siliconflow.com") {
            Unit::usd()
        } else {
            Unit::currency("cny")
        };
        Ok(Reading {
            remaining: Some(total),
            ..Reading::new(unit)
        })
    }
}
