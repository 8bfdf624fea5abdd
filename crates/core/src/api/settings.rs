//! Settings: read and save what the Settings screen (and `cliffwatch settings`) shows, one
//! key at a time for the CLI, and what the engine derives from them: its scheduler's cadence,
//! its notification policy and where it serves the read API. The engine reads these itself; no
//! host translates them.

use crate::alerts::{self, AlertRules, QuietHours};
use crate::db;
use crate::events::Change;
use crate::poll::SchedulerConfig;
use crate::{Cliffwatch, Error, Result};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Light, dark, or whatever the system says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// The settings screen, read and written as one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Settings {
    /// Seconds between balance polls for accounts without their own interval.
    pub poll_interval_s: u32,
    pub rules: AlertRules,
    pub quiet_hours: Option<QuietHours>,
    pub notifications: bool,
    pub theme: Theme,
    /// Where the engine serves the local read API (`/metrics`, `/v1/…`): a loopback socket
    /// address such as `127.0.0.1:9402`, or null for off.
    #[serde(default)]
    pub listen: Option<String>,
    /// Where the engine serves the recording proxy (`/a/<account>/…`): a loopback socket
    /// address such as `127.0.0.1:8402`, or null for off (the default).
    #[serde(default)]
    pub proxy: Option<String>,
}

/// Settings keys (in `settings`) of what [`Settings`] holds besides the alert rules.
pub const POLL_INTERVAL_KEY: &str = "poll.interval_s";
pub const NOTIFICATIONS_KEY: &str = "notifications.enabled";
pub const THEME_KEY: &str = "ui.theme";
pub const LISTEN_KEY: &str = "api.listen";
pub const PROXY_KEY: &str = "proxy.listen";
/// The port the README, the systemd drop-in and the Prometheus example use.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:9402";
/// Five minutes: frequent enough to see a drain, polite to every provider.
pub const DEFAULT_POLL_INTERVAL_S: u32 = 300;
/// Polls more often than every 30 s would hit providers' own limits; daily is the slowest
/// that still forecasts.
const POLL_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 30..=86_400;

/// The settings, with defaults for what was never set.
pub async fn get(cw: &Cliffwatch) -> Result<Settings> {
    let pool = cw.pool();
    let get = |k: &'static str| db::settings::get(pool, k);
    Ok(Settings {
        poll_interval_s: get(POLL_INTERVAL_KEY)
            .await?
            .and_then(|v| v.as_u64())
            .map_or(DEFAULT_POLL_INTERVAL_S, |v| v as u32),
        rules: db::settings::get(pool, alerts::RULES_KEY)
            .await?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        quiet_hours: alerts::quiet_hours(pool).await?,
        notifications: get(NOTIFICATIONS_KEY)
            .await?
            .and_then(|v| v.as_bool())
            .unwrap_or(true),
        theme: get(THEME_KEY)
            .await?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        // A stored value that no longer checks out (edited by hand) reads as off, never as an
        // address the engine would bind.
        listen: get(LISTEN_KEY)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .and_then(|v| listen_addr(&v).ok())
            .map(|a| a.to_string()),
        proxy: get(PROXY_KEY)
            .await?
            .and_then(|v| v.as_str().map(str::to_owned))
            .and_then(|v| listen_addr(&v).ok())
            .map(|a| a.to_string()),
    })
}

/// Checks a read-API address from the settings: a socket address with a port, on loopback.
/// Elsewhere the API needs a bearer token, which only `cliffwatch watch --listen ADDR
/// --token-env VAR` takes (a token stored in the settings would be readable by anyone who can
/// read the database).
pub fn listen_addr(text: &str) -> Result<std::net::SocketAddr> {
    let text = text.trim();
    let addr: std::net::SocketAddr = text.parse().map_err(|_| {
        Error::InvalidInput(format!(
            "`{text}` is not an address with a port: write it like {DEFAULT_LISTEN} or [::1]:9402"
        ))
    })?;
    if !addr.ip().is_loopback() {
        return Err(Error::InvalidInput(format!(
            "{addr} is not a loopback address: the read API setting listens on this machine only \
             (127.0.0.1 or [::1]); elsewhere run `cliffwatch watch --listen {addr} --token-env VAR`"
        )));
    }
    if addr.port() == 0 {
        return Err(Error::InvalidInput(
            "the read API needs a fixed port (1 to 65535), not 0: scrapers must know where to look"
                .into(),
        ));
    }
    Ok(addr)
}

