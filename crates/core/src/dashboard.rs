//! What the dashboard shows, one answer per screen, built from the store: the accounts table
//! (sorted by nearest cliff, with sparklines), one account's detail (history, forecast band,
//! events, the latest parsed error), the 402 history, the log sources, and the settings.
//!
//! The desktop shell's commands call these and nothing else; the shapes derive `TS` so the
//! front end's types are generated from here.

use crate::alerts::{self, AlertRules, PaymentLink, QuietHours};
use crate::db::{self, alerts::Alert, cliff_events::Filter};
use crate::forecast::{self, series::level_of, Forecast, ForecastState};
use crate::logs::{self, Format};
use crate::model::{Account, AccountId, BalanceSample, CliffEvent, LogSource, Outcome};
use crate::providers::{self, Category};
use crate::{Cliffwatch, Error, Result};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use sqlx::SqlitePool;
use ts_rs::TS;

/// The Tauri event the shell emits whenever stored data changes (a poll, a log scan, an edit);
/// the dashboard re-fetches on it. `ui/src/events.ts` holds the same string (a test checks).
pub const CHANGED_EVENT: &str = "cliffwatch://changed";
/// Emitted during a log backfill with a [`crate::logs::Progress`] payload.
pub const LOG_PROGRESS_EVENT: &str = "cliffwatch://log-progress";
/// Sent to an open dashboard with an account id: show that account (a notification about it
/// was clicked). A dashboard opened for it gets `#account=<id>` in its URL instead.
pub const OPEN_ACCOUNT_EVENT: &str = "cliffwatch://open-account";

/// How far back the accounts table's sparklines reach: a week shows the daily rhythm.
pub const SPARKLINE_DAYS: i64 = 7;
/// At most this many points per sparkline: it is ~120 px wide.
pub const SPARKLINE_POINTS: usize = 48;
/// At most this many points in the detail chart's history (a poll a minute for six weeks would
/// be 60 000; the chart is ~900 px wide).
pub const HISTORY_POINTS: usize = 600;
/// Events listed in an account's timeline and, by default, in the 402 history.
pub const EVENTS_LIMIT: i64 = 500;

/// A point of a chart: unix seconds and a level in the account's unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Point {
    pub t: f64,
    pub v: f64,
}

/// One row of the accounts table.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountRow {
    pub account: Account,
    pub provider_name: String,
    pub category: Option<Category>,
    /// The provider's billing page (always https), if it has one.
    pub top_up_url: Option<String>,
    pub latest: Option<BalanceSample>,
    pub forecast: Forecast,
    /// The last week of levels, thinned to [`SPARKLINE_POINTS`].
    pub sparkline: Vec<Point>,
    /// The newest 402 / failed request for this account, from polls or logs.
    pub last_event: Option<CliffEvent>,
}

/// The accounts screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct Dashboard {
    pub generated_at: DateTime<Utc>,
    pub data_dir: String,
    /// Nearest cliff first: out of credit, then by median runway, then unknown ones by label.
    pub accounts: Vec<AccountRow>,
    /// Open and snoozed alerts, newest first.
    pub alerts: Vec<Alert>,
}

/// The forecast band drawn into the future: at `t`, the level if spend runs at the early
/// (P10), median (P50) and late (P90) end of the runway band.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct BandPoint {
    pub t: f64,
    pub p10: f64,
    pub p50: f64,
    pub p90: f64,
}

/// A cliff event with what the UI needs to show it: the account's label, the log file it came
/// from, and a checked payment link.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct EventRow {
    pub event: CliffEvent,
    pub account_label: Option<String>,
    /// The log file of a log event (with `event.byte_offset`, where the line is).
    pub source_path: Option<String>,
    /// A payment link from the body, checked; never opened without the user's confirmation.
    pub payment_link: Option<PaymentLink>,
}

/// One account's detail screen.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct AccountDetail {
    pub row: AccountRow,
    pub unit: Option<String>,
    /// Levels over the forecast's history window, thinned to [`HISTORY_POINTS`].
    pub history: Vec<Point>,
    /// Readings that were top-ups (or period resets), at their new level.
    pub top_ups: Vec<Point>,
    /// Empty when there is no runway to draw (learning, idle, unknown).
    pub band: Vec<BandPoint>,
    pub events: Vec<EventRow>,
    /// The newest non-OK event: the provider's own words.
    pub latest_error: Option<EventRow>,
    pub rules: AlertRules,
}

/// Which events the 402 history shows. Every field is optional.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[serde(default)]
#[ts(export)]
pub struct EventQuery {
    pub account: Option<AccountId>,
    pub provider: Option<String>,
    pub outcome: Option<Outcome>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    #[ts(type = "number | null")]
    pub limit: Option<i64>,
}

