//! Scenario B of `shared/data/README.md` (realism): whole prepaid episodes on real NAB traffic.
//!
//! Each series is one key on a 5-minute grid. The key is topped up with a few days of its
//! typical spend, drains by requests × price, dies at zero (the requests it refuses are spend
//! lost) and is topped up again a few hours later. Cliffwatch sees what it would see in real
//! life: a balance polled every 5 minutes, rounded to 0.01 and lagging 0–15 minutes, and a
//! local log holding only a share of the key's requests. At a cut-off every 6 h after the
//! 14-day warm-up, while the key is alive, each method answers "when does it hit zero?"; the
//! truth is the simulated exhaustion time. Everything is drawn from a generator seeded by the
//! series name: the same run gives the same numbers.

use super::nab::{Grid, SLOT_S};
use super::scenario_a::Score;
use cliffwatch_core::forecast::engine::SplitMix;
use cliffwatch_core::forecast::{self, Forecast, ForecastState, UsageSignal, IDLE_AFTER_HOURS};
use cliffwatch_core::model::{AccountId, BalanceSample, Unit};

pub const HOUR_S: i64 = 3600;
const WARM_UP_S: i64 = 14 * 24 * HOUR_S;
const CUT_OFF_STEP_S: i64 = 6 * HOUR_S;
const SEED: u64 = 0x5CE4_A210_B000_0001;
/// Typical spend of a key, in dollars per day: small enough that 0.01 is coarse (a 5-minute
/// slot spends 0.3–1.7 cents on average).
const DAILY_SPEND: (f64, f64) = (1.0, 5.0);
/// A top-up buys this many days of typical spend.
const TOP_UP_DAYS: (f64, f64) = (2.0, 5.0);
/// Hours between running dry and the next top-up.
const DEAD_HOURS: (f64, f64) = (2.0, 12.0);
/// Share of the key's requests the local log sees.
const LOG_SHARE: (f64, f64) = (0.3, 0.9);

/// How the balance endpoint reports: polled every 5 minutes, it says the balance as of up to
/// `max_lag_s` ago, or (`bucket_s` > 0) as of the end of the last whole bucket of that length
/// before then, as cost reports that settle hourly do.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Observation {
    pub max_lag_s: f64,
    pub bucket_s: i64,
}

/// The protocol's: 0–15 min lag.
pub const PROTOCOL: Observation = Observation {
    max_lag_s: 15.0 * 60.0,
    bucket_s: 0,
};

/// A harder variant beyond the protocol: hourly buckets reported 0–2 h late.
pub const HOURLY_LATE: Observation = Observation {
    max_lag_s: 2.0 * 3600.0,
    bucket_s: 3600,
};
/// The baseline's window: linear burn over the last 24 h of observed balances.
const BASELINE_WINDOW_S: i64 = 24 * HOUR_S;

/// Scores are bucketed by the true time to exhaustion.
pub const BUCKETS: [(f64, f64, &str); 4] = [
    (0.0, 24.0, "≤ 24 h"),
    (24.0, 72.0, "24–72 h"),
    (72.0, 168.0, "72–168 h"),
    (168.0, f64::INFINITY, "> 168 h"),
];

/// Scores of the three methods per bucket, and what the simulation did.
#[derive(Debug, Clone, Copy, Default)]
pub struct Result {
    pub baseline: [Score; 4],
    pub balance_only: [Score; 4],
    pub with_logs: [Score; 4],
    /// Cut-offs whose key was dead (waiting for a top-up): nothing to forecast.
    pub dead_cut_offs: usize,
    /// Cut-offs after the key's last exhaustion: the truth is unknown.
    pub censored_cut_offs: usize,
    /// Times a key ran dry.
    pub exhaustions: usize,
    /// Cut-offs where the logs were calibrated and used.
    pub refined: usize,
    pub keys: usize,
    /// Sum over keys of the log share (for the mean).
    pub log_share_sum: f64,
}

