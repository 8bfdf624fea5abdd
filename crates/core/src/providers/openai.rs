//! OpenAI (spend only). There is no balance endpoint: the admin-key costs API
//! (`GET /v1/organization/costs`, daily buckets, paginated with `next_page`) gives spend, and
//! remaining = the budget entered on the account − spend since the budget was set.

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
        let mut spent = 0.0;
        let mut currency: Option<String> = None;
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = ctx.url("/v1/organization/costs")?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("start_time", &since.timestamp().to_string())
                    .append_pair("bucket_width", "1d")
                    .append_pair("limit", &PAGE_LIMIT.to_string());
                if let Some(p) = &page {
                    q.append_pair("page", p);
                }
            }
            let json = ctx.fetch_json(http, Request::get(url).bearer(key)).await?;
            let buckets = json
                .get("data")
                .and_then(|v| v.as_array())
                .ok_or_else(|| ctx.missing("data"))?;
            for bucket in buckets {
                let results = bucket
                    .get("results")
                    .and_then(|v| v.as_array())
                    .map(Vec::as_slice)
                    .unwrap_or(&[]);
                for r in results {
                    let value = r
                        .pointer("/amount/value")
                        .and_then(as_number)
                        .ok_or_else(|| ctx.missing("data[].results[].amount.value"))?;
                    spent += value;
                    if currency.is_none() {
                        currency = r
                            .pointer("/amount/currency")
                            .and_then(|v| v.as_str())
                            .map(str::to_owned);
                    }
                }
            }
            let more = json.get("has_more").and_then(|v| v.as_bool()) == Some(true);
            page = json
                .get("next_page")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            if !more || page.is_none() {
                return Ok(super::spend_reading(
                    budget,
                    spent,
                    currency.as_deref().unwrap_or("usd"),
                ));
            }
        }
        Err(PollError::BadResponse {
            message: format!(
                "OpenAI's cost report did not end after {MAX_PAGES} pages: set a newer budget date with `account edit --budget`"
            ),
        })
    }
}
