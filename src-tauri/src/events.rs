//! From the engine to the shell: every change is told to the webview (which batches its
//! re-fetches) and repaints the tray, backfill progress goes to the Logs screen, and a clicked
//! notification opens the dashboard at its account.

use crate::AppState;
use cliffwatch_core::api::overview;
use cliffwatch_core::engine::{EngineEvent, EngineSink};
use cliffwatch_core::events::{CHANGED_EVENT, LOG_PROGRESS_EVENT};
use cliffwatch_core::logs::WatcherEvent;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tauri::{AppHandle, Emitter, Manager};

/// A burst of changes (a poll round) settles this long before the tray re-reads.
const REPAINT_AFTER: std::time::Duration = std::time::Duration::from_millis(250);

/// Forwards engine events to the window and the tray. Repaints are coalesced: while one is
/// waiting, further changes only ride along.
pub fn engine_sink(app: AppHandle, demo: bool) -> EngineSink {
    let busy = Arc::new(AtomicBool::new(false));
    Arc::new(move |e| match e {
        EngineEvent::Changed => {
            let _ = app.emit(CHANGED_EVENT, ());
            if !busy.swap(true, Ordering::AcqRel) {
                let (app, busy) = (app.clone(), busy.clone());
                tauri::async_runtime::spawn(async move {
                    tokio::time::sleep(REPAINT_AFTER).await;
                    busy.store(false, Ordering::Release);
                    repaint_now(&app, demo).await;
                });
            }
        }
        EngineEvent::Logs(WatcherEvent::Progress(p)) => {
            let _ = app.emit(LOG_PROGRESS_EVENT, p);
        }
        EngineEvent::OpenRequested(account) => {
            // Windows are made on the main thread.
            let handle = app.clone();
            let _ = app.run_on_main_thread(move || crate::show_account(&handle, account));
        }
        EngineEvent::Failed(err) => eprintln!("cliffwatch: {}", err.message),
        _ => {}
    })
}

pub fn repaint(app: AppHandle, demo: bool) {
    tauri::async_runtime::spawn(async move { repaint_now(&app, demo).await });
}

async fn repaint_now(app: &AppHandle, demo: bool) {
    // One repaint at a time, each reading the dashboard afresh: two overlapping ones could
    // otherwise finish out of order and leave the older picture in the tray.
    static REPAINTING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _one = REPAINTING.lock().await;
    // The engine may report before the app state is managed (its first pass at start).
    let Some(Ok(cw)) = app.try_state::<AppState>().map(|s| s.cliffwatch().cloned()) else {
        return;
    };
    if let Ok(d) = overview::dashboard(&cw).await {
        crate::tray::show(app, &overview::tray(&d, demo));
    }
}
