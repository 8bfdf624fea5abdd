//! A loopback upstream that speaks a provider's wire format, for the proxy's client tests and
//! its benchmark: OpenAI-compatible chat completions (plain and `stream: true`, with the usage
//! a real answer carries), an upstream 402 (OpenRouter's out-of-credit body), an x402 v2
//! challenge, a small JSON answer for request rates, and a body of any size, streamed.
//!
//! It records what reached it (path, `Authorization`, `Host`, hop-by-hop fields), so a test can
//! tell that a request never left the proxy, and that the client's key arrived unchanged.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The usage the plain completion states.
pub const PLAIN_USAGE: (i64, i64, i64) = (120, 30, 20);
/// The usage the stream's final chunk states.
pub const STREAM_USAGE: (i64, i64) = (9, 4);
/// The model whose requests are refused with a 402.
pub const BROKE_MODEL: &str = "out-of-credit";

/// One request as the upstream saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub authorization: Option<String>,
    pub host: Option<String>,
    /// Hop-by-hop fields that arrived (none should).
    pub hop_by_hop: Vec<String>,
    pub body_len: usize,
}

#[derive(Default)]
struct Log {
    seen: Vec<Seen>,
}

/// A running upstream on a loopback port, in its own runtime (usable from sync tests).
#[allow(missing_debug_implementations)]
pub struct Upstream {
    pub addr: SocketAddr,
    log: Arc<Mutex<Log>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Upstream {
    /// Starts on 127.0.0.1 with a free port (`port` 0) or the given one.
    pub fn start(port: u16, threads: usize) -> std::io::Result<Upstream> {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Log::default()));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app_log = log.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(threads.max(1))
                .enable_all()
                .build()
                .expect("a runtime for the upstream");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                let app = router(app_log);
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await;
            });
        });
        Ok(Upstream {
            addr,
            log,
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What reached the upstream so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.log
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .seen
            .clone()
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

type Shared = Arc<Mutex<Log>>;

fn router(log: Shared) -> Router {
    Router::new()
        .route("/v1/chat/completions", post(chat))
        .route("/x402/data", get(x402))
        .route("/small", get(small))
        .route("/bytes/{n}", get(bytes))
        .route("/upload", post(upload))
        .with_state(log)
}

fn note(log: &Shared, method: &str, path: &str, headers: &HeaderMap, body_len: usize) {
    let text = |n: header::HeaderName| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let hop_by_hop = [
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "proxy-authorization",
    ]
    .iter()
    .filter(|n| headers.contains_key(**n))
    .map(|n| (*n).to_owned())
    .collect();
    log.lock()
        .unwrap_or_else(|e| e.into_inner())
        .seen
        .push(Seen {
            method: method.into(),
            path: path.into(),
            authorization: text(header::AUTHORIZATION),
            host: text(header::HOST),
            hop_by_hop,
            body_len,
        });
}

/// The plain completion's body, byte for byte (a test compares it with what the client got).
pub fn plain_body(model: &str) -> String {
    let (prompt, completion, cached) = PLAIN_USAGE;
    serde_json::json!({
        "id": "chatcmpl-wire-plain",
        "object": "chat.completion",
        "created": 1_764_590_400,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop",
            "message": {"role": "assistant", "content": "The cliff is 3 days away."}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached},
            "completion_tokens_details": {"reasoning_tokens": 0}}
    })
    .to_string()
}

/// The stream's events, in order; the last data event before `[DONE]` carries the usage.
pub fn stream_events(model: &str) -> Vec<String> {
    let (prompt, completion) = STREAM_USAGE;
    let chunk = |delta: serde_json::Value, usage: serde_json::Value| {
        serde_json::json!({"id": "chatcmpl-wire-stream", "object": "chat.completion.chunk",
            "created": 1_764_590_400, "model": model,
            "choices": if usage.is_null() { serde_json::json!([{"index": 0, "delta": delta, "finish_reason": null}]) } else { serde_json::json!([]) },
            "usage": usage})
        .to_string()
    };
    let mut out: Vec<String> = ["Top", " up", " soon."]
        .iter()
        .map(|t| {
            format!(
                "data: {}\n\n",
                chunk(serde_json::json!({"content": t}), serde_json::Value::Null)
            )
        })
        .collect();
    out.push(format!(
        "data: {}\n\n",
        chunk(
            serde_json::Value::Null,
            serde_json::json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
        )
    ));
    out.push("data: [DONE]\n\n".into());
    out
}

