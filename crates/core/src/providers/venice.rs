//! Venice AI. `GET /api/v1/billing/balance` (an **admin** key: an inference key gets 401
//! "Admin API key required") → `consumptionCurrency`, `balances {diem, earnedCredits,
//! bundledCredits, usd}`, `canConsume`, `diemEpochAllocation`.
//!
//! Venice spends the buckets in the order DIEM → EARNED_CREDITS → BUNDLED_CREDITS → USD, and
//! `consumptionCurrency` is the first with a positive balance (or `null`). Each bucket is
//! `null` when not positive, so an all-`null` answer is a drained account, not a changed API
//! (veniceai/skills, skills/venice-billing/SKILL.md). DIEM is Venice's own token, reset every
//! epoch (UTC day), counted as credits here; earned and bundled credits are USD-denominated,
//! so the USD reading is their sum with `usd`, and the note names each bucket.

use super::{
    number_at, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "venice",
    name: "Venice AI",
    category: Category::Llm,
    default_base_url: "https://api.venice.ai",
    units: "USD or DIEM",
    key_help: "admin API key (an inference key cannot read the balance)",
    top_up_url: "https://venice.ai/settings/api",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

/// The USD-denominated buckets in the order Venice spends them, with their names in words.
const USD_BUCKETS: [(&str, &str); 3] = [
    ("/balances/earnedCredits", "earned credits"),
    ("/balances/bundledCredits", "bundled credits"),
    ("/balances/usd", "USD"),
];

#[derive(Debug)]
pub struct Venice;

#[async_trait::async_trait]
impl Provider for Venice {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/api/v1/billing/balance")?).bearer(ctx.secret()?.expose());
        let json = match ctx.fetch_json(http, req).await {
            Err(PollError::InvalidKey {
                status,
                classification,
                ..
            }) if needs_admin(classification.message.as_deref()) => {
                let hint = ctx
                    .account
                    .secret_hint
                    .as_deref()
                    .map(|h| format!(" ending {h}"))
                    .unwrap_or_default();
                return Err(PollError::InvalidKey {
                    status,
                    classification,
                    message: format!(
                        "Venice AI needs an admin API key to read the balance; the key{hint} is not one (HTTP {status}: \"Admin API key required\"): create an admin key at {}, then edit the account",
                        INFO.top_up_url
                    ),
                });
            }
            r => r?,
        };
        if json.get("balances").is_none() {
            return Err(ctx.missing("balances"));
        }
        let diem = number_at(&json, "/balances/diem");
        let usd_parts: Vec<(&str, f64)> = USD_BUCKETS
            .iter()
            .filter_map(|(ptr, name)| number_at(&json, ptr).map(|v| (*name, v)))
            .collect();
        let usd_total: f64 = usd_parts.iter().map(|(_, v)| v).sum();
        let spends_diem = json
            .get("consumptionCurrency")
            .and_then(|v| v.as_str())
            .is_some_and(|c| c.eq_ignore_ascii_case("diem"));
        let mut notes = Vec::new();
        let (remaining, unit) = match diem {
            Some(d) if spends_diem => {
                notes.push("DIEM, reset each UTC day".to_owned());
                if let Some(alloc) = number_at(&json, "/diemEpochAllocation") {
                    notes.push(format!("DIEM epoch allocation {alloc}"));
                }
                if !usd_parts.is_empty() {
                    notes.push(format!("then {}", describe(&usd_parts)));
                }
                (d, Unit::credits())
            }
            _ => {
                if usd_parts.len() > 1 {
                    notes.push(format!("spent in order: {}", describe(&usd_parts)));
                }
                if let Some(d) = diem {
                    notes.push(format!("also {d} DIEM, spent first"));
                }
                (usd_total, Unit::usd())
            }
        };
        if json.get("canConsume").and_then(|v| v.as_bool()) == Some(false) {
            notes.push("Venice says the account cannot spend now (under $0.10 left)".to_owned());
        }
        Ok(Reading {
            remaining: Some(remaining),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            ..Reading::new(unit)
        })
    }
}

/// Whether a 401's message is Venice's "this is an inference key" answer.
fn needs_admin(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.to_ascii_lowercase().contains("admin api key required"))
}

fn describe(parts: &[(&str, f64)]) -> String {
    parts
        .iter()
        .map(|(name, v)| format!("{v} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;

    const PATH: &str = "/api/v1/billing/balance";

    async fn read(name: &str) -> cliffwatch_core::providers::Reading {
        let server = serve(PATH, "venice", name).await;
        poll("venice", &server, serde_json::json!({}))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn venice_nulls_mean_nothing_left_not_an_api_change() {
        let r = read("drained").await;
        assert_eq!(
            (r.remaining, r.unit.as_str()),
            (Some(0.0), "usd"),
            "every bucket is null when not positive: a drained account reads 0"
        );
        assert!(
            r.note.unwrap().contains("cannot spend"),
            "and canConsume false is named"
        );
    }

    #[tokio::test]
    async fn venice_reads_every_usd_bucket_in_spending_order() {
        let r = read("buckets").await;
        assert_eq!(r.unit.as_str(), "usd");
        assert_close(
            r.remaining,
            37.5,
            "earned 2.5 + bundled 10 + usd 25 are all USD-denominated",
        );
        assert_eq!(
            r.note.as_deref(),
            Some("spent in order: 2.5 earned credits, 10 bundled credits, 25 USD"),
            "EARNED_CREDITS → BUNDLED_CREDITS → USD"
        );
    }

    #[tokio::test]
    async fn venice_diem_first_names_the_usd_behind_it() {
        let r = read("buckets_diem").await;
        assert_eq!(
            (r.remaining, r.unit.as_str()),
            (Some(90.5), "credits"),
            "consumptionCurrency DIEM reads the DIEM left this epoch"
        );
        let note = r.note.unwrap();
        assert!(note.starts_with("DIEM"), "named: {note}");
        assert!(
            note.contains("then 10 bundled credits, 25 USD"),
            "what is spent after DIEM: {note}"
        );
    }

    #[tokio::test]
    async fn venice_inference_key_is_told_to_use_an_admin_key() {
        let server = serve(PATH, "venice", "inference_key").await;
        let e = poll("venice", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "invalid_key");
        assert!(
            e.to_string().contains("needs an admin API key"),
            "the fix is a different kind of key, not a retyped one: {e}"
        );
    }

    #[test]
    fn venice_key_help_says_admin_api_key() {
        assert!(super::INFO.key_help.contains("admin API key"));
    }
}
