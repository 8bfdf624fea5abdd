//! Demo mode: a living dashboard without any API key. An in-process loopback server plays three
//! providers — a scraping API (ScraperAPI), an LLM API (OpenRouter) and a captcha solver
//! (2Captcha) — with their real response shapes, whose balances drain on a compressed clock.
//! The real adapters poll it, the real store keeps the readings, the real forecaster and alert
//! rules run, and an LLM client's request log (httpx debug lines) starts answering 402 when
//! the OpenRouter key runs dry. Nothing here fakes a reading: only the server is pretend.
//!
//! Time: one demo tick advances the demo clock by [`TICK_DEMO`] (30 min) every
//! [`TICK_REAL`] (1 s), so a demo day passes in 48 s. The server computes each balance from the
//! demo clock with a daily usage rhythm, so forecasts have seasonality to learn.

use crate::clock::{Clock, ManualClock};
use crate::secrets::{MemoryStore, Secret};
use crate::{Cliffwatch, NewAccount, Result, SecretInput};
use chrono::{DateTime, Duration, DurationRound, Timelike, Utc};
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::sync::oneshot;

/// Demo time per tick.
pub const TICK_DEMO: Duration = Duration::minutes(30);
/// Real time per tick.
pub const TICK_REAL: std::time::Duration = std::time::Duration::from_secs(1);
/// History played back before the live part starts, so forecasts have something to stand on.
pub const HISTORY: Duration = Duration::days(3);

/// The keys the demo accounts use: the demo server accepts only these.
const SCRAPER_KEY: &str = "demo-scraperapi-key-0001";
const LLM_KEY: &str = "demo-openrouter-key-0002";
const CAPTCHA_KEY: &str = "demo-2captcha-key-0003";

/// One simulated balance: `total` drains at `per_hour` on average, following a daily rhythm
/// (busy in the afternoon, quiet at night), and is empty at `empty_at`. With `refill_after`,
/// the owner tops it up to `total` that long after it ran dry, and it drains again: the demo
/// keeps living, and the top-up re-arms the alerts as it would for a real key.
#[derive(Debug, Clone, Copy)]
pub struct Meter {
    pub total: f64,
    pub per_hour: f64,
    pub empty_at: DateTime<Utc>,
    pub refill_after: Option<Duration>,
}

impl Meter {
    /// Spent by `t` in the episode `t` falls in: chosen so that it reaches `total` exactly
    /// when that episode's balance runs out.
    pub fn used(&self, t: DateTime<Utc>) -> f64 {
        let empty_at = self.episode_empty_at(t);
        let used = self.total - self.per_hour * (cumulative_hours(empty_at) - cumulative_hours(t));
        used.clamp(0.0, self.total)
    }

    /// When the episode containing `t` runs dry: `empty_at`, or for a refilled meter the end of
    /// the drain that started at the latest top-up before `t`.
    pub fn episode_empty_at(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        let Some(dead) = self.refill_after.filter(|d| *d > Duration::zero()) else {
            return self.empty_at;
        };
        let drain_hours = self.total / self.per_hour;
        let mut empty_at = self.empty_at;
        while t >= empty_at + dead {
            let refill = empty_at + dead;
            // The drain from a full balance takes `drain_hours` of the rhythm's average hours.
            empty_at = time_at_cumulative(cumulative_hours(refill) + drain_hours);
        }
        empty_at
    }

    pub fn remaining(&self, t: DateTime<Utc>) -> f64 {
        self.total - self.used(t)
    }
}

/// ∫ rhythm(h) dh from the Unix epoch to `t`, in "average hours": the rhythm is
/// 1 + 0.8·sin(2π(h − 9)/24), peaking at 15:00 UTC, whose integral has a closed form.
fn cumulative_hours(t: DateTime<Utc>) -> f64 {
    let h = t.timestamp() as f64 / 3600.0;
    let w = std::f64::consts::TAU / 24.0;
    h - 0.8 / w * ((w * (h - 9.0)).cos() - (w * -9.0).cos())
}

/// The time at which [`cumulative_hours`] reaches `target` (it is strictly increasing: the
/// rhythm never drops below 0.2), by Newton's method from the linear guess.
fn time_at_cumulative(target: f64) -> DateTime<Utc> {
    let w = std::f64::consts::TAU / 24.0;
    let mut h = target;
    for _ in 0..50 {
        let t = DateTime::from_timestamp((h * 3600.0) as i64, 0).unwrap_or_default();
        let err = cumulative_hours(t) - target;
        if err.abs() < 1e-6 {
            break;
        }
        h -= err / (1.0 + 0.8 * (w * (h - 9.0)).sin());
    }
    DateTime::from_timestamp((h * 3600.0).round() as i64, 0).unwrap_or_default()
}

