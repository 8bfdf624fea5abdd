//! The one "out of credit?" classifier, shared by provider polling and log watching: given who
//! answered (provider id or host), the status, the headers and the body, decide what the answer
//! means and pull out what the body offers (error code, message, quota, payment instructions).
//!
//! Providers disguise "you ran out of money" in many ways (OpenAI's 429 `insufficient_quota`,
//! Anthropic's 400 "credit balance is too low", ScraperAPI's 403 …). Those rules are data in
//! [`RULES`]; anything unknown falls back to the status code. A body is untrusted input: it is
//! capped, never executed, and an HTML page is `bad_response`, never a crash.

use crate::model::Outcome;
use serde::Serialize;
use std::time::Duration;

/// One HTTP answer to classify.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Provider id when known (polling knows it; log watching maps the host).
    pub provider: Option<&'a str>,
    pub host: Option<&'a str>,
    pub status: u16,
    /// Header names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// What an answer means, and what its body said.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Classification {
    pub outcome: Outcome,
    /// From `Retry-After` (seconds or HTTP date is not parsed here: seconds only) on 429/503.
    #[serde(skip)]
    pub retry_after: Option<Duration>,
    /// Out of credit, but the provider says it clears by itself (OpenRouter's in-flight budget).
    pub transient: bool,
    pub code: Option<String>,
    pub message: Option<String>,
    pub quota: Option<String>,
    /// x402-style payment instructions from the body. Untrusted.
    pub payment: Option<serde_json::Value>,
}

/// Bodies longer than this are not parsed (the HTTP layer caps them before this anyway).
pub const MAX_BODY: usize = 1 << 20;

/// A disguise rule: when `provider` (or any provider, for `None`) answers `status` (or any
/// status, for `None`) and the body matches `matcher`, the outcome is `outcome`.
#[derive(Debug)]
pub struct Rule {
    pub provider: Option<&'static str>,
    pub status: Option<u16>,
    pub matcher: Matcher,
    pub outcome: Outcome,
    pub transient: bool,
}

