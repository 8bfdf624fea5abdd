//! The user-shaped backtest (issue 17): what a user three weeks after adding a key would see.
//! Each cut-off of a report-split series becomes its own account holding exactly 21 days of
//! hourly balance readings, set (as in Scenario A) so that the true cliff is H hours after the
//! cut-off; the history goes in through `cliffwatch import balances … --unit usd` and the
//! forecast comes out of `cliffwatch --json forecast --account A --as-of T`, the path a user's
//! own backtest takes (CSV parsing, storage, the readings → hourly series step, the forecast).
//! Beside it, the forecaster called directly on the same 21 days, so a gap between the two
//! shows a loss in the app's own path.

use crate::nab::Series;
use crate::scenario_a::{self, Score};
use cliffwatch_core::forecast::engine::{self, Params};
use std::path::{Path, PathBuf};
use std::process::Command;

/// 21 days: what a key has three weeks after it was added.
pub const HISTORY_HOURS: usize = 21 * 24;
pub const HORIZONS: [usize; 2] = [72, 168];
/// Cut-offs every 4 days from day 21 (fewer than Scenario A's every 6 h: each is an account).
const STEP_HOURS: usize = 96;
/// A request costs a tenth of a cent (NAB counts are requests).
const PRICE_USD: f64 = 0.001;

#[derive(Debug, Default, Clone, Copy)]
pub struct Row {
    pub baseline: Score,
    pub cli: Score,
    pub direct: Score,
    /// Forecasts whose band the CLI said was still the prior's ("band widened").
    pub widened: usize,
}

/// The `cliffwatch` binary beside this one (`target/release/`), unless told.
pub fn default_binary() -> PathBuf {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(|d| d.join("cliffwatch")))
        .unwrap_or_else(|| PathBuf::from("cliffwatch"))
}

fn cliffwatch(bin: &Path, data: &Path) -> Command {
    let mut c = Command::new(bin);
    c.arg("--data-dir")
        .arg(data)
        .env("CW_BACKTEST_KEY", "not-a-real-key-never-polled")
        .env_remove("CLIFFWATCH_DATA_DIR");
    c
}

fn run(mut c: Command) -> Result<String, String> {
    let out = c
        .output()
        .map_err(|e| format!("cannot run cliffwatch: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cliffwatch {:?} failed: {}",
            c.get_args().collect::<Vec<_>>(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| e.to_string())
}

fn rfc3339(epoch_hour: i64) -> String {
    chrono::DateTime::from_timestamp(epoch_hour * 3600, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// A JSON number, or infinity for `null` (the CLI's "never").
fn hours(v: &serde_json::Value) -> f64 {
    v.as_f64().unwrap_or(f64::INFINITY)
}

/// Runs the backtest on `set`, `max_cut_offs` per series and horizon at most.
pub fn backtest(
    set: &[Series],
    bin: &Path,
    max_cut_offs: Option<usize>,
) -> Result<[Row; 2], String> {
    if !bin.exists() {
        return Err(format!(
            "{} is missing: build it first (cargo build --release -p cliffwatch-cli)",
            bin.display()
        ));
    }
    let dir = std::env::temp_dir().join(format!("cliffwatch-backtest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let rows = cut_offs(set, bin, &dir, max_cut_offs);
    let _ = std::fs::remove_dir_all(&dir);
    rows
}

fn cut_offs(
    set: &[Series],
    bin: &Path,
    dir: &Path,
    max_cut_offs: Option<usize>,
) -> Result<[Row; 2], String> {
    let data = dir.join("data");
    let params = Params::default();
    let mut rows = [Row::default(); 2];
    for s in set {
        let x = &s.hourly;
        let prefix = engine::prefix_sums(x);
        for (hi, &h) in HORIZONS.iter().enumerate() {
            let mut t = HISTORY_HOURS;
            let mut done = 0;
            while t + h <= x.len() && max_cut_offs.is_none_or(|m| done < m) {
                let r = prefix[t + h] - prefix[t];
                if r <= 0.0 {
                    t += STEP_HOURS;
                    continue;
                }
                let truth = engine::time_to_spend(&prefix, t, r).expect("R is reached by t + H");
                rows[hi]
                    .baseline
                    .add(scenario_a::baseline(&prefix, t, r), truth, None);

                let from = t - HISTORY_HOURS;
                let o = engine::outlook(&x[from..t], (s.start_how + from) % 168, r, &params);
                rows[hi]
                    .direct
                    .add(o.runway.p50, truth, Some((o.runway.p10, o.runway.p90)));

                // The balance at the start of hour k is what is left at t plus the spend of
                // hours k..t: 505 readings, the last one at the cut-off itself.
                let label = format!("{}-{h}h-{t}", s.name.replace('_', "-").to_lowercase());
                let mut add = cliffwatch(bin, &data);
                add.args(["account", "add", "--provider", "openrouter", "--label"])
                    .arg(&label)
                    .args(["--secret-env", "CW_BACKTEST_KEY"]);
                run(add)?;
                let mut csv = String::from("time,remaining\n");
                for k in from..=t {
                    let left = (r + prefix[t] - prefix[k]) * PRICE_USD;
                    csv.push_str(&format!("{},{left:.6}\n", rfc3339(s.start_hour + k as i64)));
                }
                let file = dir.join(format!("{label}.csv"));
                std::fs::write(&file, csv).map_err(|e| e.to_string())?;
                let mut import = cliffwatch(bin, &data);
                import.args(["import", "balances"]).arg(&file).args([
                    "--account",
                    &label,
                    "--unit",
                    "usd",
                ]);
                run(import)?;
                let mut forecast = cliffwatch(bin, &data);
                forecast
                    .args(["--json", "forecast", "--account", &label, "--as-of"])
                    .arg(rfc3339(s.start_hour + t as i64));
                let out: serde_json::Value =
                    serde_json::from_str(&run(forecast)?).map_err(|e| e.to_string())?;
                let f = out
                    .as_array()
                    .and_then(|a| a.first())
                    .ok_or_else(|| format!("no forecast for {label}: {out}"))?;
                let band = &f["runway_hours"];
                if band.is_null() {
                    return Err(format!("{label}: the forecast has no runway: {f}"));
                }
                rows[hi].cli.add(
                    hours(&band["p50"]),
                    truth,
                    Some((hours(&band["p10"]), hours(&band["p90"]))),
                );
                rows[hi].widened += usize::from(
                    f["basis"]
                        .as_str()
                        .is_some_and(|b| b.contains("band widened")),
                );
                done += 1;
                t += STEP_HOURS;
            }
        }
    }
    Ok(rows)
}

fn pct(s: Option<f64>) -> String {
    s.map_or("—".into(), |v| format!("{:.0} %", 100.0 * v))
}

pub fn print(rows: &[Row; 2]) {
    println!(
        "| H | cut-offs | MAE linear-24h | MAE through the CLI | ratio | P10–P90 coverage | cliff \
         before P10 | band still the prior's | ratio / coverage / before P10, forecaster called directly |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |");
    for (h, r) in HORIZONS.iter().zip(rows) {
        let base = r.baseline.mae();
        println!(
            "| {h} h | {} | {:.1} | {:.1} | {:.2} | {} | {} | {} of {} | {:.2} / {} / {} |",
            r.cli.n,
            base,
            r.cli.mae(),
            r.cli.mae() / base,
            pct(r.cli.coverage()),
            pct(r.cli.before_p10_share()),
            r.widened,
            r.cli.n,
            r.direct.mae() / base,
            pct(r.direct.coverage()),
            pct(r.direct.before_p10_share()),
        );
    }
}