/// Checks and stores the settings; returns them as stored.
pub async fn save(cw: &Cliffwatch, s: &Settings) -> Result<Settings> {
    if !POLL_INTERVAL_RANGE.contains(&s.poll_interval_s) {
        return Err(Error::InvalidInput(format!(
            "the poll interval must be between {} s and {} s (a day), not {} s",
            POLL_INTERVAL_RANGE.start(),
            POLL_INTERVAL_RANGE.end(),
            s.poll_interval_s
        )));
    }
    let r = &s.rules;
    let hours_ok = |h: f64| h.is_finite() && (0.0..=24.0 * 365.0).contains(&h);
    if ![
        r.runway_warning_hours,
        r.runway_critical_hours,
        r.poll_failing_hours,
    ]
    .into_iter()
    .all(hours_ok)
    {
        return Err(Error::InvalidInput(
            "alert thresholds must be between 0 and 8760 hours".into(),
        ));
    }
    if r.runway_critical_hours > r.runway_warning_hours {
        return Err(Error::InvalidInput(
            "the critical runway must be shorter than the warning runway".into(),
        ));
    }
    if r.low_balance_percent
        .is_some_and(|p| !(0.0..=100.0).contains(&p))
        || r.low_balance_amount
            .is_some_and(|a| !a.is_finite() || a < 0.0)
    {
        return Err(Error::InvalidInput(
            "a low-balance threshold must be a positive amount or a percentage from 0 to 100"
                .into(),
        ));
    }
    if let Some(q) = &s.quiet_hours {
        if q.start_minute >= 1440 || q.end_minute >= 1440 || q.utc_offset_minutes.abs() > 14 * 60 {
            return Err(Error::InvalidInput(
                "quiet hours must be times of day (00:00–23:59)".into(),
            ));
        }
    }
    // A zone name this build does not know (the webview's may be newer than our database) is
    // not kept: the fixed offset that came with it is the fallback, as in `contains`.
    let mut s = s.clone();
    s.listen = match s.listen.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(listen_addr(text)?.to_string()),
    };
    s.proxy = match s.proxy.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(listen_addr(text)?.to_string()),
    };
    if s.proxy.is_some() && s.proxy == s.listen {
        return Err(Error::InvalidInput(
            "the proxy and the read API need different ports".into(),
        ));
    }
    if let Some(q) = s
        .quiet_hours
        .as_mut()
        .filter(|q| q.zone.is_some() && q.tz().is_none())
    {
        q.zone = None;
    }
    let s = &s;
    let pool = cw.pool();
    let mut tx = crate::db::begin_write(pool).await?;
    db::settings::set(&mut *tx, POLL_INTERVAL_KEY, &s.poll_interval_s.into()).await?;
    db::settings::set(&mut *tx, NOTIFICATIONS_KEY, &s.notifications.into()).await?;
    db::settings::set(&mut *tx, THEME_KEY, &to_json(&s.theme)?).await?;
    db::settings::set(&mut *tx, alerts::RULES_KEY, &to_json(&s.rules)?).await?;
    db::settings::set(&mut *tx, alerts::QUIET_HOURS_KEY, &to_json(&s.quiet_hours)?).await?;
    db::settings::set(&mut *tx, LISTEN_KEY, &to_json(&s.listen)?).await?;
    db::settings::set(&mut *tx, PROXY_KEY, &to_json(&s.proxy)?).await?;
    tx.commit().await?;
    cw.announce(Change::Settings);
    get(cw).await
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Malformed(e.to_string()))
}

