//! Cliffwatch's behaviour, with no UI and no Tauri: accounts and their secrets, the SQLite store,
//! provider polling, log watching, forecasts and alerts. Every host — the desktop shell, the
//! `cliffwatch` CLI — is a thin adapter over the front door, [`api`], and the running
//! [`engine`]; none of them reaches into [`db`].
//!
//! Core talks outward only through small injected traits ([`clock::Clock`],
//! [`secrets::SecretStore`]) so that every rule can be tested without a display, a keychain or
//! a network.

// Lets `providers/adapter_testkit.rs` name this crate `cliffwatch_core` in the unit tests too:
// the integration tests in `tests/` include the same file, and there `crate` is the test binary.
#[cfg(test)]
extern crate self as cliffwatch_core;

pub mod alerts;
pub mod api;
pub mod classify;
pub mod clock;
pub mod db;
pub mod demo;
pub mod engine;
pub mod error;
pub mod events;
pub mod forecast;
pub mod format;
pub mod http;
pub mod listen;
pub mod logs;
pub mod model;
pub mod panic_hook;
pub mod paths;
pub mod payments;
pub mod poll;
pub mod providers;
pub mod proxy;
pub mod redact;
pub mod secrets;
pub mod urls;
mod workspace;

pub use api::accounts::{NewAccount, SecretInput};
pub use error::{Error, Result};
pub use urls::{is_loopback, validate_base_url};
pub use workspace::Cliffwatch;
