//! DeepSeek. `GET /user/balance` lists one balance per currency (CNY, USD) as strings (the
//! Chinese reference shows numbers; both parse). Currencies are never added: the reading is the
//! first currency with money in it, and the other is named in the note.
//!
//! `is_available` says whether the account has balance available for API calls (DeepSeek's
//! reference, api-docs.deepseek.com/zh-cn/api/get-user-balance): `false` is the cliff, reported
//! as out of credit with the balance it did show.

use super::{
    as_number, Category, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S, NO_OPTIONS,
};
use crate::classify::Classification;
use crate::http::{Http, Request};
use crate::model::{Outcome, Unit};

pub const INFO: ProviderInfo = ProviderInfo {
    id: "deepseek",
    name: "DeepSeek",
    category: Category::Llm,
    default_base_url: "https://api.deepseek.com",
    units: "CNY or USD",
    key_help: "API key",
    top_up_url: "https://platform.deepseek.com/top_up",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct DeepSeek;

#[async_trait::async_trait]
impl Provider for DeepSeek {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let key = ctx.secret()?.expose();
        let req = Request::get(ctx.url("/user/balance")?)
            .bearer(key)
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let infos = json
            .get("balance_infos")
            .and_then(|v| v.as_array())
            .ok_or_else(|| ctx.missing("balance_infos"))?;
        let mut balances = Vec::new();
        for b in infos {
            let currency = b.get("currency").and_then(|v| v.as_str());
            let total = b.get("total_balance").and_then(as_number);
            if let (Some(c), Some(t)) = (currency, total) {
                balances.push((Unit::currency(c), t));
            }
        }
        let pick = balances
            .iter()
            .position(|(_, t)| *t > 0.0)
            .or(if balances.is_empty() { None } else { Some(0) })
            .ok_or_else(|| ctx.missing("balance_infos[].total_balance"))?;
        let (unit, total) = balances[pick].clone();
        let others: Vec<String> = balances
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != pick)
            .map(|(_, (u, t))| format!("{t} {u}"))
            .collect();
        if json.get("is_available").and_then(|v| v.as_bool()) == Some(false) {
            return Err(PollError::OutOfCredit {
                status: 200,
                message: format!(
                    "DeepSeek says the balance cannot pay for API calls (is_available: false; {total} {unit} shown): top up at {}",
                    INFO.top_up_url
                ),
                classification: Box::new(Classification {
                    outcome: Outcome::OutOfCredit,
                    retry_after: None,
                    transient: false,
                    code: Some("is_available_false".into()),
                    message: None,
                    quota: None,
                    payment: None,
                }),
            });
        }
        Ok(Reading {
            remaining: Some(total),
            note: (!others.is_empty()).then(|| format!("also: {}", others.join(", "))),
            ..Reading::new(unit)
        })
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;

    #[tokio::test]
    async fn deepseek_is_available_false_means_out_of_credit() {
        let server = serve("/user/balance", "deepseek", "unavailable").await;
        let e = poll("deepseek", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "out_of_credit");
        assert!(
            e.to_string().contains("is_available: false"),
            "says which field decided: {e}"
        );
    }
}
