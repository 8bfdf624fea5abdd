//! Alert rules: what each kind of alert watches, its thresholds, and the hysteresis that keeps a
//! balance hovering at a threshold from raising an alert at every poll. Pure: a [`Snapshot`]
//! of one account in, a [`Check`] per kind out.

use crate::forecast::ForecastState;
use crate::model::AccountState;
use chrono::{DateTime, Timelike, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// A raised alert clears only once its measure is this much past the threshold (10 %): a
/// balance wobbling by cents around 10.00 stays one episode.
pub const LOW_BALANCE_HYSTERESIS: f64 = 0.10;
/// A runway alert clears only once P10 is 25 % above its threshold (72 h → 90 h): the runway
/// band moves more than a balance does from one poll to the next.
pub const RUNWAY_HYSTERESIS: f64 = 0.25;
/// A rise counts as a top-up for re-arming only if it adds at least 20 % of the new level:
/// rounding wobbles and refunds of cents do not re-arm, a real top-up or a quota reset does.
pub const MATERIAL_TOP_UP: f64 = 0.20;

/// The kinds of alert, as stored in `alerts.kind`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AlertKind {
    LowBalance,
    RunwayWarning,
    RunwayCritical,
    OutOfCredit,
    KeyInvalid,
    PollFailing,
    /// Many payment challenges from one host in an hour, none paid (off unless the user sets
    /// `rules.unpaid_challenges_per_hour`). About a host, not an account: not in [`Self::ALL`].
    UnpaidChallenges,
}

impl AlertKind {
    pub const ALL: [AlertKind; 6] = [
        AlertKind::LowBalance,
        AlertKind::RunwayWarning,
        AlertKind::RunwayCritical,
        AlertKind::OutOfCredit,
        AlertKind::KeyInvalid,
        AlertKind::PollFailing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::LowBalance => "low_balance",
            AlertKind::RunwayWarning => "runway_warning",
            AlertKind::RunwayCritical => "runway_critical",
            AlertKind::OutOfCredit => "out_of_credit",
            AlertKind::KeyInvalid => "key_invalid",
            AlertKind::PollFailing => "poll_failing",
            AlertKind::UnpaidChallenges => "unpaid_challenges",
        }
    }

    /// Where the kind stands among the alerts that tell one story, the money running out:
    /// out of credit > runway critical > runway warning > low balance. When several of them
    /// are due for an account in one evaluation pass only the highest is delivered (see
    /// [`super::evaluate`]). `None` for alerts about something else (the key, polling).
    pub fn balance_rank(self) -> Option<u8> {
        match self {
            AlertKind::LowBalance => Some(0),
            AlertKind::RunwayWarning => Some(1),
            AlertKind::RunwayCritical => Some(2),
            AlertKind::OutOfCredit => Some(3),
            AlertKind::KeyInvalid | AlertKind::PollFailing | AlertKind::UnpaidChallenges => None,
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            AlertKind::RunwayCritical | AlertKind::OutOfCredit => Severity::Critical,
            AlertKind::LowBalance
            | AlertKind::RunwayWarning
            | AlertKind::KeyInvalid
            | AlertKind::UnpaidChallenges => Severity::Warning,
            AlertKind::PollFailing => Severity::Info,
        }
    }
}

/// How urgent an alert is, as stored in `alerts.severity`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }

    /// The severity [`Severity::as_str`] wrote, or `None` for any other text.
    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Info, Severity::Warning, Severity::Critical]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// How bad one account stands, decided in core from its state, its forecast and the user's
/// alert thresholds (the tray's colour, the window's tones). Ordered from good to worst, so
/// the worst of many is their maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum AccountSeverity {
    Ok,
    /// Never polled: nothing is known yet.
    Unknown,
    /// The last poll failed (the provider or the network); the key may still be fine.
    Error,
    /// The runway's early end (P10) is below the warning threshold.
    Warning,
    /// P10 below the critical threshold, or the key was rejected.
    Critical,
    OutOfCredit,
}

