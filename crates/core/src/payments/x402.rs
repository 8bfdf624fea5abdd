//! x402 (coinbase/x402 `specs/`): a 402 with payment requirements, either in the body (v1:
//! `{x402Version: 1, error, accepts: [{scheme, network, maxAmountRequired, asset, payTo,
//! resource, description, maxTimeoutSeconds, extra}]}`) or in a base64 `PAYMENT-REQUIRED` header
//! (v2: `{x402Version: 2, error?, resource: {url, description?}, accepts: [{scheme, network
//! (CAIP-2), amount, asset, payTo, maxTimeoutSeconds, extra}]}`). The settlement comes back in
//! `PAYMENT-RESPONSE` (v1: `X-PAYMENT-RESPONSE`): `{success, errorReason?, transaction, network,
//! payer}`. What was paid is in the request's `PAYMENT-SIGNATURE` (v1: `X-PAYMENT`).

use super::{assets, base64_json, header, text, Exchange, Payment, Protocol, Scheme, Stage};
use serde_json::Value;

pub struct X402;

impl Protocol for X402 {
    fn read(&self, x: &Exchange<'_>) -> Option<Payment> {
        settlement(x).or_else(|| challenge(x))
    }
}

/// Failure reasons that mean the payer cannot pay (x402's `insufficient_funds` and kin).
fn is_funds(reason: &str) -> bool {
    let r = reason.to_ascii_lowercase();
    r.contains("insufficient") || r.contains("balance")
}

fn settlement(x: &Exchange<'_>) -> Option<Payment> {
    let raw = x
        .header("payment-response")
        .or_else(|| x.header("x-payment-response"))?;
    let j = base64_json(raw);
    let success = j
        .as_ref()
        .and_then(|j| j.get("success"))
        .and_then(Value::as_bool);
    let stage = match success {
        Some(true) => Stage::Paid,
        Some(false) => Stage::Failed,
        // Unreadable: a 2xx carrying it was paid; anything else is a failed payment.
        None if (200..300).contains(&x.status) => Stage::Paid,
        None => Stage::Failed,
    };
    let mut p = Payment::new(Scheme::X402, stage);
    let Some(j) = j else {
        p.note = Some("the PAYMENT-RESPONSE header could not be read".into());
        // What the request paid may still be readable.
        paid_with(x, &mut p);
        return Some(p);
    };
    p.error = text(j.get("errorReason"));
    p.transaction = text(j.get("transaction"));
    p.network = text(j.get("network"));
    p.payer = text(j.get("payer"));
    paid_with(x, &mut p);
    // Cloudflare's settlement names the asset itself: `{amount, asset: "USD", network}`.
    p.asset = p.asset.take().or_else(|| text(j.get("asset")));
    if p.amount_atomic.is_none() {
        // Some facilitators echo the amount.
        if let Some(a) = text(j.get("amount")) {
            let known = p
                .asset
                .as_deref()
                .and_then(|asset| assets::lookup(p.network.as_deref(), asset));
            p.currency = p
                .currency
                .take()
                .or_else(|| known.as_ref().map(|k| k.symbol.clone()));
            p.set_atomic(Some(a), known.map(|k| k.decimals));
        }
    }
    Some(p)
}

/// What the request's payment header says was offered: v2's `accepted` requirement, or v1's
/// signed authorization value.
fn paid_with(x: &Exchange<'_>, p: &mut Payment) {
    let Some(j) = header(x.request_headers, "payment-signature")
        .or_else(|| header(x.request_headers, "x-payment"))
        .and_then(base64_json)
    else {
        return;
    };
    p.version = j
        .get("x402Version")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok());
    if let Some(req) = j.get("accepted").filter(|a| a.is_object()) {
        offer(req, p);
        return;
    }
    p.method = p.method.take().or_else(|| text(j.get("scheme")));
    p.network = p.network.take().or_else(|| text(j.get("network")));
    let auth = j.pointer("/payload/authorization");
    p.pay_to = text(auth.and_then(|a| a.get("to")));
    let value = text(auth.and_then(|a| a.get("value")));
    // v1's payload names no asset; its decimals are only known if the network has one asset.
    p.set_atomic(value, None);
}

