//! The running Cliffwatch: what `cliffwatch watch` and the desktop app start. Live, it polls
//! every account on its own cadence ([`poll::Scheduler`]), tails every log source
//! ([`logs::Watcher`]) and evaluates the alert rules after each change and once a minute. In
//! demo mode it drives the [`demo`] instead: every real second the demo clock moves 30 minutes,
//! the demo's loopback providers are polled by the real adapters, its request log grows and is
//! scanned, and the same alert rules run. Either way it reports through an [`EngineSink`], and
//! stops when its handle is dropped.
//!
//! The engine reads its own settings (poll interval, notifications on or off, the read API's
//! address) from the store and re-reads them when a save is announced ([`Change::Settings`]):
//! no host translates settings into engine parameters, and no restart is needed. Whatever the
//! front door announces reaches the hosts as [`EngineEvent::Changed`].

use crate::alerts::{self, Delivery, Notifier};
use crate::api::settings::{self as stored_settings, listen_config, scheduler_config};
use crate::clock::Clock;
use crate::db::alerts::Alert;
use crate::demo::{Demo, TICK_DEMO};
use crate::events::Change;
use crate::http::{Http, HttpConfig};
use crate::listen::{self, ReadApiState, ReadApiStatus};
use crate::logs::{self, Watcher, WatcherEvent};
use crate::model::{AccountId, ErrorDto};
use crate::poll::{self, PollResult, Scheduler};
use crate::{Cliffwatch, Result};
use chrono::{DateTime, Utc};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc};

/// Alert rules run at least this often, so time-based ones (a runway shrinking, a snooze
/// ending, quiet hours ending) fire without waiting for a poll.
pub const ALERT_EVERY: Duration = Duration::from_secs(60);

/// How often the engine looks for channel deliveries that are due (new alerts, retries).
pub const CHANNELS_EVERY: Duration = Duration::from_secs(5);

/// Delivers alerts to channels on its own task, so that a slow receiver never holds up polling,
/// the desktop or another channel. Stops when the returned handle is dropped.
fn start_channels(cw: Cliffwatch, sink: EngineSink) -> Option<AbortOnDrop> {
    let http = match crate::alerts::channels::http_client() {
        Ok(h) => h,
        Err(e) => {
            sink(EngineEvent::Failed(ErrorDto::from(&e)));
            return None;
        }
    };
    Some(AbortOnDrop(tokio::spawn(async move {
        let mut every = tokio::time::interval(CHANNELS_EVERY);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if let Err(e) = crate::api::channels::deliver_due(&cw, &http).await {
                sink(EngineEvent::Failed(ErrorDto::from(&e)));
            }
        }
    })))
}

/// Who decides where the read API (`/metrics`, `/v1/…`) is served.
#[derive(Debug)]
pub enum ReadApi {
    /// The `listen` setting: started, stopped and moved as it is saved.
    FromSettings,
    /// A listener the host started (`cliffwatch watch --listen ADDR`, perhaps with a token): it
    /// wins over the setting for this run, so nothing binds twice, and stops with the engine.
    Given(listen::Listener),
}

/// Who decides where the recording proxy is served.
#[derive(Debug)]
pub enum ProxyRun {
    /// The `proxy` setting (off by default).
    FromSettings,
    /// A proxy the host started (`cliffwatch watch --proxy ADDR`, with its `--upstream`s).
    Given(crate::proxy::Proxy),
}

/// A listener the engine runs for the hosts: the read API or the proxy.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    ReadApi,
    Proxy,
}

impl Kind {
    fn set_status(self, cw: &Cliffwatch, status: ReadApiStatus) {
        match self {
            Kind::ReadApi => cw.set_read_api_status(status),
            Kind::Proxy => cw.set_proxy_status(status),
        }
    }

    fn wanted(self, settings: &stored_settings::Settings) -> Option<std::net::SocketAddr> {
        match self {
            Kind::ReadApi => listen_config(settings).map(|c| c.addr),
            Kind::Proxy => stored_settings::proxy_addr(settings),
        }
    }

