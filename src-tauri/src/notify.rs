//! Desktop notifications and their buttons: "Snooze" snoozes the alert for a day (through
//! core's store actions), "Top up" opens the provider's billing page with the opener plugin.
//! Whether a notification goes out at all (the setting, a pause) the engine decides.

use cliffwatch_core::alerts::desktop::DesktopNotifier;
use cliffwatch_core::alerts::{StoreActions, UrlOpener};
use cliffwatch_core::Cliffwatch;
use std::sync::Arc;
use tauri::AppHandle;

/// "Top up" on a notification: the opener plugin, https only (checked in core before this).
#[derive(Debug)]
struct BrowserOpener(AppHandle);

impl UrlOpener for BrowserOpener {
    fn open(&self, url: &str) -> cliffwatch_core::Result<()> {
        use tauri_plugin_opener::OpenerExt;
        self.0.opener().open_url(url, None::<&str>).map_err(|e| {
            cliffwatch_core::Error::InvalidInput(format!("cannot open the browser: {e}"))
        })
    }
}

/// The desktop notifier, its buttons wired to the store and the browser; a snooze from a
/// button repaints like any other change.
pub fn desktop_notifier(app: &AppHandle, cw: &Cliffwatch, demo: bool) -> DesktopNotifier {
    let actions = StoreActions::new(
        cw,
        tauri::async_runtime::handle().inner().clone(),
        Arc::new(BrowserOpener(app.clone())),
        crate::events::engine_sink(app.clone(), demo),
    );
    DesktopNotifier::with_actions(Arc::new(actions)).unwrap_or_else(|e| {
        eprintln!("cliffwatch: notifications without buttons: {e}");
        DesktopNotifier::new()
    })
}
