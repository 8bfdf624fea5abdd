//! The dashboard window: shown (or made again, since closing it frees the webview) and told
//! which account to show.

use crate::AppState;
use cliffwatch_core::model::AccountId;
use tauri::{AppHandle, Manager, Runtime, WebviewUrl, WebviewWindowBuilder};

pub const MAIN_WINDOW: &str = "main";

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
            let _ = w.emit(cliffwatch_core::events::OPEN_ACCOUNT_EVENT, id);
        }
        return;
    }
    let page = account.map_or_else(
        || "index.html".into(),
        |AccountId(id)| format!("index.html#account={id}"),
    );
    let demo = app.try_state::<AppState>().is_some_and(|s| s.demo);
    let built = WebviewWindowBuilder::new(app, MAIN_WINDOW, WebviewUrl::App(page.into()))
        .title(if demo {
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
