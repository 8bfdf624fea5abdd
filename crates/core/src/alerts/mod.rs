//! Alerts: turning forecasts, balances and provider answers into one notification per episode.
//!
//! [`evaluate`] runs the [`rules`] for every account at `now`, stores each alert with its state
//! in `alerts` (open → snoozed → resolved), and hands new ones to a [`Notifier`]. One episode
//! gives one alert: an open alert of a kind blocks another of the same kind until its
//! condition clears past the hysteresis margin or a material top-up re-arms it. Snoozes hold an
//! alert back for an hour, a day, or until the next top-up. During [`QuietHours`] only
//! critical alerts (runway < 24 h, out of credit) are delivered; the rest wait for the morning.

pub mod actions;
pub mod channels;
#[cfg(feature = "desktop-notify")]
pub mod desktop;
pub mod payment;
pub mod rules;
mod unpaid;

pub use actions::{ActionHandler, StoreActions, UrlOpener};
pub use payment::{payment_link, payment_uri_in, PaymentLink};
pub use rules::{AccountSeverity, AlertKind, AlertRules, Check, QuietHours, Severity, Snapshot};

use crate::db::{self, alerts::Alert};
use crate::forecast::{self, Forecast, ForecastState};
use crate::model::{AccountId, AlertId, CliffEvent, Outcome, Unit};
use crate::providers;
use crate::{Error, Result};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::SqlitePool;
use std::sync::Mutex;
use ts_rs::TS;

/// Settings key of the rules every account gets unless it has its own.
pub const RULES_KEY: &str = "alerts.rules";
/// Settings key of the quiet hours.
pub const QUIET_HOURS_KEY: &str = "alerts.quiet_hours";

/// What the user is told about one alert.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct Notification {
    pub alert_id: AlertId,
    pub account_id: Option<AccountId>,
    pub kind: AlertKind,
    pub severity: Severity,
    /// "OpenRouter · main: runs out in about a day".
    pub title: String,
    /// "5.20 USD left — ~14 h left, between 9 and 20 h."
    pub body: String,
    /// The provider's own billing page: the "Top up" action.
    pub top_up_url: Option<String>,
    /// A payment link from a 402 body, checked (see [`payment`]); shown, never opened by itself.
    pub payment_link: Option<PaymentLink>,
}

/// Where notifications go: the desktop (notify-rust), the CLI's terminal, a test's memory.
pub trait Notifier: Send + Sync + std::fmt::Debug {
    fn notify(&self, n: &Notification) -> Result<()>;
}

/// A notifier that keeps what it was given, for tests and `--dry-run` style callers.
#[derive(Debug, Default)]
pub struct MemoryNotifier(Mutex<Vec<Notification>>);

impl MemoryNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything notified since the last call.
    pub fn take(&self) -> Vec<Notification> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Notifier for MemoryNotifier {
    fn notify(&self, n: &Notification) -> Result<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(n.clone());
        Ok(())
    }
}

/// How long a snooze lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Snooze {
    Hour,
    Day,
    /// Until the account is topped up (the alert then resolves).
    UntilTopUp,
}

/// Snoozes an alert; returns it as stored.
pub async fn snooze(
    pool: &SqlitePool,
    id: AlertId,
    how: Snooze,
    now: DateTime<Utc>,
) -> Result<Alert> {
    let alert = db::alerts::get(pool, id).await?.ok_or_else(|| {
        Error::InvalidInput(format!(
            "no alert #{id}: run `cliffwatch alerts` to see them"
        ))
    })?;
    if alert.state == "resolved" {
        return Err(Error::InvalidInput(format!(
            "alert #{id} is already resolved"
        )));
    }
    let until = match how {
        Snooze::Hour => Some(now + Duration::hours(1)),
        Snooze::Day => Some(now + Duration::days(1)),
        Snooze::UntilTopUp => None,
    };
    db::alerts::set_state(pool, id, "snoozed", until, now).await?;
    db::alerts::get(pool, id)
        .await?
        .ok_or_else(|| Error::Malformed(format!("alert #{id} vanished")))
}

/// The rules for an account: its own, else the shared ones, else the defaults.
pub async fn rules_for(pool: &SqlitePool, account: AccountId) -> Result<AlertRules> {
    for key in [format!("{RULES_KEY}.{account}"), RULES_KEY.to_owned()] {
        if let Some(v) = db::settings::get(pool, &key).await? {
            return serde_json::from_value(v)
                .map_err(|e| Error::Malformed(format!("setting `{key}`: {e}")));
        }
    }
    Ok(AlertRules::default())
}

