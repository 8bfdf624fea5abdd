//! Polling end to end against loopback servers: readings become balance samples (top-ups
//! marked), states follow the answers, a 402 stores one cliff event, `poll_all` is concurrent,
//! the dry run stores nothing, and the scheduler answers refresh-now and stops.

#[path = "../src/providers/adapter_testkit.rs"]
mod support;

use chrono::TimeZone;
use cliffwatch_core::clock::ManualClock;
use cliffwatch_core::db;
use cliffwatch_core::http::{Http, HttpConfig, MAX_BODY};
use cliffwatch_core::model::{AccountState, Outcome};
use cliffwatch_core::poll::{self, LastPoll, Scheduler, SchedulerConfig};
use cliffwatch_core::secrets::{MemoryStore, Secret};
use cliffwatch_core::{Cliffwatch, NewAccount, SecretInput};
use std::sync::Arc;
use std::time::Duration;
use support::{fixture, KEY};
use wiremock::matchers::path;
use wiremock::{Mock, MockServer, ResponseTemplate};

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

async fn add(cw: &Cliffwatch, provider: &str, label: &str, base_url: &str) {
    cliffwatch_core::api::accounts::add(
        cw,
        NewAccount {
            provider: provider.into(),
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

fn http(total: Duration) -> Http {
    Http::new(HttpConfig {
        connect_timeout: Duration::from_secs(5),
        total_timeout: total,
        max_body: MAX_BODY,
    })
    .unwrap()
}

fn balance(total: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(
        format!(r#"{{"is_available":true,"balance_infos":[{{"currency":"USD","total_balance":"{total}"}}]}}"#),
        "application/json",
    )
}

/// A DeepSeek balance endpoint that answers `totals` (USD) in turn, the last one from then on.
async fn deepseek_answering(totals: &[&str]) -> MockServer {
    let server = MockServer::start().await;
    let (last, first) = totals.split_last().expect("at least one balance");
    for total in first {
        Mock::given(path("/user/balance"))
            .respond_with(balance(total))
            .up_to_n_times(1)
            .mount(&server)
            .await;
    }
    Mock::given(path("/user/balance"))
        .respond_with(balance(last))
        .mount(&server)
        .await;
    server
}

#[tokio::test]
async fn readings_become_samples_and_a_rise_is_a_top_up() {
    let w = world().await;
    let server = deepseek_answering(&["7.83", "6.10", "56.10"]).await;
    add(&w.cw, "deepseek", "ds", &server.uri()).await;
    let h = http(Duration::from_secs(10));

    let r = poll::poll_account_with(&w.cw, &h, "ds").await.unwrap();
    assert_eq!(
        (r.remaining, r.currency.as_deref()),
        (Some(7.83), Some("USD")),
        "the reading is returned"
    );
    assert_eq!(r.state, AccountState::Ok);
    assert!(r.error.is_none());
    w.clock.advance(chrono::Duration::minutes(5));
    let r = poll::poll_account_with(&w.cw, &h, "ds").await.unwrap();
    assert!(!r.is_topup, "a fall is spend");
    w.clock.advance(chrono::Duration::minutes(5));
    let r = poll::poll_account_with(&w.cw, &h, "ds").await.unwrap();
    assert!(r.is_topup, "a rise is a top-up, not negative spend");

    let acc = cliffwatch_core::api::accounts::list(&w.cw)
        .await
        .unwrap()
        .remove(0);
    let samples = db::balance_samples::since(
        w.cw.pool(),
        acc.id,
        chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    )
    .await
    .unwrap();
    let got: Vec<_> = samples.iter().map(|s| (s.remaining, s.is_topup)).collect();
    assert_eq!(
        got,
        [
            (Some(7.83), false),
            (Some(6.10), false),
            (Some(56.10), true)
        ],
        "every reading is stored"
    );
    assert_eq!(acc.state, AccountState::Ok);
}

#[tokio::test]
async fn out_of_credit_marks_the_account_and_stores_one_cliff_event() {
    let w = world().await;
    let server = MockServer::start().await;
    Mock::given(path("/api/v1/key"))
        .respond_with(fixture("openrouter", "out_of_credit"))
        .expect(2)
        .mount(&server)
        .await;
    add(&w.cw, "openrouter", "or", &server.uri()).await;
    let h = http(Duration::from_secs(10));

    let r = poll::poll_account_with(&w.cw, &h, "or").await.unwrap();
    assert_eq!(r.state, AccountState::OutOfCredit);
    assert_eq!(r.error.as_ref().unwrap().kind, "out_of_credit");
    assert!(
        r.error
            .as_ref()
            .unwrap()
            .message
            .contains("https://openrouter.ai/settings/credits"),
        "says where to top up"
    );
    assert_eq!(
        r.last,
        LastPoll::OutOfCredit {
            transient: false,
            retry_after: None
        },
        "never retried at speed"
    );
    // A second poll while still empty (the scheduler's slow cadence) adds no second event.
    w.clock.advance(chrono::Duration::minutes(30));
    poll::poll_account_with(&w.cw, &h, "or").await.unwrap();

    let events = db::cliff_events::list(w.cw.pool(), &Default::default())
        .await
        .unwrap();
    assert_eq!(
        events.len(),
        1,
        "one event per fall off the cliff: {events:#?}"
    );
    let e = &events[0];
    assert_eq!((e.outcome, e.status), (Outcome::OutOfCredit, Some(402)));
    assert_eq!(
        e.quota.as_deref(),
        Some("openrouter_credits"),
        "the parsed body is stored"
    );
    assert!(e
        .message
        .as_deref()
        .unwrap()
        .contains("requires more credits"));
    assert_eq!(e.url, None, "no URL: it could carry a key");
    assert_eq!(
        cliffwatch_core::api::accounts::list(&w.cw).await.unwrap()[0].state,
        AccountState::OutOfCredit
    );
}

/// The user revokes the old key and pastes a new one while a poll with the old key is in
/// flight: the old key's 401 must not mark the new key rejected.
#[tokio::test]
async fn a_key_replaced_during_a_poll_is_not_marked_by_the_old_keys_answer() {
    let w = world().await;
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(fixture("deepseek", "invalid_key").set_delay(Duration::from_millis(500)))
        .mount(&server)
        .await;
    add(&w.cw, "deepseek", "ds", &server.uri()).await;
    let cw = w.cw.clone();
    let in_flight = tokio::spawn(async move {
        poll::poll_account_with(&cw, &http(Duration::from_secs(10)), "ds").await
    });
    tokio::time::sleep(Duration::from_millis(150)).await;
    cliffwatch_core::api::accounts::replace_key(
        &w.cw,
        "ds",
        SecretInput::Keychain(Secret::new("sk-new-key-0000aaaa").unwrap()),
    )
    .await
    .unwrap();
    let r = in_flight.await.unwrap().unwrap();
    assert!(
        r.note.as_deref().is_some_and(|n| n.contains("replaced")),
        "the result says why it was dropped: {r:?}"
    );
    let acc = &cliffwatch_core::api::accounts::list(&w.cw).await.unwrap()[0];
    assert_eq!(
        acc.state,
        AccountState::Unknown,
        "the new key waits for its own first poll"
    );
}

#[tokio::test]
async fn a_rejected_key_marks_the_account_invalid() {
    let w = world().await;
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(fixture("deepseek", "invalid_key"))
        .mount(&server)
        .await;
    add(&w.cw, "deepseek", "ds", &server.uri()).await;
    let r = poll::poll_account_with(&w.cw, &http(Duration::from_secs(10)), "ds")
        .await
        .unwrap();
    assert_eq!(
        (r.state, r.last),
        (AccountState::InvalidKey, LastPoll::InvalidKey)
    );
    let acc = &cliffwatch_core::api::accounts::list(&w.cw).await.unwrap()[0];
    assert_eq!(acc.state, AccountState::InvalidKey);
    assert!(
        !acc.state_message.as_deref().unwrap().contains(KEY),
        "the stored message has no key"
    );
    assert!(
        db::cliff_events::list(w.cw.pool(), &Default::default())
            .await
            .unwrap()
            .is_empty(),
        "a bad key is not a cliff"
    );
}

#[tokio::test]
async fn the_dry_run_stores_nothing() {
    let w = world().await;
    let server = deepseek_answering(&["1.00"]).await;
    add(&w.cw, "deepseek", "ds", &server.uri()).await;
    let r = poll::test_account_with(&w.cw, &http(Duration::from_secs(10)), "ds")
        .await
        .unwrap();
    assert_eq!(r.remaining, Some(1.0), "the live reading is shown");
    let acc = &cliffwatch_core::api::accounts::list(&w.cw).await.unwrap()[0];
    assert_eq!(acc.state, AccountState::Unknown, "the state is untouched");
    assert!(
        db::balance_samples::latest(w.cw.pool(), acc.id)
            .await
            .unwrap()
            .is_none(),
        "no sample stored"
    );
}

#[tokio::test]
async fn poll_all_is_concurrent_and_a_stalled_provider_only_fails_itself() {
    let w = world().await;
    let slow = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(balance("1.00").set_delay(Duration::from_secs(60)))
        .mount(&slow)
        .await;
    let fast = MockServer::start().await;
    Mock::given(path("/v1/user/info"))
        .respond_with(fixture("siliconflow", "success"))
        .mount(&fast)
        .await;
    add(&w.cw, "deepseek", "a-slow", &slow.uri()).await;
    add(&w.cw, "siliconflow", "b-fast", &fast.uri()).await;

    let results = poll::poll_all_with(&w.cw, &http(Duration::from_millis(500)))
        .await
        .unwrap();
    let labels: Vec<_> = results.iter().map(|r| r.account.as_str()).collect();
    assert_eq!(
        labels,
        ["a-slow", "b-fast"],
        "one result per account, in label order"
    );
    assert_eq!(
        results[0].error.as_ref().unwrap().kind,
        "timeout",
        "the stall is a timeout"
    );
    assert_eq!(
        results[0].last,
        LastPoll::Transient,
        "and is retried with backoff"
    );
    assert_eq!(
        results[1].remaining,
        Some(88.88),
        "the other account is read regardless"
    );
    let json = serde_json::to_value(&results[1]).unwrap();
    for field in [
        "account",
        "provider",
        "remaining",
        "limit",
        "used",
        "unit",
        "currency",
        "polled_at",
        "error",
    ] {
        assert!(
            json.get(field).is_some(),
            "`poll --once --json` needs `{field}`: {json}"
        );
    }
}

#[tokio::test]
async fn the_scheduler_polls_on_refresh_now_and_stops() {
    let w = world().await;
    let server = deepseek_answering(&["3.21"]).await;
    add(&w.cw, "deepseek", "ds", &server.uri()).await;
    let cfg = SchedulerConfig {
        tick: Duration::from_secs(3600),
        ..SchedulerConfig::default()
    };
    let sched = Scheduler::start(w.cw.clone(), http(Duration::from_secs(10)), cfg);
    let mut results = sched.subscribe();
    sched.refresh_now(Some("ds")).await;
    // A guard against a hang, not a timing assertion: the poll is local and instant.
    let r = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            let r = results.recv().await.unwrap();
            if r.account == "ds" {
                break r;
            }
        }
    })
    .await
    .expect("refresh-now polls the account");
    assert_eq!(r.remaining, Some(3.21));
    sched.stop().await;
    let acc = &cliffwatch_core::api::accounts::list(&w.cw).await.unwrap()[0];
    assert!(
        db::balance_samples::latest(w.cw.pool(), acc.id)
            .await
            .unwrap()
            .is_some(),
        "the scheduler stores what it reads"
    );
}

#[tokio::test]
async fn a_reading_at_zero_marks_the_account_out_of_credit_and_a_top_up_clears_it() {
    let w = world().await;
    let server = deepseek_answering(&["0.00", "20.00"]).await;
    add(&w.cw, "deepseek", "ds", &server.uri()).await;
    let h = http(Duration::from_secs(10));
    let r = poll::poll_account_with(&w.cw, &h, "ds").await.unwrap();
    assert_eq!(
        r.state,
        AccountState::OutOfCredit,
        "an empty balance is the cliff even on HTTP 200"
    );
    assert_eq!(
        r.last,
        LastPoll::OutOfCredit {
            transient: false,
            retry_after: None
        },
        "so the cadence slows"
    );
    w.clock.advance(chrono::Duration::minutes(30));
    let r = poll::poll_account_with(&w.cw, &h, "ds").await.unwrap();
    assert_eq!(
        (r.state, r.is_topup),
        (AccountState::Ok, true),
        "the slow poll notices the top-up"
    );
}

/// A DeepSeek endpoint that rejects every key.
async fn deepseek_rejecting() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(fixture("deepseek", "invalid_key"))
        .mount(&server)
        .await;
    server
}

