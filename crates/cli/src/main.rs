//! The `cliffwatch` binary; everything lives in the library so tests can reach it.

fn main() -> std::process::ExitCode {
    cliffwatch_core::panic_hook::install();
    cliffwatch_cli::main()
}