impl Result {
    pub fn merge(&mut self, o: &Result) {
        for i in 0..BUCKETS.len() {
            self.baseline[i].merge(&o.baseline[i]);
            self.balance_only[i].merge(&o.balance_only[i]);
            self.with_logs[i].merge(&o.with_logs[i]);
        }
        self.dead_cut_offs += o.dead_cut_offs;
        self.censored_cut_offs += o.censored_cut_offs;
        self.exhaustions += o.exhaustions;
        self.refined += o.refined;
        self.keys += o.keys;
        self.log_share_sum += o.log_share_sum;
    }
}

/// One simulated key: what Cliffwatch sees and when the key really ran dry.
#[derive(Debug, Clone)]
pub struct Key {
    /// Balance readings as polled: every 5 min, rounded to 0.01, lagging.
    pub readings: Vec<BalanceSample>,
    /// The requests the local log saw, one record per 5-minute slot (the data's own
    /// resolution) at a random time inside it.
    pub logged: Vec<UsageSignal>,
    /// `(ran dry at, topped up at)`, seconds since the epoch, in order.
    pub dead: Vec<(f64, f64)>,
    pub log_share: f64,
    pub start: i64,
    pub end: i64,
}

/// Simulates the key of one series.
pub fn simulate(g: &Grid, obs: Observation) -> Key {
    let mut rng = SplitMix::from_state(SEED ^ fnv(&g.name));
    let n = g.counts.len();
    let per_day = g.counts.iter().sum::<f64>() / n.max(1) as f64 * (24 * 12) as f64;
    let daily = rng.range(DAILY_SPEND);
    let price = if per_day > 0.0 { daily / per_day } else { 0.0 };
    let log_share = rng.range(LOG_SHARE);
    let slot_time = |k: usize| g.start + k as i64 * SLOT_S;

    // The true balance: at the start of each slot (after a top-up made then) and spent in it.
    let mut open = vec![0.0; n];
    let mut spent = vec![0.0; n];
    let mut dead = Vec::new();
    let mut logged = Vec::new();
    let mut balance = rng.range(TOP_UP_DAYS) * daily;
    let mut dead_until: Option<usize> = None;
    for k in 0..n {
        if let Some(until) = dead_until {
            if k < until {
                continue;
            }
            balance = rng.range(TOP_UP_DAYS) * daily;
            dead_until = None;
        }
        open[k] = balance;
        // Whole requests: a 30-minute series spread over 5-minute slots is rounded at random.
        let c = g.counts[k];
        let requests = c.floor() + f64::from(u8::from(rng.unit() < c - c.floor()));
        let cost = requests * price;
        let (served, until) = if cost < balance || cost == 0.0 {
            balance -= cost;
            spent[k] = cost;
            (requests, SLOT_S as f64)
        } else {
            // Runs dry inside this slot: the rest of its requests are refused.
            let part = balance / cost;
            let died = slot_time(k) as f64 + part * SLOT_S as f64;
            let back = k + 1 + (rng.range(DEAD_HOURS) * 12.0).ceil() as usize;
            dead.push((died, slot_time(back) as f64));
            spent[k] = balance;
            balance = 0.0;
            dead_until = Some(back);
            ((requests * part).floor(), part * SLOT_S as f64)
        };
        let seen = binomial(&mut rng, served, log_share);
        if seen > 0.0 {
            let at = slot_time(k) as f64 + rng.unit() * until;
            logged.push(UsageSignal {
                at: at_seconds(at),
                weight: seen,
            });
        }
    }

    // What the balance endpoint says: the balance as of a moment up to 15 min ago (never
    // going back in time: a provider does not un-report spend), rounded to cents.
    let balance_at = |t: f64| -> f64 {
        let k = (((t - g.start as f64) / SLOT_S as f64).floor().max(0.0) as usize).min(n - 1);
        let into = (t - slot_time(k) as f64) / SLOT_S as f64;
        (open[k] - spent[k] * into.clamp(0.0, 1.0)).max(0.0)
    };
    let mut readings = Vec::with_capacity(n);
    let mut as_of = g.start as f64;
    let mut previous = f64::INFINITY;
    for k in 0..n {
        let at = slot_time(k);
        let mut reported = at as f64 - rng.unit() * obs.max_lag_s;
        if obs.bucket_s > 0 {
            reported = (reported / obs.bucket_s as f64).floor() * obs.bucket_s as f64;
        }
        as_of = as_of.max(reported);
        let remaining = (balance_at(as_of) * 100.0).round() / 100.0;
        readings.push(BalanceSample {
            account_id: AccountId(1),
            observed_at: at_seconds(at as f64),
            remaining: Some(remaining),
            limit: None,
            used: None,
            unit: Unit::usd(),
            resets_at: None,
            is_topup: remaining > previous,
        });
        previous = remaining;
    }
    Key {
        readings,
        logged,
        dead,
        log_share,
        start: g.start,
        end: slot_time(n),
    }
}

