//! The balance CSV importer's parser: never a panic; every row it accepts has a time the store
//! keeps and a finite amount, oldest first, one per time.
#![no_main]
use cliffwatch_core::clock::storable;
use cliffwatch_core::forecast::parse_balances_csv;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(rows) = parse_balances_csv(data) else {
        return;
    };
    for w in rows.windows(2) {
        assert!(w[0].0 < w[1].0, "sorted and deduplicated");
    }
    for (t, v) in rows {
        assert!(storable(t) && v.is_finite(), "{t} {v}");
    }
});
