//! What a log line becomes in the store: the events of any line of any format are written to a
//! real (in-memory) SQLite database and the 402 history read back whole: nothing written fails
//! to read, and every event written is listed once.
#![no_main]
use cliffwatch_core::db;
use cliffwatch_core::logs::{self, FileMemory, Format, ParseCx, Record};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

struct Store {
    rt: tokio::runtime::Runtime,
    pool: sqlx::SqlitePool,
}

fn store() -> &'static Store {
    static S: OnceLock<Store> = OnceLock::new();
    S.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let pool = rt.block_on(db::open_in_memory()).expect("an in-memory store");
        Store { rt, pool }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, bytes)) = data.split_first() else {
        return;
    };
    let format = Format::ALL[usize::from(pick) % Format::ALL.len()];
    let Ok(parser) = logs::parser(format, &serde_json::Value::Null) else {
        return;
    };
    let mut memory = FileMemory::default();
    let mut out = Vec::new();
    let mut cx = ParseCx {
        zone: chrono_tz::UTC,
        memory: &mut memory,
    };
    if parser.is_document() {
        parser.parse_document(bytes, &mut cx, &mut out);
    } else {
        for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
            parser.parse_line(line, i as u64, &mut cx, &mut out);
        }
    }
    let fallback = chrono::DateTime::from_timestamp(1_764_000_000, 0).expect("a fixed time");
    let events: Vec<_> = out
        .iter()
        .filter_map(|l| match &l.record {
            Record::Request(r) => logs::request_event(r, fallback),
            Record::AgentError(a) => Some(logs::agent_event(a, fallback)),
            _ => None,
        })
        .collect();
    if events.is_empty() {
        return;
    }
    let s = store();
    s.rt.block_on(async {
        let mut written = 0;
        for e in &events {
            if let Ok(Some(_)) = db::cliff_events::insert(&s.pool, e).await {
                written += 1;
            }
        }
        let listed = db::cliff_events::list(&s.pool, &Default::default())
            .await
            .expect("the 402 history reads back whole");
        assert_eq!(listed.len(), written, "every event written is listed once");
        sqlx::query("DELETE FROM cliff_events")
            .execute(&s.pool)
            .await
            .expect("cleared");
    });
});
