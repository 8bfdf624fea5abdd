//! What a 402 says about paying. HTTP 402 is also the machine-to-machine payment signal: an
//! agent that pays per call sees a price on its first request (a *challenge*), and the cliff is
//! when its wallet cannot pay (a *failed* payment). A paid answer carries a receipt (*paid*),
//! which is spend. One [`Payment`] type holds all of them, with a normalised price, for every
//! protocol Cliffwatch reads, one module each behind [`Protocol`]:
//!
//! - [`x402`]: v1 bodies, v2 `PAYMENT-REQUIRED` / `PAYMENT-RESPONSE` headers (and v1's `X-`);
//! - [`l402`]: `WWW-Authenticate: L402` / `LSAT` with a BOLT11 invoice (the amount is in its
//!   human-readable part);
//! - [`mpp`]: `WWW-Authenticate: Payment` (draft-httpauth-payment), its problem types and its
//!   `Payment-Receipt`;
//! - [`crawl`]: Cloudflare pay-per-crawl's `crawler-price` / `crawler-charged` / `crawler-error`;
//! - [`plain`]: the plain JSON payment instructions tutorials recommend.
//!
//! Everything here is untrusted: bounded, never acted on, and redacted like any other text
//! before it is stored or shown.

mod amount;
pub mod assets;
pub mod auth;
mod crawl;
mod l402;
mod mpp;
mod plain;
mod view;
mod x402;

pub use amount::{decimal, shift, to_f64};
pub use l402::{bolt11_amount, Bolt11Amount};
pub use view::{shorten, view, PaymentView};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The payment protocols Cliffwatch reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Scheme {
    X402,
    L402,
    Mpp,
    /// Cloudflare pay-per-crawl.
    PayPerCrawl,
    /// Plain JSON payment instructions in a 402 body.
    Json,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::X402 => "x402",
            Scheme::L402 => "l402",
            Scheme::Mpp => "mpp",
            Scheme::PayPerCrawl => "pay_per_crawl",
            Scheme::Json => "json",
        }
    }
}

/// Where in a payment's life an answer stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Stage {
    /// A price asked: the client may pay and retry.
    Challenge,
    /// A payment was tried and refused (insufficient funds, above all).
    Failed,
    /// A payment went through: the answer is spend.
    Paid,
}

/// A payment challenge, failure or receipt, with its price normalised. Stored as the event's
/// `payment` JSON (documented in the README as stable) and shown in the 402 history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Payment {
    pub protocol: Scheme,
    pub stage: Stage,
    /// The protocol's own version (x402 1 or 2), when it says.
    pub version: Option<u32>,
    /// x402's scheme (`exact`), MPP's method (`tempo`, `stripe`), `lightning` for L402.
    pub method: Option<String>,
    /// The price (or amount paid) as a decimal string in `currency` units ("0.01"); `None`
    /// when no amount was given or its decimals are unknown.
    pub amount: Option<String>,
    /// The amount as the protocol gave it: base units for x402 and MPP ("10000"), the BOLT11
    /// amount part for L402 ("1500n"), the header value for pay-per-crawl.
    pub amount_atomic: Option<String>,
    /// A currency code or token symbol (USD, USDC, sat), else the asset as given.
    pub currency: Option<String>,
    /// Decimals used to read `amount_atomic`; `None` with a `note` when unknown.
    pub decimals: Option<u32>,
    /// The token contract or asset id as given (x402 `asset`, an MPP token address).
    pub asset: Option<String>,
    /// Network: CAIP-2 (`eip155:8453`), x402 v1 names (`base`), `bitcoin`, `cloudflare:402`.
    pub network: Option<String>,
    pub pay_to: Option<String>,
    /// The resource the price is for (x402 `resource.url`), redacted like any URL.
    pub resource: Option<String>,
    pub description: Option<String>,
    /// When the offer lapses: an RFC 3339 time, or `maxTimeoutSeconds` as "60 s".
    pub expires: Option<String>,
    /// Why the payment failed or what the challenge complains of (x402 `errorReason`, an MPP
    /// problem type, a `crawler-error` code, x402's `error`).
    pub error: Option<String>,
    /// A settlement's transaction hash or receipt reference.
    pub transaction: Option<String>,
    pub payer: Option<String>,
    /// A payment link (plain JSON's `payment_uri`); https only, never opened by itself.
    pub uri: Option<String>,
    /// How many ways to pay were offered (x402 `accepts`, several MPP challenges); the first
    /// is the one shown.
    pub offers: u32,
    /// Words on what could not be read ("decimals unknown", "invoice has no amount").
    pub note: Option<String>,
}

impl Payment {
    fn new(protocol: Scheme, stage: Stage) -> Self {
        Payment {
            protocol,
            stage,
            version: None,
            method: None,
            amount: None,
            amount_atomic: None,
            currency: None,
            decimals: None,
            asset: None,
            network: None,
            pay_to: None,
            resource: None,
            description: None,
            expires: None,
            error: None,
            transaction: None,
            payer: None,
            uri: None,
            offers: 0,
            note: None,
        }
    }