impl AccountSeverity {
    /// One account's severity: out of credit (said by the provider or read as zero) first, then
    /// its state, then its runway's early (P10) end against the thresholds of `rules` (the same
    /// ones its runway alerts use).
    pub fn of(
        account: &crate::model::Account,
        latest: Option<&crate::model::BalanceSample>,
        forecast: &crate::forecast::Forecast,
        rules: &AlertRules,
    ) -> Self {
        // Money gone outranks everything: a failed poll after a zero reading is still a cliff.
        if account.state == AccountState::OutOfCredit
            || forecast.state == ForecastState::OutOfCredit
        {
            return Self::OutOfCredit;
        }
        match account.state {
            AccountState::InvalidKey => return Self::Critical,
            AccountState::Error => return Self::Error,
            AccountState::Unknown if latest.is_none() => return Self::Unknown,
            _ => {}
        }
        match forecast.runway_hours {
            Some(r) if r.p10 < rules.runway_critical_hours => Self::Critical,
            Some(r) if r.p10 < rules.runway_warning_hours => Self::Warning,
            _ => Self::Ok,
        }
    }

    /// The worst of `all`; `Unknown` when there are none.
    pub fn worst(all: impl IntoIterator<Item = Self>) -> Self {
        all.into_iter().max().unwrap_or(Self::Unknown)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Unknown => "unknown",
            Self::Error => "error",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::OutOfCredit => "out_of_credit",
        }
    }
}

/// One account's alert rules. Stored as JSON in `settings` (`alerts.rules` for every account,
/// `alerts.rules.<account id>` for one); missing fields take the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct AlertRules {
    /// Alert when remaining falls below this amount (in the account's unit).
    pub low_balance_amount: Option<f64>,
    /// Alert when remaining falls below this percentage of the last top-up (the level it
    /// reached) or of the quota's limit.
    pub low_balance_percent: Option<f64>,
    /// Warn when the early end (P10) of the runway is below this many hours.
    pub runway_warning_hours: f64,
    /// Critical when P10 is below this many hours.
    pub runway_critical_hours: f64,
    /// Alert when balance checks have failed for longer than this many hours.
    pub poll_failing_hours: f64,
    /// All alerts for the account on or off.
    pub enabled: bool,
    /// Alert when one host has asked for payment this many times within an hour and none was
    /// paid (an agent stuck on a price it cannot or may not pay). `None`: a price asked is
    /// never an alert (the default).
    pub unpaid_challenges_per_hour: Option<u32>,
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules {
            low_balance_amount: None,
            low_balance_percent: Some(10.0),
            runway_warning_hours: 72.0,
            runway_critical_hours: 24.0,
            poll_failing_hours: 1.0,
            enabled: true,
            unpaid_challenges_per_hour: None,
        }
    }
}

/// Hours of the day when only critical alerts make a sound; the others wait until the quiet
/// hours end. Local time is that of `zone` (an IANA name such as "Europe/Berlin", so that
/// 22:00 stays 22:00 across daylight-saving changes), or UTC + `utc_offset_minutes` when no
/// zone is known (settings saved before zones were kept, or an unknown name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct QuietHours {
    /// Minute of the local day quiet hours start (22:00 = 1320).
    pub start_minute: u32,
    /// Minute of the local day they end (07:00 = 420); may be before `start_minute`.
    pub end_minute: u32,
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub zone: Option<String>,
}

impl QuietHours {
    /// The zone, if it is one the time-zone database knows.
    pub fn tz(&self) -> Option<chrono_tz::Tz> {
        self.zone.as_deref()?.parse().ok()
    }

    pub fn contains(&self, now: DateTime<Utc>) -> bool {
        let (hour, minute) = match self.tz() {
            Some(tz) => {
                let local = now.with_timezone(&tz);
                (local.hour(), local.minute())
            }
            None => {
                let local = now + chrono::Duration::minutes(self.utc_offset_minutes as i64);
                (local.hour(), local.minute())
            }
        };
        let m = hour * 60 + minute;
        if self.start_minute <= self.end_minute {
            (self.start_minute..self.end_minute).contains(&m)
        } else {
            m >= self.start_minute || m < self.end_minute
        }
    }
}

/// What is known about an account at one evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub remaining: Option<f64>,
    /// The level the last material top-up reached, or the quota's limit.
    pub reference: Option<f64>,
    pub forecast_state: ForecastState,
    /// The early end of the runway band, in hours.
    pub p10_hours: Option<f64>,
    pub account_state: AccountState,
    /// A 402 / out-of-credit event was seen (poll or log) after the last material top-up.
    pub out_of_credit_event: bool,
    /// Hours since the last successful reading (or since the account was added).
    pub hours_since_ok: f64,
}

/// What a rule says about its alert right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The condition holds: raise an alert if none is open.
    Raise,
    /// Between the raise and the clear thresholds: keep what is there, raise nothing new.
    Hold,
    /// The condition is over: resolve the open alert, so the next crossing alerts again.
    Clear,
}

