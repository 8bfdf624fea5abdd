//! From stored balance readings to an hourly spend series the engine can read.
//!
//! Readings come at any spacing (5 min polls, a day-long gap while the laptop slept, a CSV of
//! daily exports). Spend between two readings is the fall of the balance, spread evenly over the
//! time between them; a rise is a top-up or a period reset and is never negative spend.
//!
//! Two refinements on top (see `forecast::from_samples_and_usage`): requests seen in local logs
//! place each fall where the requests were ([`hourly_with_usage`]) and carry the series past
//! the latest reading ([`extend_with_usage`]); hours when the balance sat at zero are not
//! "nothing spent" but unknown, and are filled with what that hour usually spends
//! ([`fill_dead`]).

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
        spread(&mut spend, start, a.at.max(start), b.at.min(end), per_s);
    }
    Some(Hourly {
        start: DateTime::from_timestamp(start, 0)?,
        spend,
    })
}

/// A request seen in a log, as the forecast reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Seconds since the Unix epoch.
    pub at: i64,
    /// Its cost, or 1 per request: a calibrated ratio turns it into balance units.
    pub weight: f64,
}

/// Usage sorted by time with prefix sums of the weights: any window's weight in O(log n).
#[derive(Debug, Clone)]
pub struct UsageIndex<'a> {
    usage: &'a [Usage],
    prefix: Vec<f64>,
}

impl<'a> UsageIndex<'a> {
    /// `usage` must be sorted by time.
    pub fn new(usage: &'a [Usage]) -> Self {
        let mut prefix = Vec::with_capacity(usage.len() + 1);
        let mut acc = 0.0;
        prefix.push(0.0);
        for u in usage {
            acc += u.weight;
            prefix.push(acc);
        }
        UsageIndex { usage, prefix }
    }

    fn index(&self, t: i64) -> usize {
        self.usage.partition_point(|u| u.at < t)
    }

    /// Total weight of the requests in `[from, to)`.
    pub fn weight(&self, from: i64, to: i64) -> f64 {
        if to <= from {
            return 0.0;
        }
        self.prefix[self.index(to)] - self.prefix[self.index(from)]
    }

    /// The requests in `[from, to)`.
    pub fn records(&self, from: i64, to: i64) -> &'a [Usage] {
        if to <= from {
            return &[];
        }
        &self.usage[self.index(from)..self.index(to)]
    }

    pub fn first_at(&self) -> Option<i64> {
        self.usage.first().map(|u| u.at)
    }
}

/// A flat run of readings (rounded balances that did not move) is merged with the fall that
/// ends it, so that fall can be placed on the requests of the whole run, but never over more
/// than this: a balance that sat still for half a day while requests were logged disagrees
/// with the logs, and the fall belongs to the last hours.
const MAX_MERGE_S: i64 = 6 * HOUR_S;

/// [`hourly`], with each fall placed on the hours in proportion to the weight of the logged
/// requests between the two readings (and the flat run of equal readings before them, up to
/// [`MAX_MERGE_S`]): timing where readings are coarse. A fall with no logged request in its
/// span is spread evenly, as in [`hourly`].
pub fn hourly_with_usage(readings: &[Reading], usage: &UsageIndex) -> Option<Hourly> {
    let first = readings.first()?;
    let last = readings.last()?;
    let start = first.at.div_euclid(HOUR_S) * HOUR_S;
    let end = last.at.div_euclid(HOUR_S) * HOUR_S;
    let bins = ((end - start) / HOUR_S) as usize;
    let mut spend = vec![0.0; bins];
    let mut run_start = 0;
    // Both ends of the span only move forward: two cursors instead of binary searches (a
    // 6-week history holds 12 000 five-minute intervals).
    let (mut lo, mut hi) = (0, 0);
    let records = usage.usage;
    for i in 0..readings.len().saturating_sub(1) {
        let (a, b) = (readings[i], readings[i + 1]);
        if i > 0 && readings[i - 1].level != a.level {
            run_start = i;
        }
        let spent = a.level - b.level;
        if spent <= 0.0 || b.at <= a.at {
            continue;
        }
        let from = readings[run_start].at.max(a.at - MAX_MERGE_S);
        while lo < records.len() && records[lo].at < from {
            lo += 1;
        }
        hi = hi.max(lo);
        while hi < records.len() && records[hi].at < b.at {
            hi += 1;
        }
        let weight = usage.prefix[hi] - usage.prefix[lo];
        if weight > 0.0 {
            for u in &records[lo..hi] {
                if u.at >= start && u.at < end {
                    spend[((u.at - start) / HOUR_S) as usize] += spent * u.weight / weight;
                }
            }
        } else {
            spread(
                &mut spend,
                start,
                a.at.max(start),
                b.at.min(end),
                spent / (b.at - a.at) as f64,
            );
        }
    }
    Some(Hourly {
        start: DateTime::from_timestamp(start, 0)?,
        spend,
    })
}