    async fn start(
        self,
        cw: &Cliffwatch,
        addr: std::net::SocketAddr,
    ) -> crate::Result<(std::net::SocketAddr, tokio::task::JoinHandle<()>)> {
        match self {
            Kind::ReadApi => listen::start(cw.clone(), listen::ListenConfig { addr, token: None })
                .await
                .map(|l| (l.addr, l.task)),
            Kind::Proxy => crate::proxy::start(
                cw.clone(),
                crate::proxy::ProxyConfig {
                    addr,
                    upstreams: Vec::new(),
                },
            )
            .await
            .map(|p| (p.addr, p.task)),
        }
    }
}

/// One listener of the engine's: follows its setting (or keeps the host's), and records on the
/// handle what it serves for Settings to show.
#[derive(Debug)]
struct Served {
    kind: Kind,
    cw: Cliffwatch,
    /// The host's listener: the setting is not followed.
    fixed: bool,
    running: Option<(std::net::SocketAddr, AbortOnDrop)>,
}

impl Served {
    fn new(
        cw: &Cliffwatch,
        kind: Kind,
        given: Option<(std::net::SocketAddr, tokio::task::JoinHandle<()>)>,
    ) -> Self {
        let fixed = given.is_some();
        if let Some((addr, _)) = &given {
            kind.set_status(
                cw,
                ReadApiStatus {
                    state: ReadApiState::Serving,
                    address: Some(addr.to_string()),
                    from_command_line: true,
                    message: None,
                },
            );
        }
        Served {
            kind,
            cw: cw.clone(),
            fixed,
            running: given.map(|(a, t)| (a, AbortOnDrop(t))),
        }
    }

    /// Serves where the settings say: starts, stops, or moves to a changed address. A bind
    /// failure is reported and recorded, and stops nothing else; it is tried again at the next
    /// settings change. `None` (the settings could not be read) keeps what runs.
    async fn follow(&mut self, settings: Option<&stored_settings::Settings>, sink: &EngineSink) {
        let Some(settings) = settings else { return };
        if self.fixed {
            return;
        }
        let want_addr = self.kind.wanted(settings);
        if self.running.as_ref().map(|(a, _)| *a) == want_addr && want_addr.is_some() {
            return;
        }
        self.stop_running().await;
        let Some(addr) = want_addr else {
            self.kind.set_status(&self.cw, ReadApiStatus::default());
            return;
        };
        match self.kind.start(&self.cw, addr).await {
            Ok((bound, task)) => {
                self.kind.set_status(
                    &self.cw,
                    ReadApiStatus {
                        state: ReadApiState::Serving,
                        address: Some(bound.to_string()),
                        from_command_line: false,
                        message: None,
                    },
                );
                self.running = Some((bound, AbortOnDrop(task)));
            }
            Err(e) => {
                self.kind.set_status(
                    &self.cw,
                    ReadApiStatus {
                        state: ReadApiState::Failed,
                        address: Some(addr.to_string()),
                        from_command_line: false,
                        message: Some(e.to_string()),
                    },
                );
                sink(EngineEvent::Failed(ErrorDto::from(&e)));
            }
        }
        sink(EngineEvent::Changed);
    }

    /// Stops the listener and waits until its socket is closed (so the port is free again).
    async fn stop_running(&mut self) {
        if let Some((_, mut task)) = self.running.take() {
            task.0.abort();
            let _ = (&mut task.0).await;
        }
    }

    async fn stop(mut self) {
        self.stop_running().await;
        self.kind.set_status(&self.cw, ReadApiStatus::default());
    }
}

/// The engine's listeners: the read API and the proxy.
#[derive(Debug)]
struct ReadApiServer {
    read_api: Served,
    proxy: Served,
}

