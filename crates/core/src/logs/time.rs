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
            .from_local_datetime(&(naive + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc)),
    }
}

/// RFC 3339 (any offset), or a naive `YYYY-MM-DD[T ]HH:MM:SS[.,fff]` in `zone`.
pub fn parse_text(s: &str, zone: Tz) -> Option<DateTime<Utc>> {
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

/// Epoch seconds (float) or milliseconds (integer above 10^11, i.e. after 1973 in ms).
pub fn parse_epoch(v: f64) -> Option<DateTime<Utc>> {
    if !v.is_finite() || v < 0.0 {
        return None;
    }
    let secs = if v > 1e11 { v / 1000.0 } else { v };
    let whole = secs.trunc() as i64;
    let nanos = ((secs - secs.trunc()) * 1e9).round() as u32;
    DateTime::from_timestamp(whole, nanos.min(999_999_999))
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
    parse_text(&line[..end], zone).map(|t| (t, end))
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
