//! Realistic data written through core into a data directory before the app opens it: four
//! accounts draining at different speeds (one topped up, one out of credit), their 402s, and
//! the alerts core raises from them. Times are relative to the real clock, because the app
//! forecasts as of now.

use chrono::{DateTime, Duration, Utc};
use cliffwatch_core::clock::{Clock, SystemClock};
use cliffwatch_core::db;
use cliffwatch_core::model::{AccountState, BalanceSample, CliffEvent, EventOrigin, Outcome, Unit};
use cliffwatch_core::secrets::{KeyringStore, Secret, KEYRING_SERVICE};
use cliffwatch_core::{Cliffwatch, NewAccount, SecretInput};
use std::sync::Arc;

/// Hourly spend with a daily rhythm (busier in the afternoon), so charts look like real use.
fn spend(per_hour: f64, at: DateTime<Utc>) -> f64 {
    use chrono::Timelike;
    let h = at.hour() as f64;
    per_hour * (1.0 + 0.6 * ((h - 15.0) / 24.0 * std::f64::consts::TAU).cos())
}

/// One seeded account: what is left now, how fast it drains, how much history, and a top-up
/// (hours ago, amount).
struct Plan {
    provider: &'static str,
    label: &'static str,
    remaining: f64,
    per_hour: f64,
    unit: Unit,
    hours: i64,
    top_up: Option<(i64, f64)>,
}

