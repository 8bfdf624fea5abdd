//! Reading the NAB series (`timestamp,value`, gzip'd) and resampling them to hourly bins
//! (Scenario A) or onto a 5-minute grid (Scenario B).

use chrono::{Datelike, NaiveDateTime, Timelike};
use std::io::{BufRead, BufReader};
use std::path::Path;

/// One NAB file as an hourly spend series ("count × a flat price"; the price is 1).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    /// Sum of the counts in each hour, from the hour of the first row to the hour of the last.
    pub hourly: Vec<f64>,
    /// Hour of week of `hourly[0]` (0 = Monday 00:00; NAB times have no zone, read as UTC).
    pub start_how: usize,
    /// Start of `hourly[0]`, in hours since the epoch.
    pub start_hour: i64,
}

/// Reads `dir/<name>.csv.gz` and bins it by hour. Missing 5-minute slots add nothing to their
/// hour (the README warns a few are missing in the Twitter series).
pub fn load(dir: &Path, name: &str) -> Result<Series, String> {
    let rows = read_rows(dir, name)?;
    let (first, last) = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => (f.0.div_euclid(3600), l.0.div_euclid(3600)),
        _ => return Err(format!("{name} has no rows")),
    };
    let mut hourly = vec![0.0; (last - first + 1) as usize];
    for (t, v) in rows {
        hourly[(t.div_euclid(3600) - first) as usize] += v;
    }
    let start = chrono::DateTime::from_timestamp(first * 3600, 0)
        .ok_or("time out of range")?
        .naive_utc();
    let start_how = start.weekday().num_days_from_monday() as usize * 24 + start.hour() as usize;
    Ok(Series {
        name: name.to_owned(),
        hourly,
        start_how,
        start_hour: first,
    })
}

/// One NAB file on a 5-minute grid: requests per slot.
#[derive(Debug, Clone)]
pub struct Grid {
    pub name: String,
    /// Start of slot 0, seconds since the epoch (on a 5-minute boundary).
    pub start: i64,
    pub counts: Vec<f64>,
}

pub const SLOT_S: i64 = 300;

/// Reads `dir/<name>.csv.gz` onto a 5-minute grid: Twitter times (`:42:53`) fall into their
/// slot, missing slots count 0, and a coarser series (NYC taxi, 30 min) is spread evenly over
/// the slots of its step.
pub fn load_grid(dir: &Path, name: &str) -> Result<Grid, String> {
    let rows = read_rows(dir, name)?;
    let (first, last) = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => (f.0.div_euclid(SLOT_S), l.0.div_euclid(SLOT_S)),
        _ => return Err(format!("{name} has no rows")),
    };
    // The series' own step: the most common gap between rows, in slots.
    let mut gaps = std::collections::HashMap::new();
    for w in rows.windows(2) {
        *gaps
            .entry((w[1].0 - w[0].0).max(SLOT_S) / SLOT_S)
            .or_insert(0usize) += 1;
    }
    let step = gaps
        .into_iter()
        .max_by_key(|&(g, n)| (n, std::cmp::Reverse(g)))
        .map_or(1, |(g, _)| g.max(1));
    let mut counts = vec![0.0; (last - first + step) as usize];
    for (t, v) in rows {
        let slot = (t.div_euclid(SLOT_S) - first) as usize;
        for c in &mut counts[slot..slot + step as usize] {
            *c += v / step as f64;
        }
    }
    Ok(Grid {
        name: name.to_owned(),
        start: first * SLOT_S,
        counts,
    })
}

/// The `(time, value)` rows of a file, oldest first.
fn read_rows(dir: &Path, name: &str) -> Result<Vec<(i64, f64)>, String> {
    let path = dir.join(format!("{name}.csv.gz"));
    let file = std::fs::File::open(&path)
        .map_err(|e| format!("cannot open {}: {e} (pass --data DIR)", path.display()))?;
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut rows: Vec<(i64, f64)> = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", path.display()))?;
        if i == 0 || line.trim().is_empty() {
            continue; // header `timestamp,value`
        }
        let (ts, value) = line
            .split_once(',')
            .ok_or_else(|| format!("{}:{}: expected `timestamp,value`", path.display(), i + 1))?;
        let t = NaiveDateTime::parse_from_str(ts.trim(), "%Y-%m-%d %H:%M:%S")
            .map_err(|e| format!("{}:{}: bad time `{ts}`: {e}", path.display(), i + 1))?;
        let v: f64 = value
            .trim()
            .parse()
            .map_err(|e| format!("{}:{}: bad value `{value}`: {e}", path.display(), i + 1))?;
        rows.push((t.and_utc().timestamp(), v));
    }
    if rows.is_empty() {
        return Err(format!("{} has no rows", path.display()));
    }
    rows.sort_by_key(|r| r.0);
    Ok(rows)
}