/// Runs the cut-offs of one series. `max_cut_offs` limits them (quick mode).
pub fn run(g: &Grid, obs: Observation, max_cut_offs: Option<usize>) -> Result {
    run_from(g, obs, max_cut_offs, WARM_UP_S, None)
}

/// The cut-offs from `first_s` seconds into the series on, Cliffwatch seeing only the readings
/// and logged requests of the last `history_s` seconds before each (all for `None`); the
/// baseline reads its 24 h as always.
pub fn run_from(
    g: &Grid,
    obs: Observation,
    max_cut_offs: Option<usize>,
    first_s: i64,
    history_s: Option<i64>,
) -> Result {
    let key = simulate(g, obs);
    let mut out = Result {
        exhaustions: key.dead.len(),
        keys: 1,
        log_share_sum: key.log_share,
        ..Result::default()
    };
    let mut c = key.start + first_s;
    let mut asked = 0;
    while c < key.end && max_cut_offs.is_none_or(|m| asked < m) {
        let t = c as f64;
        c += CUT_OFF_STEP_S;
        // The next exhaustion after t, unless the key is dead at t.
        let i = key.dead.partition_point(|d| d.1 <= t);
        let Some(&(died, _)) = key.dead.get(i) else {
            out.censored_cut_offs += 1;
            continue;
        };
        if died <= t {
            out.dead_cut_offs += 1;
            continue;
        }
        let truth = (died - t) / HOUR_S as f64;
        let bucket = BUCKETS
            .iter()
            .position(|b| truth > b.0 && truth <= b.1)
            .unwrap_or(BUCKETS.len() - 1);
        asked += 1;

        let now = at_seconds(t);
        let seen = &key.readings[..key.readings.partition_point(|s| s.observed_at <= now)];
        let logged = &key.logged[..key.logged.partition_point(|u| u.at <= now)];
        out.baseline[bucket].add(linear_24h(seen), truth, None);
        let (seen, logged) = match history_s {
            Some(h) => {
                let since = now - chrono::Duration::seconds(h);
                (
                    &seen[seen.partition_point(|s| s.observed_at <= since)..],
                    &logged[logged.partition_point(|u| u.at <= since)..],
                )
            }
            None => (seen, logged),
        };
        let plain = forecast::from_samples(AccountId(1), seen, None, now);
        let (p, band) = answer(&plain);
        out.balance_only[bucket].add(p, truth, Some(band));
        let refined = forecast::from_samples_and_usage(AccountId(1), seen, logged, None, now);
        out.refined += usize::from(refined.refined_by_logs.is_some());
        let (p, band) = answer(&refined);
        out.with_logs[bucket].add(p, truth, Some(band));
    }
    out
}

/// A forecast as hours from now with its band: "idle" is "more than 30 days", out of credit
/// is now.
fn answer(f: &Forecast) -> (f64, (f64, f64)) {
    match (f.state, f.runway_hours) {
        (ForecastState::Ok, Some(r)) => (r.p50, (r.p10, r.p90)),
        (ForecastState::OutOfCredit, _) => (0.0, (0.0, 0.0)),
        _ => (IDLE_AFTER_HOURS, (IDLE_AFTER_HOURS, f64::INFINITY)),
    }
}

