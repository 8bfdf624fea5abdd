//! Times on the command line: RFC 3339 (`2026-11-21T08:00:00Z`), a date (`2026-11-21`, midnight
//! UTC) or an age (`90m`, `24h`, `7d`) counted back from now.

use chrono::{DateTime, NaiveDate, Utc};
use cliffwatch_core::Error;

pub fn parse(s: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, Error> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num.parse().map_err(|_| bad(s))?;
    let secs = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(bad(s)),
    };
    // Checked: `--since 9999999999999999s` is out of chrono's range, not a panic.
    chrono::TimeDelta::try_seconds(n.saturating_mul(secs))
        .and_then(|d| now.checked_sub_signed(d))
        .ok_or_else(|| bad(s))
}

fn bad(s: &str) -> Error {
    Error::InvalidInput(format!(
        "`{s}` is not a time: use RFC 3339 (2026-11-21T08:00:00Z), a date (2026-11-21) or an age (24h, 7d)"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn an_age_beyond_the_calendar_is_an_error_not_a_panic() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 8, 0, 0).unwrap();
        for s in [
            "9999999999999999s",
            "9223372036854775807w",
            "106751991167301d",
        ] {
            assert!(parse(s, now).is_err(), "{s} lies outside chrono's range");
        }
    }

    #[test]
    fn parses_the_three_forms() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        assert_eq!(
            parse("24h", now).unwrap(),
            now - chrono::Duration::hours(24)
        );
        assert_eq!(parse("7d", now).unwrap(), now - chrono::Duration::days(7));
        assert_eq!(
            parse("2026-11-20", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0).unwrap()
        );
        assert_eq!(
            parse("2026-11-21T08:00:00+01:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 21, 7, 0, 0).unwrap()
        );
        assert!(parse("yesterday", now).is_err());
        assert!(parse("5y", now).is_err());
    }
}
