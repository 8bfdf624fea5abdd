//! Domain nouns shared by the store, the engines, the CLI and the UI. Types that cross into the
//! dashboard derive `ts_rs::TS`; `cargo test` regenerates `ui/src/bindings/` from them and CI
//! fails when the committed bindings drift.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

macro_rules! id_type {
    ($(#[$m:meta])* $name:ident) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, sqlx::Type)]
        #[serde(transparent)]
        #[sqlx(transparent)]
        #[ts(export, type = "number")]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// Row id of an account.
    AccountId
);
id_type!(
    /// Row id of a log source.
    LogSourceId
);
id_type!(
    /// Row id of a cliff event.
    CliffEventId
);
id_type!(
    /// Row id of an alert.
    AlertId
);

/// What Cliffwatch last learned about an account's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AccountState {
    /// Not polled yet.
    Unknown,
    /// The last poll succeeded.
    Ok,
    /// The provider said the balance or quota is exhausted (a 402 or a disguised one).
    OutOfCredit,
    /// The provider rejected the key (401); polling waits until the user edits it.
    InvalidKey,
    /// The last poll failed for another reason (network, 5xx, bad response).
    Error,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Unknown => "unknown",
            AccountState::Ok => "ok",
            AccountState::OutOfCredit => "out_of_credit",
            AccountState::InvalidKey => "invalid_key",
            AccountState::Error => "error",
        }
    }

    pub fn parse(s: &str) -> crate::Result<Self> {
        Ok(match s {
            "unknown" => AccountState::Unknown,
            "ok" => AccountState::Ok,
            "out_of_credit" => AccountState::OutOfCredit,
            "invalid_key" => AccountState::InvalidKey,
            "error" => AccountState::Error,
            other => {
                return Err(crate::Error::Malformed(format!(
                    "unknown account state `{other}`"
                )))
            }
        })
    }
}

/// The unit a balance is counted in: a currency (lower-case ISO 4217 code: `usd`, `cny`, `eur`)
/// or a provider's own count (`credits`, `characters`, `searches`, `requests`, `tokens`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(transparent)]
#[ts(export, type = "string")]
pub struct Unit(String);

impl Unit {
    pub const CREDITS: &'static str = "credits";
    pub const CHARACTERS: &'static str = "characters";
    pub const SEARCHES: &'static str = "searches";
    pub const REQUESTS: &'static str = "requests";
    pub const TOKENS: &'static str = "tokens";
    const COUNTS: [&'static str; 5] = [
        Self::CREDITS,
        Self::CHARACTERS,
        Self::SEARCHES,
        Self::REQUESTS,
        Self::TOKENS,
    ];

    /// A currency unit from an ISO 4217 code in any case ("USD", "usd").
    pub fn currency(code: &str) -> Self {
        Unit(code.trim().to_ascii_lowercase())
    }

    pub fn usd() -> Self {
        Unit("usd".into())
    }

    pub fn credits() -> Self {
        Unit(Self::CREDITS.into())
    }

    /// Parses a unit as a user or the database writes it.
    pub fn parse(s: &str) -> crate::Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        if Self::COUNTS.contains(&s.as_str())
            || (s.len() == 3 && s.bytes().all(|b| b.is_ascii_lowercase()))
        {
            Ok(Unit(s))
        } else {
            Err(crate::Error::InvalidInput(format!(
                "unknown unit `{s}`: use a 3-letter currency code (usd, cny, eur …) or one of {}",
                Self::COUNTS.join(", ")
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the unit is money (a currency code) rather than a count.
    pub fn is_money(&self) -> bool {
        !Self::COUNTS.contains(&self.0.as_str())
    }
}

impl std::fmt::Display for Unit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An account as stored: one API key at one provider. The key itself is not here.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Account {
    pub id: AccountId,
    pub provider: String,
    pub label: String,
    pub base_url: Option<String>,
    /// Where the key lives: "keychain", "env $VAR" or "none". Never the key.
    pub secret: String,
    /// At most the last 4 characters of the key ("…f3a9"), when it is in the keychain.
    pub secret_hint: Option<String>,
    /// Prepaid amount or monthly budget, for spend-only providers.
    pub budget: Option<f64>,
    pub budget_set_at: Option<DateTime<Utc>>,
    /// Provider-specific settings (Deepgram project id, Twilio account SID, a custom spec).
    #[ts(type = "Record<string, unknown>")]
    pub options: serde_json::Value,
    pub state: AccountState,
    pub state_message: Option<String>,
    pub poll_interval_s: Option<i64>,
    /// The proxy answers this account's clients with a local 402 while it is out of credit.
    #[serde(default)]
    pub breaker: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One stored reading of an account's balance or quota.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BalanceSample {
    pub account_id: AccountId,
    pub observed_at: DateTime<Utc>,
    pub remaining: Option<f64>,
    pub limit: Option<f64>,
    pub used: Option<f64>,
    pub unit: Unit,
    pub resets_at: Option<DateTime<Utc>>,
    /// Remaining rose since the previous sample: a top-up or a period reset, not spend.
    pub is_topup: bool,
}

/// An account with its latest reading, as `cliffwatch status` and the dashboard show it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountStatus {
    pub account: Account,
    pub provider_name: String,
    pub latest: Option<BalanceSample>,
    pub top_up_url: Option<String>,
    /// The proxy's breaker is on for this account and open (out of credit) since then.
    pub breaker_open_since: Option<DateTime<Utc>>,
}

/// Everything the dashboard's first screen needs, in one answer.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct StatusReport {
    pub generated_at: DateTime<Utc>,
    pub data_dir: String,
    pub accounts: Vec<AccountStatus>,
}

/// What the running app is, for the dashboard's header.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    /// Demo mode: loopback providers, a compressed clock, temporary data.
    pub demo: bool,
    pub data_dir: String,
}

/// An error as the UI and `--json` output receive it.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ErrorDto {
    pub kind: String,
    pub message: String,
}

