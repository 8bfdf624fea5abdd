//! The local recording proxy, a host like the read API: point an SDK's base URL at
//! `http://127.0.0.1:8402/a/<account-label>` and every answer the provider gives that client
//! passes through here on its way back — forwarded as it arrives, and recorded from a copy.
//!
//! - Routes: `/a/<label>/<rest>` goes to the account's base URL + `/<rest>`; `/u/<name>/<rest>`
//!   to an `--upstream NAME=URL`. Nothing else: not an open proxy (no absolute-form targets,
//!   no `CONNECT`), loopback only, requests for another `Host` (DNS rebinding) or from a web
//!   page of another origin refused.
//! - Credentials are the client's own and pass through; the proxy never adds a key (a local
//!   process must not be able to spend the user's keys through it) and never stores or prints a
//!   request header.
//! - Bodies stream both ways without being held (SSE, chunked, uploads and downloads of any
//!   size); a copy of a response's chunks goes to a recorder task through a bounded queue that
//!   never waits — a recorder that falls behind loses its copy, the client loses nothing.
//! - Recorded through [`crate::api::proxy`]: answers that are not 2xx as events (the shared
//!   classifier: disguised 402s, payment challenges), 2xx usage (JSON or the stream's final
//!   chunk) as the account's usage, which the forecast's log refinement reads.
//! - The breaker (per account, opt-in): while the account is known out of credit, answer at
//!   once with a local 402 instead of forwarding.

pub mod headers;
pub mod usage;

use crate::api::proxy::{self as front, Exchange, Recorded, Route};
use crate::logs::prices::PriceTable;
use crate::model::AccountId;
use crate::{Cliffwatch, Error, Result};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use futures_util::Stream;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use url::Url;
use usage::{Coding, Framing, UsageReader};

/// Where `cliffwatch proxy` listens unless told.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8402";
/// The start of an answer's body kept for the classifier (decoded).
pub const MAX_RECORDED_BODY: usize = 64 * 1024;
/// The most raw body bytes copied for that (a compressed body decodes to more).
const MAX_RAW_COPY: usize = 1024 * 1024;
/// Connecting to an upstream; a provider that does not answer a TCP/TLS handshake in 10 s is
/// down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Silence from an upstream that ends the exchange. Per read, not in total: a stream that is
/// still sending is never cut, and a slow model's first token may take minutes.
const IDLE_TIMEOUT: Duration = Duration::from_secs(600);
/// Chunks the copy of one response may hold for its recorder.
const TEE_CHUNKS: usize = 256;
/// Recorded exchanges waiting to be stored.
const WRITE_QUEUE: usize = 4096;
/// Exchanges stored per transaction, and how long the writer gathers them: at most ten
/// commits (and announcements) a second however busy the proxy is.
const WRITE_BATCH: usize = 512;
const WRITE_GATHER: Duration = Duration::from_millis(100);
/// How long a breaker tripped by the proxy itself stays open without the store saying so (the
/// write is on its way).
const TRIP_GRACE: Duration = Duration::from_secs(5);
/// How long routes and breakers are kept without reading the store again: what another process
/// changed (`cliffwatch account breaker` while `cliffwatch proxy` runs, a poll by `watch`) is
/// seen within this; what this process changes, at once.
const ROUTES_TTL: Duration = Duration::from_secs(2);

/// What the proxy needs.
#[derive(Debug, Clone)]
pub struct ProxyConfig {
    pub addr: SocketAddr,
    /// `--upstream NAME=URL` routes (`/u/NAME/…`), for APIs that have no account.
    pub upstreams: Vec<(String, Url)>,
}

/// Counters since start, for the host to show.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub forwarded: AtomicU64,
    pub breaker_answers: AtomicU64,
    pub upstream_errors: AtomicU64,
    pub refused: AtomicU64,
    pub events: AtomicU64,
    pub usage_records: AtomicU64,
    /// Copies lost because a recorder fell behind, or the write queue was full.
    pub not_recorded: AtomicU64,
    pub last_error: Mutex<Option<String>>,
}

/// A running proxy: its address, counters and task (aborting it stops it).
#[derive(Debug)]
pub struct Proxy {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    pub task: tokio::task::JoinHandle<()>,
}

