//! Tauri commands, one file per area of `cliffwatch_core::api`: parse, call one `api::`
//! function, map the error. Nothing else: calls that change the store announce it in core, and
//! the engine's sink repaints the tray and tells the window.
//!
//! Every command here is also listed in `src-tauri/build.rs` (the app manifest) and granted as
//! `allow-<command>` in `capabilities/main.json`; [`handler`] is the one list `lib.rs` installs.

mod accounts;
mod channels;
mod export;
mod history;
mod logs;
mod overview;
mod settings;

/// Every app command, for `Builder::invoke_handler`.
pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        overview::get_status,
        overview::app_info,
        overview::get_dashboard,
        overview::get_account,
        accounts::list_providers,
        accounts::add_account,
        accounts::remove_account,
        accounts::edit_account,
        accounts::set_breaker,
        accounts::replace_key,
        accounts::open_top_up,
        accounts::test_account,
        accounts::poll_account,
        history::list_events,
        logs::list_log_sources,
        logs::preview_log_source,
        logs::add_log_source,
        logs::remove_log_source,
        settings::get_settings,
        settings::save_settings,
        settings::get_read_api,
        settings::get_proxy,
        channels::list_channel_kinds,
        channels::list_channels,
        channels::add_channel,
        channels::test_channel,
        channels::remove_channel,
        export::export_to,
    ]
}
