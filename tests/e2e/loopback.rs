//! A balance endpoint on 127.0.0.1 that a `custom` account polls: it answers every request
//! with whatever status and JSON body the test sets, so a test can drain it or make it say
//! "out of credit".

use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

#[derive(Clone)]
pub struct Loopback {
    answer: Arc<Mutex<(u16, String)>>,
    /// The Authorization header of the latest request.
    auth: Arc<Mutex<Option<String>>>,
    pub port: u16,
}

impl Loopback {
    pub async fn start(port: u16, status: u16, body: &str) -> Self {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind loopback");
        let answer = Arc::new(Mutex::new((status, body.to_owned())));
        let auth = Arc::new(Mutex::new(None));
        let shared = answer.clone();
        let seen = auth.clone();
        tokio::spawn(async move {
            while let Ok((mut sock, _)) = listener.accept().await {
                let shared = shared.clone();
                let seen = seen.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut got = 0;
                    // Headers only: the custom spec's GET has no body.
                    while got < buf.len() {
                        match sock.read(&mut buf[got..]).await {
                            Ok(0) | Err(_) => break,
                            Ok(n) => got += n,
                        }
                        if buf[..got].windows(4).any(|w| w == b"\r\n\r\n") {
                            break;
                        }
                    }
                    let head = String::from_utf8_lossy(&buf[..got]).into_owned();
                    if let Some(v) = head.lines().find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("authorization")
                            .then(|| v.trim().to_owned())
                    }) {
                        *seen.lock().unwrap() = Some(v);
                    }
                    let (status, body) = shared.lock().unwrap().clone();
                    let reply = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = sock.write_all(reply.as_bytes()).await;
                    let _ = sock.shutdown().await;
                });
            }
        });
        Loopback { answer, auth, port }
    }

    /// The Authorization header the latest request carried.
    pub fn last_auth(&self) -> Option<String> {
        self.auth.lock().unwrap().clone()
    }

    pub fn set(&self, status: u16, body: &str) {
        *self.answer.lock().unwrap() = (status, body.to_owned());
    }
}
