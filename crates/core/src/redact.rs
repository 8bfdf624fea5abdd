//! The one redactor for every string Cliffwatch stores or shows. Log lines and error bodies
//! echo keys in many places: the query string (ScraperAPI's `api_key=`, Google's `key=`), a
//! fragment (`#access_token=`), the path (Telegram's `/bot<id>:<token>/`, Slack and Discord
//! webhooks), a header quoted in a message (`Authorization: Bearer …`), a JSON field, or a bare
//! key with a well-known shape (`sk-…`, `AIza…`). Each of those values becomes `REDACTED`.
//!
//! - [`redact_url`] for a URL (or a path with a query),
//! - [`redact_text`] for free text (messages, bodies, notification text),
//! - [`redact_json`] for untrusted JSON (payment instructions),
//! - [`redact_event`] for a [`CliffEvent`], called where events are built and again where they
//!   are stored, so nothing reaches the store or a screen unredacted.
//!
//! Everything here runs in time linear in the input, splits text only at ASCII bytes (so never
//! inside a character) and never panics.
//!
//! Why one file of ~870 lines: it is the one redactor (URLs, free text, JSON, events), and one
//! file keeps every rule of what counts as a secret in one place to review; its tests live in
//! `redact/tests.rs`.

use crate::model::CliffEvent;
use std::borrow::Cow;

/// The value that replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// How many percent-encoded layers (a URL inside a query value inside a URL) are looked into.
/// Two covers ScraperAPI-style `?url=https%3A%2F%2Ftarget%3Ftoken%3D…`.
const MAX_NESTING: u8 = 2;

/// JSON deeper than this is replaced whole: payment objects are a few levels deep, and a
/// deeper one is not worth the risk of walking.
const MAX_JSON_DEPTH: usize = 32;

/// Names (with `_` and camel-case humps removed, lower case) whose values are secrets.
const SECRET_NAMES: &[&str] = &[
    "apikey",
    "key",
    "token",
    "accesstoken",
    "auth",
    "authtoken",
    "authorization",
    "proxyauthorization",
    "secret",
    "clientsecret",
    "apisecret",
    "appsecret",
    "secretkey",
    "accesskey",
    "appkey",
    "clientkey",
    "privatekey",
    "password",
    "passwd",
    "pwd",
    "pass",
    "passphrase",
    "sig",
    "signature",
    "credential",
    "credentials",
    "xapikey",
    "cookie",
    "session",
    "sessionid",
    "sessid",
    "sid",
    "phpsessid",
    "jsessionid",
    "aspnetsessionid",
    "refreshtoken",
    "idtoken",
];

/// Suffixes (of the `snake_case` form) that make a name secret: `openai_api_key`,
/// `x_amz_security_token`, `x_amz_signature`, `x_goog_credential`, `db_password` …
const SECRET_SUFFIXES: &[&str] = &[
    "_key",
    "token",
    "_secret",
    "signature",
    "credential",
    "credentials",
    "_password",
    "_passwd",
    "_pwd",
    "session_id",
    "sessionid",
    "sessid",
];

/// Whether a field, header or parameter name holds a secret: `api_key`, `X-Api-Key`,
/// `accessKey`, `clientSecret`, `X-Amz-Signature`, `PHPSESSID`, `api%5Fkey` … Names are
/// percent-decoded, camel-case humps become `_`, and `-`, `.` and spaces count as `_`.
/// (`code`, an OAuth code in a query string, is secret only in URLs: in a JSON body or a
/// message it is an error code.)
pub fn is_secret(name: &str) -> bool {
    if name.len() > 200 {
        return false; // a name this long is data, not a name
    }
    let snake = normalize(name);
    if snake.is_empty() {
        return false;
    }
    let compact: String = snake.chars().filter(|c| *c != '_').collect();
    SECRET_NAMES.contains(&compact.as_str())
        || SECRET_SUFFIXES.iter().any(|s| snake.ends_with(s))
        || compact.contains("apikey")
        || compact.contains("apisecret")
        || compact.contains("secretkey")
        || compact.contains("accesskey")
        || compact.contains("password")
}

