//! Caddy's JSON access log (`"logger":"http.log.access…"`, `"msg":"handled request"`),
//! also as `docker compose logs` prints it (`caddy  | {…}`). Runtime log lines in the same
//! stream are skipped.

use super::{Format, Located, LogFormat, ParseCx, Record, Request};
use serde::Deserialize;

#[derive(Debug)]
pub struct Caddy;

#[derive(Deserialize)]
struct Entry {
    logger: Option<String>,
    ts: Option<serde_json::Value>,
    status: Option<u16>,
    request: Option<Req>,
    #[serde(default)]
    resp_headers: serde_json::Value,
}

#[derive(Deserialize)]
struct Req {
    method: Option<String>,
    host: Option<String>,
    uri: Option<String>,
    proto: Option<String>,
    tls: Option<serde_json::Value>,
    #[serde(default)]
    headers: serde_json::Value,
}

/// The JSON object of a line, past a `docker compose logs` prefix (`name  | `).
pub fn json_part(line: &[u8]) -> &[u8] {
    match memchr::memchr(b'{', line) {
        Some(i) if i == 0 || line[..i].ends_with(b"| ") => &line[i..],
        _ => line,
    }
}

impl LogFormat for Caddy {
    fn format(&self) -> Format {
        Format::Caddy
    }

    fn sniff(&self, line: &[u8]) -> bool {
        let j = json_part(line);
        j.starts_with(b"{")
            && memchr::memmem::find(j, b"\"ts\":").is_some()
            && memchr::memmem::find(j, b"\"level\":").is_some()
    }

    /// Failed requests, and successful ones that carry a payment receipt (Caddy writes header
    /// names in Go's canonical case).
    fn needles(&self) -> Option<Vec<Vec<u8>>> {
        Some(vec![
            b"\"status\":4".to_vec(),
            b"\"status\":5".to_vec(),
            b"\"Payment-Response\"".to_vec(),
            b"\"X-Payment-Response\"".to_vec(),
            b"\"Payment-Receipt\"".to_vec(),
            b"\"Crawler-Charged\"".to_vec(),
        ])
    }

    fn parse_line(&self, line: &[u8], offset: u64, cx: &mut ParseCx<'_>, out: &mut Vec<Located>) {
        let Ok(e) = serde_json::from_slice::<Entry>(json_part(line)) else {
            return;
        };
        if !e
            .logger
            .as_deref()
            .is_some_and(|l| l.starts_with("http.log.access"))
        {
            return;
        }
        let (Some(status), Some(req)) = (e.status, e.request) else {
            return;
        };
        let host = req.host.as_deref().map(|h| {
            let h = h
                .rsplit_once(':')
                .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                .map_or(h, |(h, _)| h);
            h.to_ascii_lowercase()
        });
        let scheme = if req.tls.is_some() || req.proto.as_deref() == Some("HTTP/2.0") {
            "https"
        } else {
            "http"
        };
        let url = match (&host, &req.uri) {
            (Some(h), Some(u)) => Some(format!("{scheme}://{h}{u}")),
            (None, Some(u)) => Some(u.clone()),
            _ => None,
        };
        let headers = super::header_list(&e.resp_headers);
        let request_headers = super::header_list(&req.headers);
        out.push(Located {
            offset,
            record: Record::Request(Request {
                time: e
                    .ts
                    .as_ref()
                    .and_then(|t| super::time::parse_json(t, cx.zone)),
                status,
                method: req.method,
                url,
                host,
                headers,
                request_headers,
                ..Default::default()
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::test_support::*;

    #[test]
    fn docker_prefixed_log_keeps_only_access_entries() {
        let (st, _) = status_counts(Format::Caddy, "caddy/lnav__logfile_caddy_log.0");
        assert_eq!(
            st,
            counts(&[(304, 3), (200, 1)]),
            "SOURCES.md: 4 http.log.access entries among runtime logs"
        );
    }

    #[test]
    fn raw_access_log() {
        let (st, _) = status_counts(Format::Caddy, "caddy/lnav__logfile_caddy_log.1");
        assert_eq!(st, counts(&[(200, 4)]), "SOURCES.md: 200×4");
    }

    #[test]
    fn fixtures_402_and_disguised() {
        let ev = fixture_events(Format::Caddy, "caddy/access.log");
        assert_fixture_outcomes(&ev);
    }
}
