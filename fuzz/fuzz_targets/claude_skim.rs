//! The Claude Code skim against serde_json: wherever the skim answers, serde_json reads the line
//! too and finds the same usage (the skim may give up and leave a line to serde_json, never
//! read one differently).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cliffwatch_core::logs::check_claude_skim(data);
});