/// The rule for `kind`. `topped_up` says whether a material top-up happened since the open
/// alert was raised: a top-up re-arms without waiting for the hysteresis margin.
pub fn check(kind: AlertKind, s: &Snapshot, rules: &AlertRules, topped_up: bool) -> Check {
    if !rules.enabled {
        return Check::Clear;
    }
    let out = s.forecast_state == ForecastState::OutOfCredit
        || s.account_state == AccountState::OutOfCredit
        || s.out_of_credit_event;
    match kind {
        AlertKind::LowBalance => {
            let by_pct = rules
                .low_balance_percent
                .zip(s.reference)
                .map(|(p, r)| p / 100.0 * r);
            let threshold = match (rules.low_balance_amount, by_pct) {
                (Some(a), Some(b)) => a.max(b),
                (a, b) => match a.or(b) {
                    Some(t) => t,
                    None => return Check::Clear,
                },
            };
            let Some(rem) = s.remaining else {
                return Check::Hold;
            };
            band(
                rem,
                threshold,
                threshold * (1.0 + LOW_BALANCE_HYSTERESIS),
                topped_up,
            )
        }
        AlertKind::RunwayWarning | AlertKind::RunwayCritical => {
            let threshold = if kind == AlertKind::RunwayWarning {
                rules.runway_warning_hours
            } else {
                rules.runway_critical_hours
            };
            match (s.forecast_state, s.p10_hours) {
                // The out-of-credit alert speaks now; a runway alert raised earlier stays.
                _ if out => Check::Hold,
                (ForecastState::Idle, _) => Check::Clear,
                (ForecastState::Ok, Some(p10)) => band(
                    p10,
                    threshold,
                    threshold * (1.0 + RUNWAY_HYSTERESIS),
                    topped_up,
                ),
                _ => Check::Hold,
            }
        }
        AlertKind::OutOfCredit => {
            if out {
                Check::Raise
            } else if topped_up && s.remaining.is_some_and(|r| r > 0.0) {
                Check::Clear
            } else {
                Check::Hold
            }
        }
        AlertKind::KeyInvalid => {
            if s.account_state == AccountState::InvalidKey {
                Check::Raise
            } else {
                Check::Clear
            }
        }
        AlertKind::PollFailing => match s.account_state {
            AccountState::Error if s.hours_since_ok > rules.poll_failing_hours => Check::Raise,
            AccountState::Error => Check::Hold,
            _ => Check::Clear,
        },
        // Decided per host in `super::unpaid`, not from an account's snapshot.
        AlertKind::UnpaidChallenges => Check::Clear,
    }
}

