//! `/metrics`: every account's balance, burn, runway band, state and last reading, and the
//! 402 history's counts, in the Prometheus / OpenMetrics text format (encoded by the
//! `prometheus-client` crate, not by hand). Labels: `account` (the label), `provider`, `unit`.
//! What the dashboard shows at that moment: built from the store, and served again from
//! memory while nothing it stands on changed ([`db::accounts::change_stamp`]) within the same
//! minute (runways count down, as in the forecast cache), so that a scrape between two polls
//! costs one small query, not a forecast per account.

use crate::db;
use crate::model::{AccountId, AccountState};
use crate::{Cliffwatch, Error, Result};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(String, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// The states an account can be in, each a 0/1 series of `cliffwatch_account_state`.
const STATES: [AccountState; 5] = [
    AccountState::Unknown,
    AccountState::Ok,
    AccountState::OutOfCredit,
    AccountState::InvalidKey,
    AccountState::Error,
];

/// The metrics text, as of `cw`'s clock.
pub async fn render(cw: &Cliffwatch) -> Result<String> {
    let now = cw.clock().now();
    let minute = now.timestamp().div_euclid(60);
    let stamp = db::accounts::change_stamp(cw.pool()).await?;
    cw.metrics_memo()
        .get_or_build(stamp, minute, build(cw, now))
        .await
}

/// The metrics text built from the store: the shared forecasts, each account's newest
/// reading and the 402 counts, in the same few queries whatever the number of accounts.
async fn build(cw: &Cliffwatch, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    let pool = cw.pool();
    let mut forecasts = cw.forecasts().by_account(pool, now).await?;
    let mut latest = db::balance_samples::latest_all(pool).await?;
    let mut registry = Registry::with_prefix("cliffwatch");
    let remaining = Family::<Labels, FloatGauge>::default();
    let limit = Family::<Labels, FloatGauge>::default();
    let burn = Family::<Labels, FloatGauge>::default();
    let runway = Family::<Labels, FloatGauge>::default();
    let state = Family::<Labels, Gauge>::default();
    let last_poll = Family::<Labels, Gauge>::default();
    let events = Family::<Labels, Counter>::default();
    registry.register(
        "balance_remaining",
        "What is left, in the account's unit",
        remaining.clone(),
    );
    registry.register(
        "balance_limit",
        "The allowance or last top-up level, in the account's unit",
        limit.clone(),
    );
    registry.register(
        "burn_per_day",
        "Spend per day the forecast sees, in the account's unit",
        burn.clone(),
    );
    registry.register(
        "runway_hours",
        "Hours until the balance runs out: P10 (early), P50, P90 (late)",
        runway.clone(),
    );
    registry.register(
        "account_state",
        "1 for the account's state, 0 for the others",
        state.clone(),
    );
    registry.register(
        "last_poll_timestamp_seconds",
        "Unix time of the account's latest reading",
        last_poll.clone(),
    );
    registry.register(
        "cliff_events",
        "402s, disguised 402s, prices asked and other failed requests seen, by outcome",
        events.clone(),
    );
    let mut names: HashMap<AccountId, (String, String)> = HashMap::new();
    for stored in db::accounts::list(pool).await? {
        let a = &stored.account;
        names.insert(a.id, (a.label.clone(), a.provider.clone()));
        let latest = latest.remove(&a.id);
        // An account added between the two reads has no forecast yet: it appears at the next
        // scrape with one, and its reading and state now.
        let forecast = forecasts.remove(&a.id);
        let unit = forecast
            .as_ref()
            .and_then(|f| f.unit.as_ref())
            .or(latest.as_ref().map(|l| &l.unit))
            .map_or_else(String::new, |u| u.as_str().to_owned());
        let labels = vec![
            ("account".to_owned(), a.label.clone()),
            ("provider".to_owned(), a.provider.clone()),
            ("unit".to_owned(), unit),
        ];
        if let Some(v) = forecast
            .as_ref()
            .and_then(|f| f.remaining)
            .filter(|v| v.is_finite())
        {
            remaining.get_or_create(&labels).set(v);
        }
        if let Some(v) = latest
            .as_ref()
            .and_then(|l| l.limit)
            .filter(|v| v.is_finite())
        {
            limit.get_or_create(&labels).set(v);
        }
        if let Some(v) = forecast
            .as_ref()
            .and_then(|f| f.rate_per_day)
            .filter(|v| v.is_finite())
        {
            burn.get_or_create(&labels).set(v);
        }
        if let Some(r) = forecast.as_ref().and_then(|f| f.runway_hours) {
            for (q, v) in [("0.1", r.p10), ("0.5", r.p50), ("0.9", r.p90)] {
                if v.is_finite() {
                    let mut l = labels.clone();
                    l.push(("quantile".to_owned(), q.to_owned()));
                    runway.get_or_create(&l).set(v);
                }
            }
        }
        for s in STATES {
            let mut l = labels.clone();
            l.push(("state".to_owned(), s.as_str().to_owned()));
            state.get_or_create(&l).set(i64::from(a.state == s));
        }
        if let Some(latest) = &latest {
            last_poll
                .get_or_create(&labels)
                .set(latest.observed_at.timestamp());
        }
    }
    for (account, provider, outcome, n) in db::cliff_events::counts(cw.pool()).await? {
        let (label, provider) = match account.and_then(|id| names.get(&id)) {
            Some((label, p)) => (label.clone(), p.clone()),
            None => (String::new(), provider.unwrap_or_default()),
        };
        let l = vec![
            ("account".to_owned(), label),
            ("provider".to_owned(), provider),
            ("outcome".to_owned(), outcome),
        ];
        events
            .get_or_create(&l)
            .inc_by(u64::try_from(n).unwrap_or_default());
    }
    let mut out = String::new();
    encode(&mut out, &registry)
        .map_err(|e| Error::Malformed(format!("cannot encode the metrics: {e}")))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::test_support::{account, drain, t0};
    use crate::clock::{Clock, ManualClock};
    use std::sync::Arc;

    fn line<'a>(text: &'a str, metric: &str) -> Option<&'a str> {
        text.lines().find(|l| l.starts_with(metric))
    }

    const P50: &str =
        r#"cliffwatch_runway_hours{account="main",provider="deepseek",unit="usd",quantile="0.5"}"#;

    /// The series, whatever their order (a family's series come out in hash order).
    fn series(text: &str) -> Vec<&str> {
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        lines
    }

    /// Served from memory while nothing changed, and rebuilt as soon as a reading, an edit or
    /// the minute changes: always what a fresh build would say.
    #[tokio::test]
    async fn the_text_is_reused_only_while_nothing_it_stands_on_changed() {
        let tmp = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new(t0()));
        let cw = Cliffwatch::open(
            tmp.path(),
            Arc::new(crate::secrets::MemoryStore::new()),
            clock.clone(),
        )
        .await
        .unwrap();
        let id = account(&cw, "deepseek", "main").await;
        drain(&cw, id, 48, 100.0, 1.0).await;
        let first = render(&cw).await.unwrap();
        assert!(
            line(&first, "cliffwatch_balance_remaining{").is_some_and(|l| l.ends_with(" 52.0")),
            "{first}"
        );
        assert_eq!(render(&cw).await.unwrap(), first, "nothing changed");

        // A new reading, ten seconds on (the same minute): the memo is not served.
        clock.advance(chrono::Duration::seconds(10));
        let mut tx = cw.pool().begin().await.unwrap();
        let s = crate::db::test_rows::usd(id, t0() + chrono::Duration::seconds(10), 51.5);
        crate::db::balance_samples::insert(&mut tx, s)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let second = render(&cw).await.unwrap();
        assert!(
            line(&second, "cliffwatch_balance_remaining{").is_some_and(|l| l.ends_with(" 51.5")),
            "{second}"
        );
        assert_eq!(
            series(&second),
            series(&build(&cw, clock.now()).await.unwrap())
        );

        // The account's state changes (a poll found the key revoked): rebuilt.
        crate::db::accounts::set_state(
            cw.pool(),
            id,
            crate::model::AccountState::InvalidKey,
            None,
            clock.now(),
        )
        .await
        .unwrap();
        let third = render(&cw).await.unwrap();
        assert!(
            third
                .lines()
                .any(|l| l.contains("state=\"invalid_key\"") && l.ends_with(" 1")),
            "{third}"
        );

        // The next minute: the runway is counted again.
        clock.advance(chrono::Duration::minutes(30));
        let later = render(&cw).await.unwrap();
        assert_eq!(
            series(&later),
            series(&build(&cw, clock.now()).await.unwrap())
        );
        assert_ne!(
            line(&later, P50).and_then(|l| l.split(' ').nth(1)),
            line(&third, P50).and_then(|l| l.split(' ').nth(1)),
            "half an hour later the runway is shorter"
        );
    }
}
