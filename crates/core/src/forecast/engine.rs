//! The runway model on an hourly spend series: how long until a remaining amount is spent.
//!
//! Competing tools divide the remaining amount by the spend of the last 24 h. On real traffic
//! that is badly wrong (see `crates/bench`): one quiet night or one burst swings it by 2–5×.
//! This model instead
//!
//! 1. learns an hour-of-week *shape* (blended with the hour-of-day shape while fewer weeks are
//!    known) from the last few weeks, with bursts clipped so one spike does not carve a peak,
//! 2. estimates a robust de-seasonalised *level* over a long window with exponential recency
//!    weights (so a step change is followed within days, not weeks),
//! 3. simulates future paths day by day, each day scaled by the ratio of a whole past day drawn
//!    at random (a day-block bootstrap keeps each day's burstiness together),
//! 4. calibrates the path band against the account's own past: at earlier cut-offs whose
//!    outcome is already known, it asks the same question ("when would this amount have been
//!    spent?") and widens, narrows or shifts the band by split-conformal quantiles of the
//!    log errors.
//!
//! Everything is a pure function of the series; nothing here reads a clock or a database.

/// Hours in a week: the period of the seasonal profile.
pub const WEEK: usize = 168;
const DAY: usize = 24;

/// Runways longer than this (90 days) are reported as "never" (`f64::INFINITY`): nobody acts on
/// a forecast that far out, and simulating it costs time.
pub const MAX_RUNWAY_HOURS: f64 = 90.0 * 24.0;

/// Tuning knobs of the model. [`Params::default`] holds the values chosen on the benchmark's
/// *tune* split only (`forecast_bench --tune`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// Half-life of the recency weights of the level, in days.
    pub level_half_life_days: f64,
    /// How far back the level looks, in days.
    pub level_window_days: usize,
    /// How many weeks the seasonal profile is learned from.
    pub profile_weeks: usize,
    /// Weight of the hour-of-week profile is `weeks / (weeks + this)`; the rest is hour-of-day.
    pub profile_shrink_weeks: f64,
    /// Share of the profile pulled toward flat (0 = pure profile, 1 = no seasonality).
    pub profile_flatten: f64,
    /// Hourly values above this multiple of the window's mean are clipped when learning shape.
    pub profile_clip: f64,
    /// How many recent whole days the bootstrap draws from.
    pub bootstrap_days: usize,
    /// Simulated paths per forecast.
    pub paths: usize,
    /// Simulated paths per past forecast in the calibration (only its quantiles are used).
    pub cal_paths: usize,
    /// Paths are followed this far (hours); beyond it the runway is "never" (`INFINITY`).
    pub max_hours: f64,
    /// Spacing of the past cut-offs used for calibration, in hours.
    pub cal_step_hours: usize,
    /// At most this many past forecasts calibrate the band.
    pub cal_max: usize,
    /// Below this many resolved past forecasts the band is widened by a fixed factor instead.
    pub cal_min: usize,
    /// A past cut-off needs at least this much history before it to be used for calibration.
    pub cal_min_history_hours: usize,
    /// Log-scale widening of an uncalibrated band.
    pub uncalibrated_widen: f64,
    /// Pull of the conformal median shift: `m / (m + this)` of the measured shift is applied.
    pub median_shift_shrink: f64,
    /// Nominal coverage of the P10–P90 band.
    pub coverage: f64,
    /// Smallest half-width of the band around P50, in log space (0.2 = ×/÷ 1.22).
    pub band_floor: f64,
    /// A step change: when each of the last [`Params::step_days`] days ran at more than this
    /// multiple (or less than its inverse) of the long-window level, the level restarts from
    /// those days.
    pub step_ratio: f64,
    pub step_days: usize,
    /// The band a key's own past errors are blended with while they are few (a short
    /// history): the conformal widening of each tail is `(m·own + w·prior) / (m + w)` for `m`
    /// past forecasts, so the prior counts as `w` of them and fades as the key's own accumulate.
    /// 0 = the key's own errors only. Below [`Params::cal_min`] the prior is the band.
    pub prior_weight: f64,
    /// The prior's log-scale widening of P10 (early side) and of P90 (late side), for a
    /// runway of [`PRIOR_REFERENCE_HOURS`].
    pub prior_lo: f64,
    pub prior_hi: f64,
    /// How the prior's widening scales with the runway: × `(p50 / 72 h)^this`. A negative
    /// value narrows it for long runways, whose path band already spreads further.
    pub prior_horizon_exp: f64,
}

