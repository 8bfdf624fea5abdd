//! Custom (declarative): any balance endpoint the catalog misses — an OpenAI-compatible gateway,
//! a self-hosted LiteLLM `/key/info` — described as data in the account's `options.spec`. No
//! code and no script engine: a method, a URL, where the key goes, optional extra headers and
//! body, JSON pointers for remaining / limit / used, a unit, an optional scale, and optional
//! rules that say which answers mean "out of credit".
//!
//! ```json
//! {"method": "GET", "url": "https://litellm.example.com/key/info",
//!  "auth": {"type": "bearer"},
//!  "remaining": "/info/remaining", "limit": "/info/max_budget", "used": "/info/spend",
//!  "unit": "usd",
//!  "out_of_credit": [{"status": 400, "body_contains": "Budget has been exceeded"}]}
//! ```
//!
//! `auth.type` is `none`, `bearer`, `header` (`name`, optional `prefix`), `query` (`name`),
//! `basic` (`username`; the key is the password) or `json_body` (`field`). A `url` that is a
//! path (`/key/info`) is joined to the account's base URL; with an absolute `url`, a base-URL
//! override on the account replaces its scheme, host and port.

use super::{
    number_at, Category, OptionSpec, PollContext, PollError, Provider, ProviderInfo, Reading,
    DEFAULT_MIN_POLL_S,
};
use crate::classify::Classification;
use crate::http::{Http, Method, Request};
use crate::model::{Outcome, Unit};
use crate::redact;
use serde::Deserialize;
use std::collections::BTreeMap;
use url::Url;

pub const INFO: ProviderInfo = ProviderInfo {
    id: "custom",
    name: "Custom (declarative)",
    category: Category::Custom,
    default_base_url: "",
    units: "any (you choose)",
    key_help: "whatever your endpoint needs, or none",
    top_up_url: "",
    min_poll_interval_s: DEFAULT_MIN_POLL_S,
    options: &[OptionSpec {
        key: "spec",
        label: "Request and JSON-pointer spec (JSON)",
        required: true,
    }],
};

/// The declarative description of one balance endpoint.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    #[serde(default = "get")]
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub auth: Auth,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (sent with `Content-Type: application/json`).
    #[serde(default)]
    pub body: Option<serde_json::Value>,
    pub remaining: Option<String>,
    pub limit: Option<String>,
    pub used: Option<String>,
    /// `usd`, `cny`, `eur` … or `credits`, `characters`, `searches`, `requests`, `tokens`.
    pub unit: String,
    /// Multiplies every amount (0.01 for cents, 0.0001 for Novita-style ten-thousandths).
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub out_of_credit: Vec<CreditRule>,
}

fn get() -> String {
    "GET".into()
}

fn one() -> f64 {
    1.0
}

/// Where the key goes.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    #[default]
    None,
    Bearer,
    Header {
        name: String,
        #[serde(default)]
        prefix: String,
    },
    Query {
        name: String,
    },
    Basic {
        username: String,
    },
    JsonBody {
        field: String,
    },
}

/// An answer that means "out of credit": every condition given must hold.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CreditRule {
    pub status: Option<u16>,
    /// The raw body contains this text (case-insensitive).
    pub body_contains: Option<String>,
    /// The JSON value at `pointer` equals `equals` (string, number or bool, compared as text).
    pub pointer: Option<String>,
    pub equals: Option<serde_json::Value>,
}

impl Spec {
    /// Parses and checks a spec from the account's `options.spec` (a JSON object, or a string
    /// holding one). The error says what to fix.
    pub fn from_options(options: &serde_json::Value) -> Result<Spec, String> {
        let raw = options.get("spec").ok_or("a custom account needs `spec`")?;
        let spec: Spec = match raw {
            serde_json::Value::String(s) => serde_json::from_str(s),
            other => serde_json::from_value(other.clone()),
        }
        // serde quotes the offending value, which may be a key.
        .map_err(|e| {
            format!(
                "the custom spec is not valid: {}",
                redact::redact_text(&e.to_string())
            )
        })?;
        spec.check()?;
        Ok(spec)
    }

