//! Crawlbase (crawling/scraping). `GET /account?token=KEY&product=crawling-api` (the token can
//! only go in the query) answers this month's usage for one product:
//! `{"totalSuccess","totalFailed","totalDue","remainingCredits","domainStats":[…]}`.
//! `remainingCredits` is "only returned for subscription-based products" (crawlbase.com/docs/
//! account-api), so its absence is a documented pay-as-you-go account: the reading then has no
//! remaining and names the month's `totalDue` (USD) instead of inventing a zero. The endpoint
//! allows one request every 5 minutes. The product is the account option `product`.

use super::{Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "crawlbase",
    name: "Crawlbase",
    category: Category::Scraping,
    default_base_url: "https://api.crawlbase.com",
    units: "credits",
    key_help: "token (Normal or JavaScript token from the Crawlbase dashboard)",
    top_up_url: "https://crawlbase.com/dashboard",
    // "Rate limit: 1 request per 5 minutes" (crawlbase.com/docs/account-api).
    min_poll_interval_s: 300,
    options: &[OptionSpec {
        key: "product",
        label: "Product: crawling-api (default), crawler, smartproxy, scraper-api, leads-api or screenshot-api",
        required: false,
    }],
};

/// The products the Account API documents.
const PRODUCTS: &[&str] = &[
    "crawling-api",
    "crawler",
    "smartproxy",
    "scraper-api",
    "leads-api",
    "screenshot-api",
];
const DEFAULT_PRODUCT: &str = "crawling-api";

#[derive(Debug)]
pub struct Crawlbase;

#[async_trait::async_trait]
impl Provider for Crawlbase {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        product(options).map(|_| ())
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let product = product(&ctx.account.options).map_err(PollError::config)?;
        let mut url = ctx.url("/account")?;
        url.query_pairs_mut()
            .append_pair("token", ctx.secret()?.expose())
            .append_pair("product", product);
        let json = ctx.fetch_json(http, Request::get(url)).await?;
        if !json.is_object() {
            return Err(ctx.missing("remainingCredits"));
        }
        let remaining = match json.get("remainingCredits") {
            // Documented absence (pay-as-you-go): unknown, not zero.
            None | Some(serde_json::Value::Null) => None,
            Some(v) => Some(super::as_number(v).ok_or_else(|| ctx.missing("remainingCredits"))?),
        };
        let note = match (remaining, super::number_at(&json, "/totalDue")) {
            (None, Some(due)) => Some(format!(
                "{product}: no credit balance (pay-as-you-go); {due} USD due this month"
            )),
            (None, None) => Some(format!("{product}: no credit balance (pay-as-you-go)")),
            (Some(_), _) => None,
        };
        Ok(Reading {
            remaining,
            note,
            ..Reading::new(Unit::credits())
        })
    }
}

/// The account's product, checked against the documented list (it goes into the query).
fn product(options: &serde_json::Value) -> Result<&'static str, String> {
    match options
        .get("product")
        .and_then(|v| v.as_str())
        .map(str::trim)
    {
        None | Some("") => Ok(DEFAULT_PRODUCT),
        Some(p) => PRODUCTS
            .iter()
            .copied()
            .find(|known| known.eq_ignore_ascii_case(p))
            .ok_or_else(|| {
                format!(
                    "unknown Crawlbase product: use one of {} with --option product=…",
                    PRODUCTS.join(", ")
                )
            }),
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use wiremock::matchers::{method, path, query_param};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    #[tokio::test]
    async fn reads_remaining_credits_with_the_token_as_query() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/account"))
            .and(query_param("token", KEY))
            .and(query_param("product", "crawling-api"))
            .respond_with(fixture("crawlbase", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("crawlbase", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(r.remaining, Some(18_250.0), "remainingCredits");
        assert_eq!(r.unit.as_str(), "credits");
        assert_eq!(r.note, None);
        assert_key_only_in(&server, Place::Query("token")).await;
        assert_eq!(INFO.min_poll_interval_s, 300, "1 request per 5 minutes");
    }

    #[tokio::test]
    async fn pay_as_you_go_has_no_remaining_rather_than_zero() {
        let server = MockServer::start().await;
        Mock::given(path("/account"))
            .and(query_param("product", "smartproxy"))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                r#"{"totalSuccess":1200,"totalFailed":3,"totalDue":4.8,"domainStats":[]}"#,
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll(
            "crawlbase",
            &server,
            serde_json::json!({"product": "smartproxy"}),
        )
        .await
        .unwrap();
        assert_eq!(r.remaining, None, "remainingCredits is absent by design");
        assert!(
            r.note.unwrap().contains("4.8 USD due"),
            "the month's due is named"
        );
    }

    #[tokio::test]
    async fn zero_credits_is_a_zero_reading() {
        let server = serve("/account", "crawlbase", "out_of_credit").await;
        let r = poll("crawlbase", &server, serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(
            r.remaining,
            Some(0.0),
            "the account endpoint still answers when credits are spent"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve("/account", "crawlbase", file).await;
            let e = poll("crawlbase", &server, serde_json::json!({}))
                .await
                .unwrap_err();
            assert_kind(&e, kind);
        }
    }

    #[test]
    fn products_are_checked() {
        assert_eq!(product(&serde_json::json!({})), Ok("crawling-api"));
        assert_eq!(
            product(&serde_json::json!({"product": "Crawler"})),
            Ok("crawler")
        );
        assert!(product(&serde_json::json!({"product": "x&token=y"})).is_err());
        assert!(Crawlbase
            .validate_options(&serde_json::json!({"product": "nope"}))
            .is_err());
    }
}