/// A log source as the Logs screen lists it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogSourceRow {
    pub source: LogSource,
    /// Files matched and read so far.
    #[ts(type = "number")]
    pub files: i64,
    #[ts(type = "number")]
    pub bytes_read: i64,
    #[ts(type = "number")]
    pub events: i64,
    pub last_event_at: Option<DateTime<Utc>>,
    /// "watching", "disabled" or "no files matched yet".
    pub status: String,
    /// Files that could not be read (unreadable, a corrupt `.gz`, over a size cap): they are
    /// skipped until they change, and the others are read.
    #[ts(type = "number")]
    pub file_errors: i64,
    /// The newest of those errors, in words (it names the file).
    pub last_error: Option<String>,
}

/// What adding a path or glob would do, before it is added.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct LogPreview {
    pub pattern: String,
    /// The first matching files (at most 20).
    pub files: Vec<String>,
    #[ts(type = "number")]
    pub files_total: u32,
    /// The detected format of the first readable file, if any.
    pub format: Option<String>,
    /// Failed requests found in the first 64 KiB of that file.
    #[ts(type = "number")]
    pub events_in_head: u32,
    /// The first few of them, as they would be stored.
    pub sample: Vec<CliffEvent>,
    /// Why nothing would be detected, in words.
    pub note: Option<String>,
}

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
}

/// Settings keys (in `settings`) of what [`Settings`] holds besides the alert rules.
pub const POLL_INTERVAL_KEY: &str = "poll.interval_s";
pub const NOTIFICATIONS_KEY: &str = "notifications.enabled";
pub const THEME_KEY: &str = "ui.theme";
/// Five minutes: frequent enough to see a drain, polite to every provider.
pub const DEFAULT_POLL_INTERVAL_S: u32 = 300;
/// Polls more often than every 30 s would hit providers' own limits; daily is the slowest
/// that still forecasts.
const POLL_INTERVAL_RANGE: std::ops::RangeInclusive<u32> = 30..=86_400;

/// The accounts screen, as of `cw`'s clock.
pub async fn dashboard(cw: &Cliffwatch) -> Result<Dashboard> {
    let now = cw.clock().now();
    let pool = cw.pool();
    let mut accounts = Vec::new();
    for stored in db::accounts::list(pool).await? {
        accounts.push(row(pool, stored.account, now).await?);
    }
    accounts.sort_by(|a, b| cliff_key(a).total_cmp(&cliff_key(b)));
    let alerts = db::alerts::list(pool, true).await?;
    Ok(Dashboard {
        generated_at: now,
        data_dir: cw.data_dir().display().to_string(),
        accounts,
        alerts,
    })
}

/// Hours to the cliff for sorting: out of credit first (−1), then the median runway, then
/// accounts with no runway (learning, idle, unknown) last.
fn cliff_key(r: &AccountRow) -> f64 {
    match r.forecast.state {
        ForecastState::OutOfCredit => -1.0,
        _ if r.account.state == crate::model::AccountState::OutOfCredit => -1.0,
        ForecastState::Ok => r.forecast.runway_hours.map_or(f64::MAX / 2.0, |h| h.p50),
        _ => f64::MAX,
    }
}

async fn row(pool: &SqlitePool, account: Account, now: DateTime<Utc>) -> Result<AccountRow> {
    let info = providers::find(&account.provider).ok();
    let forecast = forecast::for_account(pool, account.id, now).await?;
    let week =
        db::balance_samples::since(pool, account.id, now - Duration::days(SPARKLINE_DAYS)).await?;
    let latest = db::balance_samples::latest(pool, account.id).await?;
    let last_event = db::cliff_events::list(
        pool,
        &Filter {
            account: Some(account.id),
            limit: Some(1),
            ..Filter::default()
        },
    )
    .await?
    .pop();
    Ok(AccountRow {
        provider_name: info.map_or_else(|| account.provider.clone(), |i| i.name.into()),
        category: info.map(|i| i.category),
        top_up_url: info
            .map(|i| i.top_up_url)
            .filter(|u| u.starts_with("https://"))
            .map(Into::into),
        sparkline: thin(&levels(&week, account.budget, now), SPARKLINE_POINTS),
        latest,
        forecast,
        last_event,
        account,
    })
}

/// Levels of readings up to `now`, in the unit of the newest one (a currency switch starts a
/// new line, as in the forecast).
fn levels(samples: &[BalanceSample], budget: Option<f64>, now: DateTime<Utc>) -> Vec<Point> {
    let Some(unit) = samples
        .iter()
        .rev()
        .find(|s| s.observed_at <= now)
        .map(|s| &s.unit)
    else {
        return Vec::new();
    };
    samples
        .iter()
        .filter(|s| &s.unit == unit && s.observed_at <= now)
        .filter_map(|s| {
            Some(Point {
                t: s.observed_at.timestamp() as f64,
                v: level_of(s, budget)?,
            })
        })
        .collect()
}