    fn check(&self) -> Result<(), String> {
        // First, so that no later message can quote a key.
        self.refuse_secrets()?;
        let method = self.method.to_ascii_uppercase();
        if !["GET", "POST"].contains(&method.as_str()) {
            return Err(format!(
                "the custom spec's method must be GET or POST, not `{}`",
                self.method
            ));
        }
        if !self.url.starts_with('/') {
            // The origin is checked like a base URL; the query is the endpoint's own (its
            // parameters were checked for keys above), so it is allowed here.
            let origin = match Url::parse(&self.url) {
                Ok(mut u) => {
                    u.set_query(None);
                    u.set_fragment(None);
                    u.to_string()
                }
                Err(_) => self.url.clone(),
            };
            crate::validate_base_url(&origin).map_err(|e| {
                format!(
                    "the custom spec's url: {}",
                    redact::redact_text(&e.to_string())
                )
            })?;
        }
        let pointers = [
            ("remaining", &self.remaining),
            ("limit", &self.limit),
            ("used", &self.used),
        ];
        if pointers.iter().all(|(_, p)| p.is_none()) {
            return Err("the custom spec needs at least one of `remaining`, `limit`, `used` (JSON pointers such as \"/data/balance\")".into());
        }
        for (name, p) in pointers {
            if let Some(p) = p {
                if !(p.is_empty() || p.starts_with('/')) {
                    return Err(format!("the custom spec's `{name}` must be a JSON pointer starting with `/`, like \"/data/{}\"", p.trim_start_matches('.')));
                }
            }
        }
        Unit::parse(&self.unit).map_err(|e| format!("the custom spec's unit: {e}"))?;
        if !self.scale.is_finite() || self.scale == 0.0 {
            return Err("the custom spec's `scale` must be a non-zero number".into());
        }
        for (i, r) in self.out_of_credit.iter().enumerate() {
            if r.status.is_none() && r.body_contains.is_none() && r.pointer.is_none() {
                return Err(format!(
                    "out_of_credit rule #{}: give a `status`, `body_contains` or `pointer`",
                    i + 1
                ));
            }
            if r.pointer.is_some() != r.equals.is_some() {
                return Err(format!(
                    "out_of_credit rule #{}: `pointer` and `equals` go together",
                    i + 1
                ));
            }
        }
        if matches!(self.auth, Auth::JsonBody { .. }) && self.method.eq_ignore_ascii_case("GET") {
            return Err("the key can only go in a JSON body with method POST".into());
        }
        Ok(())
    }

