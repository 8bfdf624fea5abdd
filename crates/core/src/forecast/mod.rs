//! Forecasts: when will each account's balance or quota run out, said honestly.
//!
//! [`from_samples`] is the pure heart (readings + `now` in, a [`Forecast`] out);
//! [`from_samples_and_usage`] adds the requests seen in the account's logs; [`for_account`]
//! and [`for_all`] read the store and call it. The model itself lives in [`engine`] and works on
//! the hourly spend series that [`series`] derives from the readings. [`import_balances_csv`]
//! loads a history exported from a provider's dashboard.
//!
//! States: `learning` while less than [`MIN_HISTORY_HOURS`] of history exist ("learning, 5 more
//! hours"), `idle` when the balance would last more than [`IDLE_AFTER_HOURS`] (or nothing is
//! being spent), `out_of_credit` at zero, `ok` otherwise, and `unknown` when no amount can be
//! derived at all (a spend-only account without a budget).
//!
//! Logs are a *proxy*: they may see only some of the key's requests (other machines, other
//! tools) and count requests or cost in their own unit. Their weight is calibrated against the
//! balance (balance spent ÷ log weight over the last week where both exist) and then used only
//! where the balance is weak: to place each fall on the hours its requests were made, and to
//! count what was spent after the latest reading (a lagging or stale balance). Hours when the
//! balance sat at zero say nothing about demand and are filled with the usual spend of that
//! hour, with or without logs.
//!
//! Why ~650 lines before its tests: the store-facing forecast (readings and logged requests in, a
//! `Forecast` out) and the words it is said in; the model itself is in `engine.rs`.

mod cache;
pub mod engine;
mod import;
pub mod series;

pub use cache::ForecastCache;
pub use import::{import_balances_csv, parse_balances_csv, ImportReport};

use crate::db;
use crate::model::{Account, AccountId, AccountState, BalanceSample, Unit};
use crate::Result;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::SqlitePool;
use std::collections::HashMap;
use ts_rs::TS;

/// Below this much history the forecast says "learning" instead of a number: one day shows at
/// least one daily cycle.
pub const MIN_HISTORY_HOURS: f64 = 24.0;
/// A balance lasting longer than 30 days is "idle": nobody tops up a month ahead.
pub const IDLE_AFTER_HOURS: f64 = 30.0 * 24.0;
/// How much history a forecast reads: the engine's level, profile and calibration need at most
/// six weeks.
pub const HISTORY_DAYS: i64 = 42;
/// The log-to-balance ratio is fitted on at most the last week: how much of the traffic a log
/// sees drifts (a second machine, a new tool), and a week still averages out the balance's
/// rounding (0.01 over a few dollars a day is under 1 %).
pub const LOG_RATIO_WINDOW_HOURS: i64 = 7 * 24;
/// Logs and balance must overlap this long before the logs are trusted: one daily cycle.
pub const LOG_MIN_OVERLAP_HOURS: i64 = 24;
/// ... and the logs must hold at least this many requests in the overlap, so one stray record
/// does not set the ratio.
pub const LOG_MIN_RECORDS: usize = 20;
/// The log is not trusted when one half of the fitting window holds more than this share of
/// the balance's fall and the log saw nothing in it (it stopped, or started late).
const LOG_SILENT_HALF_SHARE: f64 = 0.2;
/// Nor when the ratio of the two halves differs by more than this factor.
const LOG_MAX_RATIO_DRIFT: f64 = 4.0;

/// A request seen in a log linked to the account: when it happened and its weight, its cost
/// when the log says (any unit), else 1 per request. The ratio to the balance makes the
/// units cancel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UsageSignal {
    pub at: DateTime<Utc>,
    pub weight: f64,
}

/// How sure the forecast is and what it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ForecastState {
    /// Not enough history yet; `message` says how many more hours.
    Learning,
    /// Nothing (or almost nothing) is being spent: more than 30 days left.
    Idle,
    /// A runway is known.
    Ok,
    /// Nothing is left (or the provider said so).
    OutOfCredit,
    /// No remaining amount can be derived (no reading yet, or spend-only without a budget).
    Unknown,
}

/// Hours until the balance reaches zero, counted from `as_of`: P10 is the early (pessimistic)
/// end of the band, P90 the late one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct RunwayHours {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// One account's forecast, as the CLI (`forecast --json`), the dashboard and the alert rules
/// read it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Forecast {
    pub account_id: AccountId,
    /// The time the forecast answers for (now, or `--as-of`).
    pub as_of: DateTime<Utc>,
    /// What is left at the latest reading, in `unit`.
    pub remaining: Option<f64>,
    pub unit: Option<Unit>,
    /// When the latest reading was taken.
    pub observed_at: Option<DateTime<Utc>>,
    /// Typical spend per day now (de-seasonalised, recency-weighted).
    pub rate_per_day: Option<f64>,
    pub runway_hours: Option<RunwayHours>,
    /// The median exhaustion time.
    pub exhausts_at: Option<DateTime<Utc>>,
    /// When a resetting quota refills, if the provider said.
    pub resets_at: Option<DateTime<Utc>>,
    /// For a resetting quota: does it likely run out before the reset?
    pub runs_out_before_reset: Option<bool>,
    pub state: ForecastState,
    /// The forecast in plain words ("~14 h left, between 9 and 20 h").
    pub message: String,
    /// How many hours of readings the forecast stands on.
    pub history_hours: f64,
    /// How many of the account's own past forecasts calibrated the band (0 = not calibrated
    /// yet; the band is then widened by a fixed factor).
    pub calibrated_with: u32,
    /// How many logged requests refined the forecast (their timing and the spend since the
    /// latest reading); null when no log is linked or it overlaps the balance too little.
    #[ts(optional = nullable)]
    pub refined_by_logs: Option<u32>,
    /// What the forecast stands on, in words: "from 6 days of readings; band widened until 20
    /// past forecasts are checked (3 so far)". Empty without readings.
    pub basis: String,
}

