//! Venice AI. `GET /api/v1/billing/balance` → `consumptionCurrency` (what calls are paid in:
//! `USD` or `DIEM`), `balances {usd, diem}`, `canConsume`. DIEM is Venice's own token, counted
//! as credits here (it is not a currency code).

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "venice",
    name: "Venice AI",
    category: Category::Llm,
    default_base_url: "https://api.venice.ai",
    units: "USD or DIEM",
    key_help: "API key",
    top_up_url: "https://venice.ai/settings/api",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Venice;

#[async_trait::async_trait]
impl Provider for Venice {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/api/v1/billing/balance")?).bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let currency = json
            .get("consumptionCurrency")
            .and_then(|v| v.as_str())
            .unwrap_or("USD")
            .to_ascii_lowercase();
        let (remaining, unit) = match currency.as_str() {
            "diem" => (ctx.number(&json, "/balances/diem")?, Unit::credits()),
            _ => (ctx.number(&json, "/balances/usd")?, Unit::usd()),
        };
        let mut notes = Vec::new();
        if unit == Unit::credits() {
            notes.push("DIEM".to_owned());
        }
        if json.get("canConsume").and_then(|v| v.as_bool()) == Some(false) {
            notes.push("Venice says this key cannot consume now".to_owned());
        }
        if let Some(alloc) = number_at(&json, "/diemEpochAllocation") {
            notes.push(format!("DIEM epoch allocation {alloc}"));
        }
        Ok(Reading {
            remaining: Some(remaining),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            ..Reading::new(unit)
        })
    }
}
