//! The one HTTP client every provider adapter goes through, and the hygiene rules it enforces:
//! rustls (no OpenSSL), a connect timeout and a total timeout, response bodies capped while they
//! stream in (a hostile or broken endpoint cannot make us buffer 5 MiB), redirects followed only
//! within the origin the request started at (so neither `Authorization` nor a provider's own key
//! header such as `xi-api-key` ever reaches another host), the standard proxy environment
//! variables (`HTTPS_PROXY`, `NO_PROXY` …, reqwest's default), and a truthful User-Agent.
//!
//! Errors name the host, never the URL: a URL may carry the key in its query string
//! (ScraperAPI, SerpApi …), and reqwest's own error text includes the full URL.

use std::time::Duration;
use url::Url;

pub use reqwest::Method;

/// `cliffwatch/<version> (+<repository>)`: who we are and where to complain.
pub const USER_AGENT: &str = concat!(
    "cliffwatch/",
    env!("CARGO_PKG_VERSION"),
    " (+",
    env!("CARGO_PKG_REPOSITORY"),
    ")"
);

/// Balance endpoints answer in well under a kilobyte; 1 MiB leaves room for a paginated cost
/// report page (OpenAI's 180 daily buckets grouped by line item are ~200 KiB) and nothing more.
pub const MAX_BODY: usize = 1 << 20;

/// Same-origin redirects followed before giving up; balance endpoints do not chain redirects.
const MAX_REDIRECTS: usize = 5;

/// Timeouts and limits of an [`Http`] client.
#[derive(Debug, Clone, Copy)]
pub struct HttpConfig {
    /// TCP + TLS handshake.
    pub connect_timeout: Duration,
    /// The whole exchange, from connecting to the last byte of the body.
    pub total_timeout: Duration,
    /// Bodies larger than this are refused as they stream in.
    pub max_body: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        // 10 s to connect covers a slow TLS handshake over a proxy; 30 s in total covers
        // OpenAI's cost API, which takes several seconds for a month of buckets.
        Self {
            connect_timeout: Duration::from_secs(10),
            total_timeout: Duration::from_secs(30),
            max_body: MAX_BODY,
        }
    }
}

/// Why an exchange failed before there was a complete answer to classify. Messages name the
/// host only and never the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    #[error("{host} did not answer within {seconds} s: it may be down or slow; Cliffwatch will retry later")]
    Timeout { host: String, seconds: u64 },

    #[error("cannot connect to {host}: check the network, the proxy settings (HTTPS_PROXY) and the base URL")]
    Connect { host: String },

    #[error("{host} sent more than {limit} bytes where a small JSON answer was expected: check the base URL")]
    TooLarge { host: String, limit: usize },

    #[error("{host} redirected to {to}, another host; the request was not followed there so that the key stays with its provider")]
    Redirect { host: String, to: String },

    #[error("{host} sent an answer that is not valid HTTP ({detail}): check the base URL")]
    BadResponse { host: String, detail: String },

    #[error("the request to {host} could not be built: {detail}")]
    Request { host: String, detail: String },
}

impl HttpError {
    /// Stable machine name for `--json` output and the UI.
    pub fn kind(&self) -> &'static str {
        match self {
            HttpError::Timeout { .. } => "timeout",
            HttpError::Connect { .. } => "connect",
            HttpError::TooLarge { .. } => "too_large",
            HttpError::Redirect { .. } => "redirect",
            HttpError::BadResponse { .. } => "bad_response",
            HttpError::Request { .. } => "request",
        }
    }

    /// Whether trying again later can help (the scheduler backs off on these).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HttpError::Timeout { .. } | HttpError::Connect { .. } | HttpError::BadResponse { .. }
        )
    }
}