/// The runway the prior's widening is stated for.
pub const PRIOR_REFERENCE_HOURS: f64 = 72.0;

impl Default for Params {
    fn default() -> Self {
        Params {
            level_half_life_days: 21.0,
            level_window_days: 28,
            profile_weeks: 4,
            profile_shrink_weeks: 0.5,
            profile_flatten: 0.0,
            profile_clip: 3.0,
            bootstrap_days: 14,
            paths: 200,
            cal_paths: 32,
            max_hours: MAX_RUNWAY_HOURS,
            cal_step_hours: 6,
            cal_max: 120,
            cal_min: 3,
            cal_min_history_hours: 2 * DAY,
            uncalibrated_widen: 0.3,
            median_shift_shrink: 1e9,
            coverage: 0.85,
            band_floor: 0.1,
            step_ratio: 2.5,
            step_days: 2,
            prior_weight: 15.0,
            prior_lo: 0.55,
            prior_hi: 0.2,
            prior_horizon_exp: -0.25,
        }
    }
}

/// Time until a remaining amount is spent, in hours from the cut-off, as quantiles.
/// `f64::INFINITY` means "not within [`MAX_RUNWAY_HOURS`]".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Runway {
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// A forecast on an hourly series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outlook {
    pub runway: Runway,
    /// De-seasonalised spend per hour.
    pub level_per_hour: f64,
    /// How many past forecasts calibrated the band (0 = uncalibrated, widened by default).
    pub calibrated_with: usize,
}

/// What the model learned from a history.
#[derive(Debug, Clone)]
struct Fit {
    /// Multiplicative hour-of-week shape, mean 1, indexed by hour of week.
    shape: [f64; WEEK],
    level: f64,
    /// Spend of each recent whole day relative to what level × shape expected.
    day_ratios: Vec<f64>,
}

/// Forecasts when `remaining` is spent, from the hourly spend `x` (oldest first) whose first
/// bin starts at hour-of-week `start_how` (0 = Monday 00:00), calibrated on the series itself.
pub fn outlook(x: &[f64], start_how: usize, remaining: f64, p: &Params) -> Outlook {
    let (raw, level, shape) = raw_runway(x, start_how, remaining, p, p.paths, None);
    let n = x.len();
    if !raw.p50.is_finite() || n == 0 {
        return Outlook {
            runway: raw,
            level_per_hour: level,
            calibrated_with: 0,
        };
    }
    let prefix = prefix_sums(x);
    let step = p.cal_step_hours.max(1);
    let (mut lo, mut hi, mut mid) = (Vec::new(), Vec::new(), Vec::new());
    // A past cut-off whose forecast would not have resolved by now is skipped below; those
    // closer than half the current P10 almost never do, so scanning starts beyond them.
    let skip = ((raw.p10 * 0.5) as usize / step).max(1) * step;
    let mut c = n.saturating_sub(skip);
    // Scanning is bounded too: a 7-month history must not cost 800 past forecasts.
    let mut scanned = 0;
    while c >= p.cal_min_history_hours.max(1) && lo.len() < p.cal_max && scanned < 3 * p.cal_max {
        scanned += 1;
        // The past forecasts reuse today's seasonal shape (learned from data up to now, never
        // after it): refitting it at every past cut-off costs 3× more and changes little.
        let (q, _, _) = raw_runway(&x[..c], start_how, remaining, p, p.cal_paths, Some(&shape));
        // Only cut-offs old enough that the outcome is known whichever way it went: the amount
        // was spent (y is exact) or it was not spent within the past forecast's P90 (a miss on
        // the late side whose size is at least `n - c`). Using only the cut-offs that happen
        // to be resolved would keep the fast-spending ones and bias the band early.
        if q.p10.is_finite() && q.p90.is_finite() && q.p10 > 0.0 && (n - c) as f64 >= q.p90 {
            let y = time_to_spend(&prefix, c, remaining).unwrap_or((n - c) as f64);
            let ly = y.ln();
            lo.push(q.p10.ln() - ly);
            hi.push(ly - q.p90.ln());
            mid.push(ly - q.p50.ln());
        }
        let Some(next) = c.checked_sub(step) else {
            break;
        };
        c = next;
    }
    let m = lo.len();
    let (prior_lo, prior_hi) = prior(p, raw.p50);
    if m < p.cal_min.max(1) {
        let (w_lo, w_hi) = if p.prior_weight > 0.0 {
            (prior_lo.exp(), prior_hi.exp())
        } else {
            (p.uncalibrated_widen.exp(), p.uncalibrated_widen.exp())
        };
        let floor = p.band_floor.exp();
        let runway = Runway {
            p10: (raw.p10 / w_lo).min(raw.p50 / floor),
            p50: raw.p50,
            p90: (raw.p90 * w_hi).max(raw.p50 * floor),
        };
        return Outlook {
            runway,
            level_per_hour: level,
            calibrated_with: 0,
        };
    }
    // Split-conformal: each tail gets (1 - coverage) / 2 of the misses, with the finite-sample
    // correction ceil((m + 1)(1 - a)) / m.
    let tail = (1.0 - p.coverage) / 2.0;
    let level_q = (((m + 1) as f64 * (1.0 - tail)).ceil() / m as f64).min(1.0);
    let blend = |own: f64, prior: f64| {
        (m as f64 * own + p.prior_weight * prior) / (m as f64 + p.prior_weight)
    };
    let q_lo = blend(quantile(&mut lo, level_q), prior_lo);
    let q_hi = blend(quantile(&mut hi, level_q), prior_hi);
    let shift = quantile(&mut mid, 0.5) * m as f64 / (m as f64 + p.median_shift_shrink);
    let p50 = raw.p50 * shift.exp();
    let floor = p.band_floor.exp();
    let p10 = (raw.p10 * (-q_lo).exp()).min(p50 / floor);
    let p90 = (raw.p90 * q_hi.exp()).max(p50 * floor);
    Outlook {
        runway: Runway { p10, p50, p90 },
        level_per_hour: level,
        calibrated_with: m,
    }
}