/// Keeps at most `max` points, evenly spaced by index, always keeping the last one (the
/// current level must show).
pub fn thin(points: &[Point], max: usize) -> Vec<Point> {
    if points.len() <= max || max < 2 {
        return points.to_vec();
    }
    let step = (points.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| points[((i as f64 * step).round() as usize).min(points.len() - 1)])
        .collect()
}

/// The forecast band from the latest reading to the late end of the runway, as straight-line
/// drains at the P10/P50/P90 runways. Empty when the forecast has no runway. The band ends at
/// P90 (capped at 30 days) so the chart shows where each line reaches zero.
pub fn band(f: &Forecast) -> Vec<BandPoint> {
    let (Some(remaining), Some(r), Some(at)) = (f.remaining, f.runway_hours, f.observed_at) else {
        return Vec::new();
    };
    if f.state != ForecastState::Ok || remaining <= 0.0 {
        return Vec::new();
    }
    // Runways count from `as_of`; the drain starts at the reading.
    let lag = (f.as_of - at).num_seconds() as f64 / 3600.0;
    let hours = |h: f64| (h + lag).max(1e-3);
    let (h10, h50, h90) = (hours(r.p10), hours(r.p50), hours(r.p90));
    let end = h90.min(forecast::IDLE_AFTER_HOURS);
    const STEPS: usize = 40;
    let level = |h: f64, runway: f64| (remaining * (1.0 - h / runway)).max(0.0);
    (0..=STEPS)
        .map(|i| {
            let h = end * i as f64 / STEPS as f64;
            BandPoint {
                t: at.timestamp() as f64 + h * 3600.0,
                p10: level(h, h10),
                p50: level(h, h50),
                p90: level(h, h90),
            }
        })
        .collect()
}

/// One account's detail screen.
pub async fn account_detail(cw: &Cliffwatch, id: AccountId) -> Result<AccountDetail> {
    let now = cw.clock().now();
    let pool = cw.pool();
    let account = db::accounts::get(pool, id).await?.account;
    let samples =
        db::balance_samples::since(pool, id, now - Duration::days(forecast::HISTORY_DAYS)).await?;
    let history = levels(&samples, account.budget, now);
    let top_ups = samples
        .iter()
        .filter(|s| s.is_topup && s.observed_at <= now)
        .filter_map(|s| {
            Some(Point {
                t: s.observed_at.timestamp() as f64,
                v: level_of(s, account.budget)?,
            })
        })
        .collect();
    let rules = alerts::rules_for(pool, id).await?;
    let events = events(
        cw,
        &EventQuery {
            account: Some(id),
            ..EventQuery::default()
        },
    )
    .await?;
    let latest_error = events
        .iter()
        .find(|e| e.event.outcome != Outcome::Ok)
        .cloned();
    let row = row(pool, account, now).await?;
    Ok(AccountDetail {
        unit: row.forecast.unit.as_ref().map(|u| u.as_str().to_owned()),
        band: band(&row.forecast),
        history: thin(&history, HISTORY_POINTS),
        top_ups,
        events,
        latest_error,
        rules,
        row,
    })
}

/// The 402 history: events matching `q`, newest first.
pub async fn events(cw: &Cliffwatch, q: &EventQuery) -> Result<Vec<EventRow>> {
    let pool = cw.pool();
    let limit = q.limit.unwrap_or(EVENTS_LIMIT).clamp(1, 10_000);
    let list = db::cliff_events::list(
        pool,
        &Filter {
            since: q.since,
            account: q.account,
            provider: q.provider.clone().filter(|p| !p.is_empty()),
            outcome: q.outcome,
            // `until` filters below; fetch enough to fill the page after it.
            limit: Some(if q.until.is_some() { 10_000 } else { limit }),
        },
    )
    .await?;
    let accounts: std::collections::HashMap<AccountId, Account> = db::accounts::list(pool)
        .await?
        .into_iter()
        .map(|s| (s.account.id, s.account))
        .collect();
    let mut paths = std::collections::HashMap::<i64, Option<String>>::new();
    let mut out = Vec::new();
    for event in list
        .into_iter()
        .filter(|e| q.until.is_none_or(|u| e.occurred_at <= u))
    {
        if out.len() as i64 >= limit {
            break;
        }
        let source_path = match event.log_file_id {
            Some(fid) => match paths.get(&fid) {
                Some(p) => p.clone(),
                None => {
                    let p = db::log_sources::get_file_by_id(pool, fid)
                        .await?
                        .map(|(f, _)| f.path.split('\0').next().unwrap_or_default().to_owned());
                    paths.insert(fid, p.clone());
                    p
                }
            },
            None => None,
        };
        let account = event.account_id.and_then(|a| accounts.get(&a));
        let provider_url = event
            .provider
            .as_deref()
            .or(account.map(|a| a.provider.as_str()))
            .and_then(|p| providers::find(p).ok())
            .map(|i| i.top_up_url)
            .filter(|u| !u.is_empty());
        let payment_link = event
            .payment
            .as_ref()
            .and_then(alerts::payment_uri_in)
            .and_then(|uri| alerts::payment_link(uri, provider_url));
        out.push(EventRow {
            account_label: account.map(|a| a.label.clone()),
            source_path,
            payment_link,
            event,
        });
    }
    Ok(out)
}

