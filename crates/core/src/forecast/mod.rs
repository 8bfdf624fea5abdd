//! Forecasts: when will each account's balance or quota run out, said honestly.
//!
//! [`from_samples`] is the pure heart (readings + `now` in, a [`Forecast`] out); [`for_account`]
//! and [`for_all`] read the store and call it. The model itself lives in [`engine`] and works on
//! the hourly spend series that [`series`] derives from the readings. [`import_balances_csv`]
//! loads a history exported from a provider's dashboard.
//!
//! States: `learning` while less than [`MIN_HISTORY_HOURS`] of history exist ("learning, 5 more
//! hours"), `idle` when the balance would last more than [`IDLE_AFTER_HOURS`] (or nothing is
//! being spent), `out_of_credit` at zero, `ok` otherwise, and `unknown` when no amount can be
//! derived at all (a spend-only account without a budget).

pub mod engine;
mod import;
pub mod series;

pub use import::{import_balances_csv, ImportReport};

use crate::db;
use crate::model::{AccountId, AccountState, BalanceSample, Unit};
use crate::Result;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::SqlitePool;
use ts_rs::TS;

/// Below this much history the forecast says "learning" instead of a number: one day shows at
/// least one daily cycle.
pub const MIN_HISTORY_HOURS: f64 = 24.0;
/// A balance lasting longer than 30 days is "idle": nobody tops up a month ahead.
pub const IDLE_AFTER_HOURS: f64 = 30.0 * 24.0;
/// How much history a forecast reads: the engine's level, profile and calibration need at most
/// six weeks.
pub const HISTORY_DAYS: i64 = 42;

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
    // Past 30 days the answer is "idle" whatever the number: no need to simulate further.
    let params = engine::Params {
        max_hours: IDLE_AFTER_HOURS * 1.5,
        ..engine::Params::default()
    };
    from_samples_with(account_id, samples, budget, now, &params)
}

/// [`from_samples`] with explicit model parameters.
pub fn from_samples_with(
    account_id: AccountId,
    samples: &[BalanceSample],
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
    let hourly = series::hourly(&readings);
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
    let outlook = engine::outlook(&h.spend, h.start_how(), remaining, params);
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
    let (lo, mid, hi) = (fmt(r.p10), fmt(r.p50), fmt(r.p90));
    if lo == hi {
        format!("~{mid} {unit} left")
    } else {
        format!("~{mid} {unit} left, between {lo} and {hi} {unit}")
    }
}

/// Forecasts one account from the store, with the readings up to `now` (so a past `now` is a
/// backtest: `forecast --as-of`).
pub async fn for_account(
    pool: &SqlitePool,
    account_id: AccountId,
    now: DateTime<Utc>,
) -> Result<Forecast> {
    let account = db::accounts::get(pool, account_id).await?.account;
    let samples =
        db::balance_samples::since(pool, account_id, now - Duration::days(HISTORY_DAYS)).await?;
    let mut f = from_samples(account_id, &samples, account.budget, now);
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

/// Forecasts every account, in label order.
pub async fn for_all(pool: &SqlitePool, now: DateTime<Utc>) -> Result<Vec<Forecast>> {
    let mut out = Vec::new();
    for stored in db::accounts::list(pool).await? {
        out.push(for_account(pool, stored.account.id, now).await?);
    }
    Ok(out)
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
        BalanceSample {
            account_id: AccountId(1),
            observed_at: t0() + Duration::minutes(min),
            remaining: Some(remaining),
            limit: None,
            used: None,
            unit: Unit::usd(),
            resets_at: None,
            is_topup: false,
        }
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

    #[rstest]
    #[case(RunwayHours { p10: 9.2, p50: 14.4, p90: 20.1 }, "~14 h left, between 9 and 20 h")]
    #[case(RunwayHours { p10: 48.0, p50: 84.0, p90: 120.0 }, "~3.5 days left, between 2 and 5 days")]
    #[case(RunwayHours { p10: 0.2, p50: 0.6, p90: 0.9 }, "~<1 h left")]
    #[case(RunwayHours { p10: 300.0, p50: 400.0, p90: 2000.0 }, "~17 days left, between 12 and over 30 days")]
    fn runway_in_plain_words(#[case] r: RunwayHours, #[case] words: &str) {
        assert_eq!(runway_words(&r), words);
    }
}
