//! How long forecasting many accounts takes: each account holds a year of 5-minute balance
//! readings (105,120 samples, with top-ups), with and without a year of logged requests, and
//! the clock times only the forecast calls.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cliffwatch_core::forecast::{self, ForecastState, UsageSignal};
use cliffwatch_core::model::{AccountId, BalanceSample, Unit};
use std::time::Instant;

const SAMPLES_PER_YEAR: usize = 365 * 24 * 12;

/// A year of readings for account `k`: weekday/daytime seasonality, bursts, a different scale
/// per account, topped up to 500 whenever it falls under 50; and the log of its requests (one
/// record per 5 minutes with spend, weighing about twice the spend, a noisy half of it seen).
fn year_of_samples(k: usize, start: DateTime<Utc>) -> (Vec<BalanceSample>, Vec<UsageSignal>) {
    let mut seed = 0x2545_F491_4F6C_DD1D_u64 ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed >> 11) as f64 / (1u64 << 53) as f64
    };
    let scale = 0.02 + 0.2 * (k % 17) as f64 / 17.0;
    let mut level = 500.0;
    let mut out = Vec::with_capacity(SAMPLES_PER_YEAR);
    let mut logged = Vec::with_capacity(SAMPLES_PER_YEAR);
    for i in 0..SAMPLES_PER_YEAR {
        let hour_of_week = (i / 12) % 168;
        let day_part = if (8..20).contains(&(hour_of_week % 24)) {
            3.0
        } else {
            0.6
        };
        let weekend = if hour_of_week >= 120 { 0.4 } else { 1.0 };
        let burst = if rand() < 0.002 { 20.0 } else { 1.0 };
        let spent = scale * day_part * weekend * burst * rand();
        level -= spent;
        if spent > 0.0 {
            logged.push(UsageSignal {
                at: start + Duration::minutes(5 * i as i64 - 2),
                weight: spent * (1.0 + rand()),
            });
        }
        let topped = level < 50.0;
        if topped {
            level = 500.0;
        }
        out.push(BalanceSample {
            account_id: AccountId(k as i64),
            observed_at: start + Duration::minutes(5 * i as i64),
            remaining: Some((level * 100.0).round() / 100.0),
            limit: None,
            used: None,
            unit: Unit::usd(),
            resets_at: None,
            is_topup: topped,
        });
    }
    (out, logged)
}

/// Prints the time to forecast `accounts` accounts, from the balance alone and with logs.
pub fn report(accounts: usize) {
    let start = Utc
        .with_ymd_and_hms(2025, 11, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let now = start + Duration::minutes(5 * SAMPLES_PER_YEAR as i64);
    // [balance only, with logs]: total, slowest, states.
    let mut total = [std::time::Duration::ZERO; 2];
    let mut slowest = [std::time::Duration::ZERO; 2];
    let mut states = [[0usize; 5]; 2];
    let mut refined = 0;
    for k in 0..accounts {
        let (samples, logged) = year_of_samples(k, start);
        for (m, usage) in [&[][..], &logged[..]].into_iter().enumerate() {
            let t = Instant::now();
            let f =
                forecast::from_samples_and_usage(AccountId(k as i64), &samples, usage, None, now);
            let took = t.elapsed();
            std::hint::black_box(&f);
            total[m] += took;
            slowest[m] = slowest[m].max(took);
            refined += usize::from(f.refined_by_logs.is_some());
            states[m][match f.state {
                ForecastState::Ok => 0,
                ForecastState::Idle => 1,
                ForecastState::Learning => 2,
                ForecastState::OutOfCredit => 3,
                ForecastState::Unknown => 4,
            }] += 1;
        }
    }
    println!("## Forecasting {accounts} accounts\n");
    println!(
        "Each account holds a year of 5-minute readings ({SAMPLES_PER_YEAR} samples, with \
         top-ups) and, in the second row, a year of logged requests (one record per 5 minutes); \
         the forecast reads the last {} days of them, bins them by hour, fits, simulates and \
         calibrates. Only the forecast calls are timed. Logs refined {refined} of {accounts} \
         forecasts.\n",
        forecast::HISTORY_DAYS
    );
    println!(
        "| accounts | input | total | per account | slowest | states (ok / idle / learning / out / unknown) |"
    );
    println!("|---:|---|---:|---:|---:|---|");
    for (m, input) in ["balance", "balance + logs"].iter().enumerate() {
        let st = states[m];
        println!(
            "| {accounts} | {input} | {:.0} ms | {:.2} ms | {:.2} ms | {} / {} / {} / {} / {} |",
            total[m].as_secs_f64() * 1e3,
            total[m].as_secs_f64() * 1e3 / accounts.max(1) as f64,
            slowest[m].as_secs_f64() * 1e3,
            st[0],
            st[1],
            st[2],
            st[3],
            st[4]
        );
    }
}