/// [`is_secret`] for a URL query or matrix parameter, where `code` is an OAuth code (or an
/// Azure Functions key).
pub fn is_secret_param(name: &str) -> bool {
    is_secret(name) || normalize(name) == "code"
}

/// `snake_case` of a name: fully percent-decoded, humps split, separators as `_`.
fn normalize(name: &str) -> String {
    let decoded = decode_fully(name.trim());
    let mut out = String::with_capacity(decoded.len() + 4);
    let mut prev_lower = false;
    for c in decoded.trim().chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if matches!(c, '-' | ' ' | '.' | '_' | '"' | '\'') {
            out.push('_');
            prev_lower = false;
        } else {
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
            out.push(c);
        }
    }
    out.trim_matches('_').to_owned()
}

/// Percent-decodes (and `+` → space) until nothing changes, at most 3 rounds (`%255F` is `_`).
fn decode_fully(s: &str) -> Cow<'_, str> {
    let mut cur = Cow::Borrowed(s);
    for _ in 0..3 {
        let next = match percent_decode(&cur) {
            Cow::Borrowed(_) => None,
            Cow::Owned(next) => Some(next),
        };
        match next {
            Some(next) => cur = Cow::Owned(next),
            None => break,
        }
    }
    cur
}

/// One round of percent-decoding, `+` as a space; invalid escapes stay as they are, invalid
/// UTF-8 becomes U+FFFD.
fn percent_decode(s: &str) -> Cow<'_, str> {
    if !s.contains(['%', '+']) {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' => {
                let hi = b.get(i + 1).and_then(|c| (*c as char).to_digit(16));
                let lo = b.get(i + 2).and_then(|c| (*c as char).to_digit(16));
                if let (Some(hi), Some(lo)) = (hi, lo) {
                    // Both digits are < 16, so the byte fits.
                    out.push(u8::try_from(hi * 16 + lo).unwrap_or(b'?'));
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    let text = String::from_utf8_lossy(&out).into_owned();
    if text == s {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(text)
    }
}

/// `s[a..b]`, or `""` if that is not a pair of character boundaries (it always is here: every
/// index comes from an ASCII byte, but text from outside is never sliced unchecked).
fn sub(s: &str, a: usize, b: usize) -> &str {
    s.get(a..b).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// URLs
// ---------------------------------------------------------------------------------------------

/// `url` with every secret in it replaced: values of secret query, fragment and matrix
/// parameters (`&` or `;` separated, names percent-decoded), `user:password@`, keys in paths
/// (Telegram bots, Slack and Discord webhooks), percent-encoded URLs in parameter values, and
/// keys of well-known shapes anywhere.
pub fn redact_url(url: &str) -> String {
    url_at(url, 0)
}

fn url_at(url: &str, depth: u8) -> String {
    let (before_frag, frag) = match url.split_once('#') {
        Some((a, f)) => (a, Some(f)),
        None => (url, None),
    };
    let (base, query) = match before_frag.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (before_frag, None),
    };
    let mut out = String::with_capacity(url.len() + 16);
    let (host, path) = authority(base, &mut out);
    redact_path(&host, path, depth, &mut out);
    if let Some(q) = query {
        out.push('?');
        redact_pairs(q, depth, &mut out);
    }
    if let Some(f) = frag {
        out.push('#');
        if f.contains('=') {
            // `#access_token=…&id_token=…` (OAuth implicit flow), or `#/route?token=…`.
            match f.split_once('?') {
                Some((route, q)) => {
                    out.push_str(route);
                    out.push('?');
                    redact_pairs(q, depth, &mut out);
                }
                None => redact_pairs(f, depth, &mut out),
            }
        } else {
            out.push_str(f);
        }
    }
    scan(&out, depth, Mode::Shapes)
}

/// Writes the scheme and authority of `base` (with any userinfo redacted) to `out`; returns
/// the lower-case host and the rest (the path).
fn authority<'a>(base: &'a str, out: &mut String) -> (String, &'a str) {
    let (prefix, rest) =
        if let Some((scheme, rest)) = base.split_once("://").filter(|(s, _)| is_scheme(s)) {
            out.push_str(scheme);
            out.push_str("://");
            (true, rest)
        } else if let Some(rest) = base.strip_prefix("//") {
            out.push_str("//");
            (true, rest)
        } else {
            (false, base)
        };
    let (auth, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    // Without a scheme, only `user:pw@host/…` counts as an authority; `p/q` is a path.
    if !prefix && !auth.contains('@') {
        return (String::new(), rest);
    }
    let host = match auth.rsplit_once('@') {
        Some((_, host)) => {
            out.push_str(REDACTED);
            out.push('@');
            out.push_str(host);
            host
        }
        None => {
            out.push_str(auth);
            auth
        }
    };
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(h, _)| h);
    (host.to_ascii_lowercase(), path)
}

