//! What the engine tells its hosts, by name, and what a change to the store was about. The
//! names are the Tauri event names the window listens to (`ui/src/events.ts` holds the same
//! strings; a test checks); the [`Change`]s are what `api::` calls announce through
//! [`crate::Cliffwatch::announce`] so that the engine (and through it every host) hears of a
//! change without the host having to remember to say so.

/// Emitted whenever stored data changes (a poll, a log scan, an edit); the dashboard re-fetches
/// on it.
pub const CHANGED_EVENT: &str = "cliffwatch://changed";
/// Emitted during a log backfill with a [`crate::logs::Progress`] payload.
pub const LOG_PROGRESS_EVENT: &str = "cliffwatch://log-progress";
/// Sent to an open dashboard with an account id: show that account (a notification about it
/// was clicked). A dashboard opened for it gets `#account=<id>` in its URL instead.
pub const OPEN_ACCOUNT_EVENT: &str = "cliffwatch://open-account";

/// What a call through the front door changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An account was added, edited, removed, re-keyed or polled.
    Accounts,
    /// A log source was added or removed: the watcher re-reads the list.
    LogSources,
    /// Settings were saved: the engine re-reads its scheduler and alert policy.
    Settings,
    /// Something else in the store (an alert snoozed, balances imported).
    Data,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_name_matches_the_front_end() {
        let ts = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui/src/events.ts"),
        )
        .expect("ui/src/events.ts");
        for name in [CHANGED_EVENT, LOG_PROGRESS_EVENT, OPEN_ACCOUNT_EVENT] {
            assert!(
                ts.contains(&format!("\"{name}\"")),
                "ui/src/events.ts must use {name}"
            );
        }
    }
}
