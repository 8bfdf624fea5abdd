//! Amounts in words, one way for every host: the tray, the CLI's text output, notifications
//! and (through its TypeScript twin `ui/src/format.ts`, checked against the table this module
//! writes to `ui/src/bindings/amounts.json`) the window. "$1,234.50", "12.00 CHF",
//! "4,820 credits", "12.5 credits".

/// A small amount with up to six decimals and no trailing zeros ("0.42", "0.000001", "12"): pay-
/// per-call prices are fractions of a cent.
pub fn decimal(value: f64) -> String {
    if !value.is_finite() {
        return UNKNOWN.into();
    }
    let s = format!("{value:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s.is_empty() || s == "-0" {
        "0".into()
    } else {
        s.to_owned()
    }
}

/// Currency codes written with a symbol before the number; any other 3-letter code is written
/// after it in capitals ("12.00 CHF").
pub const SYMBOLS: [(&str, &str); 5] = [
    ("usd", "$"),
    ("eur", "€"),
    ("gbp", "£"),
    ("cny", "¥"),
    ("jpy", "¥"),
];

/// What is shown where an amount is unknown.
pub const UNKNOWN: &str = "—";

/// `value` in `unit` (a lowercase currency code or a count unit such as "credits"), the way
/// people write balances. Money has cents and a thousands separator; a count is whole from 100
/// up and keeps one decimal below. Never "-$0.00": a sign only on what rounds to non-zero.
pub fn format_amount(value: f64, unit: &str) -> String {
    if !value.is_finite() {
        return UNKNOWN.into();
    }
    let unit = unit.trim().to_ascii_lowercase();
    let money = unit.len() == 3 && unit.bytes().all(|b| b.is_ascii_lowercase());
    if money {
        let cents = (value.abs() * 100.0).round();
        let sign = if value < 0.0 && cents > 0.0 { "-" } else { "" };
        let digits = format!("{}.{:02}", group(cents / 100.0), (cents % 100.0) as u64);
        return match SYMBOLS.iter().find(|(code, _)| *code == unit) {
            Some((_, symbol)) => format!("{sign}{symbol}{digits}"),
            None => format!("{sign}{digits} {}", unit.to_ascii_uppercase()),
        };
    }
    let whole = value.abs() >= 100.0 || value.fract() == 0.0;
    let tenths = if whole {
        value.abs().round() * 10.0
    } else {
        (value.abs() * 10.0).round()
    };
    let sign = if value < 0.0 && tenths > 0.0 { "-" } else { "" };
    let mut text = format!("{sign}{}", group(tenths / 10.0));
    if tenths % 10.0 != 0.0 {
        text.push_str(&format!(".{}", (tenths % 10.0) as u64));
    }
    if !unit.is_empty() {
        text.push(' ');
        text.push_str(&unit);
    }
    text
}

/// [`format_amount`] of a value that may be unknown.
pub fn format_amount_opt(value: Option<f64>, unit: &str) -> String {
    value.map_or_else(|| UNKNOWN.into(), |v| format_amount(v, unit))
}

/// The whole part of `v` (non-negative) with "," between thousands. Amounts past 2^53 lose
/// digits anyway; they are shown, not stored.
fn group(v: f64) -> String {
    let digits = format!("{:.0}", v.trunc());
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table both formatters are held to: this one here, the window's twin in
    /// `ui/src/format.test.ts` through `ui/src/bindings/amounts.json`.
    const CASES: &[(f64, &str, &str)] = &[
        (12.345, "usd", "$12.35"),
        (1234.5, "usd", "$1,234.50"),
        (-3.5, "cny", "-¥3.50"),
        (-0.001, "usd", "$0.00"),
        (999.995, "usd", "$1,000.00"),
        (999.996, "usd", "$1,000.00"),
        (0.0, "eur", "€0.00"),
        (1.0, "gbp", "£1.00"),
        (1500.0, "jpy", "¥1,500.00"),
        (12.0, "chf", "12.00 CHF"),
        (-1000.0, "chf", "-1,000.00 CHF"),
        (5.2, "USD", "$5.20"),
        (4820.0, "credits", "4,820 credits"),
        (1234.0, "credits", "1,234 credits"),
        (999.0, "searches", "999 searches"),
        (12.34, "credits", "12.3 credits"),
        (0.5, "searches", "0.5 searches"),
        (99.95, "tokens", "100 tokens"),
        (100.4, "requests", "100 requests"),
        (1e6, "credits", "1,000,000 credits"),
        (-1234.0, "tokens", "-1,234 tokens"),
        (-0.01, "credits", "0 credits"),
        (2.05, "characters", "2.1 characters"),
        (f64::NAN, "usd", "—"),
        (f64::INFINITY, "credits", "—"),
    ];

    #[test]
    fn amounts_read_like_people_write_them() {
        for &(value, unit, want) in CASES {
            assert_eq!(format_amount(value, unit), want, "{value} {unit}");
        }
        assert_eq!(format_amount_opt(None, "usd"), "—", "unknown is a dash");
    }

    /// Writes the table for the window's twin; `scripts/test` fails when the committed copy
    /// differs (the bindings drift check), so the two cannot part ways unnoticed.
    #[test]
    fn exports_the_table_for_the_window() {
        let Ok(dir) = std::env::var("TS_RS_EXPORT_DIR") else {
            return;
        };
        let symbols: serde_json::Map<String, serde_json::Value> = SYMBOLS
            .iter()
            .map(|(code, s)| ((*code).to_owned(), (*s).into()))
            .collect();
        let cases: Vec<serde_json::Value> = CASES
            .iter()
            .filter(|(v, _, _)| v.is_finite())
            .map(|(v, unit, text)| serde_json::json!({"value": v, "unit": unit, "text": text}))
            .collect();
        let table = serde_json::json!({"symbols": symbols, "cases": cases});
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(dir)
            .join("amounts.json");
        let text = serde_json::to_string_pretty(&table).unwrap() + "\n";
        if std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            std::fs::write(&path, text).unwrap();
        }
    }
}
