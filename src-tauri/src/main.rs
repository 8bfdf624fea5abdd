// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    cliffwatch_core::panic_hook::install();
    cliffwatch_desktop::run();
}
