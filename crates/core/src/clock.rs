//! Time is a parameter. Core logic never reads the wall clock itself; it is handed a [`Clock`]
//! (or a `now`), so forecasts, alert rules and schedulers can be tested at any instant.

use chrono::{DateTime, Utc};
use std::sync::Mutex;

/// A source of the current time.
pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// The real wall clock. The only place in core allowed to call `Utc::now`.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock that stands still until told to move; for tests and the demo's compressed time.
#[derive(Debug)]
pub struct ManualClock(Mutex<DateTime<Utc>>);

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }

    pub fn advance(&self, by: chrono::Duration) {
        let mut t = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *t += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Formats a time the way the store keeps it: RFC 3339, UTC, millisecond precision, `Z`.
/// Text in this form sorts in time order, which the SQL queries rely on.
pub fn to_db(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Whether [`from_db`] can read back what [`to_db`] writes for `t`: RFC 3339 has four-digit
/// years, so a year past 9999 (an epoch in microseconds read as milliseconds lands near 56 000)
/// or before year 1 would be written and then fail every read of its table.
pub fn storable(t: DateTime<Utc>) -> bool {
    (1..=9999).contains(&chrono::Datelike::year(&t))
}

/// [`to_db`] for a value that is about to be written: a time the store could not read back is
/// refused, so no row is ever written that poisons later reads.
pub fn to_db_checked(t: DateTime<Utc>) -> crate::Result<String> {
    if storable(t) {
        Ok(to_db(t))
    } else {
        Err(crate::Error::InvalidInput(format!(
            "the time {t} is outside what the store keeps (years 1 to 9999)"
        )))
    }
}

/// Parses a time written by [`to_db`] (or any RFC 3339 time).
pub fn from_db(s: &str) -> crate::Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| crate::Error::Malformed(format!("bad timestamp `{s}` in the database: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn db_times_sort_as_text_in_time_order() {
        let a = Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        let b = a + chrono::Duration::milliseconds(1);
        assert!(
            to_db(a) < to_db(b),
            "SQL ORDER BY on the text column must follow time"
        );
        assert_eq!(from_db(&to_db(a)).unwrap(), a, "round trip must be exact");
    }

    #[test]
    fn only_times_that_read_back_are_storable() {
        let far = DateTime::from_timestamp_millis(1_716_723_772_500_000).unwrap();
        assert!(!storable(far), "year ~56 000 cannot be read back");
        assert!(
            from_db(&to_db(far)).is_err(),
            "the reason: RFC 3339 has 4-digit years"
        );
        assert!(to_db_checked(far).is_err());
        let ok = Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap();
        assert_eq!(from_db(&to_db_checked(ok).unwrap()).unwrap(), ok);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let c = ManualClock::new(t0);
        assert_eq!(c.now(), t0);
        c.advance(chrono::Duration::hours(2));
        assert_eq!(c.now(), t0 + chrono::Duration::hours(2));
    }
}
