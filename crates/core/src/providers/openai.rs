//! OpenAI (spend only). There is no balance endpoint: the admin-key costs API
//! (`GET /v1/organization/costs`, daily buckets, paginated with `next_page`) gives spend, and
//! remaining = the budget entered on the account − spend since the budget was set.

use super::cost_report::CostReport;
use super::{
    as_number, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};

/// 180 daily buckets is the API's maximum page; 24 pages is 12 years, a bound on a loop that
/// follows a server-given cursor.
const PAGE_LIMIT: u32 = 180;
const MAX_PAGES: usize = 24;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "openai",
    name: "OpenAI",
    category: Category::SpendOnly,
    default_base_url: "https://api.openai.com",
    units: "USD spend (remaining = your budget − spend)",
    key_help: "admin key (sk-admin-…), created by an organization owner; set --budget",
    top_up_url: "https://platform.openai.com/settings/organization/billing/overview",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct OpenAi;

#[async_trait::async_trait]
impl Provider for OpenAi {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let (budget, since) = super::budget(ctx)?;
        let key = ctx.secret()?.expose();
        let start_time = since.timestamp().to_string();
        let report = CostReport {
            path: "/v1/organization/costs",
            start: ("start_time", &start_time),
            page_limit: PAGE_LIMIT,
            max_pages: MAX_PAGES,
        };
        let spend = report
            .sum(
                ctx,
                http,
                |url| Request::get(url).bearer(key),
                |r| {
                    let value = r
                        .pointer("/amount/value")
                        .and_then(as_number)
                        .ok_or_else(|| ctx.missing("data[].results[].amount.value"))?;
                    Ok((value, r.pointer("/amount/currency").and_then(|v| v.as_str())))
                },
            )
            .await?;
        let unit = spend.currency.as_deref().unwrap_or("usd");
        Ok(super::spend_reading(budget, spend.amount, unit))
    }
}
