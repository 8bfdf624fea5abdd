//! Cloudflare AI Gateway (Unified Billing credits).
//! `GET /client/v4/accounts/{account_id}/ai-gateway/billing/credit-balance` with an API token
//! (`Authorization: Bearer`, AI Gateway Read or Write) → Cloudflare's usual envelope
//! `{"success", "errors", "result": {"balance", "has_default_payment_method", "payment_method",
//! "topup_config": {"amount", "threshold", "disabledReason", "error", "lastFailedAt"},
//! "first_topup_success"}}` (JSON names from the cloudflare-go SDK's `ai_gateway/billing.go`).
//!
//! Units: the SDK documents top-up `amount` and `threshold` in cents (minimums 1000 and 500),
//! and says nothing of `balance`'s unit; a public client reads `balance` as cents too
//! (`1234` → $12.34), which matches Cloudflare's other billing amounts. So all three are read as
//! USD cents — an inference from those sources, not a documented fact. The auto top-up
//! threshold goes in the note: with auto top-up on, the balance refills at the threshold
//! instead of reaching zero.

use super::{
    number_at, Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "cloudflare_ai_gateway",
    name: "Cloudflare AI Gateway",
    category: Category::Llm,
    default_base_url: "https://api.cloudflare.com",
    units: "USD",
    key_help: "a Cloudflare API token with AI Gateway Read (or Write) on the account, plus the \
               account ID",
    top_up_url: "https://dash.cloudflare.com/?to=/:account/ai/ai-gateway",
    // Cloudflare's API allows 1,200 requests per 5 minutes per account, shared with every other
    // tool on it: the polite default, not the most the limit would allow.
    min_poll_interval_s: super::DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "account_id",
        label: "Account ID",
        required: true,
    }],
};

#[derive(Debug)]
pub struct CloudflareAiGateway;

#[async_trait::async_trait]
impl Provider for CloudflareAiGateway {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        match options.get("account_id").and_then(|v| v.as_str()).map(str::trim) {
            Some(a) if !a.is_empty() => Ok(()),
            _ => Err(
                "Cloudflare AI Gateway needs the account ID (dashboard → account home): set it with --option account_id=…"
                    .into(),
            ),
        }
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let account = ctx.option("account_id")?;
        let mut url = ctx.url("/client/v4/accounts")?;
        url.path_segments_mut()
            .map_err(|_| ctx.missing("base URL path"))?
            .push(account)
            .push("ai-gateway")
            .push("billing")
            .push("credit-balance");
        let req = Request::get(url).bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        let result = json
            .get("result")
            .filter(|r| r.is_object())
            .ok_or_else(|| ctx.missing("result"))?;
        let remaining = number_at(result, "/balance").map(|cents| cents / 100.0);
        let mut notes = Vec::new();
        if remaining.is_none() {
            notes.push("Cloudflare's answer had no usable balance: unknown".to_owned());
        }
        notes.extend(topup_note(result));
        Ok(Reading {
            remaining,
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            ..Reading::new(Unit::usd())
        })
    }
}

/// What the auto top-up will do, from `topup_config` (cents): the threshold is where the cliff
/// is replaced by a refill, unless the top-up is disabled or failing.
fn topup_note(result: &serde_json::Value) -> Option<String> {
    let cfg = result.get("topup_config").filter(|c| c.is_object())?;
    let text = |k: &str| {
        cfg.get(k)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let threshold = number_at(cfg, "/threshold").map(|c| c / 100.0);
    let amount = number_at(cfg, "/amount").map(|c| c / 100.0);
    if let Some(reason) = text("disabledReason") {
        return Some(format!("auto top-up disabled: {}", clip(reason)));
    }
    if let Some(err) = text("error") {
        return Some(format!("auto top-up failing: {}", clip(err)));
    }
    match (threshold, amount) {
        (Some(t), Some(a)) => Some(format!("auto top-up of {a} USD when below {t} USD")),
        (Some(t), None) => Some(format!("auto top-up when below {t} USD")),
        _ => None,
    }
}

/// Untrusted text in a note: at most 120 characters, cut on a char boundary.
fn clip(s: &str) -> String {
    let mut t: String = s.chars().filter(|c| !c.is_control()).take(120).collect();
    if s.chars().count() > 120 {
        t.push('…');
    }
    t
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer};

    const PATH: &str = "/client/v4/accounts/acc-123/ai-gateway/billing/credit-balance";
    const ID: &str = "cloudflare_ai_gateway";

    fn acc() -> serde_json::Value {
        serde_json::json!({"account_id": "acc-123"})
    }

    #[tokio::test]
    async fn cents_become_dollars_and_the_top_up_threshold_is_named() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path(PATH))
            .and(header("authorization", format!("Bearer {KEY}").as_str()))
            .respond_with(fixture(ID, "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll(ID, &server, acc()).await.unwrap();
        assert_close(r.remaining, 12.34, "balance 1234 cents");
        assert_eq!(r.unit.as_str(), "usd");
        assert_eq!(
            r.note.as_deref(),
            Some("auto top-up of 10 USD when below 5 USD"),
            "topup_config amount 1000 / threshold 500 cents"
        );
        assert_key_only_in(&server, Place::Header("authorization")).await;
    }

    #[test]
    fn a_disabled_top_up_says_why_and_is_bounded() {
        let long = "x".repeat(500);
        let j = serde_json::json!({"topup_config": {"amount": 1000, "threshold": 500,
            "disabledReason": long, "error": null, "lastFailedAt": null}});
        let n = super::topup_note(&j).unwrap();
        assert!(n.starts_with("auto top-up disabled: "));
        assert!(n.chars().count() < 150, "untrusted text is clipped: {n}");
        let none = serde_json::json!({"topup_config": {"amount": null, "threshold": null}});
        assert_eq!(super::topup_note(&none), None, "no auto top-up configured");
    }

    #[tokio::test]
    async fn failures_are_classified() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(PATH, ID, file).await;
            let e = poll(ID, &server, acc()).await.unwrap_err();
            assert_kind(&e, kind);
        }
    }

    #[tokio::test]
    async fn without_account_id_is_a_config_error() {
        let server = serve(PATH, ID, "success").await;
        let e = poll(ID, &server, serde_json::json!({})).await.unwrap_err();
        assert_kind(&e, "config");
        assert!(e.to_string().contains("--option account_id="), "{e}");
    }
}