fn is_scheme(s: &str) -> bool {
    s.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

/// The path, segment by segment: keys that are path segments, and `;name=value` matrix
/// parameters (`/app;jsessionid=…`).
fn redact_path(host: &str, path: &str, depth: u8, out: &mut String) {
    if path.is_empty() {
        return;
    }
    let segs: Vec<(&str, Option<&str>)> = path
        .split('/')
        .map(|s| match s.split_once(';') {
            Some((name, params)) => (name, Some(params)),
            None => (s, None),
        })
        .collect();
    let names: Vec<&str> = segs.iter().map(|(n, _)| *n).collect();
    let slack = host == "hooks.slack.com" || host == "hooks.slack-gov.com";
    let mut nonempty = 0usize;
    for (i, (name, params)) in segs.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        match secret_segment(&names, i, slack && nonempty >= 3) {
            Some(replacement) if !name.is_empty() => out.push_str(replacement),
            _ => out.push_str(name),
        }
        if !name.is_empty() {
            nonempty += 1;
        }
        if let Some(p) = params {
            out.push(';');
            redact_pairs(p, depth, out);
        }
    }
}

/// The replacement of path segment `i` when it is a key.
fn secret_segment(names: &[&str], i: usize, slack_tail: bool) -> Option<&'static str> {
    let name = decode_fully(names.get(i)?);
    // Telegram: /bot123456:AA…/sendMessage
    if let Some(rest) = name
        .strip_prefix("bot")
        .or_else(|| name.strip_prefix("Bot"))
    {
        if let Some((id, token)) = rest.split_once(':') {
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) && !token.is_empty() {
                return Some("botREDACTED");
            }
        }
    }
    // Slack: hooks.slack.com/services/T…/B…/<secret> (and /workflows/…, /triggers/…).
    if slack_tail {
        return Some(REDACTED);
    }
    let back = |k: usize| i.checked_sub(k).and_then(|j| names.get(j)).copied();
    if back(3).is_some_and(|s| s.eq_ignore_ascii_case("services"))
        && back(2).is_some_and(|s| s.starts_with('T'))
        && back(1).is_some_and(|s| s.starts_with('B'))
    {
        return Some(REDACTED);
    }
    // Discord (and look-alikes): /api/webhooks/<numeric id>/<token>
    if back(2).is_some_and(|s| s.eq_ignore_ascii_case("webhooks"))
        && back(1).is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
    {
        return Some(REDACTED);
    }
    None
}

/// `name=value` pairs separated by `&` or `;`, written to `out` with secret values replaced.
fn redact_pairs(q: &str, depth: u8, out: &mut String) {
    for piece in q.split_inclusive(['&', ';']) {
        let (pair, sep) = match piece.strip_suffix(['&', ';']) {
            Some(p) => (p, sub(piece, p.len(), piece.len())),
            None => (piece, ""),
        };
        redact_pair(pair, depth, out);
        out.push_str(sep);
    }
}

fn redact_pair(pair: &str, depth: u8, out: &mut String) {
    match pair.split_once('=') {
        Some((k, v)) if is_secret_param(k) => {
            out.push_str(k);
            out.push('=');
            if !v.is_empty() {
                out.push_str(REDACTED);
            }
        }
        Some((k, v)) => {
            out.push_str(k);
            out.push('=');
            out.push_str(&nested(v, depth));
        }
        None => {
            // `api%5Fkey%3D…`: the `=` itself encoded.
            let decoded = decode_fully(pair);
            match decoded.split_once('=') {
                Some((k, _)) if is_secret_param(k) => out.push_str(REDACTED),
                _ => out.push_str(&nested(pair, depth)),
            }
        }
    }
}