fn spread(spend: &mut [f64], start: i64, from: i64, stop: i64, per_s: f64) {
    let mut t = from;
    while t < stop {
        let bin = ((t - start) / HOUR_S) as usize;
        let bin_end = (start + (bin as i64 + 1) * HOUR_S).min(stop);
        spend[bin] += per_s * (bin_end - t) as f64;
        t = bin_end;
    }
}

/// Carries the series on to the last full hour before `until` with the logged weight of each
/// hour times `ratio` (balance units per unit of log weight). The hour of the latest reading,
/// which [`hourly`] leaves out as unfinished, is counted whole from the logs too. Returns how
/// many hours were added.
pub fn extend_with_usage(h: &mut Hourly, usage: &UsageIndex, ratio: f64, until: i64) -> usize {
    let start = h.start.timestamp();
    let mut bin_start = start + h.spend.len() as i64 * HOUR_S;
    let mut added = 0;
    while bin_start + HOUR_S <= until {
        h.spend
            .push(ratio * usage.weight(bin_start, bin_start + HOUR_S));
        bin_start += HOUR_S;
        added += 1;
    }
    added
}

/// Balance spent between `from` and `to` according to the readings: each fall prorated by
/// how much of its interval lies inside; rises (top-ups) count nothing.
pub fn spent_between(readings: &[Reading], from: i64, to: i64) -> f64 {
    let lo = readings.partition_point(|r| r.at <= from).saturating_sub(1);
    let mut total = 0.0;
    for w in readings[lo..].windows(2) {
        let (a, b) = (w[0], w[1]);
        if a.at >= to {
            break;
        }
        let spent = a.level - b.level;
        if spent <= 0.0 || b.at <= a.at {
            continue;
        }
        let overlap = b.at.min(to) - a.at.max(from);
        if overlap > 0 {
            total += spent * overlap as f64 / (b.at - a.at) as f64;
        }
    }
    total
}

/// Marks the hours when the key was dead (from a reading at or below zero until the next
/// reading above it, a top-up or a reset) and replaces their spend, which says nothing about
/// demand, by what the same hour of day spent on the nearest live days (up to a week either
/// side), else by the mean of the live hours within a week. Returns how many hours were filled.
pub fn fill_dead(h: &mut Hourly, readings: &[Reading]) -> usize {
    let n = h.spend.len();
    let start = h.start.timestamp();
    let mut dead = vec![false; n];
    let mut any = false;
    let mut dead_from: Option<i64> = None;
    for r in readings {
        match (dead_from, r.level <= 0.0) {
            (None, true) => dead_from = Some(r.at),
            (Some(from), false) => {
                mark(&mut dead, start, from, r.at);
                any = true;
                dead_from = None;
            }
            _ => {}
        }
    }
    if let (Some(from), Some(last)) = (dead_from, readings.last()) {
        mark(&mut dead, start, from, last.at.max(from + 1));
        any = true;
    }
    if !any {
        return 0;
    }
    let live = |i: usize| !dead[i];
    let mut filled = 0;
    for i in 0..n {
        if live(i) {
            continue;
        }
        let (mut sum, mut cnt) = (0.0, 0u32);
        for k in 1..=7usize {
            for j in [i.checked_sub(k * 24), Some(i + k * 24)]
                .into_iter()
                .flatten()
            {
                if j < n && live(j) {
                    sum += h.spend[j];
                    cnt += 1;
                }
            }
        }
        if cnt == 0 {
            let lo = i.saturating_sub(168);
            let hi = (i + 168).min(n);
            for j in (lo..hi).filter(|&j| live(j)) {
                sum += h.spend[j];
                cnt += 1;
            }
        }
        h.spend[i] = if cnt > 0 { sum / cnt as f64 } else { 0.0 };
        filled += 1;
    }
    filled
}

