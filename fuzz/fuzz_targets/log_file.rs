//! A whole file of each format as a scan reads it (the prefilter included): never a panic, and
//! reading it in two pieces split at a line break (a file that grew between two scans, with the
//! parser's memory carried over as the store carries it) gives exactly the records of one read.
#![no_main]
use cliffwatch_core::logs::{self, FileMemory, Format, Located};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [pick, cut, bytes @ ..] = data else {
        return;
    };
    let format = Format::ALL[usize::from(*pick) % Format::ALL.len()];
    let Ok(parser) = logs::parser(format, &serde_json::Value::Null) else {
        return;
    };
    let zone = chrono_tz::UTC;
    let mut memory = FileMemory::default();
    let whole = logs::parse_bytes_as_scanned(parser.as_ref(), bytes, zone, &mut memory);
    if parser.is_document() || bytes.is_empty() {
        return;
    }
    // A split after a newline, as a scan stops at the last complete line.
    let at = usize::from(*cut) * bytes.len() / 256;
    let Some(k) = bytes[..at].iter().rposition(|b| *b == b'\n').map(|i| i + 1) else {
        return;
    };
    let mut memory = FileMemory::default();
    let mut pieces = logs::parse_bytes_as_scanned(parser.as_ref(), &bytes[..k], zone, &mut memory);
    // The store keeps the memory as JSON between scans: round-trip it the same way.
    let kept = serde_json::to_string(&memory).expect("memory serialises");
    let mut memory: FileMemory = serde_json::from_str(&kept).expect("memory reads back");
    let rest = logs::parse_bytes_as_scanned(parser.as_ref(), &bytes[k..], zone, &mut memory);
    pieces.extend(rest.into_iter().map(|l| Located {
        offset: l.offset + k as u64,
        record: l.record,
    }));
    assert_eq!(pieces, whole, "two reads of a grown file must equal one read");
});
