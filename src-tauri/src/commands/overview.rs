//! The accounts screen, one account's detail, the status report, and what the app is.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::overview::{self, AccountDetail, Dashboard};
use cliffwatch_core::model::{AccountId, AppInfo, StatusReport};
use tauri::State;

#[tauri::command]
pub async fn get_dashboard(state: State<'_, AppState>) -> CommandResult<Dashboard> {
    Ok(overview::dashboard(state.cliffwatch()?).await?)
}

#[tauri::command]
pub async fn get_account(state: State<'_, AppState>, id: i64) -> CommandResult<AccountDetail> {
    Ok(overview::account_detail(state.cliffwatch()?, AccountId(id)).await?)
}

#[tauri::command]
pub async fn get_status(state: State<'_, AppState>) -> CommandResult<StatusReport> {
    Ok(overview::status(state.cliffwatch()?).await?)
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> CommandResult<AppInfo> {
    let data_dir = state.cliffwatch()?.data_dir().display().to_string();
    let version = env!("CARGO_PKG_VERSION").into();
    Ok(AppInfo {
        version,
        demo: state.demo,
        data_dir,
    })
}
