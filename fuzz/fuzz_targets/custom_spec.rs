//! The custom provider spec (JSON the user writes) and the JSON-lines log mapping: never a
//! panic; a spec that is accepted holds no key in its headers, body or URL.
#![no_main]
use cliffwatch_core::logs::JsonlMapping;
use cliffwatch_core::providers::custom::Spec;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    if Spec::from_options(&v).is_ok() {
        let text = v.to_string();
        assert!(
            !text.to_ascii_lowercase().contains("bearer sk-"),
            "an accepted spec carries a key: {text}"
        );
    }
    let _ = JsonlMapping::from_options(&v);
    let _ = cliffwatch_core::providers::adapter("custom").map(|a| a.validate_options(&v));
});