/// OpenRouter's answer to a key without credit.
pub const BROKE_BODY: &str = r#"{"error":{"message":"Insufficient credits. Add more using https://openrouter.ai/settings/credits","code":402}}"#;

async fn chat(State(log): State<Shared>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    note(&log, "POST", "/v1/chat/completions", &headers, body.len());
    let req: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let model = req["model"].as_str().unwrap_or("gpt-4o-mini").to_owned();
    if model == BROKE_MODEL {
        return (
            StatusCode::PAYMENT_REQUIRED,
            [(header::CONTENT_TYPE, "application/json")],
            BROKE_BODY,
        )
            .into_response();
    }
    if req["stream"].as_bool() == Some(true) {
        let events = stream_events(&model);
        let stream = futures_util::stream::unfold(events.into_iter(), |mut it| async move {
            let next = it.next()?;
            // A real stream arrives token by token.
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            Some((Ok::<_, std::io::Error>(axum::body::Bytes::from(next)), it))
        });
        return Response::builder()
            .header(header::CONTENT_TYPE, "text/event-stream")
            .header(header::CACHE_CONTROL, "no-cache")
            .header("x-request-id", "req-wire-stream")
            .body(Body::from_stream(stream))
            .unwrap_or_default();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (
                header::HeaderName::from_static("x-request-id"),
                HeaderValue::from_static("req-wire-plain"),
            ),
        ],
        plain_body(&model),
    )
        .into_response()
}

/// The x402 v2 challenge's `PAYMENT-REQUIRED` JSON (base64 in the header).
pub fn x402_required(resource: &str) -> serde_json::Value {
    serde_json::json!({"x402Version": 2, "error": "payment required",
        "resource": {"url": resource, "description": "one call", "mimeType": "application/json"},
        "accepts": [{"scheme": "exact", "network": "eip155:8453", "amount": "10000",
            "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
            "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60}]})
}

async fn x402(State(log): State<Shared>, headers: HeaderMap) -> Response {
    use base64::Engine as _;
    note(&log, "GET", "/x402/data", &headers, 0);
    let required = x402_required("https://paid.example/x402/data");
    let header_value =
        base64::engine::general_purpose::STANDARD.encode(required.to_string().as_bytes());
    (
        StatusCode::PAYMENT_REQUIRED,
        [
            (header::CONTENT_TYPE, "application/json".to_owned()),
            (
                header::HeaderName::from_static("payment-required"),
                header_value,
            ),
        ],
        "{}",
    )
        .into_response()
}

/// A small JSON answer (the benchmark's request-rate case).
pub const SMALL_BODY: &str = r#"{"object":"list","data":[{"id":"gpt-4o-mini","object":"model"}]}"#;

async fn small() -> Response {
    (
        [(header::CONTENT_TYPE, "application/octet-stream")],
        SMALL_BODY,
    )
        .into_response()
}

/// Counts an upload as it streams in (never held) and says how many bytes came and whether
/// every byte was `byte_at` of its offset.
async fn upload(State(log): State<Shared>, headers: HeaderMap, body: Body) -> Response {
    use futures_util::StreamExt as _;
    let mut stream = body.into_data_stream();
    let (mut n, mut intact) = (0u64, true);
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return (StatusCode::BAD_REQUEST, "the upload broke off").into_response();
        };
        intact &= chunk
            .iter()
            .enumerate()
            .all(|(i, b)| *b == byte_at(n + i as u64));
        n += chunk.len() as u64;
    }
    note(
        &log,
        "POST",
        "/upload",
        &headers,
        usize::try_from(n).unwrap_or(usize::MAX),
    );
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::json!({"bytes": n, "intact": intact}).to_string(),
    )
        .into_response()
}

/// Byte `i` of a streamed body: a pattern a reader can check without holding the body.
pub fn byte_at(i: u64) -> u8 {
    (i.wrapping_mul(31) % 251) as u8
}

async fn bytes(State(log): State<Shared>, headers: HeaderMap, Path(n): Path<u64>) -> Response {
    note(&log, "GET", "/bytes", &headers, 0);
    const CHUNK: u64 = 64 * 1024;
    let stream = futures_util::stream::unfold(0u64, move |at| async move {
        if at >= n {
            return None;
        }
        let len = CHUNK.min(n - at);
        let chunk: Vec<u8> = (at..at + len).map(byte_at).collect();
        Some((
            Ok::<_, std::io::Error>(axum::body::Bytes::from(chunk)),
            at + len,
        ))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, n)
        .body(Body::from_stream(stream))
        .unwrap_or_default()
}