    /// The spec is stored in plain text (the account's options, shown by `account list
    /// --json`), so a key written into its headers, URL or body would be stored and shown.
    /// Such a spec is refused, and the message names the `auth` that sends the key from the
    /// keychain instead.
    fn refuse_secrets(&self) -> Result<(), String> {
        let refuse = |place: String, auth: String| {
            Err(format!(
                "{place} holds a key, and the spec is stored in plain text: remove it, give the \
                 key with --secret-stdin (it goes to the OS keychain) and add {auth} to the spec \
                 so Cliffwatch sends it"
            ))
        };
        for (name, value) in &self.headers {
            let lower = name.trim().to_ascii_lowercase();
            let secret_name = SECRET_HEADERS.contains(&lower.as_str()) || redact::is_secret(name);
            if secret_name || redact::holds_secret(value) {
                return refuse(
                    format!("the custom spec's header `{name}`"),
                    header_auth(name, value),
                );
            }
        }
        if let Auth::Header { name, prefix } = &self.auth {
            if redact::holds_secret(prefix) {
                return refuse(
                    format!("the `prefix` of the custom spec's auth header `{name}`"),
                    format!(r#""auth": {{"type": "header", "name": "{name}"}}"#),
                );
            }
        }
        let spec_url = if self.url.starts_with('/') {
            Url::parse(&format!("http://localhost{}", self.url)).ok()
        } else {
            Url::parse(&self.url).ok()
        };
        if let Some(u) = &spec_url {
            if !u.username().is_empty() || u.password().is_some() {
                return refuse(
                    "the custom spec's url (`user:password@`)".into(),
                    format!(
                        r#""auth": {{"type": "basic", "username": "{}"}}"#,
                        u.username()
                    ),
                );
            }
            for (name, value) in u.query_pairs() {
                if redact::is_secret_param(&name) || redact::holds_secret(&value) {
                    return refuse(
                        format!("the custom spec's url parameter `{name}`"),
                        format!(r#""auth": {{"type": "query", "name": "{name}"}}"#),
                    );
                }
            }
        }
        if let Some((path, key)) = self.body.as_ref().and_then(|b| secret_in_body(b, "", 0)) {
            let auth = if path.is_empty() {
                format!(r#""auth": {{"type": "json_body", "field": "{key}"}}"#)
            } else {
                format!(
                    r#""auth": {{"type": "json_body", "field": "…"}} (it puts the key at the top level of the body; `{path}` is nested)"#
                )
            };
            return refuse(format!("the custom spec's body at `{path}/{key}`"), auth);
        }
        Ok(())
    }

    /// The request URL: the spec's, with the account's base URL (if any) as its origin.
    fn url(&self, base_url: &str) -> Result<Url, String> {
        let base = base_url.trim_end_matches('/');
        if self.url.starts_with('/') {
            if base.is_empty() {
                return Err(
                    "the custom spec's url is a path, so the account needs a base URL (--base-url)"
                        .into(),
                );
            }
            return Url::parse(&format!("{base}{}", self.url)).map_err(|e| format!("bad URL: {e}"));
        }
        let spec_url = Url::parse(&self.url).map_err(|e| format!("the custom spec's url: {e}"))?;
        if base.is_empty() {
            return Ok(spec_url);
        }
        let tail = &spec_url[url::Position::BeforePath..];
        Url::parse(&format!("{base}{tail}")).map_err(|e| format!("bad URL: {e}"))
    }

    fn matches_credit_rule(&self, status: u16, body: &[u8]) -> bool {
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        let text = String::from_utf8_lossy(body).to_lowercase();
        self.out_of_credit.iter().any(|r| {
            r.status.is_none_or(|s| s == status)
                && r.body_contains
                    .as_ref()
                    .is_none_or(|t| text.contains(&t.to_lowercase()))
                && match (&r.pointer, &r.equals) {
                    (Some(p), Some(want)) => json
                        .as_ref()
                        .and_then(|j| j.pointer(p))
                        .is_some_and(|got| same_scalar(got, want)),
                    _ => true,
                }
        })
    }
}

/// Header names that always carry a credential.
const SECRET_HEADERS: [&str; 4] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];

/// The `auth` that sends what header `name: value` carried, from the keychain.
fn header_auth(name: &str, value: &str) -> String {
    let scheme = value
        .trim()
        .split_once(' ')
        .map(|(s, _)| s)
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()));
    let authorization = name.trim().eq_ignore_ascii_case("authorization");
    match scheme {
        Some(s) if authorization && s.eq_ignore_ascii_case("bearer") => {
            r#""auth": {"type": "bearer"}"#.into()
        }
        Some(s) if authorization && s.eq_ignore_ascii_case("basic") => {
            r#""auth": {"type": "basic", "username": "…"} (the key is the password)"#.into()
        }
        Some(s) => format!(r#""auth": {{"type": "header", "name": "{name}", "prefix": "{s} "}}"#),
        None => format!(r#""auth": {{"type": "header", "name": "{name}"}}"#),
    }
}

/// The first object key with a secret name, or string holding a key, in a request body:
/// (the JSON pointer of its object, the key). Depth-capped like the redactor.
fn secret_in_body(v: &serde_json::Value, at: &str, depth: usize) -> Option<(String, String)> {
    if depth > 32 {
        return None;
    }
    match v {
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            let secret = redact::is_secret(k) || x.as_str().is_some_and(redact::holds_secret);
            if secret {
                Some((at.to_owned(), k.clone()))
            } else {
                secret_in_body(x, &format!("{at}/{k}"), depth + 1)
            }
        }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
            if x.as_str().is_some_and(redact::holds_secret) {
                Some((at.to_owned(), i.to_string()))
            } else {
                secret_in_body(x, &format!("{at}/{i}"), depth + 1)
            }
        }),
        _ => None,
    }
}

