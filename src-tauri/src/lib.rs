//! The Cliffwatch desktop shell: a tray icon and a dashboard window over cliffwatch-core.
//! This crate only adapts: commands parse, call one `api::` function and map the error; the
//! engine decides and reports, [`events`] forwards its reports, the tray paints.

mod commands;
mod error;
mod events;
mod notify;
mod tray;
mod window;

pub use window::{show_account, show_main_window, MAIN_WINDOW};

use cliffwatch_core::alerts::Notifier;
use cliffwatch_core::clock::{Clock, SystemClock};
use cliffwatch_core::engine::{Engine, Mode};
use cliffwatch_core::model::ErrorDto;
use cliffwatch_core::secrets::os_keychain;
use cliffwatch_core::Cliffwatch;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tauri::{AppHandle, Manager, Runtime};

/// What the commands share. Opening the data directory can fail (a corrupt database, a
/// read-only folder); the window still opens and shows the error instead of vanishing.
#[derive(Debug)]
pub struct AppState {
    cliffwatch: Result<Cliffwatch, ErrorDto>,
    /// Polling, log watching and alerts; `None` when the data directory could not be opened.
    engine: Mutex<Option<Engine>>,
    /// Demo mode: temporary data, loopback providers, a compressed clock.
    pub demo: bool,
    /// The demo's temporary data directory, removed when the app exits.
    demo_dir: Option<PathBuf>,
}

impl AppState {
    pub fn cliffwatch(&self) -> Result<&Cliffwatch, ErrorDto> {
        self.cliffwatch.as_ref().map_err(Clone::clone)
    }

    fn with_engine(&self, f: impl FnOnce(&Engine)) {
        if let Some(engine) = self
            .engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            f(engine);
        }
    }
}

/// Command-line options of the desktop app: `--data-dir DIR`, `--tray`, `--demo`.
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
        match a.to_str() {
            Some("--data-dir") => opts.data_dir = args.next().map(PathBuf::from),
            Some("--tray") => opts.tray_only = true,
            Some("--demo") => opts.demo = true,
            _ => {}
        }
    }
    opts
}

/// The data directory (or a fresh demo), and the engine's mode for it.
async fn open(opts: &Options) -> Result<(Cliffwatch, Mode, Option<PathBuf>), ErrorDto> {
    if opts.demo {
        let dir = std::env::temp_dir().join(format!("cliffwatch-demo-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let demo = cliffwatch_core::demo::setup(&dir, SystemClock.now()).await?;
        return Ok((
            demo.cliffwatch.clone(),
            Mode::Demo(Box::new(demo)),
            Some(dir),
        ));
    }
    let dir = cliffwatch_core::paths::data_dir(opts.data_dir.as_deref())?;
    let cw = Cliffwatch::open(&dir, os_keychain(), Arc::new(SystemClock)).await?;
    Ok((cw, Mode::Live, None))
}

/// Opens the data, starts the engine inside Tauri's runtime, builds the tray.
fn setup(app: &mut tauri::App, opts: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let opened = tauri::async_runtime::block_on(open(opts));
    let handle = app.handle().clone();
    let (cliffwatch, engine, demo_dir) = match opened {
        Ok((cw, mode, dir)) => {
            let notifier: Arc<dyn Notifier> =
                Arc::new(notify::desktop_notifier(&handle, &cw, opts.demo));
            let sink = events::engine_sink(handle.clone(), opts.demo);
            let engine_cw = cw.clone();
            let started = tauri::async_runtime::block_on(async move {
                Engine::start(engine_cw, mode, notifier, sink)
            });
            let engine = started.map_err(|e| eprintln!("cliffwatch: {e}")).ok();
            (Ok(cw), engine, dir)
        }
        Err(e) => {
            eprintln!("cliffwatch: {}", e.message);
            (Err(e), None, None)
        }
    };
    app.manage(AppState {
        cliffwatch,
        engine: Mutex::new(engine),
        demo: opts.demo,
        demo_dir,
    });
    tray::build(&handle)?;
    events::repaint(handle.clone(), opts.demo);
    // `--tray` (the autostart entry) starts in the tray without a window.
    if !opts.tray_only {
        show_main_window(&handle);
    }
    Ok(())
}

/// WebKitGTK choices made before the first webview, each only where the user has not set the
/// variable (setting it, to 0 for instance, keeps WebKit's own default). Skia paints the
/// dashboard's layers on the CPU instead of through GL: compositing stays on (WebDriver
/// screenshots and the e2e tests need it), and the web process holds about 37 MiB less (README
/// "The desktop app at rest").
const WEBKIT_DEFAULTS: &[(&str, &str)] = &[("WEBKIT_SKIA_ENABLE_CPU_RENDERING", "1")];

fn webkit_defaults() {
    for (name, value) in WEBKIT_DEFAULTS {
        if std::env::var_os(name).is_none() {
            // Before any thread is started: WebKit reads these once, at its first use.
            std::env::set_var(name, value);
        }
    }
}

pub fn run() {
    webkit_defaults();
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
        // The Export buttons' save dialog (`dialog:allow-save` only): the webview learns the
        // chosen path and hands it to `export_to`; it reads and writes no file itself.
        .plugin(tauri_plugin_dialog::init())
        .setup(move |app| setup(app, &opts))
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
            drop(
                state
                    .engine
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .take(),
            );
            if let Some(dir) = &state.demo_dir {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
        _ => {}
    });
}

/// Tray "Refresh now": poll every account at once.
pub fn refresh_now<R: Runtime>(app: &AppHandle<R>) {
    app.state::<AppState>()
        .with_engine(|e| e.request_refresh(None));
}

/// Tray "Pause alerts": the engine holds notifications back for `d` (alerts wait, then go out).
pub fn pause_alerts<R: Runtime>(app: &AppHandle<R>, d: chrono::Duration) {
    let state = app.state::<AppState>();
    let Ok(now) = state.cliffwatch().map(|cw| cw.clock().now()) else {
        return;
    };
    state.with_engine(|e| e.pause_alerts(now + d));
}

#[cfg(test)]
mod tests {
    #[test]
    fn webkit_defaults_fill_in_and_never_override() {
        const NAME: &str = "WEBKIT_SKIA_ENABLE_CPU_RENDERING";
        std::env::set_var(NAME, "0");
        super::webkit_defaults();
        assert_eq!(
            std::env::var(NAME).as_deref(),
            Ok("0"),
            "the user's choice stays"
        );
        std::env::remove_var(NAME);
        super::webkit_defaults();
        assert_eq!(
            std::env::var(NAME).as_deref(),
            Ok("1"),
            "unset, the default is set"
        );
    }
}
