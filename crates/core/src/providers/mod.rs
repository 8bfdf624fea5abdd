//! The providers Cliffwatch knows and the [`Provider`] trait their adapters implement.
//!
//! Each provider is one module (`providers/<id>.rs`) that owns its static facts ([`ProviderInfo`]:
//! endpoint, units, key, top-up page, polling limit) and its adapter, with fixtures under
//! `tests/fixtures/providers/<id>/`. The [`registry!`] list at the bottom of this file is the one
//! place a provider is registered: adding a provider is one file, its fixtures and one line.
//!
//! An adapter only knows its provider's request and JSON shape. Everything shared lives here:
//! the [`PollContext`] (account, key, base URL, `now`), sending through [`Http`], and turning a
//! non-2xx or disguised answer into a [`PollError`] via the one classifier,
//! [`crate::classify::classify`].

use crate::classify::{classify, Classification, Observation};
use crate::http::{Http, HttpError, Request, Response};
use crate::model::{Account, Outcome, Unit};
use crate::secrets::Secret;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;
use ts_rs::TS;
use url::Url;

/// What kind of service a provider is; the dashboard groups by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Category {
    /// Prepaid LLM credit with a balance endpoint.
    Llm,
    /// LLM vendors that only report spend: remaining = the user's budget − spend since it was set.
    SpendOnly,
    Scraping,
    Search,
    Captcha,
    Telecom,
    Custom,
}

/// A provider-specific setting an account needs besides its key.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export)]
pub struct OptionSpec {
    /// Key in the account's `options` JSON and the CLI flag name (`--project-id`).
    pub key: &'static str,
    pub label: &'static str,
    pub required: bool,
}

/// Static facts about one provider.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export)]
pub struct ProviderInfo {
    /// Stable id used in the CLI, the database and the API (`openrouter`).
    pub id: &'static str,
    pub name: &'static str,
    pub category: Category,
    /// Where requests go unless the account overrides it.
    pub default_base_url: &'static str,
    /// What the balance is counted in, in words ("USD", "credits", "characters").
    pub units: &'static str,
    /// Which key the balance endpoint needs, in words.
    pub key_help: &'static str,
    /// The provider's billing / top-up page.
    pub top_up_url: &'static str,
    /// The provider's own limit on how often its balance endpoint may be called.
    pub min_poll_interval_s: u32,
    pub options: &'static [OptionSpec],
}

/// For providers that need nothing but a key.
pub const NO_OPTIONS: &[OptionSpec] = &[];
/// No documented limit: once a minute is polite for any balance endpoint.
pub const DEFAULT_MIN_POLL_S: u32 = 60;

/// One normalised reading of a balance or quota.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Reading {
    pub remaining: Option<f64>,
    pub limit: Option<f64>,
    pub used: Option<f64>,
    pub unit: Unit,
    /// When the period's allowance resets, for providers with a period.
    pub resets_at: Option<DateTime<Utc>>,
    /// What the numbers mean when it is not obvious ("per-key limit", "other currency: …").
    pub note: Option<String>,
}

impl Reading {
    /// A reading in `unit` with nothing known yet.
    pub fn new(unit: Unit) -> Self {
        Self {
            remaining: None,
            limit: None,
            used: None,
            unit,
            resets_at: None,
            note: None,
        }
    }

    /// remaining = limit − used, when both are known and remaining was not given.
    pub fn derive_remaining(mut self) -> Self {
        if self.remaining.is_none() {
            if let (Some(l), Some(u)) = (self.limit, self.used) {
                self.remaining = Some(l - u);
            }
        }
        self
    }
}

/// Everything an adapter needs for one poll.
#[derive(Debug, Clone, Copy)]
pub struct PollContext<'a> {
    pub info: &'static ProviderInfo,
    pub account: &'a Account,
    pub secret: Option<&'a Secret>,
    /// The account's base-URL override, or the provider's default; no trailing slash.
    pub base_url: &'a str,
    pub now: DateTime<Utc>,
}

