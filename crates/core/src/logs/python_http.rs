//! Python HTTP client debug logs: urllib3's connection pool
//! (`https://host:443 "POST /p HTTP/1.1" 402 123`, behind `requests`) and httpx
//! (`HTTP Request: POST https://host/p "HTTP/1.1 402 Payment Required"`), with or without
//! Python logging's leading `asctime`.

use super::{Format, Located, LogFormat, ParseCx, Record, Request};

#[derive(Debug)]
pub struct PythonHttp;

fn parse_urllib3(s: &str) -> Option<Request> {
    // `…connectionpool:https://api.x.com:443 "POST /v1/x HTTP/1.1" 402 123`
    let q = s.find(" \"")?;
    let before = &s[..q];
    let scheme_at = before
        .rfind("http://")
        .or_else(|| before.rfind("https://"))?;
    let origin = before[scheme_at..].trim();
    let rest = &s[q + 2..];
    let qend = rest.find('"')?;
    let mut req = rest[..qend].split(' ');
    let method = req.next()?;
    let path = req.next()?;
    let proto = req.next()?;
    if !proto.starts_with("HTTP/") || !method.bytes().all(|b| b.is_ascii_uppercase()) {
        return None;
    }
    let status: u16 = rest[qend + 1..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()?;
    let origin = origin
        .strip_suffix(":443")
        .filter(|_| origin.starts_with("https://"))
        .unwrap_or(origin);
    let origin = origin
        .strip_suffix(":80")
        .filter(|_| origin.starts_with("http://"))
        .unwrap_or(origin);
    Some(Request {
        status,
        method: Some(method.to_owned()),
        url: Some(format!("{origin}{path}")),
        ..Default::default()
    })
}

fn parse_httpx(s: &str) -> Option<Request> {
    let at = s.find("HTTP Request: ")?;
    let rest = &s[at + 14..];
    let (method, rest) = rest.split_once(' ')?;
    let (url, rest) = rest.split_once(" \"")?;
    let mut st = rest.split(' ');
    if !st.next()?.starts_with("HTTP/") {
        return None;
    }
    let status: u16 = st.next()?.trim_end_matches('"').parse().ok()?;
    Some(Request {
        status,
        method: Some(method.to_owned()),
        url: Some(url.to_owned()),
        ..Default::default()
    })
}

impl LogFormat for PythonHttp {
    fn format(&self) -> Format {
        Format::PythonHttp
    }

    fn sniff(&self, line: &[u8]) -> bool {
        let s = String::from_utf8_lossy(line);
        (s.contains("urllib3") || s.contains("HTTP Request: "))
            && (parse_urllib3(&s).is_some() || parse_httpx(&s).is_some())
            || s.contains("urllib3.connectionpool") && s.contains("Starting new HTTP")
    }

    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        let mut n = vec![b"\" 4".to_vec(), b"\" 5".to_vec()];
        for v in ["1.1", "1.0", "/2", "/3"] {
            for d in ["4", "5"] {
                n.push(
                    format!("HTTP{}{v} {d}", if v.starts_with('/') { "" } else { "/" })
                        .into_bytes(),
                );
            }
        }
        Some(n)
    }

    fn parse_line(&self, line: &[u8], offset: u64, cx: &mut ParseCx<'_>, out: &mut Vec<Located>) {
        let s = String::from_utf8_lossy(line);
        let Some(mut req) = parse_httpx(&s).or_else(|| parse_urllib3(&s)) else {
            return;
        };
        req.time = super::time::leading_asctime(&s, cx.zone).map(|(t, _)| t);
        out.push(Located {
            offset,
            record: Record::Request(req),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urllib3_line() {
        let r = parse_urllib3(r#"DEBUG:urllib3.connectionpool:https://api.scraperapi.com:443 "GET /?api_key=k&url=x HTTP/1.1" 402 51"#).unwrap();
        assert_eq!(r.status, 402);
        assert_eq!(
            r.url.as_deref(),
            Some("https://api.scraperapi.com/?api_key=k&url=x"),
            "default port dropped"
        );
    }

    #[test]
    fn httpx_line() {
        let r = parse_httpx(r#"INFO:httpx:HTTP Request: POST https://api.openai.com/v1/chat/completions "HTTP/1.1 429 Too Many Requests""#).unwrap();
        assert_eq!((r.status, r.method.as_deref()), (429, Some("POST")));
    }

    #[test]
    fn fixtures_402_and_disguised() {
        let ev =
            crate::logs::test_support::fixture_events(Format::PythonHttp, "python-http/client.log");
        crate::logs::test_support::assert_fixture_outcomes(&ev);
    }
}
