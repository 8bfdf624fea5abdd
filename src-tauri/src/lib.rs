//! The Cliffwatch desktop shell: a tray icon and a dashboard window over cliffwatch-core.
//! This crate only adapts: commands parse, call one core function and map the error; the
//! behaviour lives in `crates/core`.

mod commands;
mod error;
mod tray;

use cliffwatch_core::clock::SystemClock;
use cliffwatch_core::model::ErrorDto;
use cliffwatch_core::secrets::{KeyringStore, SecretStore, KEYRING_SERVICE};
use cliffwatch_core::Cliffwatch;
use std::path::PathBuf;
use std::sync::Arc;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const MAIN_WINDOW: &str = "main";

/// What the commands share. Opening the data directory can fail (a corrupt database, a
/// read-only folder); the window still opens and shows the error instead of vanishing.
#[derive(Debug)]
pub struct AppState {
    cliffwatch: Result<Cliffwatch, ErrorDto>,
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
}

fn parse_args() -> Options {
    let mut opts = Options::default();
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--data-dir" {
            opts.data_dir = args.next().map(PathBuf::from);
        } else if a == "--tray" {
            opts.tray_only = true;
        }
    }
    opts
}

fn keychain() -> Arc<dyn SecretStore> {
    let service = std::env::var("CLIFFWATCH_KEYRING_SERVICE")
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| KEYRING_SERVICE.to_owned());
    Arc::new(KeyringStore::new(service))
}

async fn open_data(opts: &Options) -> Result<Cliffwatch, ErrorDto> {
    let dir = cliffwatch_core::paths::data_dir(opts.data_dir.as_deref())
        .map_err(|e| ErrorDto::from(&e))?;
    Cliffwatch::open(&dir, keychain(), Arc::new(SystemClock))
        .await
        .map_err(|e| ErrorDto::from(&e))
}

/// Shows the dashboard, creating its window if it was closed (closing frees the webview; the
/// app lives on in the tray).
pub fn show_main_window<R: Runtime>(app: &AppHandle<R>) {
    if let Some(w) = app.get_webview_window(MAIN_WINDOW) {
        let _ = w.unminimize();
        let _ = w.show();
        let _ = w.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App("index.html".into()))
        .title("Cliffwatch")
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
            let cliffwatch = tauri::async_runtime::block_on(open_data(&opts));
            if let Err(e) = &cliffwatch {
                eprintln!("cliffwatch: {}", e.message);
            }
            app.manage(AppState { cliffwatch });
            tray::build(app.handle())?;
            // `--tray` (the autostart entry) starts in the tray without a window.
            if let Ok(cw) = app.state::<AppState>().cliffwatch() {
                if let Ok(report) = tauri::async_runtime::block_on(cw.status()) {
                    tray::show_status(app.handle(), &report);
                }
            }
            if !opts.tray_only {
                show_main_window(app.handle());
            }
            Ok(())
        })
        .invoke_handler(commands::handler())
        .build(tauri::generate_context!())
        .expect("error while building the Cliffwatch app");
    app.run(|_app, event| {
        // Closing the last window keeps Cliffwatch in the tray; only Quit (an explicit exit
        // code) ends it.
        if let tauri::RunEvent::ExitRequested {
            api, code: None, ..
        } = event
        {
            api.prevent_exit();
        }
    });
}
