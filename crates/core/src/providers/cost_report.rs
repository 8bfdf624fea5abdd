//! The paginated cost reports of the spend-only providers (OpenAI, Anthropic): daily buckets
//! under `data[]`, each with its line items under `results[]`, and a `has_more` / `next_page`
//! cursor. This module owns following the cursor and summing; an adapter only says how a page
//! is asked for and where a line item keeps its amount.

use super::{PollContext, PollError};
use crate::http::{Http, Request};
use url::Url;

/// Where one provider's cost report is and what every page asks for.
#[derive(Debug, Clone, Copy)]
pub struct CostReport<'a> {
    /// The endpoint (`/v1/organization/costs`), below the account's base URL.
    pub path: &'static str,
    /// The query parameter that starts the report and its value (`start_time`, a Unix time).
    pub start: (&'static str, &'a str),
    /// Daily buckets a page asks for: the API's largest page, so the cursor is followed
    /// as few times as it can be.
    pub page_limit: u32,
    /// A bound on a loop that follows a server-given cursor: the report's whole span over its
    /// largest page, with room to spare.
    pub max_pages: usize,
}

/// The sum of a cost report and the currency of its first line item that names one.
#[derive(Debug, Clone, PartialEq)]
pub struct Spend {
    pub amount: f64,
    pub currency: Option<String>,
}

impl CostReport<'_> {
    /// Follows the cursor from the first page to the last, sending each page's URL as
    /// `request` makes it (with the key), and sums what `cost` reads from every line item: its
    /// amount and, if it says, its currency.
    ///
    /// Pages go through [`PollContext::fetch_json`], so a refused page comes back classified
    /// with the key scrubbed from whatever the body said. A report that has not ended after
    /// `max_pages` pages is a bad response, not an endless loop.
    pub async fn sum<R, C>(
        &self,
        ctx: &PollContext<'_>,
        http: &Http,
        request: R,
        cost: C,
    ) -> Result<Spend, PollError>
    where
        R: Fn(Url) -> Request,
        C: Fn(&serde_json::Value) -> Result<(f64, Option<&str>), PollError>,
    {
        let mut amount = 0.0;
        let mut currency: Option<String> = None;
        let mut page: Option<String> = None;
        for _ in 0..self.max_pages {
            let mut url = ctx.url(self.path)?;
            {
                let mut q = url.query_pairs_mut();
                q.append_pair(self.start.0, self.start.1)
                    .append_pair("bucket_width", "1d")
                    .append_pair("limit", &self.page_limit.to_string());
                if let Some(p) = &page {
                    q.append_pair("page", p);
                }
            }
            let json = ctx.fetch_json(http, request(url)).await?;
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
                    let (value, unit) = cost(r)?;
                    amount += value;
                    if currency.is_none() {
                        currency = unit.map(str::to_owned);
                    }
                }
            }
            let more = json.get("has_more").and_then(|v| v.as_bool()) == Some(true);
            page = json
                .get("next_page")
                .and_then(|v| v.as_str())
                .map(str::to_owned);
            if !more || page.is_none() {
                return Ok(Spend { amount, currency });
            }
        }
        Err(PollError::BadResponse {
            message: format!(
                "{}'s cost report did not end after {} pages: set a newer budget date with `account edit --budget`",
                ctx.info.name, self.max_pages
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::providers::adapter_testkit::*;
    use serde_json::json;
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn a_cursor_that_never_ends_stops_at_the_page_bound() {
        let server = MockServer::start().await;
        let page = json!({
            "data": [{"results": [{"amount": {"value": 1.0, "currency": "usd"}}]}],
            "has_more": true,
            "next_page": "page_again",
        });
        Mock::given(path("/v1/organization/costs"))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .expect(24) // OpenAI's MAX_PAGES, then no further request
            .mount(&server)
            .await;
        let mut acc = account("openai", &server.uri(), json!({}));
        acc.budget = Some(50.0);
        acc.budget_set_at = Some(now() - chrono::Duration::days(7));
        let e = poll_account(&acc).await.unwrap_err();
        assert_kind(&e, "bad_response");
        assert!(
            e.to_string().contains("did not end after 24 pages")
                && e.to_string().contains("--budget"),
            "a server cursor that loops is an error that says what to do, not an endless poll: {e}"
        );
    }
}
