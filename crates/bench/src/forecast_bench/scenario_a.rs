//! Scenario A of `shared/data/README.md`: at each cut-off, "with R left, when does this key hit
//! zero?", with R set so that the true answer is H hours.

use super::nab::Series;
use cliffwatch_core::forecast::engine::{self, Params, MAX_RUNWAY_HOURS};

/// The first 14 days are history only.
pub const WARM_UP_HOURS: usize = 14 * 24;
/// A cut-off every 6 h after the warm-up.
pub const CUT_OFF_STEP_HOURS: usize = 6;
pub const HORIZONS: [usize; 3] = [24, 72, 168];
/// The history lengths of the "history you have" table (issue 17): the forecaster sees only
/// this many days before each cut-off.
pub const HISTORIES_DAYS: [usize; 3] = [7, 14, 21];
/// That table's cut-offs start here, so every history length is scored on the same cut-offs.
pub const TRUNCATED_FROM_HOURS: usize = 21 * 24;
/// The baseline's window: linear burn over the last 24 h.
const BASELINE_WINDOW_HOURS: usize = 24;

/// Scores of one method at one horizon, summed over cut-offs.
#[derive(Debug, Clone, Copy, Default)]
pub struct Score {
    pub n: usize,
    pub abs_err: f64,
    pub too_late: usize,
    /// Cut-offs whose truth fell inside [P10, P90] (banded methods only).
    pub covered: usize,
    pub banded: usize,
    /// Forecasts made before enough past outcomes were known to calibrate the band.
    pub uncalibrated: usize,
    /// Cut-offs whose truth came before P10: an alert on P10 would have been late.
    pub before_p10: usize,
}

impl Score {
    pub fn add(&mut self, predicted: f64, truth: f64, band: Option<(f64, f64)>) {
        // An infinite forecast ("never") is scored at the cap, the longest the app reports.
        let predicted = predicted.min(MAX_RUNWAY_HOURS);
        self.n += 1;
        self.abs_err += (predicted - truth).abs();
        self.too_late += usize::from(predicted > truth);
        if let Some((lo, hi)) = band {
            self.banded += 1;
            self.covered += usize::from(lo <= truth && truth <= hi);
            self.before_p10 += usize::from(truth < lo);
        }
    }

    pub fn merge(&mut self, o: &Score) {
        self.n += o.n;
        self.abs_err += o.abs_err;
        self.too_late += o.too_late;
        self.covered += o.covered;
        self.banded += o.banded;
        self.uncalibrated += o.uncalibrated;
        self.before_p10 += o.before_p10;
    }

    pub fn mae(&self) -> f64 {
        self.abs_err / self.n.max(1) as f64
    }

    pub fn late_share(&self) -> f64 {
        self.too_late as f64 / self.n.max(1) as f64
    }

    pub fn coverage(&self) -> Option<f64> {
        (self.banded > 0).then(|| self.covered as f64 / self.banded as f64)
    }

    /// The share of banded cut-offs whose truth came before P10 (target ≤ 10 %).
    pub fn before_p10_share(&self) -> Option<f64> {
        (self.banded > 0).then(|| self.before_p10 as f64 / self.banded as f64)
    }
}

/// Baseline and ours at each horizon, for one or more series.
#[derive(Debug, Clone, Copy, Default)]
pub struct Result {
    pub baseline: [Score; 3],
    pub ours: [Score; 3],
    /// Cut-offs skipped because nothing was spent over the horizon (R = 0 never runs out).
    pub skipped_zero: usize,
}

impl Result {
    pub fn merge(&mut self, o: &Result) {
        for i in 0..3 {
            self.baseline[i].merge(&o.baseline[i]);
            self.ours[i].merge(&o.ours[i]);
        }
        self.skipped_zero += o.skipped_zero;
    }
}

/// What other tools say: `r` burnt at the rate of the last 24 h before cut-off `t` ("never"
/// when nothing was spent then). `prefix` holds the series' prefix sums; `t` ≥ 24.
pub fn baseline(prefix: &[f64], t: usize, r: f64) -> f64 {
    let recent = prefix[t] - prefix[t - BASELINE_WINDOW_HOURS];
    if recent > 0.0 {
        r / (recent / BASELINE_WINDOW_HOURS as f64)
    } else {
        f64::INFINITY
    }
}