/// Forecasts one account from its readings (any order, any spacing), as of `now`: readings
/// after `now` are ignored, so `now` in the past is a backtest. `budget` is the user's budget
/// for spend-only accounts. Pure: no clock, no database.
pub fn from_samples(
    account_id: AccountId,
    samples: &[BalanceSample],
    budget: Option<f64>,
    now: DateTime<Utc>,
) -> Forecast {
    from_samples_and_usage_with(account_id, samples, &[], budget, now, &default_params())
}

/// [`from_samples`] refined by the requests seen in the account's logs (any order): see the
/// module docs. With no usage, or too little overlap with the readings, it is
/// [`from_samples`].
pub fn from_samples_and_usage(
    account_id: AccountId,
    samples: &[BalanceSample],
    usage: &[UsageSignal],
    budget: Option<f64>,
    now: DateTime<Utc>,
) -> Forecast {
    from_samples_and_usage_with(account_id, samples, usage, budget, now, &default_params())
}

/// [`from_samples`] with explicit model parameters.
pub fn from_samples_with(
    account_id: AccountId,
    samples: &[BalanceSample],
    budget: Option<f64>,
    now: DateTime<Utc>,
    params: &engine::Params,
) -> Forecast {
    from_samples_and_usage_with(account_id, samples, &[], budget, now, params)
}

fn default_params() -> engine::Params {
    // Past 30 days the answer is "idle" whatever the number: no need to simulate further.
    engine::Params {
        max_hours: IDLE_AFTER_HOURS * 1.5,
        ..engine::Params::default()
    }
}

/// The calibration of the logs against the balance.
#[derive(Debug, Clone, Copy, PartialEq)]
struct LogRatio {
    /// Balance units per unit of log weight.
    ratio: f64,
    /// How late the balance reports (seconds): a reading says the balance as of this long
    /// before it was taken, so the logged requests since then are not in it yet.
    lag_s: i64,
}

/// Reporting lags tried, from none to 3 h in 5-minute steps: providers that settle spend in
/// batches or hourly cost reports lag by minutes to hours.
const LOG_MAX_LAG_S: i64 = 3 * 3600;
const LOG_LAG_STEP_S: i64 = 300;
/// Falls and logged weight are compared in 30-minute bins: long enough that a 0.01 rounding
/// step is small against a bin's spend, short enough to see a lag of minutes.
const LOG_LAG_BIN_S: i64 = 1800;

/// The reporting lag that best lines the logged weight (× `ratio`) up with the balance's falls
/// over `[from, end)`, by least squares over 30-minute bins; 0 unless a lag explains the falls
/// clearly better (2 % less squared error) than none.
fn estimate_lag(
    readings: &[series::Reading],
    usage: &series::UsageIndex,
    from: i64,
    end: i64,
    ratio: f64,
) -> i64 {
    let bins = ((end - from) / LOG_LAG_BIN_S) as usize;
    if bins < 48 {
        return 0;
    }
    let mut falls = vec![0.0; bins];
    for w in readings.windows(2) {
        let (a, b) = (w[0], w[1]);
        // A fall between two readings is spend from the first one on.
        if a.at >= from && a.at < from + bins as i64 * LOG_LAG_BIN_S && a.level > b.level {
            falls[((a.at - from) / LOG_LAG_BIN_S) as usize] += a.level - b.level;
        }
    }
    // Logged weight per 5-minute slot from `from - LOG_MAX_LAG_S` on, as prefix sums.
    let lag_slots = (LOG_MAX_LAG_S / LOG_LAG_STEP_S) as usize;
    let per_bin = (LOG_LAG_BIN_S / LOG_LAG_STEP_S) as usize;
    let origin = from - LOG_MAX_LAG_S;
    let mut slots = vec![0.0; bins * per_bin + lag_slots];
    for u in usage.records(origin, origin + slots.len() as i64 * LOG_LAG_STEP_S) {
        slots[((u.at - origin) / LOG_LAG_STEP_S) as usize] += u.weight;
    }
    let mut prefix = Vec::with_capacity(slots.len() + 1);
    prefix.push(0.0);
    for v in &slots {
        prefix.push(prefix.last().copied().unwrap_or(0.0) + v);
    }
    let sse = |lag: usize| -> f64 {
        (0..bins)
            .map(|j| {
                let lo = lag_slots + j * per_bin - lag;
                let logged = prefix[lo + per_bin] - prefix[lo];
                (falls[j] - ratio * logged).powi(2)
            })
            .sum()
    };
    let none = sse(0);
    let (best, best_sse) = (1..=lag_slots)
        .map(|l| (l, sse(l)))
        .fold((0, none), |acc, x| if x.1 < acc.1 { x } else { acc });
    if best_sse < 0.98 * none {
        best as i64 * LOG_LAG_STEP_S
    } else {
        0
    }
}

/// Whether the log kept the same pace with the balance over both halves of `[from, end)`. A
/// log that stopped (the client moved its log, logging was turned off) while the balance kept
/// falling, or one whose share of the traffic changed several-fold, would give a ratio that
/// says nothing about the next hours.
fn log_keeps_pace(
    readings: &[series::Reading],
    usage: &series::UsageIndex,
    from: i64,
    end: i64,
) -> bool {
    let mid = from + (end - from) / 2;
    let total = series::spent_between(readings, from, end);
    let halves = [(from, mid), (mid, end)]
        .map(|(a, b)| (series::spent_between(readings, a, b), usage.weight(a, b)));
    for (spent, weight) in halves {
        // A half in which the balance fell materially but the log saw nothing.
        if weight <= 0.0 && spent > LOG_SILENT_HALF_SHARE * total {
            return false;
        }
    }
    let [(s1, w1), (s2, w2)] = halves;
    if s1 > 0.0 && s2 > 0.0 && w1 > 0.0 && w2 > 0.0 {
        let (r1, r2) = (s1 / w1, s2 / w2);
        if r1.max(r2) > LOG_MAX_RATIO_DRIFT * r1.min(r2) {
            return false;
        }
    }
    true
}

