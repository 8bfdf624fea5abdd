//! The one alert about a host rather than an account: "N payment challenges from one host in
//! an hour, none paid". A price asked is not a cliff (an agent that pays per call sees a 402 on
//! every first request), so this is off unless the user sets
//! `rules.unpaid_challenges_per_hour`. Challenges that were then paid (a receipt from the same
//! host in the same hour) do not count.

use super::{AlertKind, AlertRules, Delivery, Notification, Notifier, RULES_KEY};
use crate::db;
use crate::model::{AlertId, Outcome};
use crate::Result;
use chrono::{DateTime, Duration, Utc};
use sqlx::SqlitePool;
use std::collections::BTreeMap;

/// Raises, delivers and resolves unpaid-challenge alerts as of `now`; returns the alerts it
/// touched.
pub(super) async fn evaluate(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    notifier: &dyn Notifier,
    delivery: Delivery,
    quiet: bool,
) -> Result<Vec<AlertId>> {
    let kind = AlertKind::UnpaidChallenges;
    let rules: AlertRules = db::settings::get(pool, RULES_KEY)
        .await?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    let threshold = rules
        .unpaid_challenges_per_hour
        .filter(|n| *n > 0 && rules.enabled);
    let since = now - Duration::hours(1);
    let mut per_host: BTreeMap<String, (i64, Option<String>)> = BTreeMap::new();
    if threshold.is_some() {
        let events = db::cliff_events::list(
            pool,
            &db::cliff_events::Filter {
                since: Some(since),
                outcome: Some(Outcome::PaymentRequired),
                ..Default::default()
            },
        )
        .await?;
        for e in events.iter().filter(|e| e.occurred_at <= now) {
            let host = e
                .host
                .clone()
                .or_else(|| e.provider.clone())
                .unwrap_or_else(|| "an unknown host".into());
            let price = crate::payments::view(e.payment.as_ref()).and_then(|v| v.price);
            let entry = per_host.entry(host).or_insert((0, None));
            entry.0 += 1;
            // Newest first: the first price seen is the latest asked.
            if entry.1.is_none() {
                entry.1 = price;
            }
        }
    }
    let mut touched = Vec::new();
    let mut due = Vec::new();
    let mut over = std::collections::HashSet::new();
    for (host, (challenges, price)) in &per_host {
        let paid = db::usage_records::payments_to(pool, host, since).await?;
        let unpaid = challenges - paid;
        if threshold.is_none_or(|n| unpaid < i64::from(n)) {
            continue;
        }
        over.insert(host.clone());
        let title = format!("{host}: payment challenges go unpaid");
        let body = format!(
            "{host} asked for payment {unpaid} times in the last hour{} and none was paid: an agent may be stuck on a price its wallet cannot pay.",
            price.as_ref().map(|p| format!(" ({p} each)")).unwrap_or_default()
        );
        let current = db::alerts::current_about(pool, kind.as_str(), host).await?;
        let id = match current {
            Some(a) if a.notified_at.is_some() || a.state == "snoozed" => continue,
            Some(a) => a.id,
            None => {
                let id = db::alerts::insert(
                    pool,
                    &db::alerts::NewAlert {
                        account_id: None,
                        kind: kind.as_str(),
                        severity: kind.severity().as_str(),
                        title: &title,
                        body: &body,
                        now,
                        subject: Some(host),
                    },
                )
                .await?;
                touched.push(id);
                id
            }
        };
        due.push((id, title, body, host.clone()));
    }
    // Hosts back under the threshold end their episode.
    for a in db::alerts::unresolved_of_kind(pool, kind.as_str()).await? {
        if !a.subject.as_ref().is_some_and(|h| over.contains(h)) {
            db::alerts::set_state(pool, a.id, "resolved", None, now).await?;
            touched.push(a.id);
        }
    }
    // A warning: held through quiet hours and pauses, like every other warning.
    if delivery == Delivery::Hold || quiet {
        return Ok(touched);
    }
    for (id, title, body, host) in due {
        let n = Notification {
            alert_id: id,
            account_id: None,
            kind,
            severity: kind.severity(),
            title,
            body,
            top_up_url: None,
            payment_link: None,
        };
        super::channels::queue(
            pool,
            &super::channels::message_for(&n, super::channels::About::Host(&host), now),
            now,
        )
        .await?;
        let sent = match delivery {
            Delivery::Silent => Ok(()),
            _ => notifier.notify(&n),
        };
        if sent.is_ok() {
            db::alerts::mark_notified(pool, id, now).await?;
            touched.push(id);
        }
    }
    Ok(touched)
}
