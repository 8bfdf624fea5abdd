//! xAI (Grok API). The Management API's `GET /v1/billing/teams/{team_id}/prepaid/balance` ("List
//! prepaid credit balance and balance changes", docs.x.ai management billing reference) with
//! `Authorization: Bearer <management key>`: an inference key is refused. It answers a ledger,
//! `{"changes": [...], "total": {"val": "-1000"}}`, in USD cents as strings with the sign
//! inverted (a $10 top-up is `-1000`), so remaining = −total / 100. The sign and the unit come
//! from public clients (CodexBar `docs/xai.md` and others), not from the reference, which names
//! the endpoint only. The ledger is posted per billing period, so mid-cycle it can read higher
//! than the console's live balance; the reading says so.
//!
//! Out of credit shows on the inference API, not here: a 403 or 429 "Your team … has either used
//! all available credits or reached its monthly spending limit" (a classifier row).

use super::{
    number_at, Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "xai",
    name: "xAI",
    category: Category::Llm,
    default_base_url: "https://management-api.x.ai",
    units: "USD",
    key_help: "a Management API key (console.x.ai → Settings → Management Keys) with billing read \
               access, not an inference API key, plus the team ID",
    top_up_url: "https://console.x.ai/team/default/billing",
    // No documented limit for the Management API.
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "team_id",
        label: "Team ID",
        required: true,
    }],
};

#[derive(Debug)]
pub struct Xai;

#[async_trait::async_trait]
impl Provider for Xai {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        match options
            .get("team_id")
            .and_then(|v| v.as_str())
            .map(str::trim)
        {
            Some(t) if !t.is_empty() => Ok(()),
            _ => Err("xAI needs the team ID (console.x.ai team settings): set it with --option team_id=…".into()),
        }
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let team = ctx.option("team_id")?;
        let mut url = ctx.url("/v1/billing/teams")?;
        url.path_segments_mut()
            .map_err(|_| ctx.missing("base URL path"))?
            .push(team)
            .push("prepaid")
            .push("balance");
        let req = Request::get(url).bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        // The ledger counts top-ups as negative: −(−1000) cents is $10 left. A ledger without a
        // parseable total is unknown, never a $0.00 balance.
        let remaining = number_at(&json, "/total/val").map(|cents| -cents / 100.0);
        Ok(Reading {
            remaining,
            note: Some(if remaining.is_some() {
                "posted prepaid ledger: spend this billing cycle may not be deducted yet".into()
            } else {
                "xAI's ledger had no usable total.val: balance unknown".into()
            }),
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

    const PATH: &str = "/v1/billing/teams/team-123/prepaid/balance";

    fn team() -> serde_json::Value {
        serde_json::json!({"team_id": "team-123"})
    }

    #[tokio::test]
    async fn negated_cents_become_dollars_with_a_bearer_management_key() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture("xai", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("xai", &server, team()).await.unwrap();
        assert_close(
            r.remaining,
            42.5,
            "total.val \"-4250\" cents is $42.50 left",
        );
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(r.limit, None, "a prepaid ledger has no limit");
        assert!(
            r.note.unwrap().contains("posted"),
            "the ledger lag is named"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[tokio::test]
    async fn a_ledger_without_a_total_is_not_zero() {
        let server = MockServer::start().await;
        Mock::given(path(PATH))
            .respond_with(
                wiremock::ResponseTemplate::new(200)
                    .set_body_raw(r#"{"changes":[]}"#, "application/json"),
            )
            .mount(&server)
            .await;
        let r = poll("xai", &server, team()).await.unwrap();
        assert_eq!(
            r.remaining, None,
            "absent is partial, never a fabricated $0.00"
        );
        assert!(r.note.unwrap().contains("unknown"), "and says so");
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(PATH, "xai", file).await;
            let e = poll("xai", &server, team()).await.unwrap_err();
            assert_kind(&e, kind);
        }
    }

    #[tokio::test]
    async fn without_team_id_is_a_config_error() {
        let server = serve(PATH, "xai", "success").await;
        let e = poll("xai", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "config");
        assert!(
            e.to_string().contains("--option team_id="),
            "says how to fix it: {e}"
        );
    }
}
