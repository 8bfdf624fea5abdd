//! From stored balance readings to an hourly spend series the engine can read.
//!
//! Readings come at any spacing (5 min polls, a day-long gap while the laptop slept, a CSV of
//! daily exports). Spend between two readings is the fall of the balance, spread evenly over the
//! time between them; a rise is a top-up or a period reset and is never negative spend.

use crate::model::BalanceSample;
use chrono::{DateTime, Datelike, Timelike, Utc};

const HOUR_S: i64 = 3600;

/// One reading reduced to what the forecast needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// What is left: `remaining`, or the limit (or the user's budget) minus `used`.
    pub level: f64,
}

/// The amount left according to a sample: the provider's `remaining`, else what is left of its
/// `limit` (or, for spend-only providers, of the user's `budget`) after `used`.
pub fn level_of(s: &BalanceSample, budget: Option<f64>) -> Option<f64> {
    s.remaining
        .or_else(|| Some(s.limit.or(budget)? - s.used?))
        .filter(|v| v.is_finite())
}

/// Hourly spend from `readings` (oldest first): bin `i` covers the hour starting at
/// `start + i h`; the bins run from the hour of the first reading to the last full hour before
/// the last reading.
#[derive(Debug, Clone, PartialEq)]
pub struct Hourly {
    pub start: DateTime<Utc>,
    pub spend: Vec<f64>,
}

impl Hourly {
    /// Hour of week of the first bin (0 = Monday 00:00 UTC).
    pub fn start_how(&self) -> usize {
        self.start.weekday().num_days_from_monday() as usize * 24 + self.start.hour() as usize
    }
}

/// Builds the hourly spend series. A rise between two readings adds nothing (top-up or reset).
pub fn hourly(readings: &[Reading]) -> Option<Hourly> {
    let first = readings.first()?;
    let last = readings.last()?;
    let start = first.at.div_euclid(HOUR_S) * HOUR_S;
    let end = last.at.div_euclid(HOUR_S) * HOUR_S;
    let bins = ((end - start) / HOUR_S) as usize;
    let mut spend = vec![0.0; bins];
    for w in readings.windows(2) {
        let (a, b) = (w[0], w[1]);
        let spent = a.level - b.level;
        if spent <= 0.0 || b.at <= a.at {
            continue;
        }
        // Spread evenly over [a.at, b.at), clipped to the bins kept.
        let per_s = spent / (b.at - a.at) as f64;
        let mut t = a.at.max(start);
        let stop = b.at.min(end);
        while t < stop {
            let bin = ((t - start) / HOUR_S) as usize;
            let bin_end = (start + (bin as i64 + 1) * HOUR_S).min(stop);
            spend[bin] += per_s * (bin_end - t) as f64;
            t = bin_end;
        }
    }
    Some(Hourly {
        start: DateTime::from_timestamp(start, 0)?,
        spend,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: i64, level: f64) -> Reading {
        // 2026-11-16 is a Monday.
        Reading {
            at: 1_794_787_200 + min * 60,
            level,
        }
    }

    #[test]
    fn spend_is_spread_over_the_gap_and_top_ups_add_nothing() {
        let h = hourly(&[
            r(0, 10.0),
            r(120, 8.0),
            r(150, 50.0),
            r(180, 49.0),
            r(185, 49.0),
        ])
        .unwrap();
        assert_eq!(
            h.spend.len(),
            3,
            "bins up to the last full hour before the last reading"
        );
        assert_eq!(h.spend[0], 1.0, "2 spent over 2 h is 1 per hour");
        assert_eq!(h.spend[1], 1.0);
        assert_eq!(
            h.spend[2], 1.0,
            "the top-up at 2:30 is not negative spend; 3:00 fell by 1"
        );
        assert_eq!(h.start_how(), 0, "the first bin is Monday 00:00");
    }

    #[test]
    fn a_used_counter_and_a_budget_give_a_level() {
        use crate::model::{AccountId, Unit};
        let s = BalanceSample {
            account_id: AccountId(1),
            observed_at: DateTime::from_timestamp(0, 0).unwrap(),
            remaining: None,
            limit: None,
            used: Some(30.0),
            unit: Unit::usd(),
            resets_at: None,
            is_topup: false,
        };
        assert_eq!(
            level_of(&s, Some(100.0)),
            Some(70.0),
            "spend-only: budget − spend"
        );
        assert_eq!(level_of(&s, None), None, "no budget, no remaining");
        let q = BalanceSample {
            limit: Some(1000.0),
            ..s
        };
        assert_eq!(
            level_of(&q, Some(100.0)),
            Some(970.0),
            "a quota's limit wins over a budget"
        );
    }
}
