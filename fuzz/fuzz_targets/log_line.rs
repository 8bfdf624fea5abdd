//! One line of each of the eight log formats (the first byte picks the format): parsing never
//! panics, and every record it yields is one the store can keep (sane times, bounded counts).
#![no_main]
use cliffwatch_core::logs::{self, FileMemory, Format, Located, ParseCx, Record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, line)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(pick) % Format::ALL.len()];
    let Ok(parser) = logs::parser(format, &serde_json::Value::Null) else {
        return;
    };
    let _ = parser.sniff(line);
    let mut memory = FileMemory::default();
    let mut out: Vec<Located> = Vec::new();
    let mut cx = ParseCx {
        zone: chrono_tz::Europe::Berlin,
        memory: &mut memory,
    };
    parser.parse_line(line, 0, &mut cx, &mut out);
    parser.parse_line(line, line.len() as u64 + 1, &mut cx, &mut out);
    let fallback = chrono::DateTime::from_timestamp(1_764_000_000, 0).expect("a fixed time");
    for l in &out {
        match &l.record {
            Record::Request(r) => {
                if let Some(e) = logs::request_event(r, fallback) {
                    assert!(
                        cliffwatch_core::clock::storable(e.occurred_at),
                        "an event time the store cannot read back: {}",
                        e.occurred_at
                    );
                }
            }
            Record::AgentError(a) => {
                let e = logs::agent_event(a, fallback);
                assert!(cliffwatch_core::clock::storable(e.occurred_at));
            }
            Record::Usage(u) => {
                if let Some(t) = u.time {
                    assert!(cliffwatch_core::clock::storable(t), "usage time {t}");
                }
            }
            _ => {}
        }
    }
});