/// A parameter value that is itself percent-encoded text (`url=https%3A%2F%2Fx%3Ftoken%3D…`):
/// redacted inside and encoded again when that changes anything.
fn nested(v: &str, depth: u8) -> Cow<'_, str> {
    if depth >= MAX_NESTING {
        return Cow::Borrowed(v);
    }
    let decoded = percent_decode(v);
    if matches!(decoded, Cow::Borrowed(_)) {
        return Cow::Borrowed(v);
    }
    let redacted = scan(&decoded, depth + 1, Mode::Text);
    if redacted == decoded {
        return Cow::Borrowed(v);
    }
    Cow::Owned(url::form_urlencoded::byte_serialize(redacted.as_bytes()).collect())
}

// ---------------------------------------------------------------------------------------------
// Free text
// ---------------------------------------------------------------------------------------------

/// `s` with secrets replaced: URLs in it go through [`redact_url`]; `name=value`,
/// `name: value`, `"name": "value"` pairs with a secret name; `Bearer …` and `Basic …`
/// credentials; `user:password@host`; and keys of well-known shapes (`sk-…`, `sk-ant-…`,
/// `sk-or-v1-…`, `AIza…`, `xoxb-…`, `ghp_…`, `AKIA…`, JWTs).
pub fn redact_text(s: &str) -> String {
    scan(s, 0, Mode::Text)
}

/// Whether a value (a header value, a string in a request body) holds a credential: an
/// `Authorization`-style `Bearer …`/`Basic …`/`Token …` value, or anything [`redact_text`]
/// would change.
pub fn holds_secret(v: &str) -> bool {
    let scheme = v
        .trim()
        .split_once([' ', '\t'])
        .is_some_and(|(w, rest)| is_auth_scheme(w) && !rest.trim().is_empty());
    scheme || redact_text(v) != v
}

#[derive(Clone, Copy)]
enum Mode {
    /// Everything: URLs, pairs, credentials, key shapes.
    Text,
    /// Only key shapes (the last pass over a redacted URL).
    Shapes,
}

/// Bytes of a "word": a name, a key, a scheme. ASCII only, so every word starts and ends on
/// a character boundary.
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b'%' | b'+')
}

/// Walks `s` word by word; each byte is looked at a bounded number of times.
fn scan(s: &str, depth: u8, mode: Mode) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0usize;
    let mut i = 0usize;
    while i < b.len() {
        if !is_word(b[i]) || (i > 0 && is_word(b[i - 1])) {
            i += 1;
            continue;
        }
        let mut end = i;
        while end < b.len() && is_word(b[end]) {
            end += 1;
        }
        let hit = match mode {
            Mode::Text => at_word(s, i, end, depth),
            Mode::Shapes => key_shape(s, i, end),
        };
        match hit {
            Some((to, replacement)) if to > i => {
                out.push_str(sub(s, copied, i));
                out.push_str(&replacement);
                copied = to;
                i = to;
            }
            _ => i = end,
        }
    }
    if copied == 0 {
        return s.to_owned();
    }
    out.push_str(sub(s, copied, b.len()));
    out
}

/// What the word at `i..end` starts, if it is secret: (where the secret ends, its
/// replacement for `s[i..that]`).
fn at_word(s: &str, i: usize, end: usize, depth: u8) -> Option<(usize, String)> {
    let b = s.as_bytes();
    let word = sub(s, i, end);
    if b.get(end..end + 3) == Some(&b"://"[..]) && is_scheme(word) {
        let to = url_end(b, end + 3);
        return Some((to, url_at(sub(s, i, to), depth)));
    }
    if let Some(hit) = credential(s, i, end) {
        return Some(hit);
    }
    if let Some(hit) = key_shape(s, i, end) {
        return Some(hit);
    }
    if let Some(hit) = pair(s, i, end) {
        return Some(hit);
    }
    userinfo(s, i, end)
}

