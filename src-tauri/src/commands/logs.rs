//! Log sources: list, preview a path or glob before adding it, add, remove.

use super::changed;
use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::dashboard::{self, LogPreview, LogSourceRow};
use cliffwatch_core::logs::{self, Format};
use cliffwatch_core::model::{LogSource, LogSourceId};
use tauri::{AppHandle, State};

#[tauri::command]
pub async fn list_log_sources(state: State<'_, AppState>) -> CommandResult<Vec<LogSourceRow>> {
    Ok(dashboard::log_sources(state.cliffwatch()?).await?)
}

/// Globbing and reading a file head block; they run off the async runtime.
#[tauri::command]
pub async fn preview_log_source(pattern: String) -> CommandResult<LogPreview> {
    let preview =
        tauri::async_runtime::spawn_blocking(move || dashboard::preview_log_source(&pattern))
            .await
            .map_err(|e| cliffwatch_core::Error::InvalidInput(format!("preview failed: {e}")))?;
    Ok(preview?)
}

/// `format` is a format name or "auto".
#[tauri::command]
pub async fn add_log_source(
    app: AppHandle,
    state: State<'_, AppState>,
    pattern: String,
    format: String,
) -> CommandResult<LogSource> {
    let format = Format::parse(&format)?;
    let cw = state.cliffwatch()?;
    let source =
        logs::add_source(cw, &pattern, format, None, None, serde_json::Value::Null).await?;
    crate::log_sources_changed(&app);
    changed(&app);
    Ok(source)
}

#[tauri::command]
pub async fn remove_log_source(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
) -> CommandResult<()> {
    cliffwatch_core::db::log_sources::delete(state.cliffwatch()?.pool(), LogSourceId(id)).await?;
    crate::log_sources_changed(&app);
    changed(&app);
    Ok(())
}