/// The prior's log-scale widening of (P10, P90) for a runway whose raw P50 is `p50` hours
/// (clamped to 6 h – 90 days, so a near-zero or "never" runway does not blow it up).
fn prior(p: &Params, p50: f64) -> (f64, f64) {
    let h = if p50.is_finite() {
        p50
    } else {
        MAX_RUNWAY_HOURS
    };
    let scale = (h.clamp(6.0, MAX_RUNWAY_HOURS) / PRIOR_REFERENCE_HOURS).powf(p.prior_horizon_exp);
    (p.prior_lo * scale, p.prior_hi * scale)
}

/// The first h (in whole hours) with spend over (c, c + h] ≥ `amount`, if the series reaches it.
pub fn time_to_spend(prefix: &[f64], c: usize, amount: f64) -> Option<f64> {
    let base = prefix[c];
    let target = base + amount;
    let tail = &prefix[c + 1..];
    let i = tail.partition_point(|&v| v < target - 1e-9);
    (i < tail.len()).then(|| (i + 1) as f64)
}

/// `prefix[i]` = sum of `x[..i]`.
pub fn prefix_sums(x: &[f64]) -> Vec<f64> {
    let mut out = Vec::with_capacity(x.len() + 1);
    let mut acc = 0.0;
    out.push(0.0);
    for v in x {
        acc += v;
        out.push(acc);
    }
    out
}