/// Where a URL in text ends: at a space, a quote or an angle bracket, less trailing
/// punctuation (`see https://x/?a=1.`).
fn url_end(b: &[u8], from: usize) -> usize {
    let mut to = from;
    while to < b.len()
        && !b[to].is_ascii_whitespace()
        && !b[to].is_ascii_control()
        && !matches!(b[to], b'"' | b'\'' | b'<' | b'>' | b'`' | b'\\')
    {
        to += 1;
    }
    while to > from
        && matches!(
            b[to - 1],
            b'.' | b',' | b';' | b':' | b'!' | b'?' | b')' | b']' | b'}'
        )
    {
        to -= 1;
    }
    to
}

/// Bytes of a token after `Bearer`/`Basic` (RFC 6750's b64token, RFC 7617's base64).
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/' | b'=')
}

/// An English word rather than a credential: "bearer token", "Basic plan".
fn is_plain_word(t: &str) -> bool {
    t.len() <= 15
        && t.bytes().all(|b| b.is_ascii_alphabetic())
        && t.bytes().skip(1).all(|b| b.is_ascii_lowercase())
}

/// `Bearer <token>` / `Basic <base64>`: the scheme stays, the credential goes.
fn credential(s: &str, i: usize, end: usize) -> Option<(usize, String)> {
    let word = sub(s, i, end);
    let bearer = word.eq_ignore_ascii_case("bearer");
    if !bearer && !word.eq_ignore_ascii_case("basic") {
        return None;
    }
    let b = s.as_bytes();
    let mut j = end;
    while j < b.len() && matches!(b[j], b' ' | b'\t') {
        j += 1;
    }
    if j == end {
        return None;
    }
    let mut t = j;
    while t < b.len() && is_token_byte(b[t]) {
        t += 1;
    }
    let token = sub(s, j, t);
    if token.is_empty() || token == REDACTED || is_plain_word(token) {
        return None;
    }
    if !bearer && !looks_basic(token) {
        return None;
    }
    Some((t, format!("{word}{}{REDACTED}", sub(s, end, j))))
}

/// A Basic credential: base64 of `user:password`, or at least something key-like.
fn looks_basic(token: &str) -> bool {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(token));
    decoded.is_ok_and(|d| d.contains(&b':'))
        || (token.len() >= 8 && token.bytes().any(|b| b.is_ascii_digit() || b == b'='))
}

/// Bytes of a key of a well-known shape.
fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-')
}

/// A key of a well-known shape starting the word at `i`.
fn key_shape(s: &str, i: usize, end: usize) -> Option<(usize, String)> {
    let b = s.as_bytes();
    let mut k = i;
    while k < end && is_key_byte(b[k]) {
        k += 1;
    }
    let key = sub(s, i, k);
    // (prefix, minimum length after it)
    const SHAPES: &[(&str, usize)] = &[
        ("sk-", 16), // OpenAI (sk-proj-…), Anthropic (sk-ant-…), OpenRouter (sk-or-v1-…), DeepSeek …
        ("sk_live_", 16),
        ("sk_test_", 16),
        ("rk_live_", 16),
        ("AIza", 30), // Google API keys
        ("xoxb-", 10),
        ("xoxa-", 10),
        ("xoxp-", 10),
        ("xoxr-", 10),
        ("xoxs-", 10),
        ("ghp_", 16), // GitHub tokens
        ("gho_", 16),
        ("ghu_", 16),
        ("ghs_", 16),
        ("ghr_", 16),
        ("github_pat_", 16),
        ("glpat-", 16), // GitLab
        ("hf_", 30),    // Hugging Face
        ("xai-", 20),   // xAI
    ];
    let shaped = SHAPES
        .iter()
        .any(|(p, min)| key.strip_prefix(p).is_some_and(|rest| rest.len() >= *min));
    // AWS access key ids: AKIA/ASIA + 16 upper-case letters and digits.
    let aws = key.len() == 20
        && (key.starts_with("AKIA") || key.starts_with("ASIA"))
        && key
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
    if shaped || aws {
        return Some((k, REDACTED.into()));
    }
    // A JWT: three base64url parts, the first `{"…` encoded.
    let word = sub(s, i, end);
    if word.starts_with("eyJ") && word.len() >= 30 && word.matches('.').count() >= 2 {
        return Some((end, REDACTED.into()));
    }
    None
}

