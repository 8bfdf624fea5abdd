// Tauri event names shared with Rust (crates/core/src/dashboard.rs checks this file).

/** Emitted whenever stored data changes: a poll, a log scan, an edit. The dashboard re-fetches. */
export const CHANGED_EVENT = "cliffwatch://changed";