/// Marks every bin that overlaps `[from, to)`.
fn mark(dead: &mut [bool], start: i64, from: i64, to: i64) {
    if to <= start || dead.is_empty() {
        return;
    }
    let lo = ((from.max(start) - start) / HOUR_S) as usize;
    let hi = ((to - 1 - start) / HOUR_S) as usize;
    for d in dead.iter_mut().take(hi + 1).skip(lo) {
        *d = true;
    }
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

    fn u(min: i64, weight: f64) -> Usage {
        Usage {
            at: r(min, 0.0).at,
            weight,
        }
    }

    #[test]
    fn logs_place_each_fall_on_the_hours_of_its_requests() {
        // A coarse balance: readings 6 h apart, 6 spent. The log saw 3 units of requests in
        // hour 2 and 1 in hour 4.
        let readings = [r(0, 10.0), r(360, 4.0), r(420, 4.0)];
        let logs = [u(130, 2.0), u(150, 1.0), u(250, 1.0)];
        let h = hourly_with_usage(&readings, &UsageIndex::new(&logs)).unwrap();
        assert_eq!(
            h.spend,
            vec![0.0, 0.0, 4.5, 0.0, 1.5, 0.0, 0.0],
            "the fall follows the requests, in proportion to their weight"
        );
        let even = hourly_with_usage(&readings, &UsageIndex::new(&[])).unwrap();
        assert_eq!(
            even.spend,
            hourly(&readings).unwrap().spend,
            "with no logged request in the span the fall is spread evenly"
        );
    }

    #[test]
    fn a_flat_run_of_rounded_readings_shares_the_fall_that_ends_it() {
        // Rounded to 0.01, the balance sat at 9.99 for two hours and then showed 0.01 spent;
        // requests were logged in both hours.
        let readings = [r(0, 9.99), r(60, 9.99), r(120, 9.98), r(180, 9.98)];
        let logs = [u(30, 1.0), u(90, 1.0)];
        let h = hourly_with_usage(&readings, &UsageIndex::new(&logs)).unwrap();
        assert!(
            (h.spend[0] - 0.005).abs() < 1e-9 && (h.spend[1] - 0.005).abs() < 1e-9,
            "half of the 0.01 in each hour, not all in the second: {:?}",
            h.spend
        );
    }

    #[test]
    fn the_series_is_carried_to_now_by_the_logs() {
        let readings = [r(0, 10.0), r(150, 7.5)];
        let mut h = hourly(&readings).unwrap();
        let logs = [u(170, 1.0), u(200, 1.0), u(250, 3.0)];
        let added = extend_with_usage(&mut h, &UsageIndex::new(&logs), 0.5, r(250, 0.0).at);
        assert_eq!(added, 2, "hours 2 and 3 end before 4:10");
        assert_eq!(
            h.spend,
            vec![1.0, 1.0, 0.5, 0.5],
            "logged weight × the ratio; the request at 4:10 is in an unfinished hour"
        );
        assert!(
            (spent_between(&readings, 30 * 60 + r(0, 0.0).at, r(90, 0.0).at) - 1.0).abs() < 1e-9,
            "an hour of a 2.5 h fall of 2.5"
        );
    }

    #[test]
    fn hours_at_zero_are_filled_with_what_that_hour_usually_spends() {
        // Two days at 1 per hour, then (from 48:00) zero for 5 h until a top-up at 53:00.
        let mut readings: Vec<Reading> = (0..=48).map(|h| r(h * 60, 100.0 - h as f64)).collect();
        for h in 48..=52 {
            readings.push(r(h * 60, 0.0));
        }
        readings.push(r(53 * 60, 100.0));
        readings.push(r(54 * 60, 99.0));
        readings.push(r(55 * 60, 98.0));
        // Dead from a reading at 48:00 means the bins 48..53 say nothing.
        readings.iter_mut().for_each(|x| {
            if x.at == r(48 * 60, 0.0).at {
                x.level = 0.0;
            }
        });
        let mut h = hourly(&readings).unwrap();
        assert_eq!(
            h.spend[50], 0.0,
            "before filling, the dead hours read as no spend"
        );
        let filled = fill_dead(&mut h, &readings);
        assert_eq!(filled, 5, "hours 48–52");
        assert!(
            h.spend[48..53].iter().all(|v| (v - 1.0).abs() < 1e-9),
            "the same hours of the days before spent 1: {:?}",
            &h.spend[46..55]
        );
        assert_eq!(h.spend[53], 1.0, "live hours are kept");
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
