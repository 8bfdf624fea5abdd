//! Helpers for the format tests: the real samples in `../shared/log-samples` (beside the repo,
//! never copied in) and our own 402 fixtures in `tests/fixtures/logs/`.

use super::*;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A real sample, by its path under `log-samples/`.
pub fn sample(rel: &str) -> PathBuf {
    repo_root().join("../shared/log-samples").join(rel)
}

/// One of our fixtures, by its path under `tests/fixtures/logs/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo_root().join("tests/fixtures/logs").join(rel)
}

pub fn fixed_time() -> DateTime<Utc> {
    use chrono::TimeZone;
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

pub fn counts(pairs: &[(u16, usize)]) -> BTreeMap<u16, usize> {
    pairs.iter().copied().collect()
}

pub fn sample_records(format: Format, rel: &str) -> Vec<Located> {
    let bytes = std::fs::read(sample(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let p = parser(format, &serde_json::Value::Null).unwrap();
    parse_bytes(
        p.as_ref(),
        &bytes,
        chrono_tz::UTC,
        &mut FileMemory::default(),
    )
}

/// Requests per status in a sample, and how many non-empty lines gave no request.
pub fn status_counts(format: Format, rel: &str) -> (BTreeMap<u16, usize>, usize) {
    let recs = sample_records(format, rel);
    let mut st = BTreeMap::new();
    for r in &recs {
        if let Record::Request(q) = &r.record {
            *st.entry(q.status).or_insert(0) += 1;
        }
    }
    let bytes = std::fs::read(sample(rel)).unwrap();
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.trim_ascii().is_empty())
        .count();
    let parsed: std::collections::HashSet<u64> = recs.iter().map(|r| r.offset).collect();
    (st, lines.saturating_sub(parsed.len()))
}

#[derive(Debug, Default)]
pub struct Totals {
    pub input: i64,
    pub output: i64,
    pub cache_creation: i64,
    pub cache_read: i64,
    pub reasoning: i64,
    pub logged_cost: f64,
}

/// Usage totals of a sample, deduplicated the way the store does (largest usage per key).
pub fn usage_totals_of(format: Format, rel: &str) -> Totals {
    let mut by_key: HashMap<String, Usage> = HashMap::new();
    for r in sample_records(format, rel) {
        if let Record::Usage(u) = r.record {
            let key = u
                .key
                .clone()
                .unwrap_or_else(|| format!("offset:{}", r.offset));
            by_key
                .entry(key)
                .and_modify(|e| {
                    e.input_tokens = e.input_tokens.max(u.input_tokens);
                    e.output_tokens = e.output_tokens.max(u.output_tokens);
                    e.cache_creation_tokens = e.cache_creation_tokens.max(u.cache_creation_tokens);
                    e.cache_read_tokens = e.cache_read_tokens.max(u.cache_read_tokens);
                    e.reasoning_tokens = e.reasoning_tokens.max(u.reasoning_tokens);
                })
                .or_insert(u);
        }
    }
    let mut t = Totals::default();
    for u in by_key.values() {
        t.input += u.input_tokens;
        t.output += u.output_tokens;
        t.cache_creation += u.cache_creation_tokens;
        t.cache_read += u.cache_read_tokens;
        t.reasoning += u.reasoning_tokens;
        t.logged_cost += u.logged_cost.unwrap_or(0.0);
    }
    t
}

pub fn events_of(p: &dyn LogFormat, bytes: &[u8]) -> Vec<CliffEvent> {
    parse_bytes(p, bytes, chrono_tz::UTC, &mut FileMemory::default())
        .into_iter()
        .filter_map(|l| match l.record {
            Record::Request(r) => request_event(&r, fixed_time()),
            Record::AgentError(e) => Some(agent_event(&e, fixed_time())),
            _ => None,
        })
        .collect()
}

pub fn sample_events(format: Format, rel: &str) -> Vec<CliffEvent> {
    let p = parser(format, &serde_json::Value::Null).unwrap();
    events_of(p.as_ref(), &std::fs::read(sample(rel)).unwrap())
}

/// The events of a fixture, checked against its `.expect` file: one `outcome status` per event,
/// in order (`-` for no status).
pub fn fixture_events_with(p: &dyn LogFormat, rel: &str) -> Vec<CliffEvent> {
    let bytes = std::fs::read(fixture(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let ev = events_of(p, &bytes);
    let expect = std::fs::read_to_string(fixture(&format!("{rel}.expect")))
        .unwrap_or_else(|e| panic!("{rel}.expect: {e}"));
    let want: Vec<String> = expect
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    let got: Vec<String> = ev
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e.outcome.as_str(),
                e.status.map_or("-".into(), |s| s.to_string())
            )
        })
        .collect();
    assert_eq!(got, want, "events of {rel} differ from {rel}.expect");
    ev
}

pub fn fixture_events(format: Format, rel: &str) -> Vec<CliffEvent> {
    let p = parser(format, &serde_json::Value::Null).unwrap();
    fixture_events_with(p.as_ref(), rel)
}

/// Every fixture has a plain 402 and a disguised one (out of credit under another status).
pub fn assert_fixture_outcomes(ev: &[CliffEvent]) {
    assert!(
        ev.iter()
            .any(|e| e.outcome == Outcome::OutOfCredit && e.status == Some(402)),
        "the fixture must hold a 402 classified out_of_credit: {ev:#?}"
    );
    assert!(
        ev.iter()
            .any(|e| e.outcome == Outcome::OutOfCredit && e.status != Some(402)),
        "the fixture must hold a disguised 402 (out_of_credit under another status): {ev:#?}"
    );
    for e in ev {
        if let Some(u) = &e.url {
            for secret in ["sk-", "SECRET", "fc-live"] {
                assert!(!u.contains(secret), "secrets in URLs are redacted: {u}");
            }
        }
    }
}
