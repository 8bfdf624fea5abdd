//! What the buttons on an alert's desktop notification do. The notifier (see
//! `alerts::desktop`, behind the `desktop-notify` feature) reports a click to an
//! [`ActionHandler`]; [`StoreActions`] is the handler both shells use. It needs only one thing
//! from them: how to open a web page ([`UrlOpener`]: Tauri's opener plugin in the app, the
//! desktop's URL handler in the CLI).

use super::Snooze;
use crate::clock::Clock;
use crate::engine::{EngineEvent, EngineSink};
use crate::model::{AccountId, AlertId, ErrorDto};
use crate::{Cliffwatch, Result};
use sqlx::SqlitePool;
use std::sync::Arc;

/// How long "Snooze" on a notification holds the alert back.
pub const SNOOZE_FROM_NOTIFICATION: Snooze = Snooze::Day;

/// Receives the clicks on a notification's buttons. Called on the notifier's own thread, never
/// inside an async runtime: an implementation must not block for long, and hands async work to
/// a runtime it was given.
pub trait ActionHandler: Send + Sync + std::fmt::Debug {
    /// "Top up" on an alert of `account`: open `url`, the provider's own billing page as
    /// Cliffwatch knows it (never a payment link from a 402 body).
    fn top_up(&self, account: Option<AccountId>, url: &str);
    /// "Snooze" on `alert`.
    fn snooze(&self, alert: AlertId);
    /// The notification's body was clicked (its "default" action): show `account`.
    fn open(&self, account: Option<AccountId>);
}

/// Opens a web page in the user's browser.
pub trait UrlOpener: Send + Sync + std::fmt::Debug {
    fn open(&self, url: &str) -> Result<()>;
}

/// The shells' [`ActionHandler`]: "Snooze" snoozes the alert for a day in the store
/// ([`super::snooze`], on `runtime`), "Top up" opens the page through the shell's opener once it
/// is checked to be an https URL without credentials. What happened goes to `sink`: the
/// snoozed alert as [`EngineEvent::Alerts`] followed by [`EngineEvent::Changed`], or
/// [`EngineEvent::Failed`].
pub struct StoreActions {
    pool: SqlitePool,
    clock: Arc<dyn Clock>,
    runtime: tokio::runtime::Handle,
    opener: Arc<dyn UrlOpener>,
    sink: EngineSink,
}

impl std::fmt::Debug for StoreActions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreActions")
            .field("opener", &self.opener)
            .finish_non_exhaustive()
    }
}

impl StoreActions {
    pub fn new(
        cw: &Cliffwatch,
        runtime: tokio::runtime::Handle,
        opener: Arc<dyn UrlOpener>,
        sink: EngineSink,
    ) -> Self {
        StoreActions {
            pool: cw.pool().clone(),
            clock: cw.clock().clone(),
            runtime,
            opener,
            sink,
        }
    }
}

impl ActionHandler for StoreActions {
    fn open(&self, account: Option<AccountId>) {
        (self.sink)(EngineEvent::OpenRequested(account));
    }

    fn top_up(&self, _account: Option<AccountId>, url: &str) {
        let opened = crate::urls::checked_https_url(url).and_then(|u| self.opener.open(&u));
        if let Err(e) = opened {
            (self.sink)(EngineEvent::Failed(ErrorDto::from(&e)));
        }
    }

