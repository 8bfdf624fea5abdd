//! The running Cliffwatch: what `cliffwatch watch` and the desktop app start. Live, it polls
//! every account on its own cadence ([`poll::Scheduler`]), tails every log source
//! ([`logs::Watcher`]) and evaluates the alert rules after each change and once a minute. In
//! demo mode it drives the [`demo`] instead: every real second the demo clock moves 30 minutes,
//! the demo's loopback providers are polled by the real adapters, its request log grows and is
//! scanned, and the same alert rules run. Either way it reports through an [`EngineSink`], and
//! stops when its handle is dropped.

use crate::alerts::{self, Notifier};
use crate::clock::Clock;
use crate::db::alerts::Alert;
use crate::demo::{Demo, TICK_DEMO};
use crate::http::{Http, HttpConfig};
use crate::logs::{self, Watcher, WatcherEvent};
use crate::model::{AccountId, ErrorDto};
use crate::poll::{self, PollResult, Scheduler, SchedulerConfig};
use crate::{Cliffwatch, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Alert rules run at least this often, so time-based ones (a runway shrinking, a snooze
/// ending, quiet hours ending) fire without waiting for a poll.
pub const ALERT_EVERY: Duration = Duration::from_secs(60);

/// What the engine reports.
#[derive(Debug, Clone)]
pub enum EngineEvent {
    Polled(PollResult),
    Logs(WatcherEvent),
    /// Alerts raised or delivered by an evaluation pass.
    Alerts(Vec<Alert>),
    /// Something in the store changed (the UI re-reads).
    Changed,
    /// A notification's body was clicked: the user wants to see it (the dashboard, at this
    /// account).
    OpenRequested(Option<AccountId>),
    Failed(ErrorDto),
}

/// Where engine events go: the CLI prints them, the app emits Tauri events and repaints the tray.
pub type EngineSink = Arc<dyn Fn(EngineEvent) + Send + Sync>;

/// How to run.
#[derive(Debug)]
pub enum Mode {
    Live(SchedulerConfig),
    Demo(Box<Demo>),
}

enum Cmd {
    RefreshNow(Option<String>),
    /// Log sources were added or removed.
    ReloadLogs,
    Stop,
}

/// A running engine. Dropping it stops everything.
#[derive(Debug)]
pub struct Engine {
    commands: mpsc::Sender<Cmd>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Cmd::RefreshNow(l) => write!(f, "RefreshNow({l:?})"),
            Cmd::ReloadLogs => f.write_str("ReloadLogs"),
            Cmd::Stop => f.write_str("Stop"),
        }
    }
}

impl Engine {
    /// Starts the engine inside the current tokio runtime.
    pub fn start(
        cw: Cliffwatch,
        mode: Mode,
        notifier: Arc<dyn Notifier>,
        sink: EngineSink,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel(16);
        let task = match mode {
            Mode::Live(config) => {
                let http = Http::new(HttpConfig::default()).map_err(|e| {
                    crate::Error::InvalidInput(format!("cannot start the HTTP client: {e}"))
                })?;
                tokio::spawn(live(cw, http, config, notifier, sink, rx))
            }
            Mode::Demo(demo) => tokio::spawn(demo_loop(*demo, notifier, sink, rx)),
        };
        Ok(Engine {
            commands: tx,
            task: Some(task),
        })
    }

    /// Polls one account (by label) or every account now.
    pub async fn refresh_now(&self, label: Option<&str>) {
        let _ = self
            .commands
            .send(Cmd::RefreshNow(label.map(str::to_owned)))
            .await;
    }

    /// Asks for a poll now without waiting (for callers outside async code, such as a tray
    /// menu). Dropped if the engine is already busy with queued commands.
    pub fn request_refresh(&self, label: Option<&str>) {
        let _ = self
            .commands
            .try_send(Cmd::RefreshNow(label.map(str::to_owned)));
    }

    /// Tells the log watcher that sources were added or removed (it re-reads them and scans).
    pub fn request_reload_logs(&self) {
        let _ = self.commands.try_send(Cmd::ReloadLogs);
    }

