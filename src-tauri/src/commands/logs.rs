//! Log sources: list, preview a path or glob before adding it, add, remove.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::logs::{self, LogPreview, LogSourceRow};
use cliffwatch_core::logs::Format;
use cliffwatch_core::model::{LogSource, LogSourceId};
use tauri::State;

#[tauri::command]
pub async fn list_log_sources(state: State<'_, AppState>) -> CommandResult<Vec<LogSourceRow>> {
    Ok(logs::list(state.cliffwatch()?).await?)
}

/// Globbing and reading a file head block; they run off the async runtime.
#[tauri::command]
pub async fn preview_log_source(pattern: String) -> CommandResult<LogPreview> {
    let preview = tauri::async_runtime::spawn_blocking(move || logs::preview(&pattern))
        .await
        .map_err(|e| cliffwatch_core::Error::InvalidInput(format!("preview failed: {e}")))?;
    Ok(preview?)
}

/// `format` is a format name or "auto".
#[tauri::command]
pub async fn add_log_source(
    state: State<'_, AppState>,
    pattern: String,
    format: String,
) -> CommandResult<LogSource> {
    let format = Format::parse(&format)?;
    let cw = state.cliffwatch()?;
    Ok(logs::add(cw, &pattern, format, None, None, serde_json::Value::Null).await?)
}

#[tauri::command]
pub async fn remove_log_source(state: State<'_, AppState>, id: i64) -> CommandResult<()> {
    Ok(logs::remove(state.cliffwatch()?, LogSourceId(id)).await?)
}
