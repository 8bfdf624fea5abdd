//! Bright Data. `GET /customer/balance` with `Authorization: Bearer <API token>` answers
//! `{"balance":456,"pending_balance":123}` in USD: `balance` is the money in the account,
//! `pending_balance` what the current cycle will bill. What is really left is the difference,
//! so that is the reading's `remaining`, with the pending amount as `used`. No out-of-credit
//! answer is documented: the status code decides (402 is out of credit).

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "brightdata",
    name: "Bright Data",
    category: Category::Scraping,
    default_base_url: "https://api.brightdata.com",
    units: "USD",
    key_help: "API token (account settings)",
    top_up_url: "https://brightdata.com/cp/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct BrightData;

#[async_trait::async_trait]
impl Provider for BrightData {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/customer/balance")?)
            .bearer(ctx.secret()?.expose())
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let balance = ctx.number(&json, "/balance")?;
        let pending = super::number_at(&json, "/pending_balance");
        Ok(Reading {
            remaining: Some(balance - pending.unwrap_or(0.0)),
            used: pending,
            note: Some(format!(
                "balance {balance} USD minus {} USD pending this cycle",
                pending.unwrap_or(0.0)
            )),
            ..Reading::new(Unit::usd())
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn remaining_is_balance_minus_pending_and_the_token_is_a_bearer() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/customer/balance"))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("brightdata", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("brightdata", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_close(r.remaining, 333.33, "456.78 − 123.45 pending");
        assert_eq!(
            r.used,
            Some(123.45),
            "pending_balance is spend not yet billed"
        );
        assert_eq!(r.limit, None, "a wallet has no limit");
        assert_eq!(r.unit.as_str(), "usd");
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn failures_fall_back_to_the_status_code() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/customer/balance", "brightdata", file).await;
            let e = poll("brightdata", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
            if file == "rate_limited" {
                assert!(
                    matches!(e, super::PollError::RateLimited { retry_after: Some(d), .. } if d.as_secs() == 60),
                    "Retry-After reaches the scheduler: {e:?}"
                );
            }
        }
    }
}