/// The keys `cliffwatch settings set` takes, with what each holds.
pub const KEYS: [(&str, &str); 13] = [
    (
        "poll_interval_s",
        "seconds between balance polls (30 to 86400)",
    ),
    (
        "notifications",
        "desktop notifications on or off (true/false)",
    ),
    ("theme", "system, light or dark"),
    ("quiet_hours", "HH:MM-HH:MM [IANA zone], or off"),
    (
        "listen",
        "serve the read API (/metrics, /v1/…) on this loopback address (127.0.0.1:9402), or off",
    ),
    (
        "proxy",
        "serve the recording proxy (/a/<account>/…) on this loopback address (127.0.0.1:8402), or off",
    ),
    (
        "rules.runway_warning_hours",
        "warn when the runway's P10 is below this many hours",
    ),
    (
        "rules.runway_critical_hours",
        "critical when P10 is below this many hours",
    ),
    (
        "rules.low_balance_percent",
        "alert below this % of the last top-up or limit, or none",
    ),
    (
        "rules.low_balance_amount",
        "alert below this amount in the account's unit, or none",
    ),
    (
        "rules.poll_failing_hours",
        "alert when balance checks have failed this long",
    ),
    ("rules.enabled", "every alert on or off (true/false)"),
    (
        "rules.unpaid_challenges_per_hour",
        "alert when one host asks for payment this often in an hour, none paid; or off",
    ),
];

/// Sets one setting from its text (`cliffwatch settings set KEY VALUE`), checked as the
/// Settings screen's save is; returns all settings as stored.
pub async fn set(cw: &Cliffwatch, key: &str, value: &str) -> Result<Settings> {
    let mut s = get(cw).await?;
    let value = value.trim();
    let bad = |what: &str| Error::InvalidInput(format!("`{key}` takes {what}, not `{value}`"));
    let number = || {
        value
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| bad("a number"))
    };
    let optional = || match value {
        "none" | "off" | "" => Ok(None),
        _ => number().map(Some),
    };
    let switch = || match value {
        "true" | "on" | "yes" | "1" => Ok(true),
        "false" | "off" | "no" | "0" => Ok(false),
        _ => Err(bad("true or false")),
    };
    match key {
        "poll_interval_s" => s.poll_interval_s = value.parse().map_err(|_| bad("whole seconds"))?,
        "notifications" => s.notifications = switch()?,
        "theme" => {
            s.theme =
                serde_json::from_value(value.into()).map_err(|_| bad("system, light or dark"))?
        }
        "quiet_hours" => {
            s.quiet_hours =
                parse_quiet_hours(value).ok_or_else(|| bad("HH:MM-HH:MM [zone] or off"))?
        }
        "listen" => {
            s.listen = match value {
                "off" | "none" | "" => None,
                _ => Some(listen_addr(value)?.to_string()),
            }
        }
        "proxy" => {
            s.proxy = match value {
                "off" | "none" | "" => None,
                _ => Some(listen_addr(value)?.to_string()),
            }
        }
        "rules.runway_warning_hours" => s.rules.runway_warning_hours = number()?,
        "rules.runway_critical_hours" => s.rules.runway_critical_hours = number()?,
        "rules.low_balance_percent" => s.rules.low_balance_percent = optional()?,
        "rules.low_balance_amount" => s.rules.low_balance_amount = optional()?,
        "rules.poll_failing_hours" => s.rules.poll_failing_hours = number()?,
        "rules.enabled" => s.rules.enabled = switch()?,
        "rules.unpaid_challenges_per_hour" => {
            s.rules.unpaid_challenges_per_hour = match value {
                "none" | "off" | "" | "0" => None,
                _ => Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (1..=100_000).contains(n))
                        .ok_or_else(|| bad("a whole number of challenges (1 or more), or off"))?,
                ),
            }
        }
        _ => {
            return Err(Error::InvalidInput(format!(
                "no setting `{key}`: the keys are {}",
                KEYS.map(|(k, _)| k).join(", ")
            )))
        }
    }
    save(cw, &s).await
}

/// "22:00-07:00" or "22:00-07:00 Europe/Berlin" (`Some(Some(..))`), "off" (`Some(None)`), else
/// `None`. Without a zone the hours are UTC's.
fn parse_quiet_hours(text: &str) -> Option<Option<QuietHours>> {
    if matches!(text, "off" | "none" | "") {
        return Some(None);
    }
    let (span, zone) = match text.split_once(char::is_whitespace) {
        Some((span, zone)) => (span, Some(zone.trim().to_owned())),
        None => (text, None),
    };
    let (from, to) = span.split_once('-')?;
    let minute = |hm: &str| -> Option<u32> {
        let (h, m) = hm.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60 && hm.trim().len() <= 5).then_some(h * 60 + m)
    };
    let q = QuietHours {
        start_minute: minute(from)?,
        end_minute: minute(to)?,
        utc_offset_minutes: 0,
        zone,
    };
    // A zone the time-zone database does not know is refused here rather than dropped.
    if q.zone.is_some() && q.tz().is_none() {
        return None;
    }
    Some(Some(q))
}

