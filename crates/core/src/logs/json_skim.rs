//! A JSON walker for the hot lines of a format: it reads the few fields the format wants and
//! steps over the rest without building anything.
//!
//! It is never looser than serde_json: every value it steps over is checked against the JSON
//! grammar (strings' control bytes and escapes, numbers, literals, nesting, what follows the
//! document), and it gives up (`None`) on anything it does not handle the way serde_json
//! would, so a caller that falls back to serde_json on `None` gets serde_json's answer, only
//! sooner. It walks text (`&str`): the line's UTF-8 is checked once, by whoever made it one.

/// Deeper than this, the walker gives up (serde_json refuses structs nested past 128; it
/// steps over ignored values at any depth, so giving up here is only ever stricter).
const MAX_DEPTH: u32 = 100;

pub(crate) struct Cursor<'a> {
    text: &'a str,
    i: usize,
    depth: u32,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Cursor {
            text,
            i: 0,
            depth: 0,
        }
    }

    /// The text's bytes, which the walker reads (a view, not a copy).
    fn b(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    fn peek(&self) -> Option<u8> {
        self.b().get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        self.ws();
        (self.peek()? == c).then(|| self.i += 1)
    }

    /// Only whitespace is left.
    pub(crate) fn end(&mut self) -> Option<()> {
        self.ws();
        (self.i == self.b().len()).then_some(())
    }

    /// `null`, if that is what comes next (consumed); otherwise nothing is consumed.
    pub(crate) fn null(&mut self) -> bool {
        self.ws();
        self.literal(b"null").is_some()
    }

    /// The next byte that is not whitespace, not consumed.
    pub(crate) fn next_byte(&mut self) -> Option<u8> {
        self.ws();
        self.peek()
    }

    fn literal(&mut self, word: &[u8]) -> Option<()> {
        let yes = self.b().get(self.i..)?.starts_with(word);
        yes.then(|| self.i += word.len())
    }

    /// `true` or `false`.
    pub(crate) fn boolean(&mut self) -> Option<bool> {
        match self.next_byte()? {
            b't' => self.literal(b"true").map(|()| true),
            b'f' => self.literal(b"false").map(|()| false),
            _ => None,
        }
    }

    /// Moves to the next `"`, `\\` or control byte (or the end), eight bytes at a step.
    fn skip_to_special(&mut self) {
        while let Some(chunk) = self.b().get(self.i..self.i + 8) {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            let k = first_special(u64::from_le_bytes(word));
            self.i += k;
            if k < 8 {
                return;
            }
        }
        while let Some(&c) = self.b().get(self.i) {
            if c == b'"' || c == b'\\' || c < 0x20 {
                return;
            }
            self.i += 1;
        }
    }

    /// A string's bytes between its quotes, and whether they hold an escape.
    fn string(&mut self) -> Option<(&'a [u8], bool)> {
        let (span, escaped) = self.string_span()?;
        Some((self.b().get(span)?, escaped))
    }

    /// Where a string's bytes between its quotes are, and whether they hold an escape.
    fn string_span(&mut self) -> Option<(std::ops::Range<usize>, bool)> {
        self.eat(b'"')?;
        let start = self.i;
        let mut escaped = false;
        loop {
            self.skip_to_special();
            match self.peek()? {
                b'"' => {
                    let span = start..self.i;
                    self.i += 1;
                    return Some((span, escaped));
                }
                b'\\' => {
                    escaped = true;
                    self.i += 1;
                    match self.peek()? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => self.i += 1,
                        b'u' => {
                            let hex = self.b().get(self.i + 1..self.i + 5)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            self.i += 5;
                        }
                        _ => return None,
                    }
                }
                // A raw control byte is not allowed in a JSON string.
                _ => return None,
            }
        }
    }

    /// A string with no escape in it (serde_json cannot lend an escaped one either), as text.
    pub(crate) fn plain_str(&mut self) -> Option<&'a str> {
        match self.string_span()? {
            // Its quotes are ASCII, so the span lies on character boundaries of the text.
            (span, false) => self.text.get(span),
            (_, true) => None,
        }
    }

    fn digits(&mut self) {
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.i += 1;
        }
    }

    /// A number's text, checked against the JSON grammar (its value is left to serde_json).
    pub(crate) fn number(&mut self) -> Option<&'a [u8]> {
        self.ws();
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        match self.peek()? {
            b'0' => self.i += 1,
            b'1'..=b'9' => self.digits(),
            _ => return None,
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.i += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.i += 1;
            }
            if !self.peek()?.is_ascii_digit() {
                return None;
            }
            self.digits();
        }
        self.b().get(start..self.i)
    }

    /// An object, calling `field` with each key (which has no escape: the walker gives up on
    /// one, since serde_json would unescape it before matching). `field` must consume the value.
    pub(crate) fn object(
        &mut self,
        mut field: impl FnMut(&mut Self, &'a [u8]) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        if self.next_byte()? == b'}' {
            self.i += 1;
            self.depth -= 1;
            return Some(());
        }
        loop {
            let (key, false) = self.string()? else {
                return None;
            };
            self.eat(b':')?;
            field(self, key)?;
            match self.next_byte()? {
                b',' => self.i += 1,
                b'}' => {
                    self.i += 1;
                    self.depth -= 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// Steps over one value of any kind, checking it; iterative, so nesting costs no stack.
    pub(crate) fn skip(&mut self) -> Option<()> {
        // Bit d: the container open at depth d (from here) is an object.
        let mut objects: u128 = 0;
        let mut open: u32 = 0;
        loop {
            // A value starts here.
            match self.next_byte()? {
                b'"' => {
                    self.string()?;
                }
                c @ (b'{' | b'[') => {
                    self.i += 1;
                    if self.depth + open + 1 > MAX_DEPTH {
                        return None;
                    }
                    let is_object = c == b'{';
                    let close = if is_object { b'}' } else { b']' };
                    if self.next_byte()? == close {
                        self.i += 1;
                    } else {
                        if is_object {
                            objects |= 1 << open;
                        } else {
                            objects &= !(1 << open);
                        }
                        open += 1;
                        if is_object {
                            self.string()?;
                            self.eat(b':')?;
                        }
                        continue;
                    }
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                _ => {
                    self.number()?;
                }
            }
            // A value ended: close what it closes, or go on past a comma.
            loop {
                if open == 0 {
                    return Some(());
                }
                let in_object = objects & (1 << (open - 1)) != 0;
                match self.next_byte()? {
                    b',' => {
                        self.i += 1;
                        if in_object {
                            self.string()?;
                            self.eat(b':')?;
                        }
                        break;
                    }
                    b'}' if in_object => {
                        self.i += 1;
                        open -= 1;
                    }
                    b']' if !in_object => {
                        self.i += 1;
                        open -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }
}

/// Marks field `bit` of an object read; `None` if it came before (serde_json refuses a
/// repeated field it knows).
pub(crate) fn once(seen: &mut u16, bit: u16) -> Option<()> {
    if *seen & bit != 0 {
        return None;
    }
    *seen |= bit;
    Some(())
}

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Where the first `"`, `\\` or control byte is among the eight bytes of `word` (read
/// little-endian), or 8. Each test below flags its lowest match exactly (a borrow can only
/// flag bytes above a real match), so the lowest flag of the three is the first match.
fn first_special(word: u64) -> usize {
    let quote = word ^ (ONES * u64::from(b'"'));
    let slash = word ^ (ONES * u64::from(b'\\'));
    let zero_quote = quote.wrapping_sub(ONES) & !quote;
    let zero_slash = slash.wrapping_sub(ONES) & !slash;
    let below_space = word.wrapping_sub(ONES * 0x20) & !word;
    ((zero_quote | zero_slash | below_space) & HIGHS).trailing_zeros() as usize / 8
}

/// An integer's value from text the grammar already checked: added up here when it is
/// unsigned and short enough not to overflow, otherwise (a sign, a fraction, an exponent, many
/// digits) read by serde_json.
pub(crate) fn int(text: &[u8]) -> Option<i64> {
    if text.len() <= 18 && text.iter().all(u8::is_ascii_digit) {
        return Some(text.iter().fold(0i64, |n, &d| n * 10 + i64::from(d - b'0')));
    }
    serde_json::from_slice(text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether the walker steps over `text` as one whole document.
    fn walks(text: &str) -> bool {
        let mut c = Cursor::new(text);
        c.skip().and_then(|()| c.end()).is_some()
    }

    #[rstest::rstest]
    #[case(r#"{"a":[1,-2.5e+3,true,false,null,"x\"y\\u00e9\n"],"b":{},"c":[]}"#)]
    #[case(" [ { \"k\" : [ [ ] , { } ] } ] ")]
    #[case("0")]
    #[case("-0.0E-7")]
    #[case(r#""\ud800""#)]
    fn it_walks_what_serde_json_reads(#[case] text: &str) {
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok());
        assert!(walks(text), "{text}");
    }

    #[rstest::rstest]
    #[case("[1,]")]
    #[case(r#"{"a":1,}"#)]
    #[case(r#"{"a" 1}"#)]
    #[case("[1 2]")]
    #[case("01")]
    #[case("1.")]
    #[case("-")]
    #[case(".5")]
    #[case("+1")]
    #[case("1e")]
    #[case("tru")]
    #[case("nul")]
    #[case(r#""a\x""#)]
    #[case(r#""\u12G4""#)]
    #[case("\"a\tb\"")]
    #[case(r#""open"#)]
    #[case("[1] x")]
    #[case("{]")]
    #[case("[}")]
    #[case("{\"a\":1")]
    #[case("")]
    fn it_refuses_what_serde_json_refuses(#[case] text: &str) {
        assert!(serde_json::from_str::<serde::de::IgnoredAny>(text).is_err());
        assert!(!walks(text), "{text}");
    }

    #[test]
    fn deep_nesting_gives_up_without_using_the_stack() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(!walks(&deep));
        let ok = format!(
            "{}{}",
            "[".repeat(MAX_DEPTH as usize),
            "]".repeat(MAX_DEPTH as usize)
        );
        assert!(walks(&ok));
    }

    #[test]
    fn the_eight_byte_step_finds_the_first_special_byte() {
        for n in 0..=8 {
            for special in [b'"', b'\\', 0x00, 0x1f] {
                let mut w = [b'a'; 8];
                // Bytes that are near the specials but not special, before the one that is.
                for (i, b) in w.iter_mut().enumerate().take(n) {
                    *b = [b'#', b'!', b']', 0x20, 0x7f, 0xff, b'[', 0x21][i];
                }
                if n < 8 {
                    w[n] = special;
                    if n + 1 < 8 {
                        w[n + 1] = b'"';
                    }
                }
                assert_eq!(first_special(u64::from_le_bytes(w)), n, "{w:?}");
            }
        }
    }

    #[test]
    fn integers_add_up_like_serde_json() {
        for t in [
            "0",
            "7",
            "123456789012345678",
            "1234567890123456789",
            "9223372036854775807",
        ] {
            assert_eq!(
                int(t.as_bytes()),
                serde_json::from_str::<i64>(t).ok(),
                "{t}"
            );
        }
        for t in ["9223372036854775808", "-0", "-5", "1.0", "1e3"] {
            assert_eq!(
                int(t.as_bytes()),
                serde_json::from_str::<i64>(t).ok(),
                "{t}"
            );
        }
    }
}
