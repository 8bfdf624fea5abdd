//! The recording proxy beside the reverse proxy a user would otherwise put there (issue 16):
//! the same loopback upstream (`cliffwatch_bench::wire`) reached directly, through
//! `cliffwatch proxy`, and through Debian's nginx as a plain `proxy_pass` (and with upstream
//! keep-alive, nginx's usual tuning), measured in one run on this machine:
//!
//! - added latency: p50/p99 of a fixed request rate (open loop: a late request is timed from
//!   when it was due, so a stall is not hidden), minus the direct figures;
//! - the most requests a second (wrk, keep-alive) for a small pass-through answer, and for a
//!   chat completion whose usage Cliffwatch records;
//! - RSS of the proxy while 1 GiB streams through it (sampled every 50 ms).
//!
//! `proxy_bench [--cliffwatch PATH] [--seconds N] [--rate R]`; needs `nginx` and `wrk`
//! (scripts/setup installs both).

use cliffwatch_bench::wire::Upstream;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args();
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
    }
    None
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn wait_port(port: u16) {
    let until = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < until, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Stops a child on drop: SIGTERM (nginx's master then stops its workers), and waits.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.0.id().to_string())
            .stderr(Stdio::null())
            .status();
        let _ = self.0.wait();
    }
}

/// nginx with its own prefix and config: `keepalive` adds an upstream connection pool.
fn nginx(dir: &Path, port: u16, upstream: u16, keepalive: bool) -> Killed {
    let (pool, proxy_opts) = if keepalive {
        (
            format!("upstream wire {{ server 127.0.0.1:{upstream}; keepalive 64; }}"),
            "proxy_http_version 1.1; proxy_set_header Connection \"\";",
        )
    } else {
        (
            format!("upstream wire {{ server 127.0.0.1:{upstream}; }}"),
            "",
        )
    };
    std::fs::create_dir_all(dir.join("logs")).unwrap();
    let conf = format!(
        "worker_processes auto; daemon off; pid {dir}/nginx.pid; error_log {dir}/logs/error.log;\n\
         events {{ worker_connections 1024; }}\n\
         http {{ access_log off; client_body_temp_path {dir}/body; proxy_temp_path {dir}/proxy;\n\
           {pool}\n\
           server {{ listen 127.0.0.1:{port}; location /a/router/ {{ proxy_pass http://wire/; {proxy_opts} }} }} }}\n",
        dir = dir.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    let child = Command::new("nginx")
        .arg("-c")
        .arg(&path)
        .arg("-p")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nginx (scripts/setup installs it)");
    wait_port(port);
    Killed(child)
}

fn cliffwatch_proxy(bin: &Path, data: &Path, port: u16, upstream: &str) -> Killed {
    let out = Command::new(bin)
        .args(["--data-dir"])
        .arg(data)
        .env("CW_BENCH_KEY", "sk-bench-not-a-real-key-0000")
        .args([
            "account",
            "add",
            "--provider",
            "openrouter",
            "--label",
            "router",
        ])
        .args(["--base-url", upstream, "--secret-env", "CW_BENCH_KEY"])
        .output()
        .expect("the cliffwatch binary");
    assert!(
        out.status.success() || String::from_utf8_lossy(&out.stderr).contains("exists"),
        "account add: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let child = Command::new(bin)
        .args(["--json", "--data-dir"])
        .arg(data)
        .args(["proxy", "--listen", &format!("127.0.0.1:{port}")])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_port(port);
    Killed(child)
}

/// One keep-alive HTTP/1.1 exchange; returns when the whole body is read.
fn exchange(conn: &mut BufReader<TcpStream>, request: &[u8]) -> std::io::Result<()> {
    conn.get_mut().write_all(request)?;
    let mut len = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if conn.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((n, v)) = l.split_once(':') {
            if n.eq_ignore_ascii_case("content-length") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; len];
    conn.read_exact(&mut body)
}

/// Latencies (µs) of `rate` requests a second for `secs` over 4 connections, open loop.
fn fixed_rate(port: u16, path: &str, rate: u32, secs: u64) -> Vec<f64> {
    let conns = 4u32;
    let per = rate / conns;
    let start = Instant::now() + Duration::from_millis(200);
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            let path = path.to_owned();
            std::thread::spawn(move || {
                let req = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n");
                let mut conn = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
                conn.get_ref().set_nodelay(true).unwrap();
                let gap = Duration::from_secs_f64(1.0 / f64::from(per));
                let offset = gap.mul_f64(f64::from(c) / f64::from(conns));
                let mut out = Vec::new();
                for i in 0..(u64::from(per) * secs) {
                    let due = start + offset + gap.mul_f64(i as f64);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                    // nginx closes a keep-alive connection after 1000 requests (its
                    // `keepalive_requests`): a client reconnects, and the time it takes counts.
                    if exchange(&mut conn, req.as_bytes()).is_err() {
                        conn = BufReader::new(TcpStream::connect(("127.0.0.1", port)).unwrap());
                        conn.get_ref().set_nodelay(true).unwrap();
                        exchange(&mut conn, req.as_bytes()).expect("an answer");
                    }
                    out.push(due.elapsed().as_secs_f64() * 1e6);
                }
                out
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// wrk's requests a second (2 threads, 32 connections).
fn wrk(url: &str, secs: u64, script: Option<&Path>) -> f64 {
    let mut c = Command::new("wrk");
    c.args(["-t2", "-c32", &format!("-d{secs}s")]);
    if let Some(s) = script {
        c.arg("-s").arg(s);
    }
    let out = c
        .arg(url)
        .output()
        .expect("wrk (scripts/setup installs it)");
    let text = String::from_utf8_lossy(&out.stdout);
    if text.contains("Non-2xx") {
        eprintln!("wrk saw non-2xx answers for {url}:\n{text}");
    }
    text.lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Resident memory of these processes together, MiB.
fn rss_mib(pids: &[u32]) -> f64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/status")).ok())
        .filter_map(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .sum::<f64>()
        / 1024.0
}

/// nginx's master and workers.
fn tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    if let Ok(s) = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")) {
        out.extend(s.split_whitespace().filter_map(|p| p.parse::<u32>().ok()));
    }
    out
}

/// Streams `bytes` through `port` and samples the RSS of `pids`: (before, peak, after) MiB and
/// the rate in MiB/s.
fn stream_rss(port: u16, bytes: u64, pids: &[u32]) -> (f64, f64, f64, f64) {
    let before = rss_mib(pids);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (s, p) = (stop.clone(), pids.to_vec());
    let sampler = std::thread::spawn(move || {
        let mut peak: f64 = 0.0;
        while !s.load(std::sync::atomic::Ordering::Relaxed) {
            peak = peak.max(rss_mib(&p));
            std::thread::sleep(Duration::from_millis(50));
        }
        peak
    });
    let t = Instant::now();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        conn,
        "GET /a/router/bytes/{bytes} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut got = 0u64;
    loop {
        let n = conn.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        got += n as u64;
    }
    let secs = t.elapsed().as_secs_f64();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let peak = sampler.join().unwrap();
    assert!(
        got >= bytes,
        "the whole body came through ({got} of {bytes})"
    );
    std::thread::sleep(Duration::from_millis(300));
    (before, peak, rss_mib(pids), bytes as f64 / 1048576.0 / secs)
}

fn main() {
    let secs: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10);
    let rate: u32 = arg("--rate").and_then(|s| s.parse().ok()).unwrap_or(1000);
    let bin = arg("--cliffwatch").map(PathBuf::from).unwrap_or_else(|| {
        std::env::current_exe()
            .unwrap()
            .with_file_name("cliffwatch")
    });
    let tmp = std::env::temp_dir().join(format!("cliffwatch-proxy-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).unwrap();
    let upstream = Upstream::start(0, 1).expect("the upstream");
    let up = upstream.addr.port();
    let (cw_port, ng_port, ngk_port) = (free_port(), free_port(), free_port());
    let cw = cliffwatch_proxy(&bin, &tmp.join("data"), cw_port, &upstream.base_url());
    let ng = nginx(&tmp.join("nginx"), ng_port, up, false);
    let ngk = nginx(&tmp.join("nginx-keepalive"), ngk_port, up, true);
    let lua = tmp.join("chat.lua");
    std::fs::write(
        &lua,
        "wrk.method = \"POST\"\nwrk.headers[\"Content-Type\"] = \"application/json\"\n\
         wrk.headers[\"Authorization\"] = \"Bearer sk-bench-client\"\n\
         wrk.body = '{\"model\":\"gpt-4o-mini\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}'\n",
    )
    .unwrap();
    println!("# proxy_bench: {rate} req/s for {secs} s (latency), wrk -t2 -c32 {secs} s (rate), 1 GiB streamed (memory)");
    println!("# upstream: cliffwatch_bench::wire on 127.0.0.1:{up}, one worker thread; all on this machine's cores\n");
    let targets: [(&str, u16, &str); 4] = [
        ("direct", up, ""),
        ("cliffwatch proxy", cw_port, "/a/router"),
        ("nginx proxy_pass", ng_port, "/a/router"),
        ("nginx + keepalive", ngk_port, "/a/router"),
    ];
    println!("| path | p50 ms | p99 ms | added p50 ms | added p99 ms | small answer req/s | chat completion req/s |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let mut direct = (0.0, 0.0);
    for (name, port, prefix) in targets {
        let mut lat = fixed_rate(port, &format!("{prefix}/small"), rate, secs);
        let (p50, p99) = (pct(&mut lat, 0.5) / 1000.0, pct(&mut lat, 0.99) / 1000.0);
        if name == "direct" {
            direct = (p50, p99);
        }
        let small = wrk(
            &format!("http://127.0.0.1:{port}{prefix}/small"),
            secs,
            None,
        );
        let chat = wrk(
            &format!("http://127.0.0.1:{port}{prefix}/v1/chat/completions"),
            secs,
            Some(&lua),
        );
        let added = |v: f64, d: f64| {
            if name == "direct" {
                "—".to_owned()
            } else {
                format!("{:.3}", v - d)
            }
        };
        println!(
            "| {name} | {p50:.3} | {p99:.3} | {} | {} | {small:.0} | {chat:.0} |",
            added(p50, direct.0),
            added(p99, direct.1)
        );
    }
    println!("\n| path | RSS before MiB | peak MiB | after MiB | MiB/s |");
    println!("| --- | --- | --- | --- | --- |");
    const GIB: u64 = 1 << 30;
    for (name, port, pids) in [
        ("cliffwatch proxy", cw_port, vec![cw.0.id()]),
        ("nginx proxy_pass", ng_port, tree(ng.0.id())),
        ("nginx + keepalive", ngk_port, tree(ngk.0.id())),
    ] {
        let (b, p, a, mbs) = stream_rss(port, GIB, &pids);
        println!("| {name} | {b:.1} | {p:.1} | {a:.1} | {mbs:.0} |");
    }
    drop((ng, ngk));
    // The proxy's own count of what it stored, printed as it stops.
    let mut cw = cw;
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(cw.0.id().to_string())
        .status();
    let mut out = String::new();
    if let Some(mut o) = cw.0.stdout.take() {
        let _ = o.read_to_string(&mut out);
    }
    let _ = cw.0.wait();
    if let Ok(v) = serde_json::from_str::<serde_json::Value>(out.trim()) {
        println!(
            "\ncliffwatch proxy: {} requests, {} usage records and {} events stored, {} not recorded",
            v["requests"], v["usage_records"], v["events"], v["not_recorded"]
        );
    }
    let _ = std::fs::remove_dir_all(&tmp);
}
