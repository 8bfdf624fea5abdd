//! Headless integration tests: the real `cliffwatch` binary against temporary data
//! directories, and core flows end to end. One test binary (compiled as crates/cli's test so
//! `CARGO_BIN_EXE_cliffwatch` is the real binary); nothing here links Tauri.

mod cli_accounts;
mod cli_channels;
mod cli_errors;
mod cli_export;
mod cli_payments;
mod cli_settings;
mod disk_full;
mod faults_kill9;
mod listen_api;
mod log_file_errors;
mod loopback_provider;
mod mcp_python;
mod planted_secret;
mod poll_all_providers;
mod prometheus_alertmanager;
mod proxy_clients;
mod support;
mod terminal_escapes;
mod watch_demo;
