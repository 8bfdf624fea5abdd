//! The add-account wizard, edit, remove, a new key, Test connection, Poll now, and Top up.

use crate::error::CommandResult;
use crate::AppState;
use cliffwatch_core::api::accounts::{self, AccountEdit, AccountForm};
use cliffwatch_core::api::overview::AccountRow;
use cliffwatch_core::model::{Account, AccountId};
use cliffwatch_core::poll::PollResult;
use cliffwatch_core::providers::{ProviderInfo, PROVIDERS};
use tauri::{AppHandle, State};
use tauri_plugin_opener::OpenerExt;

#[tauri::command]
pub fn list_providers() -> Vec<ProviderInfo> {
    PROVIDERS.to_vec()
}

/// The key arrives here once and goes to the keychain; only its last 4 characters come back.
#[tauri::command]
pub async fn add_account(
    state: State<'_, AppState>,
    form: AccountForm,
) -> CommandResult<AccountRow> {
    Ok(accounts::add_form(state.cliffwatch()?, form).await?)
}

#[tauri::command]
pub async fn remove_account(state: State<'_, AppState>, id: i64) -> CommandResult<Account> {
    Ok(accounts::remove_by_id(state.cliffwatch()?, AccountId(id)).await?)
}

/// The proxy's breaker for this account on or off.
#[tauri::command]
pub async fn set_breaker(state: State<'_, AppState>, id: i64, on: bool) -> CommandResult<Account> {
    Ok(cliffwatch_core::api::proxy::set_breaker(state.cliffwatch()?, AccountId(id), on).await?)
}

#[tauri::command]
pub async fn edit_account(
    state: State<'_, AppState>,
    id: i64,
    edit: AccountEdit,
) -> CommandResult<AccountRow> {
    Ok(accounts::edit(state.cliffwatch()?, AccountId(id), edit).await?)
}

/// Replaces an account's key: the new key goes to the keychain and never comes back.
#[tauri::command]
pub async fn replace_key(
    state: State<'_, AppState>,
    id: i64,
    secret: String,
) -> CommandResult<AccountRow> {
    Ok(accounts::replace_key_by_id(state.cliffwatch()?, AccountId(id), secret).await?)
}

/// One live request that stores nothing; provider failures come back inside the result.
#[tauri::command]
pub async fn test_account(state: State<'_, AppState>, id: i64) -> CommandResult<PollResult> {
    Ok(accounts::test(state.cliffwatch()?, AccountId(id)).await?)
}

#[tauri::command]
pub async fn poll_account(state: State<'_, AppState>, id: i64) -> CommandResult<PollResult> {
    Ok(accounts::poll(state.cliffwatch()?, AccountId(id)).await?)
}

/// Opens a billing or payment page in the browser: https only (checked in core); the UI has
/// already asked the user to confirm a link that came from a 402 body.
#[tauri::command]
pub fn open_top_up(app: AppHandle, url: String) -> CommandResult<()> {
    let url = cliffwatch_core::urls::checked_https_url(&url)?;
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        cliffwatch_core::Error::InvalidInput(format!("cannot open the browser: {e}"))
    })?;
    Ok(())
}