/// Runs the protocol on one series. `max_cut_offs` limits the cut-offs per horizon (quick mode).
pub fn run(s: &Series, params: &Params, max_cut_offs: Option<usize>) -> Result {
    run_from(s, params, max_cut_offs, WARM_UP_HOURS, None)
}

/// The protocol with cut-offs from hour `first` on, the forecaster seeing only the last
/// `history` hours before each (all of them for `None`); the baseline is unchanged (it reads
/// 24 h).
pub fn run_from(
    s: &Series,
    params: &Params,
    max_cut_offs: Option<usize>,
    first: usize,
    history: Option<usize>,
) -> Result {
    let x = &s.hourly;
    let prefix = engine::prefix_sums(x);
    let mut out = Result::default();
    for (hi, &h) in HORIZONS.iter().enumerate() {
        let mut t = first.max(BASELINE_WINDOW_HOURS);
        let mut done = 0;
        while t + h <= x.len() && max_cut_offs.is_none_or(|m| done < m) {
            let r = prefix[t + h] - prefix[t];
            if r <= 0.0 {
                out.skipped_zero += 1;
                t += CUT_OFF_STEP_HOURS;
                continue;
            }
            // The first h' with spend over (t, t + h'] >= R; equals H unless the last hours
            // of the horizon spent nothing.
            let truth = engine::time_to_spend(&prefix, t, r).expect("R is reached by t + H");
            out.baseline[hi].add(baseline(&prefix, t, r), truth, None);
            // Ours sees only x[..t]; its calibration uses only earlier cut-offs whose outcome
            // is known within x[..t].
            let from = history.map_or(0, |len| t.saturating_sub(len));
            let o = engine::outlook(&x[from..t], (s.start_how + from) % 168, r, params);
            let band = (o.runway.p10, o.runway.p90);
            out.ours[hi].add(o.runway.p50, truth, Some(band));
            out.ours[hi].uncalibrated += usize::from(o.calibrated_with == 0);
            done += 1;
            t += CUT_OFF_STEP_HOURS;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A week-periodic series with a quiet weekend, three and a half weeks long.
    fn series() -> Series {
        let hourly = (0..(3 * 168 + 84))
            .map(|i| if (i % 168) >= 120 { 0.5 } else { 2.0 })
            .collect();
        Series {
            name: "toy".into(),
            hourly,
            start_how: 0,
            start_hour: 0,
        }
    }

    #[test]
    fn protocol_counts_cut_offs_and_scores_the_truth() {
        let s = series();
        let r = run(&s, &Params::default(), None);
        for (i, h) in HORIZONS.iter().enumerate() {
            // Cut-offs at 336, 342, … while t + H <= len.
            let expected = (s.hourly.len() - h - WARM_UP_HOURS) / CUT_OFF_STEP_HOURS + 1;
            assert_eq!(
                r.ours[i].n, expected,
                "H = {h}: every 6 h after the 14-day warm-up"
            );
            assert_eq!(
                r.baseline[i].n, expected,
                "both methods answer every cut-off"
            );
        }
        // On a noiseless weekly pattern the seasonal model is near exact; the linear 24 h
        // baseline is not (it misses the weekend).
        assert!(r.ours[2].mae() < 0.5 * r.baseline[2].mae(), "{:?}", r);
        assert!(r.ours[2].coverage().is_some(), "ours is banded");
        assert!(
            r.baseline[2].coverage().is_none(),
            "the baseline has no band"
        );
    }

    /// A truncated history is scored on the same cut-offs as the whole one, and only what the
    /// forecaster sees changes.
    #[test]
    fn a_truncated_history_keeps_the_cut_offs_and_changes_what_is_seen() {
        let s = series();
        let whole = run_from(&s, &Params::default(), None, TRUNCATED_FROM_HOURS, None);
        let week = run_from(
            &s,
            &Params::default(),
            None,
            TRUNCATED_FROM_HOURS,
            Some(7 * 24),
        );
        for i in 0..HORIZONS.len() {
            assert_eq!(whole.ours[i].n, week.ours[i].n);
            assert_eq!(whole.baseline[i].abs_err, week.baseline[i].abs_err);
            assert!(week.ours[i].before_p10 <= week.ours[i].banded);
        }
        assert!(
            (0..HORIZONS.len()).any(|i| whole.ours[i].abs_err != week.ours[i].abs_err
                || whole.ours[i].covered != week.ours[i].covered),
            "a week of history is not the whole history"
        );
    }
}
