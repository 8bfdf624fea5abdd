//! Runpod. `POST /graphql` with `{"query": "query { myself { clientBalance currentSpendPerHr } }"}`
//! and `Authorization: Bearer <API key>` → `{"data": {"myself": {"clientBalance": 12.3,
//! "currentSpendPerHr": 0.79}}}`, both USD. The query and field names come from public clients
//! (a FlowLauncher plugin, runpod clients), not from a documented REST reference; `clientBalance`
//! is the prepaid balance. `currentSpendPerHr` is a burn rate, which the reading has no field
//! for, so it goes in the note. A GraphQL answer can be HTTP 200 with `errors` and
//! `myself: null` when the key is not accepted (runpodctl's "data is nil"); that is a rejected
//! key, not a zero balance.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::classify::Classification;
use crate::http::{Http, Method, Request};
use crate::model::{Outcome, Unit};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "runpod",
    name: "Runpod",
    category: Category::Llm,
    default_base_url: "https://api.runpod.io",
    units: "USD",
    key_help: "an API key from runpod.io/console/user/settings (read access is enough)",
    top_up_url: "https://www.runpod.io/console/user/billing",
    // No documented limit for the GraphQL API.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

const QUERY: &str = "query { myself { clientBalance currentSpendPerHr } }";

#[derive(Debug)]
pub struct Runpod;

#[async_trait::async_trait]
impl Provider for Runpod {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let url = ctx.url("/graphql")?;
        let req = Request::new(Method::POST, url)
            .bearer(ctx.secret()?.expose())
            .json_body(&serde_json::json!({ "query": QUERY }));
        let json = ctx.fetch_json(http, req).await?;
        let myself = json.pointer("/data/myself").filter(|m| m.is_object());
        let Some(myself) = myself else {
            return Err(graphql_error(ctx, &json));
        };
        let balance = number_at(myself, "/clientBalance");
        let burn = number_at(myself, "/currentSpendPerHr");
        let note = match (balance, burn) {
            (None, _) => Some("Runpod's answer had no clientBalance: balance unknown".into()),
            (Some(_), Some(b)) => Some(format!("spending {b} USD/hour now")),
            (Some(_), None) => None,
        };
        Ok(Reading {
            remaining: balance,
            note,
            ..Reading::new(Unit::usd())
        })
    }
}

/// A 200 without `data.myself`: GraphQL's way of saying the key was not accepted, or another
/// error it names.
fn graphql_error(ctx: &PollContext<'_>, json: &serde_json::Value) -> PollError {
    let message = json
        .pointer("/errors/0/message")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let unauthorized = message.as_deref().is_none_or(|m| {
        let m = m.to_ascii_lowercase();
        m.contains("unauthorized") || m.contains("authenticat") || m.contains("api key")
    });
    if !unauthorized {
        return ctx.missing("data.myself");
    }
    ctx.error_from(
        200,
        Classification {
            outcome: Outcome::Unauthorized,
            retry_after: None,
            transient: false,
            code: None,
            message: message.or_else(|| Some("data.myself is null".into())),
            quota: None,
            payment: None,
        },
    )
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{body_json, header, method, path};
    use wiremock::{Mock, MockServer};

    #[tokio::test]
    async fn reads_client_balance_and_names_the_burn_rate() {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/graphql"))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .and(body_json(serde_json::json!({"query": super::QUERY})))
            .respond_with(fixture("runpod", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("runpod", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(18.73), "myself.clientBalance");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(
            r.note.as_deref(),
            Some("spending 0.79 USD/hour now"),
            "currentSpendPerHr goes in the note; the reading has no burn field"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn a_null_myself_is_a_rejected_key_not_zero() {
        let server = serve("/graphql", "runpod", "invalid_key_graphql").await;
        let e = poll("runpod", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "invalid_key");
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/graphql", "runpod", file).await;
            let e = poll("runpod", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