/// Whether the running engine serves the read API now, and where (or why not).
pub fn read_api(cw: &Cliffwatch) -> crate::listen::ReadApiStatus {
    cw.read_api_status()
}

/// Whether the running engine serves the recording proxy now, and where (or why not).
pub fn proxy(cw: &Cliffwatch) -> crate::listen::ReadApiStatus {
    cw.proxy_status()
}

/// Where the engine serves the proxy by the settings, or `None` for off.
pub fn proxy_addr(s: &Settings) -> Option<std::net::SocketAddr> {
    listen_addr(s.proxy.as_deref()?).ok()
}

/// Where the engine serves the read API by the settings: a loopback address (no token), or
/// `None` for off.
pub fn listen_config(s: &Settings) -> Option<crate::listen::ListenConfig> {
    let addr = listen_addr(s.listen.as_deref()?).ok()?;
    Some(crate::listen::ListenConfig { addr, token: None })
}

/// The scheduler's cadence from the settings: the poll interval for accounts that set none.
pub fn scheduler_config(s: &Settings) -> SchedulerConfig {
    SchedulerConfig {
        default_interval: std::time::Duration::from_secs(u64::from(s.poll_interval_s.max(1))),
        ..SchedulerConfig::default()
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    #[tokio::test]
    async fn settings_round_trip_and_bad_values_are_refused() {
        let (_tmp, cw) = open().await;
        let mut s = get(&cw).await.unwrap();
        assert_eq!(
            s.poll_interval_s, DEFAULT_POLL_INTERVAL_S,
            "defaults when never set"
        );
        assert!(s.notifications);
        s.theme = Theme::Dark;
        s.poll_interval_s = 600;
        s.quiet_hours = Some(QuietHours {
            start_minute: 1320,
            end_minute: 420,
            utc_offset_minutes: 60,
            zone: Some("Europe/Berlin".into()),
        });
        assert_eq!(save(&cw, &s).await.unwrap(), s, "stored as given");
        let bad = Settings {
            poll_interval_s: 1,
            ..s.clone()
        };
        assert_eq!(save(&cw, &bad).await.unwrap_err().kind(), "invalid_input");
        let mut unknown = s.clone();
        if let Some(q) = &mut unknown.quiet_hours {
            q.zone = Some("Europe/Atlantis".into());
        }
        let saved = save(&cw, &unknown).await.unwrap();
        assert_eq!(
            saved
                .quiet_hours
                .as_ref()
                .map(|q| (q.zone.clone(), q.utc_offset_minutes)),
            Some((None, 60)),
            "an unknown time zone is not kept: its offset is the fallback"
        );
        save(&cw, &s).await.unwrap();
        let mut bad = s.clone();
        bad.rules.runway_critical_hours = 100.0;
        assert_eq!(
            save(&cw, &bad).await.unwrap_err().kind(),
            "invalid_input",
            "critical must be shorter than warning"
        );
        assert_eq!(get(&cw).await.unwrap(), s, "a refused save changes nothing");
    }

    #[tokio::test]
    async fn one_key_at_a_time_is_checked_like_the_screen() {
        let (_tmp, cw) = open().await;
        let s = set(&cw, "poll_interval_s", "900").await.unwrap();
        assert_eq!(s.poll_interval_s, 900);
        assert_eq!(get(&cw).await.unwrap().poll_interval_s, 900, "stored");
        let s = set(&cw, "notifications", "off").await.unwrap();
        assert!(!s.notifications);
        let s = set(&cw, "rules.runway_warning_hours", "96").await.unwrap();
        assert_eq!(s.rules.runway_warning_hours, 96.0);
        let s = set(&cw, "rules.low_balance_percent", "none").await.unwrap();
        assert_eq!(s.rules.low_balance_percent, None);
        let s = set(&cw, "quiet_hours", "22:30-07:00 Europe/Berlin")
            .await
            .unwrap();
        let q = s.quiet_hours.unwrap();
        assert_eq!((q.start_minute, q.end_minute), (1350, 420));
        assert_eq!(q.zone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            set(&cw, "quiet_hours", "off").await.unwrap().quiet_hours,
            None
        );
        for (key, value) in [
            ("poll_interval_s", "5"),
            ("poll_interval_s", "soon"),
            ("rules.runway_critical_hours", "200"),
            ("theme", "purple"),
            ("quiet_hours", "25:00-07:00"),
            ("quiet_hours", "22:00-07:00 Mars/Olympus"),
            ("nope", "1"),
        ] {
            let err = set(&cw, key, value).await.unwrap_err();
            assert_eq!(err.kind(), "invalid_input", "{key}={value}: {err}");
        }
        assert_eq!(
            get(&cw).await.unwrap().poll_interval_s,
            900,
            "refusals change nothing"
        );
    }

    #[rstest::rstest]
    #[case::ipv4("127.0.0.1:9402", Some("127.0.0.1:9402"))]
    #[case::spaces(" 127.0.0.1:9402 ", Some("127.0.0.1:9402"))]
    #[case::other_loopback("127.0.0.2:9402", Some("127.0.0.2:9402"))]
    #[case::ipv6("[::1]:9402", Some("[::1]:9402"))]
    #[case::every_interface("0.0.0.0:9402", None)]
    #[case::lan("192.168.1.5:9402", None)]
    #[case::ipv6_any("[::]:9402", None)]
    #[case::no_port("127.0.0.1", None)]
    #[case::a_name("localhost:9402", None)]
    #[case::port_zero("127.0.0.1:0", None)]
    #[case::junk("http://127.0.0.1:9402/", None)]
    fn the_read_api_setting_is_a_loopback_address_with_a_port(
        #[case] text: &str,
        #[case] stored: Option<&str>,
    ) {
        let got = listen_addr(text);
        assert_eq!(
            got.as_ref().ok().map(ToString::to_string).as_deref(),
            stored,
            "{text}: {got:?}"
        );
        if let Err(e) = got {
            assert_eq!(e.kind(), "invalid_input");
        }
    }

    #[tokio::test]
    async fn the_read_api_setting_is_stored_checked_and_read_by_the_engine() {
        let (_tmp, cw) = open().await;
        let s = get(&cw).await.unwrap();
        assert_eq!(s.listen, None, "off by default");
        assert!(listen_config(&s).is_none(), "off: the engine binds nothing");
        let s = set(&cw, "listen", "127.0.0.1:9402").await.unwrap();
        assert_eq!(s.listen.as_deref(), Some("127.0.0.1:9402"));
        let config = listen_config(&get(&cw).await.unwrap()).expect("on");
        assert_eq!(config.addr.to_string(), "127.0.0.1:9402");
        assert!(config.token.is_none(), "a setting never carries a token");
        let err = set(&cw, "listen", "0.0.0.0:9402").await.unwrap_err();
        assert!(
            err.to_string().contains("--token-env"),
            "says where a non-loopback address is possible: {err}"
        );
        let mut screen = get(&cw).await.unwrap();
        screen.listen = Some("10.0.0.1:80".into());
        assert_eq!(
            save(&cw, &screen).await.unwrap_err().kind(),
            "invalid_input",
            "the screen's save is checked the same way"
        );
        screen.listen = Some("  ".into());
        assert_eq!(
            save(&cw, &screen).await.unwrap().listen,
            None,
            "an empty address is off"
        );
        // A value edited into the database by hand is not bound: it reads as off.
        db::settings::set(cw.pool(), LISTEN_KEY, &"0.0.0.0:9402".into())
            .await
            .unwrap();
        assert_eq!(get(&cw).await.unwrap().listen, None);
    }

    #[tokio::test]
    async fn a_save_is_announced_to_the_engine() {
        let (_tmp, cw) = open().await;
        let mut heard = cw.changes();
        set(&cw, "theme", "dark").await.unwrap();
        assert_eq!(
            heard.try_recv().ok(),
            Some(Change::Settings),
            "the engine re-reads its settings"
        );
    }
}
