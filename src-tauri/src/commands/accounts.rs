//! The accounts table, one account's detail, the add-account wizard, remove, and Top up.

use super::changed;
use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::dashboard::{
    self, AccountDetail, AccountEdit, AccountForm, AccountRow, Dashboard,
};
use cliffwatch_core::model::{Account, AccountId};
use cliffwatch_core::poll::PollResult;
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

#[tauri::command]
pub async fn get_dashboard(state: State<'_, AppState>) -> CommandResult<Dashboard> {
    Ok(dashboard::dashboard(state.cliffwatch()?).await?)
}

#[tauri::command]
pub async fn get_account(state: State<'_, AppState>, id: i64) -> CommandResult<AccountDetail> {
    Ok(dashboard::account_detail(state.cliffwatch()?, AccountId(id)).await?)
}

/// The key arrives here once and goes to the keychain; only its last 4 characters come back.
#[tauri::command]
pub async fn add_account(
    app: AppHandle,
    state: State<'_, AppState>,
    form: AccountForm,
) -> CommandResult<AccountRow> {
    let row = dashboard::add_account(state.cliffwatch()?, form).await?;
    changed(&app);
    Ok(row)
}

#[tauri::command]
pub async fn remove_account(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
) -> CommandResult<Account> {
    let removed = dashboard::remove_account(state.cliffwatch()?, AccountId(id)).await?;
    changed(&app);
    Ok(removed)
}

/// Opens a billing or payment page in the browser: https only (checked in core); the UI has
/// already asked the user to confirm a link that came from a 402 body.
#[tauri::command]
pub fn open_top_up(app: AppHandle, url: String) -> CommandResult<()> {
    let url = dashboard::checked_https_url(&url)?;
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        cliffwatch_core::Error::InvalidInput(format!("cannot open the browser: {e}"))
    })?;
    Ok(())
}

/// One live request that stores nothing; provider failures come back inside the result.
#[tauri::command]
pub async fn test_account(state: State<'_, AppState>, id: i64) -> CommandResult<PollResult> {
    Ok(dashboard::test_account(state.cliffwatch()?, AccountId(id)).await?)
}

#[tauri::command]
pub async fn poll_account(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
) -> CommandResult<PollResult> {
    let result = dashboard::poll_account(state.cliffwatch()?, AccountId(id)).await?;
    changed(&app);
    Ok(result)
}

/// Replaces an account's key: the new key goes to the keychain and never comes back.
#[tauri::command]
pub async fn replace_key(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    secret: String,
) -> CommandResult<AccountRow> {
    let row = dashboard::replace_key(state.cliffwatch()?, AccountId(id), secret).await?;
    changed(&app);
    Ok(row)
}

#[tauri::command]
pub async fn edit_account(
    app: AppHandle,
    state: State<'_, AppState>,
    id: i64,
    edit: AccountEdit,
) -> CommandResult<AccountRow> {
    let row = dashboard::edit_account(state.cliffwatch()?, AccountId(id), edit).await?;
    changed(&app);
    Ok(row)
}
