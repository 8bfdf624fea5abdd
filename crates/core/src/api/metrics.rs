//! `/metrics`: every account's balance, burn, runway band, state and last reading, and the
//! 402 history's counts, in the Prometheus / OpenMetrics text format (encoded by the
//! `prometheus-client` crate, not by hand). Labels: `account` (the label), `provider`, `unit`.
//! Built afresh from the store at each scrape, so it is what the dashboard shows at that moment.

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
    let dashboard = super::overview::dashboard(cw).await?;
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
    for row in &dashboard.accounts {
        let a = &row.account;
        names.insert(a.id, (a.label.clone(), a.provider.clone()));
        let unit = row
            .forecast
            .unit
            .as_ref()
            .or(row.latest.as_ref().map(|l| &l.unit))
            .map_or_else(String::new, |u| u.as_str().to_owned());
        let labels = vec![
            ("account".to_owned(), a.label.clone()),
            ("provider".to_owned(), a.provider.clone()),
            ("unit".to_owned(), unit),
        ];
        if let Some(v) = row.forecast.remaining.filter(|v| v.is_finite()) {
            remaining.get_or_create(&labels).set(v);
        }
        if let Some(v) = row
            .latest
            .as_ref()
            .and_then(|l| l.limit)
            .filter(|v| v.is_finite())
        {
            limit.get_or_create(&labels).set(v);
        }
        if let Some(v) = row.forecast.rate_per_day.filter(|v| v.is_finite()) {
            burn.get_or_create(&labels).set(v);
        }
        if let Some(r) = row.forecast.runway_hours {
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
        if let Some(latest) = &row.latest {
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