    fn snooze(&self, alert: AlertId) {
        let (pool, clock, sink) = (self.pool.clone(), self.clock.clone(), self.sink.clone());
        self.runtime.spawn(async move {
            match super::snooze(&pool, alert, SNOOZE_FROM_NOTIFICATION, clock.now()).await {
                Ok(a) => {
                    sink(EngineEvent::Alerts(vec![a]));
                    sink(EngineEvent::Changed);
                }
                Err(e) => sink(EngineEvent::Failed(ErrorDto::from(&e))),
            }
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::alerts::{evaluate, set_rules, AlertRules, MemoryNotifier};
    use crate::clock::ManualClock;
    use crate::db;
    use crate::secrets::MemoryStore;
    use chrono::{Duration, TimeZone, Utc};
    use std::sync::Mutex;

    /// Remembers the pages it was asked to open.
    #[derive(Debug, Default)]
    pub(crate) struct Opened(pub Mutex<Vec<String>>);

    impl UrlOpener for Opened {
        fn open(&self, url: &str) -> Result<()> {
            self.0.lock().unwrap().push(url.to_owned());
            Ok(())
        }
    }

    /// A workspace with one OpenRouter account whose balance just went low, and its open
    /// low-balance alert.
    pub(crate) async fn low_balance_alert(dir: &std::path::Path) -> (Cliffwatch, AlertId) {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 16, 12, 0, 0).unwrap();
        let clock = Arc::new(ManualClock::new(t0));
        let cw = Cliffwatch::open(dir, Arc::new(MemoryStore::default()), clock.clone())
            .await
            .unwrap();
        let id = db::test_rows::openrouter_account(cw.pool(), t0).await;
        let rules = AlertRules {
            low_balance_amount: Some(10.0),
            ..AlertRules::default()
        };
        set_rules(cw.pool(), Some(id), &rules).await.unwrap();
        for (minutes, remaining) in [(0, 50.0), (5, 9.0)] {
            clock.advance(Duration::minutes(minutes));
            let s = db::test_rows::usd(id, clock.now(), remaining);
            db::test_rows::store(cw.pool(), [s]).await;
        }
        let raised = evaluate(cw.pool(), clock.now(), &MemoryNotifier::new())
            .await
            .unwrap();
        assert_eq!(raised.len(), 1, "one low-balance alert: {raised:?}");
        (cw, raised[0].id)
    }

    fn handler(cw: &Cliffwatch, opened: Arc<Opened>) -> (StoreActions, Arc<Mutex<Vec<String>>>) {
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen = events.clone();
        let sink: EngineSink = Arc::new(move |e| {
            seen.lock().unwrap().push(match e {
                EngineEvent::Alerts(a) => format!("alerts {}", a[0].state),
                EngineEvent::Changed => "changed".into(),
                EngineEvent::Failed(e) => format!("failed: {}", e.message),
                _ => "other".into(),
            })
        });
        let actions = StoreActions::new(cw, tokio::runtime::Handle::current(), opened, sink);
        (actions, events)
    }

    #[tokio::test]
    async fn snooze_holds_the_alert_back_for_a_day() {
        let dir = tempfile::tempdir().unwrap();
        let (cw, alert) = low_balance_alert(dir.path()).await;
        let (actions, events) = handler(&cw, Arc::default());
        actions.snooze(alert);
        for _ in 0..100 {
            if !events.lock().unwrap().is_empty() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let stored = db::alerts::get(cw.pool(), alert).await.unwrap().unwrap();
        assert_eq!(stored.state, "snoozed", "{stored:?}");
        assert_eq!(
            stored.snoozed_until,
            Some(cw.clock().now() + Duration::days(1)),
            "for a day from the injected clock's now"
        );
        assert_eq!(
            *events.lock().unwrap(),
            ["alerts snoozed", "changed"],
            "the shell hears of it (the tray and the dashboard refresh)"
        );
    }

    #[tokio::test]
    async fn top_up_opens_https_pages_only() {
        let dir = tempfile::tempdir().unwrap();
        let (cw, _) = low_balance_alert(dir.path()).await;
        let opened = Arc::new(Opened::default());
        let (actions, events) = handler(&cw, opened.clone());
        actions.top_up(None, "https://openrouter.ai/settings/credits");
        actions.top_up(None, "http://openrouter.ai/settings/credits");
        actions.top_up(None, "javascript:alert(1)");
        assert_eq!(
            *opened.0.lock().unwrap(),
            ["https://openrouter.ai/settings/credits"]
        );
        let events = events.lock().unwrap();
        assert_eq!(events.len(), 2, "both refusals are reported: {events:?}");
        assert!(events.iter().all(|e| e.starts_with("failed")), "{events:?}");
    }
}
