//! The local read API, a host like the window and the CLI: HTTP on loopback (or, with a bearer
//! token, elsewhere), read-only, every answer from [`crate::api`] with the same JSON the CLI's
//! `--json` prints.
//!
//! - `GET /metrics`: Prometheus / OpenMetrics text ([`crate::api::metrics`]);
//! - `GET /v1/status`, `/v1/forecast`, `/v1/events?since=`, `/v1/alerts`.
//!
//! Closed by default: a non-loopback address needs a token (compared in constant time), a
//! request whose `Host` is not this address is refused (a web page cannot reach it through DNS
//! rebinding), no CORS headers are sent, only `GET` is answered, request bodies are refused, and
//! each answer has a time limit.

use crate::{Cliffwatch, Error, Result};
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;
use ts_rs::TS;

/// The longest an answer may take before the client gets a 503.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// The most a request may send (headers aside): nothing is read from a body.
pub const MAX_REQUEST_BODY: usize = 1024;

/// Whether the read API is up, as Settings shows it under the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ReadApiState {
    #[default]
    Off,
    Serving,
    /// The address could not be bound (in use, not this machine's): `message` says why.
    Failed,
}

/// What the running engine serves, kept on the [`Cliffwatch`] handle for the hosts to read.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, TS)]
#[ts(export)]
pub struct ReadApiStatus {
    pub state: ReadApiState,
    /// The address asked for, or bound when serving.
    pub address: Option<String>,
    /// `cliffwatch watch --listen` serves it for this run; the setting waits.
    pub from_command_line: bool,
    pub message: Option<String>,
}

/// What the listener needs.
#[derive(Debug, Clone)]
pub struct ListenConfig {
    pub addr: SocketAddr,
    /// Required unless `addr` is loopback.
    pub token: Option<String>,
}

#[derive(Clone)]
struct Ctx {
    cw: Cliffwatch,
    token: Option<String>,
    /// Host header values accepted (`127.0.0.1:9402`, `localhost:9402`), or any when a token
    /// guards the address.
    hosts: Option<Vec<String>>,
}

/// A running listener: its bound address (the port when 0 was asked) and its task.
#[derive(Debug)]
pub struct Listener {
    pub addr: SocketAddr,
    pub task: tokio::task::JoinHandle<()>,
}

/// Checks the configuration and starts serving. Refuses a non-loopback address without a token.
pub async fn start(cw: Cliffwatch, config: ListenConfig) -> Result<Listener> {
    let loopback = config.addr.ip().is_loopback();
    let token = config.token.filter(|t| !t.is_empty());
    if !loopback && token.is_none() {
        return Err(Error::InvalidInput(format!(
            "{} is not a loopback address: give a bearer token with --token-env VAR to listen there",
            config.addr
        )));
    }
    if token.as_ref().is_some_and(|t| t.len() < 16) {
        return Err(Error::InvalidInput(
            "the API token must be at least 16 characters".into(),
        ));
    }
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| Error::InvalidInput(format!("cannot listen on {}: {e}", config.addr)))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::InvalidInput(format!("the listener has no address: {e}")))?;
    let hosts = (token.is_none()).then(|| {
        let port = addr.port();
        vec![
            format!("{}:{port}", addr.ip()),
            format!("localhost:{port}"),
            format!("[{}]:{port}", addr.ip()),
        ]
    });
    let ctx = Ctx { cw, token, hosts };
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/v1/status", get(status))
        .route("/v1/forecast", get(forecast))
        .route("/v1/events", get(events))
        .route("/v1/alerts", get(alerts))
        .layer(axum::middleware::from_fn_with_state(ctx.clone(), guard))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_REQUEST_BODY))
        .with_state(ctx);
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Listener { addr, task })
}

/// Token, Host and body checks, and the time limit, before any handler runs.
async fn guard(State(ctx): State<Ctx>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    if let Some(hosts) = &ctx.hosts {
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or_default();
        if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
            return refuse(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this API answers only requests to its own loopback address",
            );
        }
    }
    if let Some(token) = &ctx.token {
        if !bearer_matches(headers, token) {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "a bearer token is required",
            );
        }
    }
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    if has_body {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_input",
            "this API reads no request body",
        );
    }
    match tokio::time::timeout(ANSWER_TIMEOUT, next.run(req)).await {
        Ok(r) => r,
        Err(_) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "timeout",
            "the answer took too long",
        ),
    }
}

/// `Authorization: Bearer <token>`, compared without an early exit.
fn bearer_matches(headers: &HeaderMap, token: &str) -> bool {
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    constant_time_eq(given.as_bytes(), token.as_bytes())
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        diff |= a.get(i).copied().unwrap_or(0) ^ b.get(i).copied().unwrap_or(0);
    }
    diff == 0
}

fn refuse(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({"error": {"kind": kind, "message": message}})),
    )
        .into_response()
}

fn answer<T: serde::Serialize>(r: Result<T>) -> Response {
    match r {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            e.kind(),
            &crate::redact::redact_text(&e.to_string()),
        ),
    }
}

async fn metrics(State(ctx): State<Ctx>) -> Response {
    match crate::api::metrics::render(&ctx.cw).await {
        Ok(text) => (
            [(
                header::CONTENT_TYPE,
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
            )],
            text,
        )
            .into_response(),
        Err(e) => answer::<()>(Err(e)),
    }
}

async fn status(State(ctx): State<Ctx>) -> Response {
    answer(crate::api::overview::status(&ctx.cw).await)
}

async fn forecast(State(ctx): State<Ctx>) -> Response {
    let now = ctx.cw.clock().now();
    answer(crate::api::overview::forecasts_json(&ctx.cw, None, now).await)
}

#[derive(Deserialize)]
struct Since {
    since: Option<String>,
}

async fn events(State(ctx): State<Ctx>, Query(q): Query<Since>) -> Response {
    let since = match q.since.as_deref().map(crate::clock::from_db) {
        Some(Ok(t)) => Some(t),
        Some(Err(_)) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                "invalid_input",
                "`since` must be an RFC 3339 time",
            )
        }
        None => None,
    };
    answer(
        crate::api::history::cliff_events(
            &ctx.cw,
            &crate::api::history::EventQuery {
                since,
                ..Default::default()
            },
        )
        .await,
    )
}

async fn alerts(State(ctx): State<Ctx>) -> Response {
    answer(crate::api::history::alerts(&ctx.cw, false).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnop"));
        assert!(!constant_time_eq(b"abcdefghijklmnop", b"abcdefghijklmnoq"));
        assert!(
            !constant_time_eq(b"abc", b"abcdefghijklmnop"),
            "a prefix is not the token"
        );
        assert!(!constant_time_eq(b"", b"x"));
    }
}
