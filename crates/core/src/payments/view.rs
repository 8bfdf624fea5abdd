//! A payment as people read it: one price string, a shortened pay-to, the protocol's name. The
//! core decides these words; the CLI table, the window and alerts only show them.

use super::{Payment, Scheme, Stage};
use serde::Serialize;
use ts_rs::TS;

/// What the 402 history shows of an event's payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct PaymentView {
    /// "x402 v2", "L402", "MPP", "pay-per-crawl", "JSON instructions".
    pub protocol: String,
    pub stage: Stage,
    /// "0.01 USDC", "150 sat", "10000 base units (decimals unknown)"; `None` without a price.
    pub price: Option<String>,
    pub network: Option<String>,
    /// "0x2096…287C".
    pub pay_to: Option<String>,
    pub resource: Option<String>,
    pub description: Option<String>,
    /// Why it failed, or what could not be read.
    pub note: Option<String>,
}

/// The view of a stored `payment` JSON; `None` for rows without one or with an older shape
/// that has no protocol.
pub fn view(payment: Option<&serde_json::Value>) -> Option<PaymentView> {
    let p: Payment = serde_json::from_value(payment?.clone()).ok()?;
    Some(p.view())
}

impl Payment {
    pub fn view(&self) -> PaymentView {
        let protocol = match (self.protocol, self.version) {
            (Scheme::X402, Some(v)) => format!("x402 v{v}"),
            (Scheme::X402, None) => "x402".into(),
            (Scheme::L402, _) => "L402".into(),
            (Scheme::Mpp, _) => "MPP".into(),
            (Scheme::PayPerCrawl, _) => "pay-per-crawl".into(),
            (Scheme::Json, _) => "JSON instructions".into(),
        };
        PaymentView {
            protocol,
            stage: self.stage,
            price: self.price(),
            network: self.network.clone(),
            pay_to: self.pay_to.as_deref().map(shorten),
            resource: self.resource.clone(),
            description: self.description.clone(),
            // x402's `error` on a challenge is its instruction ("X-PAYMENT header is required"),
            // already the event's message; on a failure it is why.
            note: match (self.protocol, self.stage) {
                (Scheme::X402, Stage::Challenge) => self.note.clone(),
                _ => self.error.clone().or_else(|| self.note.clone()),
            },
        }
    }

    /// "0.01 USDC"; base units when the decimals are unknown.
    pub fn price(&self) -> Option<String> {
        let unit = self.currency.as_deref().map(shorten);
        match (&self.amount, &self.amount_atomic, unit) {
            (Some(a), _, Some(u)) => Some(format!("{a} {u}")),
            (Some(a), _, None) => Some(a.clone()),
            (None, Some(atomic), unit) if self.decimals.is_none() => Some(match unit {
                Some(u) => format!("{atomic} base units of {u} (decimals unknown)"),
                None => format!("{atomic} base units (decimals unknown)"),
            }),
            (None, Some(atomic), _) => Some(atomic.clone()),
            _ => None,
        }
    }
}

/// A long address as its head and tail ("0x2096…287C"); short text as it is.
pub fn shorten(s: &str) -> String {
    let n = s.chars().count();
    if n <= 14 {
        return s.to_owned();
    }
    let head: String = s.chars().take(6).collect();
    let tail: String = s.chars().skip(n - 4).collect();
    format!("{head}…{tail}")
}