/// The three simulated balances, placed relative to the moment the live demo starts.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    pub scraper: Meter,
    pub llm: Meter,
    pub captcha: Meter,
}

impl Scenario {
    /// The scraper runs out ~10 demo hours into the live part (~20 s), the LLM key ~30 demo
    /// hours in (~60 s, after a warning and a critical alert), the captcha balance lasts weeks.
    /// The owner tops the scraper up a day after it ran dry and the LLM key after 12 hours;
    /// then they drain again, so the demo cycles for as long as it runs.
    pub fn starting_at(live: DateTime<Utc>) -> Self {
        Scenario {
            scraper: Meter {
                total: 100_000.0,
                per_hour: 900.0,
                empty_at: live + Duration::hours(10),
                refill_after: Some(Duration::hours(24)),
            },
            llm: Meter {
                total: 50.0,
                per_hour: 0.30,
                empty_at: live + Duration::hours(30),
                refill_after: Some(Duration::hours(12)),
            },
            captcha: Meter {
                total: 25.0,
                per_hour: 0.02,
                empty_at: live + Duration::days(50),
                refill_after: None,
            },
        }
    }
}

/// The loopback server. Dropping it stops it.
#[derive(Debug)]
pub struct DemoServer {
    pub addr: SocketAddr,
    _stop: oneshot::Sender<()>,
}

impl DemoServer {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

/// Starts the server on 127.0.0.1 (a free port), answering from `scenario` at `clock`'s time.
pub async fn serve(scenario: Scenario, clock: Arc<dyn Clock>) -> Result<DemoServer> {
    use axum::extract::{Query, State};
    use axum::http::{HeaderMap, StatusCode};
    use axum::response::{IntoResponse, Response};
    use axum::routing::{get, post};
    use axum::Json;
    use std::collections::HashMap;

    type St = (Scenario, Arc<dyn Clock>);

    async fn scraperapi(
        State((s, c)): State<St>,
        Query(q): Query<HashMap<String, String>>,
    ) -> Response {
        if q.get("api_key").map(String::as_str) != Some(SCRAPER_KEY) {
            return (StatusCode::UNAUTHORIZED, "Invalid API key").into_response();
        }
        let now = c.now();
        Json(serde_json::json!({
            "concurrencyLimit": 20,
            "concurrentRequests": 3,
            "failedRequestCount": 12,
            "requestCount": s.scraper.used(now).round(),
            "requestLimit": s.scraper.total,
            "subscriptionDate": "2026-10-05T00:00:00Z",
        }))
        .into_response()
    }

    async fn openrouter_key(State((s, c)): State<St>, headers: HeaderMap) -> Response {
        let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
        if auth != Some(&format!("Bearer {LLM_KEY}")) {
            return (
                StatusCode::UNAUTHORIZED,
                Json(serde_json::json!({"error": {"code": 401, "message": "No auth credentials found"}})),
            )
                .into_response();
        }
        let used = s.llm.used(c.now());
        Json(serde_json::json!({"data": {
            "label": "sk-or-v1-dem...002",
            "limit": s.llm.total,
            "limit_remaining": ((s.llm.total - used) * 1e6).round() / 1e6,
            "limit_reset": null,
            "usage": (used * 1e6).round() / 1e6,
            "is_free_tier": false,
            "is_management_key": false,
        }}))
        .into_response()
    }

    async fn twocaptcha(State((s, c)): State<St>, body: String) -> Response {
        let key = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                v.get("clientKey")
                    .and_then(|k| k.as_str())
                    .map(str::to_owned)
            });
        if key.as_deref() != Some(CAPTCHA_KEY) {
            return Json(serde_json::json!({"errorId": 1, "errorCode": "ERROR_KEY_DOES_NOT_EXIST", "errorDescription": "The authorization key provided does not exist in the system"})).into_response();
        }
        let left = s.captcha.remaining(c.now());
        if left <= 0.0 {
            return Json(serde_json::json!({"errorId": 10, "errorCode": "ERROR_ZERO_BALANCE", "errorDescription": "Account has zero or negative balance"})).into_response();
        }
        Json(serde_json::json!({"errorId": 0, "balance": (left * 1e5).round() / 1e5}))
            .into_response()
    }

    let app = axum::Router::new()
        .route("/scraperapi/account", get(scraperapi))
        .route("/openrouter/api/v1/key", get(openrouter_key))
        .route("/twocaptcha/getBalance", post(twocaptcha))
        .with_state((scenario, clock));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| {
            crate::Error::InvalidInput(format!("the demo server cannot listen on loopback: {e}"))
        })?;
    let addr = listener
        .local_addr()
        .map_err(|e| crate::Error::InvalidInput(format!("the demo server has no address: {e}")))?;
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(DemoServer { addr, _stop: tx })
}

