//! Moonshot AI (Kimi). `GET /v1/users/me/balance` → `data.available_balance` (cash + voucher;
//! at or below 0 the inference API refuses calls). USD on api.moonshot.ai, CNY on api.moonshot.cn
//! (keys are region-bound). `cash_balance` may be negative: that is debt, named in the note.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "moonshot",
    name: "Moonshot AI (Kimi)",
    category: Category::Llm,
    default_base_url: "https://api.moonshot.ai",
    units: "USD (.ai) or CNY (.cn host)",
    key_help: "API key; set --base-url https://api.moonshot.cn for the China platform",
    top_up_url: "https://platform.moonshot.ai/console/pay",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Moonshot;

#[async_trait::async_trait]
impl Provider for Moonshot {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v1/users/me/balance")?).bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let available = ctx.number(&json, "/data/available_balance")?;
        let unit = unit_for(ctx.base_url);
        let note = match number_at(&json, "/data/cash_balance") {
            Some(cash) if cash < 0.0 => Some(format!(
                "cash balance {cash} (debt); the rest is voucher credit"
            )),
            _ => None,
        };
        Ok(Reading {
            remaining: Some(available),
            note,
            ..Reading::new(unit)
        })
    }
}

/// CNY on the China platform (api.moonshot.cn), USD on the international one and elsewhere.
fn unit_for(base_url: &str) -> Unit {
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(h) if h == "moonshot.cn" || h.ends_with(".moonshot.cn") => Unit::currency("cny"),
        _ => Unit::usd(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_host_decides_the_currency() {
        assert_eq!(
            super::unit_for("https://api.moonshot.cn").as_str(),
            "cny",
            "China platform"
        );
        assert_eq!(
            super::unit_for("https://api.moonshot.ai").as_str(),
            "usd",
            "international"
        );
        assert_eq!(
            super::unit_for("https://evil.example/moonshot.cn").as_str(),
            "usd",
            "host, not path"
        );
    }
}
