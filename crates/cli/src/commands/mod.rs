//! One module per top-level command.

pub mod account;
pub mod events;
pub mod logs;
pub mod providers;
pub mod status;
pub mod usage;