/// Why a poll produced no reading. Messages are sentences that say what to do; they never
/// contain the key (bodies are scrubbed of it before they are quoted).
#[derive(Debug, Clone, thiserror::Error)]
pub enum PollError {
    #[error(transparent)]
    Http(#[from] HttpError),
    /// A 402 or a disguised one. Never retried at speed.
    #[error("{message}")]
    OutOfCredit {
        status: u16,
        classification: Box<Classification>,
        message: String,
    },
    /// The key was rejected (401): polling waits until the user edits the account.
    #[error("{message}")]
    InvalidKey {
        status: u16,
        classification: Box<Classification>,
        message: String,
    },
    #[error("{message}")]
    Forbidden {
        status: u16,
        classification: Box<Classification>,
        message: String,
    },
    #[error("{message}")]
    RateLimited {
        status: u16,
        retry_after: Option<Duration>,
        classification: Box<Classification>,
        message: String,
    },
    #[error("{message}")]
    Server {
        status: u16,
        classification: Box<Classification>,
        message: String,
    },
    /// Another 4xx.
    #[error("{message}")]
    Rejected {
        status: u16,
        classification: Box<Classification>,
        message: String,
    },
    /// An answer that is not the documented JSON (HTML, truncated, a field missing).
    #[error("{message}")]
    BadResponse { message: String },
    /// The account is set up wrong (missing option, bad custom spec, no budget, no key).
    #[error("{message}")]
    Config { message: String },
}

impl PollError {
    /// Stable machine name for `--json` output and the UI (`error: {kind, message}`).
    pub fn kind(&self) -> &'static str {
        match self {
            PollError::Http(e) => e.kind(),
            PollError::OutOfCredit { .. } => "out_of_credit",
            PollError::InvalidKey { .. } => "invalid_key",
            PollError::Forbidden { .. } => "forbidden",
            PollError::RateLimited { .. } => "rate_limited",
            PollError::Server { .. } => "server_error",
            PollError::Rejected { .. } => "client_error",
            PollError::BadResponse { .. } => "bad_response",
            PollError::Config { .. } => "config",
        }
    }

    /// The classifier's verdict, when there was an answer to classify.
    pub fn classification(&self) -> Option<&Classification> {
        match self {
            PollError::OutOfCredit { classification, .. }
            | PollError::InvalidKey { classification, .. }
            | PollError::Forbidden { classification, .. }
            | PollError::RateLimited { classification, .. }
            | PollError::Server { classification, .. }
            | PollError::Rejected { classification, .. } => Some(classification.as_ref()),
            _ => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match self {
            PollError::OutOfCredit { status, .. }
            | PollError::InvalidKey { status, .. }
            | PollError::Forbidden { status, .. }
            | PollError::RateLimited { status, .. }
            | PollError::Server { status, .. }
            | PollError::Rejected { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub fn config(message: impl Into<String>) -> Self {
        PollError::Config {
            message: message.into(),
        }
    }
}

/// A provider adapter: reads one account's balance.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + std::fmt::Debug {
    fn info(&self) -> &'static ProviderInfo;

    /// Checks the account's `options` before anything is stored; the message says what to fix.
    fn validate_options(&self, _options: &serde_json::Value) -> Result<(), String> {
        Ok(())
    }

    /// One poll. Non-2xx and disguised answers come back as the classified [`PollError`].
    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError>;
}

impl<'a> PollContext<'a> {
    /// The account's key, or a config error naming what the provider needs.
    pub fn secret(&self) -> Result<&'a Secret, PollError> {
        self.secret.ok_or_else(|| {
            PollError::config(format!(
                "{} needs a key ({}) but account `{}` has none: add it again with its key",
                self.info.name, self.info.key_help, self.account.label
            ))
        })
    }

    /// `base_url` + `path` (which starts with `/` and may carry a query).
    pub fn url(&self, path: &str) -> Result<Url, PollError> {
        let raw = format!("{}{}", self.base_url.trim_end_matches('/'), path);
        Url::parse(&raw).map_err(|e| {
            PollError::config(format!(
                "`{}` is not a usable base URL for {} ({e}): fix it with `account edit`",
                self.base_url, self.info.name
            ))
        })
    }

    /// A string option of the account (`project_id`, `account_sid`).
    pub fn option(&self, key: &str) -> Result<&'a str, PollError> {
        self.account
            .options
            .get(key)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| {
                // Two options have a flag of their own in `account add`; every other one is
                // given as `--option KEY=VALUE`.
                let how = match key {
                    "project_id" | "account_sid" => format!("--{}", key.replace('_', "-")),
                    _ => format!("--option {key}=…"),
                };
                PollError::config(format!(
                    "{} accounts need the option `{key}`: set it with {how}",
                    self.info.name
                ))
            })
    }

    /// Sends `req` and returns the JSON body of a successful answer; anything else goes through
    /// the classifier and comes back as a [`PollError`].
    pub async fn fetch_json(
        &self,
        http: &Http,
        req: Request,
    ) -> Result<serde_json::Value, PollError> {
        let resp = http.send(req).await?;
        let c = self.classify(&resp);
        if c.outcome != Outcome::Ok {
            return Err(self.error_from(resp.status, c));
        }
        self.parse_json(&resp.body)
    }