/// Appends to the demo LLM client's request log: httpx debug lines, one per simulated request,
/// answered 200 while the key has credit and 402 once it has none. Beside it, an agent that pays
/// per call writes a JSON-lines log: every half hour of the working day an x402 price (a 402
/// with `PAYMENT-REQUIRED`) and the paid answer (`PAYMENT-RESPONSE`), so the 402 history shows
/// prices asked and `usage` shows pay-per-call spend.
#[derive(Debug)]
pub struct RequestLog {
    pub path: PathBuf,
    pub agent: PathBuf,
}

/// The demo agent's price: 0.01 USDC on Base.
fn agent_lines(t: DateTime<Utc>) -> String {
    use base64::Engine as _;
    let b64 =
        |v: serde_json::Value| base64::engine::general_purpose::STANDARD.encode(v.to_string());
    let offer = serde_json::json!({"scheme": "exact", "network": "eip155:8453", "amount": "10000",
        "asset": "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913",
        "payTo": "0x209693Bc6afc0C5328bA36FaF03C514EF312287C", "maxTimeoutSeconds": 60});
    let url = "https://api.paid-search.example/v1/search";
    let asked = serde_json::json!({"time": t.to_rfc3339(), "method": "GET", "url": url, "status": 402,
        "headers": {"PAYMENT-REQUIRED": b64(serde_json::json!({"x402Version": 2,
            "resource": {"url": url, "description": "one search"}, "accepts": [offer]}))}});
    let paid = serde_json::json!({"time": (t + Duration::seconds(2)).to_rfc3339(), "method": "GET",
        "url": url, "status": 200,
        "request": {"headers": {"PAYMENT-SIGNATURE": b64(serde_json::json!({"x402Version": 2, "accepted": offer}))}},
        "headers": {"PAYMENT-RESPONSE": b64(serde_json::json!({"success": true,
            "transaction": format!("0xdemo{}", t.timestamp()), "network": "eip155:8453"}))}});
    format!("{asked}\n{paid}\n")
}

impl RequestLog {
    pub fn append(
        &self,
        scenario: &Scenario,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> std::io::Result<()> {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        // About one request per demo minute while busy, fewer at night.
        let mut t = from;
        let mut out = String::new();
        while t < to {
            let busy = (9..21).contains(&t.hour());
            let step = if busy {
                Duration::minutes(2)
            } else {
                Duration::minutes(10)
            };
            t += step;
            let (code, reason) = if scenario.llm.remaining(t) > 0.0 {
                (200, "OK")
            } else {
                (402, "Payment Required")
            };
            out.push_str(&format!(
                "{} DEBUG httpx: HTTP Request: POST https://openrouter.ai/api/v1/chat/completions \"HTTP/1.1 {code} {reason}\"\n",
                t.format("%Y-%m-%d %H:%M:%S,%3f")
            ));
        }
        f.write_all(out.as_bytes())?;
        let mut agent = String::new();
        let mut t = from.duration_trunc(Duration::minutes(30)).unwrap_or(from);
        while t < to {
            t += Duration::minutes(30);
            if t < to && (9..21).contains(&t.hour()) {
                agent.push_str(&agent_lines(t));
            }
        }
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.agent)?
            .write_all(agent.as_bytes())
    }
}

/// A demo data directory: its accounts, clock, server and log.
#[derive(Debug)]
pub struct Demo {
    pub cliffwatch: Cliffwatch,
    pub clock: Arc<ManualClock>,
    pub scenario: Scenario,
    pub server: DemoServer,
    pub log: RequestLog,
    /// Demo time at which the live part starts (after the history played back).
    pub live_from: DateTime<Utc>,
    /// Real time per tick ([`TICK_REAL`] unless a test speeds it up).
    pub tick: std::time::Duration,
}