pub async fn seed(dir: &std::path::Path) {
    let now = SystemClock.now();
    // The app reads keys from the session's keychain (scripts/with-desktop-session runs a
    // throwaway one), so the seeded keys go there too.
    let cw = Cliffwatch::open(
        dir,
        Arc::new(KeyringStore::new(KEYRING_SERVICE)),
        Arc::new(SystemClock),
    )
    .await
    .unwrap();
    let accounts = [
        Plan {
            provider: "scraperapi",
            label: "scraper-prod",
            remaining: 4820.0,
            per_hour: 150.0,
            unit: Unit::credits(),
            hours: 96,
            top_up: None,
        },
        Plan {
            provider: "openrouter",
            label: "llm-main",
            remaining: 12.5,
            per_hour: 0.85,
            unit: Unit::usd(),
            hours: 96,
            top_up: Some((40, 30.0)),
        },
        Plan {
            provider: "tavily",
            label: "search",
            remaining: 850.0,
            per_hour: 3.0,
            unit: Unit::credits(),
            hours: 96,
            top_up: None,
        },
        Plan {
            provider: "twocaptcha",
            label: "captcha",
            remaining: 0.0,
            per_hour: 0.12,
            unit: Unit::usd(),
            hours: 72,
            top_up: None,
        },
    ];
    for Plan {
        provider,
        label,
        remaining,
        per_hour,
        unit,
        hours,
        top_up,
    } in accounts
    {
        let acc = cliffwatch_core::api::accounts::add(
            &cw,
            NewAccount {
                provider: provider.into(),
                label: label.into(),
                // The app's poller must not reach real providers from a test: port 9 on
                // loopback is closed, so polls fail fast and the stored readings stay.
                base_url: Some("http://127.0.0.1:9".into()),
                secret: SecretInput::Keychain(Secret::new("e2e-key-0123456789").unwrap()),
                budget: None,
                options: Default::default(),
            },
        )
        .await
        .unwrap();
        // Walk back from now, adding spend (and removing a top-up) to get each past level.
        let mut levels = Vec::new();
        let mut level = remaining;
        for h in 0..=hours {
            let at = now - Duration::hours(h);
            levels.push((at, level.max(0.0)));
            if let Some((ago, amount)) = top_up {
                if h == ago {
                    level -= amount;
                }
            }
            level += spend(per_hour, at);
        }
        let mut tx = cw.pool().begin().await.unwrap();
        for (at, v) in levels.into_iter().rev() {
            db::balance_samples::insert(
                &mut tx,
                BalanceSample {
                    account_id: acc.id,
                    observed_at: at,
                    remaining: Some((v * 100.0).round() / 100.0),
                    limit: None,
                    used: None,
                    unit: unit.clone(),
                    resets_at: None,
                    is_topup: false,
                },
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
        let state = if remaining <= 0.0 {
            AccountState::OutOfCredit
        } else {
            AccountState::Ok
        };
        let msg = (remaining <= 0.0).then_some(
            "2Captcha says the account is out of credit (HTTP 200: \"ERROR_ZERO_BALANCE\"): top up at https://2captcha.com/enterpage",
        );
        db::accounts::set_state(cw.pool(), acc.id, state, msg, now)
            .await
            .unwrap();
        if remaining <= 0.0 {
            for (mins, code, message, payment) in [
                (
                    90,
                    "ERROR_ZERO_BALANCE",
                    "You don't have funds on your account.",
                    None,
                ),
                (
                    5,
                    "ERROR_ZERO_BALANCE",
                    "You don't have funds on your account.",
                    Some(
                        serde_json::json!({"payment_url": "https://pay.example-gateway.io/2captcha?amount=10"}),
                    ),
                ),
            ] {
                event(
                    &cw,
                    acc.id,
                    provider,
                    now - Duration::minutes(mins),
                    code,
                    message,
                    payment,
                )
                .await;
            }
        }
        if label == "llm-main" {
            event(
                &cw,
                acc.id,
                provider,
                now - Duration::hours(41),
                "402",
                "Insufficient credits. Add more using https://openrouter.ai/credits",
                None,
            )
            .await;
        }
    }
    // An agent's pay-per-call API asking its price (x402 v1, 0.01 USDC on Base), read by the
    // real classifier: a price asked, not an empty wallet.
    let body = r#"{"x402Version":1,"error":"X-PAYMENT header is required","accepts":[{"scheme":"exact","network":"base","maxAmountRequired":"10000","resource":"https://api.paid-search.example/v1/search","description":"one search","payTo":"0x209693Bc6afc0C5328bA36FaF03C514EF312287C","maxTimeoutSeconds":60,"asset":"0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"}]}"#;
    let c = cliffwatch_core::classify::classify(&cliffwatch_core::classify::Observation {
        provider: None,
        host: Some("api.paid-search.example"),
        status: 402,
        headers: &[],
        request_headers: &[],
        body: body.as_bytes(),
    });
    assert_eq!(c.outcome, Outcome::PaymentRequired);
    db::cliff_events::insert(
        cw.pool(),
        &CliffEvent {
            id: None,
            account_id: None,
            provider: None,
            occurred_at: now - Duration::minutes(30),
            origin: EventOrigin::Log,
            outcome: c.outcome,
            status: Some(402),
            method: Some("GET".into()),
            host: Some("api.paid-search.example".into()),
            url: Some("https://api.paid-search.example/v1/search".into()),
            code: None,
            message: c.message,
            quota: None,
            payment: c.payment,
            log_file_id: None,
            byte_offset: None,
        },
    )
    .await
    .unwrap();
    let notifier = cliffwatch_core::alerts::MemoryNotifier::new();
    cliffwatch_core::alerts::evaluate(cw.pool(), now, &notifier)
        .await
        .unwrap();
    cw.pool().close().await;
}

async fn event(
    cw: &Cliffwatch,
    account: cliffwatch_core::model::AccountId,
    provider: &str,
    at: DateTime<Utc>,
    code: &str,
    message: &str,
    payment: Option<serde_json::Value>,
) {
    db::cliff_events::insert(
        cw.pool(),
        &CliffEvent {
            id: None,
            account_id: Some(account),
            provider: Some(provider.into()),
            occurred_at: at,
            origin: EventOrigin::Poll,
            outcome: Outcome::OutOfCredit,
            status: Some(402),
            method: Some("GET".into()),
            host: None,
            url: None,
            code: Some(code.into()),
            message: Some(message.into()),
            quota: None,
            payment,
            log_file_id: None,
            byte_offset: None,
        },
    )
    .await
    .unwrap();
}