struct Ctx {
    cw: Cliffwatch,
    client: reqwest::Client,
    upstreams: HashMap<String, Url>,
    hosts: Vec<String>,
    routes: RouteCache,
    prices: Arc<PriceTable>,
    writer: mpsc::Sender<Recorded>,
    stats: Arc<Stats>,
}

/// Checks the configuration and starts serving.
pub async fn start(cw: Cliffwatch, config: ProxyConfig) -> Result<Proxy> {
    if !config.addr.ip().is_loopback() {
        return Err(Error::InvalidInput(format!(
            "{} is not a loopback address: the proxy listens on this machine only (127.0.0.1 or [::1])",
            config.addr
        )));
    }
    let client = reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(IDLE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .pool_idle_timeout(Duration::from_secs(90))
        .build()
        .map_err(|e| Error::InvalidInput(format!("cannot start the proxy's HTTP client: {e}")))?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| Error::InvalidInput(format!("cannot listen on {}: {e}", config.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::InvalidInput(format!("the listener has no address: {e}")))?;
    let port = addr.port();
    let hosts = vec![
        format!("{}:{port}", addr.ip()),
        format!("localhost:{port}"),
        format!("[{}]:{port}", addr.ip()),
    ];
    let prices =
        Arc::new(PriceTable::load(cw.data_dir()).unwrap_or_else(|_| PriceTable::shipped()));
    let stats = Arc::new(Stats::default());
    let (writer, queue) = mpsc::channel(WRITE_QUEUE);
    let ctx = Arc::new(Ctx {
        routes: RouteCache::default(),
        upstreams: config.upstreams.into_iter().collect(),
        client,
        hosts,
        prices,
        writer,
        stats: stats.clone(),
        cw: cw.clone(),
    });
    let app = axum::Router::new().fallback(handle).with_state(ctx.clone());
    let mut changes = cw.changes();
    let task = tokio::spawn(async move {
        let write = tokio::spawn(write_loop(cw, queue, ctx.stats.clone()));
        let watch_ctx = ctx.clone();
        let watch = tokio::spawn(async move {
            // Any change (an account edited, a poll, a 402 stored) may move a route or a
            // breaker: the next request reads them afresh.
            while let Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) =
                changes.recv().await
            {
                watch_ctx.routes.invalidate();
            }
        });
        let _guard = (AbortOnDrop(write), AbortOnDrop(watch));
        let _ = axum::serve(listener, app).await;
    });
    Ok(Proxy { addr, stats, task })
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Every account's route, by label.
type Routes = Arc<HashMap<String, Route>>;

/// Routes by label, read from the store when something changed, and breakers the proxy
/// tripped itself since.
#[derive(Default)]
struct RouteCache {
    routes: RwLock<Option<(Instant, Routes)>>,
    /// One refresh at a time; the others wait for it.
    refreshing: tokio::sync::Mutex<()>,
    tripped: Mutex<HashMap<AccountId, (DateTime<Utc>, Instant)>>,
}

impl RouteCache {
    fn invalidate(&self) {
        *self.routes.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    fn cached(&self) -> Option<Routes> {
        self.routes
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(at, _)| at.elapsed() < ROUTES_TTL)
            .map(|(_, r)| r.clone())
    }

    async fn get(&self, cw: &Cliffwatch, label: &str) -> Result<Option<Route>> {
        if let Some(r) = self.cached() {
            return Ok(r.get(label).cloned());
        }
        let _one = self.refreshing.lock().await;
        if let Some(r) = self.cached() {
            return Ok(r.get(label).cloned());
        }
        let fresh = Arc::new(front::routes(cw).await?);
        *self.routes.write().unwrap_or_else(|e| e.into_inner()) =
            Some((Instant::now(), fresh.clone()));
        Ok(fresh.get(label).cloned())
    }

    fn trip(&self, id: AccountId, at: DateTime<Utc>) {
        let mut tripped = self.tripped.lock().unwrap_or_else(|e| e.into_inner());
        // An expired trip must not hide this one: drop the stale ones first, then keep the
        // earliest live 402.
        tripped.retain(|_, (_, when)| when.elapsed() < TRIP_GRACE);
        tripped.entry(id).or_insert((at, Instant::now()));
    }

    /// Since when the route's account is out of credit, by the store or by the proxy's own
    /// recent 402.
    fn open_since(&self, route: &Route) -> Option<DateTime<Utc>> {
        let mut tripped = self.tripped.lock().unwrap_or_else(|e| e.into_inner());
        tripped.retain(|_, (_, when)| when.elapsed() < TRIP_GRACE);
        route
            .out_since
            .or_else(|| tripped.get(&route.account_id).map(|(at, _)| *at))
    }
}

/// `{kind, message}`, as every host answers an error.
fn refuse(status: StatusCode, kind: &str, message: &str) -> Response {
    let body = serde_json::json!({ "kind": kind, "message": message }).to_string();
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Where a request goes.
enum Target {
    Account(String),
    Upstream(String),
}

/// `/a/<label>/<rest>` or `/u/<name>/<rest>` (the label percent-decoded; `rest` kept as sent).
fn split_route(path: &str) -> Option<(Target, &str)> {
    let (kind, tail) = if let Some(t) = path.strip_prefix("/a/") {
        ("a", t)
    } else if let Some(t) = path.strip_prefix("/u/") {
        ("u", t)
    } else {
        return None;
    };
    let (name, rest) = tail.split_once('/').unwrap_or((tail, ""));
    let name = percent_encoding::percent_decode_str(name)
        .decode_utf8()
        .ok()?
        .into_owned();
    if name.is_empty() {
        return None;
    }
    Some((
        if kind == "a" {
            Target::Account(name)
        } else {
            Target::Upstream(name)
        },
        rest,
    ))
}

/// Whether a browser page of another origin sent this (a page may not drive the proxy).
fn foreign_origin(headers: &HeaderMap) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return false;
    };
    let Some(url) = origin.to_str().ok().and_then(|o| Url::parse(o).ok()) else {
        return true;
    };
    !crate::urls::is_loopback(&url)
}

async fn handle(State(ctx): State<Arc<Ctx>>, req: Request) -> Response {
    ctx.stats.requests.fetch_add(1, Ordering::Relaxed);
    match forward(&ctx, req).await {
        Ok(r) => r,
        Err(r) => {
            ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
            r
        }
    }
}

async fn forward(ctx: &Arc<Ctx>, req: Request) -> std::result::Result<Response, Response> {
    if req.method() == Method::CONNECT || req.uri().scheme().is_some() {
        return Err(refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "not_a_forward_proxy",
            "this is not an open proxy: send requests to /a/<account>/… or /u/<upstream>/…",
        ));
    }
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if !ctx.hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the proxy answers only requests to its own loopback address",
        ));
    }
    if foreign_origin(req.headers()) {
        return Err(refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the proxy does not answer web pages of other origins",
        ));
    }
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let Some((target, rest)) = split_route(&path) else {
        return Err(refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "no such route: use /a/<account label>/… or /u/<upstream name>/…",
        ));
    };
    let (base, route) = match target {
        Target::Account(label) => {
            let route =
                ctx.routes.get(&ctx.cw, &label).await.map_err(|e| {
                    refuse(StatusCode::SERVICE_UNAVAILABLE, e.kind(), &e.to_string())
                })?;
            let Some(route) = route else {
                return Err(refuse(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!("no account `{label}`: add it with `cliffwatch account add`"),
                ));
            };
            (route.base.clone(), Some(route))
        }
        Target::Upstream(name) => match ctx.upstreams.get(&name) {
            Some(u) => (u.clone(), None),
            None => {
                return Err(refuse(
                    StatusCode::NOT_FOUND,
                    "not_found",
                    &format!("no upstream `{name}`: give it with --upstream {name}=https://…"),
                ))
            }
        },
    };
    if let Some(route) = route.as_ref().filter(|r| r.breaker) {
        if let Some(since) = ctx.routes.open_since(route) {
            ctx.stats.breaker_answers.fetch_add(1, Ordering::Relaxed);
            let body = front::breaker_answer(route, since).to_string();
            return Ok((
                StatusCode::PAYMENT_REQUIRED,
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (
                        header::HeaderName::from_static("x-cliffwatch-breaker"),
                        HeaderValue::from_static("open"),
                    ),
                ],
                body,
            )
                .into_response());
        }
    }
    let mut target = format!("{}/{rest}", base.as_str().trim_end_matches('/'));
    if let Some(q) = &query {
        target.push('?');
        target.push_str(q);
    }
    let url = Url::parse(&target).map_err(|e| {
        refuse(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            &format!("not a usable path: {e}"),
        )
    })?;
    // A path that climbs out of the base (`..`) still only reaches the base's host.
    if url.host_str() != base.host_str()
        || url.port_or_known_default() != base.port_or_known_default()
    {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid_input",
            "not a usable path",
        ));
    }

    let (parts, body) = req.into_parts();
    let has_body = parts.headers.contains_key(header::CONTENT_LENGTH)
        || parts.headers.contains_key(header::TRANSFER_ENCODING);
    let mut upstream = ctx
        .client
        .request(parts.method.clone(), url.clone())
        .headers(headers::forwarded(&parts.headers, true));
    if has_body {
        upstream = upstream.body(reqwest::Body::wrap_stream(body.into_data_stream()));
    }
    let started = ctx.cw.clock().now();
    let resp = match upstream.send().await {
        Ok(r) => r,
        Err(e) => {
            ctx.stats.upstream_errors.fetch_add(1, Ordering::Relaxed);
            let message = crate::redact::redact_text(&format!(
                "the upstream {} did not answer: {}",
                url.host_str().unwrap_or_default(),
                error_chain(&e)
            ));
            *ctx.stats
                .last_error
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(message.clone());
            let status = if e.is_timeout() {
                StatusCode::GATEWAY_TIMEOUT
            } else {
                StatusCode::BAD_GATEWAY
            };
            return Err(refuse(status, "upstream_unreachable", &message));
        }
    };
    ctx.stats.forwarded.fetch_add(1, Ordering::Relaxed);
    let status = resp.status();
    let upstream_headers = resp.headers().clone();
    let mut builder = Response::builder().status(status);
    if let Some(h) = builder.headers_mut() {
        *h = headers::forwarded(&upstream_headers, false);
    }
    let plan = Plan::of(status.as_u16(), &upstream_headers);
    let stream = resp.bytes_stream();
    let body = match plan {
        Plan::Nothing => Body::from_stream(stream),
        Plan::HeadersOnly => {
            record_now(
                ctx,
                &route,
                parts.method.to_string(),
                headers::pairs(&parts.headers),
                url.to_string(),
                status.as_u16(),
                &upstream_headers,
                None,
                None,
                started,
            );
            Body::from_stream(stream)
        }
        Plan::Copy { framing, coding } => {
            let (tx, rx) = mpsc::channel(TEE_CHUNKS);
            let overflow = Arc::new(AtomicBool::new(false));
            let copy = Copy {
                ctx: ctx.clone(),
                route: route.clone(),
                method: parts.method.to_string(),
                request_headers: headers::pairs(&parts.headers),
                url: url.to_string(),
                status: status.as_u16(),
                headers: upstream_headers,
                framing,
                coding,
                started,
                overflow: overflow.clone(),
            };
            tokio::spawn(copy.run(rx));
            Body::from_stream(Tee {
                inner: Box::pin(stream),
                tx: Some(tx),
                overflow,
            })
        }
    };
    builder
        .body(body)
        .map_err(|e| refuse(StatusCode::BAD_GATEWAY, "bad_response", &e.to_string()))
}

