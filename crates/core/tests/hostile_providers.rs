//! Hostile providers beyond the shared set in `tests/providers.rs` (HTML, truncated JSON, a
//! 5 MiB body, a stall, a cross-host redirect): a gzip bomb, and a provider that answers every
//! request 429 with `Retry-After: 0` under the real [`Scheduler`].
//!
//! This file is its own test binary so that the gzip test can read the process's peak memory
//! without the rest of the provider suite running beside it.

#[path = "../src/providers/adapter_testkit.rs"]
mod support;

use chrono::TimeZone;
use cliffwatch_core::clock::ManualClock;
use cliffwatch_core::http::{Http, HttpConfig, MAX_BODY};
use cliffwatch_core::poll::{Scheduler, SchedulerConfig};
use cliffwatch_core::secrets::{MemoryStore, Secret};
use cliffwatch_core::{Cliffwatch, NewAccount, SecretInput};
use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{assert_kind, poll, KEY};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---- Memory ----

/// The process's peak resident set so far (`VmHWM`), in bytes; `None` off Linux. The crate
/// forbids `unsafe`, so no counting allocator: the kernel's high-water mark stands in. It is
/// process-wide, but the other tests of this binary hold a few MiB at most, and a bomb
/// inflated whole would add 64 MiB.
fn peak_rss() -> Option<usize> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib << 10)
}

// ---- A gzip bomb ----

/// What the bomb inflates to: a DeepSeek balance whose padding runs to 64 MiB, 64 times the
/// body cap. Whole, it is valid JSON, so a client that inflated it without a cap would read a
/// balance from it: the test would see a reading instead of an error.
const INFLATED: usize = 64 << 20;

fn gzip_bomb() -> Vec<u8> {
    let head = br#"{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"7.83","pad":""#;
    let tail = br#""}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(head).unwrap();
    let spaces = vec![b' '; 1 << 20];
    let mut left = INFLATED - head.len() - tail.len();
    while left > 0 {
        let n = left.min(spaces.len());
        gz.write_all(&spaces[..n]).unwrap();
        left -= n;
    }
    gz.write_all(tail).unwrap();
    gz.finish().unwrap()
}

#[tokio::test]
async fn a_gzip_bomb_is_a_bad_response_in_bounded_memory() {
    let bomb = gzip_bomb();
    assert!(
        bomb.len() < MAX_BODY,
        "the bomb must fit under the cap on the wire ({} bytes) for the test to mean anything",
        bomb.len()
    );
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("Content-Encoding", "gzip")
                .set_body_raw(bomb.clone(), "application/json"),
        )
        .mount(&server)
        .await;

    let rss_before = peak_rss();
    let started = Instant::now();
    let result = poll("deepseek", &server, serde_json::json!({})).await;
    let took = started.elapsed();
    let grew = peak_rss()
        .zip(rss_before)
        .map(|(after, before)| after.saturating_sub(before));
    eprintln!(
        "gzip bomb: {} KiB on the wire, {} MiB inflated; refused in {took:?}, peak RSS grew {:?} KiB",
        bomb.len() >> 10,
        INFLATED >> 20,
        grew.map(|g| g >> 10)
    );
    let e = result.expect_err("a gzip bomb must not yield a reading");
    // Either the body is taken as it came (compressed bytes are not JSON), or it is inflated
    // under the cap (too large): never inflated whole.
    assert!(
        matches!(e.kind(), "bad_response" | "too_large"),
        "a bomb is a bad answer, got {} ({e})",
        e.kind()
    );
    if e.kind() == "bad_response" {
        assert_kind(&e, "bad_response");
        let msg = e.to_string();
        assert!(
            msg.contains("compressed"),
            "the message says the body came compressed (Content-Encoding gzip) rather than \
             calling it unparseable text: {msg}"
        );
        assert!(!msg.contains(KEY), "no key in the message: {msg}");
    }
    // Inflating the bomb whole would raise the peak by 64 MiB (more while a Vec doubles); the
    // cap and the client's buffers are a few MiB. 24 MiB leaves room for the other tests.
    if let Some(grew) = grew {
        assert!(
            grew < 24 << 20,
            "polling a {} KiB bomb raised the peak memory by {} KiB: it must stay near the 1 MiB cap",
            bomb.len() >> 10,
            grew >> 10
        );
    }
    assert!(
        took < Duration::from_secs(5),
        "a bomb is refused at once, not inflated: took {took:?}"
    );
}