fn challenge(x: &Exchange<'_>) -> Option<Payment> {
    let from_header = x
        .header("payment-required")
        .or_else(|| x.header("x-payment-required"));
    let (j, unreadable) = match from_header {
        Some(h) => match base64_json(h) {
            Some(j) => (j, false),
            None => match x.json.filter(|j| is_requirements(j)) {
                Some(body) => (body.clone(), true),
                None => {
                    let mut p = Payment::new(Scheme::X402, Stage::Challenge);
                    p.version = Some(2);
                    p.note = Some("the PAYMENT-REQUIRED header could not be read".into());
                    return Some(p);
                }
            },
        },
        None => (x.json.filter(|j| is_requirements(j))?.clone(), false),
    };
    let Some(mut p) = requirements(&j) else {
        // A header that decodes to an object with nothing in it is still a challenge.
        let mut p = Payment::new(Scheme::X402, Stage::Challenge);
        p.version = Some(2);
        p.note = Some("the PAYMENT-REQUIRED header holds no payment requirements".into());
        return from_header.map(|_| p);
    };
    if unreadable {
        p.note =
            Some("the PAYMENT-REQUIRED header could not be read; the body's offer is shown".into());
    }
    Some(p)
}

fn is_requirements(j: &Value) -> bool {
    j.get("x402Version").is_some()
        || j.get("accepts").and_then(Value::as_array).is_some_and(|a| {
            a.first()
                .is_some_and(|o| o.get("maxAmountRequired").is_some() || o.get("payTo").is_some())
        })
        || j.pointer("/error/accepts").is_some()
}

/// A `PaymentRequired` object (either version).
fn requirements(j: &Value) -> Option<Payment> {
    let accepts = j
        .get("accepts")
        .or_else(|| j.pointer("/error/accepts"))
        .and_then(Value::as_array);
    let error = text(j.get("error")).or_else(|| text(j.pointer("/error/message")));
    let stage = if error.as_deref().is_some_and(is_funds) {
        Stage::Failed
    } else {
        Stage::Challenge
    };
    let mut p = Payment::new(Scheme::X402, stage);
    p.version = j
        .get("x402Version")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok());
    p.error = error;
    p.offers = accepts.map_or(0, |a| u32::try_from(a.len()).unwrap_or(u32::MAX));
    if let Some(first) = accepts.and_then(|a| a.first()) {
        offer(first, &mut p);
    }
    // v2 names the resource once, at the top.
    if let Some(r) = j.get("resource").filter(|r| r.is_object()) {
        p.resource = text(r.get("url")).or(p.resource.take());
        p.description = text(r.get("description")).or(p.description.take());
    }
    if p.version.is_none() && p.offers == 0 && p.error.is_none() {
        return None;
    }
    Some(p)
}

/// One `accepts` entry (`PaymentRequirements`) into `p`.
fn offer(o: &Value, p: &mut Payment) {
    p.method = text(o.get("scheme"));
    p.network = text(o.get("network"));
    p.asset = text(o.get("asset"));
    p.pay_to = text(o.get("payTo"));
    p.resource = text(o.get("resource"));
    p.description = text(o.get("description"));
    p.expires = o
        .get("maxTimeoutSeconds")
        .and_then(Value::as_u64)
        .map(|s| format!("{s} s"));
    let atomic = text(o.get("amount")).or_else(|| text(o.get("maxAmountRequired")));
    let known = p
        .asset
        .as_deref()
        .and_then(|a| assets::lookup(p.network.as_deref(), a));
    p.currency = match &known {
        Some(k) => Some(k.symbol.clone()),
        // EIP-712's domain name is often the symbol ("USDC" on testnets); a long name is not.
        None => text(o.pointer("/extra/name"))
            .filter(|n| n.len() <= 11 && !n.contains(' '))
            .or_else(|| p.asset.clone()),
    };
    p.set_atomic(atomic, known.map(|k| k.decimals));
}
