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
        let unit = unit_for(ctx.base_url);
        Ok(Reading {
            remaining: Some(total),
            ..Reading::new(unit)
        })
    }
}

/// USD on the international platform (api.siliconflow.com), CNY on the default .cn one.
fn unit_for(base_url: &str) -> Unit {
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(h) if h == "siliconflow.com" || h.ends_with(".siliconflow.com") => Unit::usd(),
        _ => Unit::currency("cny"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_decides_the_currency() {
        assert_eq!(
            super::unit_for("https://api.siliconflow.cn").as_str(),
            "cny"
        );
        assert_eq!(
            super::unit_for("https://api.siliconflow.com").as_str(),
            "usd"
        );
    }
}
