//! Which headers cross the proxy (RFC 9110 §7.6.1): the hop-by-hop ones — `Connection` and
//! every field it names, `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`,
//! `Transfer-Encoding`, `Upgrade`, the `Proxy-Authenticate`/`-Authorization` pair — stop here,
//! as does `Host` (the upstream's is set from its URL). Everything else, the client's own
//! credentials included, passes unchanged; none of it is stored or printed (the recorder reads
//! the response's headers and keeps only what the classifier extracts, redacted).

use axum::http::{header, HeaderMap, HeaderName};

/// Always hop-by-hop, whatever `Connection` says.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-authenticate",
    "proxy-authorization",
];

/// The field names a message's `Connection` header lists (lower-cased, deduplicated), at most
/// 64 of them: each is hop-by-hop for that message.
pub fn connection_tokens(headers: &HeaderMap) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for v in headers.get_all(header::CONNECTION) {
        let Ok(v) = v.to_str() else { continue };
        for t in v.split(',') {
            let t = t.trim().to_ascii_lowercase();
            if !t.is_empty() && !out.contains(&t) && out.len() < 64 {
                out.push(t);
            }
        }
    }
    out
}

/// Whether a field stops at this hop.
pub fn is_hop_by_hop(name: &HeaderName, named: &[String]) -> bool {
    let n = name.as_str();
    HOP_BY_HOP.contains(&n) || named.iter().any(|t| t == n)
}

/// The headers to pass on: hop-by-hop fields and `Host` removed (and, for a request,
/// `Expect`: this hop answers `100-continue` itself). A message that came chunked loses its
/// `Content-Length` too (RFC 9112 §6.3: `Transfer-Encoding` wins): the length was not the
/// body's, and passed on it would cut the body short or stall it.
pub fn forwarded(headers: &HeaderMap, request: bool) -> HeaderMap {
    let named = connection_tokens(headers);
    let chunked = headers.contains_key(header::TRANSFER_ENCODING);
    let mut out = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        if is_hop_by_hop(name, &named)
            || (request && (name == header::HOST || name == header::EXPECT))
            || (chunked && name == header::CONTENT_LENGTH)
        {
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

/// Headers as text pairs for the classifier (values that are not text are left out).
pub fn pairs(headers: &HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn a_chunked_message_loses_its_content_length() {
        let mut h = HeaderMap::new();
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("5"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        for request in [false, true] {
            let out = forwarded(&h, request);
            assert!(!out.contains_key(header::CONTENT_LENGTH), "{out:?}");
            assert!(!out.contains_key(header::TRANSFER_ENCODING));
            assert!(out.contains_key(header::CONTENT_TYPE));
        }
        h.remove(header::TRANSFER_ENCODING);
        assert!(
            forwarded(&h, false).contains_key(header::CONTENT_LENGTH),
            "a plain length stays"
        );
    }

    #[test]
    fn hop_by_hop_fields_and_those_connection_names_stop_here() {
        let mut h = HeaderMap::new();
        h.insert(
            header::CONNECTION,
            HeaderValue::from_static("keep-alive, X-Trace"),
        );
        h.insert("x-trace", HeaderValue::from_static("1"));
        h.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        h.insert(
            header::TRANSFER_ENCODING,
            HeaderValue::from_static("chunked"),
        );
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8402"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer sk-x"),
        );
        h.insert(header::CONTENT_LENGTH, HeaderValue::from_static("12"));
        h.insert(header::EXPECT, HeaderValue::from_static("100-continue"));
        let f = forwarded(&h, true);
        let names: Vec<&str> = f.keys().map(|k| k.as_str()).collect();
        assert_eq!(
            names,
            ["authorization"],
            "the client's own credentials pass; hop-by-hop, Host and Expect do not (nor a \
             length beside Transfer-Encoding)"
        );
        let f = forwarded(&h, false);
        assert!(
            f.contains_key(header::HOST),
            "a response's fields other than hop-by-hop pass"
        );
    }
}
