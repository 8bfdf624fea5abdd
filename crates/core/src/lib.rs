//! Cliffwatch's behaviour, with no UI and no Tauri: accounts and their secrets, the SQLite store,
//! provider polling, log watching, forecasts and alerts. The desktop shell and the `cliffwatch`
//! CLI are thin adapters over [`Cliffwatch`].
//!
//! Core talks outward only through small injected traits ([`clock::Clock`],
//! [`secrets::SecretStore`]) so that every rule can be tested without a display, a keychain or
//! a network.

// Lets `providers/adapter_testkit.rs` name this crate `cliffwatch_core` in the unit tests too:
// the integration tests in `tests/` include the same file, and there `crate` is the test binary.
#[cfg(test)]
extern crate self as cliffwatch_core;

pub mod alerts;
pub mod classify;
pub mod clock;
pub mod dashboard;
pub mod db;
pub mod demo;
pub mod engine;
pub mod error;
pub mod forecast;
pub mod http;
pub mod logs;
pub mod model;
pub mod panic_hook;
pub mod paths;
pub mod poll;
pub mod providers;
pub mod redact;
pub mod secrets;
mod workspace;

pub use error::{Error, Result};
pub use workspace::{is_loopback, validate_base_url, Cliffwatch, NewAccount, SecretInput};