/// One request. Headers that carry a key are marked sensitive so that they never show up in
/// reqwest's debug output.
#[derive(Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    /// Header names (lower case) whose values are secret.
    pub sensitive: Vec<String>,
    pub body: Option<Vec<u8>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Neither the query string nor header values: either may hold the key.
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("host", &self.url.host_str())
            .field("path", &self.url.path())
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl Request {
    pub fn new(method: Method, url: Url) -> Self {
        Self {
            method,
            url,
            headers: Vec::new(),
            sensitive: Vec::new(),
            body: None,
        }
    }

    pub fn get(url: Url) -> Self {
        Self::new(Method::GET, url)
    }

    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// A header that carries the key.
    pub fn secret_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.sensitive.push(name.to_ascii_lowercase());
        self.headers.push((name, value.into()));
        self
    }

    pub fn bearer(self, token: &str) -> Self {
        self.secret_header("Authorization", format!("Bearer {token}"))
    }

    /// HTTP Basic auth (Twilio: account SID and auth token; custom specs).
    pub fn basic_auth(self, user: &str, password: &str) -> Self {
        use base64::Engine as _;
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        self.secret_header("Authorization", format!("Basic {token}"))
    }

    pub fn json_body(mut self, body: &serde_json::Value) -> Self {
        self.body = Some(body.to_string().into_bytes());
        self.header("Content-Type", "application/json")
    }

    pub fn host(&self) -> String {
        host_of(&self.url)
    }
}