async fn requests(server: &MockServer) -> usize {
    server.received_requests().await.map_or(0, |r| r.len())
}

fn skipped<'a>(results: &'a [poll::PollResult], label: &str) -> Option<&'a str> {
    results
        .iter()
        .find(|r| r.account == label)
        .and_then(|r| r.skipped.as_deref())
}

#[tokio::test]
async fn poll_once_does_not_resend_a_rejected_key_or_poll_inside_the_providers_interval() {
    let w = world().await;
    let good = deepseek_answering(&["5.00"]).await;
    let bad = deepseek_rejecting().await;
    add(&w.cw, "deepseek", "good", &good.uri()).await;
    add(&w.cw, "deepseek", "bad", &bad.uri()).await;
    let h = http(Duration::from_secs(10));
    let cfg = SchedulerConfig::default();

    let r = poll::poll_due_with(&w.cw, &h, false, &cfg).await.unwrap();
    assert!(
        r.iter().all(|r| r.skipped.is_none()),
        "first run polls both"
    );
    assert_eq!((requests(&good).await, requests(&bad).await), (1, 1));

    // A cron job a second later: the rejected key is not sent again, the good account is
    // inside DeepSeek's minimum interval.
    w.clock.advance(chrono::Duration::seconds(1));
    let r = poll::poll_due_with(&w.cw, &h, false, &cfg).await.unwrap();
    assert!(
        skipped(&r, "bad").is_some_and(|s| s.contains("rejected")),
        "{r:?}"
    );
    assert!(
        skipped(&r, "good").is_some_and(|s| s.contains("too recently")),
        "{r:?}"
    );
    assert_eq!(
        (requests(&good).await, requests(&bad).await),
        (1, 1),
        "nothing sent"
    );

    // Hours later the good account is polled again; the rejected key still waits.
    w.clock.advance(chrono::Duration::hours(3));
    let r = poll::poll_due_with(&w.cw, &h, false, &cfg).await.unwrap();
    assert_eq!(skipped(&r, "good"), None);
    assert!(
        skipped(&r, "bad").is_some(),
        "a rejected key waits for an edit, not for time"
    );
    assert_eq!((requests(&good).await, requests(&bad).await), (2, 1));

    // --force sends it anyway; so does an edit (a new key), without --force.
    w.clock.advance(chrono::Duration::hours(1));
    poll::poll_due_with(&w.cw, &h, true, &cfg).await.unwrap();
    assert_eq!(requests(&bad).await, 2, "--force overrides");
    w.clock.advance(chrono::Duration::hours(1));
    cliffwatch_core::api::accounts::replace_key(
        &w.cw,
        "bad",
        SecretInput::Keychain(Secret::new("sk-new-key-0001").unwrap()),
    )
    .await
    .unwrap();
    let r = poll::poll_due_with(&w.cw, &h, false, &cfg).await.unwrap();
    assert_eq!(
        skipped(&r, "bad"),
        None,
        "an edited account is polled: {r:?}"
    );
    assert_eq!(requests(&bad).await, 3);
}

