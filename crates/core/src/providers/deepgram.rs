//! Deepgram. `GET /v1/projects/{project_id}/balances` with `Authorization: Token <key>` (not
//! Bearer) → `balances[] {amount, units}`. A project can hold several balances (credits from
//! different purchases); amounts in the same unit add up.

use super::{
    as_number, Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "deepgram",
    name: "Deepgram",
    category: Category::Llm,
    default_base_url: "https://api.deepgram.com",
    units: "USD",
    key_help: "API key with access to the project",
    top_up_url: "https://console.deepgram.com/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "project_id",
        label: "Project ID",
        required: true,
    }],
};

#[derive(Debug)]
pub struct Deepgram;

#[async_trait::async_trait]
impl Provider for Deepgram {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let project = ctx.option("project_id")?;
        let mut url = ctx.url("/v1/projects")?;
        url.path_segments_mut()
            .map_err(|_| ctx.missing("base URL path"))?
            .push(project)
            .push("balances");
        let req = Request::get(url)
            .secret_header("Authorization", format!("Token {}", ctx.secret()?.expose()));
        let json = ctx.fetch_json(http, req).await?;
        let balances = json
            .get("balances")
            .and_then(|v| v.as_array())
            .ok_or_else(|| ctx.missing("balances"))?;
        let mut unit: Option<Unit> = None;
        let mut total = 0.0;
        let mut skipped = Vec::new();
        for b in balances {
            let amount = b
                .get("amount")
                .and_then(as_number)
                .ok_or_else(|| ctx.missing("balances[].amount"))?;
            let u = Unit::currency(b.get("units").and_then(|v| v.as_str()).unwrap_or("usd"));
            match &unit {
                None => {
                    unit = Some(u);
                    total += amount;
                }
                Some(first) if *first == u => total += amount,
                Some(_) => skipped.push(format!("{amount} {u}")),
            }
        }
        Ok(Reading {
            remaining: Some(total),
            note: (!skipped.is_empty()).then(|| format!("also: {}", skipped.join(", "))),
            ..Reading::new(unit.unwrap_or_else(Unit::usd))
        })
    }
}