/// A value that is the next pair's name (`key= passwd: …`, `Bearer token: …`): it is not
/// consumed, so that pair is redacted on its own.
fn is_label(v: &str) -> bool {
    // One name and its separator only: `key=key=…` is a value (and must be consumed whole, or
    // each `key` would scan the rest again).
    v.strip_suffix([':', '='])
        .is_some_and(|name| !name.is_empty() && name.bytes().all(is_word))
}

/// Scheme words after `Authorization:` whose credential follows them.
fn is_auth_scheme(v: &str) -> bool {
    ["bearer", "basic", "token", "digest", "apikey", "key"]
        .iter()
        .any(|s| v.eq_ignore_ascii_case(s))
}

/// `name=value`, `name: value`, `"name": "value"` (also `\"name\":\"value\"` inside an
/// escaped JSON string) with a secret name.
fn pair(s: &str, i: usize, end: usize) -> Option<(usize, String)> {
    let b = s.as_bytes();
    let at = |k: usize| b.get(k).copied();
    let mut j = end;
    // A closing quote after a quoted name.
    match (i.checked_sub(1).and_then(at), at(j)) {
        (Some(q @ (b'"' | b'\'')), Some(c)) if c == q => j += 1,
        (Some(b'"'), Some(b'\\')) if at(j + 1) == Some(b'"') => j += 2,
        _ => {}
    }
    while matches!(at(j), Some(b' ' | b'\t')) {
        j += 1;
    }
    let sep = at(j)?;
    if sep != b'=' && sep != b':' {
        return None;
    }
    if sep == b':' && at(j + 1) == Some(b':') {
        return None; // `Key::new` in a Rust message
    }
    if !is_secret(sub(s, i, end)) {
        return None;
    }
    let mut k = j + 1;
    while matches!(at(k), Some(b' ' | b'\t')) {
        k += 1;
    }
    let spaced = k > j + 1;
    // A quoted value: up to its closing quote (`\x` escapes skipped), or the end of the line.
    let quote: Option<&[u8]> = match at(k) {
        Some(b'"') => Some(b"\""),
        Some(b'\'') => Some(b"'"),
        Some(b'\\') if at(k + 1) == Some(b'"') => Some(b"\\\""),
        _ => None,
    };
    if let Some(q) = quote {
        let start = k + q.len();
        let mut m = start;
        while m < b.len() && b[m] != b'\n' {
            if b.get(m..m + q.len()) == Some(q) {
                break;
            }
            m += if b[m] == b'\\' && q.len() == 1 { 2 } else { 1 };
        }
        let m = m.min(b.len());
        if m == start {
            return None; // an empty value holds nothing
        }
        let close = if b.get(m..m + q.len()) == Some(q) {
            q.len()
        } else {
            0
        };
        if close > 0 {
            // `key = "apiSecret": "…"`: the quoted text is the next pair's name, not a value.
            let mut n = m + close;
            while matches!(at(n), Some(b' ' | b'\t')) {
                n += 1;
            }
            // Only when that text is itself a secret name: a key followed by ` : 401` in
            // hostile text is still a value (found by the fuzz target `redact`).
            if matches!(at(n), Some(b':' | b'=')) && is_secret(sub(s, start, m)) {
                return None;
            }
        }
        return Some((
            m + close,
            format!("{}{REDACTED}{}", sub(s, i, start), sub(s, m, m + close)),
        ));
    }
    let value_end = |from: usize| {
        let mut m = from;
        while m < b.len()
            && !b[m].is_ascii_whitespace()
            && !b[m].is_ascii_control()
            && !matches!(
                b[m],
                b'&' | b';'
                    | b','
                    | b'"'
                    | b'\''
                    | b'<'
                    | b'>'
                    | b'('
                    | b')'
                    | b'['
                    | b']'
                    | b'{'
                    | b'}'
                    | b'\\'
            )
        {
            m += 1;
        }
        m
    };
    let m = value_end(k);
    let value = sub(s, k, m);
    if value.is_empty() || value == REDACTED {
        return None;
    }
    if is_label(value) {
        return None;
    }
    if is_auth_scheme(value) {
        // `Authorization: Bearer <token>`: keep the scheme, drop what follows it.
        let mut t = m;
        while matches!(at(t), Some(b' ' | b'\t')) {
            t += 1;
        }
        let tok_end = value_end(t);
        if tok_end > t && t > m && !is_label(sub(s, t, tok_end)) {
            return Some((tok_end, format!("{}{REDACTED}", sub(s, i, t))));
        }
    }
    // In prose, `name: value` may be a label and a word ("main key: balance is low"); a
    // credential is not a plain lower-case word.
    if sep == b':' && spaced && is_plain_word(value) {
        return None;
    }
    Some((m, format!("{}{REDACTED}", sub(s, i, k))))
}