/// The error and its causes in one line (reqwest's top level says only "error sending
/// request").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

/// What is copied of an answer for the recorder.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Plan {
    /// A 2xx that is neither JSON nor SSE, without a payment receipt (a file, a page), a 1xx
    /// or 3xx: passed on, nothing recorded.
    Nothing,
    /// A 2xx with a payment receipt in its headers: spend, read from the headers alone.
    HeadersOnly,
    /// A 4xx/5xx (its body's start, for the classifier), or a JSON/SSE 2xx (its usage, and a
    /// disguised 402 in a JSON body).
    Copy {
        framing: Option<Framing>,
        coding: Option<Coding>,
    },
}

impl Plan {
    fn of(status: u16, headers: &HeaderMap) -> Plan {
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let encodings: Vec<&str> = headers
            .get_all(header::CONTENT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        let coding = match encodings.as_slice() {
            [] => Some(Coding::Identity),
            [one] => Coding::of(Some(one)),
            _ => None,
        };
        let framing = Framing::of(content_type);
        if status >= 400 {
            return Plan::Copy { framing, coding };
        }
        if !(200..300).contains(&status) {
            return Plan::Nothing;
        }
        if framing.is_some() {
            return Plan::Copy { framing, coding };
        }
        if crate::logs::has_receipt(&headers::pairs(headers)) {
            return Plan::HeadersOnly;
        }
        Plan::Nothing
    }
}

/// The response body on its way to the client, with a copy of each chunk offered to the
/// recorder — offered, never waited for.
struct Tee {
    inner: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    tx: Option<mpsc::Sender<Bytes>>,
    overflow: Arc<AtomicBool>,
}

impl Stream for Tee {
    type Item = reqwest::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let item = std::task::ready!(this.inner.as_mut().poll_next(cx));
        match &item {
            Some(Ok(chunk)) => {
                if let Some(tx) = &this.tx {
                    if tx.try_send(chunk.clone()).is_err() {
                        this.overflow.store(true, Ordering::Relaxed);
                        this.tx = None;
                    }
                }
            }
            // The end, or the upstream failed mid-body: the recorder reads what came.
            _ => this.tx = None,
        }
        Poll::Ready(item)
    }
}