/// Stores rules for one account, or for every account without its own (`None`).
pub async fn set_rules(
    pool: &SqlitePool,
    account: Option<AccountId>,
    rules: &AlertRules,
) -> Result<()> {
    let key = account.map_or_else(|| RULES_KEY.to_owned(), |a| format!("{RULES_KEY}.{a}"));
    let value = serde_json::to_value(rules).map_err(|e| Error::Malformed(e.to_string()))?;
    db::settings::set(pool, &key, &value).await
}

pub async fn quiet_hours(pool: &SqlitePool) -> Result<Option<QuietHours>> {
    db::settings::get(pool, QUIET_HOURS_KEY)
        .await?
        .filter(|v| !v.is_null())
        .map(|v| {
            serde_json::from_value(v)
                .map_err(|e| Error::Malformed(format!("setting `{QUIET_HOURS_KEY}`: {e}")))
        })
        .transpose()
}

pub async fn set_quiet_hours(pool: &SqlitePool, q: Option<QuietHours>) -> Result<()> {
    let value = serde_json::to_value(q).map_err(|e| Error::Malformed(e.to_string()))?;
    db::settings::set(pool, QUIET_HOURS_KEY, &value).await
}

/// Runs every account's rules at `now`: raises, re-delivers (snooze over, quiet hours over) and
/// resolves alerts, and notifies. Returns the alerts raised or delivered in this pass, as
/// stored after it (a raised alert held back by quiet hours is included, with no
/// `notified_at`). If the notifier fails, the pass still completes, the alert stays
/// undelivered (the next pass retries it), and the first notifier error is returned.
pub async fn evaluate(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    notifier: &dyn Notifier,
) -> Result<Vec<Alert>> {
    evaluate_with(pool, now, notifier, Delivery::Notify, None).await
}

/// What an evaluation pass does with the alerts due for delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// Hand them to the notifier.
    Notify,
    /// Notifications are off (the setting): alerts are stored and shown in the app, and count
    /// as told, so they do not all go out when notifications are turned back on.
    Silent,
    /// Alerts are paused ("Pause alerts 1 h"): they stay undelivered and go out at the first
    /// pass after the pause.
    Hold,
}

