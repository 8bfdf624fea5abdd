//! Plain JSON payment instructions in a 402 body, the shape tutorials on pay-per-API 402s
//! recommend and vendors copy: `{"status": 402, "message": "Payment Required",
//! "payment_instructions": {"amount": 0.05, "currency": "USDC", "payment_uri": "https://…"}}`,
//! and the same object under `payment`, `error.payment` or `payment_required`. The amount is in
//! currency units, not base units.

use super::{amount, assets, text, Exchange, Payment, Protocol, Scheme, Stage};

pub struct PlainJson;

const PLACES: [&str; 5] = [
    "/payment_instructions",
    "/payment",
    "/error/payment",
    "/payment_required",
    "/error/payment_instructions",
];

impl Protocol for PlainJson {
    fn read(&self, x: &Exchange<'_>) -> Option<Payment> {
        let j = x.json?;
        let o = PLACES
            .iter()
            .find_map(|ptr| j.pointer(ptr).filter(|v| v.is_object()))?;
        let s = |keys: &[&str]| keys.iter().find_map(|k| text(o.get(*k)));
        let mut p = Payment::new(Scheme::Json, Stage::Challenge);
        p.method = s(&["scheme", "method"]);
        p.currency = s(&["currency", "asset", "token"]);
        p.network = s(&["network", "chain"]);
        p.pay_to = s(&["pay_to", "payTo", "address", "recipient", "wallet"]);
        p.uri = s(&[
            "payment_uri",
            "payment_url",
            "paymentUrl",
            "uri",
            "url",
            "checkout_url",
            "link",
        ]);
        p.description = s(&["description", "memo"]);
        p.expires = s(&["expires_at", "expiresAt", "expires", "expiry"]);
        p.resource = s(&["resource"]);
        let raw = ["amount", "price", "amount_due"]
            .iter()
            .find_map(|k| o.get(*k));
        p.amount_atomic = raw.and_then(|v| text(Some(v)));
        p.amount = raw.and_then(amount::decimal_json);
        p.decimals = p
            .currency
            .as_deref()
            .and_then(|c| assets::lookup(p.network.as_deref(), c))
            .map(|k| k.decimals);
        if p.amount_atomic.is_some() && p.amount.is_none() {
            p.note = Some("the amount could not be read".into());
        }
        p.offers = u32::from(p.amount_atomic.is_some());
        if p.amount_atomic.is_none() && p.uri.is_none() && p.pay_to.is_none() {
            return None;
        }
        Some(p)
    }
}