/// The uncalibrated path quantiles and the level.
fn raw_runway(
    x: &[f64],
    start_how: usize,
    remaining: f64,
    p: &Params,
    paths: usize,
    shape: Option<&[f64; WEEK]>,
) -> (Runway, f64, [f64; WEEK]) {
    let never = Runway {
        p10: f64::INFINITY,
        p50: f64::INFINITY,
        p90: f64::INFINITY,
    };
    if remaining <= 0.0 {
        return (
            Runway {
                p10: 0.0,
                p50: 0.0,
                p90: 0.0,
            },
            0.0,
            [1.0; WEEK],
        );
    }
    let Some(fit) = fit(x, start_how, p, shape) else {
        return (never, 0.0, [1.0; WEEK]);
    };
    if fit.level <= 0.0 {
        return (never, 0.0, fit.shape);
    }
    let n = x.len();
    let first_how = (start_how + n) % WEEK;
    // Expected spend of each future day (day j starts at hour-of-week first_how + 24 j): only 7
    // distinct values, so a path skips whole days in one step and scans hours only on its last.
    let mut day_sum = [0.0; 7];
    for (j, s) in day_sum.iter_mut().enumerate() {
        *s = (0..DAY)
            .map(|h| fit.shape[(first_how + j * DAY + h) % WEEK])
            .sum::<f64>()
            * fit.level;
    }
    let max_hours = p.max_hours.min(MAX_RUNWAY_HOURS);
    let max_days = (max_hours / DAY as f64).ceil() as usize;
    let mut rng = SplitMix::new(n as u64 ^ remaining.to_bits().rotate_left(17));
    let mut ttes = Vec::with_capacity(paths.max(1));
    for _ in 0..paths.max(1) {
        let mut left = remaining;
        let mut tte = f64::INFINITY;
        let mut weekday = 0;
        for j in 0..max_days {
            let r = fit.day_ratios[rng.below(fit.day_ratios.len())];
            let today = day_sum[weekday] * r;
            weekday = if weekday == 6 { 0 } else { weekday + 1 };
            if today < left {
                left -= today;
                continue;
            }
            for h in 0..DAY {
                let spend = fit.level * r * fit.shape[(first_how + j * DAY + h) % WEEK];
                if spend >= left {
                    tte = (j * DAY + h) as f64 + left / spend;
                    break;
                }
                left -= spend;
            }
            if tte.is_finite() {
                break;
            }
            // Rounding left a sliver for the next day.
        }
        ttes.push(tte);
    }
    let runway = Runway {
        p10: quantile(&mut ttes, 0.1),
        p50: quantile(&mut ttes, 0.5),
        p90: quantile(&mut ttes, 0.9),
    };
    let runway = if runway.p10 > max_hours {
        never
    } else {
        runway
    };
    (runway, fit.level, fit.shape)
}

/// Fits shape, level and day ratios; with `fixed_shape` the shape is taken as given (and the
/// step check, which needs its own shapes, is skipped).
fn fit(x: &[f64], start_how: usize, p: &Params, fixed_shape: Option<&[f64; WEEK]>) -> Option<Fit> {
    let n = x.len();
    if n == 0 {
        return None;
    }
    let how = |i: usize| (start_how + i) % WEEK;
    let mut shape = fixed_shape
        .copied()
        .unwrap_or_else(|| profile(x, start_how, p));
    let mut level = ew_level(x, start_how, &shape, p);

    // Step change: each of the last `step_days` days far above (or all far below) the level
    // of the history before them, both measured with the seasonal shape learned before them
    // (the shape learned over the step itself would mistake the step for a weekday peak).
    // Then the level restarts from those days and the shape before the step is kept.
    let k = p.step_days.max(1);
    if fixed_shape.is_none() && level > 0.0 && n >= (k + 7) * DAY {
        let before = &x[..n - k * DAY];
        let old_shape = profile(before, start_how, p);
        let old_level = ew_level(before, start_how, &old_shape, p);
        let day_level = |d: usize| {
            let start = n - (d + 1) * DAY;
            let spent: f64 = x[start..start + DAY].iter().sum();
            let expected: f64 = (start..start + DAY).map(|i| old_shape[how(i)]).sum();
            if expected > 0.0 {
                spent / expected
            } else {
                old_level
            }
        };
        let up = (0..k).all(|d| day_level(d) > old_level * p.step_ratio);
        let down = old_level > 0.0 && (0..k).all(|d| day_level(d) < old_level / p.step_ratio);
        if up || down {
            let recent = n - k * DAY..n;
            let expected: f64 = recent.clone().map(|i| old_shape[how(i)]).sum();
            shape = old_shape;
            level = if expected > 0.0 {
                x[recent].iter().sum::<f64>() / expected
            } else {
                0.0
            };
        }
    }

    // Ratios of whole recent days (24 h blocks ending at the cut-off).
    let mut day_ratios = Vec::new();
    if level > 0.0 {
        for d in 0..p.bootstrap_days.max(1) {
            let Some(start) = n.checked_sub((d + 1) * DAY) else {
                break;
            };
            let actual: f64 = x[start..start + DAY].iter().sum();
            let expected: f64 = (start..start + DAY).map(|i| shape[how(i)]).sum::<f64>() * level;
            if expected > 0.0 {
                day_ratios.push(actual / expected);
            }
        }
    }
    // The ratios carry each day's noise, the level carries the rate: normalise them to mean 1
    // so the recency-weighted level, not the bootstrap window's average, sets the rate.
    let mean_ratio = day_ratios.iter().sum::<f64>() / day_ratios.len().max(1) as f64;
    if mean_ratio > 0.0 {
        day_ratios.iter_mut().for_each(|r| *r /= mean_ratio);
    } else {
        day_ratios.clear();
    }
    if day_ratios.is_empty() {
        day_ratios.push(1.0);
    }
    Some(Fit {
        shape,
        level,
        day_ratios,
    })
}