/// Fits balance spent ÷ log weight over the last [`LOG_RATIO_WINDOW_HOURS`] before the latest
/// reading where both exist; `None` when they overlap too little or either side is empty.
fn fit_log_ratio(readings: &[series::Reading], usage: &series::UsageIndex) -> Option<LogRatio> {
    let first = readings.first()?.at;
    let end = readings.last()?.at;
    let from = (end - LOG_RATIO_WINDOW_HOURS * 3600)
        .max(first)
        .max(usage.first_at()?);
    if end - from < LOG_MIN_OVERLAP_HOURS * 3600 {
        return None;
    }
    if usage.records(from, end).len() < LOG_MIN_RECORDS {
        return None;
    }
    let weight = usage.weight(from, end);
    let spent = series::spent_between(readings, from, end);
    let ratio = spent / weight;
    if !(weight > 0.0 && spent > 0.0 && ratio.is_finite()) {
        return None;
    }
    if !log_keeps_pace(readings, usage, from, end) {
        return None;
    }
    let lag_s = estimate_lag(readings, usage, from, end, ratio);
    Some(LogRatio { ratio, lag_s })
}

/// [`from_samples_and_usage`] with explicit model parameters.
pub fn from_samples_and_usage_with(
    account_id: AccountId,
    samples: &[BalanceSample],
    usage: &[UsageSignal],
    budget: Option<f64>,
    now: DateTime<Utc>,
    params: &engine::Params,
) -> Forecast {
    let mut f = forecast_window(account_id, samples, usage, budget, now, params);
    f.basis = basis(&f, params);
    f
}

/// What the forecast stands on, in words: how much history, and whether the band is still
/// widened by the prior because the key has few past forecasts of its own to check it against.
fn basis(f: &Forecast, p: &engine::Params) -> String {
    if f.history_hours <= 0.0 {
        return String::new();
    }
    let days = f.history_hours / 24.0;
    let history = if days >= 2.0 {
        format!("from {days:.0} days of readings")
    } else {
        format!("from {:.0} h of readings", f.history_hours.max(1.0))
    };
    if !matches!(f.state, ForecastState::Ok) || f.runway_hours.is_none() {
        return history;
    }
    let wanted = p.prior_weight.round() as u32;
    let m = f.calibrated_with;
    if m == 0 {
        format!("{history}; band widened: too little history to check past forecasts yet")
    } else if m < wanted {
        format!("{history}; band widened until {wanted} past forecasts are checked ({m} so far)")
    } else {
        format!("{history}; band checked against {m} past forecasts")
    }
}

