//! The one "out of credit?" classifier, shared by provider polling and log watching: given who
//! answered (provider id or host), the status, the headers and the body, decide what the answer
//! means and pull out what the body offers (error code, message, quota, payment instructions).
//!
//! Providers disguise "you ran out of money" in many ways (OpenAI's 429 `insufficient_quota`,
//! Anthropic's 400 "credit balance is too low", ScraperAPI's 403 …). Those rules are data in
//! [`RULES`]; anything unknown falls back to the status code. A body is untrusted input: it is
//! capped, never executed, and an HTML page is `bad_response`, never a crash.
//!
//! Why ~630 lines before its tests: one table of rules for every provider's disguised 402 and
//! the reading of their bodies; splitting the table would hide which rule wins.

use crate::model::Outcome;
use crate::payments::{self, Exchange, Payment, Stage};
use serde::Serialize;
use std::time::Duration;

/// One HTTP answer to classify.
#[derive(Debug, Clone, Copy)]
pub struct Observation<'a> {
    /// Provider id when known (polling knows it; log watching maps the host).
    pub provider: Option<&'a str>,
    pub host: Option<&'a str>,
    pub status: u16,
    /// Response header names in any case.
    pub headers: &'a [(String, String)],
    /// The request's headers where the source has them (HAR, the proxy): a paid request's
    /// payment header says what was paid. Read for that, never stored.
    pub request_headers: &'a [(String, String)],
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
    /// What the answer says about paying (a [`Payment`] as JSON): a price asked, a payment
    /// refused, or a receipt. Untrusted.
    pub payment: Option<serde_json::Value>,
}

impl Classification {
    /// The payment read from the answer, typed.
    pub fn payment(&self) -> Option<Payment> {
        serde_json::from_value(self.payment.clone()?).ok()
    }
}

/// Bodies longer than this are not parsed (the HTTP layer caps them before this anyway).
pub const MAX_BODY: usize = 1 << 20;

/// Which statuses a rule applies to.
#[derive(Debug, Clone, Copy)]
pub enum Status {
    Any,
    Is(u16),
    /// 400 and above.
    Errors,
}

impl Status {
    fn matches(self, status: u16) -> bool {
        match self {
            Status::Any => true,
            Status::Is(s) => s == status,
            Status::Errors => status >= 400,
        }
    }
}

