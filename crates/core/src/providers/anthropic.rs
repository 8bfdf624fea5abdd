//! Anthropic (spend only). There is no balance endpoint: the Admin API cost report
//! (`GET /v1/organizations/cost_report`, daily buckets, paginated) gives spend as **decimal
//! strings in cents** (`"123.45"` = $1.23), and remaining = the budget entered on the account −
//! spend since the budget was set. Priority Tier costs are not in this report.

use super::cost_report::CostReport;
use super::{
    as_number, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};

/// The API version header Anthropic requires on every call.
const API_VERSION: &str = "2023-06-01";
/// 31 daily buckets is the maximum page; 160 pages is 13 years, a bound on a server cursor.
const PAGE_LIMIT: u32 = 31;
const MAX_PAGES: usize = 160;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "anthropic",
    name: "Anthropic",
    category: Category::SpendOnly,
    default_base_url: "https://api.anthropic.com",
    units: "USD spend (remaining = your budget − spend)",
    key_help: "admin key (sk-ant-admin…); set --budget",
    top_up_url: "https://console.anthropic.com/settings/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Anthropic;

#[async_trait::async_trait]
impl Provider for Anthropic {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let (budget, since) = super::budget(ctx)?;
        let key = ctx.secret()?.expose();
        let starting_at = since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let report = CostReport {
            path: "/v1/organizations/cost_report",
            start: ("starting_at", &starting_at),
            page_limit: PAGE_LIMIT,
            max_pages: MAX_PAGES,
        };
        let request = |url| {
            Request::get(url)
                .secret_header("x-api-key", key)
                .header("anthropic-version", API_VERSION)
        };
        let spend = report
            .sum(ctx, http, request, |r| {
                let cents = r
                    .get("amount")
                    .and_then(as_number)
                    .ok_or_else(|| ctx.missing("data[].results[].amount"))?;
                Ok((cents, r.get("currency").and_then(|v| v.as_str())))
            })
            .await?;
        let unit = spend.currency.as_deref().unwrap_or("usd");
        Ok(super::spend_reading(budget, spend.amount / 100.0, unit))
    }
}