fn forecast_window(
    account_id: AccountId,
    samples: &[BalanceSample],
    usage: &[UsageSignal],
    budget: Option<f64>,
    now: DateTime<Utc>,
    params: &engine::Params,
) -> Forecast {
    let from = now - Duration::days(HISTORY_DAYS);
    let sorted = samples
        .windows(2)
        .all(|w| w[0].observed_at <= w[1].observed_at);
    let mut owned;
    let samples = if sorted {
        samples
    } else {
        owned = samples.to_vec();
        owned.sort_by_key(|s| s.observed_at);
        &owned[..]
    };
    let lo = samples.partition_point(|s| s.observed_at < from);
    let hi = samples.partition_point(|s| s.observed_at <= now);
    let window = &samples[lo..hi];

    let mut f = Forecast {
        account_id,
        as_of: now,
        remaining: None,
        unit: None,
        observed_at: None,
        rate_per_day: None,
        runway_hours: None,
        exhausts_at: None,
        resets_at: None,
        runs_out_before_reset: None,
        state: ForecastState::Unknown,
        message: String::new(),
        history_hours: 0.0,
        calibrated_with: 0,
        refined_by_logs: None,
        basis: String::new(),
    };
    let Some(latest) = window.iter().rev().find(|s| level_of(s, budget).is_some()) else {
        f.message = match window.last() {
            None => "no balance reading yet".into(),
            Some(s) if s.used.is_some() => {
                "spend is known but not what is left: set a budget for this account".into()
            }
            Some(_) => "the provider reports no remaining amount".into(),
        };
        return f;
    };
    let remaining = level_of(latest, budget).unwrap_or(0.0);
    f.remaining = Some(remaining);
    f.unit = Some(latest.unit.clone());
    f.observed_at = Some(latest.observed_at);
    f.resets_at = latest.resets_at.filter(|r| *r > now);

    // Readings in the latest sample's unit only: a currency switch starts a new history.
    let readings: Vec<series::Reading> = window
        .iter()
        .filter(|s| s.unit == latest.unit && s.observed_at <= latest.observed_at)
        .filter_map(|s| {
            Some(series::Reading {
                at: s.observed_at.timestamp(),
                level: level_of(s, budget)?,
            })
        })
        .collect();
    let first_at = readings
        .first()
        .map_or(latest.observed_at.timestamp(), |r| r.at);
    f.history_hours = (latest.observed_at.timestamp() - first_at) as f64 / 3600.0;

    if remaining <= 0.0 {
        f.state = ForecastState::OutOfCredit;
        f.runway_hours = Some(RunwayHours {
            p10: 0.0,
            p50: 0.0,
            p90: 0.0,
        });
        f.exhausts_at = Some(latest.observed_at);
        f.message = "out of credit: top up to resume".into();
        return f;
    }
    // The logs in the history window, oldest first, in the seconds the series works in.
    // Sorted usage (what the store returns) is cut to the window by binary search: a year of
    // records would otherwise be filtered one by one for every forecast.
    let usage = if usage.windows(2).all(|w| w[0].at <= w[1].at) {
        &usage[usage.partition_point(|u| u.at < from)..usage.partition_point(|u| u.at <= now)]
    } else {
        usage
    };
    let mut logged: Vec<series::Usage> = usage
        .iter()
        .filter(|u| u.at >= from && u.at <= now && u.weight.is_finite() && u.weight > 0.0)
        .map(|u| series::Usage {
            at: u.at.timestamp(),
            weight: u.weight,
        })
        .collect();
    if !logged.windows(2).all(|w| w[0].at <= w[1].at) {
        logged.sort_by_key(|u| u.at);
    }
    let index = series::UsageIndex::new(&logged);
    let log_ratio = fit_log_ratio(&readings, &index);
    // A lagging balance: each reading is the balance as of `lag_s` before it was taken.
    let lag_s = log_ratio.map_or(0, |l| l.lag_s);
    let readings: Vec<series::Reading> = if lag_s > 0 {
        readings
            .iter()
            .map(|r| series::Reading {
                at: r.at - lag_s,
                level: r.level,
            })
            .collect()
    } else {
        readings
    };
    let mut hourly = match log_ratio {
        Some(_) => series::hourly_with_usage(&readings, &index),
        None => series::hourly(&readings),
    };
    if let Some(h) = &mut hourly {
        series::fill_dead(h, &readings);
    }
    // Spend the logs saw after the latest reading: what is left now, not at the reading.
    let mut left = remaining;
    if let (Some(LogRatio { ratio, .. }), Some(h)) = (log_ratio, &mut hourly) {
        let latest_at = latest.observed_at.timestamp() - lag_s;
        left -= ratio * index.weight(latest_at + 1, now.timestamp() + 1);
        series::extend_with_usage(h, &index, ratio, now.timestamp());
        f.refined_by_logs = Some(index.records(from.timestamp(), now.timestamp() + 1).len() as u32);
    }
    if let Some(h) = &hourly {
        if f.history_hours >= 1.0 {
            let total: f64 = h.spend.iter().sum();
            f.rate_per_day = Some(total / h.spend.len().max(1) as f64 * 24.0);
        }
    }
    if f.history_hours < MIN_HISTORY_HOURS {
        let more = (MIN_HISTORY_HOURS - f.history_hours).ceil().max(1.0);
        f.state = ForecastState::Learning;
        f.message = format!("learning: {more:.0} more hours of readings needed for a forecast");
        return f;
    }
    let Some(h) = hourly else { return f };
    if left <= 0.0 {
        // The logs show more spent since the latest reading than it said was left.
        f.state = ForecastState::Ok;
        f.runway_hours = Some(RunwayHours {
            p10: 0.0,
            p50: 0.0,
            p90: 0.0,
        });
        f.exhausts_at = Some(now);
        f.message = "the requests logged since the latest reading have likely spent what was \
                     left: expect out of credit"
            .into();
        return f;
    }
    let outlook = engine::outlook(&h.spend, h.start_how(), left, params);
    f.rate_per_day = Some(outlook.level_per_hour * 24.0);
    f.calibrated_with = outlook.calibrated_with as u32;
    // The engine counts from the end of the last full hour; the answer counts from `now`.
    let series_end = h.start + Duration::hours(h.spend.len() as i64);
    let lag = (now - series_end).num_seconds() as f64 / 3600.0;
    let r = outlook.runway;
    if !r.p50.is_finite() || r.p50 - lag > IDLE_AFTER_HOURS {
        f.state = ForecastState::Idle;
        f.message = "idle: more than 30 days left at the current rate".into();
        if let Some(reset) = f.resets_at {
            f.runs_out_before_reset = Some(false);
            f.message
                .push_str(&format!("; lasts until the reset on {}", day(reset)));
        }
        return f;
    }
    let runway = RunwayHours {
        p10: (r.p10 - lag).max(0.0),
        p50: (r.p50 - lag).max(0.0),
        p90: if r.p90.is_finite() {
            (r.p90 - lag).max(0.0)
        } else {
            f64::INFINITY
        },
    };
    f.exhausts_at = Some(now + Duration::seconds((runway.p50 * 3600.0) as i64));
    f.state = ForecastState::Ok;
    f.message = runway_words(&runway);
    if let Some(reset) = f.resets_at {
        let hours_to_reset = (reset - now).num_seconds() as f64 / 3600.0;
        f.runs_out_before_reset = Some(runway.p50 < hours_to_reset);
        let verdict = if runway.p90 < hours_to_reset {
            "runs out before the reset"
        } else if runway.p10 >= hours_to_reset {
            "lasts until the reset"
        } else if runway.p50 < hours_to_reset {
            "likely runs out before the reset"
        } else {
            "may run out before the reset"
        };
        f.message = format!("{}; {verdict} on {}", f.message, day(reset));
    }
    if !runway.p90.is_finite() {
        f.runway_hours = Some(RunwayHours {
            p90: IDLE_AFTER_HOURS,
            ..runway
        });
    } else {
        f.runway_hours = Some(runway);
    }
    f
}

