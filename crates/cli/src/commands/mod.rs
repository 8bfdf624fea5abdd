//! One module per top-level command.

pub mod account;
pub mod providers;
pub mod status;
