//! One module per top-level command.

pub mod account;
pub mod alerts;
pub mod channel;
pub mod events;
pub mod export;
pub mod forecast;
pub mod import;
pub mod logs;
pub mod mcp;
pub mod poll;
pub mod providers;
pub mod proxy;
pub mod settings;
pub mod status;
pub mod usage;
pub mod watch;