/// One answer's recorder: reads the copy, then hands the exchange to the writer.
struct Copy {
    ctx: Arc<Ctx>,
    route: Option<Route>,
    method: String,
    request_headers: Vec<(String, String)>,
    url: String,
    status: u16,
    headers: HeaderMap,
    framing: Option<Framing>,
    coding: Option<Coding>,
    started: DateTime<Utc>,
    overflow: Arc<AtomicBool>,
}

impl Copy {
    async fn run(self, mut rx: mpsc::Receiver<Bytes>) {
        let ok = (200..300).contains(&self.status);
        let mut reader = match (ok, self.framing, self.coding) {
            (true, Some(f), Some(c)) => Some(UsageReader::new(f, c)),
            _ => None,
        };
        // The body's start for the classifier: every error answer, and JSON 2xx (a disguised
        // 402 in a 200).
        let keep_body = !ok || self.framing == Some(Framing::Json);
        let mut raw = Vec::new();
        while let Some(chunk) = rx.recv().await {
            if let Some(r) = reader.as_mut() {
                r.feed(&chunk);
            }
            if keep_body && raw.len() < MAX_RAW_COPY {
                let room = MAX_RAW_COPY - raw.len();
                raw.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
            }
        }
        let lost = self.overflow.load(Ordering::Relaxed);
        if lost {
            self.ctx.stats.not_recorded.fetch_add(1, Ordering::Relaxed);
        }
        let found = if lost {
            None
        } else {
            reader.and_then(UsageReader::finish)
        };
        let body = keep_body.then(|| decoded_head(&raw, self.coding));
        record_now(
            &self.ctx,
            &self.route,
            self.method,
            self.request_headers,
            self.url,
            self.status,
            &self.headers,
            body,
            found,
            self.started,
        );
    }
}