/// How a rule looks at the body.
#[derive(Debug)]
pub enum Matcher {
    /// Any body.
    Any,
    /// The JSON value at this pointer is a string equal (case-insensitively) to one of these.
    JsonEq(&'static str, &'static [&'static str]),
    /// The raw body contains this text (case-insensitive).
    Contains(&'static str),
}

/// The disguises, most specific first. The first match wins.
pub static RULES: &[Rule] = &[
    // OpenRouter: a 402 from the in-flight budget clears by itself (Retry-After given).
    Rule {
        provider: None,
        status: Some(402),
        matcher: Matcher::JsonEq("/error/metadata/limit_source", &["openrouter_in_flight_budget"]),
        outcome: Outcome::OutOfCredit,
        transient: true,
    },
    // ScraperAPI: 403 in plain text.
    Rule {
        provider: None,
        status: Some(403),
        matcher: Matcher::Contains("used up all your API credits"),
        outcome: Outcome::OutOfCredit,
        transient: false,
    },
    // OpenAI: 429 with type insufficient_quota is money, not speed.
    Rule {
        provider: None,
        status: Some(429),
        matcher: Matcher::JsonEq("/error/type", &["insufficient_quota"]),
        outcome: Outcome::OutOfCredit,
        transient: false,
    },
    Rule {
        provider: None,
        status: Some(429),
        matcher: Matcher::JsonEq(
            "/error/code",
            &[
                "insufficient_quota",
                "credit_balance_exhausted",
                "organization_spend_limit_exceeded",
                "project_spend_limit_exceeded",
                "organization_usage_limit_exceeded",
            ],
        ),
        outcome: Outcome::OutOfCredit,
        transient: false,
    },
    // Anthropic: 400 "Your credit balance is too low".
    Rule {
        provider: None,
        status: Some(400),
        matcher: Matcher::Contains("credit balance is too low"),
        outcome: Outcome::OutOfCredit,
        transient: false,
    },
    // Captcha solvers answer HTTP 200 with an error id.
    Rule {
        provider: None,
        status: Some(200),
        matcher: Matcher::JsonEq("/errorCode", &["ERROR_ZERO_BALANCE"]),
        outcome: Outcome::OutOfCredit,
        transient: false,
    },
];

/// Classifies one answer. Never panics, whatever the body holds.
pub fn classify(obs: &Observation<'_>) -> Classification {
    let body = &obs.body[..obs.body.len().min(MAX_BODY)];
    let json: Option<serde_json::Value> = serde_json::from_slice(strip_bom(body)).ok();
    let provider = obs.provider.or_else(|| obs.host.and_then(provider_for_host));
    let mut c = Classification {
        outcome: by_status(obs.status),
        retry_after: None,
        transient: false,
        code: None,
        message: None,
        quota: None,
        payment: None,
    };
    if let Some(j) = &json {
        extract_fields(j, &mut c);
    } else if obs.status >= 400 && !looks_like_html(body) {
        // Plain-text error bodies (ScraperAPI) are the message.
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        if !text.is_empty() {
            c.message = Some(truncate(text, 500));
        }
    }
    for rule in RULES {
        if rule.provider.is_some_and(|p| Some(p) != provider) {
            continue;
        }
        if rule.status.is_some_and(|s| s != obs.status) {
            continue;
        }
        let hit = match &rule.matcher {
            Matcher::Any => true,
            Matcher::JsonEq(ptr, values) => json
                .as_ref()
                .and_then(|j| j.pointer(ptr))
                .and_then(|v| v.as_str())
                .is_some_and(|s| values.iter().any(|v| v.eq_ignore_ascii_case(s))),
            Matcher::Contains(needle) => contains_ci(body, needle),
        };
        if hit {
            c.outcome = rule.outcome;
            c.transient = rule.transient;
            break;
        }
    }
    if obs.status == 200 && c.outcome == Outcome::Ok && json.is_none() && looks_like_html(body) {
        // A captive portal or a login page where JSON was expected.
        c.outcome = Outcome::BadResponse;
    }
    if matches!(c.outcome, Outcome::RateLimited | Outcome::ServerError) || c.transient {
        c.retry_after = retry_after(obs.headers);
    }
    c
}

fn by_status(status: u16) -> Outcome {
    match status {
        200..=299 => Outcome::Ok,
        402 => Outcome::OutOfCredit,
        401 => Outcome::Unauthorized,
        403 => Outcome::Forbidden,
        429 => Outcome::RateLimited,
        400..=499 => Outcome::ClientError,
        500..=599 => Outcome::ServerError,
        _ => Outcome::BadResponse,
    }
}

/// Pulls the common error fields out of the usual JSON error shapes.
fn extract_fields(j: &serde_json::Value, c: &mut Classification) {
    let s = |ptr: &str| -> Option<String> {
        j.pointer(ptr).and_then(|v| match v {
            serde_json::Value::String(s) if !s.is_empty() => Some(truncate(s, 500)),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    c.code = s("/error/code").or_else(|| s("/error/type")).or_else(|| s("/code")).or_else(|| s("/errorCode"));
    c.message = s("/error/message")
        .or_else(|| s("/message"))
        .or_else(|| s("/detail/message"))
        .or_else(|| s("/detail"))
        .or_else(|| s("/errorDescription"))
        .or_else(|| s("/error"));
    if let Some(p) = j.get("accepts").or_else(|| j.pointer("/error/payment")) {
        c.payment = Some(p.clone());
    }
}

/// Seconds from a `Retry-After` header, capped at one day.
pub fn retry_after(headers: &[(String, String)]) -> Option<Duration> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, v)| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(86_400.0)))
}

/// Maps a request host to the provider that serves it.
pub fn provider_for_host(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    HOSTS
        .iter()
        .find(|(suffix, _)| host == *suffix || host.ends_with(&format!(".{suffix}")))
        .map(|(_, id)| *id)
}

static HOSTS: &[(&str, &str)] = &[
    ("api.openai.com", "openai"),
    ("api.anthropic.com", "anthropic"),
    ("openrouter.ai", "openrouter"),
    ("api.deepseek.com", "deepseek"),
    ("api.moonshot.ai", "moonshot"),
    ("api.moonshot.cn", "moonshot"),
    ("api.siliconflow.cn", "siliconflow"),
    ("api.siliconflow.com", "siliconflow"),
    ("api.deepinfra.com", "deepinfra"),
    ("api.novita.ai", "novita"),
    ("api.venice.ai", "venice"),
    ("zenmux.ai", "zenmux"),
    ("api.elevenlabs.io", "elevenlabs"),
    ("api.deepgram.com", "deepgram"),
    ("api.scraperapi.com", "scraperapi"),
    ("app.scrapingbee.com", "scrapingbee"),
    ("api.zenrows.com", "zenrows"),
    ("api.scrapingant.com", "scrapingant"),
    ("api.brightdata.com", "brightdata"),
    ("api.apify.com", "apify"),
    ("api.firecrawl.dev", "firecrawl"),
    ("serpapi.com", "serpapi"),
    ("api.tavily.com", "tavily"),
    ("api.2captcha.com", "twocaptcha"),
    ("2captcha.com", "twocaptcha"),
    ("api.anti-captcha.com", "anticaptcha"),
    ("api.capsolver.com", "capsolver"),
    ("api.twilio.com", "twilio"),
];

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(512)];
    let t = String::from_utf8_lossy(head).trim_start().to_ascii_lowercase();
    t.starts_with("<!doctype html") || t.starts_with("<html") || t.starts_with("<?xml") || t.starts_with("<head")
}

fn contains_ci(hay: &[u8], needle: &str) -> bool {
    let n = needle.as_bytes();
    n.is_empty() || hay.windows(n.len()).any(|w| w.eq_ignore_ascii_case(n))
}

fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs<'a>(provider: &'a str, status: u16, body: &'a str) -> Observation<'a> {
        Observation { provider: Some(provider), host: None, status, headers: &[], body: body.as_bytes() }
    }

    #[test]
    fn openai_quota_429_is_out_of_credit_but_rate_limit_429_is_not() {
        let quota = r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#;
        assert_eq!(classify(&obs("openai", 429, quota)).outcome, Outcome::OutOfCredit);
        let speed = r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#;
        assert_eq!(classify(&obs("openai", 429, speed)).outcome, Outcome::RateLimited);
    }

    #[test]
    fn html_error_page_is_bad_response_not_a_crash() {
        let c = classify(&obs("deepseek", 200, "<!DOCTYPE html><html><body>Login</body></html>"));
        assert_eq!(c.outcome, Outcome::BadResponse);
    }

    #[test]
    fn retry_after_is_read_on_rate_limits() {
        let h = vec![("Retry-After".to_string(), "17".to_string())];
        let o = Observation { provider: None, host: None, status: 429, headers: &h, body: b"" };
        assert_eq!(classify(&o).retry_after, Some(Duration::from_secs(17)));
    }

    #[test]
    fn hosts_map_to_providers() {
        assert_eq!(provider_for_host("api.scraperapi.com"), Some("scraperapi"));
        assert_eq!(provider_for_host("API.OpenAI.com."), Some("openai"));
        assert_eq!(provider_for_host("example.com"), None);
        assert_eq!(provider_for_host("notopenrouter.ai"), None, "suffix match is on a dot boundary");
    }
}
