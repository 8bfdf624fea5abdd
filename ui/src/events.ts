// Tauri event names shared with Rust (crates/core/src/dashboard.rs checks this file).

/** Emitted whenever stored data changes: a poll, a log scan, an edit. The dashboard re-fetches. */
export const CHANGED_EVENT = "cliffwatch://changed";

/** Emitted during a log backfill with a `LogProgress` payload (one source at a time). */
export const LOG_PROGRESS_EVENT = "cliffwatch://log-progress";

/** Sent with an account id when a notification about it was clicked: show that account. A
 * window opened for it starts at `#account=<id>` instead. */
export const OPEN_ACCOUNT_EVENT = "cliffwatch://open-account";