/// The first [`MAX_RECORDED_BODY`] bytes of a body, decoded when it is gzip or deflate (a bomb
/// stops at the cap); an encoding not decoded here is kept as it came.
fn decoded_head(raw: &[u8], coding: Option<Coding>) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    let limit = MAX_RECORDED_BODY as u64;
    let read = match coding {
        Some(Coding::Gzip) => flate2::read::GzDecoder::new(raw)
            .take(limit)
            .read_to_end(&mut out),
        Some(Coding::Deflate) => flate2::read::ZlibDecoder::new(raw)
            .take(limit)
            .read_to_end(&mut out),
        _ => {
            out.extend_from_slice(
                raw.get(..MAX_RECORDED_BODY.min(raw.len()))
                    .unwrap_or_default(),
            );
            Ok(0)
        }
    };
    // Corrupt compressed data: what decoded before the fault stands.
    let _ = read;
    out
}

/// Classifies an exchange and queues what it amounts to; trips the breaker at once when it
/// says the account is out of credit.
#[allow(clippy::too_many_arguments)]
fn record_now(
    ctx: &Arc<Ctx>,
    route: &Option<Route>,
    method: String,
    request_headers: Vec<(String, String)>,
    url: String,
    status: u16,
    headers: &HeaderMap,
    body: Option<Vec<u8>>,
    usage: Option<usage::Found>,
    at: DateTime<Utc>,
) {
    let provider = route.as_ref().map(|r| r.provider.clone()).or_else(|| {
        crate::logs::host_of(&url)
            .and_then(|h| crate::classify::provider_for_host(&h))
            .map(str::to_owned)
    });
    let recorded = front::recorded(
        Exchange {
            account_id: route.as_ref().map(|r| r.account_id),
            provider,
            at,
            method,
            url,
            status,
            headers: headers::pairs(headers),
            request_headers,
            body,
            usage,
        },
        &ctx.prices,
    );
    if let Some((id, at)) = recorded.out_of_credit() {
        ctx.routes.trip(id, at);
    }
    if recorded.event.is_none() && recorded.usage.is_none() {
        return;
    }
    if ctx.writer.try_send(recorded).is_err() {
        ctx.stats.not_recorded.fetch_add(1, Ordering::Relaxed);
    }
}

