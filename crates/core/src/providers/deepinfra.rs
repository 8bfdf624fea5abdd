//! DeepInfra. `GET /payment/checklist?compute_owed=true` → `stripe_balance`, where a negative
//! value is prepaid money available (−12.5 = $12.50 left) and a positive one is owed.
//!
//! `limit` is the user's spending limit on the billing cycle's spend (`recent`), not a ceiling
//! of the prepaid balance, so it is named in the note and never used as the reading's limit.
//! `suspended: true` means the account cannot spend: that is the cliff itself, reported as out
//! of credit with DeepInfra's `suspend_reason` (CodexBar `docs/deepinfra.md`).
use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::classify::Classification;
use crate::http::{Http, Request};
use crate::model::{Outcome, Unit};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "deepinfra",
    name: "DeepInfra",
    category: Category::Llm,
    default_base_url: "https://api.deepinfra.com",
    units: "USD",
    key_help: "API key",
    top_up_url: "https://deepinfra.com/dash/billing",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct DeepInfra;

#[async_trait::async_trait]
impl Provider for DeepInfra {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/payment/checklist?compute_owed=true")?)
            .bearer(ctx.secret()?.expose());
        let json = ctx.fetch_json(http, req).await?;
        if json.get("suspended").and_then(|v| v.as_bool()) == Some(true) {
            return Err(suspended(&json));
        }
        let balance = ctx.number(&json, "/stripe_balance")?;
        let note = number_at(&json, "/limit").filter(|l| *l > 0.0).map(|l| {
            match number_at(&json, "/recent") {
                Some(r) => format!("spending limit {l} USD per billing cycle, {r} spent"),
                None => format!("spending limit {l} USD per billing cycle"),
            }
        });
        Ok(Reading {
            remaining: Some(-balance),
            note,
            ..Reading::new(Unit::usd())
        })
    }
}

/// The out-of-credit error for a suspended account, quoting DeepInfra's reason (untrusted
/// text: redacted and cut to 200 characters).
fn suspended(json: &serde_json::Value) -> PollError {
    let reason = json
        .get("suspend_reason")
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| crate::redact::redact_text(&s.chars().take(200).collect::<String>()));
    let why = reason
        .as_deref()
        .map(|r| format!(": \"{r}\""))
        .unwrap_or_default();
    PollError::OutOfCredit {
        status: 200,
        message: format!(
            "DeepInfra has suspended the account, so calls are refused{why}: top up or settle the balance at {}",
            INFO.top_up_url
        ),
        classification: Box::new(Classification {
            outcome: Outcome::OutOfCredit,
            retry_after: None,
            transient: false,
            code: Some("suspended".into()),
            message: reason,
            quota: None,
            payment: None,
        }),
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;

    const PATH: &str = "/payment/checklist";

    #[tokio::test]
    async fn deepinfra_limit_caps_cycle_spend_not_the_prepaid_balance() {
        let server = serve(PATH, "deepinfra", "success").await;
        let r = poll("deepinfra", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.remaining,
            Some(12.5),
            "stripe_balance −12.5 is $12.50 left"
        );
        assert_eq!(
            r.limit, None,
            "limit 100 caps the cycle's spend; it is not what the $12.50 is a part of"
        );
        assert_eq!(
            r.note.as_deref(),
            Some("spending limit 100 USD per billing cycle, 0.37 spent")
        );
    }

    #[tokio::test]
    async fn deepinfra_suspended_means_out_of_credit() {
        let server = serve(PATH, "deepinfra", "suspended").await;
        let e = poll("deepinfra", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "out_of_credit");
        let m = e.to_string();
        assert!(m.contains("suspended"), "says why: {m}");
        assert!(m.contains("insufficient balance"), "quotes the reason: {m}");
    }
}