fn same_scalar(a: &serde_json::Value, b: &serde_json::Value) -> bool {
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    a == b || text(a).eq_ignore_ascii_case(&text(b))
}

#[derive(Debug)]
pub struct Custom;

#[async_trait::async_trait]
impl Provider for Custom {
    fn info(&self) -> &'static ProviderInfo {
        &INFO
    }

    fn validate_options(&self, options: &serde_json::Value) -> Result<(), String> {
        Spec::from_options(options).map(|_| ())
    }

    async fn poll(&self, ctx: &PollContext<'_>, http: &Http) -> Result<Reading, PollError> {
        let spec = Spec::from_options(&ctx.account.options).map_err(PollError::config)?;
        let mut url = spec.url(ctx.base_url).map_err(PollError::config)?;
        let method = if spec.method.eq_ignore_ascii_case("POST") {
            Method::POST
        } else {
            Method::GET
        };
        let mut body = spec.body.clone();
        let mut req_headers: Vec<(String, String, bool)> = spec
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone(), false))
            .collect();
        match &spec.auth {
            Auth::None => {}
            Auth::Bearer => req_headers.push((
                "Authorization".into(),
                format!("Bearer {}", ctx.secret()?.expose()),
                true,
            )),
            Auth::Header { name, prefix } => req_headers.push((
                name.clone(),
                format!("{prefix}{}", ctx.secret()?.expose()),
                true,
            )),
            Auth::Query { name } => {
                url.query_pairs_mut()
                    .append_pair(name, ctx.secret()?.expose());
            }
            Auth::Basic { .. } | Auth::JsonBody { .. } => {}
        }
        let mut req = Request::new(method, url);
        for (k, v, secret) in req_headers {
            req = if secret {
                req.secret_header(k, v)
            } else {
                req.header(k, v)
            };
        }
        if let Auth::Basic { username } = &spec.auth {
            req = req.basic_auth(username, ctx.secret()?.expose());
        }
        if let Auth::JsonBody { field } = &spec.auth {
            let mut b = match body.take() {
                Some(serde_json::Value::Object(m)) => m,
                None => serde_json::Map::new(),
                Some(_) => {
                    return Err(PollError::config(
                        "the custom spec's body must be a JSON object to hold the key",
                    ))
                }
            };
            b.insert(field.clone(), ctx.secret()?.expose().into());
            body = Some(serde_json::Value::Object(b));
        }
        if let Some(b) = &body {
            req = req.json_body(b);
        }

        let resp = http.send(req).await?;
        if spec.matches_credit_rule(resp.status, &resp.body) {
            let mut c: Classification = ctx.classify(&resp);
            c.outcome = Outcome::OutOfCredit;
            c.transient = false;
            c.retry_after = None;
            return Err(ctx.error_from(resp.status, c));
        }
        let c = ctx.classify(&resp);
        if c.outcome != Outcome::Ok {
            return Err(ctx.error_from(resp.status, c));
        }
        let json = ctx.parse_json(&resp.body)?;
        let read = |p: &Option<String>| -> Result<Option<f64>, PollError> {
            match p {
                None => Ok(None),
                Some(p) => number_at(&json, p)
                    .map(|v| Some(v * spec.scale))
                    .ok_or_else(|| ctx.missing(p)),
            }
        };
        let unit = Unit::parse(&spec.unit).map_err(|e| PollError::config(e.to_string()))?;
        Ok(Reading {
            remaining: read(&spec.remaining)?,
            limit: read(&spec.limit)?,
            used: read(&spec.used)?,
            ..Reading::new(unit)
        }
        .derive_remaining())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(spec: serde_json::Value) -> Result<Spec, String> {
        Spec::from_options(&json!({ "spec": spec }))
    }

    #[test]
    fn a_litellm_spec_parses_from_an_object_or_a_string() {
        let s = json!({"url": "https://llm.example.com/key/info", "auth": {"type": "bearer"},
                       "remaining": "/info/remaining", "unit": "usd"});
        let a = parse(s.clone()).unwrap();
        let b = parse(json!(s.to_string())).unwrap();
        assert_eq!(a, b, "the CLI may pass the spec as a JSON string");
        assert_eq!(
            (a.method.as_str(), a.scale, &a.auth),
            ("GET", 1.0, &Auth::Bearer),
            "defaults"
        );
    }

    #[test]
    fn bad_specs_say_what_to_fix() {
        let cases = [
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd", "remainig": "/x"}),
                "unknown field `remainig`",
            ),
            (
                json!({"url": "https://x.example/b", "unit": "usd"}),
                "at least one of",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "data.balance", "unit": "usd"}),
                "JSON pointer",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "dollars"}),
                "unknown unit",
            ),
            (
                json!({"url": "http://x.example/b", "remaining": "/r", "unit": "usd"}),
                "plain http",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd", "method": "DELETE"}),
                "GET or POST",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd", "auth": {"type": "json_body", "field": "k"}}),
                "POST",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd", "auth": {"type": "cookie"}}),
                "unknown variant `cookie`",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd", "out_of_credit": [{}]}),
                "rule #1",
            ),
            (
                json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd", "scale": 0}),
                "scale",
            ),
        ];
        for (spec, want) in cases {
            let err = parse(spec.clone()).unwrap_err();
            assert!(err.contains(want), "{spec}: expected `{want}` in: {err}");
        }
        assert!(Spec::from_options(&json!({}))
            .unwrap_err()
            .contains("needs `spec`"));
    }

    /// Issue 11: a key written into the spec (stored in plain text in the account's options)
    /// used to be accepted and stored. Now it is refused, the message names the `auth` that
    /// sends it from the keychain, and it never quotes the key.
    #[test]
    fn keys_in_a_spec_are_refused_with_the_auth_to_use_instead() {
        let base = || json!({"url": "https://x.example/b", "remaining": "/r", "unit": "usd"});
        let with = |k: &str, v: serde_json::Value| {
            let mut s = base();
            s[k] = v;
            s
        };
        let cases = [
            (
                with("headers", json!({"Authorization": "Bearer PLANTED"})),
                r#""auth": {"type": "bearer"}"#,
            ),
            (
                with(
                    "headers",
                    json!({"authorization": "Basic dXNlcjpQTEFOVEVE"}),
                ),
                r#""type": "basic""#,
            ),
            (
                with("headers", json!({"X-Api-Key": "PLANTED"})),
                r#""auth": {"type": "header", "name": "X-Api-Key"}"#,
            ),
            (
                with("headers", json!({"Proxy-Authorization": "PLANTED"})),
                r#""name": "Proxy-Authorization""#,
            ),
            (
                with("headers", json!({"Cookie": "sid=PLANTED"})),
                r#""name": "Cookie""#,
            ),
            (
                with("headers", json!({"xi-api-key": "PLANTED"})),
                r#""name": "xi-api-key""#,
            ),
            (
                with("headers", json!({"X-Custom": "Token PLANTED"})),
                r#""prefix": "Token ""#,
            ),
            (
                with(
                    "headers",
                    json!({"X-Custom": "sk-proj-PLANTED0123456789abcd"}),
                ),
                r#""name": "X-Custom""#,
            ),
            (
                with("url", json!("https://x.example/b?page=1&api_key=PLANTED")),
                r#""auth": {"type": "query", "name": "api_key"}"#,
            ),
            (
                with("url", json!("/b?accessKey=PLANTED")),
                r#""name": "accessKey""#,
            ),
            (
                with("url", json!("https://u:PLANTED@x.example/b")),
                r#""type": "basic", "username": "u""#,
            ),
            (
                {
                    let mut s = with("body", json!({"model": "m", "api_key": "PLANTED"}));
                    s["method"] = json!("POST");
                    s
                },
                r#""auth": {"type": "json_body", "field": "api_key"}"#,
            ),
            (
                {
                    let mut s = with("body", json!({"cfg": {"clientSecret": "PLANTED"}}));
                    s["method"] = json!("POST");
                    s
                },
                "/cfg/clientSecret",
            ),
            (
                with(
                    "auth",
                    json!({"type": "header", "name": "X-K", "prefix": "sk-ant-PLANTED0123456789"}),
                ),
                "prefix",
            ),
            (
                // A secret in a field serde rejects is not quoted back either.
                with("scale", json!("sk-proj-PLANTED0123456789abcd")),
                "not valid",
            ),
        ];
        for (spec, want) in cases {
            let err = parse(spec.clone()).expect_err("a key in the spec is refused");
            assert!(err.contains(want), "{spec}: expected `{want}` in: {err}");
            assert!(
                !err.contains("PLANTED"),
                "the message never quotes the key: {err}"
            );
            if want != "not valid" {
                assert!(
                    err.contains("keychain"),
                    "the message says where the key goes instead: {err}"
                );
            }
        }
        let fine = json!({"url": "https://x.example/b?page=2&format=json", "method": "POST",
            "headers": {"Accept": "application/json", "X-Request-Source": "cliffwatch"},
            "body": {"model": "m", "code": "c1", "tokens": 5},
            "auth": {"type": "header", "name": "X-Api-Key", "prefix": "Bearer "},
            "remaining": "/r", "unit": "usd"});
        assert!(
            parse(fine).is_ok(),
            "ordinary headers, parameters and body fields are not keys"
        );
    }

    #[test]
    fn base_url_override_replaces_the_origin_only() {
        let s = parse(json!({"url": "https://gw.example.com/v1/key/info?x=1", "remaining": "/r", "unit": "usd"})).unwrap();
        assert_eq!(
            s.url("").unwrap().as_str(),
            "https://gw.example.com/v1/key/info?x=1"
        );
        assert_eq!(
            s.url("http://127.0.0.1:4000").unwrap().as_str(),
            "http://127.0.0.1:4000/v1/key/info?x=1"
        );
        let p = parse(json!({"url": "/key/info", "remaining": "/r", "unit": "usd"})).unwrap();
        assert_eq!(
            p.url("https://gw.example.com/").unwrap().as_str(),
            "https://gw.example.com/key/info"
        );
        assert!(
            p.url("").unwrap_err().contains("--base-url"),
            "a path needs a base URL"
        );
    }

    #[test]
    fn credit_rules_need_every_condition() {
        let s = parse(
            json!({"url": "https://x.example/b", "remaining": "/r", "unit": "credits",
            "out_of_credit": [{"status": 400, "body_contains": "budget has been exceeded"},
                              {"pointer": "/ok", "equals": false}]}),
        )
        .unwrap();
        assert!(s.matches_credit_rule(400, b"Budget has been exceeded! Current cost: 10"));
        assert!(
            !s.matches_credit_rule(400, b"bad request"),
            "status alone is not enough"
        );
        assert!(
            !s.matches_credit_rule(401, b"Budget has been exceeded"),
            "text alone is not enough"
        );
        assert!(
            s.matches_credit_rule(200, br#"{"ok": false}"#),
            "a 200 can say it too"
        );
        assert!(!s.matches_credit_rule(200, br#"{"ok": true}"#));
    }
}
