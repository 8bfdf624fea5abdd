//! The Cliffwatch desktop shell: a tray icon and a dashboard window over cliffwatch-core.
//! This crate only adapts: commands parse, call one core function and map the error; the
//! behaviour lives in `crates/core`.

mod commands;
mod error;
mod tray;

use cliffwatch_core::alerts::desktop::DesktopNotifier;
use cliffwatch_core::alerts::{Notification, Notifier, StoreActions, UrlOpener};
use cliffwatch_core::clock::Clock;
use cliffwatch_core::clock::SystemClock;
use cliffwatch_core::engine::{Engine, EngineEvent, EngineSink, Mode};
use cliffwatch_core::model::AccountId;
use cliffwatch_core::model::ErrorDto;
use cliffwatch_core::poll::SchedulerConfig;
use cliffwatch_core::secrets::os_keychain;
use cliffwatch_core::Cliffwatch;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const MAIN_WINDOW: &str = "main";

/// What the commands share. Opening the data directory can fail (a corrupt database, a
/// read-only folder); the window still opens and shows the error instead of vanishing.
#[derive(Debug)]
pub struct AppState {
    cliffwatch: Result<Cliffwatch, ErrorDto>,
    /// Polling, log watching and alerts; `None` when the data directory could not be opened.
    engine: Mutex<Option<Engine>>,
    /// Demo mode: temporary data, loopback providers, a compressed clock.
    pub demo: bool,
    /// Alerts are held back until this time (Unix seconds): "Pause alerts 1 h".
    paused_until: Arc<AtomicI64>,
    /// The "notifications" setting: off keeps alerts in the app without desktop notifications.
    notifications: Arc<AtomicBool>,
    /// The demo's temporary data directory, removed when the app exits.
    demo_dir: Option<PathBuf>,
    /// Desktop notifications and the thread hearing their buttons; kept here so that a
    /// notification shown before an engine restart still answers its clicks.
    desktop: DesktopNotifier,
}

impl AppState {
    pub fn cliffwatch(&self) -> Result<&Cliffwatch, ErrorDto> {
        self.cliffwatch.as_ref().map_err(Clone::clone)
    }
}

/// Command-line options of the desktop app.
#[derive(Debug, Default)]
struct Options {
    data_dir: Option<PathBuf>,
    tray_only: bool,
    demo: bool,
}

fn parse_args() -> Options {
    let mut opts = Options::default();
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            opts.data_dir = args.next().map(PathBuf::from);
        } else if a == "--tray" {
            opts.tray_only = true;
        } else if a == "--demo" {
            opts.demo = true;
        }
    }
    opts
}

async fn open_data(opts: &Options) -> Result<Cliffwatch, ErrorDto> {
    let dir = cliffwatch_core::paths::data_dir(opts.data_dir.as_deref())
        .map_err(|e| ErrorDto::from(&e))?;
    Cliffwatch::open(&dir, os_keychain(), Arc::new(SystemClock))
        .await
        .map_err(|e| ErrorDto::from(&e))
}

/// Shows the dashboard, creating its window if it was closed (closing frees the webview; the
/// app lives on in the tray).
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    show_account(app, None);
}

/// Shows the dashboard, at `account` if given: an open window is told to navigate there, a new
/// one starts there (`#account=<id>`).
pub fn show_account<R: Runtime>(app: &AppHandle<R>, account: Option<AccountId>) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        if let Some(AccountId(id)) = account {
            use tauri::Emitter;
            let _ = w.emit(cliffwatch_core::dashboard::OPEN_ACCOUNT_EVENT, id);
        }
        return;
    }
    let page = match account {
        Some(AccountId(id)) => format!("index.html#account={id}"),
        None => "index.html".into(),
    };
    let built = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(page.into()))
        .title(if app.try_state::<AppState>().is_some_and(|s| s.demo) {
            "Cliffwatch — DEMO (loopback providers, temporary data)"
        } else {
            "Cliffwatch"
        })
        .inner_size(1100.0, 720.0)
        .min_inner_size(640.0, 420.0)
        .build();
    if let Err(e) = built {
        eprintln!("cliffwatch: cannot open the dashboard window: {e}");
    }
}

