//! Settings: poll interval, alert rules, quiet hours, notifications, theme.

use super::changed;
use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::dashboard::{self, Settings};
use tauri::{AppHandle, State};

#[tauri::command]
pub async fn get_settings(state: State<'_, AppState>) -> CommandResult<Settings> {
    Ok(dashboard::settings(state.cliffwatch()?).await?)
}

#[tauri::command]
pub async fn save_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    settings: Settings,
) -> CommandResult<Settings> {
    let saved = dashboard::save_settings(state.cliffwatch()?, &settings).await?;
    crate::apply_settings(&app, &saved);
    changed(&app);
    Ok(saved)
}