/// Below `raise` → Raise; at or above `clear` (or above `raise` after a top-up) → Clear.
fn band(value: f64, raise: f64, clear: f64, topped_up: bool) -> Check {
    if value < raise {
        Check::Raise
    } else if value >= clear || topped_up {
        Check::Clear
    } else {
        Check::Hold
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use rstest::rstest;

    fn snap(remaining: f64, p10: Option<f64>) -> Snapshot {
        Snapshot {
            remaining: Some(remaining),
            reference: Some(100.0),
            forecast_state: if p10.is_some() {
                ForecastState::Ok
            } else {
                ForecastState::Learning
            },
            p10_hours: p10,
            account_state: AccountState::Ok,
            out_of_credit_event: false,
            hours_since_ok: 0.0,
        }
    }

    #[rstest]
    #[case::above(12.0, false, Check::Clear)]
    #[case::below(9.0, false, Check::Raise)]
    #[case::hovering_above(10.5, false, Check::Hold)]
    #[case::wobble_up_is_not_a_top_up(10.5, false, Check::Hold)]
    #[case::top_up_rearms_without_the_margin(10.5, true, Check::Clear)]
    #[case::small_top_up_still_below(9.5, true, Check::Raise)]
    fn low_balance_has_hysteresis(#[case] rem: f64, #[case] topped_up: bool, #[case] want: Check) {
        // 10 % of the last top-up's 100 → threshold 10, clear at 11.
        assert_eq!(
            check(
                AlertKind::LowBalance,
                &snap(rem, None),
                &AlertRules::default(),
                topped_up
            ),
            want
        );
    }

    #[rstest]
    #[case::far(Some(200.0), AlertKind::RunwayWarning, Check::Clear)]
    #[case::warn(Some(60.0), AlertKind::RunwayWarning, Check::Raise)]
    #[case::margin(Some(80.0), AlertKind::RunwayWarning, Check::Hold)]
    #[case::not_critical(Some(60.0), AlertKind::RunwayCritical, Check::Clear)]
    #[case::critical(Some(20.0), AlertKind::RunwayCritical, Check::Raise)]
    #[case::learning(None, AlertKind::RunwayWarning, Check::Hold)]
    fn runway_thresholds(#[case] p10: Option<f64>, #[case] kind: AlertKind, #[case] want: Check) {
        assert_eq!(
            check(kind, &snap(50.0, p10), &AlertRules::default(), false),
            want
        );
    }

    #[test]
    fn out_of_credit_waits_for_a_top_up_and_disabled_rules_clear() {
        let mut s = snap(0.0, None);
        s.forecast_state = ForecastState::OutOfCredit;
        assert_eq!(
            check(AlertKind::OutOfCredit, &s, &AlertRules::default(), false),
            Check::Raise
        );
        assert_eq!(
            check(AlertKind::RunwayCritical, &s, &AlertRules::default(), false),
            Check::Hold,
            "no new runway alert once the credit is gone"
        );
        let after = snap(0.5, Some(1.0));
        assert_eq!(
            check(
                AlertKind::OutOfCredit,
                &after,
                &AlertRules::default(),
                false
            ),
            Check::Hold,
            "no top-up yet"
        );
        assert_eq!(
            check(AlertKind::OutOfCredit, &after, &AlertRules::default(), true),
            Check::Clear,
            "re-armed"
        );
        let off = AlertRules {
            enabled: false,
            ..AlertRules::default()
        };
        assert_eq!(
            check(AlertKind::OutOfCredit, &s, &off, false),
            Check::Clear,
            "disabled"
        );
    }

    #[rstest]
    #[case::overnight(QuietHours { start_minute: 22 * 60, end_minute: 7 * 60, utc_offset_minutes: 0, zone: None }, 23, true)]
    #[case::overnight_morning(QuietHours { start_minute: 22 * 60, end_minute: 7 * 60, utc_offset_minutes: 0, zone: None }, 6, true)]
    #[case::overnight_day(QuietHours { start_minute: 22 * 60, end_minute: 7 * 60, utc_offset_minutes: 0, zone: None }, 12, false)]
    #[case::offset(QuietHours { start_minute: 22 * 60, end_minute: 7 * 60, utc_offset_minutes: 120, zone: None }, 21, true)]
    #[case::daytime(QuietHours { start_minute: 9 * 60, end_minute: 17 * 60, utc_offset_minutes: 0, zone: None }, 17, false)]
    fn quiet_hours_wrap_midnight(
        #[case] q: QuietHours,
        #[case] utc_hour: u32,
        #[case] quiet: bool,
    ) {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, utc_hour, 0, 0).unwrap();
        assert_eq!(q.contains(now), quiet, "{q:?} at {utc_hour}:00 UTC");
    }

    /// 22:00–07:00 in Berlin, saved in winter (UTC+1): in summer (UTC+2) they still start at
    /// 22:00 Berlin time, 20:00 UTC, which the fixed winter offset would put at 21:00.
    #[rstest]
    #[case::winter_evening((2026, 1, 15, 21, 30), true)]
    #[case::winter_before((2026, 1, 15, 20, 30), false)]
    #[case::summer_evening((2026, 7, 15, 20, 30), true)]
    #[case::summer_morning_end((2026, 7, 15, 5, 0), false)]
    #[case::summer_morning((2026, 7, 15, 4, 30), true)]
    fn quiet_hours_follow_the_zone_across_daylight_saving(
        #[case] utc: (i32, u32, u32, u32, u32),
        #[case] quiet: bool,
    ) {
        let q = QuietHours {
            start_minute: 22 * 60,
            end_minute: 7 * 60,
            utc_offset_minutes: 60,
            zone: Some("Europe/Berlin".into()),
        };
        let (y, mo, d, h, mi) = utc;
        let now = Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap();
        assert_eq!(q.contains(now), quiet, "{utc:?} UTC");
        let fixed = QuietHours {
            zone: None,
            ..q.clone()
        };
        if (mo, h, mi) == (7, 20, 30) {
            assert!(!fixed.contains(now), "a fixed offset gets summer wrong");
        }
        let unknown = QuietHours {
            zone: Some("Mars/Olympus".into()),
            ..q
        };
        assert_eq!(
            unknown.contains(now),
            fixed.contains(now),
            "unknown zone: the offset"
        );
    }
}