/// What other tools do: the latest observed balance over the fall of the observed balance in
/// the last 24 h (rises are top-ups, not negative spend).
fn linear_24h(seen: &[BalanceSample]) -> f64 {
    let Some(last) = seen.last() else {
        return f64::INFINITY;
    };
    let from = last.observed_at - chrono::Duration::seconds(BASELINE_WINDOW_S);
    let window = &seen[seen.partition_point(|s| s.observed_at < from)..];
    let fell: f64 = window
        .windows(2)
        .map(|w| (w[0].remaining.unwrap_or(0.0) - w[1].remaining.unwrap_or(0.0)).max(0.0))
        .sum();
    let rate = fell / (BASELINE_WINDOW_S as f64 / HOUR_S as f64);
    if rate > 0.0 {
        last.remaining.unwrap_or(0.0) / rate
    } else {
        f64::INFINITY
    }
}

fn at_seconds(t: f64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(t.floor() as i64, 0).expect("NAB times are in range")
}

/// Requests out of `n` that a log with share `p` sees (normal approximation for large `n`).
fn binomial(rng: &mut SplitMix, n: f64, p: f64) -> f64 {
    if n <= 0.0 {
        return 0.0;
    }
    if n < 200.0 {
        return (0..n as u64).filter(|_| rng.unit() < p).count() as f64;
    }
    let (mean, sd) = (n * p, (n * p * (1.0 - p)).sqrt());
    (mean + sd * rng.normal()).round().clamp(0.0, n)
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xCBF2_9CE4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

/// What the simulation draws besides the core generator's own: a uniform in a range and a
/// standard normal.
trait Draws {
    fn range(&mut self, bounds: (f64, f64)) -> f64;
    fn normal(&mut self) -> f64;
}

impl Draws for SplitMix {
    fn range(&mut self, (lo, hi): (f64, f64)) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Standard normal (Box–Muller).
    fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Four weeks of a steady 12 requests per 5 minutes.
    fn grid() -> Grid {
        Grid {
            name: "toy".into(),
            start: 1_400_000_100,
            counts: vec![12.0; 28 * 24 * 12],
        }
    }

    #[test]
    fn episodes_drain_die_and_are_topped_up() {
        let g = grid();
        let k = simulate(&g, PROTOCOL);
        assert!(
            k.dead.len() >= 4,
            "2–5 days per top-up over 4 weeks runs dry several times: {}",
            k.dead.len()
        );
        for w in k.dead.windows(2) {
            assert!(w[0].1 <= w[1].0, "one episode after the other");
        }
        let mut previous = f64::INFINITY;
        let mut rises = 0;
        for s in &k.readings {
            let v = s.remaining.unwrap();
            assert_eq!(v, (v * 100.0).round() / 100.0, "cents");
            rises += usize::from(v > previous);
            previous = v;
        }
        assert!(
            rises <= k.dead.len() && rises + 1 >= k.dead.len(),
            "the balance rises only at top-ups (the last may come after the end)"
        );
        let logged: f64 = k.logged.iter().map(|u| u.weight).sum();
        let total: f64 = g.counts.iter().sum();
        assert!(
            logged < total * 0.95 && logged > total * 0.2,
            "the log sees a share of the requests (minus those refused when dry)"
        );
        let again = simulate(&g, PROTOCOL);
        assert_eq!(
            again.readings, k.readings,
            "seeded: the same run every time"
        );
    }

    #[test]
    fn cut_offs_are_asked_only_while_the_key_is_alive() {
        let r = run(&grid(), PROTOCOL, None);
        let asked: usize = r.with_logs.iter().map(|s| s.n).sum();
        assert!(asked > 0);
        assert_eq!(
            asked,
            r.baseline.iter().map(|s| s.n).sum::<usize>(),
            "every method answers every cut-off"
        );
        // Four weeks minus 14 days of warm-up: 56 cut-offs.
        assert_eq!(asked + r.dead_cut_offs + r.censored_cut_offs, 56);
        // A steady key is easy: the balance alone is within a few hours.
        let s = r.balance_only.iter().fold(Score::default(), |mut a, s| {
            a.merge(s);
            a
        });
        assert!(
            s.mae() < 3.0,
            "steady spend is forecast closely: {}",
            s.mae()
        );
    }
}
