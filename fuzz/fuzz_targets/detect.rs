//! Format detection on a file's first bytes, and every format's sniffer on each line: never a
//! panic, and a detected format's parser accepts the same bytes.
#![no_main]
use cliffwatch_core::logs::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some(f) = logs::detect_format_bytes(data) {
        assert!(logs::parser(f, &serde_json::Value::Null).is_ok());
    }
    for f in Format::ALL {
        let Ok(p) = logs::parser(f, &serde_json::Value::Null) else {
            continue;
        };
        for line in data.split(|b| *b == b'\n').take(8) {
            let _ = p.sniff(line);
        }
    }
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Format::parse(s);
    }
});
