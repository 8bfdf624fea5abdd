//! History: the 402 history (every cliff event, filtered, with the account's label, the log
//! file it came from and a checked payment link), the alerts, and the logged usage.

use crate::alerts::{self, PaymentLink, Snooze};
use crate::db::{self, alerts::Alert, cliff_events::Filter, usage_records::DailyTotal};
use crate::events::Change;
use crate::model::{Account, AccountId, AlertId, CliffEvent, Outcome};
use crate::payments::PaymentView;
use crate::providers;
use crate::{Cliffwatch, Result};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Events listed in an account's timeline and, by default, in the 402 history.
pub const EVENTS_LIMIT: i64 = 500;

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
    /// The event's payment (protocol, price, network, pay-to) in words.
    pub payment_view: Option<PaymentView>,
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
            payment_view: crate::payments::view(event.payment.as_ref()),
            account_label: account.map(|a| a.label.clone()),
            source_path,
            payment_link,
            event,
        });
    }
    Ok(out)
}

/// The stored events matching `q`, newest first, as stored: every one when `q.limit` is
/// absent (`cliffwatch events`), not the screen's page.
pub async fn cliff_events(cw: &Cliffwatch, q: &EventQuery) -> Result<Vec<CliffEvent>> {
    let list = db::cliff_events::list(
        cw.pool(),
        &Filter {
            since: q.since,
            account: q.account,
            provider: q.provider.clone().filter(|p| !p.is_empty()),
            outcome: q.outcome,
            limit: q.limit,
        },
    )
    .await?;
    Ok(list
        .into_iter()
        .filter(|e| q.until.is_none_or(|u| e.occurred_at <= u))
        .collect())
}

/// An alert with what each channel was told of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, TS)]
#[ts(export)]
pub struct AlertRow {
    #[serde(flatten)]
    #[ts(flatten)]
    pub alert: Alert,
    /// One per channel that was to be told (none when no channel wants it).
    pub deliveries: Vec<super::channels::DeliveryRow>,
}

/// The alerts: open and snoozed ones, or every one with `all`, newest first, with their
/// deliveries to channels.
pub async fn alerts(cw: &Cliffwatch, all: bool) -> Result<Vec<AlertRow>> {
    let list = db::alerts::list(cw.pool(), !all).await?;
    let ids: Vec<AlertId> = list.iter().map(|a| a.id).collect();
    let mut deliveries = db::channels::of_alerts(cw.pool(), &ids).await?;
    Ok(list
        .into_iter()
        .map(|alert| {
            let (mine, rest): (Vec<_>, Vec<_>) =
                deliveries.drain(..).partition(|d| d.alert_id == alert.id);
            deliveries = rest;
            AlertRow {
                deliveries: mine
                    .into_iter()
                    .filter_map(super::channels::DeliveryRow::from_db)
                    .collect(),
                alert,
            }
        })
        .collect())
}

/// Snoozes an alert (for an hour, a day, or until the next top-up).
pub async fn snooze(cw: &Cliffwatch, id: AlertId, how: Snooze) -> Result<Alert> {
    let alert = alerts::snooze(cw.pool(), id, how, cw.clock().now()).await?;
    cw.announce(Change::Data);
    Ok(alert)
}

/// Logged token usage and cost per day (UTC) and model, from `since` on.
pub async fn usage_by_day(
    cw: &Cliffwatch,
    since: Option<DateTime<Utc>>,
) -> Result<Vec<DailyTotal>> {
    db::usage_records::daily_totals(cw.pool(), since).await
}

#[cfg(test)]
mod tests {
    use super::super::test_support::*;
    use super::*;
    use crate::model::EventOrigin;
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
        let d = super::super::overview::account_detail(&cw, id)
            .await
            .unwrap();
        assert_eq!(
            d.latest_error.unwrap().event.code.as_deref(),
            Some("insufficient_credits"),
            "the detail shows the latest parsed error"
        );
    }
}
