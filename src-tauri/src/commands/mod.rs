//! Tauri commands: parse, call one core function, map the error. Nothing else.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::model::StatusReport;
use cliffwatch_core::providers::{ProviderInfo, PROVIDERS};

#[tauri::command]
pub async fn get_status(state: tauri::State<'_, AppState>) -> CommandResult<StatusReport> {
    Ok(state.cliffwatch()?.status().await?)
}

#[tauri::command]
pub fn list_providers() -> Vec<ProviderInfo> {
    PROVIDERS.to_vec()
}
