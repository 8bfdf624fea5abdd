//! Secrets in URLs: log lines often carry the API key in the query string (ScraperAPI's
//! `api_key=`, Google's `key=` …). Stored URLs have those values replaced by `REDACTED`.

/// Query parameter names whose values are secrets (compared ignoring ASCII case).
const SECRET_PARAMS: &[&str] = &[
    "api_key",
    "apikey",
    "api-key",
    "key",
    "token",
    "access_token",
    "auth",
    "auth_token",
    "authorization",
    "secret",
    "client_secret",
    "password",
    "pass",
    "sig",
    "signature",
    "x-api-key",
    "clientkey",
    "session",
    "sessionid",
    "refresh_token",
    "id_token",
    "code",
    "private_key",
];

/// The value that replaces a secret.
pub const REDACTED: &str = "REDACTED";

/// `url` with the values of secret query parameters (and any `user:password@`) replaced.
pub fn redact_url(url: &str) -> String {
    let (before_frag, frag) = match url.find('#') {
        Some(i) => url.split_at(i),
        None => (url, ""),
    };
    let (base, query) = match before_frag.find('?') {
        Some(i) => (&before_frag[..i], Some(&before_frag[i + 1..])),
        None => (before_frag, None),
    };
    let mut out = redact_userinfo(base);
    if let Some(q) = query {
        out.push('?');
        for (i, pair) in q.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((k, _)) if is_secret(k) => {
                    out.push_str(k);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                _ => out.push_str(pair),
            }
        }
    }
    out.push_str(frag);
    out
}

fn is_secret(name: &str) -> bool {
    // `xi-api-key`, `X-Api-Key`, `openai_api_key`, `api%5Fkey`: one spelling.
    let n = name
        .trim()
        .replace("%5F", "_")
        .replace("%5f", "_")
        .replace('-', "_")
        .to_ascii_lowercase();
    SECRET_PARAMS.iter().any(|s| s.replace('-', "_") == n)
        || n.ends_with("_key")
        || n.ends_with("token")
        || n.ends_with("_secret")
        || n.contains("apikey")
}

fn redact_userinfo(base: &str) -> String {
    if let Some((scheme, rest)) = base.split_once("://") {
        let auth_end = rest.find('/').unwrap_or(rest.len());
        if let Some(at) = rest[..auth_end].rfind('@') {
            return format!("{scheme}://{REDACTED}@{}", &rest[at + 1..]);
        }
    }
    base.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[rstest::rstest]
    #[case(
        "https://api.scraperapi.com/?api_key=abc123&url=https%3A%2F%2Fx.com",
        "https://api.scraperapi.com/?api_key=REDACTED&url=https%3A%2F%2Fx.com"
    )]
    #[case(
        "https://g.com/v1?key=AIza&alt=json",
        "https://g.com/v1?key=REDACTED&alt=json"
    )]
    #[case(
        "/p?token=t&access_token=a&page=2",
        "/p?token=REDACTED&access_token=REDACTED&page=2"
    )]
    #[case(
        "https://x.com/p?ACCESS_TOKEN=a#frag",
        "https://x.com/p?ACCESS_TOKEN=REDACTED#frag"
    )]
    #[case("https://u:pw@x.com/p", "https://REDACTED@x.com/p")]
    #[case("https://x.com/p?monkey=1&q=key", "https://x.com/p?monkey=1&q=key")]
    #[case(
        "https://x.com/p?openai_api_key=sk-1&flag",
        "https://x.com/p?openai_api_key=REDACTED&flag"
    )]
    #[case(
        "https://api.elevenlabs.io/v1/x?xi-api-key=k1",
        "https://api.elevenlabs.io/v1/x?xi-api-key=REDACTED"
    )]
    #[case("/v1/?clientKey=k2&task=1", "/v1/?clientKey=REDACTED&task=1")]
    fn secrets_in_urls_are_redacted(#[case] url: &str, #[case] want: &str) {
        assert_eq!(
            redact_url(url),
            want,
            "only secret values go; names and other params stay"
        );
    }
}