/// A disguise rule: when `provider` (or any provider, for `None`) answers a status that
/// `status` admits and the body matches `matcher`, the outcome is `outcome`.
#[derive(Debug)]
pub struct Rule {
    pub provider: Option<&'static str>,
    pub status: Status,
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
    /// The JSON value at this pointer is an integer equal to one of these.
    JsonNum(&'static str, &'static [i64]),
    /// The JSON value at this pointer is a number other than 0 (captcha `errorId`).
    JsonNonZero(&'static str),
    /// The raw body contains this text (case-insensitive).
    Contains(&'static str),
    /// The raw body contains one of these texts (case-insensitive).
    ContainsAny(&'static [&'static str]),
    /// Every one of these matches.
    All(&'static [Matcher]),
}

const fn rule(status: Status, matcher: Matcher, outcome: Outcome) -> Rule {
    Rule {
        provider: None,
        status,
        matcher,
        outcome,
        transient: false,
    }
}

const OOC: Outcome = Outcome::OutOfCredit;

/// The disguises, most specific first. The first match wins; no match leaves the outcome the
/// status code says ([`by_status`]). Each row names the provider whose docs or observed bodies
/// it comes from (see `shared/providers.md`).
pub static RULES: &[Rule] = &[
    // OpenRouter 402: the in-flight budget clears by itself (Retry-After given); credits and
    // key limits do not.
    Rule {
        provider: None,
        status: Status::Is(402),
        matcher: Matcher::JsonEq(
            "/error/metadata/limit_source",
            &["openrouter_in_flight_budget"],
        ),
        outcome: OOC,
        transient: true,
    },
    Rule {
        provider: None,
        status: Status::Is(402),
        matcher: Matcher::JsonEq("/error/metadata/reason", &["in_flight_budget_exhausted"]),
        outcome: OOC,
        transient: true,
    },
    // OpenAI: 429 with type insufficient_quota (or one of the money codes) is money, not speed.
    rule(
        Status::Is(429),
        Matcher::JsonEq("/error/type", &["insufficient_quota"]),
        OOC,
    ),
    rule(
        Status::Is(429),
        Matcher::JsonEq(
            "/error/code",
            &[
                "insufficient_quota",
                "credit_balance_exhausted",
                "organization_spend_limit_exceeded",
                "project_spend_limit_exceeded",
                "organization_usage_limit_exceeded",
                "billing_hard_limit_reached",
            ],
        ),
        OOC,
    ),
    // Moonshot/Kimi: 429 exceeded_current_quota_error.
    rule(
        Status::Errors,
        Matcher::JsonEq("/error/type", &["exceeded_current_quota_error"]),
        OOC,
    ),
    // Moonshot's help centre: 403 "typically indicates insufficient account balance".
    Rule {
        provider: Some("moonshot"),
        status: Status::Is(403),
        matcher: Matcher::Any,
        outcome: OOC,
        transient: false,
    },
    // Gemini prepay: 402 RESOURCE_EXHAUSTED (was 429) "Your prepayment credits are depleted".
    rule(
        Status::Errors,
        Matcher::Contains("prepayment credits are depleted"),
        OOC,
    ),
    // Anthropic: 400 "Your credit balance is too low"; billing_error (402) in the SDK.
    rule(
        Status::Is(400),
        Matcher::Contains("credit balance is too low"),
        OOC,
    ),
    rule(
        Status::Errors,
        Matcher::JsonEq("/error/type", &["billing_error"]),
        OOC,
    ),
    // ElevenLabs: 401 detail.status quota_exceeded — except the 5-minute burst cap, which
    // reports the same status and clears by itself.
    rule(
        Status::Errors,
        Matcher::All(&[
            Matcher::JsonEq("/detail/status", &["quota_exceeded"]),
            Matcher::Contains("minute interval"),
        ]),
        Outcome::RateLimited,
    ),
    rule(
        Status::Errors,
        Matcher::JsonEq("/detail/status", &["quota_exceeded"]),
        OOC,
    ),
    // ScraperAPI: 403 in plain text.
    rule(
        Status::Is(403),
        Matcher::Contains("used up all your API credits"),
        OOC,
    ),
    // ScrapingAnt: 403 (the same text also covers a wrong token; credits is the likelier).
    rule(
        Status::Is(403),
        Matcher::Contains("exceeded the API credits limit"),
        OOC,
    ),
    // ScrapingAnt: 409 is its concurrency limit (free plan), i.e. "too many requests".
    Rule {
        provider: Some("scrapingant"),
        status: Status::Is(409),
        matcher: Matcher::Any,
        outcome: Outcome::RateLimited,
        transient: false,
    },
    // ScrapingBee: 401 "No more credit available", and 401 "Monthly API calls limit reached: N"
    // (the body ScrapingBee's public clients see when the plan's credits are spent).
    rule(Status::Is(401), Matcher::Contains("no more credit"), OOC),
    rule(
        Status::Is(401),
        Matcher::Contains("monthly api calls limit reached"),
        OOC,
    ),
    // Apify: the monthly usage hard limit is a 403 `platform-feature-disabled` (Apify's API
    // reference, "Monthly usage hard limit exceeded"); other 403s stay forbidden.
    rule(
        Status::Is(403),
        Matcher::All(&[
            Matcher::JsonEq("/error/type", &["platform-feature-disabled"]),
            Matcher::ContainsAny(&["usage hard limit", "hard limit exceeded"]),
        ]),
        OOC,
    ),
    // SerpApi: 429 is both "out of searches" and "hourly throughput exceeded"; the text tells.
    rule(
        Status::Is(429),
        Matcher::ContainsAny(&["run out of searches", "out of searches", "no searches left"]),
        OOC,
    ),
    // Tavily: 432 key/plan credit limit, 433 pay-as-you-go limit. Non-standard codes, so any
    // host (access logs often lack the host).
    rule(Status::Is(432), Matcher::Any, OOC),
    rule(Status::Is(433), Matcher::Any, OOC),
    // ZenRows: AUTH004 usage exceeded, AUTH011 no active subscription (both 402).
    rule(
        Status::Errors,
        Matcher::JsonEq("/code", &["AUTH004", "AUTH011"]),
        OOC,
    ),
    // Captcha solvers answer HTTP 200 with an error id. 2Captcha's legacy API puts the code
    // in `request` with `status: 0`.
    rule(
        Status::Any,
        Matcher::JsonEq(
            "/errorCode",
            &["ERROR_ZERO_BALANCE", "ERROR_INSUFFICIENT_BALANCE"],
        ),
        OOC,
    ),
    rule(
        Status::Any,
        Matcher::JsonEq("/request", &["ERROR_ZERO_BALANCE"]),
        OOC,
    ),
    rule(
        Status::Any,
        Matcher::JsonEq(
            "/errorCode",
            &[
                "ERROR_KEY_DOES_NOT_EXIST",
                "ERROR_WRONG_USER_KEY",
                "ERROR_KEY_DENIED_ACCESS",
            ],
        ),
        Outcome::Unauthorized,
    ),
    rule(
        Status::Any,
        Matcher::JsonEq(
            "/request",
            &["ERROR_WRONG_USER_KEY", "ERROR_KEY_DOES_NOT_EXIST"],
        ),
        Outcome::Unauthorized,
    ),
    rule(
        Status::Is(200),
        Matcher::JsonNonZero("/errorId"),
        Outcome::ClientError,
    ),
    // Twilio: a balance at or below zero suspends the account: 20403 (account suspended),
    // 10001 (account not active), 30002 (queued message failed: account suspended), 20005
    // (account not active, "potentially because you ran out of funds",
    // twilio.com/docs/api/errors/20005).
    rule(
        Status::Errors,
        Matcher::JsonNum("/code", &[20403, 10001, 30002, 20005]),
        OOC,
    ),
    // ZenMux: its per-minute limit answers 422.
    Rule {
        provider: Some("zenmux"),
        status: Status::Is(422),
        matcher: Matcher::ContainsAny(&["too many", "rate limit", "rate_limit"]),
        outcome: Outcome::RateLimited,
        transient: false,
    },
    // xAI: 403 (also seen as 429) "Your team … has either used all available credits or reached
    // its monthly spending limit" (public issues warpdotdev/warp#14867, continuedev/continue#10373).
    rule(
        Status::Errors,
        Matcher::Contains("has either used all available credits"),
        OOC,
    ),
    // fal: 403 {"detail": "User is locked. Reason: Exhausted balance. Top up …"} (fal-ai/fal
    // issues #1112, #1147); an "Admin lock" stays forbidden.
    rule(
        Status::Is(403),
        Matcher::Contains("reason: exhausted balance"),
        OOC,
    ),
    // Linkup: out of credit is a 429 with error.code INSUFFICIENT_FUNDS_CREDITS (a key's own
    // budget: EXCEED_BUDGET_LIMIT); TOO_MANY_REQUESTS stays a rate limit (docs.linkup.so
    // "Errors"; the codes from linkup-python-sdk and linkup-js-sdk).
    Rule {
        provider: Some("linkup"),
        status: Status::Is(429),
        matcher: Matcher::JsonEq(
            "/error/code",
            &["INSUFFICIENT_FUNDS_CREDITS", "EXCEED_BUDGET_LIMIT"],
        ),
        outcome: OOC,
        transient: false,
    },
    // Hunter: 429 is "usage limit reached" (the month's credits), 403 the per-second rate limit
    // (Hunter API docs, "Errors" / rate limits).
    Rule {
        provider: Some("hunter"),
        status: Status::Is(429),
        matcher: Matcher::Any,
        outcome: OOC,
        transient: false,
    },
    Rule {
        provider: Some("hunter"),
        status: Status::Is(403),
        matcher: Matcher::ContainsAny(&["rate limit", "too_many_requests"]),
        outcome: Outcome::RateLimited,
        transient: false,
    },
    // NopeCHA: error 16 is out of credit, answered with HTTP 403 (client code only; NopeCHA
    // publishes no error reference).
    Rule {
        provider: Some("nopecha"),
        status: Status::Any,
        matcher: Matcher::JsonNum("/error", &[16]),
        outcome: OOC,
        transient: false,
    },
    // DeathByCaptcha: 403 is "Access denied, please check your credentials" (its official
    // clients' AccessDeniedException); the free /api/user call is not refused for a low balance.
    Rule {
        provider: Some("deathbycaptcha"),
        status: Status::Is(403),
        matcher: Matcher::Any,
        outcome: Outcome::Unauthorized,
        transient: false,
    },
    // Everyone else who says it in words (SiliconFlow, DeepInfra, Novita, Venice, Hugging Face …).
    rule(
        Status::Errors,
        Matcher::ContainsAny(&[
            "insufficient balance",
            "balance is insufficient",
            "insufficient_balance",
            "not_enough_balance",
            "insufficient credits",
            "insufficient_credits",
            "not enough credits",
            "out of credits",
            "exceeded your monthly included credits",
        ]),
        OOC,
    ),
];

/// Classifies one answer. Never panics, whatever the body holds.
pub fn classify(obs: &Observation<'_>) -> Classification {
    let body = &obs.body[..obs.body.len().min(MAX_BODY)];
    let json: Option<serde_json::Value> = serde_json::from_slice(strip_bom(body)).ok();
    let provider = obs
        .provider
        .or_else(|| obs.host.and_then(provider_for_host));
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
    let rule = RULES
        .iter()
        .find(|r| rule_hits(r, obs.status, provider, json.as_ref(), body));
    if let Some(rule) = rule {
        c.outcome = rule.outcome;
        c.transient = rule.transient;
    }
    if obs.status < 300 && c.outcome == Outcome::Ok && json.is_none() && looks_like_html(body) {
        // A captive portal or a login page where JSON was expected.
        c.outcome = Outcome::BadResponse;
    }
    let payment = payments::read(&Exchange {
        status: obs.status,
        headers: obs.headers,
        request_headers: obs.request_headers,
        json: json.as_ref(),
    });
    if let Some(p) = &payment {
        match p.stage {
            // The wallet could not pay: the cliff, whatever the status says.
            Stage::Failed if obs.status >= 400 && c.outcome != Outcome::Unauthorized => {
                c.outcome = Outcome::OutOfCredit;
                c.code = c.code.take().or_else(|| p.error.clone());
            }
            // A price asked (a payment protocol's challenge, even one whose price could not be
            // read; JSON instructions only with an amount, else it is a top-up page), unless a
            // vendor rule already read the 402 as an empty account.
            Stage::Challenge
                if obs.status == 402
                    && (p.is_priced_challenge() || p.protocol != payments::Scheme::Json)
                    && rule.is_none() =>
            {
                c.outcome = Outcome::PaymentRequired;
            }
            _ => {}
        }
    }
    if c.outcome == Outcome::OutOfCredit {
        c.quota = c.quota.take().or_else(|| quota_from_status(obs.status));
    }
    c.payment = payment.map(|p| p.to_json());
    if matches!(c.outcome, Outcome::RateLimited | Outcome::ServerError) || c.transient {
        c.retry_after = retry_after(obs.headers);
    }
    c
}

fn rule_hits(
    rule: &Rule,
    status: u16,
    provider: Option<&str>,
    json: Option<&serde_json::Value>,
    body: &[u8],
) -> bool {
    rule.provider.is_none_or(|p| Some(p) == provider)
        && rule.status.matches(status)
        && matcher_hits(&rule.matcher, json, body)
}

fn matcher_hits(m: &Matcher, json: Option<&serde_json::Value>, body: &[u8]) -> bool {
    let at = |ptr: &str| json.and_then(|j| j.pointer(ptr));
    match m {
        Matcher::Any => true,
        Matcher::JsonEq(ptr, values) => at(ptr)
            .and_then(|v| v.as_str())
            .is_some_and(|s| values.iter().any(|v| v.eq_ignore_ascii_case(s))),
        Matcher::JsonNum(ptr, values) => at(ptr)
            .and_then(|v| {
                v.as_i64()
                    .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            })
            .is_some_and(|n| values.contains(&n)),
        Matcher::JsonNonZero(ptr) => at(ptr).and_then(|v| v.as_f64()).is_some_and(|n| n != 0.0),
        Matcher::Contains(needle) => contains_ci(body, needle),
        Matcher::ContainsAny(needles) => needles.iter().any(|n| contains_ci(body, n)),
        Matcher::All(ms) => ms.iter().all(|m| matcher_hits(m, json, body)),
    }
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

/// Pulls the common error fields out of the usual JSON error shapes: OpenAI-style
/// `{error: {code, type, message}}`, Google `{error: {status, message}}`, ElevenLabs
/// `{detail: {status, message}}`, problem+json `{title, detail}`, captcha `{errorCode,
/// errorDescription}`, Deepgram `{err_code, err_msg}`, ZenRows `{code, title}`, and plain
/// `{error: "text"}`.
fn extract_fields(j: &serde_json::Value, c: &mut Classification) {
    let text = |ptr: &str| -> Option<String> {
        j.pointer(ptr).and_then(|v| match v {
            serde_json::Value::String(s) if !s.trim().is_empty() => Some(truncate(s.trim(), 500)),
            _ => None,
        })
    };
    let num = |ptr: &str| -> Option<String> {
        j.pointer(ptr)
            .and_then(|v| v.as_i64())
            .map(|n| n.to_string())
    };
    c.code = text("/error/code")
        .or_else(|| text("/error/type"))
        .or_else(|| text("/error/status"))
        .or_else(|| text("/detail/status"))
        .or_else(|| text("/code"))
        .or_else(|| text("/errorCode"))
        .or_else(|| text("/err_code"))
        .or_else(|| text("/reason"))
        .or_else(|| text("/category"))
        .or_else(|| {
            // 2Captcha legacy: {"status": 0, "request": "ERROR_…"}
            text("/request").filter(|r| r.starts_with("ERROR_"))
        })
        .or_else(|| num("/code").filter(|n| n != "0"))
        .or_else(|| num("/error/code"))
        .or_else(|| text("/title"));
    c.message = text("/error/message")
        .or_else(|| text("/message"))
        .or_else(|| text("/detail/message"))
        .or_else(|| text("/detail/error"))
        .or_else(|| text("/detail"))
        .or_else(|| text("/errorDescription"))
        .or_else(|| text("/err_msg"))
        .or_else(|| text("/error"))
        .or_else(|| text("/title"));
    c.quota = text("/error/metadata/limit_source")
        .or_else(|| quota_from_details(j))
        .or_else(|| {
            text("/error/code").filter(|code| {
                code.ends_with("_limit_exceeded") || code == "credit_balance_exhausted"
            })
        });
}

/// Google's `error.details[].violations[].quotaId` (or `quotaMetric`).
fn quota_from_details(j: &serde_json::Value) -> Option<String> {
    j.pointer("/error/details")?
        .as_array()?
        .iter()
        .find_map(|d| {
            d.get("violations")?.as_array()?.iter().find_map(|v| {
                v.get("quotaId")
                    .or_else(|| v.get("quotaMetric"))
                    .and_then(|q| q.as_str())
                    .map(str::to_owned)
            })
        })
}

/// What a status alone says about the exhausted quota (Tavily's two codes).
fn quota_from_status(status: u16) -> Option<String> {
    match status {
        432 => Some("key or plan credit limit".into()),
        433 => Some("pay-as-you-go limit".into()),
        _ => None,
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
    ("api.linkup.so", "linkup"),
    ("api.dataforseo.com", "dataforseo"),
    ("api.hunter.io", "hunter"),
    ("api.crawlbase.com", "crawlbase"),
    ("scrapegraphai.com", "scrapegraphai"),
    ("api.valueserp.com", "valueserp"),
    ("publisher.scrappey.com", "scrappey"),
    ("api.nopecha.com", "nopecha"),
    ("api.dbcapi.me", "deathbycaptcha"),
    ("x.ai", "xai"),
    ("fal.ai", "fal"),
    ("api.featherless.ai", "featherless"),
    ("api.runpod.io", "runpod"),
    ("huggingface.co", "huggingface"),
    ("api.cloudflare.com", "cloudflare_ai_gateway"),
    ("exa.ai", "exa"),
];

fn strip_bom(b: &[u8]) -> &[u8] {
    b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b)
}

fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(512)];
    let t = String::from_utf8_lossy(head)
        .trim_start()
        .to_ascii_lowercase();
    t.starts_with("<!doctype html")
        || t.starts_with("<html")
        || t.starts_with("<?xml")
        || t.starts_with("<head")
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
    use rstest::rstest;

    fn obs<'a>(provider: &'a str, status: u16, body: &'a str) -> Observation<'a> {
        Observation {
            provider: Some(provider),
            host: None,
            status,
            headers: &[],
            request_headers: &[],
            body: body.as_bytes(),
        }
    }

    /// Every disguise in issue 3, and the look-alikes that must not be taken for one.
    #[rstest]
    // OpenAI: money 429s vs a speed 429.
    #[case::openai_insufficient_quota("openai", 429, r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#, Outcome::OutOfCredit, Some("insufficient_quota"))]
    #[case::openai_credit_exhausted("openai", 429, r#"{"error":{"message":"…","type":"insufficient_quota","code":"credit_balance_exhausted"}}"#, Outcome::OutOfCredit, Some("credit_balance_exhausted"))]
    #[case::openai_project_spend_limit(
        "openai",
        429,
        r#"{"error":{"message":"…","type":"requests","code":"project_spend_limit_exceeded"}}"#,
        Outcome::OutOfCredit,
        Some("project_spend_limit_exceeded")
    )]
    #[case::openai_rate_limit_is_not_money("openai", 429, r#"{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}"#, Outcome::RateLimited, Some("rate_limit_exceeded"))]
    // Anthropic.
    #[case::anthropic_credit_too_low("anthropic", 400, r#"{"type":"error","error":{"type":"invalid_request_error","message":"Your credit balance is too low to access the Anthropic API."}}"#, Outcome::OutOfCredit, Some("invalid_request_error"))]
    #[case::anthropic_billing_error(
        "anthropic",
        402,
        r#"{"type":"error","error":{"type":"billing_error","message":"billing"}}"#,
        Outcome::OutOfCredit,
        Some("billing_error")
    )]
    #[case::anthropic_other_400("anthropic", 400, r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}}"#, Outcome::ClientError, Some("invalid_request_error"))]
    // OpenRouter.
    #[case::openrouter_credits("openrouter", 402, r#"{"error":{"code":402,"message":"Insufficient credits","metadata":{"limit_source":"openrouter_credits","reason":"weight_exceeds_budget"}}}"#, Outcome::OutOfCredit, Some("402"))]
    #[case::openrouter_key_limit("openrouter", 402, r#"{"error":{"code":402,"message":"Key limit exceeded","metadata":{"limit_source":"openrouter_key_limit"}}}"#, Outcome::OutOfCredit, Some("402"))]
    // DeepSeek, Moonshot, Gemini.
    #[case::deepseek_402("deepseek", 402, r#"{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}"#, Outcome::OutOfCredit, Some("invalid_request_error"))]
    #[case::moonshot_429_quota("moonshot", 429, r#"{"error":{"message":"You exceeded your current quota","type":"exceeded_current_quota_error"}}"#, Outcome::OutOfCredit, Some("exceeded_current_quota_error"))]
    #[case::moonshot_429_speed(
        "moonshot",
        429,
        r#"{"error":{"message":"request reached max request","type":"rate_limit_reached_error"}}"#,
        Outcome::RateLimited,
        Some("rate_limit_reached_error")
    )]
    #[case::moonshot_403(
        "moonshot",
        403,
        r#"{"error":{"message":"permission denied","type":"permission_denied_error"}}"#,
        Outcome::OutOfCredit,
        Some("permission_denied_error")
    )]
    #[case::gemini_402("gemini", 402, r#"{"error":{"code":402,"message":"Your prepayment credits are depleted. Please go to AI Studio.","status":"RESOURCE_EXHAUSTED"}}"#, Outcome::OutOfCredit, Some("RESOURCE_EXHAUSTED"))]
    #[case::gemini_old_429("gemini", 429, r#"{"error":{"code":429,"message":"Your prepayment credits are depleted.","status":"RESOURCE_EXHAUSTED"}}"#, Outcome::OutOfCredit, Some("RESOURCE_EXHAUSTED"))]
    #[case::gemini_429_speed("gemini", 429, r#"{"error":{"code":429,"message":"Resource has been exhausted (e.g. check quota).","status":"RESOURCE_EXHAUSTED"}}"#, Outcome::RateLimited, Some("RESOURCE_EXHAUSTED"))]
    // ElevenLabs: quota vs bad key vs the 5-minute burst cap.
    #[case::elevenlabs_quota("elevenlabs", 401, r#"{"detail":{"status":"quota_exceeded","message":"This request exceeds your quota of 10000."}}"#, Outcome::OutOfCredit, Some("quota_exceeded"))]
    #[case::elevenlabs_bad_key(
        "elevenlabs",
        401,
        r#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#,
        Outcome::Unauthorized,
        Some("invalid_api_key")
    )]
    #[case::elevenlabs_burst("elevenlabs", 401, r#"{"detail":{"status":"quota_exceeded","message":"This request exceeds your quota limit of 200000 characters within a 5-minute interval."}}"#, Outcome::RateLimited, Some("quota_exceeded"))]
    // Scraping.
    #[case::scraperapi_403_text(
        "scraperapi",
        403,
        "You have used up all your API credits.",
        Outcome::OutOfCredit,
        None
    )]
    #[case::scraperapi_403_other("scraperapi", 403, "Forbidden", Outcome::Forbidden, None)]
    #[case::scrapingant_403(
        "scrapingant",
        403,
        r#"{"detail":"The API token is wrong or you have exceeded the API credits limit."}"#,
        Outcome::OutOfCredit,
        None
    )]
    #[case::scrapingant_409_concurrency(
        "scrapingant",
        409,
        r#"{"detail":"Concurrent requests limit exceeded. Please, try again or upgrade to the paid plan"}"#,
        Outcome::RateLimited,
        None
    )]
    #[case::scrapingbee_401(
        "scrapingbee",
        401,
        r#"{"message":"No more credit available. Please upgrade your plan."}"#,
        Outcome::OutOfCredit,
        None
    )]
    #[case::scrapingbee_401_bad_key(
        "scrapingbee",
        401,
        r#"{"message":"Invalid api key"}"#,
        Outcome::Unauthorized,
        None
    )]
    #[case::zenrows_auth004(
        "zenrows",
        402,
        r#"{"code":"AUTH004","title":"Usage exceeded (AUTH004)","status":402}"#,
        Outcome::OutOfCredit,
        Some("AUTH004")
    )]
    #[case::zenrows_auth008_speed(
        "zenrows",
        429,
        r#"{"code":"AUTH008","title":"Rate limit exceeded (AUTH008)","status":429}"#,
        Outcome::RateLimited,
        Some("AUTH008")
    )]
    #[case::firecrawl_402(
        "firecrawl",
        402,
        r#"{"success":false,"error":"Insufficient credits to perform this request."}"#,
        Outcome::OutOfCredit,
        None
    )]
    // Search.
    #[case::serpapi_out_of_searches(
        "serpapi",
        429,
        r#"{"error":"Your account has run out of searches."}"#,
        Outcome::OutOfCredit,
        None
    )]
    #[case::serpapi_hourly(
        "serpapi",
        429,
        r#"{"error":"Your account has exceeded the hourly throughput limit. Please retry later."}"#,
        Outcome::RateLimited,
        None
    )]
    #[case::tavily_432(
        "tavily",
        432,
        r#"{"detail":{"error":"This request exceeds your plan's set usage limit."}}"#,
        Outcome::OutOfCredit,
        None
    )]
    #[case::tavily_433(
        "tavily",
        433,
        r#"{"detail":{"error":"This request exceeds the pay-as-you-go limit."}}"#,
        Outcome::OutOfCredit,
        None
    )]
    #[case::exa_402(
        "exa",
        402,
        r#"{"error":"Payment required"}"#,
        Outcome::OutOfCredit,
        None
    )]
    // Captcha solvers: HTTP 200 with an error id.
    #[case::anticaptcha_zero("anticaptcha", 200, r#"{"errorId":10,"errorCode":"ERROR_ZERO_BALANCE","errorDescription":"Account has zero or negative balance"}"#, Outcome::OutOfCredit, Some("ERROR_ZERO_BALANCE"))]
    #[case::twocaptcha_legacy_zero(
        "twocaptcha",
        200,
        r#"{"status":0,"request":"ERROR_ZERO_BALANCE"}"#,
        Outcome::OutOfCredit,
        Some("ERROR_ZERO_BALANCE")
    )]
    #[case::captcha_bad_key("capsolver", 200, r#"{"errorId":1,"errorCode":"ERROR_KEY_DOES_NOT_EXIST","errorDescription":"Account authorization key not found"}"#, Outcome::Unauthorized, Some("ERROR_KEY_DOES_NOT_EXIST"))]
    #[case::captcha_other_error(
        "anticaptcha",
        200,
        r#"{"errorId":2,"errorCode":"ERROR_NO_SLOT_AVAILABLE"}"#,
        Outcome::ClientError,
        Some("ERROR_NO_SLOT_AVAILABLE")
    )]
    #[case::captcha_balance_ok(
        "anticaptcha",
        200,
        r#"{"errorId":0,"balance":12.3456}"#,
        Outcome::Ok,
        None
    )]
    // Replicate, Hugging Face, Twilio.
    #[case::replicate_402("replicate", 402, r#"{"title":"Billing required","detail":"You need to set up billing to run this model.","status":402}"#, Outcome::OutOfCredit, Some("Billing required"))]
    #[case::huggingface_402(
        "huggingface",
        402,
        "You have exceeded your monthly included credits for Inference Providers.",
        Outcome::OutOfCredit,
        None
    )]
    #[case::twilio_suspended("twilio", 403, r#"{"code":20403,"message":"Account is suspended","more_info":"https://www.twilio.com/docs/errors/20403","status":403}"#, Outcome::OutOfCredit, Some("20403"))]
    #[case::twilio_20005_account_not_active_is_out_of_funds("twilio", 401, r#"{"code":20005,"message":"Account not active","more_info":"https://www.twilio.com/docs/errors/20005","status":401}"#, Outcome::OutOfCredit, Some("20005"))]
    #[case::twilio_bad_auth("twilio", 401, r#"{"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401}"#, Outcome::Unauthorized, Some("20003"))]
    // Fallbacks: status alone, HTML, junk.
    #[case::unknown_402("acme", 402, "", Outcome::OutOfCredit, None)]
    #[case::unknown_500("acme", 500, "oops", Outcome::ServerError, None)]
    #[case::html_200(
        "acme",
        200,
        "<!DOCTYPE html><html><body>Login</body></html>",
        Outcome::BadResponse,
        None
    )]
    #[case::html_502(
        "acme",
        502,
        "<html><head><title>502 Bad Gateway</title></head></html>",
        Outcome::ServerError,
        None
    )]
    #[case::binary_junk("acme", 200, "\u{0}\u{1}\u{2}{{{", Outcome::Ok, None)]
    #[case::redirect("acme", 302, "", Outcome::BadResponse, None)]
    fn disguises(
        #[case] provider: &str,
        #[case] status: u16,
        #[case] body: &str,
        #[case] outcome: Outcome,
        #[case] code: Option<&str>,
    ) {
        let c = classify(&obs(provider, status, body));
        assert_eq!(c.outcome, outcome, "{provider} {status}: {body}");
        assert_eq!(
            c.code.as_deref(),
            code,
            "the code is pulled out of the body"
        );
    }

    #[test]
    fn openrouter_in_flight_budget_is_transient_with_retry_after() {
        let h = vec![("Retry-After".to_string(), "3".to_string())];
        let body = r#"{"error":{"code":402,"message":"…","metadata":{"limit_source":"openrouter_in_flight_budget","reason":"in_flight_budget_exhausted"}}}"#;
        let c = classify(&Observation {
            provider: Some("openrouter"),
            host: None,
            status: 402,
            headers: &h,
            request_headers: &[],
            body: body.as_bytes(),
        });
        assert_eq!(c.outcome, Outcome::OutOfCredit);
        assert!(c.transient, "the in-flight budget clears by itself");
        assert_eq!(c.retry_after, Some(Duration::from_secs(3)), "and says when");
        assert_eq!(c.quota.as_deref(), Some("openrouter_in_flight_budget"));

        let body = r#"{"error":{"code":402,"message":"…","metadata":{"limit_source":"openrouter_credits","reason":"weight_exceeds_budget"}}}"#;
        let c = classify(&Observation {
            provider: Some("openrouter"),
            host: None,
            status: 402,
            headers: &h,
            request_headers: &[],
            body: body.as_bytes(),
        });
        assert!(!c.transient, "credits do not come back by waiting");
        assert_eq!(
            c.retry_after, None,
            "and a Retry-After on a hard 402 is not a reason to retry"
        );
        assert_eq!(c.quota.as_deref(), Some("openrouter_credits"));
    }

    #[test]
    fn messages_and_quotas_are_extracted() {
        let c = classify(&obs(
            "openai",
            429,
            r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"project_spend_limit_exceeded"}}"#,
        ));
        assert_eq!(
            c.message.as_deref(),
            Some("You exceeded your current quota")
        );
        assert_eq!(
            c.quota.as_deref(),
            Some("project_spend_limit_exceeded"),
            "the limit that was hit"
        );
        let c = classify(&obs("tavily", 433, "{}"));
        assert_eq!(
            c.quota.as_deref(),
            Some("pay-as-you-go limit"),
            "Tavily's status names the quota"
        );
        let c = classify(&obs(
            "gemini",
            429,
            r#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.QuotaFailure","violations":[{"quotaMetric":"generativelanguage.googleapis.com/generate_content_free_tier_requests","quotaId":"GenerateRequestsPerDayPerProjectPerModel-FreeTier"}]}]}}"#,
        ));
        assert_eq!(
            c.quota.as_deref(),
            Some("GenerateRequestsPerDayPerProjectPerModel-FreeTier")
        );
        let c = classify(&obs(
            "scraperapi",
            403,
            "  You have used up all your API credits.\n",
        ));
        assert_eq!(
            c.message.as_deref(),
            Some("You have used up all your API credits."),
            "plain text is the message"
        );
    }

    #[test]
    fn an_x402_price_is_payment_required_not_out_of_credit() {
        let body = r#"{"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base","maxAmountRequired":"10000","resource":"https://api.example.com/v1/search","description":"one search","mimeType":"application/json","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"asset":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913","extra":{"name":"USD Coin","version":"2"}}]}"#;
        let c = classify(&obs("acme", 402, body));
        assert_eq!(
            c.outcome,
            Outcome::PaymentRequired,
            "a price asked, not an empty wallet"
        );
        let p = c.payment().expect("the accepts list is the payment");
        assert_eq!(
            p.amount.as_deref(),
            Some("0.01"),
            "10000 base units of Base USDC"
        );
        assert_eq!(p.amount_atomic.as_deref(), Some("10000"));
        assert_eq!(
            p.currency.as_deref(),
            Some("USDC"),
            "the symbol from the asset table"
        );
        assert_eq!(p.network.as_deref(), Some("base"));
        assert_eq!(
            p.resource.as_deref(),
            Some("https://api.example.com/v1/search")
        );
        assert_eq!(c.message.as_deref(), Some("X-PAYMENT header is required"));
        // The same 402 after a payment the wallet could not make.
        let failed = body.replace("X-PAYMENT header is required", "insufficient_funds");
        let c = classify(&obs("acme", 402, &failed));
        assert_eq!(
            c.outcome,
            Outcome::OutOfCredit,
            "a failed payment is the cliff"
        );
    }

    #[test]
    fn x402_v2_header_is_read_when_the_body_has_none() {
        use base64::Engine as _;
        let req = r#"{"x402Version":2,"accepts":[{"scheme":"exact","network":"eip155:8453","amount":"250","payTo":"0xabc","asset":"0xdef","extra":{"name":"USDC"}}]}"#;
        let h = vec![(
            "PAYMENT-REQUIRED".to_string(),
            base64::engine::general_purpose::STANDARD.encode(req),
        )];
        let c = classify(&Observation {
            provider: None,
            host: Some("api.example.com"),
            status: 402,
            headers: &h,
            request_headers: &[],
            body: b"",
        });
        assert_eq!(c.outcome, Outcome::PaymentRequired);
        let p = c.payment().expect("payment from the header");
        assert_eq!(
            (p.amount, p.amount_atomic.as_deref(), p.currency.as_deref()),
            (None, Some("250"), Some("USDC")),
            "an unknown contract keeps its base units"
        );
    }

    #[test]
    fn a_vendor_402_with_a_top_up_link_stays_out_of_credit() {
        let c = classify(&obs(
            "acme",
            402,
            r#"{"error":{"message":"pay","payment":{"amount":"1.00","currency":"USD","url":"https://pay.example.com/i/1"}}}"#,
        ));
        let p = c.payment().unwrap();
        assert_eq!(
            (p.amount.as_deref(), p.currency.as_deref()),
            (Some("1"), Some("USD"))
        );
        assert_eq!(p.uri.as_deref(), Some("https://pay.example.com/i/1"));
        assert_eq!(
            c.outcome,
            Outcome::PaymentRequired,
            "a price with a link to pay it"
        );
        let c = classify(&obs(
            "openrouter",
            402,
            r#"{"error":{"message":"Insufficient credits","payment":{"url":"https://openrouter.ai/credits"}}}"#,
        ));
        assert_eq!(
            c.outcome,
            Outcome::OutOfCredit,
            "a link without a price is a top-up page"
        );
    }

    #[test]
    fn scrapingbee_and_apify_disguises() {
        let c = classify(&obs(
            "scrapingbee",
            401,
            r#"{"message": "Monthly API calls limit reached: 1000"}"#,
        ));
        assert_eq!(
            c.outcome,
            Outcome::OutOfCredit,
            "a spent plan is not a bad key"
        );
        let c = classify(&obs(
            "apify",
            403,
            r#"{"error":{"type":"platform-feature-disabled","message":"Monthly usage hard limit exceeded"}}"#,
        ));
        assert_eq!(c.outcome, Outcome::OutOfCredit);
        let c = classify(&obs(
            "apify",
            403,
            r#"{"error":{"type":"insufficient-permissions","message":"You do not have permission to access this actor"}}"#,
        ));
        assert_eq!(
            c.outcome,
            Outcome::Forbidden,
            "a permissions 403 stays forbidden"
        );
    }

    #[test]
    fn host_stands_in_for_the_provider() {
        let o = Observation {
            provider: None,
            host: Some("api.moonshot.cn"),
            status: 403,
            headers: &[],
            request_headers: &[],
            body: b"{}",
        };
        assert_eq!(
            classify(&o).outcome,
            Outcome::OutOfCredit,
            "moonshot's 403 rule applies via its host"
        );
        let o = Observation {
            provider: None,
            host: Some("example.com"),
            status: 403,
            headers: &[],
            request_headers: &[],
            body: b"{}",
        };
        assert_eq!(
            classify(&o).outcome,
            Outcome::Forbidden,
            "but not to other hosts"
        );
    }

    #[test]
    fn html_error_page_is_bad_response_not_a_crash() {
        let c = classify(&obs(
            "deepseek",
            200,
            "<!DOCTYPE html><html><body>Login</body></html>",
        ));
        assert_eq!(c.outcome, Outcome::BadResponse);
        assert_eq!(c.message, None, "HTML is not quoted as a message");
    }

    #[test]
    fn a_huge_or_hostile_body_never_panics() {
        let big = "x".repeat(MAX_BODY * 2);
        assert_eq!(
            classify(&obs("acme", 500, &big)).outcome,
            Outcome::ServerError
        );
        let deep = "[".repeat(100_000);
        assert_eq!(
            classify(&obs("acme", 200, &deep)).outcome,
            Outcome::Ok,
            "serde's depth limit, no stack overflow"
        );
        let c = classify(&obs("acme", 400, "é".repeat(2000).as_str()));
        assert!(
            c.message.unwrap().chars().count() <= 501,
            "messages are truncated on char boundaries"
        );
    }

    #[test]
    fn retry_after_is_read_on_rate_limits() {
        let h = vec![("Retry-After".to_string(), "17".to_string())];
        let o = Observation {
            provider: None,
            host: None,
            status: 429,
            headers: &h,
            request_headers: &[],
            body: b"",
        };
        assert_eq!(classify(&o).retry_after, Some(Duration::from_secs(17)));
        let h = vec![(
            "retry-after".to_string(),
            "Wed, 21 Oct 2026 07:28:00 GMT".to_string(),
        )];
        let o = Observation {
            provider: None,
            host: None,
            status: 429,
            headers: &h,
            request_headers: &[],
            body: b"",
        };
        assert_eq!(
            classify(&o).retry_after,
            None,
            "an HTTP date is not parsed here (no clock)"
        );
    }

    #[test]
    fn hosts_map_to_providers() {
        assert_eq!(provider_for_host("api.scraperapi.com"), Some("scraperapi"));
        assert_eq!(provider_for_host("API.OpenAI.com."), Some("openai"));
        assert_eq!(provider_for_host("example.com"), None);
        assert_eq!(
            provider_for_host("notopenrouter.ai"),
            None,
            "suffix match is on a dot boundary"
        );
    }
}