/// Sets up a demo in `dir` (which should be empty and temporary): starts the server, adds the
/// three accounts (keys in an in-memory keychain, never the OS one) and a log source. The
/// demo clock starts [`HISTORY`] before `live_from` and is moved by [`Demo::tick`].
pub async fn setup(dir: &Path, live_from: DateTime<Utc>) -> Result<Demo> {
    let clock = Arc::new(ManualClock::new(live_from - HISTORY));
    let scenario = Scenario::starting_at(live_from);
    let server = serve(scenario, clock.clone()).await?;
    let cw = Cliffwatch::open(dir, Arc::new(MemoryStore::new()), clock.clone()).await?;
    for (provider, label, path, key) in [
        ("scraperapi", "scraper-prod", "/scraperapi", SCRAPER_KEY),
        ("openrouter", "llm-main", "/openrouter", LLM_KEY),
        ("twocaptcha", "captcha", "/twocaptcha", CAPTCHA_KEY),
    ] {
        crate::api::accounts::add(
            &cw,
            NewAccount {
                provider: provider.into(),
                label: label.into(),
                base_url: Some(format!("{}{path}", server.base_url())),
                secret: SecretInput::Keychain(Secret::new(key)?),
                budget: None,
                options: Default::default(),
            },
        )
        .await?;
    }
    let log = RequestLog {
        path: dir.join("demo-llm-client.log"),
        agent: dir.join("demo-agent.jsonl"),
    };
    for path in [&log.path, &log.agent] {
        std::fs::write(path, b"").map_err(|source| crate::Error::DataDir {
            path: path.clone(),
            source,
        })?;
    }
    crate::logs::add_source(
        &cw,
        &log.agent.display().to_string(),
        Some(crate::logs::Format::Jsonl),
        None,
        None,
        serde_json::Value::Null,
    )
    .await?;
    crate::logs::add_source(
        &cw,
        &log.path.display().to_string(),
        Some(crate::logs::Format::PythonHttp),
        None,
        Some("llm-main"),
        serde_json::Value::Null,
    )
    .await?;
    Ok(Demo {
        cliffwatch: cw,
        clock,
        scenario,
        server,
        log,
        live_from,
        tick: TICK_REAL,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_refilled_meter_is_full_after_its_dead_time_and_runs_dry_again() {
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let m = Scenario::starting_at(live).scraper;
        let dead_until = live + Duration::hours(10 + 24);
        assert_eq!(
            m.remaining(dead_until - Duration::minutes(1)),
            0.0,
            "dry for a day"
        );
        assert!(
            (m.remaining(dead_until) - m.total).abs() < 1e-3,
            "full at the top-up: {}",
            m.remaining(dead_until)
        );
        let next = m.episode_empty_at(dead_until);
        let hours = (next - dead_until).num_minutes() as f64 / 60.0;
        let planned = m.total / m.per_hour;
        assert!(
            (hours - planned).abs() < 12.0,
            "the next drain takes about total / per_hour ({planned:.0} h), took {hours:.1} h"
        );
        assert!(m.remaining(next).abs() < 1e-3, "dry again at {next}");
        assert!(
            m.remaining(next + Duration::hours(24)) > m.total - 1e-3,
            "and topped up again a day later"
        );
        let mut last = f64::INFINITY;
        for h in 0..(10 + 24) {
            let r = m.remaining(live + Duration::hours(h));
            assert!(
                r <= last && r >= 0.0,
                "drains monotonically until the top-up"
            );
            last = r;
        }
    }

    #[test]
    fn meters_run_out_exactly_when_planned_and_never_go_negative() {
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let s = Scenario::starting_at(live);
        assert!(
            (s.scraper.remaining(live + Duration::hours(10))).abs() < 1e-6,
            "empty at empty_at"
        );
        assert_eq!(
            s.scraper.remaining(live + Duration::hours(20)),
            0.0,
            "stays empty until the owner tops it up"
        );
        let before = s.llm.remaining(live - Duration::hours(24));
        let after = s.llm.remaining(live);
        assert!(
            before > after && after > 0.0,
            "drains over time: {before} → {after}"
        );
        // The daily rhythm: an afternoon hour spends more than a night hour.
        let day =
            s.captcha.used(live + Duration::hours(3)) - s.captcha.used(live + Duration::hours(2));
        let night =
            s.captcha.used(live + Duration::hours(15)) - s.captcha.used(live + Duration::hours(14));
        assert!(day > 2.0 * night, "afternoon {day} vs night {night}");
    }

    #[tokio::test]
    async fn server_answers_with_the_real_shapes_and_checks_keys() {
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(live));
        let scenario = Scenario::starting_at(live);
        let server = serve(scenario, clock.clone()).await.unwrap();
        let url = |p: &str| format!("{}{p}", server.base_url());
        let client = reqwest::Client::new();
        let r = client
            .get(url(&format!("/scraperapi/account?api_key={SCRAPER_KEY}")))
            .send()
            .await
            .unwrap();
        let j: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(j["requestLimit"], 100_000.0);
        assert_eq!(
            j["requestCount"],
            scenario.scraper.used(live).round(),
            "used credits from the model"
        );
        assert!(
            j["requestCount"].as_f64().unwrap() < 100_000.0,
            "not empty yet at live start"
        );
        let bad = client
            .get(url("/scraperapi/account?api_key=nope"))
            .send()
            .await
            .unwrap();
        assert_eq!(bad.status(), 401, "a wrong key is refused");
        clock.set(live + Duration::days(60));
        let r = client
            .post(url("/twocaptcha/getBalance"))
            .body(format!("{{\"clientKey\":\"{CAPTCHA_KEY}\"}}"))
            .send()
            .await
            .unwrap();
        let j: serde_json::Value = serde_json::from_slice(&r.bytes().await.unwrap()).unwrap();
        assert_eq!(
            j["errorCode"], "ERROR_ZERO_BALANCE",
            "captcha solvers say so with HTTP 200"
        );
    }
}
