//! The proxy's usage reader on any body, framing, coding and chunking: it never panics, every
//! count is within what the store keeps, a stated cost is a finite non-negative amount, and for
//! an uncompressed body the chunking never changes what is read.
#![no_main]
use cliffwatch_core::proxy::usage::{Coding, Framing, UsageReader};
use libfuzzer_sys::fuzz_target;

fn read(framing: Framing, coding: Coding, body: &[u8], chunk: usize) -> Option<cliffwatch_core::proxy::usage::Found> {
    let mut r = UsageReader::new(framing, coding);
    for c in body.chunks(chunk.max(1)) {
        r.feed(c);
    }
    r.finish()
}

fuzz_target!(|data: &[u8]| {
    let [flags, chunk, body @ ..] = data else {
        return;
    };
    let framing = if flags & 1 == 0 { Framing::Json } else { Framing::EventStream };
    let coding = match (flags >> 1) % 3 {
        0 => Coding::Identity,
        1 => Coding::Gzip,
        _ => Coding::Deflate,
    };
    let found = read(framing, coding, body, *chunk as usize);
    if let Some(f) = &found {
        for n in [f.input_tokens, f.output_tokens, f.cache_creation_tokens, f.cache_read_tokens, f.reasoning_tokens] {
            assert!((0..=1_000_000_000_000).contains(&n), "a count the store keeps: {n}");
        }
        if let Some(c) = f.cost {
            assert!(c.is_finite() && c >= 0.0, "a cost: {c}");
        }
        for s in [&f.id, &f.model].into_iter().flatten() {
            assert!(s.chars().count() <= 200 && !s.chars().any(char::is_control));
        }
    }
    if coding == Coding::Identity {
        assert_eq!(found, read(framing, coding, body, body.len().max(1)), "chunking changes nothing");
    }
});