/// `user:password@host` without a scheme: the credentials go.
fn userinfo(s: &str, i: usize, end: usize) -> Option<(usize, String)> {
    let b = s.as_bytes();
    if b.get(end) != Some(&b':') {
        return None;
    }
    let mut y = end + 1;
    while y < b.len()
        && !b[y].is_ascii_whitespace()
        && !b[y].is_ascii_control()
        && !matches!(b[y], b'@' | b'/' | b':' | b'"' | b'\'' | b'<' | b'>')
    {
        y += 1;
    }
    let host_starts = b.get(y + 1).is_some_and(|c| c.is_ascii_alphanumeric());
    let scheme_like = sub(s, i, end).eq_ignore_ascii_case("mailto");
    (y > end + 1 && b.get(y) == Some(&b'@') && host_starts && !scheme_like)
        .then(|| (y, REDACTED.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// JSON and events
// ---------------------------------------------------------------------------------------------

/// Untrusted JSON with secrets replaced: the value of every object key with a secret name
/// becomes `"REDACTED"`, every string goes through [`redact_text`], and anything nested
/// deeper than 32 levels is replaced whole.
pub fn redact_json(v: &mut serde_json::Value) {
    json_at(v, 0);
}

fn json_at(v: &mut serde_json::Value, depth: usize) {
    use serde_json::Value;
    if depth >= MAX_JSON_DEPTH {
        *v = Value::String(REDACTED.into());
        return;
    }
    match v {
        Value::String(s) => {
            let r = redact_text(s);
            if r != *s {
                *s = r;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|x| json_at(x, depth + 1)),
        Value::Object(map) => {
            // A key that is itself a key (`{"sk-…": 1}`) is renamed.
            let renames: Vec<(String, String)> = map
                .keys()
                .filter_map(|k| {
                    let r = redact_text(k);
                    (r != *k).then(|| (k.clone(), r))
                })
                .collect();
            for (old, new) in renames {
                if let Some(x) = map.remove(&old) {
                    map.insert(new, x);
                }
            }
            for (k, x) in map.iter_mut() {
                if is_secret(k) && !x.is_null() {
                    *x = Value::String(REDACTED.into());
                } else {
                    json_at(x, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// An event with every secret in it replaced: the URL, the message, code and quota, and the
/// payment instructions. Idempotent, so it is safe to run where an event is built and again
/// where it is stored.
pub fn redact_event(e: &mut CliffEvent) {
    if let Some(u) = &mut e.url {
        let r = redact_url(u);
        if r != *u {
            *u = r;
        }
    }
    for field in [&mut e.code, &mut e.message, &mut e.quota]
        .into_iter()
        .flatten()
    {
        let r = redact_text(field);
        if r != *field {
            *field = r;
        }
    }
    if let Some(p) = &mut e.payment {
        redact_json(p);
    }
}

/// [`redact_json`] for a parsed payment (a resource URL may echo a key in its query).
pub fn redact_payment(p: &mut crate::payments::Payment) {
    let mut v = p.to_json();
    redact_json(&mut v);
    if let Ok(clean) = serde_json::from_value(v) {
        *p = clean;
    }
}

#[cfg(test)]
mod tests;
