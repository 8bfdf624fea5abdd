//! A DeepSeek-shaped balance endpoint on loopback, in the test process, for the fault tests
//! (`faults_kill9`, `disk_full`): plain `std::net`, one thread per connection, `Connection:
//! close`. It remembers every balance it sent, so a test can check that each stored reading is
//! one the provider really gave.
//!
//! Accounts point at it through their base URL's path: `/ok/user/balance` answers 200 with
//! a balance that falls by 0.25 USD per request (each answer a different number, so a reading
//! stored twice shows up as a duplicate), `/dry/user/balance` answers DeepSeek's 402, and
//! `/empty/user/balance` answers 200 with nothing left (0.00 USD; the request itself succeeds,
//! as a provider that reports a spent balance without refusing the balance check does).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the provider has answered so far.
#[derive(Debug, Default, Clone)]
pub struct Served {
    /// Every balance sent by `/ok`, in order.
    pub balances: Vec<f64>,
    /// How many 402s `/dry` sent.
    pub dry: usize,
    /// How many zero balances `/empty` sent.
    pub empty: usize,
}

#[derive(Debug)]
pub struct Provider {
    port: u16,
    served: Arc<Mutex<Served>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Provider {
    pub fn start() -> Provider {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let served = Arc::new(Mutex::new(Served::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (served.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::Acquire) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                std::thread::spawn(move || answer(conn, &s));
            }
        });
        Provider {
            port,
            served,
            stop,
            thread: Some(thread),
        }
    }

    /// The base URL of the account that reads balances.
    pub fn ok_url(&self) -> String {
        format!("http://127.0.0.1:{}/ok", self.port)
    }

    /// The base URL of the account that is out of credit.
    pub fn dry_url(&self) -> String {
        format!("http://127.0.0.1:{}/dry", self.port)
    }

    /// The base URL of the account whose balance reads zero.
    pub fn empty_url(&self) -> String {
        format!("http://127.0.0.1:{}/empty", self.port)
    }

    pub fn served(&self) -> Served {
        self.served.lock().unwrap().clone()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        // Wakes the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn answer(mut conn: TcpStream, served: &Mutex<Served>) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 << 10 {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    let head = String::from_utf8_lossy(&head);
    let path = head.split_whitespace().nth(1).unwrap_or("");
    let (status, body) = match path {
        "/ok/user/balance" => {
            let mut s = served.lock().unwrap();
            let total = 10_000.0 - 0.25 * s.balances.len() as f64;
            s.balances.push(total);
            (
                "200 OK",
                format!(
                    r#"{{"is_available":true,"balance_infos":[{{"currency":"USD","total_balance":"{total:.2}","granted_balance":"0.00","topped_up_balance":"{total:.2}"}}]}}"#
                ),
            )
        }
        "/empty/user/balance" => {
            served.lock().unwrap().empty += 1;
            (
                "200 OK",
                r#"{"is_available":true,"balance_infos":[{"currency":"USD","total_balance":"0.00","granted_balance":"0.00","topped_up_balance":"0.00"}]}"#.to_owned(),
            )
        }
        "/dry/user/balance" => {
            served.lock().unwrap().dry += 1;
            (
                "402 Payment Required",
                r#"{"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"}}"#.to_owned(),
            )
        }
        _ => ("404 Not Found", r#"{"error":"no such path"}"#.to_owned()),
    };
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}