/// Multiplicative hour-of-week shape (mean 1) from the last `profile_weeks` weeks of `x`,
/// bursts clipped, blended with the hour-of-day shape while few weeks are known.
fn profile(x: &[f64], start_how: usize, p: &Params) -> [f64; WEEK] {
    let n = x.len();
    let mut shape = [1.0; WEEK];
    let span = n.min(p.profile_weeks.max(1) * WEEK);
    if span == 0 {
        return shape;
    }
    let from = n - span;
    let mean = x[from..].iter().sum::<f64>() / span as f64;
    if mean <= 0.0 {
        return shape;
    }
    let clip = mean * p.profile_clip;
    let (mut how_sum, mut how_cnt) = ([0.0; WEEK], [0u32; WEEK]);
    let (mut hod_sum, mut hod_cnt) = ([0.0; DAY], [0u32; DAY]);
    let mut total = 0.0;
    let mut s = (start_how + from) % WEEK;
    for &v in &x[from..] {
        let v = v.min(clip);
        how_sum[s] += v;
        how_cnt[s] += 1;
        hod_sum[s % DAY] += v;
        hod_cnt[s % DAY] += 1;
        total += v;
        s = if s + 1 == WEEK { 0 } else { s + 1 };
    }
    let cmean = total / span as f64;
    if cmean <= 0.0 {
        return shape;
    }
    let weeks = span as f64 / WEEK as f64;
    let w = weeks / (weeks + p.profile_shrink_weeks);
    for (s, out) in shape.iter_mut().enumerate() {
        let hod = if hod_cnt[s % DAY] > 0 {
            hod_sum[s % DAY] / hod_cnt[s % DAY] as f64 / cmean
        } else {
            1.0
        };
        let v = if how_cnt[s] > 0 {
            w * how_sum[s] / how_cnt[s] as f64 / cmean + (1.0 - w) * hod
        } else {
            hod
        };
        *out = p.profile_flatten + (1.0 - p.profile_flatten) * v;
    }
    let norm = shape.iter().sum::<f64>() / WEEK as f64;
    if norm > 0.0 {
        shape.iter_mut().for_each(|v| *v /= norm);
    }
    shape
}

/// Recency-weighted spend over recency-weighted expected shape: the de-seasonalised level.
fn ew_level(x: &[f64], start_how: usize, shape: &[f64; WEEK], p: &Params) -> f64 {
    let n = x.len();
    let window = n.min(p.level_window_days.max(1) * DAY);
    let decay = 0.5f64.powf(1.0 / (p.level_half_life_days.max(0.01) * DAY as f64));
    let (mut num, mut den, mut w) = (0.0, 0.0, 1.0);
    for i in (n - window..n).rev() {
        num += w * x[i];
        den += w * shape[(start_how + i) % WEEK];
        w *= decay;
    }
    if den > 0.0 {
        num / den
    } else {
        0.0
    }
}

/// The `q` quantile (nearest rank) of `v`; sorts `v`. `INFINITY` sorts last.
fn quantile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_unstable_by(f64::total_cmp);
    let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
    v[i]
}

/// A small deterministic generator (SplitMix64): the same history gives the same forecast,
/// every time. The benchmark's simulations use it too.
#[derive(Debug)]
pub struct SplitMix(u64);