pub fn run() {
    let opts = parse_args();
    let mut builder = tauri::Builder::default();
    // A second launch on the default data directory focuses the running Cliffwatch instead of
    // starting a second poller on the same database. An explicit --data-dir (tests, the demo,
    // a second profile) is its own instance.
    if opts.data_dir.is_none() && std::env::var_os(cliffwatch_core::paths::DATA_DIR_ENV).is_none() {
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _args, _cwd| {
            show_main_window(app)
        }));
    }
    let app = builder
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--tray"]),
        ))
        // Used from Rust only (top-up pages, https checked first); the webview has no opener
        // permission.
        .plugin(tauri_plugin_opener::init())
        .setup(move |app| {
            let (cliffwatch, demo, demo_dir) = if opts.demo {
                match tauri::async_runtime::block_on(start_demo()) {
                    Ok((demo, dir)) => (Ok(demo.cliffwatch.clone()), Some(demo), Some(dir)),
                    Err(e) => (Err(e), None, None),
                }
            } else {
                (tauri::async_runtime::block_on(open_data(&opts)), None, None)
            };
            if let Err(e) = &cliffwatch {
                eprintln!("cliffwatch: {}", e.message);
            }
            let settings = match &cliffwatch {
                Ok(cw) => {
                    tauri::async_runtime::block_on(cliffwatch_core::dashboard::settings(cw)).ok()
                }
                Err(_) => None,
            };
            let notifications = Arc::new(AtomicBool::new(
                settings.as_ref().is_none_or(|s| s.notifications),
            ));
            let desktop = match &cliffwatch {
                Ok(cw) => desktop_notifier(app.handle(), cw, opts.demo),
                Err(_) => DesktopNotifier::new(),
            };
            app.manage(AppState {
                cliffwatch,
                engine: Mutex::new(None),
                demo: opts.demo,
                paused_until: Arc::new(AtomicI64::new(0)),
                notifications,
                demo_dir,
                desktop,
            });
            let mode = match demo {
                Some(d) => Mode::Demo(Box::new(d)),
                None => Mode::Live(live_config(settings.as_ref())),
            };
            start_engine(app.handle(), mode);
            tray::build(app.handle())?;
            repaint(app.handle().clone(), opts.demo);
            // `--tray` (the autostart entry) starts in the tray without a window.
            if !opts.tray_only {
                show_main_window(app.handle());
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
        .expect("error while building the Cliffwatch app");
    app.run(|app, event| match event {
        // Closing the last window keeps Cliffwatch in the tray; only Quit (an explicit exit
        // code) ends it. The window itself is destroyed, so the tray-only app holds no webview.
        tauri::RunEvent::ExitRequested {
            api, code: None, ..
        } => api.prevent_exit(),
        tauri::RunEvent::Exit => {
            let state = app.state::<AppState>();
            if let Some(engine) = state
                .engine
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                drop(engine);
            }
            if let Some(dir) = &state.demo_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        _ => {}
    });
}

/// Starts the demo in a fresh temporary directory.
async fn start_demo() -> Result<(cliffwatch_core::demo::Demo, PathBuf), ErrorDto> {
    let dir = std::env::temp_dir().join(format!("cliffwatch-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let demo = cliffwatch_core::demo::setup(&dir, SystemClock.now())
        .await
        .map_err(|e| ErrorDto::from(&e))?;
    Ok((demo, dir))
}

/// Desktop notifications, held back while alerts are paused (the alert stays undelivered and
/// goes out at the first evaluation after the pause).
#[derive(Debug)]
struct AppNotifier {
    clock: Arc<dyn Clock>,
    paused_until: Arc<AtomicI64>,
    enabled: Arc<AtomicBool>,
    desktop: DesktopNotifier,
}

impl Notifier for AppNotifier {
    fn notify(&self, n: &Notification) -> cliffwatch_core::Result<()> {
        if self.clock.now().timestamp() < self.paused_until.load(Ordering::Relaxed) {
            return Err(cliffwatch_core::Error::InvalidInput(
                "alerts are paused".into(),
            ));
        }
        if !self.enabled.load(Ordering::Relaxed) {
            // Notifications are off: the alert is stored and shown in the app only.
            return Ok(());
        }
        self.desktop.notify(n)
    }
}

/// "Top up" on a notification: the opener plugin, https only (checked in core before this).
#[derive(Debug)]
struct BrowserOpener(AppHandle);

impl UrlOpener for BrowserOpener {
    fn open(&self, url: &str) -> cliffwatch_core::Result<()> {
        use tauri_plugin_opener::OpenerExt;
        self.0.opener().open_url(url, None::<&str>).map_err(|e| {
            cliffwatch_core::Error::InvalidInput(format!("cannot open the browser: {e}"))
        })
    }
}

/// Notifications whose "Snooze" snoozes the alert for a day (the tray and the dashboard then
/// refresh) and whose "Top up" opens the provider's billing page.
fn desktop_notifier(app: &AppHandle, cw: &Cliffwatch, demo: bool) -> DesktopNotifier {
    let actions = StoreActions::new(
        cw,
        tauri::async_runtime::handle().inner().clone(),
        Arc::new(BrowserOpener(app.clone())),
        engine_sink(app.clone(), cw.clone(), demo),
    );
    DesktopNotifier::with_actions(Arc::new(actions)).unwrap_or_else(|e| {
        eprintln!("cliffwatch: notifications without buttons: {e}");
        DesktopNotifier::new()
    })
}

/// The live scheduler's knobs from the user's settings.
fn live_config(settings: Option<&cliffwatch_core::dashboard::Settings>) -> SchedulerConfig {
    let mut config = SchedulerConfig::default();
    if let Some(s) = settings {
        config.default_interval =
            std::time::Duration::from_secs(u64::from(s.poll_interval_s.max(1)));
    }
    config
}

/// Starts (or restarts) the engine; the previous one, if any, is dropped, which stops it.
fn start_engine(app: &AppHandle, mode: Mode) {
    let state = app.state::<AppState>();
    let Ok(cw) = state.cliffwatch() else { return };
    let notifier = Arc::new(AppNotifier {
        clock: cw.clock().clone(),
        paused_until: state.paused_until.clone(),
        enabled: state.notifications.clone(),
        desktop: state.desktop.clone(),
    });
    let sink = engine_sink(app.clone(), cw.clone(), state.demo);
    let cw = cw.clone();
    // Engine::start spawns onto the runtime it is called from: Tauri's. From setup (outside
    // the runtime) enter it; from a command (inside it) a block_on would panic.
    let started = if tokio::runtime::Handle::try_current().is_ok() {
        Engine::start(cw, mode, notifier, sink)
    } else {
        tauri::async_runtime::block_on(async move { Engine::start(cw, mode, notifier, sink) })
    };
    let mut slot = state.engine.lock().unwrap_or_else(|e| e.into_inner());
    match started {
        Ok(e) => *slot = Some(e),
        Err(e) => eprintln!("cliffwatch: {e}"),
    }
}

/// Applies saved settings to the running app: the notifications switch at once, a new poll
/// interval by restarting the live engine (the demo keeps its own clock).
pub fn apply_settings(app: &AppHandle, s: &cliffwatch_core::dashboard::Settings) {
    let state = app.state::<AppState>();
    state
        .notifications
        .store(s.notifications, Ordering::Relaxed);
    if !state.demo {
        start_engine(app, Mode::Live(live_config(Some(s))));
    }
}

/// Log sources were added or removed: the watcher re-reads them.
pub fn log_sources_changed(app: &AppHandle) {
    let state = app.state::<AppState>();
    let engine = state.engine.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = engine.as_ref() {
        engine.request_reload_logs();
    }
}

/// Forwards engine events: every change re-reads the dashboard for the tray and tells the
/// webview (which batches its re-fetches). Repaints are coalesced: while one is running,
/// further changes only mark it dirty.
fn engine_sink(app: AppHandle, _cw: Cliffwatch, demo: bool) -> EngineSink {
    let busy = Arc::new(AtomicBool::new(false));
    Arc::new(move |e| match e {
        EngineEvent::Changed => {
            use tauri::Emitter;
            let _ = app.emit(cliffwatch_core::dashboard::CHANGED_EVENT, ());
            if !busy.swap(true, Ordering::AcqRel) {
                let app = app.clone();
                let busy = busy.clone();
                tauri::async_runtime::spawn(async move {
                    // Let a burst of changes (a poll round) settle before re-reading.
                    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
                    busy.store(false, Ordering::Release);
                    repaint_now(&app, demo).await;
                });
            }
        }
        EngineEvent::Logs(cliffwatch_core::logs::WatcherEvent::Progress(p)) => {
            use tauri::Emitter;
            let _ = app.emit(cliffwatch_core::dashboard::LOG_PROGRESS_EVENT, p);
        }
        EngineEvent::OpenRequested(account) => {
            // Windows are made on the main thread.
            let handle = app.clone();
            let _ = app.run_on_main_thread(move || show_account(&handle, account));
        }
        EngineEvent::Failed(err) => eprintln!("cliffwatch: {}", err.message),
        _ => {}
    })
}

pub(crate) fn repaint(app: AppHandle, demo: bool) {
    tauri::async_runtime::spawn(async move { repaint_now(&app, demo).await });
}

async fn repaint_now(app: &AppHandle, demo: bool) {
    // One repaint at a time, each reading the dashboard afresh: two overlapping ones (a change
    // from the window and the engine's) could otherwise finish out of order and leave the
    // older picture in the tray.
    static REPAINTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = REPAINTING.lock().await;
    let cw = match app.state::<AppState>().cliffwatch() {
        Ok(cw) => cw.clone(),
        Err(_) => return,
    };
    if let Ok(d) = cliffwatch_core::dashboard::dashboard(&cw).await {
        tray::show(app, &d, demo);
    }
}

/// Tray "Refresh now": poll every account at once.
pub fn refresh_now<R: Runtime>(app: &AppHandle<R>) {
    let state = app.state::<AppState>();
    let engine = state.engine.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(engine) = engine.as_ref() {
        engine.request_refresh(None);
    }
}

/// Tray "Pause alerts": hold desktop notifications back for `d`.
pub fn pause_alerts<R: Runtime>(app: &AppHandle<R>, d: chrono::Duration) {
    let state = app.state::<AppState>();
    let now = state
        .cliffwatch()
        .map(|cw| cw.clock().now())
        .unwrap_or_default();
    state
        .paused_until
        .store((now + d).timestamp(), Ordering::Relaxed);
}
