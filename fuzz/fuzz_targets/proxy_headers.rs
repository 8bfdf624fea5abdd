//! The proxy's header filter (RFC 9110 §7.6.1) on any header block: no hop-by-hop field, none
//! that `Connection` names, and no `Host` is ever forwarded, and every other field passes with
//! its value unchanged and in order.
#![no_main]
use cliffwatch_core::proxy::headers::{connection_tokens, forwarded};
use http::{HeaderMap, HeaderName, HeaderValue};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flag, rest)) = data.split_first() else {
        return;
    };
    let request = flag & 1 == 1;
    let mut map = HeaderMap::new();
    for line in rest.split(|b| *b == b'\n') {
        let Some(i) = line.iter().position(|b| *b == b':') else {
            continue;
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(line.get(..i).unwrap_or_default()),
            HeaderValue::from_bytes(line.get(i + 1..).unwrap_or_default()),
        ) else {
            continue;
        };
        map.append(name, value);
    }
    let named = connection_tokens(&map);
    assert!(named.len() <= 64, "Connection's list is bounded");
    let out = forwarded(&map, request);
    const HOP: [&str; 9] = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding",
        "upgrade", "proxy-authenticate", "proxy-authorization",
    ];
    for name in out.keys() {
        let n = name.as_str();
        assert!(!HOP.contains(&n), "{n} is hop-by-hop");
        assert!(!named.iter().any(|t| t == n), "{n} is named by Connection");
        if request {
            assert!(n != "host" && n != "expect", "{n} is this hop's");
        }
    }
    for name in map.keys() {
        let n = name.as_str();
        let dropped = HOP.contains(&n)
            || named.iter().any(|t| t == n)
            || (request && (n == "host" || n == "expect"));
        if !dropped {
            let a: Vec<_> = map.get_all(name).iter().collect();
            let b: Vec<_> = out.get_all(name).iter().collect();
            assert_eq!(a, b, "{n} passes unchanged");
        }
    }
});
