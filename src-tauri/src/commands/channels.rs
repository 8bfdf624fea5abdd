//! Alert channels in Settings: list, add (the secret crosses from the webview once, here, on
//! its way to the keychain), test and remove.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::channels::{self, ChannelForm, ChannelKindInfo, ChannelRow, ChannelTest};
use tauri::State;

#[tauri::command]
pub fn list_channel_kinds() -> Vec<ChannelKindInfo> {
    channels::kinds()
}

#[tauri::command]
pub async fn list_channels(state: State<'_, AppState>) -> CommandResult<Vec<ChannelRow>> {
    Ok(channels::list(state.cliffwatch()?).await?)
}

#[tauri::command]
pub async fn add_channel(
    state: State<'_, AppState>,
    form: ChannelForm,
) -> CommandResult<ChannelRow> {
    Ok(channels::add_form(state.cliffwatch()?, form).await?)
}

#[tauri::command]
pub async fn test_channel(state: State<'_, AppState>, id: i64) -> CommandResult<ChannelTest> {
    Ok(channels::test_by_id(state.cliffwatch()?, id).await?)
}

#[tauri::command]
pub async fn remove_channel(state: State<'_, AppState>, id: i64) -> CommandResult<ChannelRow> {
    Ok(channels::remove_by_id(state.cliffwatch()?, id).await?)
}