    /// The classifier's verdict on an answer, for adapters that look at it themselves.
    pub fn classify(&self, resp: &Response) -> Classification {
        let mut c = classify(&Observation {
            provider: Some(self.info.id),
            host: Some(&resp.host),
            status: resp.status,
            headers: &resp.headers,
            request_headers: &[],
            body: &resp.body,
        });
        let wants_delay =
            matches!(c.outcome, Outcome::RateLimited | Outcome::ServerError) || c.transient;
        if wants_delay && c.retry_after.is_none() {
            // The classifier has no clock; here `now` is known, so an HTTP-date works too.
            c.retry_after = resp
                .header("retry-after")
                .and_then(|v| retry_at(v, self.now));
        }
        c
    }

    /// Parses a body that must be JSON.
    pub fn parse_json(&self, body: &[u8]) -> Result<serde_json::Value, PollError> {
        let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
        serde_json::from_slice(body).map_err(|e| PollError::BadResponse {
            message: format!(
                "{} answered with something that is not JSON ({}): check the base URL `{}`",
                self.info.name,
                if e.is_eof() {
                    "the body is cut short".into()
                } else {
                    describe_non_json(body)
                },
                self.base_url
            ),
        })
    }

    /// A required number at a JSON pointer; numbers and numeric strings both count.
    pub fn number(&self, json: &serde_json::Value, ptr: &str) -> Result<f64, PollError> {
        number_at(json, ptr).ok_or_else(|| self.missing(ptr))
    }

    /// The error for a field the documented answer should have had.
    pub fn missing(&self, what: &str) -> PollError {
        PollError::BadResponse {
            message: format!(
                "{}'s answer has no usable `{what}`: its API may have changed; please report it",
                self.info.name
            ),
        }
    }

    /// Turns a classified non-OK answer into the matching error, with a message that says
    /// what to do. The key is scrubbed from everything quoted from the body.
    pub fn error_from(&self, status: u16, c: Classification) -> PollError {
        let mut c = Box::new(c);
        if let Some(secret) = self.secret {
            let key = secret.expose();
            for field in [&mut c.message, &mut c.code, &mut c.quota]
                .into_iter()
                .flatten()
            {
                if !key.is_empty() && field.contains(key) {
                    *field = field.replace(key, crate::redact::REDACTED);
                }
            }
        }
        // The exact key is gone; the redactor takes what else the answer echoes (another
        // key, a URL-encoded one, a signed URL).
        for field in [&mut c.message, &mut c.code, &mut c.quota]
            .into_iter()
            .flatten()
        {
            *field = crate::redact::redact_text(field);
        }
        if let Some(p) = &mut c.payment {
            crate::redact::redact_json(p);
        }
        let name = self.info.name;
        let said = c
            .message
            .as_deref()
            .or(c.code.as_deref())
            // Already redacted above: `said` quotes only redacted text.
            .map(|m| format!(": \"{}\"", shorten(m, 200)))
            .unwrap_or_default();
        let hint = self
            .account
            .secret_hint
            .as_deref()
            .map(|h| format!(" ending {h}"))
            .unwrap_or_default();
        match c.outcome {
            Outcome::OutOfCredit => {
                let message = if c.transient {
                    format!("{name} is out of in-flight budget for the moment (HTTP {status}{said}); it clears by itself")
                } else if self.info.top_up_url.is_empty() {
                    format!("{name} says the account is out of credit (HTTP {status}{said}): top it up")
                } else {
                    format!(
                        "{name} says the account is out of credit (HTTP {status}{said}): top up at {}",
                        self.info.top_up_url
                    )
                };
                PollError::OutOfCredit { status, classification: c, message }
            }
            Outcome::Unauthorized => PollError::InvalidKey {
                status,
                message: format!(
                    "{name} rejected the key{hint} (HTTP {status}{said}): check it ({}), then edit the account",
                    self.info.key_help
                ),
                classification: c,
            },
            Outcome::Forbidden => PollError::Forbidden {
                status,
                message: format!(
                    "{name} refused the request (HTTP {status}{said}): the key may lack a permission; it needs: {}",
                    self.info.key_help
                ),
                classification: c,
            },
            Outcome::RateLimited => PollError::RateLimited {
                status,
                retry_after: c.retry_after,
                message: match c.retry_after {
                    Some(d) => format!(
                        "{name} is rate-limiting Cliffwatch (HTTP {status}{said}); it retries in {} s",
                        d.as_secs()
                    ),
                    None => format!("{name} is rate-limiting Cliffwatch (HTTP {status}{said}); it retries later"),
                },
                classification: c,
            },
            Outcome::ServerError => PollError::Server {
                status,
                message: format!("{name} had a server error (HTTP {status}{said}); Cliffwatch retries with backoff"),
                classification: c,
            },
            Outcome::PaymentRequired => PollError::Rejected {
                status,
                message: format!("{name}'s balance endpoint asks for a payment (HTTP {status}{said}): Cliffwatch never pays for a reading; check the account's base URL"),
                classification: c,
            },
            Outcome::ClientError => PollError::Rejected {
                status,
                message: format!("{name} refused the request (HTTP {status}{said}): check the account's settings"),
                classification: c,
            },
            Outcome::BadResponse | Outcome::Ok => PollError::BadResponse {
                message: format!(
                    "{name} answered HTTP {status} with a page that is not its documented JSON: check the base URL `{}`",
                    crate::redact::redact_url(self.base_url)
                ),
            },
        }
    }
}

