//! How long forecasting many accounts takes: each account holds a year of 5-minute balance
//! readings (105,120 samples, with top-ups), and the clock times only the forecast calls.

use chrono::{DateTime, Duration, TimeZone, Utc};
use cliffwatch_core::forecast::{self, ForecastState};
use cliffwatch_core::model::{AccountId, BalanceSample, Unit};
use std::time::Instant;

const SAMPLES_PER_YEAR: usize = 365 * 24 * 12;

/// A year of readings for account `k`: weekday/daytime seasonality, bursts, a different scale
/// per account, topped up to 500 whenever it falls under 50.
fn year_of_samples(k: usize, start: DateTime<Utc>) -> Vec<BalanceSample> {
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
    for i in 0..SAMPLES_PER_YEAR {
        let hour_of_week = (i / 12) % 168;
        let day_part = if (8..20).contains(&(hour_of_week % 24)) {
            3.0
        } else {
            0.6
        };
        let weekend = if hour_of_week >= 120 { 0.4 } else { 1.0 };
        let burst = if rand() < 0.002 { 20.0 } else { 1.0 };
        level -= scale * day_part * weekend * burst * rand();
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
    out
}

/// Prints the time to forecast `accounts` accounts.
pub fn report(accounts: usize) {
    let start = Utc
        .with_ymd_and_hms(2025, 11, 1, 0, 0, 0)
        .single()
        .expect("valid date");
    let now = start + Duration::minutes(5 * SAMPLES_PER_YEAR as i64);
    let mut total = std::time::Duration::ZERO;
    let mut slowest = std::time::Duration::ZERO;
    let mut states = [0usize; 5];
    for k in 0..accounts {
        let samples = year_of_samples(k, start);
        let t = Instant::now();
        let f = forecast::from_samples(AccountId(k as i64), &samples, None, now);
        let took = t.elapsed();
        std::hint::black_box(&f);
        total += took;
        slowest = slowest.max(took);
        states[match f.state {
            ForecastState::Ok => 0,
            ForecastState::Idle => 1,
            ForecastState::Learning => 2,
            ForecastState::OutOfCredit => 3,
            ForecastState::Unknown => 4,
        }] += 1;
    }
    println!("## Forecasting {accounts} accounts\n");
    println!(
        "Each account holds a year of 5-minute readings ({SAMPLES_PER_YEAR} samples, with \
         top-ups); `forecast::from_samples` reads the last {} days of them, bins them by hour, \
         fits, simulates and calibrates. Only the forecast calls are timed.\n",
        forecast::HISTORY_DAYS
    );
    println!(
        "| accounts | total | per account | slowest | states (ok / idle / learning / out / unknown) |"
    );
    println!("|---:|---:|---:|---:|---|");
    println!(
        "| {accounts} | {:.0} ms | {:.2} ms | {:.2} ms | {} / {} / {} / {} / {} |",
        total.as_secs_f64() * 1e3,
        total.as_secs_f64() * 1e3 / accounts.max(1) as f64,
        slowest.as_secs_f64() * 1e3,
        states[0],
        states[1],
        states[2],
        states[3],
        states[4]
    );
}
