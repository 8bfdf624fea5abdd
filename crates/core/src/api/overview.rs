//! Overview: the accounts screen (sorted by nearest cliff, with sparklines and each account's
//! severity), one account's detail (history, forecast band, events, the latest parsed error),
//! the status report, and what the tray paints. Forecasts come from the shared cache, so the
//! alert pass, the tray and the window read one computation per change.

use super::history::{self, EventQuery, EventRow};
use crate::alerts::{self, AccountSeverity, AlertRules};
use crate::db::{self, alerts::Alert, cliff_events::Filter};
use crate::forecast::{self, series::level_of, Forecast, ForecastState};
use crate::model::{
    Account, AccountId, AccountState, AccountStatus, BalanceSample, CliffEvent, Outcome,
    StatusReport,
};
use crate::providers::{self, Category};
use crate::{Cliffwatch, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use ts_rs::TS;

/// How far back the accounts table's sparklines reach: a week shows the daily rhythm.
pub const SPARKLINE_DAYS: i64 = 7;
/// At most this many points per sparkline: it is ~120 px wide.
pub const SPARKLINE_POINTS: usize = 48;
/// At most this many points in the detail chart's history (a poll a minute for six weeks would
/// be 60 000; the chart is ~900 px wide).
pub const HISTORY_POINTS: usize = 600;

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
    /// How bad it stands, from its state, its forecast and the user's alert thresholds: the
    /// tray's colour and the window's tones, decided here once.
    pub severity: AccountSeverity,
    /// The last week of levels, thinned to [`SPARKLINE_POINTS`].
    pub sparkline: Vec<Point>,
    /// The newest 402 / failed request for this account, from polls or logs.
    pub last_event: Option<CliffEvent>,
    /// The proxy's breaker is on for this account and open (out of credit) since then.
    pub breaker_open_since: Option<DateTime<Utc>>,
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
    /// Pay-per-call spend over the last [`SPEND_DAYS`] days (paid x402 / MPP / pay-per-crawl
    /// answers in the account's logs); empty when there is none.
    pub pay_per_call: Vec<SpendRow>,
}

/// How far back the account screen sums pay-per-call spend.
pub const SPEND_DAYS: i64 = 30;

/// One line of an account's pay-per-call spend, in words.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SpendRow {
    /// "x402", "MPP", "pay-per-crawl".
    pub protocol: String,
    pub host: Option<String>,
    pub payments: i64,
    /// "0.42 USDC"; "unknown amount" when no payment's amount could be read.
    pub total: String,
}

