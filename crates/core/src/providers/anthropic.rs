//! Anthropic (spend only). There is no balance endpoint: the Admin API cost report
//! (`GET /v1/organizations/cost_report`, daily buckets, paginated) gives spend as **decimal
//! strings in cents** (`"123.45"` = $1.23), and remaining = the budget entered on the account −
//! spend since the budget was set. Priority Tier costs are not in this report.

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
        let mut cents = 0.0;
        let mut currency: Option<String> = None;
        let mut page: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let mut url = ctx.url("/v1/organizations/cost_report")?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair("starting_at", &starting_at)
                    .append_pair("bucket_width", "1d")
                    .append_pair("limit", &PAGE_LIMIT.to_string());
                if let Some(p) = &page {
                    q.append_pair("page", p);
                }
            }
            let req = Request::get(url)
                .secret_header("x-api-key", key)
                .header("anthropic-version", API_VERSION);
            let json = ctx.fetch_json(http, req).await?;
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
                    cents += r
                        .get("amount")
                        .and_then(as_number)
                        .ok_or_else(|| ctx.missing("data[].results[].amount"))?;
                    if currency.is_none() {
                        currency = r
                            .get("currency")
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
                let unit = currency.as_deref().unwrap_or("usd");
                return Ok(super::spend_reading(budget, cents / 100.0, unit));
            }
        }
        Err(PollError::BadResponse {
            message: format!(
                "Anthropic's cost report did not end after {MAX_PAGES} pages: set a newer budget date with `account edit --budget`"
            ),
        })
    }
}
