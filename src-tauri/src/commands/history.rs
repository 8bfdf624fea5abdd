//! The 402 history.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::history::{self, EventQuery, EventRow};
use tauri::State;

#[tauri::command]
pub async fn list_events(
    state: State<'_, AppState>,
    query: EventQuery,
) -> CommandResult<Vec<EventRow>> {
    Ok(history::events(state.cliffwatch()?, &query).await?)
}
