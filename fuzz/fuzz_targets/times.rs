//! Every time parser (log text, epochs, CLF, Python's asctime prefix, JSON values): never a
//! panic, and every time they return is one the store writes and reads back exactly.
#![no_main]
use cliffwatch_core::clock::{from_db, storable, to_db};
use cliffwatch_core::logs::time;
use libfuzzer_sys::fuzz_target;

fn check(t: Option<chrono::DateTime<chrono::Utc>>) {
    if let Some(t) = t {
        assert!(storable(t), "{t} is outside what the store keeps");
        // The store keeps milliseconds (and a leap second as `:60`): what it writes reads
        // back to the same text.
        let written = to_db(t);
        let read = from_db(&written).expect("what the store writes reads back");
        assert_eq!(to_db(read), written);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() >= 8 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&data[..8]);
        check(time::parse_epoch(f64::from_le_bytes(b)));
        check(time::parse_epoch(u64::from_le_bytes(b) as f64));
    }
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    check(time::parse_text(s, chrono_tz::America::New_York));
    check(time::parse_clf(s));
    check(time::leading_asctime(s, chrono_tz::Europe::Berlin).map(|(t, end)| {
        assert!(s.is_char_boundary(end), "the prefix end is a character boundary");
        t
    }));
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(s) {
        check(time::parse_json(&v, chrono_tz::UTC));
    }
    check(time::parse_json(&serde_json::Value::String(s.to_owned()), chrono_tz::UTC));
});
