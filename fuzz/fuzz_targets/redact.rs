//! The redactor: a key planted in any of the forms keys travel in (query parameters, paths,
//! headers, JSON fields, Bearer tokens, webhook URLs), inside text the fuzzer chooses, never
//! survives `redact_text`, `redact_url` or `redact_json`; and no input makes them panic.
#![no_main]
use cliffwatch_core::redact::{redact_json, redact_text, redact_url};
use libfuzzer_sys::fuzz_target;

/// Where a key can be: `{K}` is replaced by the key.
const FORMS: &[&str] = &[
    "https://api.scraperapi.com/?api_key={K}&url=x",
    "https://x.example/p?a=1;secretKey={K}",
    "https://x.example/cb#access_token={K}&state=1",
    "https://x.example/p?X-Amz-Signature={K}",
    "https://x.example/p?%61pi%5Fkey={K}",
    "https://api.telegram.org/bot123456:{K}/sendMessage",
    "https://hooks.slack.com/services/T0001/B0002/{K}",
    "https://discord.com/api/webhooks/123/{K}",
    "Authorization: Bearer {K}",
    "\"apiSecret\": \"{K}\"",
    "clientSecret={K}",
    "passwd: {K}",
    "https://user:{K}@x.example/",
];

fuzz_target!(|data: &[u8]| {
    let [form, kb @ .., ] = data else {
        return;
    };
    // A key: 24+ characters of the alphabet keys use, derived from the input.
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut key: String = kb
        .iter()
        .take(40)
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect();
    while key.len() < 24 {
        key.push('Q');
    }
    let text = String::from_utf8_lossy(kb);
    // The key must be findable only where it was planted: text that already holds it (the
    // fuzzer can write 40 z's around a key of 40 z's) proves nothing.
    if text.contains(&key) {
        return;
    }
    let planted = FORMS[usize::from(*form) % FORMS.len()].replace("{K}", &key);
    let cut = text
        .char_indices()
        .map(|(i, _)| i)
        .nth(usize::from(*form) % 7)
        .unwrap_or(text.len());
    let whole = format!("{} {planted} {}", &text[..cut], &text[cut..]);
    let out = redact_text(&whole);
    assert!(!out.contains(&key), "{planted:?} survived redact_text: {out:?}");
    if planted.starts_with("https://") {
        let u = redact_url(&planted);
        assert!(!u.contains(&key), "{planted:?} survived redact_url: {u:?}");
    }
    let mut v = serde_json::json!({ "message": whole, "nested": [{ "resource": planted }] });
    redact_json(&mut v);
    assert!(!v.to_string().contains(&key), "survived redact_json: {v}");
    // Arbitrary input: no panic.
    let _ = redact_url(&text);
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(kb) {
        redact_json(&mut v);
    }
});
