//! Amounts as decimal strings: an atomic amount ("10000" base units) shifted by the asset's
//! decimals ("0.01"), without floating point (a token amount can have 78 digits).

/// The most digits an amount may have; longer is not an amount anyone asks for.
const MAX_DIGITS: usize = 80;

/// `atomic` (ASCII digits only) divided by 10^`decimals`, as the shortest decimal string:
/// ("10000", 6) → "0.01", ("150", 0) → "150", ("1500", 2) → "15". `None` when `atomic` is not a
/// plain non-negative integer.
pub fn shift(atomic: &str, decimals: u32) -> Option<String> {
    let digits = atomic.trim();
    if digits.is_empty() || digits.len() > MAX_DIGITS || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let digits = digits.trim_start_matches('0');
    let decimals = usize::try_from(decimals)
        .ok()
        .filter(|d| *d <= MAX_DIGITS)?;
    if digits.is_empty() {
        return Some("0".into());
    }
    let padded = if digits.len() <= decimals {
        format!("{}{digits}", "0".repeat(decimals - digits.len() + 1))
    } else {
        digits.to_owned()
    };
    let (int, frac) = padded.split_at(padded.len() - decimals);
    let frac = frac.trim_end_matches('0');
    Some(if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    })
}

/// A decimal amount as a service wrote it (`0.05`, `"1.50"`, `12`), normalised: no sign, no
/// exponent, no trailing zeros. `None` for anything else (negative, NaN, words).
pub fn decimal(text: &str) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || t.len() > MAX_DIGITS {
        return None;
    }
    let (int, frac) = t.split_once('.').unwrap_or((t, ""));
    if !(int.bytes().all(|b| b.is_ascii_digit()) && frac.bytes().all(|b| b.is_ascii_digit()))
        || (int.is_empty() && frac.is_empty())
    {
        return None;
    }
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let frac = frac.trim_end_matches('0');
    Some(if frac.is_empty() {
        int.to_owned()
    } else {
        format!("{int}.{frac}")
    })
}

/// A JSON amount in currency units: a string or a number.
pub fn decimal_json(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => decimal(s),
        serde_json::Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                Some(u.to_string())
            } else {
                let f = n.as_f64().filter(|f| f.is_finite() && *f >= 0.0)?;
                // Numbers in JSON bodies are prices like 0.05; 12 significant digits keep them.
                decimal(&format!("{f:.12}"))
            }
        }
        _ => None,
    }
}

/// The decimal string as a float, for sums (spend per day). Exact enough for money shown with
/// two to six decimals.
pub fn to_f64(decimal: &str) -> Option<f64> {
    decimal.parse::<f64>().ok().filter(|f| f.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_amounts_shift_by_the_assets_decimals() {
        assert_eq!(shift("10000", 6).as_deref(), Some("0.01"));
        assert_eq!(shift("1", 6).as_deref(), Some("0.000001"));
        assert_eq!(shift("1500", 2).as_deref(), Some("15"));
        assert_eq!(shift("150", 0).as_deref(), Some("150"));
        assert_eq!(shift("000", 6).as_deref(), Some("0"));
        assert_eq!(
            shift(
                "115792089237316195423570985008687907853269984665640564039457584007913129639935",
                18
            )
            .as_deref(),
            Some("115792089237316195423570985008687907853269984665640564039457.584007913129639935"),
            "a uint256 is not a float"
        );
        for bad in ["", "-5", "1.5", "1e6", "0x10", "١٢"] {
            assert_eq!(shift(bad, 6), None, "{bad:?}");
        }
    }

    #[test]
    fn decimals_are_normalised() {
        assert_eq!(decimal("0.050").as_deref(), Some("0.05"));
        assert_eq!(decimal("007").as_deref(), Some("7"));
        assert_eq!(decimal(".5").as_deref(), Some("0.5"));
        assert_eq!(
            decimal_json(&serde_json::json!(0.05)).as_deref(),
            Some("0.05")
        );
        assert_eq!(decimal_json(&serde_json::json!(12)).as_deref(), Some("12"));
        for bad in ["", ".", "-1", "1e3", "NaN", "five"] {
            assert_eq!(decimal(bad), None, "{bad:?}");
        }
        assert_eq!(decimal_json(&serde_json::json!(-0.5)), None);
    }
}
