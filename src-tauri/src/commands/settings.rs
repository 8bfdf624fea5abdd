//! Settings: poll interval, alert rules, quiet hours, notifications, theme, the read API, the
//! proxy. The
//! engine hears the save and re-reads what concerns it; nothing is restarted here.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::settings::{self, Settings};
use cliffwatch_core::listen::ReadApiStatus;
use tauri::State;

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<Settings> {
    Ok(settings::get(state.cliffwatch()?).await?)
}

#[tauri::command]
pub async fn save_settings(
    state: State<'_, AppState>,
    settings: Settings,
) -> CommandResult<Settings> {
    Ok(settings::save(state.cliffwatch()?, &settings).await?)
}

/// Whether the engine serves the read API now (under the Settings switch).
#[tauri::command]
pub fn get_read_api(state: State<'_, AppState>) -> CommandResult<ReadApiStatus> {
    Ok(settings::read_api(state.cliffwatch()?))
}

/// Whether the engine serves the recording proxy now (under its Settings switch).
#[tauri::command]
pub fn get_proxy(state: State<'_, AppState>) -> CommandResult<ReadApiStatus> {
    Ok(settings::proxy(state.cliffwatch()?))
}