    /// Sets the amount from base units and the asset's decimals, or notes they are unknown.
    fn set_atomic(&mut self, atomic: Option<String>, decimals: Option<u32>) {
        self.decimals = decimals;
        self.amount = match (&atomic, decimals) {
            (Some(a), Some(d)) => shift(a, d),
            _ => None,
        };
        if atomic.is_some() && decimals.is_none() {
            self.note = Some("decimals unknown: the amount is in the asset's base units".into());
        }
        self.amount_atomic = atomic;
    }

    /// A challenge with a price the client could pay.
    pub fn is_priced_challenge(&self) -> bool {
        self.stage == Stage::Challenge && (self.amount.is_some() || self.amount_atomic.is_some())
    }

    /// The amount as a number, for spend sums.
    pub fn amount_f64(&self) -> Option<f64> {
        self.amount.as_deref().and_then(to_f64)
    }

    /// As the event's `payment` JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// The parts of one HTTP exchange the payment readers look at.
#[derive(Debug, Clone, Copy)]
pub struct Exchange<'a> {
    pub status: u16,
    pub headers: &'a [(String, String)],
    /// The request's headers, where the log has them: a paid request's `PAYMENT-SIGNATURE`
    /// (`X-PAYMENT`) or `Authorization: Payment` says what was paid. Read, never stored.
    pub request_headers: &'a [(String, String)],
    pub json: Option<&'a serde_json::Value>,
}

impl Exchange<'_> {
    /// The first response header of this name (any case).
    fn header(&self, name: &str) -> Option<&str> {
        header(self.headers, name)
    }
}

pub(crate) fn header<'h>(headers: &'h [(String, String)], name: &str) -> Option<&'h str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.trim())
}

/// One payment protocol: what it reads out of an exchange, if anything.
trait Protocol: Sync {
    fn read(&self, x: &Exchange<'_>) -> Option<Payment>;
}

/// In order: receipts and failures first (a paid or refused answer may also repeat the
/// challenge), then challenges, the most specific protocols before plain JSON.
static PROTOCOLS: &[&dyn Protocol] = &[
    &x402::X402,
    &mpp::Mpp,
    &crawl::PayPerCrawl,
    &l402::L402,
    &plain::PlainJson,
];

/// What an exchange says about paying, if anything. Never panics, whatever it holds.
pub fn read(x: &Exchange<'_>) -> Option<Payment> {
    let mut found: Vec<Payment> = PROTOCOLS.iter().filter_map(|p| p.read(x)).collect();
    // A receipt or a failure outranks a challenge read from the same answer.
    found.sort_by_key(|p| match p.stage {
        Stage::Failed => 0,
        Stage::Paid => 1,
        Stage::Challenge => 2,
    });
    let mut first = found.into_iter().next()?;
    first.clean();
    Some(first)
}

/// The longest text a payment field may hold.
const MAX_FIELD: usize = 300;

impl Payment {
    /// Bounds every field and drops links that are not https.
    fn clean(&mut self) {
        for f in [
            &mut self.method,
            &mut self.amount,
            &mut self.amount_atomic,
            &mut self.currency,
            &mut self.asset,
            &mut self.network,
            &mut self.pay_to,
            &mut self.resource,
            &mut self.description,
            &mut self.expires,
            &mut self.error,
            &mut self.transaction,
            &mut self.payer,
            &mut self.uri,
            &mut self.note,
        ] {
            if let Some(s) = f.take() {
                let s: String = s
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(MAX_FIELD)
                    .collect();
                let s = s.trim();
                if !s.is_empty() {
                    *f = Some(s.to_owned());
                }
            }
        }
        if self.uri.as_deref().is_some_and(|u| {
            !u.get(..8)
                .is_some_and(|p| p.eq_ignore_ascii_case("https://"))
        }) {
            self.uri = None;
        }
    }
}

/// Base64 of JSON as payment headers carry it: standard or URL-safe alphabet, padded or not,
/// bounded. `None` for anything that is not a JSON object after decoding.
pub(crate) fn base64_json(v: &str) -> Option<serde_json::Value> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    use base64::Engine as _;
    let v = v.trim();
    if v.is_empty() || v.len() > 64 * 1024 {
        return None;
    }
    let bytes = [STANDARD, URL_SAFE, STANDARD_NO_PAD, URL_SAFE_NO_PAD]
        .iter()
        .find_map(|e| e.decode(v).ok())
        // Some servers send the JSON itself.
        .or_else(|| v.starts_with('{').then(|| v.as_bytes().to_vec()))?;
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .filter(serde_json::Value::is_object)
}

/// A JSON scalar as text (strings and numbers), bounded.
pub(crate) fn text(v: Option<&serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.trim().is_empty() => {
            Some(s.trim().chars().take(MAX_FIELD).collect())
        }
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