impl SplitMix {
    /// A generator for `seed`, scrambled so that small seeds do not start alike.
    pub fn new(seed: u64) -> Self {
        Self::from_state(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// A generator whose internal state is `state` as given.
    pub fn from_state(state: u64) -> Self {
        SplitMix(state)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` by multiply-shift (no division: this runs once per simulated day).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A week-periodic series: busy weekday afternoons, quiet nights and weekends.
    fn seasonal(hours: usize, scale: f64) -> Vec<f64> {
        (0..hours)
            .map(|i| {
                let how = i % WEEK;
                let weekend = how >= 5 * DAY;
                let hod = how % DAY;
                let day_part = if (9..18).contains(&hod) { 3.0 } else { 0.5 };
                scale * day_part * if weekend { 0.3 } else { 1.0 }
            })
            .collect()
    }

    #[test]
    fn the_prior_band_narrows_with_the_runway_and_stays_bounded() {
        let p = Params {
            prior_lo: 0.5,
            prior_hi: 0.2,
            prior_horizon_exp: -0.25,
            ..Params::default()
        };
        assert_eq!(prior(&p, PRIOR_REFERENCE_HOURS), (0.5, 0.2));
        let (day, week) = (prior(&p, 24.0), prior(&p, 168.0));
        assert!(day.0 > 0.5 && day.1 > 0.2, "wider under a day: {day:?}");
        assert!(week.0 < 0.5 && week.1 < 0.2, "narrower at a week: {week:?}");
        // Clamped: a runway of minutes or "never" does not blow the band up or shut it.
        assert_eq!(prior(&p, 0.01), prior(&p, 6.0));
        assert_eq!(prior(&p, f64::INFINITY), prior(&p, MAX_RUNWAY_HOURS));
        assert!(prior(&p, f64::INFINITY).0 > 0.0);
        let flat = Params {
            prior_horizon_exp: 0.0,
            ..p
        };
        assert_eq!(prior(&flat, 24.0), prior(&flat, 1000.0));
    }

    #[test]
    fn a_flat_series_is_forecast_exactly() {
        let x = vec![2.0; 21 * DAY];
        let o = outlook(&x, 0, 96.0, &Params::default());
        assert!(
            (o.runway.p50 - 48.0).abs() < 0.5,
            "2/h spends 96 in 48 h, got {:?}",
            o.runway
        );
        assert!(
            (o.level_per_hour - 2.0).abs() < 1e-9,
            "level of a flat series is its value"
        );
        assert!(
            o.calibrated_with > 0,
            "three weeks of history give past cut-offs to calibrate on"
        );
    }

    #[test]
    fn seasonality_moves_the_runway() {
        // Cut the history at Friday 18:00: the weekend is quiet, so a weekday-rate amount lasts
        // much longer than the weekday rate says.
        let x = seasonal(3 * WEEK + 4 * DAY + 18, 1.0);
        let weekday_day: f64 = x[..DAY].iter().sum();
        let o = outlook(&x, 0, weekday_day, &Params::default());
        assert!(
            o.runway.p50 > 40.0,
            "one weekday's spend lasts over the quiet weekend (> 40 h), got {:?}",
            o.runway
        );
    }

    #[test]
    fn a_step_up_is_followed() {
        // Three weeks at 1 per hour, then a new job: four days at 6 per hour.
        let mut x = vec![1.0; 21 * DAY];
        x.extend(vec![6.0; 4 * DAY]);
        let o = outlook(&x, 0, 6.0 * 72.0, &Params::default());
        assert!(
            o.runway.p50 < 144.0,
            "432 lasts 72 h at the new rate and 432 h at the old one; within 2× of the new \
             rate means the step was followed, got {:?}",
            o.runway
        );
    }

    #[test]
    fn no_spend_is_never_and_nothing_left_is_now() {
        let x = vec![0.0; 20 * DAY];
        assert!(
            outlook(&x, 0, 10.0, &Params::default())
                .runway
                .p50
                .is_infinite(),
            "idle key"
        );
        let x = vec![1.0; 20 * DAY];
        assert_eq!(
            outlook(&x, 0, 0.0, &Params::default()).runway.p90,
            0.0,
            "empty now"
        );
    }

    #[test]
    fn band_is_ordered_and_deterministic() {
        let x: Vec<f64> = seasonal(5 * WEEK, 1.0)
            .iter()
            .enumerate()
            .map(|(i, v)| v * (1.0 + 0.5 * ((i * 7919) % 13) as f64 / 13.0))
            .collect();
        let a = outlook(&x, 3, 150.0, &Params::default());
        let b = outlook(&x, 3, 150.0, &Params::default());
        assert_eq!(a, b, "the same history must give the same forecast");
        assert!(
            a.runway.p10 <= a.runway.p50 && a.runway.p50 <= a.runway.p90,
            "{:?}",
            a.runway
        );
    }

    #[test]
    fn time_to_spend_counts_whole_hours() {
        let prefix = prefix_sums(&[1.0, 0.0, 2.0, 1.0]);
        assert_eq!(
            time_to_spend(&prefix, 0, 3.0),
            Some(3.0),
            "1+0+2 reaches 3 at the 3rd hour"
        );
        assert_eq!(
            time_to_spend(&prefix, 1, 3.0),
            Some(3.0),
            "0+2+1 reaches 3 at the 3rd hour"
        );
        assert_eq!(
            time_to_spend(&prefix, 2, 9.0),
            None,
            "never reached within the series"
        );
    }
}
