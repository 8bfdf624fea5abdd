//! Printing: JSON for scripts, aligned text for people, one-sentence errors on stderr.
//!
//! Text for people goes through [`clean`]: log bodies, provider answers and file names are
//! written by others, and an ESC or BEL in them would drive the terminal (retitle the window,
//! rewrite what is on screen, hide a line). JSON output is exact; its encoder escapes them.

use cliffwatch_core::model::ErrorDto;
use serde::Serialize;
use std::borrow::Cow;

/// `s` safe to print on a terminal: C0 controls (ESC, BEL, CR, backspace …), DEL, C1
/// controls (U+0080–U+009F, CSI among them) and the bidirectional controls that reorder
/// what is shown (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) are removed; a tab
/// or a line break becomes a space, so one value stays on one line.
pub fn clean(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .filter_map(|c| match c {
                '\t' | '\n' | '\r' => Some(' '),
                c if c.is_control() || is_bidi_control(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

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
    eprintln!("error: {}", clean(&e.to_string()));
    if json {
        let dto = ErrorDto::from(e);
        if let Ok(text) = serde_json::to_string(&serde_json::json!({ "error": dto })) {
            println!("{text}");
        }
    }
}

/// Left-aligned text columns; every cell goes through [`clean`].
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<Cow<'_, str>>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
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
    for row in &rows {
        line(row.iter().map(|c| c.as_ref()).collect());
    }
}

/// A number with its unit, the way people read balances: "$12.34", "4,820 credits" — core's
/// one formatter, shared with the tray, notifications and the window.
pub fn amount(value: Option<f64>, unit: &str) -> String {
    cliffwatch_core::format::format_amount_opt(value, unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_removes_what_drives_a_terminal() {
        assert_eq!(
            clean("\u{1b}]0;pwned\u{7}quota \u{1b}[2Jgone"),
            "]0;pwnedquota [2Jgone",
            "no ESC or BEL survives, so no sequence can start"
        );
        assert_eq!(
            clean("a\tb\nc\r\nd"),
            "a b c  d",
            "one value stays on one line"
        );
        assert_eq!(
            clean("x\u{7f}\u{9b}31m\u{85}y"),
            "x31my",
            "DEL and C1 controls (CSI, NEL) go"
        );
        assert_eq!(
            clean("pay \u{202e}lmth.exe\u{2066}\u{200f}"),
            "pay lmth.exe",
            "bidi controls cannot reorder what is shown"
        );
        assert!(
            matches!(clean("Plain — é 日本 🙂"), Cow::Borrowed(_)),
            "ordinary text is passed through untouched"
        );
    }

    #[test]
    fn amounts_read_like_people_write_them() {
        assert_eq!(amount(Some(12.345), "usd"), "$12.35");
        assert_eq!(amount(Some(4820.0), "credits"), "4,820 credits");
        assert_eq!(
            amount(Some(-3.5), "cny"),
            "-¥3.50",
            "Moonshot cash balance may be negative"
        );
        assert_eq!(amount(None, "usd"), "—");
        assert_eq!(amount(Some(1.0), "chf"), "1.00 CHF");
    }
}
