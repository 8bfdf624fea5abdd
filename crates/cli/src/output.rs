//! Printing: JSON for scripts, aligned text for people, one-sentence errors on stderr.

use cliffwatch_core::model::ErrorDto;
use serde::Serialize;

/// Prints `value` as pretty JSON on stdout.
pub fn json<T: Serialize>(value: &T) -> cliffwatch_core::Result<()> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| cliffwatch_core::Error::Malformed(format!("cannot encode JSON: {e}")))?;
    println!("{text}");
    Ok(())
}

/// One sentence on stderr; with `--json`, also `{"error": {kind, message}}` on stdout so that
/// scripts parsing stdout see the failure.
pub fn print_error(e: &cliffwatch_core::Error, json: bool) {
    eprintln!("error: {e}");
    if json {
        let dto = ErrorDto::from(e);
        if let Ok(text) = serde_json::to_string(&serde_json::json!({ "error": dto })) {
            println!("{text}");
        }
    }
}

/// Left-aligned text columns.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  ", w = *w));
            }
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}

/// A number with its unit, the way people read balances: "$12.34", "4,820 credits".
pub fn amount(value: Option<f64>, unit: &str) -> String {
    let Some(v) = value else { return "—".into() };
    match unit {
        "usd" => format!("${v:.2}"),
        "eur" => format!("€{v:.2}"),
        "cny" => format!("¥{v:.2}"),
        u if u.len() == 3 => format!("{v:.2} {}", u.to_uppercase()),
        u => format!("{} {u}", group(v)),
    }
}

fn group(v: f64) -> String {
    if v.fract().abs() > 1e-9 {
        return format!("{v:.2}");
    }
    let s = format!("{}", v.abs() as u64);
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if v < 0.0 {
        format!("-{out}")
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_like_people_write_them() {
        assert_eq!(amount(Some(12.345), "usd"), "$12.35");
        assert_eq!(amount(Some(4820.0), "credits"), "4,820 credits");
        assert_eq!(
            amount(Some(-3.5), "cny"),
            "¥-3.50",
            "Moonshot cash balance may be negative"
        );
        assert_eq!(amount(None, "usd"), "—");
        assert_eq!(amount(Some(1.0), "gbp"), "1.00 GBP");
    }
}
