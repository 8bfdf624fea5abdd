//! SiliconFlow. `GET /v1/user/info` → `data.totalBalance` (gift `balance` + paid
//! `chargeBalance`), strings. No currency field: the international platform
//! (api.siliconflow.com, the default) prices in USD.
//!
//! The China platform (api.siliconflow.cn) retired this endpoint on 2026-08-14 (its release
//! notes; clients now get HTTP 410, rikkahub/rikkahub#1811), and its keys do not work on the
//! .com host: a China account has no balance endpoint any more. A 410 is reported as a refused
//! request saying so, which polling does not retry at speed.

use super::{
    Category, PollContext, PollError, Provider, ProviderInfo, Reading, DEFAULT_MIN_POLL_S,
    NO_OPTIONS,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "siliconflow",
    name: "SiliconFlow",
    category: Category::Llm,
    default_base_url: "https://api.siliconflow.com",
    units: "USD",
    key_help: "API key of the international platform (cloud.siliconflow.com); keys of the China platform (siliconflow.cn) have had no balance endpoint since 2026-08-14",
    top_up_url: "https://cloud.siliconflow.com",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: NO_OPTIONS,
};

#[derive(Debug)]
pub struct SiliconFlow;

#[async_trait::async_trait]
impl Provider for SiliconFlow {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let req = Request::get(ctx.url("/v1/user/info")?).bearer(ctx.secret()?.expose());
        let json = match ctx.fetch_json(http, req).await {
            Err(PollError::Rejected {
                status: 410,
                classification,
                ..
            }) => {
                return Err(PollError::Rejected {
                    status: 410,
                    classification,
                    message: format!(
                        "SiliconFlow retired the balance endpoint at `{}` (HTTP 410; the China host api.siliconflow.cn dropped /v1/user/info on 2026-08-14): use https://api.siliconflow.com with a key from cloud.siliconflow.com, or track a China account with a budget",
                        crate::redact::redact_url(ctx.base_url)
                    ),
                })
            }
            r => r?,
        };
        let total = ctx.number(&json, "/data/totalBalance")?;
        let unit = unit_for(ctx.base_url);
        Ok(Reading {
            remaining: Some(total),
            ..Reading::new(unit)
        })
    }
}

/// CNY on the China platform (api.siliconflow.cn), USD everywhere else: the international
/// host is the default and the only one that still answers.
fn unit_for(base_url: &str) -> Unit {
    let host = url::Url::parse(base_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
    match host {
        Some(h) if h == "siliconflow.cn" || h.ends_with(".siliconflow.cn") => Unit::currency("cny"),
        _ => Unit::usd(),
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;

    #[test]
    fn the_host_decides_the_currency() {
        assert_eq!(
            super::unit_for("https://api.siliconflow.cn").as_str(),
            "cny"
        );
        assert_eq!(
            super::unit_for("https://api.siliconflow.com").as_str(),
            "usd"
        );
    }

    #[test]
    fn siliconflow_defaults_to_the_com_host_because_cn_retired_user_info() {
        assert_eq!(
            super::INFO.default_base_url,
            "https://api.siliconflow.com",
            "api.siliconflow.cn answers 410 on /v1/user/info since 2026-08-14"
        );
        assert_eq!(
            super::unit_for(super::INFO.default_base_url).as_str(),
            "usd",
            "the default host prices in USD"
        );
        assert!(
            super::INFO.key_help.contains("siliconflow.cn"),
            "the key help explains the China case"
        );
    }

    #[tokio::test]
    async fn siliconflow_cn_410_says_the_endpoint_was_retired_and_is_not_retried_fast() {
        let server = serve("/v1/user/info", "siliconflow", "retired_cn").await;
        let e = poll("siliconflow", &server, serde_json::json!({}))
            .await
            .unwrap_err();
        assert_kind(&e, "client_error");
        let m = e.to_string();
        assert!(m.contains("retired"), "says what happened: {m}");
        assert!(
            m.contains("https://api.siliconflow.com"),
            "and where to go instead: {m}"
        );
    }
}
