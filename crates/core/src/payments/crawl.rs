//! Cloudflare pay-per-crawl: a 402 carries `crawler-price: USD 0.01`; a crawler that accepts
//! sends `crawler-exact-price` (or `crawler-max-price`) and the paid 200 says
//! `crawler-charged: USD 0.01`; a refusal says why in `crawler-error`. (Its x402 form, network
//! `cloudflare:402` with asset `USD` in cents, is read by [`super::x402`].)

use super::{amount, assets, Exchange, Payment, Protocol, Scheme, Stage};

pub struct PayPerCrawl;

impl Protocol for PayPerCrawl {
    fn read(&self, x: &Exchange<'_>) -> Option<Payment> {
        let charged = x.header("crawler-charged");
        let price = x.header("crawler-price");
        let error = x.header("crawler-error");
        let (stage, value) = match (charged, price, error) {
            (Some(c), ..) if (200..300).contains(&x.status) => (Stage::Paid, Some(c)),
            (_, Some(p), None) => (Stage::Challenge, Some(p)),
            (_, p, Some(_)) => (Stage::Failed, p),
            _ => return None,
        };
        let mut p = Payment::new(Scheme::PayPerCrawl, stage);
        p.offers = u32::from(value.is_some());
        p.error = error.map(str::to_owned);
        if stage == Stage::Failed && !error.is_some_and(is_funds) {
            // A price refused for another reason (a bad signature, a price header the site did
            // not accept) is still a price asked, not an empty wallet.
            p.stage = Stage::Challenge;
        }
        if let Some(v) = value {
            p.amount_atomic = Some(v.to_owned());
            match price_of(v) {
                Some((currency, amount, decimals)) => {
                    p.currency = Some(currency);
                    p.amount = Some(amount);
                    p.decimals = decimals;
                }
                None => p.note = Some("the price header could not be read".into()),
            }
        }
        Some(p)
    }
}

fn is_funds(code: &str) -> bool {
    let c = code.to_ascii_lowercase();
    // `PaymentFailed` (403): the crawler's payment did not go through.
    c.contains("insufficient")
        || c.contains("funds")
        || c.contains("balance")
        || c == "paymentfailed"
}

/// `USD 0.01` (currency, then a decimal amount); also `0.01 USD`.
fn price_of(v: &str) -> Option<(String, String, Option<u32>)> {
    let mut parts = v.split_ascii_whitespace();
    let (a, b) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let (cur, amt) = if a.bytes().all(|c| c.is_ascii_alphabetic()) {
        (a, b)
    } else {
        (b, a)
    };
    if cur.is_empty() || cur.len() > 8 || !cur.bytes().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let amount = amount::decimal(amt)?;
    Some((cur.to_ascii_uppercase(), amount, assets::fiat_decimals(cur)))
}