    /// Stops polling and watching, letting work in flight finish briefly.
    pub async fn stop(mut self) {
        let _ = self.commands.send(Cmd::Stop).await;
        if let Some(mut task) = self.task.take() {
            if tokio::time::timeout(Duration::from_secs(15), &mut task)
                .await
                .is_err()
            {
                task.abort();
            }
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn evaluate(cw: &Cliffwatch, notifier: &dyn Notifier, sink: &EngineSink) {
    match alerts::evaluate(cw.pool(), cw.clock().now(), notifier).await {
        Ok(raised) if !raised.is_empty() => {
            sink(EngineEvent::Alerts(raised));
            sink(EngineEvent::Changed);
        }
        Ok(_) => {}
        Err(e) => sink(EngineEvent::Failed(ErrorDto::from(&e))),
    }
}

async fn live(
    cw: Cliffwatch,
    http: Http,
    config: SchedulerConfig,
    notifier: Arc<dyn Notifier>,
    sink: EngineSink,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let scheduler = Scheduler::start(cw.clone(), http, config);
    let mut polled = scheduler.subscribe();
    let (log_tx, mut log_rx) = mpsc::unbounded_channel::<WatcherEvent>();
    let watcher = match Watcher::start(cw.clone(), Arc::new(move |e| drop(log_tx.send(e)))) {
        Ok(w) => Some(w),
        Err(e) => {
            sink(EngineEvent::Failed(ErrorDto::from(&e)));
            None
        }
    };
    let mut every = tokio::time::interval(ALERT_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Cmd::RefreshNow(label)) => scheduler.refresh_now(label.as_deref()).await,
                Some(Cmd::ReloadLogs) => {
                    if let Some(w) = &watcher {
                        w.reload();
                    }
                }
                Some(Cmd::Stop) | None => break,
            },
            r = polled.recv() => match r {
                Ok(result) => {
                    sink(EngineEvent::Polled(result));
                    sink(EngineEvent::Changed);
                    evaluate(&cw, notifier.as_ref(), &sink).await;
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            Some(e) = log_rx.recv() => {
                let stored = matches!(e, WatcherEvent::Scanned(_));
                sink(EngineEvent::Logs(e));
                if stored {
                    sink(EngineEvent::Changed);
                    evaluate(&cw, notifier.as_ref(), &sink).await;
                }
            },
            _ = every.tick() => evaluate(&cw, notifier.as_ref(), &sink).await,
        }
    }
    scheduler.stop().await;
    if let Some(w) = watcher {
        w.stop().await;
    }
}

/// One demo step: move the clock, let the LLM client log its requests, poll, scan.
async fn demo_step(demo: &Demo, sink: &EngineSink) {
    let from = demo.clock.now();
    demo.clock.advance(TICK_DEMO);
    let to = demo.clock.now();
    if let Err(e) = demo.log.append(&demo.scenario, from, to) {
        sink(EngineEvent::Failed(ErrorDto {
            kind: "demo".into(),
            message: format!("cannot write the demo log: {e}"),
        }));
    }
    match poll::poll_all(&demo.cliffwatch).await {
        Ok(results) => results
            .into_iter()
            .for_each(|r| sink(EngineEvent::Polled(r))),
        Err(e) => sink(EngineEvent::Failed(ErrorDto::from(&e))),
    }
}

async fn demo_loop(
    demo: Demo,
    notifier: Arc<dyn Notifier>,
    sink: EngineSink,
    mut rx: mpsc::Receiver<Cmd>,
) {
    let cw = demo.cliffwatch.clone();
    // Play the history back at full speed, quietly: forecasts need days of readings to stand on.
    let quiet: EngineSink = Arc::new(|_| {});
    while demo.clock.now() < demo.live_from {
        demo_step(&demo, &quiet).await;
    }
    if let Err(e) = logs::scan_all(&cw, None).await {
        sink(EngineEvent::Failed(ErrorDto::from(&e)));
    }
    sink(EngineEvent::Changed);
    evaluate(&cw, notifier.as_ref(), &sink).await;
    let mut tick = tokio::time::interval(demo.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                // The demo polls and scans every tick anyway.
                Some(Cmd::RefreshNow(_) | Cmd::ReloadLogs) => {}
                Some(Cmd::Stop) | None => break,
            },
            _ = tick.tick() => {
                demo_step(&demo, &sink).await;
                match logs::scan_all(&cw, None).await {
                    Ok(report) if report.events_new > 0 || report.usage_records > 0 => {
                        sink(EngineEvent::Logs(WatcherEvent::Scanned(report)));
                    }
                    Ok(_) => {}
                    Err(e) => sink(EngineEvent::Failed(ErrorDto::from(&e))),
                }
                sink(EngineEvent::Changed);
                evaluate(&cw, notifier.as_ref(), &sink).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::MemoryNotifier;
    use crate::model::AccountState;
    use chrono::{TimeZone, Utc};

    /// The demo's whole path — loopback providers, real adapters, store, forecast, alerts, log
    /// scanning — runs to the scraper's cliff and past the LLM key's 402.
    #[tokio::test]
    async fn demo_reaches_the_cliff_through_the_real_paths() {
        let tmp = tempfile::tempdir().unwrap();
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let demo = crate::demo::setup(tmp.path(), live).await.unwrap();
        let cw = demo.cliffwatch.clone();
        let notifier = MemoryNotifier::default();
        let quiet: EngineSink = Arc::new(|_| {});
        while demo.clock.now() < live {
            demo_step(&demo, &quiet).await;
        }
        let status = cw.status().await.unwrap();
        for s in &status.accounts {
            assert!(
                s.latest.is_some(),
                "{} was polled through its adapter",
                s.account.label
            );
            assert_eq!(
                s.account.state,
                AccountState::Ok,
                "{}: {:?}",
                s.account.label,
                s.account.state_message
            );
        }
        evaluate(&cw, &notifier, &quiet).await;
        // 32 demo hours past live start: the scraper (10 h) and the LLM key (30 h) are dry, and
        // the scraper's owner has not topped up yet (34 h).
        for _ in 0..64 {
            demo_step(&demo, &quiet).await;
        }
        logs::scan_all(&cw, None).await.unwrap();
        evaluate(&cw, &notifier, &quiet).await;
        let status = cw.status().await.unwrap();
        let state = |label: &str| {
            status
                .accounts
                .iter()
                .find(|s| s.account.label == label)
                .unwrap()
                .account
                .state
        };
        assert_eq!(
            state("captcha"),
            AccountState::Ok,
            "the captcha balance lasts weeks"
        );
        let scraper = status
            .accounts
            .iter()
            .find(|s| s.account.label == "scraper-prod")
            .unwrap();
        assert_eq!(
            scraper.latest.as_ref().unwrap().remaining,
            Some(0.0),
            "the scraper's credits are gone"
        );
        let events = crate::db::cliff_events::list(cw.pool(), &Default::default())
            .await
            .unwrap();
        assert!(
            events
                .iter()
                .any(|e| e.status == Some(402) && e.provider.as_deref() == Some("openrouter")),
            "the LLM client's log shows 402s once the key is dry"
        );
        let kinds: Vec<String> = crate::db::alerts::list(cw.pool(), false)
            .await
            .unwrap()
            .into_iter()
            .map(|a| a.kind)
            .collect();
        assert!(
            kinds.iter().any(|k| k.contains("out_of_credit")),
            "an out-of-credit alert: {kinds:?}"
        );
        assert!(
            kinds
                .iter()
                .any(|k| k.contains("runway") || k.contains("low")),
            "a warning came first: {kinds:?}"
        );

        // Past 34 h the owner tops the scraper up: a full balance again, seen as a top-up.
        for _ in 0..8 {
            demo_step(&demo, &quiet).await;
        }
        let status = cw.status().await.unwrap();
        let scraper = status
            .accounts
            .iter()
            .find(|s| s.account.label == "scraper-prod")
            .unwrap();
        let latest = scraper.latest.as_ref().unwrap();
        assert!(
            latest.remaining.unwrap_or(0.0) > 90_000.0,
            "topped up: {latest:?}"
        );
        assert_eq!(scraper.account.state, AccountState::Ok);
    }
}