#[tokio::test]
async fn a_restarted_scheduler_polls_only_what_is_due_and_never_a_rejected_key() {
    let w = world().await;
    let good = deepseek_answering(&["5.00"]).await;
    let bad = deepseek_rejecting().await;
    add(&w.cw, "deepseek", "good", &good.uri()).await;
    add(&w.cw, "deepseek", "bad", &bad.uri()).await;
    let h = http(Duration::from_secs(10));
    let cfg = SchedulerConfig {
        tick: Duration::from_millis(20),
        ..SchedulerConfig::default()
    };
    // A first run of the app: both accounts polled once, and the schedule remembered.
    poll::poll_due_with(&w.cw, &h, false, &cfg).await.unwrap();
    assert_eq!((requests(&good).await, requests(&bad).await), (1, 1));

    // Restarts (the app relaunched, a settings save): with the clock standing still, nothing
    // is due, so nothing is sent, however many ticks pass.
    for _ in 0..3 {
        let sched = Scheduler::start(w.cw.clone(), h.clone(), cfg);
        tokio::time::sleep(Duration::from_millis(300)).await;
        sched.stop().await;
    }
    assert_eq!(
        (requests(&good).await, requests(&bad).await),
        (1, 1),
        "a restart must not re-poll every account at once"
    );

    // Once the interval has passed, the good account is polled; the rejected key is not.
    w.clock.advance(chrono::Duration::minutes(10));
    let sched = Scheduler::start(w.cw.clone(), h.clone(), cfg);
    let mut results = sched.subscribe();
    let r = tokio::time::timeout(Duration::from_secs(30), results.recv())
        .await
        .expect("the due account is polled")
        .unwrap();
    assert_eq!(r.account, "good");
    tokio::time::sleep(Duration::from_millis(300)).await;
    sched.stop().await;
    assert_eq!(
        requests(&bad).await,
        1,
        "the rejected key is never sent again by itself"
    );
}

#[tokio::test]
async fn at_most_two_requests_at_once_go_to_one_provider_host() {
    let w = world().await;
    let server = MockServer::start().await;
    Mock::given(path("/user/balance"))
        .respond_with(balance("1.00").set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    for i in 0..5 {
        add(&w.cw, "deepseek", &format!("k{i}"), &server.uri()).await;
    }
    let started = std::time::Instant::now();
    let r = poll::poll_all_with(&w.cw, &http(Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(r.len(), 5);
    // A lower bound, which no machine can beat: five 300 ms answers two at a time take three
    // rounds. Eight at once (the global cap) would take one.
    assert!(
        started.elapsed() >= Duration::from_millis(850),
        "{:?}: more than {} requests were in flight to one host",
        started.elapsed(),
        poll::MAX_PER_HOST
    );
}
