//! Reading the NAB series (`timestamp,value`, gzip'd) and resampling them to hourly bins.

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
}

/// Reads `dir/<name>.csv.gz` and bins it by hour. Missing 5-minute slots add nothing to their
/// hour (the README warns a few are missing in the Twitter series).
pub fn load(dir: &Path, name: &str) -> Result<Series, String> {
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
    rows.sort_by_key(|r| r.0);
    let (first, last) = match (rows.first(), rows.last()) {
        (Some(f), Some(l)) => (f.0.div_euclid(3600), l.0.div_euclid(3600)),
        _ => return Err(format!("{} has no rows", path.display())),
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
    })
}