/// Stores recorded exchanges in batches: one transaction (and one announcement) per
/// [`WRITE_GATHER`] at most.
async fn write_loop(cw: Cliffwatch, mut queue: mpsc::Receiver<Recorded>, stats: Arc<Stats>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        let until = tokio::time::Instant::now() + WRITE_GATHER;
        while batch.len() < WRITE_BATCH {
            match tokio::time::timeout_at(until, queue.recv()).await {
                Ok(Some(r)) => batch.push(r),
                Ok(None) | Err(_) => break,
            }
        }
        let usage = batch.iter().filter(|r| r.usage.is_some()).count() as u64;
        match front::record(&cw, &batch).await {
            Ok(events) => {
                stats.events.fetch_add(events as u64, Ordering::Relaxed);
                stats.usage_records.fetch_add(usage, Ordering::Relaxed);
            }
            Err(e) => {
                stats
                    .not_recorded
                    .fetch_add(batch.len() as u64, Ordering::Relaxed);
                *stats.last_error.lock().unwrap_or_else(|e| e.into_inner()) =
                    Some(format!("could not store what the proxy saw: {e}"));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_accounts_or_named_upstreams_only() {
        let (t, rest) = split_route("/a/my%20key/v1/chat/completions").unwrap();
        assert!(
            matches!(t, Target::Account(ref l) if l == "my key"),
            "labels are decoded"
        );
        assert_eq!(rest, "v1/chat/completions", "the rest is kept as sent");
        let (t, rest) = split_route("/u/search/v2?q=1").unwrap();
        assert!(matches!(t, Target::Upstream(ref n) if n == "search"));
        assert_eq!(rest, "v2?q=1");
        assert!(
            split_route("/v1/chat/completions").is_none(),
            "no default route"
        );
        assert!(split_route("/a//v1").is_none(), "no empty label");
        assert!(split_route("/a/%FF/v1").is_none(), "a label is text");
    }

    #[test]
    fn pages_of_other_origins_are_refused() {
        let mut h = HeaderMap::new();
        assert!(!foreign_origin(&h), "SDKs send no Origin");
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(foreign_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:5173"),
        );
        assert!(!foreign_origin(&h), "a local dev page may");
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(foreign_origin(&h));
    }

    #[test]
    fn what_is_copied_depends_on_status_and_type() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
        assert_eq!(
            Plan::of(200, &h),
            Plan::Nothing,
            "a download is only passed on"
        );
        assert!(
            matches!(Plan::of(402, &h), Plan::Copy { .. }),
            "every error answer"
        );
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        assert_eq!(
            Plan::of(200, &h),
            Plan::Copy {
                framing: Some(Framing::EventStream),
                coding: Some(Coding::Identity)
            }
        );
        assert_eq!(Plan::of(304, &h), Plan::Nothing);
        let mut h = HeaderMap::new();
        h.insert("payment-response", HeaderValue::from_static("eyJ4IjoxfQ=="));
        assert_eq!(
            Plan::of(200, &h),
            Plan::HeadersOnly,
            "a paid answer is spend"
        );
    }

    #[test]
    fn a_bombs_head_is_capped() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(&vec![b'x'; 16 * 1024 * 1024]).unwrap();
        let bomb = enc.finish().unwrap();
        assert_eq!(
            decoded_head(&bomb, Some(Coding::Gzip)).len(),
            MAX_RECORDED_BODY
        );
        assert_eq!(decoded_head(b"not gzip", Some(Coding::Gzip)).len(), 0);
    }
}