// ---- 429 with Retry-After: 0, forever ----

struct World {
    _tmp: tempfile::TempDir,
    cw: Cliffwatch,
    clock: Arc<ManualClock>,
}

async fn world() -> World {
    let tmp = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(
        chrono::Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap(),
    ));
    let cw = Cliffwatch::open(tmp.path(), Arc::new(MemoryStore::new()), clock.clone())
        .await
        .unwrap();
    World {
        _tmp: tmp,
        cw,
        clock,
    }
}

async fn add_deepseek(cw: &Cliffwatch, label: &str, base_url: &str) {
    cliffwatch_core::api::accounts::add(
        cw,
        NewAccount {
            provider: "deepseek".into(),
            label: label.into(),
            base_url: Some(base_url.into()),
            secret: SecretInput::Keychain(Secret::new(KEY).unwrap()),
            budget: None,
            options: Default::default(),
        },
    )
    .await
    .unwrap();
}

fn http() -> Http {
    Http::new(HttpConfig {
        connect_timeout: Duration::from_secs(5),
        total_timeout: Duration::from_secs(10),
        max_body: MAX_BODY,
    })
    .unwrap()
}

/// A DeepSeek endpoint that refuses every request with 429 and `Retry-After: 0` ("try again
/// now"), the provider that would be hammered by a client taking the header at its word.
async fn always_429() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(
            ResponseTemplate::new(429)
                .insert_header("Retry-After", "0")
                .set_body_raw(
                    r#"{"error":{"message":"Rate Limit Reached","type":"rate_limit_error"}}"#,
                    "application/json",
                ),
        )
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.unwrap_or_default().len()
}

/// A tick of 20 ms: the loop looks for due accounts 100 times in the 2 s of the test, so a
/// scheduler that honoured `Retry-After: 0` would poll about 100 times.
fn fast_ticks() -> SchedulerConfig {
    SchedulerConfig {
        tick: Duration::from_millis(20),
        ..SchedulerConfig::default()
    }
}

#[tokio::test]
async fn retry_after_zero_is_held_to_the_provider_floor_while_time_stands_still() {
    let w = world().await;
    let server = always_429().await;
    add_deepseek(&w.cw, "ds", &server.uri()).await;

    let sched = Scheduler::start(w.cw.clone(), http(), fast_ticks());
    tokio::time::sleep(Duration::from_secs(2)).await;
    sched.stop().await;
    assert_eq!(
        requests(&server).await,
        1,
        "with the clock standing still, one request in 2 s of 20 ms ticks: Retry-After: 0 \
         never brings the next poll inside DeepSeek's 60 s floor"
    );

    // A restart (the app starting again, a Settings save) keeps the hold.
    let sched = Scheduler::start(w.cw.clone(), http(), fast_ticks());
    tokio::time::sleep(Duration::from_millis(500)).await;
    sched.stop().await;
    assert_eq!(
        requests(&server).await,
        1,
        "a restarted scheduler remembers the rate limit and sends nothing inside the floor"
    );
}

#[tokio::test]
async fn retry_after_zero_polls_at_most_once_per_floor_as_time_runs() {
    let w = world().await;
    let server = always_429().await;
    add_deepseek(&w.cw, "ds", &server.uri()).await;

    // 3 virtual seconds every 10 ms: about 10 virtual minutes in 2 s of wall time.
    let sched = Scheduler::start(w.cw.clone(), http(), fast_ticks());
    let started = Instant::now();
    let mut virtual_s = 0i64;
    while started.elapsed() < Duration::from_secs(2) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        w.clock.advance(chrono::Duration::seconds(3));
        virtual_s += 3;
    }
    sched.stop().await;
    let n = requests(&server).await;
    eprintln!(
        "429 + Retry-After: 0: {n} requests in {virtual_s} virtual s ({:?} wall)",
        started.elapsed()
    );
    let floor_s = 60;
    let most = usize::try_from(virtual_s / floor_s + 1).unwrap_or(usize::MAX);
    assert!(
        n <= most,
        "{n} requests in {virtual_s} virtual seconds: at most one per {floor_s} s floor ({most})"
    );
    assert!(
        n >= 2,
        "{n} requests in {virtual_s} virtual seconds: polling resumes once the floor has passed"
    );
}