impl ReadApiServer {
    fn new(cw: &Cliffwatch, read_api: ReadApi, proxy: ProxyRun) -> Self {
        let given = match read_api {
            ReadApi::FromSettings => None,
            ReadApi::Given(l) => Some((l.addr, l.task)),
        };
        let proxy_given = match proxy {
            ProxyRun::FromSettings => None,
            ProxyRun::Given(p) => Some((p.addr, p.task)),
        };
        ReadApiServer {
            read_api: Served::new(cw, Kind::ReadApi, given),
            proxy: Served::new(cw, Kind::Proxy, proxy_given),
        }
    }

    async fn follow(&mut self, settings: Option<&stored_settings::Settings>, sink: &EngineSink) {
        self.read_api.follow(settings, sink).await;
        self.proxy.follow(settings, sink).await;
    }

    async fn stop(self) {
        self.read_api.stop().await;
        self.proxy.stop().await;
    }
}

/// A task that ends with its handle.
#[derive(Debug)]
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

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
    /// Real accounts, on the cadence the settings give.
    Live,
    Demo(Box<Demo>),
}

enum Cmd {
    RefreshNow(Option<String>),
    /// Hold alerts back until then ("Pause alerts 1 h").
    Pause(DateTime<Utc>),
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
            Cmd::Pause(until) => write!(f, "Pause({until})"),
            Cmd::Stop => f.write_str("Stop"),
        }
    }
}

impl Engine {
    /// Starts the engine inside the current tokio runtime; it serves the read API where the
    /// settings say.
    pub fn start(
        cw: Cliffwatch,
        mode: Mode,
        notifier: Arc<dyn Notifier>,
        sink: EngineSink,
    ) -> Result<Self> {
        Self::start_with(cw, mode, notifier, sink, ReadApi::FromSettings)
    }

    /// [`Engine::start`], with the read API decided by the host (`watch --listen`).
    pub fn start_with(
        cw: Cliffwatch,
        mode: Mode,
        notifier: Arc<dyn Notifier>,
        sink: EngineSink,
        read_api: ReadApi,
    ) -> Result<Self> {
        Self::start_hosts(cw, mode, notifier, sink, read_api, ProxyRun::FromSettings)
    }

