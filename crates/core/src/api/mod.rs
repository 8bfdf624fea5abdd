//! The front door: what every host — the window, the CLI, the HTTP API, the MCP server and
//! the proxy — calls, one file per area. A host's command is parse → one `api::` call →
//! show; what two hosts would otherwise compute each (a severity, an amount's text, a
//! setting's effect) is decided here once. Calls that change the store announce it
//! ([`crate::Cliffwatch::announce`]), so the running engine refreshes the hosts without their
//! having to remember to. No SQL here: that lives in [`crate::db`].

pub mod accounts;
pub mod agent;
pub mod channels;
pub mod export;
pub mod history;
pub mod logs;
pub(crate) mod memo;
pub mod metrics;
pub mod overview;
pub mod proxy;
pub mod settings;

#[cfg(test)]
mod test_support;
