//! Twilio. `GET /2010-04-01/Accounts/{AccountSid}/Balance.json` with HTTP Basic auth
//! (Account SID as user, auth token as password) answers
//! `{"account_sid":"AC…","balance":"14.27","currency":"USD"}`: the balance is a string in the
//! account's currency, which becomes the reading's unit. Subaccounts carry no balance of their
//! own (use the main account's SID). At zero balance Twilio suspends the account: API errors
//! 10001 "Account is not active" (a classifier row makes that out-of-credit) or 20403.

use super::{
    Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S,
};
use crate::http::{Http, Request};
use crate::model::Unit;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "twilio",
    name: "Twilio",
    category: Category::Telecom,
    default_base_url: "https://api.twilio.com",
    units: "account currency (USD …)",
    key_help: "Auth token of the account whose Account SID is set with --account-sid",
    top_up_url: "https://console.twilio.com/us1/billing/manage-billing/billing-overview",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "account_sid",
        label: "Account SID (AC…)",
        required: true,
    }],
};

#[derive(Debug)]
pub struct Twilio;

#[async_trait::async_trait]
impl Provider for Twilio {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        let sid = options
            .get("account_sid")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .unwrap_or_default();
        check_sid(sid)
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let sid = ctx.option("account_sid")?;
        // The SID goes into the path: only a well-formed one may (no `/`, `?` or `..`).
        check_sid(sid).map_err(PollError::config)?;
        let key = ctx.secret()?.expose();
        let url = ctx.url(&format!("/2010-04-01/Accounts/{sid}/Balance.json"))?;
        let req = Request::get(url)
            .basic_auth(sid, key)
            .header("Accept", "application/json");
        let json = ctx.fetch_json(http, req).await?;
        let balance = ctx.number(&json, "/balance")?;
        let currency = json
            .get("currency")
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphabetic()))
            .ok_or_else(|| ctx.missing("currency"))?;
        Ok(Reading {
            remaining: Some(balance),
            ..Reading::new(Unit::currency(currency))
        })
    }
}

/// An Account SID is `AC` and 32 hex digits. The message never repeats the value: a token
/// pasted into the wrong field must not end up in an error.
fn check_sid(sid: &str) -> Result<(), String> {
    let ok =
        sid.len() == 34 && sid.starts_with("AC") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if ok {
        Ok(())
    } else {
        Err(
            "the Twilio Account SID must be `AC` followed by 32 hexadecimal characters \
             (Twilio Console → Account info): set it with --account-sid"
                .into(),
        )
    }
}

#[cfg(test)]
use super::adapter_testkit as testkit;

#[cfg(test)]
mod tests {
    use super::testkit::*;
    use super::*;
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const SID: &str = "AC0123456789abcdef0123456789abcdef";

    fn sid() -> serde_json::Value {
        serde_json::json!({ "account_sid": SID })
    }

    #[tokio::test]
    async fn reads_the_string_balance_in_the_account_currency_with_basic_auth() {
        use base64::Engine as _;
        let server = MockServer::start().await;
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{SID}:{KEY}"));
        Mock::given(method("GET"))
            .and(path(format!("/2010-04-01/Accounts/{SID}/Balance.json")))
            .and(header("authorization", format!("Basic {basic}").as_str()))
            .respond_with(fixture("twilio", "success"))
            .expect(1)
            .mount(&server)
            .await;
        let r = poll("twilio", &server, sid()).await.unwrap();
        assert_eq!(
            r.remaining,
            Some(14.27),
            "\"14.27\" is a string in the body"
        );
        assert_eq!(r.unit.as_str(), "usd", "the unit is the account's currency");
        assert_key_only_in(&server, Place::Basic).await;
    }

    #[tokio::test]
    async fn another_currency_is_kept() {
        let server = MockServer::start().await;
        Mock::given(path(format!("/2010-04-01/Accounts/{SID}/Balance.json")))
            .respond_with(ResponseTemplate::new(200).set_body_raw(
                format!(r#"{{"account_sid":"{SID}","balance":"-0.42","currency":"EUR"}}"#),
                "application/json",
            ))
            .mount(&server)
            .await;
        let r = poll("twilio", &server, sid()).await.unwrap();
        assert_eq!(
            (r.remaining, r.unit.as_str()),
            (Some(-0.42), "eur"),
            "a negative EUR balance is read as is, not converted or clamped"
        );
    }

    #[tokio::test]
    async fn failures() {
        for (file, kind) in [
            ("out_of_credit", "out_of_credit"),
            ("invalid_key", "invalid_key"),
            ("rate_limited", "rate_limited"),
        ] {
            let server = serve(
                &format!("/2010-04-01/Accounts/{SID}/Balance.json"),
                "twilio",
                file,
            )
            .await;
            assert_kind(&poll("twilio", &server, sid()).await.unwrap_err(), kind);
        }
    }

    #[tokio::test]
    async fn twilio_20005_account_not_active_is_out_of_funds_per_its_docs() {
        let server = serve(
            &format!("/2010-04-01/Accounts/{SID}/Balance.json"),
            "twilio",
            "account_not_active",
        )
        .await;
        let e = poll("twilio", &server, sid()).await.unwrap_err();
        assert_kind(&e, "out_of_credit");
        assert_eq!(
            e.classification().and_then(|c| c.code.as_deref()),
            Some("20005"),
            "a 401 with 20005 is a suspended account, not a bad key"
        );
    }

    #[tokio::test]
    async fn a_missing_or_malformed_sid_is_a_config_error_without_a_request() {
        let server = MockServer::start().await;
        for options in [
            serde_json::json!({}),
            serde_json::json!({ "account_sid": "AC../../Accounts/ACother" }),
            serde_json::json!({ "account_sid": KEY }),
        ] {
            let e = poll("twilio", &server, options).await.unwrap_err();
            assert_kind(&e, "config");
        }
        let seen = server.received_requests().await.unwrap();
        assert!(seen.is_empty(), "nothing is sent without a valid SID");
    }

    #[test]
    fn options_are_validated_before_they_are_stored() {
        assert!(Twilio.validate_options(&sid()).is_ok());
        let e = Twilio
            .validate_options(&serde_json::json!({ "account_sid": KEY }))
            .unwrap_err();
        assert!(!e.contains(KEY), "the rejected value is not repeated: {e}");
        assert!(Twilio.validate_options(&serde_json::json!({})).is_err());
    }
}