/// The log sources with how far each has been read.
pub async fn log_sources(cw: &Cliffwatch) -> Result<Vec<LogSourceRow>> {
    let pool = cw.pool();
    let mut out = Vec::new();
    for source in db::log_sources::list(pool).await? {
        let (files, bytes_read): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(byte_offset), 0) FROM log_files \
             WHERE source_id = ? AND instr(path, char(0)) = 0",
        )
        .bind(source.id)
        .fetch_one(pool)
        .await?;
        let (events, last): (i64, Option<String>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(e.occurred_at) FROM cliff_events e \
             JOIN log_files f ON f.id = e.log_file_id WHERE f.source_id = ?",
        )
        .bind(source.id)
        .fetch_one(pool)
        .await?;
        let (file_errors, last_error): (i64, Option<String>) = sqlx::query_as(
            "SELECT COUNT(*), (SELECT last_error FROM log_files WHERE source_id = ?1 \
               AND last_error IS NOT NULL AND instr(path, char(0)) = 0 \
               ORDER BY last_error_at DESC, id DESC LIMIT 1) \
             FROM log_files WHERE source_id = ?1 AND last_error IS NOT NULL \
               AND instr(path, char(0)) = 0",
        )
        .bind(source.id)
        .fetch_one(pool)
        .await?;
        let status = if !source.enabled {
            "disabled"
        } else if files == 0 {
            "no files matched yet"
        } else {
            "watching"
        };
        out.push(LogSourceRow {
            last_event_at: last.as_deref().map(crate::clock::from_db).transpose()?,
            status: status.into(),
            files,
            bytes_read,
            events,
            file_errors,
            last_error,
            source,
        });
    }
    Ok(out)
}

/// What adding `pattern` as a log source would find: the matching files, the detected format
/// and the failed requests in the head of the first file. Reads at most 64 KiB; stores nothing.
pub fn preview_log_source(pattern: &str) -> Result<LogPreview> {
    let pattern = pattern.trim();
    if pattern.is_empty() {
        return Err(Error::InvalidInput("give a path or a glob to watch".into()));
    }
    // The walk a scan does (each folder once, symbolic-link loops included, depth-capped),
    // stopped at 10 000 files.
    let (matched, _) = logs::matching_files(pattern, 10_000)?;
    let mut preview = LogPreview {
        pattern: pattern.into(),
        files: matched
            .iter()
            .take(20)
            .map(|p| p.display().to_string())
            .collect(),
        files_total: matched.len() as u32,
        format: None,
        events_in_head: 0,
        sample: Vec::new(),
        note: None,
    };
    let Some(first) = matched.first() else {
        preview.note =
            Some("no file matches yet; Cliffwatch will pick files up as they appear".into());
        return Ok(preview);
    };
    let head = logs::read_head(first, 64 * 1024)
        .map_err(|e| Error::InvalidInput(format!("cannot read {}: {e}", first.display())))?;
    let Some(format) = logs::detect_format_bytes(&head) else {
        preview.note = Some(format!(
            "{} does not look like any known format ({}); pick one, or use jsonl with a mapping",
            first.display(),
            Format::ALL.map(Format::as_str).join(", ")
        ));
        return Ok(preview);
    };
    preview.format = Some(format.as_str().into());
    let parser = logs::parser(format, &serde_json::Value::Null)?;
    let epoch = DateTime::<Utc>::UNIX_EPOCH;
    let mut memory = logs::FileMemory::default();
    let events: Vec<CliffEvent> =
        logs::parse_bytes(parser.as_ref(), &head, chrono_tz::UTC, &mut memory)
            .into_iter()
            .filter_map(|l| match l.record {
                logs::Record::Request(r) => logs::request_event(&r, epoch),
                logs::Record::AgentError(e) => Some(logs::agent_event(&e, epoch)),
                _ => None,
            })
            .collect();
    preview.events_in_head = events.len() as u32;
    preview.sample = events.into_iter().take(5).collect();
    Ok(preview)
}

