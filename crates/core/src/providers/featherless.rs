//! Featherless. `GET /credits/balance` with `Authorization: Bearer <key>` (featherless.ai/docs,
//! "/credits"): the key must belong to an organization Admin (the route checks
//! `manage_billing`; Editor/Developer/Viewer keys get a 403 `organization_permission_denied`).
//! Every amount is a string; `*_nano_usd` are exact integers in billionths of a dollar, `*_usd`
//! the same as decimals for display: `balance` is the credit on the account, `reserved` is held
//! for requests in flight, `available` = what new requests can spend. Remaining is `available`.
//! Only organizations on request pricing (the Developer plan) have a prepaid balance.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "featherless",
    name: "Featherless",
    category: Category::Llm,
    default_base_url: "https://api.featherless.ai",
    units: "USD",
    key_help: "an API key created by an organization Admin (manage_billing); keys of Editor, \
               Developer or Viewer members are refused",
    top_up_url: "https://featherless.ai/account/billing",
    // No documented limit for /credits/balance.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

const NANO: f64 = 1e9;

#[derive(Debug)]
pub struct Featherless;

#[async_trait::async_trait]
impl Provider for Featherless {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let url = ctx.url("/credits/balance")?;
        let json = ctx
            .fetch_json(http, Request::get(url).bearer(ctx.secret()?.expose()))
            .await?;
        // The nano figures are the exact ones; the decimal copies only stand in when absent.
        let usd = |field: &str| {
            number_at(&json, &format!("/{field}_nano_usd"))
                .map(|n| n / NANO)
                .or_else(|| number_at(&json, &format!("/{field}_usd")))
        };
        let available = usd("available");
        let reserved = usd("reserved").filter(|r| *r != 0.0);
        let note = match (available, reserved) {
            (None, _) => Some("Featherless's answer had no available balance: unknown".into()),
            (Some(_), Some(r)) => Some(format!("{r} USD reserved for requests in flight")),
            (Some(_), None) => None,
        };
        let currency = json
            .get("currency")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()));
        Ok(Reading {
            remaining: available,
            note,
            ..Reading::new(currency.map(Unit::currency).unwrap_or_else(Unit::usd))
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

    const PATH: &str = "/credits/balance";

    #[tokio::test]
    async fn nano_usd_strings_become_dollars() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("featherless", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("featherless", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_close(r.remaining, 42.488, "available_nano_usd \"42488000000\"");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(
            r.note.as_deref(),
            Some("0.012 USD reserved for requests in flight"),
            "the reservation is named, not subtracted twice"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn a_missing_available_figure_is_unknown_not_zero() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(wiremock::ResponseTemplate::new(200).set_body_raw(
                r#"{"balance_nano_usd":"1000000000","currency":"usd"}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("featherless", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, None, "partial, never a fabricated 0");
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
            ("forbidden", "forbidden"),
        ] {
            let server = serve(PATH, "featherless", file).await;
            let e = poll("featherless", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