impl From<crate::Error> for ErrorDto {
    fn from(e: crate::Error) -> Self {
        ErrorDto::from(&e)
    }
}

impl From<&crate::Error> for ErrorDto {
    fn from(e: &crate::Error) -> Self {
        ErrorDto {
            kind: e.kind().into(),
            message: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_parse_currencies_and_counts() {
        assert_eq!(Unit::parse("USD").unwrap(), Unit::usd());
        assert!(
            !Unit::parse("credits").unwrap().is_money(),
            "counts are not money"
        );
        assert!(Unit::parse("cny").unwrap().is_money());
        assert!(Unit::parse("dollars").is_err(), "free text is not a unit");
    }

    #[test]
    fn account_state_round_trips() {
        for s in [
            AccountState::Unknown,
            AccountState::Ok,
            AccountState::OutOfCredit,
            AccountState::InvalidKey,
            AccountState::Error,
        ] {
            assert_eq!(AccountState::parse(s.as_str()).unwrap(), s);
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()), "JSON name = DB name");
        }
    }
}

/// What a provider's answer means, as the one shared classifier decides it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Outcome {
    Ok,
    /// A 402 or a disguised 402: the balance, credit or quota is exhausted. Never retried.
    OutOfCredit,
    /// A payment protocol's challenge with a price (x402, L402, MPP, pay-per-crawl): the client
    /// may pay and retry. A price asked, not an empty wallet; not alerted by default.
    PaymentRequired,
    /// Too many requests; retry after the delay the provider gave.
    RateLimited,
    /// The key was rejected (401).
    Unauthorized,
    Forbidden,
    ServerError,
    /// Another 4xx.
    ClientError,
    /// Not an answer the provider documents: an HTML page, truncated JSON, a body too large.
    BadResponse,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::OutOfCredit => "out_of_credit",
            Outcome::PaymentRequired => "payment_required",
            Outcome::RateLimited => "rate_limited",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Forbidden => "forbidden",
            Outcome::ServerError => "server_error",
            Outcome::ClientError => "client_error",
            Outcome::BadResponse => "bad_response",
        }
    }

    pub fn parse(s: &str) -> crate::Result<Self> {
        Ok(match s {
            "ok" => Outcome::Ok,
            "out_of_credit" => Outcome::OutOfCredit,
            "payment_required" => Outcome::PaymentRequired,
            "rate_limited" => Outcome::RateLimited,
            "unauthorized" => Outcome::Unauthorized,
            "forbidden" => Outcome::Forbidden,
            "server_error" => Outcome::ServerError,
            "client_error" => Outcome::ClientError,
            "bad_response" => Outcome::BadResponse,
            other => {
                return Err(crate::Error::Malformed(format!(
                    "unknown outcome `{other}`"
                )))
            }
        })
    }
}

/// Where a cliff event was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum EventOrigin {
    Poll,
    Log,
    /// Seen by the recording proxy (`cliffwatch proxy`) on its way to the client.
    Proxy,
}

impl EventOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            EventOrigin::Poll => "poll",
            EventOrigin::Log => "log",
            EventOrigin::Proxy => "proxy",
        }
    }
}

/// A 402, a disguised 402, or another failed request, from a poll or a log line.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct CliffEvent {
    pub id: Option<CliffEventId>,
    pub account_id: Option<AccountId>,
    pub provider: Option<String>,
    pub occurred_at: DateTime<Utc>,
    pub origin: EventOrigin,
    pub outcome: Outcome,
    pub status: Option<i64>,
    pub method: Option<String>,
    pub host: Option<String>,
    /// With secrets in the query string redacted.
    pub url: Option<String>,
    pub code: Option<String>,
    pub message: Option<String>,
    pub quota: Option<String>,
    /// What the answer said about paying, as a [`crate::payments::Payment`] (older rows hold an
    /// earlier, looser shape). Untrusted.
    #[ts(type = "Record<string, unknown> | null")]
    pub payment: Option<serde_json::Value>,
    pub log_file_id: Option<i64>,
    pub byte_offset: Option<i64>,
}

/// A log source: a path or glob, and how to read it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogSource {
    pub id: LogSourceId,
    pub pattern: String,
    pub format: String,
    pub zone: Option<String>,
    pub account_id: Option<AccountId>,
    #[ts(type = "Record<string, unknown>")]
    pub options: serde_json::Value,
    pub enabled: bool,
    pub created_at: DateTime<Utc>,
}

/// One usage record: tokens and cost of one request, from an agent log or a cost report.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct UsageRecord {
    pub account_id: Option<AccountId>,
    pub source_id: Option<LogSourceId>,
    pub occurred_at: DateTime<Utc>,
    pub provider: String,
    pub model: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_creation_tokens: i64,
    pub cache_read_tokens: i64,
    pub reasoning_tokens: i64,
    pub cost: Option<f64>,
    pub currency: Option<String>,
    /// Where a pay-per-call payment went (the paid answer's host); `None` for token usage.
    pub host: Option<String>,
    /// The payment protocol of a paid answer (`x402`, `mpp`, `pay_per_crawl`); `None` for
    /// token usage.
    pub protocol: Option<String>,
    /// One record per real request: message id + request id, or file + offset.
    pub dedupe_key: String,
}
