//! Timestamps as logs write them: RFC 3339, epoch seconds or milliseconds, Apache's
//! `10/Oct/2000:13:55:36 -0700`, and naive local times that take the source's zone.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// A naive local time in `zone`, as UTC. In a DST gap the time is taken as if the clock had
/// already moved; in an overlap, the earlier instant.
pub fn local_to_utc(naive: NaiveDateTime, zone: Tz) -> Option<DateTime<Utc>> {
    match zone.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(a, _) => Some(a.with_timezone(&Utc)),
        chrono::LocalResult::None => zone
            .from_local_datetime(&naive.checked_add_signed(chrono::TimeDelta::hours(1))?)
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// The window a log's timestamp must fall in to be believed: a time outside it is a misread
/// (an epoch in the wrong unit, a year typed with five digits) and the caller falls back to the
/// file's time. Every time in it is also one the store can read back.
const SANE_YEARS: std::ops::RangeInclusive<i32> = 1990..=2199;

fn sane(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    SANE_YEARS
        .contains(&chrono::Datelike::year(&t))
        .then_some(t)
}

/// RFC 3339 (any offset), or a naive `YYYY-MM-DD[T ]HH:MM:SS[.,fff]` in `zone`.
pub fn parse_text(s: &str, zone: Tz) -> Option<DateTime<Utc>> {
    parse_text_any(s, zone).and_then(sane)
}

fn parse_text_any(s: &str, zone: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.replace(',', ".");
    for f in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(n) = NaiveDateTime::parse_from_str(&s, f) {
            return local_to_utc(n, zone);
        }
    }
    None
}

/// Epoch seconds (float), milliseconds (above 10^11), microseconds (above 10^14) or
/// nanoseconds (above 10^17): each threshold is where the smaller unit would pass year 5000,
/// so a log that writes µs or ns (Go's and Rust's tracing do) is read in its own unit.
pub fn parse_epoch(v: f64) -> Option<DateTime<Utc>> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let secs = if v > 1e17 {
        v / 1e9
    } else if v > 1e14 {
        v / 1e6
    } else if v > 1e11 {
        v / 1000.0
    } else {
        v
    };
    let whole = secs.trunc() as i64;
    let nanos = ((secs - secs.trunc()) * 1e9).round() as u32;
    DateTime::from_timestamp(whole, nanos.min(999_999_999)).and_then(sane)
}

/// A JSON time value: a number (epoch) or a string.
pub fn parse_json(v: &serde_json::Value, zone: Tz) -> Option<DateTime<Utc>> {
    match v {
        serde_json::Value::Number(n) => n.as_f64().and_then(parse_epoch),
        serde_json::Value::String(s) => {
            parse_text(s, zone).or_else(|| s.trim().parse::<f64>().ok().and_then(parse_epoch))
        }
        _ => None,
    }
}

/// Apache/nginx `%t` without the brackets: `26/Dec/2016:16:16:29 +0200`.
pub fn parse_clf(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, "%d/%b/%Y:%H:%M:%S %z")
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .and_then(sane)
}

/// A leading `YYYY-MM-DD HH:MM:SS[,fff]` of a line (Python logging's `asctime`), in `zone`.
pub fn leading_asctime(line: &str, zone: Tz) -> Option<(DateTime<Utc>, usize)> {
    let b = line.as_bytes();
    if b.len() < 19 || !(b[4] == b'-' && b[7] == b'-' && (b[10] == b' ' || b[10] == b'T')) {
        return None;
    }
    let mut end = 19;
    if b.len() > 20 && (b[19] == b',' || b[19] == b'.') {
        end = 20 + b[20..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    // `get`, not `[..end]`: a multi-byte character may straddle byte 19 of an odd line.
    parse_text(line.get(..end)?, zone).map(|t| (t, end))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_take_the_zone() {
        let t = parse_text("2026-07-01 12:00:00", chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(
            t.to_rfc3339(),
            "2026-07-01T10:00:00+00:00",
            "Berlin is UTC+2 in summer"
        );
        let t = parse_text("2026-07-01T12:00:00Z", chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(
            t.to_rfc3339(),
            "2026-07-01T12:00:00+00:00",
            "an explicit offset wins over the zone"
        );
    }

    #[test]
    fn epochs_in_seconds_and_millis() {
        assert_eq!(
            parse_epoch(1_716_723_772.5).unwrap().timestamp_millis(),
            1_716_723_772_500
        );
        assert_eq!(
            parse_epoch(1_716_723_772_500.0).unwrap().timestamp_millis(),
            1_716_723_772_500
        );
    }

    #[test]
    fn epochs_in_micro_and_nanoseconds_are_read_in_their_unit() {
        let ms = 1_716_723_772_500i64;
        for v in [ms as f64 * 1e3, ms as f64 * 1e6] {
            let t = parse_epoch(v).expect("µs and ns epochs are times, not year 56 000");
            assert_eq!(t.timestamp_millis(), ms, "{v}");
        }
    }

    #[test]
    fn times_outside_the_sane_window_are_not_believed() {
        // Each would be stored in a form the store cannot read back, or is a misread.
        assert_eq!(parse_epoch(9e16), None, "µs, but year ~4800: a misread");
        assert_eq!(parse_text("+12345-01-01T00:00:00Z", chrono_tz::UTC), None);
        assert_eq!(parse_text("0001-01-01 00:00:00", chrono_tz::UTC), None);
        assert_eq!(parse_clf("26/Dec/9999:16:16:29 +0200"), None);
        assert!(parse_text("2026-01-01T00:00:00Z", chrono_tz::UTC).is_some());
    }

    #[test]
    fn a_multibyte_character_at_byte_19_is_no_timestamp_and_no_panic() {
        // `é` takes bytes 18 and 19: slicing at 19 would panic inside it.
        let line = "2026-01-01 00:00:0\u{e9} [scrapy] DEBUG: Crawled (402) <GET https://x/?k=1>";
        assert_eq!(leading_asctime(line, chrono_tz::UTC), None);
        let line = "2026-01-01 00:00:00,\u{e9}\u{e9} rest";
        assert_eq!(
            leading_asctime(line, chrono_tz::UTC),
            None,
            "a comma then no digits"
        );
    }

    #[test]
    fn clf_times_keep_their_offset() {
        let t = parse_clf("26/Dec/2016:16:16:29 +0200").unwrap();
        assert_eq!(t.to_rfc3339(), "2016-12-26T14:16:29+00:00");
    }

    #[test]
    fn asctime_prefix_with_millis() {
        let (t, end) = leading_asctime("2026-11-21 10:00:00,250 DEBUG x", chrono_tz::UTC).unwrap();
        assert_eq!(end, 23, "the prefix length lets the caller skip it");
        assert_eq!(t.timestamp_subsec_millis(), 250);
    }
}