fn level_of(s: &BalanceSample, budget: Option<f64>) -> Option<f64> {
    series::level_of(s, budget)
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A runway in plain words: "~14 h left, between 9 and 20 h", "~3.5 days left, between 2 and
/// 5 days". Hours up to two days, days beyond.
pub fn runway_words(r: &RunwayHours) -> String {
    let (unit, lo, mid, hi) = runway_figures(r);
    if lo == hi {
        format!("~{mid} {unit} left")
    } else {
        format!("~{mid} {unit} left, between {lo} and {hi} {unit}")
    }
}

/// The median alone: "~14 h left", "~3.5 days left".
pub fn runway_headline(r: &RunwayHours) -> String {
    let (unit, _, mid, _) = runway_figures(r);
    format!("~{mid} {unit} left")
}

/// The unit and the P10, P50 and P90 as [`runway_words`] writes them.
fn runway_figures(r: &RunwayHours) -> (&'static str, String, String, String) {
    let days = r.p50 >= 48.0;
    let fmt = |h: f64| -> String {
        if !h.is_finite() || h > IDLE_AFTER_HOURS {
            return "over 30".into();
        }
        if days {
            let d = h / 24.0;
            if d < 10.0 {
                format!("{:.1}", d).trim_end_matches(".0").to_owned()
            } else {
                format!("{d:.0}")
            }
        } else if h < 1.0 {
            "<1".into()
        } else {
            format!("{h:.0}")
        }
    };
    let unit = if days { "days" } else { "h" };
    (unit, fmt(r.p10), fmt(r.p50), fmt(r.p90))
}

impl Forecast {
    /// The forecast in a few words, for tight places such as the tray menu: "~14 h left",
    /// "learning", "over 30 days left", "out of credit". [`Forecast::message`] says the rest.
    pub fn headline(&self) -> String {
        match (self.state, self.runway_hours) {
            (ForecastState::OutOfCredit, _) => "out of credit".into(),
            (ForecastState::Learning, _) => "learning".into(),
            (ForecastState::Idle, _) => "over 30 days left".into(),
            (ForecastState::Ok, Some(r)) => runway_headline(&r),
            _ => self.message.clone(),
        }
    }
}

/// Forecasts one account from the store, with the readings and the logged requests up to
/// `now` (so a past `now` is a backtest: `forecast --as-of`).
pub async fn for_account(
    pool: &SqlitePool,
    account_id: AccountId,
    now: DateTime<Utc>,
) -> Result<Forecast> {
    let account = db::accounts::get(pool, account_id).await?.account;
    let from = now - Duration::days(HISTORY_DAYS);
    let usage = db::usage_records::costs_between(pool, Some(account_id), from, now).await?;
    let usage = usage_signals(usage.iter().map(|(_, at, cost)| (*at, *cost)));
    forecast_stored(pool, &account, &usage, now).await
}

/// Forecasts every account, in label order. The logged requests of all accounts are read in
/// one query (one per account would scan the time index 200 times).
pub async fn for_all(pool: &SqlitePool, now: DateTime<Utc>) -> Result<Vec<Forecast>> {
    let from = now - Duration::days(HISTORY_DAYS);
    let mut by_account: HashMap<AccountId, Vec<LoggedCost>> = HashMap::new();
    for (id, at, cost) in db::usage_records::costs_between(pool, None, from, now).await? {
        by_account.entry(id).or_default().push((at, cost));
    }
    let mut out = Vec::new();
    for stored in db::accounts::list(pool).await? {
        let rows = by_account.remove(&stored.account.id).unwrap_or_default();
        let usage = usage_signals(rows.into_iter());
        out.push(forecast_stored(pool, &stored.account, &usage, now).await?);
    }
    Ok(out)
}

/// When a request was logged and its cost, if the log said.
type LoggedCost = (DateTime<Utc>, Option<f64>);

/// Weighs logged requests: by cost when every one of them has a cost, else 1 per request. A
/// mix would add dollars to request counts; the ratio to the balance needs one unit.
pub fn usage_signals(rows: impl Iterator<Item = LoggedCost> + Clone) -> Vec<UsageSignal> {
    let all_costed = rows.clone().all(|(_, c)| c.is_some_and(|c| c.is_finite()));
    rows.map(|(at, cost)| UsageSignal {
        at,
        weight: if all_costed { cost.unwrap_or(1.0) } else { 1.0 },
    })
    .collect()
}

async fn forecast_stored(
    pool: &SqlitePool,
    account: &Account,
    usage: &[UsageSignal],
    now: DateTime<Utc>,
) -> Result<Forecast> {
    let samples =
        db::balance_samples::since(pool, account.id, now - Duration::days(HISTORY_DAYS)).await?;
    let mut f = from_samples_and_usage(account.id, &samples, usage, account.budget, now);
    // The provider said "out of credit" (a 402 at the last poll) after the latest reading.
    let said_out = account.state == AccountState::OutOfCredit
        && account.updated_at <= now
        && f.observed_at.is_none_or(|o| o <= account.updated_at);
    if said_out && f.state != ForecastState::OutOfCredit {
        f.state = ForecastState::OutOfCredit;
        f.runway_hours = Some(RunwayHours {
            p10: 0.0,
            p50: 0.0,
            p90: 0.0,
        });
        f.exhausts_at = Some(account.updated_at);
        f.message = "out of credit (the provider refused a request): top up to resume".into();
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rstest::rstest;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap()
    }

    fn sample(min: i64, remaining: f64) -> BalanceSample {
        db::test_rows::usd(AccountId(1), t0() + Duration::minutes(min), remaining)
    }

    /// Readings every `step` minutes for `hours`, spending `per_hour`, starting at `start`.
    fn draining(hours: i64, step: i64, start: f64, per_hour: f64) -> Vec<BalanceSample> {
        (0..=hours * 60 / step)
            .map(|i| sample(i * step, start - per_hour * (i * step) as f64 / 60.0))
            .collect()
    }

    #[test]
    fn steady_spend_gives_the_obvious_runway() {
        let s = draining(21 * 24, 5, 1000.0, 1.0);
        let now = s.last().unwrap().observed_at;
        let f = from_samples(AccountId(1), &s, None, now);
        assert_eq!(f.state, ForecastState::Ok, "{}", f.message);
        let r = f.runway_hours.unwrap();
        // 1000 − 504 = 496 left at 1/h.
        assert!((r.p50 - 496.0).abs() < 6.0, "496 h expected, got {r:?}");
        assert!((f.rate_per_day.unwrap() - 24.0).abs() < 0.5, "24 per day");
        assert!(f.exhausts_at.unwrap() > now, "exhaustion is in the future");
    }

    /// The forecast says what it stands on: a few days of readings leave the band widened by
    /// the prior; weeks of them check it against the key's own past forecasts.
    #[test]
    fn the_forecast_says_how_much_history_its_band_stands_on() {
        let short = draining(3 * 24, 15, 200.0, 1.0);
        let f = from_samples(
            AccountId(1),
            &short,
            None,
            short.last().unwrap().observed_at,
        );
        assert_eq!(f.state, ForecastState::Ok, "{}", f.message);
        assert!(
            f.basis.starts_with("from 3 days of readings; band widened"),
            "{}",
            f.basis
        );
        let long = draining(40 * 24, 15, 1100.0, 1.0);
        let f = from_samples(AccountId(1), &long, None, long.last().unwrap().observed_at);
        assert!(f.calibrated_with >= 20, "{}", f.calibrated_with);
        assert_eq!(
            f.basis,
            format!(
                "from 40 days of readings; band checked against {} past forecasts",
                f.calibrated_with
            )
        );
        assert_eq!(
            from_samples(AccountId(1), &[], None, t0()).basis,
            "",
            "nothing to stand on, nothing said"
        );
    }

    #[test]
    fn irregular_readings_and_top_ups_are_handled() {
        // Readings at uneven gaps (5 min to 7 h) and a top-up in the middle.
        let mut s = Vec::new();
        let mut min = 0;
        let mut level = 3000.0;
        let mut i = 0;
        while min < 20 * 24 * 60 {
            s.push(sample(min, level));
            let gap = [5, 60, 420, 17, 90][i % 5];
            level -= 2.0 * gap as f64 / 60.0;
            if i == 40 {
                level += 300.0;
            }
            min += gap;
            i += 1;
        }
        let now = s.last().unwrap().observed_at;
        let f = from_samples(AccountId(1), &s, None, now);
        let rate = f.rate_per_day.unwrap();
        assert!(
            (rate - 48.0).abs() < 2.0,
            "2/h whatever the spacing; the top-up is not spend: {rate}"
        );
    }

    #[rstest]
    #[case::no_readings(vec![], ForecastState::Unknown, "no balance reading")]
    #[case::too_little_history(draining(5, 5, 10.0, 0.5), ForecastState::Learning, "19 more hours")]
    #[case::empty(vec![sample(0, 3.0), sample(60, 0.0)], ForecastState::OutOfCredit, "out of credit")]
    #[case::idle(draining(48, 5, 10.0, 0.0), ForecastState::Idle, "more than 30 days")]
    #[case::slow(draining(72, 5, 100.0, 0.01), ForecastState::Idle, "more than 30 days")]
    fn honest_states(
        #[case] samples: Vec<BalanceSample>,
        #[case] state: ForecastState,
        #[case] words: &str,
    ) {
        let now = samples.last().map_or(t0(), |s| s.observed_at);
        let f = from_samples(AccountId(1), &samples, None, now);
        assert_eq!(f.state, state, "{}", f.message);
        assert!(
            f.message.contains(words),
            "message `{}` should say `{words}`",
            f.message
        );
        if matches!(
            state,
            ForecastState::Learning | ForecastState::Idle | ForecastState::Unknown
        ) {
            assert!(
                f.runway_hours.is_none(),
                "no number when the honest answer is not a number"
            );
        }
    }

    #[test]
    fn readings_after_as_of_are_not_seen() {
        let s = draining(30 * 24, 30, 2000.0, 1.0);
        let as_of = t0() + Duration::days(20);
        let f = from_samples(AccountId(1), &s, None, as_of);
        assert_eq!(
            f.observed_at,
            Some(as_of),
            "the latest reading at or before --as-of"
        );
        assert_eq!(
            f.remaining,
            Some(2000.0 - 480.0),
            "the balance as it was then"
        );
    }

    #[rstest]
    #[case::before(20.0, Some(true), "runs out before the reset")]
    #[case::after(0.2, Some(false), "lasts until the reset")]
    fn resetting_quota_asks_whether_it_runs_out_before_the_reset(
        #[case] per_hour: f64,
        #[case] before: Option<bool>,
        #[case] words: &str,
    ) {
        let mut s = draining(10 * 24, 10, 5000.0, per_hour);
        let now = s.last().unwrap().observed_at;
        for x in &mut s {
            x.resets_at = Some(now + Duration::days(5));
        }
        let f = from_samples(AccountId(1), &s, None, now);
        assert_eq!(f.runs_out_before_reset, before, "{}", f.message);
        assert!(
            f.message.contains(words),
            "`{}` should say `{words}`",
            f.message
        );
    }

    #[test]
    fn spend_only_accounts_use_the_budget() {
        let s: Vec<_> = (0..=48 * 12)
            .map(|i| BalanceSample {
                remaining: None,
                used: Some(i as f64 * 0.1),
                ..sample(i * 5, 0.0)
            })
            .collect();
        let now = s.last().unwrap().observed_at;
        let without = from_samples(AccountId(1), &s, None, now);
        assert_eq!(
            without.state,
            ForecastState::Unknown,
            "no budget, no remaining"
        );
        assert!(
            without.message.contains("budget"),
            "it says what to do: {}",
            without.message
        );
        let with = from_samples(AccountId(1), &s, Some(100.0), now);
        assert_eq!(with.remaining, Some(100.0 - 57.6), "budget − spend");
        assert_eq!(with.state, ForecastState::Ok, "{}", with.message);
    }

    /// One logged request every `every_min` minutes over `[from_min, to_min)`, each weighing
    /// `weight`.
    fn logged(from_min: i64, to_min: i64, every_min: i64, weight: f64) -> Vec<UsageSignal> {
        (from_min..to_min)
            .step_by(every_min as usize)
            .map(|m| UsageSignal {
                at: t0() + Duration::minutes(m),
                weight,
            })
            .collect()
    }

    fn series_of(samples: &[BalanceSample]) -> Vec<series::Reading> {
        samples
            .iter()
            .map(|s| series::Reading {
                at: s.observed_at.timestamp(),
                level: s.remaining.unwrap(),
            })
            .collect()
    }

    #[test]
    fn the_log_ratio_is_balance_spent_over_log_weight() {
        // 1 per hour leaves the balance; the log sees a request every 12 min (5 per hour).
        let s = draining(10 * 24, 5, 1000.0, 1.0);
        let usage: Vec<_> = logged(0, 10 * 24 * 60, 12, 1.0)
            .iter()
            .map(|u| series::Usage {
                at: u.at.timestamp(),
                weight: u.weight,
            })
            .collect();
        let fit = fit_log_ratio(&series_of(&s), &series::UsageIndex::new(&usage)).unwrap();
        assert!(
            (fit.ratio - 0.2).abs() < 0.005,
            "1 balance unit per 5 logged requests, got {}",
            fit.ratio
        );
    }

    #[test]
    fn a_lagging_balance_is_lined_up_with_the_logs() {
        // Bursty spend (every fifth hour 6× busier), a balance that reports what was left 90
        // minutes before each 5-minute poll, and a log with every request at weight 2.
        let spend = |slot: i64| if (slot / 12) % 5 == 0 { 0.6 } else { 0.1 };
        let slots = 4 * 24 * 12;
        let mut cum = vec![0.0];
        for k in 0..slots {
            cum.push(cum[k as usize] + spend(k));
        }
        let readings: Vec<series::Reading> = (18..slots)
            .map(|k| series::Reading {
                at: t0().timestamp() + k * 300,
                level: 1000.0 - cum[(k - 18) as usize],
            })
            .collect();
        let usage: Vec<series::Usage> = (0..slots)
            .map(|k| series::Usage {
                at: t0().timestamp() + k * 300 + 60,
                weight: 2.0 * spend(k),
            })
            .collect();
        let fit = fit_log_ratio(&readings, &series::UsageIndex::new(&usage)).unwrap();
        assert_eq!(fit.lag_s, 90 * 60, "the reporting lag is found");
        assert!((fit.ratio - 0.5).abs() < 0.02, "{}", fit.ratio);
        let on_time: Vec<_> = readings
            .iter()
            .map(|r| series::Reading {
                at: r.at - 90 * 60,
                ..*r
            })
            .collect();
        let fit = fit_log_ratio(&on_time, &series::UsageIndex::new(&usage)).unwrap();
        assert_eq!(fit.lag_s, 0, "a balance on time has no lag");
    }

    #[test]
    fn spend_logged_after_the_latest_reading_lowers_what_is_left() {
        // 21 days at 1 per hour, readings stop (a lagging or failing poll), and the logs show 10
        // more hours at 3 per hour (a request every 4 min weighing 0.2 = ratio 1).
        let s = draining(21 * 24, 5, 1000.0, 1.0);
        let last = 21 * 24 * 60;
        let mut usage = logged(0, last, 12, 0.2);
        usage.extend(logged(last, last + 600, 4, 0.2));
        let now = t0() + Duration::minutes(last + 600);
        let plain = from_samples(AccountId(1), &s, None, now);
        let refined = from_samples_and_usage(AccountId(1), &s, &usage, None, now);
        let (p, r) = (plain.runway_hours.unwrap(), refined.runway_hours.unwrap());
        // 496 left at the reading; 10 h later the balance alone assumes 10 were spent (486),
        // the logs say 30 were (466; a little less as the burst also lifts the rate ~4 %).
        assert!((p.p50 - 486.0).abs() < 8.0, "balance only: {p:?}");
        assert!(
            r.p50 > 440.0 && r.p50 < 470.0,
            "the logged spend is taken off: {r:?}"
        );
        assert!(
            refined.refined_by_logs.unwrap() > 2000,
            "the forecast says the logs refined it"
        );
        assert_eq!(plain.refined_by_logs, None, "no logs, no refinement");
        assert_eq!(
            refined.remaining, plain.remaining,
            "`remaining` stays what the latest reading said"
        );
    }

    #[test]
    fn logs_spent_past_what_was_left_say_it_is_gone() {
        let s = draining(3 * 24, 5, 80.0, 1.0);
        let last = 3 * 24 * 60;
        let mut usage = logged(0, last, 60, 1.0);
        // 8 left at the reading; 12 requests at 1 each since.
        usage.extend(logged(last, last + 120, 10, 1.0));
        let now = t0() + Duration::minutes(last + 120);
        let f = from_samples_and_usage(AccountId(1), &s, &usage, None, now);
        assert_eq!(f.runway_hours.map(|r| r.p90), Some(0.0), "{}", f.message);
        assert!(f.message.contains("likely spent"), "{}", f.message);
    }

    #[rstest]
    #[case::too_short_an_overlap(logged(21 * 24 * 60 - 600, 21 * 24 * 60, 1, 1.0))]
    #[case::too_few_records(logged(0, 21 * 24 * 60, 24 * 60, 1.0))]
    #[case::no_logs(vec![])]
    #[case::a_log_that_stopped_three_days_ago(logged(0, 18 * 24 * 60, 5, 1.0))]
    #[case::a_log_whose_share_fell_tenfold({
        let mut u = logged(0, 17 * 24 * 60, 5, 1.0);
        u.extend(logged(17 * 24 * 60, 21 * 24 * 60, 5, 0.1));
        u
    })]
    fn logs_that_overlap_too_little_or_lose_pace_are_ignored(#[case] usage: Vec<UsageSignal>) {
        // The overlap case: 10 h of logs (< 24 h). The few-records case: one a day (< 20 in
        // the last week).
        let s = draining(21 * 24, 5, 1000.0, 1.0);
        let now = s.last().unwrap().observed_at + Duration::minutes(30);
        let plain = from_samples(AccountId(1), &s, None, now);
        let refined = from_samples_and_usage(AccountId(1), &s, &usage, None, now);
        assert_eq!(refined, plain, "unusable logs change nothing");
        assert_eq!(refined.refined_by_logs, None);
    }

    #[test]
    fn hours_at_zero_do_not_drag_the_rate_down() {
        // 2 per hour from 500: empty after 250 h, dead for 72 h, topped up to 500, then 182 h
        // more. Counting the dead hours as "nothing spent" would give ~42 a day.
        let mut s = Vec::new();
        let mut level = 500.0;
        let mut dead_for = 0;
        for i in 0..=(21 * 24 * 12) {
            s.push(sample(i * 5, level));
            if level <= 0.0 {
                dead_for += 5;
                if dead_for >= 72 * 60 {
                    level = 500.0;
                }
            } else {
                level = (level - 2.0 / 12.0_f64).max(0.0);
            }
        }
        let now = s.last().unwrap().observed_at;
        let f = from_samples(AccountId(1), &s, None, now);
        let rate = f.rate_per_day.unwrap();
        assert!(
            (rate - 48.0).abs() < 2.0,
            "dead hours are unknown demand, not zero spend: {rate} per day"
        );
    }

    #[test]
    fn logs_weigh_by_cost_only_when_every_record_has_one() {
        let at = t0();
        let costed = usage_signals([(at, Some(0.5)), (at, Some(2.0))].into_iter());
        assert_eq!(costed.iter().map(|u| u.weight).sum::<f64>(), 2.5, "by cost");
        let mixed = usage_signals([(at, Some(0.5)), (at, None)].into_iter());
        assert_eq!(
            mixed.iter().map(|u| u.weight).sum::<f64>(),
            2.0,
            "a mix of dollars and requests would not add up: 1 per request"
        );
    }

    #[tokio::test]
    async fn for_account_and_for_all_read_the_linked_logs() {
        let db = crate::db::open_in_memory().await.unwrap();
        let id = db::test_rows::openrouter_account(&db, t0()).await;
        let samples = draining(3 * 24, 60, 500.0, 1.0).into_iter().map(|mut x| {
            x.account_id = id;
            x
        });
        db::test_rows::store(&db, samples).await;
        let mut c = db.acquire().await.unwrap();
        for (i, u) in logged(0, 3 * 24 * 60 + 300, 30, 1.0).iter().enumerate() {
            let r = crate::model::UsageRecord {
                account_id: Some(id),
                source_id: None,
                occurred_at: u.at,
                provider: "openrouter".into(),
                model: None,
                input_tokens: 0,
                output_tokens: 0,
                cache_creation_tokens: 0,
                cache_read_tokens: 0,
                reasoning_tokens: 0,
                cost: None,
                currency: None,
                host: None,
                protocol: None,
                dedupe_key: format!("r{i}"),
            };
            db::usage_records::upsert(&mut c, &r).await.unwrap();
        }
        drop(c);
        let now = t0() + Duration::minutes(3 * 24 * 60 + 300);
        let one = for_account(&db, id, now).await.unwrap();
        assert!(
            one.refined_by_logs.is_some_and(|n| n >= 140),
            "the account's linked records refine its forecast: {one:?}"
        );
        let all = for_all(&db, now).await.unwrap();
        assert_eq!(
            all,
            vec![one],
            "for_all reads the same records in one query"
        );
    }

    #[rstest]
    #[case(RunwayHours { p10: 9.2, p50: 14.4, p90: 20.1 }, "~14 h left, between 9 and 20 h")]
    #[case(RunwayHours { p10: 48.0, p50: 84.0, p90: 120.0 }, "~3.5 days left, between 2 and 5 days")]
    #[case(RunwayHours { p10: 0.2, p50: 0.6, p90: 0.9 }, "~<1 h left")]
    #[case(RunwayHours { p10: 300.0, p50: 400.0, p90: 2000.0 }, "~17 days left, between 12 and over 30 days")]
    fn runway_in_plain_words(#[case] r: RunwayHours, #[case] words: &str) {
        assert_eq!(runway_words(&r), words);
        assert!(
            words.starts_with(&runway_headline(&r)),
            "the headline is the words' first part"
        );
    }

    #[test]
    fn the_headline_is_a_few_words_per_state() {
        let s = draining(3 * 24, 60, 100.0, 1.0);
        let ok = from_samples(AccountId(1), &s, None, s.last().unwrap().observed_at);
        assert_eq!(ok.state, ForecastState::Ok);
        assert!(
            ok.message.starts_with(&ok.headline()) && ok.headline().ends_with(" left"),
            "{} / {}",
            ok.headline(),
            ok.message
        );
        let learning = from_samples(AccountId(1), &s[..3], None, s[2].observed_at);
        assert_eq!(learning.headline(), "learning");
        let dry = draining(3 * 24, 60, 72.0, 1.0);
        let out = from_samples(AccountId(1), &dry, None, dry.last().unwrap().observed_at);
        assert_eq!(out.headline(), "out of credit");
        let none = from_samples(AccountId(1), &[], None, t0());
        assert_eq!(
            none.headline(),
            none.message,
            "unknown: the message says why"
        );
    }
}
