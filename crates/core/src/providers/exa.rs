//! Exa (team credits through the Team Management API). Exa's reference documents "Get team
//! credits" on the Team Management API (`https://admin-api.exa.ai/team-management`, service key
//! in `x-api-key`) answering `{credits_usd, expiring_credits[], metadata}`: `credits_usd` is the
//! remaining prepaid USD including granted credits (for a team billed through its organization,
//! the billing team's), and requests are refused (402) once it reaches 0 unless overage is on.
//!
//! **The path is a guess.** The reference page shows the fields but not the route; this adapter
//! asks `GET /team-management/credits`, next to the documented `/team-management/api-keys`. If
//! Exa's route differs, point the account's base URL at it (the base URL is overridable, and
//! the path is appended to it). The Team Management API is enabled per team by Exa support and
//! takes a *service* key from the Service keys tab, never an ordinary search key.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "exa",
    name: "Exa",
    category: Category::Search,
    default_base_url: "https://admin-api.exa.ai",
    units: "USD",
    key_help: "a Team Management service key (dashboard.exa.ai/api-keys → Service keys, once Exa \
               support enables the Team Management API for the team); search API keys are refused",
    top_up_url: "https://dashboard.exa.ai/billing",
    // Exa documents search QPS limits, none for the Team Management API.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

/// Guessed route (see the module docs).
const PATH: &str = "/team-management/credits";

#[derive(Debug)]
pub struct Exa;

#[async_trait::async_trait]
impl Provider for Exa {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let url = ctx.url(PATH)?;
        let req = Request::get(url).secret_header("x-api-key", ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let remaining = number_at(&json, "/credits_usd");
        let expiring = json
            .get("expiring_credits")
            .and_then(|v| v.as_array())
            .map(Vec::len)
            .unwrap_or(0);
        let note = match (remaining, expiring) {
            (None, _) => Some("Exa's answer had no usable credits_usd: balance unknown".into()),
            (Some(_), 0) => None,
            (Some(_), n) => Some(format!(
                "{n} credit grant(s) with an expiry date; the soonest are spent first"
            )),
        };
        Ok(Reading {
            remaining,
            note,
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
    async fn reads_credits_usd_with_the_service_key_header() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(super::PATH))
            .and(header("x-api-key", KEY))
            .respond_with(fixture("exa", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("exa", &server, serde_json::json!({})).await.unwrap();
        assert_eq!(r.remaining, Some(87.5), "credits_usd");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(
            r.note.as_deref(),
            Some("2 credit grant(s) with an expiry date; the soonest are spent first")
        );
        assert_key_only_in(&server, Place::Header("x-api-key")).await;
    }

    #[tokio::test]
    async fn a_missing_credits_figure_is_unknown_not_zero() {
        let server = MockServer::start().await;
        Mock::given(path(super::PATH))
            .respond_with(
                wiremock::ResponseTemplate::new(200)
                    .set_body_raw(r#"{"metadata":{}}"#, "application/json"),
            )
            .mount(&server)
            .await;
        let r = poll("exa", &server, serde_json::json!({})).await.unwrap();
        assert_eq!(r.remaining, None);
        assert!(r.note.unwrap().contains("unknown"));
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(super::PATH, "exa", file).await;
            let e = poll("exa", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }
}
