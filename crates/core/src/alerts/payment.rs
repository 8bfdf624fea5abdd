//! Payment links found in a 402 body are untrusted: a proxy, a compromised dependency or a
//! phishing gateway can put any URL there. One is shown only if it is https, always with its
//! domain, flagged when that domain is not the provider's, and never opened automatically
//! (nothing in Cliffwatch opens it; the user clicks).

use serde::Serialize;
use ts_rs::TS;

/// A payment link as it may be shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PaymentLink {
    /// The URL, normalised by the URL parser (an internationalised host shows as punycode, so a
    /// look-alike domain cannot hide).
    pub url: String,
    /// The host the link goes to.
    pub domain: String,
    /// The domain is the provider's own (its billing page's domain or a subdomain of it).
    pub provider_domain: bool,
    /// What to show: "Pay at example.com", with a warning when the domain is foreign.
    pub label: String,
}

/// Checks a payment URI from a 402 body. `None` when it must not be shown at all: not a URL,
/// not https, credentials in it, or no host. `provider_url` is the provider's known billing
/// page, whose domain the link is compared with.
pub fn payment_link(raw: &str, provider_url: Option<&str>) -> Option<PaymentLink> {
    let url = url::Url::parse(raw.trim()).ok()?;
    if url.scheme() != "https" || !url.username().is_empty() || url.password().is_some() {
        return None;
    }
    let domain = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() {
        return None;
    }
    let provider_host = provider_url
        .and_then(|p| url::Url::parse(p).ok())
        .and_then(|p| {
            p.host_str()
                .map(|h| h.trim_end_matches('.').to_ascii_lowercase())
        });
    let provider_domain = provider_host
        .as_deref()
        .is_some_and(|p| same_site(&domain, p));
    let label = match (&provider_host, provider_domain) {
        (_, true) => format!("Pay at {domain}"),
        (Some(p), false) => format!(
            "Pay at {domain} — not {}: check this link before paying",
            registrable(p)
        ),
        (None, false) => {
            format!("Pay at {domain} — unknown provider: check this link before paying")
        }
    };
    Some(PaymentLink {
        // A link that carries the user's key in its query is shown (and opened) without it.
        url: crate::redact::redact_url(url.as_str()),
        domain,
        provider_domain,
        label,
    })
}

/// The first URL-looking string under a payment-ish key in a 402 body's payment JSON
/// (`payment_url`, `url`, `href`, x402's `resource`, …), searched a few levels deep.
pub fn payment_uri_in(payment: &serde_json::Value) -> Option<&str> {
    // A parsed payment (`crate::payments::Payment`) names its link in `uri`; its `resource`
    // is the API that asked, not a place to pay.
    if payment.get("protocol").is_some() && payment.get("stage").is_some() {
        return payment
            .get("uri")
            .and_then(|v| v.as_str())
            .filter(|s| s.starts_with("http"));
    }
    const KEYS: [&str; 8] = [
        "payment_url",
        "paymentUrl",
        "checkout_url",
        "url",
        "uri",
        "href",
        "link",
        "resource",
    ];
    fn walk(v: &serde_json::Value, depth: usize) -> Option<&str> {
        if depth > 4 {
            return None;
        }
        match v {
            serde_json::Value::Object(map) => {
                for k in KEYS {
                    if let Some(s) = map.get(k).and_then(|v| v.as_str()) {
                        if s.starts_with("http") {
                            return Some(s);
                        }
                    }
                }
                map.values().find_map(|v| walk(v, depth + 1))
            }
            serde_json::Value::Array(items) => items.iter().find_map(|v| walk(v, depth + 1)),
            serde_json::Value::String(s) if depth == 0 && s.starts_with("http") => Some(s),
            _ => None,
        }
    }
    walk(payment, 0)
}

/// `pay.openrouter.ai` is on the site of `openrouter.ai`; `openrouter.ai.evil.com` is not.
fn same_site(host: &str, provider_host: &str) -> bool {
    let site = registrable(provider_host);
    host == site || host.ends_with(&format!(".{site}"))
}

/// The last two labels of a host (`platform.deepseek.com` → `deepseek.com`). A public-suffix
/// list would do better for `co.uk`-style suffixes; for those this errs on the side of
/// flagging a same-company link as foreign, never the reverse.
fn registrable(host: &str) -> String {
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() <= 2 || host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_owned();
    }
    labels[labels.len() - 2..].join(".")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const OPENROUTER: Option<&str> = Some("https://openrouter.ai/settings/credits");

    #[rstest]
    #[case::own_domain("https://openrouter.ai/pay?x=1", Some(true))]
    #[case::own_subdomain("https://checkout.openrouter.ai/s/abc", Some(true))]
    #[case::foreign("https://pay.example.com/invoice/1", Some(false))]
    #[case::suffix_trick("https://openrouter.ai.evil.com/pay", Some(false))]
    #[case::lookalike_idn("https://openrоuter.ai/pay", Some(false))]
    #[case::plain_http("http://openrouter.ai/pay", None)]
    #[case::javascript("javascript:alert(1)", None)]
    #[case::credentials("https://user:pw@openrouter.ai/pay", None)]
    #[case::not_a_url("top up now", None)]
    fn untrusted_payment_uris(#[case] raw: &str, #[case] own: Option<bool>) {
        let got = payment_link(raw, OPENROUTER);
        assert_eq!(
            got.as_ref().map(|l| l.provider_domain),
            own,
            "{raw}: {got:?}"
        );
        if let Some(l) = got {
            assert!(
                l.label.contains(&l.domain),
                "the domain is always shown: {}",
                l.label
            );
            assert_eq!(
                l.label.contains("check this link"),
                !l.provider_domain,
                "a foreign domain is flagged, the provider's is not: {}",
                l.label
            );
        }
    }

    #[test]
    fn idn_lookalikes_show_as_punycode() {
        // Cyrillic "о" in place of the Latin one.
        let l = payment_link("https://openrоuter.ai/pay", OPENROUTER).unwrap();
        assert!(
            l.domain.starts_with("xn--"),
            "a look-alike must not display as the real name: {}",
            l.domain
        );
    }

    #[test]
    fn finds_the_uri_in_a_402_body() {
        let x402 = serde_json::json!({"x402Version": 1, "accepts": [
            {"scheme": "exact", "resource": "https://api.example.com/pay/123", "payTo": "0xabc"}
        ]});
        assert_eq!(
            payment_uri_in(&x402),
            Some("https://api.example.com/pay/123"),
            "x402 resource"
        );
        let plain = serde_json::json!({"error": {"payment_url": "https://openrouter.ai/credits"}});
        assert_eq!(
            payment_uri_in(&plain),
            Some("https://openrouter.ai/credits"),
            "nested key"
        );
        assert_eq!(
            payment_uri_in(&serde_json::json!({"amount": "1.00"})),
            None,
            "no link at all"
        );
    }
}
