//! Tauri commands: parse, call one core function, map the error. Nothing else.
//!
//! Every command here is also listed in `src-tauri/build.rs` (the app manifest) and granted as
//! `allow-<command>` in `capabilities/main.json`; [`handler`] is the one list `lib.rs` installs.

mod accounts;
mod events;
mod logs;
mod settings;

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::dashboard::CHANGED_EVENT;
use cliffwatch_core::model::StatusReport;
use cliffwatch_core::providers::{ProviderInfo, PROVIDERS};
use tauri::{AppHandle, Emitter, Manager};

/// Every app command, for `Builder::invoke_handler`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        get_status,
        list_providers,
        app_info,
        accounts::get_dashboard,
        accounts::get_account,
        accounts::add_account,
        accounts::remove_account,
        accounts::edit_account,
        accounts::replace_key,
        accounts::open_top_up,
        accounts::test_account,
        accounts::poll_account,
        events::list_events,
        logs::list_log_sources,
        logs::preview_log_source,
        logs::add_log_source,
        logs::remove_log_source,
        settings::get_settings,
        settings::save_settings,
    ]
}

#[tauri::command]
pub async fn get_status(state: tauri::State<'_, AppState>) -> CommandResult<StatusReport> {
    Ok(state.cliffwatch()?.status().await?)
}

#[tauri::command]
pub fn app_info(
    state: tauri::State<'_, AppState>,
) -> CommandResult<cliffwatch_core::model::AppInfo> {
    let cw = state.cliffwatch()?;
    Ok(cliffwatch_core::model::AppInfo {
        version: env!("CARGO_PKG_VERSION").into(),
        demo: state.demo,
        data_dir: cw.data_dir().display().to_string(),
    })
}

#[tauri::command]
pub fn list_providers() -> Vec<ProviderInfo> {
    PROVIDERS.to_vec()
}

/// Tells every window that stored data changed (the dashboard re-fetches, batched) and
/// repaints the tray, so an account added or polled from the window shows there at once.
fn changed(app: &AppHandle) {
    let _ = app.emit(CHANGED_EVENT, ());
    let demo = app.state::<AppState>().demo;
    crate::repaint(app.clone(), demo);
}
