//! MPP, the `Payment` HTTP authentication scheme (draft-httpauth-payment): one or more
//! `WWW-Authenticate: Payment id=…, realm=…, method=…, intent=…, request="<base64url JSON>"
//! [, expires=…]` challenges. For intent `charge` the request holds `amount` (base units) and
//! `currency` (ISO 4217 in any case, or a token address). Errors are problem+json with types
//! under `https://paymentauth.org/problems/`; `payment-insufficient` is a wallet that cannot
//! pay. A paid answer carries `Payment-Receipt` (base64url JSON); what was paid is in the
//! request's `Authorization: Payment <credential>`, whose challenge echoes the request.

use super::{assets, auth, base64_json, header, text, Exchange, Payment, Protocol, Scheme, Stage};
use serde_json::Value;

pub struct Mpp;

const PROBLEMS: &str = "paymentauth.org/problems/";

impl Protocol for Mpp {
    fn read(&self, x: &Exchange<'_>) -> Option<Payment> {
        receipt(x).or_else(|| challenge(x))
    }
}

fn receipt(x: &Exchange<'_>) -> Option<Payment> {
    let raw = x.header("payment-receipt")?;
    let mut p = Payment::new(Scheme::Mpp, Stage::Paid);
    match base64_json(raw) {
        Some(j) => {
            if j.get("status")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.eq_ignore_ascii_case("success"))
            {
                p.stage = Stage::Failed;
                p.error = text(j.get("status"));
            }
            p.method = text(j.get("method"));
            p.transaction = text(j.get("reference"));
        }
        None => p.note = Some("the Payment-Receipt header could not be read".into()),
    }
    // The credential's echoed challenge says what was paid.
    if let Some(cred) = header(x.request_headers, "authorization")
        .and_then(|a| {
            a.get(..8)
                .filter(|s| s.eq_ignore_ascii_case("payment "))
                .map(|_| &a[8..])
        })
        .and_then(base64_json)
    {
        if let Some(c) = cred.get("challenge") {
            p.method = p.method.take().or_else(|| text(c.get("method")));
            if let Some(req) = text(c.get("request")).and_then(|r| base64_json(&r)) {
                charge(&req, &mut p);
            }
        }
    }
    Some(p)
}

fn challenge(x: &Exchange<'_>) -> Option<Payment> {
    let all: Vec<auth::Challenge> = auth::challenges(x.headers)
        .into_iter()
        .filter(|c| c.scheme.eq_ignore_ascii_case("payment"))
        .collect();
    let problem = x
        .json
        .and_then(|j| j.get("type"))
        .and_then(Value::as_str)
        .and_then(|t| t.split_once(PROBLEMS))
        .map(|(_, kind)| kind.trim_matches('/').to_owned());
    if all.is_empty() && problem.is_none() {
        return None;
    }
    let stage = match problem.as_deref() {
        Some("payment-insufficient") => Stage::Failed,
        _ => Stage::Challenge,
    };
    let mut p = Payment::new(Scheme::Mpp, stage);
    p.error = problem;
    p.offers = u32::try_from(all.len()).unwrap_or(u32::MAX);
    // A charge is a price; other intents (a session, an authorisation) are shown as asked.
    let first = all
        .iter()
        .find(|c| {
            c.param("intent")
                .is_some_and(|i| i.eq_ignore_ascii_case("charge"))
        })
        .or(all.first());
    if let Some(c) = first {
        p.method = c.param("method").map(str::to_owned);
        p.expires = c.param("expires").map(str::to_owned);
        p.description = c.param("description").map(str::to_owned);
        p.resource = c.param("realm").map(str::to_owned);
        match c.param("request").map(base64_json) {
            Some(Some(req)) => charge(&req, &mut p),
            Some(None) => p.note = Some("the challenge's request could not be read".into()),
            None => p.note = Some("the challenge has no request".into()),
        }
    }
    if let Some(j) = x.json {
        p.description = p.description.take().or_else(|| text(j.get("detail")));
    }
    Some(p)
}

/// A charge request: `amount` in base units, `currency` (ISO 4217 or a token), `recipient`.
fn charge(req: &Value, p: &mut Payment) {
    let currency = text(req.get("currency"));
    p.pay_to = text(req.get("recipient")).or_else(|| text(req.get("payTo")));
    p.network = p.network.take().or_else(|| {
        text(req.pointer("/methodDetails/network"))
            .or_else(|| text(req.pointer("/methodDetails/chainId")))
    });
    p.description = p
        .description
        .take()
        .or_else(|| text(req.get("description")));
    let known = currency
        .as_deref()
        .and_then(|c| assets::lookup(p.network.as_deref(), c));
    p.asset = currency.clone().filter(|_| {
        known
            .as_ref()
            .is_none_or(|k| assets::fiat_decimals(&k.symbol).is_none())
    });
    p.currency = known.as_ref().map(|k| k.symbol.clone()).or(currency);
    p.set_atomic(text(req.get("amount")), known.map(|k| k.decimals));
}
