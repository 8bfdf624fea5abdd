//! fal. `GET /v1/account/billing?expand=credits` with `Authorization: Key <admin key>` (fal's
//! Platform API reference, "Account Billing") → `{username, credits: {current_balance,
//! currency}}`. The key needs `billing:usage:read` (the ADMIN/BILLING presets); an
//! inference-only key gets a 403. Without `credits` in the answer the balance is unknown, never
//! zero. The account locks below a lock threshold: API calls then get a 403 "User is locked.
//! Reason: Exhausted balance" (a classifier row), and purchased credits expire after 365 days
//! (fal's FAQ).

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "fal",
    name: "fal",
    category: Category::Llm,
    default_base_url: "https://api.fal.ai",
    units: "USD",
    key_help: "an ADMIN-scoped (or BILLING) API key with billing:usage:read from \
               fal.ai/dashboard/keys; inference-only keys are refused",
    top_up_url: "https://fal.ai/dashboard/billing",
    // fal documents concurrency limits for inference, none for the Platform API.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct Fal;

#[async_trait::async_trait]
impl Provider for Fal {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let url = ctx.url("/v1/account/billing?expand=credits")?;
        let req = Request::get(url)
            .secret_header("Authorization", format!("Key {}", ctx.secret()?.expose()));
        let json = ctx.fetch_json(http, req).await?;
        let credits = json.get("credits").filter(|c| c.is_object());
        let remaining = credits.and_then(|c| number_at(c, "/current_balance"));
        let currency = credits
            .and_then(|c| c.get("currency"))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()));
        let note = match (credits, remaining) {
            (None, _) => Some("fal's answer had no credits block: balance unknown".into()),
            (Some(_), None) => Some("fal's credits block had no usable current_balance".into()),
            _ => None,
        };
        Ok(Reading {
            remaining,
            note,
            // The docs name the currency field but not its values; USD is fal's billing currency.
            ..Reading::new(currency.map(Unit::currency).unwrap_or_else(Unit::usd))
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{header, method, path, query_param};
    use wiremock::{Mock, MockServer};

    const PATH: &str = "/v1/account/billing";

    #[tokio::test]
    async fn reads_current_balance_with_key_auth() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(query_param("expand", "credits"))
            .and(header("authorization", format!("Key {KEY}").as_str()))
            .respond_with(fixture("fal", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("fal", &server, serde_json::json!({})).await.unwrap();
        assert_eq!(r.remaining, Some(23.47), "credits.current_balance");
        assert_eq!(r.unit.as_str(), "usd", "credits.currency USD");
        assert_eq!(r.note, None);
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn no_credits_block_is_unknown_not_zero() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(
                wiremock::ResponseTemplate::new(200)
                    .set_body_raw(r#"{"username":"acme"}"#, "application/json"),
            )
            .mount(&server)
            .await;
        let r = poll("fal", &server, serde_json::json!({})).await.unwrap();
        assert_eq!(r.remaining, None, "absent is partial, never a fabricated 0");
        assert!(r.note.unwrap().contains("unknown"));
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
            ("forbidden", "forbidden"),
        ] {
            let server = serve(PATH, "fal", file).await;
            let e = poll("fal", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