/// A `Retry-After` HTTP-date (`Wed, 21 Oct 2026 07:28:00 GMT`) as a delay from `now`, capped
/// at one day like the seconds form.
pub fn retry_at(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let at = DateTime::parse_from_rfc2822(value.trim())
        .ok()?
        .with_timezone(&Utc);
    let secs = (at - now).num_seconds().clamp(0, 86_400);
    Some(Duration::from_secs(secs as u64))
}

/// A number at a JSON pointer: a JSON number, or a string holding one (`"7.83"`).
pub fn number_at(json: &serde_json::Value, ptr: &str) -> Option<f64> {
    as_number(json.pointer(ptr)?)
}

/// A JSON number or numeric string as `f64`; `null`, text and non-finite values are `None`.
pub fn as_number(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A spend-only account's budget and the time it was set, or a config error saying how to set it.
pub fn budget(ctx: &PollContext<'_>) -> Result<(f64, DateTime<Utc>), PollError> {
    match (ctx.account.budget, ctx.account.budget_set_at) {
        (Some(b), Some(at)) => Ok((b, at)),
        _ => Err(PollError::config(format!(
            "{} has no balance endpoint: set the prepaid amount or monthly budget with `account edit {} --budget AMOUNT`",
            ctx.info.name, ctx.account.label
        ))),
    }
}

/// remaining = budget − spend, for spend-only providers.
pub fn spend_reading(budget: f64, spent: f64, currency: &str) -> Reading {
    Reading {
        remaining: Some(budget - spent),
        limit: Some(budget),
        used: Some(spent),
        note: Some("budget − spend since the budget was set".into()),
        ..Reading::new(Unit::currency(currency))
    }
}

/// The start of the next period (`daily`, `weekly` from Monday, `monthly`, all UTC) after `now`.
pub fn next_reset(now: DateTime<Utc>, period: &str) -> Option<DateTime<Utc>> {
    use chrono::{Datelike, Duration as D, NaiveTime, TimeZone};
    let midnight = |d: chrono::NaiveDate| Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN));
    let today = now.date_naive();
    match period.to_ascii_lowercase().as_str() {
        "daily" | "day" => Some(midnight(today + D::days(1))),
        "weekly" | "week" => Some(midnight(
            today + D::days(7 - i64::from(today.weekday().num_days_from_monday())),
        )),
        "monthly" | "month" => {
            let (y, m) = if today.month() == 12 {
                (today.year() + 1, 1)
            } else {
                (today.year(), today.month() + 1)
            };
            chrono::NaiveDate::from_ymd_opt(y, m, 1).map(midnight)
        }
        _ => None,
    }
}

fn describe_non_json(body: &[u8]) -> String {
    let head = String::from_utf8_lossy(&body[..body.len().min(64)])
        .trim_start()
        .to_ascii_lowercase();
    if head.starts_with("<!doctype html") || head.starts_with("<html") {
        "an HTML page".into()
    } else if body.starts_with(&[0x1f, 0x8b]) {
        // Cliffwatch sends no Accept-Encoding and inflates nothing (a 1 KiB gzip can hold
        // gigabytes): a compressed answer is refused as it came.
        "a gzip-compressed body, which Cliffwatch did not ask for".into()
    } else if body.is_empty() {
        "an empty body".into()
    } else {
        "unparseable text".into()
    }
}

fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Registers the adapter modules: declares each module and builds [`PROVIDERS`] (from each
/// module's `INFO`) and the adapter table, in the order the CLI lists them.
macro_rules! registry {
    ($($module:ident => $adapter:ident),* $(,)?) => {
        $(pub mod $module;)*

        /// Every provider, in the order the CLI lists them.
        pub static PROVIDERS: &[ProviderInfo] = &[$($module::INFO),*];

        static ADAPTERS: &[&dyn Provider] = &[$(&$module::$adapter),*];
    };
}

mod cost_report;

/// Fixtures, a loopback server and the key-placement check for the adapters' tests; compiled
/// only into tests, and the integration tests in `tests/` include the same file.
#[cfg(test)]
mod adapter_testkit;

// The one registration line per provider.
registry! {
    openrouter => OpenRouter,
    deepseek => DeepSeek,
    moonshot => Moonshot,
    siliconflow => SiliconFlow,
    deepinfra => DeepInfra,
    novita => Novita,
    venice => Venice,
    zenmux => ZenMux,
    elevenlabs => ElevenLabs,
    deepgram => Deepgram,
    openai => OpenAi,
    anthropic => Anthropic,
    scraperapi => ScraperApi,
    scrapingbee => ScrapingBee,
    zenrows => ZenRows,
    scrapingant => ScrapingAnt,
    brightdata => BrightData,
    apify => Apify,
    firecrawl => Firecrawl,
    serpapi => SerpApi,
    tavily => Tavily,
    twocaptcha => TwoCaptcha,
    anticaptcha => AntiCaptcha,
    capsolver => CapSolver,
    twilio => Twilio,
    xai => Xai,
    fal => Fal,
    featherless => Featherless,
    runpod => Runpod,
    linkup => Linkup,
    dataforseo => DataForSeo,
    hunter => Hunter,
    crawlbase => Crawlbase,
    scrapegraphai => ScrapeGraphAi,
    valueserp => ValueSerp,
    scrappey => Scrappey,
    nopecha => Nopecha,
    deathbycaptcha => DeathByCaptcha,
    huggingface => HuggingFace,
    cloudflare_ai_gateway => CloudflareAiGateway,
    exa => Exa,
    custom => Custom,
}

/// The provider with this id.
pub fn find(id: &str) -> crate::Result<&'static ProviderInfo> {
    PROVIDERS
        .iter()
        .find(|p| p.id == id)
        .ok_or_else(|| crate::Error::UnknownProvider(id.to_owned()))
}

/// The adapter for this provider id.
pub fn adapter(id: &str) -> crate::Result<&'static dyn Provider> {
    ADAPTERS
        .iter()
        .copied()
        .find(|a| a.info().id == id)
        .ok_or_else(|| crate::Error::UnknownProvider(id.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_urls_are_https() {
        let mut ids: Vec<_> = PROVIDERS.iter().map(|p| p.id).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), PROVIDERS.len(), "duplicate provider id");
        assert_eq!(PROVIDERS.len(), 42, "41 providers + custom");
        for p in PROVIDERS.iter().filter(|p| p.id != "custom") {
            assert!(
                p.default_base_url.starts_with("https://"),
                "{}: base URL",
                p.id
            );
            assert!(
                p.top_up_url.starts_with("https://"),
                "{}: top-up URL must be https",
                p.id
            );
        }
    }

    #[test]
    fn every_provider_has_its_adapter() {
        for p in PROVIDERS {
            let a = adapter(p.id).unwrap();
            assert!(
                std::ptr::eq(a.info(), find(p.id).unwrap()) || a.info().id == p.id,
                "{}",
                p.id
            );
        }
    }

    #[test]
    fn unknown_id_names_itself() {
        let err = find("openrouterr").unwrap_err();
        assert_eq!(err.kind(), "unknown_provider");
        assert!(err.to_string().contains("openrouterr"));
    }

    #[test]
    fn retry_after_dates_become_delays_from_now() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2026, 10, 21, 7, 27, 0).unwrap();
        assert_eq!(
            retry_at("Wed, 21 Oct 2026 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            retry_at("Wed, 21 Oct 2026 07:00:00 GMT", now),
            Some(Duration::ZERO),
            "a date in the past means now, not a negative delay"
        );
        assert_eq!(retry_at("soon", now), None);
    }

    #[test]
    fn numbers_come_from_numbers_and_numeric_strings() {
        let j = serde_json::json!({"a": 1.5, "b": "7.83", "c": "n/a", "d": null});
        assert_eq!(number_at(&j, "/a"), Some(1.5));
        assert_eq!(
            number_at(&j, "/b"),
            Some(7.83),
            "DeepSeek and Twilio send strings"
        );
        assert_eq!(number_at(&j, "/c"), None, "text is not a number");
        assert_eq!(number_at(&j, "/d"), None, "null is not zero");
        assert_eq!(number_at(&j, "/missing"), None);
    }
}