    /// [`Engine::start`], with the read API and the proxy decided by the host (`watch
    /// --listen`, `watch --proxy`).
    pub fn start_hosts(
        cw: Cliffwatch,
        mode: Mode,
        notifier: Arc<dyn Notifier>,
        sink: EngineSink,
        read_api: ReadApi,
        proxy: ProxyRun,
    ) -> Result<Self> {
        let (tx, rx) = mpsc::channel(16);
        // Subscribed before the task runs, so nothing announced after `start` returns is missed.
        let changes = cw.changes();
        let task = match mode {
            Mode::Live => {
                let http = Http::new(HttpConfig::default()).map_err(|e| {
                    crate::Error::InvalidInput(format!("cannot start the HTTP client: {e}"))
                })?;
                let read_api = ReadApiServer::new(&cw, read_api, proxy);
                tokio::spawn(live(cw, http, notifier, sink, rx, changes, read_api))
            }
            Mode::Demo(demo) => {
                let read_api = ReadApiServer::new(&demo.cliffwatch, read_api, proxy);
                tokio::spawn(demo_loop(*demo, notifier, sink, rx, changes, read_api))
            }
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

    /// Holds alerts back until `until`: raised alerts are stored and wait, and go out at the
    /// first evaluation after it.
    pub fn pause_alerts(&self, until: DateTime<Utc>) {
        let _ = self.commands.try_send(Cmd::Pause(until));
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

/// How alerts are delivered: the notifications setting and a pause.
#[derive(Debug, Clone, Copy)]
struct Policy {
    notifications: bool,
    paused_until: Option<DateTime<Utc>>,
}

impl Policy {
    async fn read(cw: &Cliffwatch, sink: &EngineSink) -> (Self, Option<stored_settings::Settings>) {
        match stored_settings::get(cw).await {
            Ok(s) => (
                Policy {
                    notifications: s.notifications,
                    paused_until: None,
                },
                Some(s),
            ),
            Err(e) => {
                sink(EngineEvent::Failed(ErrorDto::from(&e)));
                (
                    Policy {
                        notifications: true,
                        paused_until: None,
                    },
                    None,
                )
            }
        }
    }

    /// Re-reads the settings after a save, keeping a pause; returns them for the scheduler.
    async fn reread(
        &mut self,
        cw: &Cliffwatch,
        sink: &EngineSink,
    ) -> Option<stored_settings::Settings> {
        let (read, settings) = Self::read(cw, sink).await;
        *self = Policy {
            paused_until: self.paused_until,
            ..read
        };
        settings
    }

    fn delivery(&self, now: DateTime<Utc>) -> Delivery {
        if self.paused_until.is_some_and(|u| now < u) {
            Delivery::Hold
        } else if !self.notifications {
            Delivery::Silent
        } else {
            Delivery::Notify
        }
    }
}

async fn evaluate(cw: &Cliffwatch, policy: &Policy, notifier: &dyn Notifier, sink: &EngineSink) {
    let now = cw.clock().now();
    let pass = alerts::evaluate_with(
        cw.pool(),
        now,
        notifier,
        policy.delivery(now),
        Some(cw.forecasts()),
    );
    match pass.await {
        Ok(raised) if !raised.is_empty() => {
            sink(EngineEvent::Alerts(raised));
            sink(EngineEvent::Changed);
        }
        Ok(_) => {}
        Err(e) => sink(EngineEvent::Failed(ErrorDto::from(&e))),
    }
}

/// From `now` to just after the next wall-clock minute starts (50 ms in, so that the minute has
/// turned by every clock's reckoning).
fn until_next_minute(now: DateTime<Utc>) -> Duration {
    let into = now.timestamp_subsec_millis() as u64 + 1000 * now.timestamp().rem_euclid(60) as u64;
    Duration::from_millis(60_000 - into + 50)
}

/// What the announcement channel gave: a change, or (a listener that fell behind) "something,
/// re-read everything".
fn heard(r: std::result::Result<Change, broadcast::error::RecvError>) -> Option<Option<Change>> {
    match r {
        Ok(c) => Some(Some(c)),
        Err(broadcast::error::RecvError::Lagged(_)) => Some(None),
        Err(broadcast::error::RecvError::Closed) => None,
    }
}

async fn live(
    cw: Cliffwatch,
    http: Http,
    notifier: Arc<dyn Notifier>,
    sink: EngineSink,
    mut rx: mpsc::Receiver<Cmd>,
    mut changes: broadcast::Receiver<Change>,
    mut read_api: ReadApiServer,
) {
    let (mut policy, settings) = Policy::read(&cw, &sink).await;
    read_api.follow(settings.as_ref(), &sink).await;
    let config = settings.as_ref().map(scheduler_config).unwrap_or_default();
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
    let _channels = start_channels(cw.clone(), sink.clone());
    // At the start of each wall-clock minute: forecasts are kept for the minute they were
    // computed in, so this pass counts every runway again just after the minute turns, and a
    // scrape of /metrics or a repaint in that minute finds them ready.
    let mut every = tokio::time::interval_at(
        tokio::time::Instant::now() + until_next_minute(cw.clock().now()),
        ALERT_EVERY,
    );
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut listening = true;
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                Some(Cmd::RefreshNow(label)) => scheduler.refresh_now(label.as_deref()).await,
                Some(Cmd::Pause(until)) => policy.paused_until = Some(until),
                Some(Cmd::Stop) | None => break,
            },
            r = changes.recv(), if listening => match heard(r) {
                Some(change) => {
                    if matches!(change, None | Some(Change::Settings)) {
                        if let Some(s) = policy.reread(&cw, &sink).await {
                            scheduler.configure(scheduler_config(&s)).await;
                            read_api.follow(Some(&s), &sink).await;
                        }
                    }
                    if matches!(change, None | Some(Change::LogSources)) {
                        if let Some(w) = &watcher {
                            w.reload();
                        }
                    }
                    sink(EngineEvent::Changed);
                    evaluate(&cw, &policy, notifier.as_ref(), &sink).await;
                }
                None => listening = false,
            },
            r = polled.recv() => match r {
                Ok(result) => {
                    sink(EngineEvent::Polled(result));
                    sink(EngineEvent::Changed);
                    evaluate(&cw, &policy, notifier.as_ref(), &sink).await;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => break,
            },
            Some(e) = log_rx.recv() => {
                let stored = matches!(e, WatcherEvent::Scanned(_));
                sink(EngineEvent::Logs(e));
                if stored {
                    sink(EngineEvent::Changed);
                    evaluate(&cw, &policy, notifier.as_ref(), &sink).await;
                }
            },
            _ = every.tick() => evaluate(&cw, &policy, notifier.as_ref(), &sink).await,
        }
    }
    scheduler.stop().await;
    if let Some(w) = watcher {
        w.stop().await;
    }
    read_api.stop().await;
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
    mut changes: broadcast::Receiver<Change>,
    mut read_api: ReadApiServer,
) {
    let cw = demo.cliffwatch.clone();
    let (mut policy, settings) = Policy::read(&cw, &sink).await;
    read_api.follow(settings.as_ref(), &sink).await;
    // Play the history back at full speed, quietly: forecasts need days of readings to stand on.
    let quiet: EngineSink = Arc::new(|_| {});
    while demo.clock.now() < demo.live_from {
        demo_step(&demo, &quiet).await;
    }
    if let Err(e) = logs::scan_all(&cw, None).await {
        sink(EngineEvent::Failed(ErrorDto::from(&e)));
    }
    sink(EngineEvent::Changed);
    evaluate(&cw, &policy, notifier.as_ref(), &sink).await;
    let _channels = start_channels(cw.clone(), sink.clone());
    let mut tick = tokio::time::interval(demo.tick);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    tick.tick().await;
    let mut listening = true;
    loop {
        tokio::select! {
            cmd = rx.recv() => match cmd {
                // The demo polls and scans every tick anyway.
                Some(Cmd::RefreshNow(_)) => {}
                Some(Cmd::Pause(until)) => policy.paused_until = Some(until),
                Some(Cmd::Stop) | None => break,
            },
            // The demo keeps its own clock and cadence; the notifications switch still counts.
            r = changes.recv(), if listening => match heard(r) {
                Some(change) => {
                    if matches!(change, None | Some(Change::Settings)) {
                        let s = policy.reread(&cw, &sink).await;
                        read_api.follow(s.as_ref(), &sink).await;
                    }
                    sink(EngineEvent::Changed);
                }
                None => listening = false,
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
                evaluate(&cw, &policy, notifier.as_ref(), &sink).await;
            }
        }
    }
    read_api.stop().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::MemoryNotifier;
    use crate::model::AccountState;
    use chrono::TimeZone;

    const POLICY: Policy = Policy {
        notifications: true,
        paused_until: None,
    };

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
        let status = crate::api::overview::status(&cw).await.unwrap();
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
        evaluate(&cw, &POLICY, &notifier, &quiet).await;
        // 32 demo hours past live start: the scraper (10 h) and the LLM key (30 h) are dry, and
        // the scraper's owner has not topped up yet (34 h).
        for _ in 0..64 {
            demo_step(&demo, &quiet).await;
        }
        logs::scan_all(&cw, None).await.unwrap();
        evaluate(&cw, &POLICY, &notifier, &quiet).await;
        let status = crate::api::overview::status(&cw).await.unwrap();
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
        let status = crate::api::overview::status(&cw).await.unwrap();
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

    /// Waits (real time, the scheduler ticks every 5 s) until `done` holds, or fails.
    async fn until<T>(what: &str, mut done: impl AsyncFnMut() -> Option<T>) -> T {
        for _ in 0..200 {
            if let Some(v) = done().await {
                return v;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("timed out waiting for {what}");
    }

    /// `cliffwatch watch` and the app run this same engine: it takes the poll interval and the
    /// notifications switch from the stored settings, and a later save reaches it without a
    /// restart. (Before, `watch` ran `SchedulerConfig::default()` and always notified.)
    #[tokio::test]
    async fn the_live_engine_reads_its_own_settings_and_hears_a_save() {
        let tmp = tempfile::tempdir().unwrap();
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let demo = crate::demo::setup(tmp.path(), live).await.unwrap();
        let cw = demo.cliffwatch.clone();
        let set = |k: &'static str, v: &'static str| {
            let cw = cw.clone();
            async move { crate::api::settings::set(&cw, k, v).await.unwrap() }
        };
        set("poll_interval_s", "3600").await;
        set("notifications", "off").await;
        // Every account with a balance is "low": an alert is raised at the first pass.
        set("rules.low_balance_amount", "1000000000000").await;
        let notifier = Arc::new(MemoryNotifier::default());
        let sink: EngineSink = Arc::new(|_| {});
        let engine = Engine::start(cw.clone(), Mode::Live, notifier.clone(), sink).unwrap();
        let id = crate::api::accounts::get(&cw, "captcha").await.unwrap().id;
        let polled_at = demo.clock.now();
        let first = until("the first poll", async || {
            let all = crate::db::poll_schedule::all(cw.pool()).await.ok()?;
            all.get(&id)
                .filter(|s| s.failures == 0)
                .map(|s| s.next_due_at)
        })
        .await;
        let wait = (first - polled_at).num_seconds();
        assert!(
            (3600..=3960).contains(&wait),
            "the stored interval (1 h, +10 % jitter at most), not the default 5 min: {wait} s"
        );
        let alerts = until("an alert", async || {
            let a = crate::db::alerts::list(cw.pool(), true).await.ok()?;
            (!a.is_empty()).then_some(a)
        })
        .await;
        assert!(
            alerts.iter().all(|a| a.notified_at.is_some()),
            "with notifications off an alert is stored and counts as told"
        );
        assert!(notifier.take().is_empty(), "…but no notification goes out");

        // A save reaches the running engine: the shorter interval applies from now.
        set("poll_interval_s", "600").await;
        // The engine re-reads the settings as it hears the save; give it that moment before
        // the clock moves (the new interval counts from when it was applied).
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        demo.clock.advance(chrono::Duration::seconds(601));
        let moved_at = demo.clock.now();
        let second = until("the poll at the new interval", async || {
            let all = crate::db::poll_schedule::all(cw.pool()).await.ok()?;
            all.get(&id).map(|s| s.next_due_at).filter(|d| *d != first)
        })
        .await;
        let wait = (second - moved_at).num_seconds();
        assert!(
            (600..=660).contains(&wait),
            "polled again at once under the new 10-min interval, not after the old hour: {wait} s"
        );
        engine.stop().await;
    }

    #[test]
    fn the_alert_pass_starts_just_after_the_minute_turns() {
        let at = |h, m, s, ms| {
            Utc.with_ymd_and_hms(2026, 12, 2, h, m, s).unwrap() + chrono::Duration::milliseconds(ms)
        };
        assert_eq!(
            until_next_minute(at(12, 0, 0, 0)),
            Duration::from_millis(60_050)
        );
        assert_eq!(
            until_next_minute(at(12, 0, 59, 990)),
            Duration::from_millis(60)
        );
        assert_eq!(
            until_next_minute(at(12, 0, 30, 500)),
            Duration::from_millis(29_550)
        );
    }

    /// A loopback port free right now (bound, read, released).
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    /// `GET /metrics` on 127.0.0.1:`port`: the status line and body, or why no answer came.
    async fn get_metrics(port: u16) -> std::io::Result<String> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        sock.write_all(
            format!("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await?;
        let mut out = String::new();
        sock.read_to_string(&mut out).await?;
        Ok(out)
    }

    /// The proxy is a setting the engine obeys as the read API is: on, it answers (here an
    /// unknown route, with the `{kind, message}` every host gives); off, the port refuses; the
    /// two cannot share a port.
    #[tokio::test]
    async fn the_engine_runs_the_proxy_as_the_setting_says() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let tmp = tempfile::tempdir().unwrap();
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let demo = crate::demo::setup(tmp.path(), live).await.unwrap();
        let cw = demo.cliffwatch.clone();
        let port = free_port();
        crate::api::settings::set(&cw, "proxy", &format!("127.0.0.1:{port}"))
            .await
            .unwrap();
        let clash = crate::api::settings::set(&cw, "listen", &format!("127.0.0.1:{port}"))
            .await
            .unwrap_err();
        assert!(clash.to_string().contains("different ports"), "{clash}");
        let engine = Engine::start(
            cw.clone(),
            Mode::Live,
            Arc::new(MemoryNotifier::default()),
            Arc::new(|_| {}),
        )
        .unwrap();
        let ask = async || -> std::io::Result<String> {
            let mut sock = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            sock.write_all(
                format!("GET /v1/models HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n")
                    .as_bytes(),
            )
            .await?;
            let mut out = String::new();
            sock.read_to_string(&mut out).await?;
            Ok(out)
        };
        let answer = until("the proxy at start", async || ask().await.ok()).await;
        assert!(
            answer.starts_with("HTTP/1.1 404") && answer.contains("\"kind\":\"not_found\""),
            "no route but /a/… and /u/…: {answer}"
        );
        assert_eq!(
            crate::api::settings::proxy(&cw).state,
            ReadApiState::Serving
        );
        crate::api::settings::set(&cw, "proxy", "off")
            .await
            .unwrap();
        until("the port to refuse", async || {
            ask()
                .await
                .err()
                .filter(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .await;
        engine.stop().await;
        assert_eq!(crate::api::settings::proxy(&cw).state, ReadApiState::Off);
    }

    /// The read API is a setting the engine obeys: on, it serves `/metrics`; moved, it serves
    /// at the new address and no longer at the old; off, the port refuses; a port taken by
    /// someone else is reported as a failure and stops nothing.
    #[tokio::test]
    async fn the_engine_starts_moves_and_stops_the_read_api_as_the_setting_changes() {
        let tmp = tempfile::tempdir().unwrap();
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let demo = crate::demo::setup(tmp.path(), live).await.unwrap();
        let cw = demo.cliffwatch.clone();
        let set = |v: String| {
            let cw = cw.clone();
            async move { crate::api::settings::set(&cw, "listen", &v).await.unwrap() }
        };
        let first = free_port();
        set(format!("127.0.0.1:{first}")).await;
        let failures = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
        let seen = failures.clone();
        let sink: EngineSink = Arc::new(move |e| {
            if let EngineEvent::Failed(err) = e {
                seen.lock().unwrap().push(err.message);
            }
        });
        let engine = Engine::start(
            cw.clone(),
            Mode::Live,
            Arc::new(MemoryNotifier::default()),
            sink,
        )
        .unwrap();
        let answer = until("/metrics at start", async || get_metrics(first).await.ok()).await;
        assert!(
            answer.starts_with("HTTP/1.1 200") && answer.contains("cliffwatch_balance_remaining"),
            "the setting on at start: the engine serves /metrics: {answer}"
        );
        let status = crate::api::settings::read_api(&cw);
        assert_eq!(status.state, ReadApiState::Serving);
        assert_eq!(status.address, Some(format!("127.0.0.1:{first}")));

        let second = free_port();
        set(format!("127.0.0.1:{second}")).await;
        until("/metrics at the new address", async || {
            get_metrics(second).await.ok()
        })
        .await;
        until("the old address to refuse", async || {
            get_metrics(first)
                .await
                .err()
                .filter(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .await;

        set("off".into()).await;
        // While the listener shuts down a connection may still be taken and then reset; once
        // it is down, nothing listens there any more.
        until("the port to refuse connections", async || {
            get_metrics(second)
                .await
                .err()
                .filter(|e| e.kind() == std::io::ErrorKind::ConnectionRefused)
        })
        .await;
        until("Settings to show it off", async || {
            (crate::api::settings::read_api(&cw).state == ReadApiState::Off).then_some(())
        })
        .await;

        // Someone else holds the port: a failure is reported and recorded; the engine goes on.
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        set(format!("127.0.0.1:{port}")).await;
        let status = until("the bind failure", async || {
            let s = crate::api::settings::read_api(&cw);
            (s.state == ReadApiState::Failed).then_some(s)
        })
        .await;
        assert!(
            status
                .message
                .as_deref()
                .unwrap_or("")
                .contains("cannot listen"),
            "{status:?}"
        );
        assert!(
            failures
                .lock()
                .unwrap()
                .iter()
                .any(|m| m.contains(&format!("127.0.0.1:{port}"))),
            "reported as a failure naming the address"
        );
        drop(taken);
        set(format!("127.0.0.1:{first}")).await;
        until("serving again after the failure", async || {
            get_metrics(first).await.ok()
        })
        .await;
        engine.stop().await;
        assert!(
            get_metrics(first).await.is_err(),
            "the listener stops with the engine"
        );
        until("Settings to show it off", async || {
            (crate::api::settings::read_api(&cw).state == ReadApiState::Off).then_some(())
        })
        .await;
    }

    /// `watch --listen` hands its own listener over: it wins over the setting (nothing binds
    /// the setting's address) and stops with the engine.
    #[tokio::test]
    async fn a_listener_from_the_host_wins_over_the_setting() {
        let tmp = tempfile::tempdir().unwrap();
        let live = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let demo = crate::demo::setup(tmp.path(), live).await.unwrap();
        let cw = demo.cliffwatch.clone();
        let from_setting = free_port();
        crate::api::settings::set(&cw, "listen", &format!("127.0.0.1:{from_setting}"))
            .await
            .unwrap();
        let given = listen::start(
            cw.clone(),
            listen::ListenConfig {
                addr: "127.0.0.1:0".parse().unwrap(),
                token: None,
            },
        )
        .await
        .unwrap();
        let port = given.addr.port();
        let engine = Engine::start_with(
            cw.clone(),
            Mode::Live,
            Arc::new(MemoryNotifier::default()),
            Arc::new(|_| {}),
            ReadApi::Given(given),
        )
        .unwrap();
        until("/metrics on the host's listener", async || {
            get_metrics(port).await.ok()
        })
        .await;
        let status = crate::api::settings::read_api(&cw);
        assert!(status.from_command_line, "{status:?}");
        // A save reaches the engine, which still leaves the setting's address alone.
        crate::api::settings::set(&cw, "theme", "dark")
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert!(
            get_metrics(from_setting).await.is_err(),
            "the setting's address is not bound while the command line's listener runs"
        );
        engine.stop().await;
        assert!(get_metrics(port).await.is_err(), "stopped with the engine");
    }

    #[test]
    fn a_pause_holds_alerts_and_the_switch_silences_them() {
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let paused = Policy {
            notifications: true,
            paused_until: Some(now + chrono::Duration::hours(1)),
        };
        assert_eq!(paused.delivery(now), Delivery::Hold, "paused: alerts wait");
        assert_eq!(
            paused.delivery(now + chrono::Duration::hours(2)),
            Delivery::Notify,
            "the pause ends by itself"
        );
        let off = Policy {
            notifications: false,
            paused_until: None,
        };
        assert_eq!(off.delivery(now), Delivery::Silent);
        assert_eq!(POLICY.delivery(now), Delivery::Notify);
    }
}