/// The accounts screen, as of `cw`'s clock.
pub async fn dashboard(cw: &Cliffwatch) -> Result<Dashboard> {
    let now = cw.clock().now();
    let pool = cw.pool();
    let mut forecasts = cw.forecasts().by_account(pool, now).await?;
    let mut accounts = Vec::new();
    for stored in db::accounts::list(pool).await? {
        let row = match forecasts.remove(&stored.account.id) {
            Some(forecast) => row_with(cw, stored.account, forecast, now).await?,
            None => row(cw, stored.account, now).await?,
        };
        accounts.push(row);
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

/// One account's row as of `now`, its forecast from the shared cache.
pub(crate) async fn row(
    cw: &Cliffwatch,
    account: Account,
    now: DateTime<Utc>,
) -> Result<AccountRow> {
    let forecast = cw.forecasts().get(cw.pool(), account.id, now).await?;
    row_with(cw, account, forecast, now).await
}

async fn row_with(
    cw: &Cliffwatch,
    account: Account,
    forecast: Forecast,
    now: DateTime<Utc>,
) -> Result<AccountRow> {
    let pool = cw.pool();
    let info = providers::find(&account.provider).ok();
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
    let rules = alerts::rules_for(pool, account.id).await?;
    let breaker_open_since = if account.breaker {
        db::accounts::out_of_credit_since(pool, Some(account.id))
            .await?
            .remove(&account.id)
    } else {
        None
    };
    Ok(AccountRow {
        breaker_open_since,
        provider_name: info.map_or_else(|| account.provider.clone(), |i| i.name.into()),
        category: info.map(|i| i.category),
        top_up_url: info
            .map(|i| i.top_up_url)
            .filter(|u| u.starts_with("https://"))
            .map(Into::into),
        sparkline: thin(&levels(&week, account.budget, now), SPARKLINE_POINTS),
        severity: AccountSeverity::of(&account, latest.as_ref(), &forecast, &rules),
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

fn spend_row(s: db::usage_records::SpendTotal) -> SpendRow {
    let protocol = match s.protocol.as_str() {
        "x402" => "x402",
        "mpp" => "MPP",
        "pay_per_crawl" => "pay-per-crawl",
        "l402" => "L402",
        _ => "JSON instructions",
    };
    let total = match (s.amount > 0.0, s.currency) {
        (true, Some(c)) => format!("{} {c}", crate::format::decimal(s.amount)),
        (true, None) => crate::format::decimal(s.amount),
        (false, _) => "unknown amount".into(),
    };
    SpendRow {
        protocol: protocol.into(),
        host: s.host,
        payments: s.payments,
        total,
    }
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
    let events = history::events(
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
    let pay_per_call = db::usage_records::spend(pool, id, now - Duration::days(SPEND_DAYS))
        .await?
        .into_iter()
        .map(spend_row)
        .collect();
    let row = row(cw, account, now).await?;
    Ok(AccountDetail {
        pay_per_call,
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

/// [`forecasts`] as `forecast --json` and `/v1/forecast` print it: each forecast with its
/// account's label and provider (one serialiser for both hosts).
pub async fn forecasts_json(
    cw: &Cliffwatch,
    account: Option<&str>,
    as_of: DateTime<Utc>,
) -> Result<Vec<serde_json::Value>> {
    Ok(forecasts(cw, account, as_of)
        .await?
        .into_iter()
        .map(|(a, f)| {
            let mut v = serde_json::to_value(&f).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("account".into(), a.label.into());
                o.insert("provider".into(), a.provider.into());
            }
            v
        })
        .collect())
}

/// The forecast of one account (by label) or of every account, as of `as_of`: a past time is a
/// backtest on the readings up to then (`cliffwatch forecast --as-of`).
pub async fn forecasts(
    cw: &Cliffwatch,
    account: Option<&str>,
    as_of: DateTime<Utc>,
) -> Result<Vec<(Account, Forecast)>> {
    let accounts = match account {
        Some(label) => vec![db::accounts::get_by_label(cw.pool(), label).await?.account],
        None => super::accounts::list(cw).await?,
    };
    let mut out = Vec::with_capacity(accounts.len());
    for a in accounts {
        let f = forecast::for_account(cw.pool(), a.id, as_of).await?;
        out.push((a, f));
    }
    Ok(out)
}

/// Every account with its latest reading.
pub async fn status(cw: &Cliffwatch) -> Result<StatusReport> {
    // Nothing here counts down with time: kept until the store changes (minute 0).
    let stamp = db::accounts::change_stamp(cw.pool()).await?;
    let accounts = cw
        .status_memo()
        .get_or_build(stamp, 0, status_accounts(cw))
        .await?;
    Ok(StatusReport {
        generated_at: cw.clock().now(),
        data_dir: cw.data_dir().display().to_string(),
        accounts,
    })
}

/// Every account with its newest reading, from the store.
async fn status_accounts(cw: &Cliffwatch) -> Result<Vec<AccountStatus>> {
    let mut accounts = Vec::new();
    let mut latest = db::balance_samples::latest_all(cw.pool()).await?;
    let mut out_since = db::accounts::out_of_credit_since(cw.pool(), None).await?;
    for stored in db::accounts::list(cw.pool()).await? {
        let info = providers::find(&stored.account.provider).ok();
        let latest = latest.remove(&stored.account.id);
        let open_since = out_since.remove(&stored.account.id);
        accounts.push(AccountStatus {
            breaker_open_since: open_since.filter(|_| stored.account.breaker),
            provider_name: info.map_or_else(|| stored.account.provider.clone(), |i| i.name.into()),
            top_up_url: info
                .map(|i| i.top_up_url)
                .filter(|u| !u.is_empty())
                .map(Into::into),
            latest,
            account: stored.account,
        });
    }
    Ok(accounts)
}

/// What the tray shows: its colour (the worst account's severity), its tooltip (the account
/// nearest its cliff) and one menu line per account, in the dashboard's order.
#[derive(Debug, Clone, PartialEq)]
pub struct TrayView {
    pub severity: AccountSeverity,
    pub tooltip: String,
    pub lines: Vec<(AccountId, String)>,
}

/// The tray's picture of `d`: "Cliffwatch · ScraperAPI · main: ~14 h left" as the tooltip,
/// "ScraperAPI · main: ~14 h left  ·  4,820 credits" per account.
pub fn tray(d: &Dashboard, demo: bool) -> TrayView {
    let prefix = if demo {
        "Cliffwatch (demo)"
    } else {
        "Cliffwatch"
    };
    let tooltip = match d.accounts.first() {
        None => format!("{prefix}: no accounts yet"),
        Some(row) => format!("{prefix} · {}", summary(row)),
    };
    let lines = d
        .accounts
        .iter()
        .map(|row| {
            let remaining = row.latest.as_ref().map_or_else(
                || crate::format::UNKNOWN.to_owned(),
                |l| crate::format::format_amount_opt(l.remaining, l.unit.as_str()),
            );
            (row.account.id, format!("{}  ·  {remaining}", summary(row)))
        })
        .collect();
    TrayView {
        severity: AccountSeverity::worst(d.accounts.iter().map(|r| r.severity)),
        tooltip,
        lines,
    }
}

/// One account in words: "ScraperAPI · main: ~14 h left".
fn summary(row: &AccountRow) -> String {
    let what = match row.account.state {
        AccountState::OutOfCredit => "out of credit".to_owned(),
        AccountState::InvalidKey => "key rejected".to_owned(),
        _ => row.forecast.headline(),
    };
    format!("{} · {}: {what}", row.provider_name, row.account.label)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::model::Unit;

    /// The status answer is kept between asks, and a new reading, a new account or a state
    /// change shows at the next ask all the same.
    #[tokio::test]
    async fn status_is_kept_only_while_the_store_is_unchanged() {
        let (_tmp, cw) = open().await;
        let a = account(&cw, "deepseek", "a").await;
        drain(&cw, a, 2, 10.0, 1.0).await;
        let remaining = |r: &StatusReport| -> Vec<(String, Option<f64>)> {
            r.accounts
                .iter()
                .map(|s| {
                    (
                        s.account.label.clone(),
                        s.latest.as_ref().and_then(|l| l.remaining),
                    )
                })
                .collect()
        };
        let first = status(&cw).await.unwrap();
        assert_eq!(remaining(&first), [("a".to_owned(), Some(8.0))]);
        assert_eq!(remaining(&status(&cw).await.unwrap()), remaining(&first));
        let mut tx = cw.pool().begin().await.unwrap();
        db::balance_samples::insert(
            &mut tx,
            crate::db::test_rows::usd(a, t0() + Duration::minutes(5), 7.5),
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let _b = account(&cw, "tavily", "b").await;
        let after = status(&cw).await.unwrap();
        assert_eq!(
            remaining(&after),
            [("a".to_owned(), Some(7.5)), ("b".to_owned(), None)]
        );
        db::accounts::set_state(cw.pool(), a, AccountState::InvalidKey, None, t0())
            .await
            .unwrap();
        assert_eq!(
            status(&cw).await.unwrap().accounts[0].account.state,
            AccountState::InvalidKey
        );
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

    /// The tray's colour and the window's tones come from the user's thresholds, the ones the
    /// runway alerts use. (Before, the tray and the window used fixed 72/24 h.)
    #[tokio::test]
    async fn severity_follows_the_thresholds_the_user_saved() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openrouter", "main").await;
        drain(&cw, id, 48, 100.0, 1.0).await;
        let row = |d: &Dashboard| d.accounts[0].clone();
        let d = dashboard(&cw).await.unwrap();
        let p10 = row(&d).forecast.runway_hours.expect("a runway").p10;
        let set = |k: &'static str, v: f64| {
            let cw = cw.clone();
            async move {
                super::super::settings::set(&cw, k, &v.to_string())
                    .await
                    .unwrap()
            }
        };
        set("rules.runway_critical_hours", (p10 - 2.0).max(0.0)).await;
        set("rules.runway_warning_hours", p10 - 1.0).await;
        let d = dashboard(&cw).await.unwrap();
        assert_eq!(
            row(&d).severity,
            AccountSeverity::Ok,
            "P10 {p10} h is past both thresholds"
        );
        assert_eq!(
            tray(&d, false).severity,
            AccountSeverity::Ok,
            "the tray paints the same"
        );
        set("rules.runway_warning_hours", p10 + 2.0).await;
        let d = dashboard(&cw).await.unwrap();
        assert_eq!(row(&d).severity, AccountSeverity::Warning);
        set("rules.runway_critical_hours", p10 + 1.0).await;
        let d = dashboard(&cw).await.unwrap();
        assert_eq!(row(&d).severity, AccountSeverity::Critical);
        assert_eq!(
            tray(&d, false).severity,
            AccountSeverity::Critical,
            "the tray follows"
        );
    }

    /// The tray says an amount exactly as the window and the CLI do: core's one formatter.
    #[tokio::test]
    async fn the_tray_prints_amounts_with_the_one_formatter() {
        let (_tmp, cw) = open().await;
        let id = account(&cw, "openrouter", "main").await;
        drain(&cw, id, 2, 1234.5, 0.0).await;
        let d = dashboard(&cw).await.unwrap();
        let view = tray(&d, true);
        assert_eq!(view.lines.len(), 1);
        assert!(
            view.lines[0].1.ends_with("  ·  $1,234.50"),
            "the window's text for the same amount: {:?}",
            view.lines[0].1
        );
        assert!(
            view.tooltip
                .starts_with("Cliffwatch (demo) · OpenRouter · main"),
            "{}",
            view.tooltip
        );
    }

    /// The alert pass, the tray's repaint and the window's fetch of one moment share one
    /// forecast computation per account; a new reading makes a new one.
    #[tokio::test]
    async fn forecasts_are_computed_once_per_change() {
        let (_tmp, cw) = open().await;
        let a = account(&cw, "openrouter", "a").await;
        let b = account(&cw, "deepseek", "b").await;
        drain(&cw, a, 48, 100.0, 1.0).await;
        drain(&cw, b, 48, 100.0, 0.5).await;
        let before = cw.forecasts().computed();
        let now = cw.clock().now();
        crate::alerts::evaluate_with(
            cw.pool(),
            now,
            &crate::alerts::MemoryNotifier::default(),
            crate::alerts::Delivery::Notify,
            Some(cw.forecasts()),
        )
        .await
        .unwrap();
        let d = dashboard(&cw).await.unwrap();
        account_detail(&cw, a).await.unwrap();
        assert_eq!(
            cw.forecasts().computed() - before,
            2,
            "one per account, shared by all three"
        );
        assert_eq!(
            d.accounts
                .iter()
                .map(|r| r.forecast.clone())
                .collect::<Vec<_>>()
                .len(),
            2
        );
        drain(&cw, a, 0, 40.0, 0.0).await;
        let d2 = dashboard(&cw).await.unwrap();
        assert_eq!(
            cw.forecasts().computed() - before,
            3,
            "only the changed account again"
        );
        let fresh = crate::forecast::for_account(cw.pool(), a, now)
            .await
            .unwrap();
        let shown = d2.accounts.iter().find(|r| r.account.id == a).unwrap();
        assert_eq!(
            shown.forecast, fresh,
            "what is served is what a fresh computation gives"
        );
    }
}