/// The settings, with defaults for what was never set.
pub async fn settings(cw: &Cliffwatch) -> Result<Settings> {
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
    })
}

/// Checks and stores the settings; returns them as stored.
pub async fn save_settings(cw: &Cliffwatch, s: &Settings) -> Result<Settings> {
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
    tx.commit().await?;
    settings(cw).await
}

fn to_json<T: Serialize>(v: &T) -> Result<serde_json::Value> {
    serde_json::to_value(v).map_err(|e| Error::Malformed(e.to_string()))
}

/// A URL the app may open in the browser (a billing page, a confirmed payment link): https
/// only, no credentials, with a host. Returns it normalised.
pub fn checked_https_url(raw: &str) -> Result<String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|e| Error::InvalidInput(format!("`{raw}` is not a valid URL: {e}")))?;
    if url.scheme() != "https" {
        return Err(Error::InvalidInput(format!(
            "only https pages are opened, not `{}` links",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() || url.host_str().is_none() {
        return Err(Error::InvalidInput(
            "that link carries credentials or has no host".into(),
        ));
    }
    Ok(url.to_string())
}

/// What the add-account wizard sends. The key crosses from the webview once, here, and goes
/// straight to the keychain; it never comes back.
#[derive(Deserialize, TS)]
#[ts(export)]
pub struct AccountForm {
    pub provider: String,
    pub label: String,
    pub base_url: Option<String>,
    /// The key; empty or absent for a custom endpoint that needs none.
    pub secret: Option<String>,
    pub budget: Option<f64>,
    #[ts(type = "Record<string, unknown>")]
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl std::fmt::Debug for AccountForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountForm")
            .field("provider", &self.provider)
            .field("label", &self.label)
            .field("base_url", &self.base_url)
            .field("secret", &self.secret.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

impl AccountForm {
    /// The wizard's answer as core's [`crate::NewAccount`]; blank fields count as absent.
    pub fn into_new_account(self) -> Result<crate::NewAccount> {
        let secret = match self.secret.filter(|s| !s.trim().is_empty()) {
            Some(s) => crate::SecretInput::Keychain(crate::secrets::Secret::new(s.trim())?),
            None => crate::SecretInput::None,
        };
        let options = self
            .options
            .into_iter()
            .filter(|(_, v)| !matches!(v, serde_json::Value::Null) && v.as_str() != Some(""))
            .collect();
        Ok(crate::NewAccount {
            provider: self.provider,
            label: self.label,
            base_url: self.base_url.filter(|u| !u.trim().is_empty()),
            secret,
            budget: self.budget,
            options,
        })
    }
}

/// Adds an account from the wizard and returns its dashboard row.
pub async fn add_account(cw: &Cliffwatch, form: AccountForm) -> Result<AccountRow> {
    let account = cw.add_account(form.into_new_account()?).await?;
    row(cw.pool(), account, cw.clock().now()).await
}

/// Removes an account (and its key) by id.
pub async fn remove_account(cw: &Cliffwatch, id: AccountId) -> Result<Account> {
    let label = db::accounts::get(cw.pool(), id).await?.account.label;
    cw.remove_account(&label).await
}

/// What the account editor changes. The key is not editable here (it lives in the keychain;
/// remove and re-add the account to replace it); the label is its identity in the CLI.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export)]
pub struct AccountEdit {
    /// Empty or absent: the provider's default.
    pub base_url: Option<String>,
    pub budget: Option<f64>,
    #[ts(type = "Record<string, unknown>")]
    pub options: serde_json::Map<String, serde_json::Value>,
}

/// Changes an account's base URL, budget and options, checked as when it was added, and sets
/// its state back to "not polled" so that polling resumes (an invalid-key account waits for
/// an edit). A new budget restarts the spend count from now.
pub async fn edit_account(cw: &Cliffwatch, id: AccountId, edit: AccountEdit) -> Result<AccountRow> {
    let pool = cw.pool();
    let account = db::accounts::get(pool, id).await?.account;
    let info = providers::find(&account.provider)?;
    let base_url = edit
        .base_url
        .as_deref()
        .filter(|u| !u.trim().is_empty())
        .map(crate::validate_base_url)
        .transpose()?;
    if edit.budget.is_some_and(|b| !b.is_finite() || b < 0.0) {
        return Err(Error::InvalidInput(
            "the budget must be a positive amount".into(),
        ));
    }
    let options: serde_json::Map<String, serde_json::Value> = edit
        .options
        .into_iter()
        .filter(|(_, v)| !v.is_null() && v.as_str() != Some(""))
        .collect();
    if let Some(k) = options
        .keys()
        .find(|k| !info.options.iter().any(|o| o.key == k.as_str()))
    {
        return Err(Error::InvalidInput(format!(
            "{} accounts take no option `{k}`",
            info.name
        )));
    }
    if let Some(o) = info
        .options
        .iter()
        .find(|o| o.required && !options.contains_key(o.key))
    {
        return Err(Error::InvalidInput(format!(
            "{} accounts need `{}` ({})",
            info.name, o.key, o.label
        )));
    }
    // The provider's own checks, as when adding (a custom spec that does not parse).
    providers::adapter(info.id)?
        .validate_options(&serde_json::Value::Object(options.clone()))
        .map_err(Error::InvalidInput)?;
    let now = cw.clock().now();
    let budget_set_at = if edit.budget != account.budget {
        edit.budget.map(|_| now)
    } else {
        account.budget_set_at
    };
    // The accounts table's own module has no general update; this is the editor's one write.
    sqlx::query(
        "UPDATE accounts SET base_url = ?, budget = ?, budget_set_at = ?, options = ?, \
         state = 'unknown', state_message = NULL, updated_at = ? WHERE id = ?",
    )
    .bind(base_url)
    .bind(edit.budget)
    .bind(budget_set_at.map(crate::clock::to_db))
    .bind(serde_json::Value::Object(options).to_string())
    .bind(crate::clock::to_db(now))
    .bind(id)
    .execute(pool)
    .await?;
    let account = db::accounts::get(pool, id).await?.account;
    row(pool, account, now).await
}

/// Replaces an account's key (typed into the window): stored to the keychain, never returned;
/// the row comes back with the new key's last 4 characters.
pub async fn replace_key(cw: &Cliffwatch, id: AccountId, secret: String) -> Result<AccountRow> {
    let label = db::accounts::get(cw.pool(), id).await?.account.label;
    let secret = crate::secrets::Secret::new(secret)
        .map_err(|_| Error::InvalidInput("the new key is empty".into()))?;
    let account = cw
        .replace_secret(&label, crate::SecretInput::Keychain(secret))
        .await?;
    row(cw.pool(), account, cw.clock().now()).await
}

/// One live poll of an account that stores nothing: "Test connection". The reading, or the
/// provider's refusal classified and in words, is in the result.
pub async fn test_account(cw: &Cliffwatch, id: AccountId) -> Result<crate::poll::PollResult> {
    let label = db::accounts::get(cw.pool(), id).await?.account.label;
    crate::poll::test_account(cw, &label).await
}

/// Polls an account now and stores what it learns: "Poll now".
pub async fn poll_account(cw: &Cliffwatch, id: AccountId) -> Result<crate::poll::PollResult> {
    let label = db::accounts::get(cw.pool(), id).await?.account.label;
    crate::poll::poll_account(cw, &label).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::model::{EventOrigin, Unit};
    use crate::secrets::MemoryStore;
    use chrono::TimeZone;
    use std::sync::Arc;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
    }

    async fn open() -> (tempfile::TempDir, Cliffwatch) {
        let tmp = tempfile::tempdir().unwrap();
        let cw = Cliffwatch::open(
            tmp.path(),
            Arc::new(MemoryStore::new()),
            Arc::new(ManualClock::new(t0())),
        )
        .await
        .unwrap();
        (tmp, cw)
    }

    async fn account(cw: &Cliffwatch, provider: &str, label: &str) -> AccountId {
        let form = AccountForm {
            provider: provider.into(),
            label: label.into(),
            base_url: None,
            secret: Some("sk-test-0123456789abcd".into()),
            budget: None,
            options: Default::default(),
        };
        add_account(cw, form).await.unwrap().account.id
    }

    /// Hourly readings for `hours` up to t0, draining `per_hour` from `start`.
    async fn drain(cw: &Cliffwatch, id: AccountId, hours: i64, start: f64, per_hour: f64) {
        let mut tx = cw.pool().begin().await.unwrap();
        for h in 0..=hours {
            let s = BalanceSample {
                account_id: id,
                observed_at: t0() - Duration::hours(hours - h),
                remaining: Some(start - per_hour * h as f64),
                limit: None,
                used: None,
                unit: Unit::usd(),
                resets_at: None,
                is_topup: false,
            };
            db::balance_samples::insert(&mut tx, s).await.unwrap();
        }
        tx.commit().await.unwrap();
    }

    #[tokio::test]
    async fn accounts_are_sorted_by_nearest_cliff() {
        let (_tmp, cw) = open().await;
        let slow = account(&cw, "openrouter", "a-slow").await;
        let fast = account(&cw, "deepseek", "b-fast").await;
        let _new = account(&cw, "tavily", "0-new").await;
        drain(&cw, slow, 48, 100.0, 0.5).await;
        drain(&cw, fast, 48, 100.0, 1.5).await;
        let d = dashboard(&cw).await.unwrap();
        let labels: Vec<_> = d
            .accounts
            .iter()
            .map(|r| r.account.label.as_str())
            .collect();
        assert_eq!(
            labels,
            ["b-fast", "a-slow", "0-new"],
            "the faster drain is nearer its cliff; an account with no readings goes last"
        );
        let fast_row = &d.accounts[0];
        assert!(
            !fast_row.sparkline.is_empty(),
            "a week of readings gives a sparkline"
        );
        assert!(fast_row.sparkline.len() <= SPARKLINE_POINTS, "thinned");
        assert_eq!(
            fast_row.sparkline.last().unwrap().v,
            28.0,
            "the last point is the current level"
        );
    }

    #[tokio::test]
    async fn detail_draws_a_band_that_reaches_zero_and_marks_top_ups() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openrouter", "main").await;
        drain(&cw, id, 48, 100.0, 1.0).await;
        let mut tx = cw.pool().begin().await.unwrap();
        db::balance_samples::insert(
            &mut tx,
            BalanceSample {
                account_id: id,
                observed_at: t0(),
                remaining: Some(80.0),
                limit: None,
                used: None,
                unit: Unit::usd(),
                resets_at: None,
                is_topup: false,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let d = account_detail(&cw, id).await.unwrap();
        assert_eq!(d.top_ups.len(), 1, "the rise from 52 to 80 is a top-up");
        assert_eq!(d.unit.as_deref(), Some("usd"));
        if d.row.forecast.state == ForecastState::Ok {
            let last = d.band.last().unwrap();
            assert_eq!(
                last.p90, 0.0,
                "the band ends where the late line reaches zero"
            );
            assert!(
                d.band.iter().all(|b| b.p10 <= b.p50 && b.p50 <= b.p90),
                "P10 ≤ P50 ≤ P90"
            );
        }
    }

    #[test]
    fn band_is_empty_without_a_runway() {
        let f = crate::forecast::from_samples(AccountId(1), &[], None, t0());
        assert!(band(&f).is_empty(), "no readings, nothing to draw");
    }

    #[test]
    fn thin_keeps_the_ends() {
        let pts: Vec<Point> = (0..1000)
            .map(|i| Point {
                t: i as f64,
                v: i as f64,
            })
            .collect();
        let t = thin(&pts, 10);
        assert_eq!(t.len(), 10);
        assert_eq!(
            (t[0].v, t[9].v),
            (0.0, 999.0),
            "first and last survive thinning"
        );
    }

    #[tokio::test]
    async fn events_carry_labels_and_checked_payment_links() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openrouter", "main").await;
        let event = CliffEvent {
            id: None,
            account_id: Some(id),
            provider: Some("openrouter".into()),
            occurred_at: t0(),
            origin: EventOrigin::Poll,
            outcome: Outcome::OutOfCredit,
            status: Some(402),
            method: Some("GET".into()),
            host: Some("openrouter.ai".into()),
            url: None,
            code: Some("insufficient_credits".into()),
            message: Some("Insufficient credits".into()),
            quota: None,
            payment: Some(serde_json::json!({"payment_url": "https://evil.example/pay"})),
            log_file_id: None,
            byte_offset: None,
        };
        db::cliff_events::insert(cw.pool(), &event).await.unwrap();
        let rows = events(&cw, &EventQuery::default()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].account_label.as_deref(), Some("main"));
        let link = rows[0]
            .payment_link
            .as_ref()
            .expect("an https link is shown");
        assert!(
            !link.provider_domain,
            "a foreign domain is flagged: {link:?}"
        );
        assert_eq!(link.domain, "evil.example");
        let none = events(
            &cw,
            &EventQuery {
                outcome: Some(Outcome::RateLimited),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert!(none.is_empty(), "the outcome filter applies");
        let d = account_detail(&cw, id).await.unwrap();
        assert_eq!(
            d.latest_error.unwrap().event.code.as_deref(),
            Some("insufficient_credits"),
            "the detail shows the latest parsed error"
        );
    }

    #[tokio::test]
    async fn settings_round_trip_and_bad_values_are_refused() {
        let (_tmp, cw) = open().await;
        let mut s = settings(&cw).await.unwrap();
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
        assert_eq!(save_settings(&cw, &s).await.unwrap(), s, "stored as given");
        let bad = Settings {
            poll_interval_s: 1,
            ..s.clone()
        };
        assert_eq!(
            save_settings(&cw, &bad).await.unwrap_err().kind(),
            "invalid_input"
        );
        let mut unknown = s.clone();
        if let Some(q) = &mut unknown.quiet_hours {
            q.zone = Some("Europe/Atlantis".into());
        }
        let saved = save_settings(&cw, &unknown).await.unwrap();
        assert_eq!(
            saved
                .quiet_hours
                .as_ref()
                .map(|q| (q.zone.clone(), q.utc_offset_minutes)),
            Some((None, 60)),
            "an unknown time zone is not kept: its offset is the fallback"
        );
        save_settings(&cw, &s).await.unwrap();
        let mut bad = s.clone();
        bad.rules.runway_critical_hours = 100.0;
        assert_eq!(
            save_settings(&cw, &bad).await.unwrap_err().kind(),
            "invalid_input",
            "critical must be shorter than warning"
        );
        assert_eq!(
            settings(&cw).await.unwrap(),
            s,
            "a refused save changes nothing"
        );
    }

    #[test]
    fn preview_detects_a_format_and_finds_the_402s() {
        let tmp = tempfile::tempdir().unwrap();
        let log = tmp.path().join("access.log");
        std::fs::write(
            &log,
            "127.0.0.1 - - [21/Nov/2026:10:00:00 +0000] \"GET /v1/x HTTP/1.1\" 200 12 \"-\" \"curl\"\n\
             127.0.0.1 - - [21/Nov/2026:10:00:01 +0000] \"GET /v1/x HTTP/1.1\" 402 12 \"-\" \"curl\"\n",
        )
        .unwrap();
        let p = preview_log_source(&tmp.path().join("*.log").display().to_string()).unwrap();
        assert_eq!(p.files_total, 1);
        assert_eq!(p.format.as_deref(), Some("combined"), "{p:?}");
        assert_eq!(p.events_in_head, 1, "the 402 line, not the 200: {p:?}");
        let none = preview_log_source(&tmp.path().join("*.nothing").display().to_string()).unwrap();
        assert_eq!(none.files_total, 0);
        assert!(none.note.is_some(), "says why nothing was found");
    }

    #[test]
    fn the_event_name_matches_the_front_end() {
        let ts = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/events.ts"),
        )
        .expect("ui/src/events.ts");
        for name in [CHANGED_EVENT, LOG_PROGRESS_EVENT, OPEN_ACCOUNT_EVENT] {
            assert!(
                ts.contains(&format!("\"{name}\"")),
                "ui/src/events.ts must use {name}"
            );
        }
    }

    #[tokio::test]
    async fn edit_checks_like_add_and_resumes_polling() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openai", "spend").await;
        db::accounts::set_state(
            cw.pool(),
            id,
            crate::model::AccountState::InvalidKey,
            Some("bad"),
            t0(),
        )
        .await
        .unwrap();
        let edit = |base: &str, budget: Option<f64>| AccountEdit {
            base_url: Some(base.into()),
            budget,
            options: Default::default(),
        };
        let row = edit_account(&cw, id, edit("https://gw.example.com/v1/", Some(50.0)))
            .await
            .unwrap();
        assert_eq!(
            row.account.base_url.as_deref(),
            Some("https://gw.example.com/v1"),
            "normalised"
        );
        assert_eq!(row.account.budget, Some(50.0));
        assert_eq!(
            row.account.budget_set_at,
            Some(t0()),
            "a new budget counts spend from now"
        );
        assert_eq!(
            row.account.state,
            crate::model::AccountState::Unknown,
            "polling resumes"
        );
        let err = edit_account(&cw, id, edit("http://gw.example.com", None))
            .await
            .unwrap_err();
        assert_eq!(err.kind(), "invalid_input", "no clear-text keys: {err}");
        let cleared = edit_account(&cw, id, edit("", None)).await.unwrap();
        assert_eq!(
            cleared.account.base_url, None,
            "empty means the provider's default"
        );
    }

    #[test]
    fn only_https_links_are_opened() {
        assert!(checked_https_url("https://openrouter.ai/settings/credits").is_ok());
        for bad in [
            "http://openrouter.ai",
            "file:///etc/passwd",
            "javascript:alert(1)",
            "https://u:p@x.com",
            "nope",
        ] {
            assert!(checked_https_url(bad).is_err(), "{bad} must be refused");
        }
    }

    #[test]
    fn the_form_never_prints_the_key() {
        let form = AccountForm {
            provider: "openrouter".into(),
            label: "x".into(),
            base_url: None,
            secret: Some("sk-PLANTED-abcdef".into()),
            budget: None,
            options: Default::default(),
        };
        assert!(
            !format!("{form:?}").contains("PLANTED"),
            "Debug redacts the key"
        );
    }
}