/// [`evaluate`] with a delivery policy, reading forecasts through `forecasts` when given (the
/// engine's shared cache) instead of computing them afresh.
pub async fn evaluate_with(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    notifier: &dyn Notifier,
    delivery: Delivery,
    forecasts: Option<&forecast::ForecastCache>,
) -> Result<Vec<Alert>> {
    let quiet = quiet_hours(pool).await?.is_some_and(|q| q.contains(now));
    let mut shared: std::collections::HashMap<AccountId, Forecast> = match forecasts {
        Some(cache) => cache
            .all(pool, now)
            .await?
            .into_iter()
            .map(|f| (f.account_id, f))
            .collect(),
        None => Default::default(),
    };
    let mut touched = Vec::new();
    let mut first_error = None;
    for stored in db::accounts::list(pool).await? {
        let account = stored.account;
        let rules = rules_for(pool, account.id).await?;
        let info = providers::find(&account.provider).ok();
        let forecast = match shared.remove(&account.id) {
            Some(f) => f,
            None => forecast::for_account(pool, account.id, now).await?,
        };
        let samples = db::balance_samples::since(
            pool,
            account.id,
            now - Duration::days(forecast::HISTORY_DAYS),
        )
        .await?
        .into_iter()
        .filter(|s| s.observed_at <= now)
        .collect::<Vec<_>>();
        let top_ups = material_top_ups(&samples, account.budget);
        let last_top_up = top_ups.last().map(|t| t.0);
        let events = db::cliff_events::list(
            pool,
            &db::cliff_events::Filter {
                since: last_top_up,
                account: Some(account.id),
                outcome: Some(Outcome::OutOfCredit),
                ..Default::default()
            },
        )
        .await?;
        let event = events
            .into_iter()
            .find(|e| e.occurred_at <= now && last_top_up.is_none_or(|t| e.occurred_at > t));
        let latest = samples.last();
        let snapshot = Snapshot {
            remaining: forecast.remaining,
            reference: latest.and_then(|s| s.limit).or(top_ups.last().map(|t| t.1)),
            forecast_state: forecast.state,
            p10_hours: forecast.runway_hours.map(|r| r.p10),
            account_state: account.state,
            out_of_credit_event: event.is_some(),
            hours_since_ok: (now - latest.map_or(account.created_at, |s| s.observed_at))
                .num_seconds() as f64
                / 3600.0,
        };
        let top_up_url = info
            .map(|i| i.top_up_url)
            .filter(|u| !u.is_empty())
            .map(str::to_owned);
        let payment = event
            .as_ref()
            .and_then(|e| e.payment.as_ref())
            .and_then(payment_uri_in)
            .and_then(|uri| payment_link(uri, top_up_url.as_deref()));
        let name = info.map_or(account.provider.as_str(), |i| i.name);

        // Alerts due for delivery in this pass, in `AlertKind::ALL` order, and the most severe
        // balance alert of the episode the user has already been told about.
        let mut due = Vec::new();
        let mut told = None;
        for kind in AlertKind::ALL {
            let mut current = db::alerts::current(pool, Some(account.id), kind.as_str()).await?;
            if let Some(a) = &current {
                let topped_up = last_top_up.is_some_and(|t| t > a.raised_at);
                let check = rules::check(kind, &snapshot, &rules, topped_up);
                let snoozed_until_top_up = a.state == "snoozed" && a.snoozed_until.is_none();
                if check == Check::Clear || (snoozed_until_top_up && topped_up) {
                    db::alerts::set_state(pool, a.id, "resolved", None, now).await?;
                    current = None;
                }
            }
            if let (Some(a), Some(rank)) = (&current, kind.balance_rank()) {
                // Told, or snoozed by the user and still quiet; a snooze that ran out makes the
                // alert due again below, so it does not count.
                let snoozing = a.state == "snoozed" && a.snoozed_until.is_none_or(|u| u > now);
                let told_open = a.state != "snoozed" && a.notified_at.is_some();
                if snoozing || told_open {
                    told = told.max(Some(rank));
                }
            }
            let deliver = match current {
                Some(a) if a.state == "snoozed" => match a.snoozed_until {
                    Some(until) if until <= now => {
                        db::alerts::set_state(pool, a.id, "open", None, now).await?;
                        db::alerts::clear_notified(pool, a.id).await?;
                        db::channels::forget(pool, a.id).await?;
                        Some(a.id)
                    }
                    _ => None,
                },
                Some(a) => a.notified_at.is_none().then_some(a.id),
                None => {
                    if rules::check(kind, &snapshot, &rules, false) != Check::Raise {
                        continue;
                    }
                    let (title, body) =
                        words(kind, name, &account.label, &forecast, event.as_ref());
                    let id = db::alerts::insert(
                        pool,
                        &db::alerts::NewAlert {
                            account_id: Some(account.id),
                            kind: kind.as_str(),
                            severity: kind.severity().as_str(),
                            title: &title,
                            body: &body,
                            now,
                            subject: None,
                        },
                    )
                    .await?;
                    touched.push(id);
                    Some(id)
                }
            };
            if let Some(id) = deliver {
                due.push((kind, id));
            }
        }

        if delivery == Delivery::Hold {
            continue;
        }
        let plan = plan_delivery(&due, quiet, told);
        for id in plan.silent {
            db::alerts::mark_notified(pool, id, now).await?;
            touched.push(id);
        }
        for (kind, id, superseded) in plan.send {
            let (title, body) = words(kind, name, &account.label, &forecast, event.as_ref());
            let n = Notification {
                alert_id: id,
                account_id: Some(account.id),
                kind,
                severity: kind.severity(),
                title,
                body,
                top_up_url: top_up_url.clone(),
                payment_link: payment.clone().filter(|_| kind == AlertKind::OutOfCredit),
            };
            // Channels hear of it whatever the desktop does: the notifications switch is the
            // desktop's, and a desktop that fails (no session on a server) holds nobody up.
            channels::queue(
                pool,
                &channels::message_for(&n, channels::About::Account(&account, &forecast), now),
                now,
            )
            .await?;
            let sent = match delivery {
                Delivery::Silent => Ok(()),
                _ => notifier.notify(&n),
            };
            match sent {
                Ok(()) => {
                    db::alerts::mark_notified(pool, id, now).await?;
                    touched.push(id);
                    // The lesser alerts of the episode were told with this one: they are
                    // stored as notified so that they do not go out on their own later.
                    for lesser in superseded {
                        db::alerts::mark_notified(pool, lesser, now).await?;
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
    }
    touched.extend(unpaid::evaluate(pool, now, notifier, delivery, quiet).await?);
    if let Some(e) = first_error {
        return Err(e);
    }
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for id in touched {
        if !seen.insert(id) {
            continue;
        }
        if let Some(a) = db::alerts::get(pool, id).await? {
            out.push(a);
        }
    }
    Ok(out)
}

/// What one account's due alerts become in one pass.
#[derive(Debug, Default, PartialEq)]
struct Plan {
    /// Deliver now: (kind, alert, the lesser alerts this one supersedes).
    send: Vec<(AlertKind, AlertId, Vec<AlertId>)>,
    /// Count as told without a notification: a more severe alert of the same episode already
    /// went out ("balance is low" after "runs out within a day" adds nothing).
    silent: Vec<AlertId>,
}

/// Which of one account's due alerts go out now. Alerts outside the balance/runway story
/// (key, polling) go out each on its own. Of the balance/runway ones only the most severe goes
/// out, and the others ride on it: a balance that crosses 10 % with a day of runway left gives
/// one "runs out within a day" notification, not three. During quiet hours only critical alerts
/// go out; a held warning waits for the morning, unless a critical alert of the same story goes
/// out now and supersedes it. `told` is the rank of the most severe balance alert of this
/// episode already delivered (or snoozed): due ones no more severe are stored as told, silently.
fn plan_delivery(due: &[(AlertKind, AlertId)], quiet: bool, told: Option<u8>) -> Plan {
    let held = |k: AlertKind| quiet && k.severity() < Severity::Critical;
    let mut plan = Plan::default();
    for &(kind, id) in due {
        if kind.balance_rank().is_none() && !held(kind) {
            plan.send.push((kind, id, Vec::new()));
        }
    }
    let top = due
        .iter()
        .filter_map(|&(k, id)| k.balance_rank().map(|r| (r, k, id)))
        .max_by_key(|&(r, ..)| r);
    if top.is_some_and(|(r, ..)| told.is_some_and(|t| r <= t)) {
        plan.silent = due
            .iter()
            .filter(|(k, _)| k.balance_rank().is_some())
            .map(|&(_, id)| id)
            .collect();
        return plan;
    }
    if let Some((_, kind, id)) = top.filter(|&(_, k, _)| !held(k)) {
        let lesser = due
            .iter()
            .filter(|&&(k, other)| k.balance_rank().is_some() && other != id)
            .map(|&(_, other)| other)
            .collect();
        plan.send.push((kind, id, lesser));
    }
    plan
}

/// Top-ups that re-arm alerts: (when, level reached), oldest first. A rise must add at least
/// [`rules::MATERIAL_TOP_UP`] of the new level; the first reading in the window counts if it
/// is itself flagged.
fn material_top_ups(
    samples: &[crate::model::BalanceSample],
    budget: Option<f64>,
) -> Vec<(DateTime<Utc>, f64)> {
    let mut out = Vec::new();
    let mut prev: Option<f64> = None;
    for s in samples {
        let level = forecast::series::level_of(s, budget);
        if let Some(l) = level {
            let material = match prev {
                Some(p) => l - p >= rules::MATERIAL_TOP_UP * l && l > p,
                None => s.is_topup,
            };
            if material {
                out.push((s.observed_at, l));
            }
            prev = Some(l);
        }
    }
    out
}

/// Title and body of an alert, in plain words. `refused` is the out-of-credit answer seen since
/// the last top-up, if any: its real HTTP status is named (a 403 or a 200 saying "zero
/// balance" is a disguised 402, and the user should recognise it in their own logs).
fn words(
    kind: AlertKind,
    provider: &str,
    label: &str,
    f: &Forecast,
    refused: Option<&CliffEvent>,
) -> (String, String) {
    let headline = match kind {
        AlertKind::LowBalance => "balance is low".to_owned(),
        AlertKind::RunwayWarning => match f.runway_hours {
            Some(r) if r.p10 >= 48.0 => "may run out within days".to_owned(),
            _ => "may run out within 3 days".to_owned(),
        },
        AlertKind::RunwayCritical => "may run out within a day".to_owned(),
        AlertKind::OutOfCredit => "out of credit".to_owned(),
        AlertKind::KeyInvalid => "the key was rejected".to_owned(),
        AlertKind::PollFailing => "balance checks are failing".to_owned(),
        AlertKind::UnpaidChallenges => "payment challenges go unpaid".to_owned(),
    };
    let title = format!("{provider} · {label}: {headline}");
    let left = match (f.remaining, &f.unit) {
        (Some(r), Some(u)) => format!("{} left", amount(r, u)),
        _ => "remaining unknown".to_owned(),
    };
    let body = match kind {
        AlertKind::OutOfCredit => match refused.map(|e| e.status) {
            Some(Some(402)) => {
                format!("{left}. Requests are being refused (HTTP 402): top up to resume.")
            }
            Some(Some(status)) => format!(
                "{left}. Requests are being refused (out of credit, disguised as HTTP {status}): top up to resume."
            ),
            Some(None) => format!("{left}. Requests are being refused: top up to resume."),
            None => format!("{left}. Requests will be refused until you top up."),
        },
        AlertKind::KeyInvalid => {
            "The provider rejected the key (401). Polling has stopped until you edit the account."
                .to_owned()
        }
        AlertKind::PollFailing => {
            format!("Cliffwatch has not been able to read the balance for over an hour. {left} at the last reading.")
        }
        _ if f.state == ForecastState::Ok => format!("{left} — {}.", f.message),
        _ => format!("{left}."),
    };
    (title, body)
}

/// "$5.20", "1,234 credits": the one formatter every host uses.
fn amount(v: f64, unit: &Unit) -> String {
    crate::format::format_amount(v, unit.as_str())
}

#[cfg(test)]
mod tests;
