//! Export buttons: the window picks the file (the dialog plugin's save dialog), core writes it.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::export::{self, Dataset, ExportFormat, ExportQuery};
use cliffwatch_core::model::AccountId;
use tauri::State;

/// Writes `dataset` as `format` to `path`; returns the rows written.
#[tauri::command]
pub async fn export_to(
    state: State<'_, AppState>,
    dataset: Dataset,
    format: ExportFormat,
    path: std::path::PathBuf,
    account: Option<AccountId>,
    since: Option<chrono::DateTime<chrono::Utc>>,
) -> CommandResult<usize> {
    let query = ExportQuery { since, account };
    Ok(export::export_to(state.cliffwatch()?, dataset, format, &query, &path).await?)
}
