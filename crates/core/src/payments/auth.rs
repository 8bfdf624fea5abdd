//! `WWW-Authenticate` as RFC 9110 §11.6.1 writes it: one or more challenges, each a scheme and
//! comma-separated `name=value` parameters (a token or a quoted string), several challenges in
//! one header value or across several headers. Untrusted text: read byte by byte, bounded, and
//! never indexed where a character could be cut.

/// One challenge: its scheme (as written) and its parameters (names lower-cased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub scheme: String,
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of a parameter, by name in any case.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// At most this many challenges per header value, parameters per challenge, bytes per value.
const MAX_CHALLENGES: usize = 16;
const MAX_PARAMS: usize = 32;
const MAX_VALUE: usize = 16 * 1024;

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Every challenge in every `WWW-Authenticate` header of `headers`.
pub fn challenges(headers: &[(String, String)]) -> Vec<Challenge> {
    headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
        .flat_map(|(_, v)| parse(v))
        .take(MAX_CHALLENGES)
        .collect()
}

/// The challenges in one header value.
pub fn parse(value: &str) -> Vec<Challenge> {
    let b = value.as_bytes();
    let text = |s: &[u8]| String::from_utf8_lossy(s).into_owned();
    let mut out: Vec<Challenge> = Vec::new();
    let mut i = 0;
    while i < b.len() && out.len() <= MAX_CHALLENGES {
        while i < b.len() && (b[i] == b',' || b[i].is_ascii_whitespace()) {
            i += 1;
        }
        let start = i;
        while i < b.len() && is_tchar(b[i]) {
            i += 1;
        }
        if i == start {
            // Not a token: skip the byte (a stray quote, a control character).
            i += 1;
            continue;
        }
        let name = &b[start..i];
        let mut j = i;
        while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
            j += 1;
        }
        if j < b.len() && b[j] == b'=' {
            // A parameter of the current challenge (or a token68's padding, ignored).
            j += 1;
            while j < b.len() && (b[j] == b' ' || b[j] == b'\t') {
                j += 1;
            }
            let mut value = Vec::new();
            if j < b.len() && b[j] == b'"' {
                j += 1;
                while j < b.len() && b[j] != b'"' {
                    if b[j] == b'\\' && j + 1 < b.len() {
                        j += 1;
                    }
                    if value.len() < MAX_VALUE {
                        value.push(b[j]);
                    }
                    j += 1;
                }
                j += 1;
            } else {
                while j < b.len() && b[j] != b',' && !b[j].is_ascii_whitespace() {
                    if value.len() < MAX_VALUE {
                        value.push(b[j]);
                    }
                    j += 1;
                }
            }
            if let Some(c) = out.last_mut().filter(|c| c.params.len() < MAX_PARAMS) {
                c.params
                    .push((text(name).to_ascii_lowercase(), text(&value)));
            }
            i = j;
        } else {
            out.push(Challenge {
                scheme: text(name),
                params: Vec::new(),
            });
            i = j;
        }
    }
    out.truncate(MAX_CHALLENGES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenges_with_quoted_and_token_params() {
        let c = parse(r#"L402 macaroon="AGIAJEem\"VQ=", invoice="lnbc1500n1p", Basic realm=x"#);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].scheme, "L402");
        assert_eq!(c[0].param("MACAROON"), Some("AGIAJEem\"VQ="));
        assert_eq!(c[0].param("invoice"), Some("lnbc1500n1p"));
        assert_eq!(c[1].scheme, "Basic");
        assert_eq!(c[1].param("realm"), Some("x"));
    }

    #[test]
    fn hostile_values_never_panic() {
        for v in [
            "",
            "=",
            "\"",
            "a=\"unterminated",
            ",,,",
            "é=ü, Payment id=\"ß",
            "x =",
            "\\",
        ] {
            let _ = parse(v);
        }
        let many = "Payment id=1, ".repeat(1000);
        assert!(parse(&many).len() <= MAX_CHALLENGES);
    }
}
