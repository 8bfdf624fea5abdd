//! L402 (bLIP-26; formerly LSAT): `WWW-Authenticate: L402 macaroon="…", invoice="lnbc…"` (the
//! scheme in any case; `LSAT` as the older name). The price is the BOLT11 invoice's amount, in
//! its human-readable part: `ln` + network (`bc`, `tb`, `bcrt`, `tbs`) + an optional amount with
//! a multiplier (`m` 10⁻³, `u` 10⁻⁶, `n` 10⁻⁹, `p` 10⁻¹² BTC), ended by the bech32 separator `1`.
//! `lnbc1500n…` = 1500 × 10⁻⁹ BTC = 150 sat. Nothing else of the invoice is decoded.

use super::{auth, Exchange, Payment, Protocol, Scheme, Stage};

pub struct L402;

impl Protocol for L402 {
    fn read(&self, x: &Exchange<'_>) -> Option<Payment> {
        let c = auth::challenges(x.headers).into_iter().find(|c| {
            c.scheme.eq_ignore_ascii_case("L402") || c.scheme.eq_ignore_ascii_case("LSAT")
        })?;
        let mut p = Payment::new(Scheme::L402, Stage::Challenge);
        p.method = Some("lightning".into());
        p.offers = 1;
        p.version = c.param("version").and_then(|v| v.parse().ok());
        let Some(invoice) = c.param("invoice") else {
            p.note = Some("the challenge has no invoice".into());
            return Some(p);
        };
        match bolt11_amount(invoice) {
            Ok(a) => {
                p.network = Some(a.network.into());
                p.currency = Some("sat".into());
                p.decimals = Some(0);
                p.amount_atomic = a.written;
                p.amount = a.msat.map(msat_to_sat);
                if p.amount.is_none() {
                    p.note = Some("the invoice has no amount (the payer chooses)".into());
                }
            }
            Err(why) => p.note = Some(format!("the invoice could not be read: {why}")),
        }
        Some(p)
    }
}

/// What a BOLT11 invoice's human-readable part says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bolt11Amount {
    /// bitcoin, testnet, regtest or signet.
    pub network: &'static str,
    /// The amount in millisatoshi; `None` when the invoice leaves it to the payer.
    pub msat: Option<u128>,
    /// The amount part as written ("1500n").
    pub written: Option<String>,
}

/// Reads the amount of a BOLT11 invoice from its human-readable part.
pub fn bolt11_amount(invoice: &str) -> Result<Bolt11Amount, &'static str> {
    let inv = invoice.trim();
    let inv = inv
        .get(..10)
        .filter(|p| p.eq_ignore_ascii_case("lightning:"))
        .map_or(inv, |_| &inv[10..]);
    let lower = inv.to_ascii_lowercase();
    // The separator is the last '1'; the data part after it is bech32 (no '1' in it).
    let sep = lower.rfind('1').ok_or("no bech32 separator")?;
    let hrp = lower.get(..sep).ok_or("no human-readable part")?;
    let rest = hrp
        .strip_prefix("ln")
        .ok_or("not a lightning invoice (no `ln` prefix)")?;
    // Longest prefixes first: `bcrt` before `bc`, `tbs` before `tb`.
    let (network, amount) = [
        ("bcrt", "regtest"),
        ("tbs", "signet"),
        ("bc", "bitcoin"),
        ("tb", "testnet"),
    ]
    .iter()
    .find_map(|(prefix, name)| rest.strip_prefix(prefix).map(|a| (*name, a)))
    .ok_or("unknown network prefix")?;
    if amount.is_empty() {
        return Ok(Bolt11Amount {
            network,
            msat: None,
            written: None,
        });
    }
    let (digits, mult) = match amount.as_bytes().last() {
        Some(b'm' | b'u' | b'n' | b'p') => amount.split_at(amount.len() - 1),
        _ => (amount, ""),
    };
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the amount is not a number");
    }
    if digits.starts_with('0') {
        return Err("the amount has a leading zero");
    }
    let n: u128 = digits.parse().map_err(|_| "the amount is not a number")?;
    // 1 BTC = 10^11 msat.
    let msat = match mult {
        "" => n.checked_mul(100_000_000_000),
        "m" => n.checked_mul(100_000_000),
        "u" => n.checked_mul(100_000),
        "n" => n.checked_mul(100),
        "p" => {
            if !n.is_multiple_of(10) {
                return Err("a pico-bitcoin amount must end in 0");
            }
            Some(n / 10)
        }
        _ => None,
    }
    .ok_or("the amount is too large")?;
    Ok(Bolt11Amount {
        network,
        msat: Some(msat),
        written: Some(amount.to_owned()),
    })
}

/// Millisatoshi as a decimal number of satoshi ("150", "0.001").
fn msat_to_sat(msat: u128) -> String {
    super::shift(&msat.to_string(), 3).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bolt11_amounts_from_the_human_readable_part() {
        let sat = |s: &str| bolt11_amount(s).map(|a| a.msat.map(msat_to_sat));
        assert_eq!(
            sat("lnbc1500n1pvjluezpp5qqqsyqcyq5rqwzqf"),
            Ok(Some("150".into()))
        );
        // BOLT11's own examples: 2500u = 0.0025 BTC = 250,000 sat; 20m = 0.02 BTC.
        assert_eq!(
            sat("lnbc2500u1pvjluezsp5zyg3zyg3"),
            Ok(Some("250000".into()))
        );
        assert_eq!(
            sat("lnbc20m1pvjluezsp5zyg3zyg3zyg3"),
            Ok(Some("2000000".into()))
        );
        assert_eq!(
            sat("LNBC10P1PVJLUEZ"),
            Ok(Some("0.001".into())),
            "1 msat, in upper case"
        );
        assert_eq!(
            sat("lnbc1pvjluezsp5zyg3zyg3zyg3zyg3zyg3"),
            Ok(None),
            "no amount"
        );
        assert_eq!(bolt11_amount("lntb20m1pvjluez").unwrap().network, "testnet");
        assert_eq!(
            bolt11_amount("lnbcrt500u1pvjluez").unwrap().network,
            "regtest"
        );
        assert_eq!(bolt11_amount("lntbs1u1pvjluez").unwrap().network, "signet");
        assert_eq!(
            bolt11_amount("lightning:lnbc1500n1pvjluez").unwrap().msat,
            Some(150_000)
        );
        for bad in [
            "",
            "lnbc",
            "bc1qxyz",
            "lnxx1500n1abc",
            "lnbc15x0n1abc",
            "lnbc11p1abc",
            "lnbc0100n1ab",
            "lnbc99999999999999999999999m1a",
            "lnbc1é1",
        ] {
            assert!(
                bolt11_amount(bad).is_err() || bolt11_amount(bad).is_ok_and(|a| a.msat.is_none()),
                "{bad:?}"
            );
        }
        assert!(bolt11_amount("lnbc11p1abc").is_err(), "p amounts end in 0");
    }
}