/// A complete answer, body capped at [`HttpConfig::max_body`].
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The host that answered (after same-origin redirects, the same as the request's).
    pub host: String,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The shared HTTP client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Http {
    client: reqwest::Client,
    config: HttpConfig,
}

impl Http {
    pub fn new(config: HttpConfig) -> Result<Self, HttpError> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .connect_timeout(config.connect_timeout)
            .timeout(config.total_timeout)
            .redirect(same_origin_redirects())
            .build()
            .map_err(|e| HttpError::Request {
                host: "-".into(),
                detail: format!("TLS or client setup failed: {}", without_url(&e)),
            })?;
        Ok(Self { client, config })
    }

    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// Sends a request and reads the whole answer, refusing bodies over the cap.
    pub async fn send(&self, req: Request) -> Result<Response, HttpError> {
        let host = req.host();
        // reqwest's timeout already covers the body; this outer one is the guarantee that a
        // server trickling one byte a second cannot hold a poll forever.
        match tokio::time::timeout(self.config.total_timeout, self.exchange(req, &host)).await {
            Ok(r) => r,
            Err(_) => Err(HttpError::Timeout {
                host,
                seconds: self.config.total_timeout.as_secs(),
            }),
        }
    }

    async fn exchange(&self, req: Request, host: &str) -> Result<Response, HttpError> {
        let mut headers = reqwest::header::HeaderMap::new();
        for (k, v) in &req.headers {
            let name = reqwest::header::HeaderName::from_bytes(k.as_bytes()).map_err(|_| {
                HttpError::Request {
                    host: host.into(),
                    detail: format!("`{k}` is not a valid header name"),
                }
            })?;
            let mut value =
                reqwest::header::HeaderValue::from_str(v).map_err(|_| HttpError::Request {
                    host: host.into(),
                    // Never the value: it may be the key.
                    detail: format!(
                        "the value of header `{k}` contains characters HTTP does not allow"
                    ),
                })?;
            if req.sensitive.contains(&k.to_ascii_lowercase()) {
                value.set_sensitive(true);
            }
            headers.append(name, value);
        }
        let mut builder = self
            .client
            .request(req.method.clone(), req.url.clone())
            .headers(headers);
        if let Some(body) = req.body {
            builder = builder.body(body);
        }
        let mut resp = builder.send().await.map_err(|e| self.map_err(&e, host))?;
        let status = resp.status().as_u16();
        let resp_headers: Vec<(String, String)> = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        if (300..400).contains(&status) {
            let to = resp_headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("location"))
                .and_then(|(_, l)| req.url.join(l).ok())
                .map_or_else(|| "an unnamed location".to_owned(), |u| host_of(&u));
            return Err(HttpError::Redirect {
                host: host.into(),
                to,
            });
        }
        let limit = self.config.max_body;
        if resp.content_length().is_some_and(|n| n > limit as u64) {
            return Err(HttpError::TooLarge {
                host: host.into(),
                limit,
            });
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.map_err(&e, host))? {
            if body.len() + chunk.len() > limit {
                return Err(HttpError::TooLarge {
                    host: host.into(),
                    limit,
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Response {
            status,
            headers: resp_headers,
            body,
            host: host_of(resp.url()),
        })
    }

    fn map_err(&self, e: &reqwest::Error, host: &str) -> HttpError {
        if e.is_timeout() {
            HttpError::Timeout {
                host: host.into(),
                seconds: self.config.total_timeout.as_secs(),
            }
        } else if e.is_connect() {
            HttpError::Connect { host: host.into() }
        } else if e.is_builder() {
            HttpError::Request {
                host: host.into(),
                detail: without_url(e),
            }
        } else {
            HttpError::BadResponse {
                host: host.into(),
                detail: without_url(e),
            }
        }
    }
}

/// Follows a redirect only while it stays on the origin (scheme, host, port) the request started
/// at. reqwest strips `Authorization` on a cross-host hop but not a provider's own key header
/// (`xi-api-key`, `X-API-Key`, `x-api-key`); stopping is the only rule that protects all of them.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let next = attempt.url();
        let same = first.scheme() == next.scheme()
            && first.host_str() == next.host_str()
            && first.port_or_known_default() == next.port_or_known_default();
        if same && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

/// The host (and a non-default port) of a URL, for messages.
pub fn host_of(url: &Url) -> String {
    match (url.host_str(), url.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => "an unnamed host".into(),
    }
}

/// reqwest's error text without the URL it embeds (the URL may carry the key).
fn without_url(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut parts = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        parts.push(s.to_string());
        source = s.source();
    }
    if parts.is_empty() {
        "no further detail".into()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wiremock::matchers::{header_exists, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    const KEY: &str = "sk-PLANTED-SECRET-0123456789";

    fn http(total_ms: u64) -> Http {
        Http::new(HttpConfig {
            connect_timeout: Duration::from_millis(total_ms),
            total_timeout: Duration::from_millis(total_ms),
            max_body: MAX_BODY,
        })
        .unwrap()
    }

    fn url(server: &MockServer, p: &str) -> Url {
        Url::parse(&format!("{}{p}?api_key={KEY}", server.uri())).unwrap()
    }

    fn assert_no_key(e: &HttpError) {
        assert!(
            !e.to_string().contains(KEY),
            "error text must never carry the key: {e}"
        );
        assert!(
            !format!("{e:?}").contains(KEY),
            "error Debug must never carry the key: {e:?}"
        );
    }

    #[test]
    fn user_agent_says_who_we_are() {
        assert!(
            USER_AGENT.starts_with("cliffwatch/0."),
            "version in the UA: {USER_AGENT}"
        );
        assert!(
            USER_AGENT.contains("(+https://github.com/"),
            "repo URL in the UA: {USER_AGENT}"
        );
    }

    #[test]
    fn request_debug_hides_query_and_header_values() {
        let r = Request::get(Url::parse(&format!("https://x.example/a?api_key={KEY}")).unwrap())
            .bearer(KEY);
        assert!(
            !format!("{r:?}").contains(KEY),
            "Debug of a request must not print the key"
        );
    }

    #[tokio::test]
    async fn sends_the_user_agent_and_reads_the_body() {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/ok"))
            .and(wiremock::matchers::header("user-agent", USER_AGENT))
            .respond_with(ResponseTemplate::new(200).set_body_string("{\"a\":1}"))
            .expect(1)
            .mount(&server)
            .await;
        let r = http(5_000)
            .send(Request::get(url(&server, "/ok")))
            .await
            .unwrap();
        assert_eq!(
            r.status, 200,
            "the mock only answers when our User-Agent was sent"
        );
        assert_eq!(r.body, b"{\"a\":1}");
    }

    #[tokio::test]
    async fn a_5_mib_body_is_refused_as_too_large() {
        let server = MockServer::start().await;
        Mock::given(path("/big"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b'x'; 5 << 20]))
            .mount(&server)
            .await;
        let e = http(10_000)
            .send(Request::get(url(&server, "/big")))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "too_large", "5 MiB is over the 1 MiB cap: {e}");
        assert_no_key(&e);
    }

    #[tokio::test]
    async fn a_body_just_under_the_cap_is_read_whole() {
        let server = MockServer::start().await;
        Mock::given(path("/edge"))
            .respond_with(ResponseTemplate::new(200).set_body_bytes(vec![b' '; MAX_BODY]))
            .mount(&server)
            .await;
        let r = http(10_000)
            .send(Request::get(url(&server, "/edge")))
            .await
            .unwrap();
        assert_eq!(
            r.body.len(),
            MAX_BODY,
            "exactly the cap is allowed; the limit is not off by one"
        );
    }

    #[tokio::test]
    async fn a_stalled_answer_times_out() {
        let server = MockServer::start().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(30)))
            .mount(&server)
            .await;
        let e = http(300)
            .send(Request::get(url(&server, "/slow")))
            .await
            .unwrap_err();
        assert_eq!(
            e.kind(),
            "timeout",
            "a 30 s stall is past a 300 ms timeout: {e}"
        );
        assert!(e.is_transient(), "a timeout is worth retrying later");
        assert_no_key(&e);
    }

    #[tokio::test]
    async fn connection_refused_is_a_connect_error_without_the_key() {
        // Bind then drop a listener so the port is closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let u = Url::parse(&format!("http://127.0.0.1:{port}/x?api_key={KEY}")).unwrap();
        let e = http(5_000)
            .send(Request::get(u).bearer(KEY))
            .await
            .unwrap_err();
        assert_eq!(e.kind(), "connect", "nothing listens on the port: {e}");
        assert_no_key(&e);
    }

    #[tokio::test]
    async fn a_redirect_to_another_host_is_not_followed_with_the_key() {
        let evil = MockServer::start().await;
        Mock::given(header_exists("authorization"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .named("auth header on another host")
            .mount(&evil)
            .await;
        Mock::given(header_exists("xi-api-key"))
            .respond_with(ResponseTemplate::new(200))
            .expect(0)
            .named("custom key header on another host")
            .mount(&evil)
            .await;
        let home = MockServer::start().await;
        Mock::given(path("/balance"))
            .respond_with(
                ResponseTemplate::new(302)
                    .insert_header("Location", format!("{}/steal", evil.uri())),
            )
            .mount(&home)
            .await;
        let req = Request::get(Url::parse(&format!("{}/balance", home.uri())).unwrap())
            .bearer(KEY)
            .secret_header("xi-api-key", KEY);
        let e = http(5_000).send(req).await.unwrap_err();
        assert_eq!(
            e.kind(),
            "redirect",
            "a cross-host redirect is reported, not followed: {e}"
        );
        assert_no_key(&e);
        let seen = evil.received_requests().await.unwrap_or_default();
        assert!(
            seen.is_empty(),
            "the other host must receive nothing at all, got {} requests",
            seen.len()
        );
    }

    #[tokio::test]
    async fn a_same_origin_redirect_is_followed() {
        let home = MockServer::start().await;
        Mock::given(path("/old"))
            .respond_with(ResponseTemplate::new(301).insert_header("Location", "/new"))
            .mount(&home)
            .await;
        Mock::given(path("/new"))
            .and(header_exists("authorization"))
            .respond_with(ResponseTemplate::new(200).set_body_string("{}"))
            .mount(&home)
            .await;
        let req = Request::get(Url::parse(&format!("{}/old", home.uri())).unwrap()).bearer(KEY);
        let r = http(5_000).send(req).await.unwrap();
        assert_eq!(r.status, 200, "same host: follow and keep the key");
    }
}
