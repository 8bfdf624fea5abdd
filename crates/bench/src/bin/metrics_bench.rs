//! Read-API benchmark: `/metrics` rendered for 200 accounts (each with 14 days of hourly
//! readings and a few 402s), cold (every forecast computed) and warm (the engine's forecast
//! cache, as between two polls), then the real listener under load from `wrk` (Debian's
//! package) on loopback: requests per second on `/metrics` and `/v1/status`, and this process's
//! RSS before, between and after the runs (memory must stay flat).
//!
//! ```text
//! cargo run --release -p cliffwatch-bench --bin metrics_bench -- [--accounts N] [--seconds S]
//! ```
//! Without `wrk` on PATH the load part is skipped with a note.

use chrono::{Duration, TimeZone, Utc};
use cliffwatch_core::api::accounts::{self, NewAccount, SecretInput};
use cliffwatch_core::clock::ManualClock;
use cliffwatch_core::secrets::MemoryStore;
use cliffwatch_core::Cliffwatch;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn clock_now(clock: &ManualClock) -> chrono::DateTime<chrono::Utc> {
    use cliffwatch_core::clock::Clock;
    clock.now()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let n = arg("--accounts", 200) as usize;
    let seconds = arg("--seconds", 10);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run(n, seconds));
}

async fn run(n: usize, seconds: u64) {
    let dir = std::env::temp_dir().join(format!("cliffwatch-metrics-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let now = Utc.with_ymd_and_hms(2026, 12, 2, 12, 0, 0).unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let cw = Cliffwatch::open(&dir, Arc::new(MemoryStore::new()), clock.clone())
        .await
        .unwrap();
    // The keys are read from this variable at every use; the bench never polls.
    std::env::set_var("CLIFFWATCH_BENCH_KEY", "sk-bench-0000000000000000");
    let seeded = Instant::now();
    for i in 0..n {
        let label = format!("acct-{i:03}");
        accounts::add(
            &cw,
            NewAccount {
                provider: "deepseek".into(),
                label: label.clone(),
                base_url: None,
                secret: SecretInput::Env("CLIFFWATCH_BENCH_KEY".into()),
                budget: None,
                options: Default::default(),
            },
        )
        .await
        .unwrap();
        // 14 days of hourly readings, each account with its own burn and a daily rhythm.
        let start = 50.0 + (i % 17) as f64 * 40.0;
        let burn = 0.05 + (i % 11) as f64 * 0.03;
        let mut csv = String::from("time,remaining\n");
        for h in (0..14 * 24).rev() {
            let t = now - Duration::hours(h);
            let elapsed = (14 * 24 - h) as f64;
            let wave = 1.0 + 0.5 * (elapsed / 24.0 * std::f64::consts::TAU).sin();
            let left = (start - burn * elapsed * wave).max(0.0);
            csv.push_str(&format!("{},{left:.4}\n", t.to_rfc3339()));
        }
        accounts::import_balances(
            &cw,
            &label,
            csv.as_bytes(),
            Some(cliffwatch_core::model::Unit::parse("usd").unwrap()),
        )
        .await
        .unwrap();
    }
    println!(
        "seeded {n} accounts × {} readings in {:.1} s",
        14 * 24,
        seeded.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let text = cliffwatch_core::api::metrics::render(&cw).await.unwrap();
    let cold_ms = t.elapsed().as_secs_f64() * 1e3;
    let series = text.lines().filter(|l| !l.starts_with('#')).count();
    let mut warm = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        let _ = cliffwatch_core::api::metrics::render(&cw).await.unwrap();
        warm.push(t.elapsed().as_secs_f64() * 1e3);
    }
    warm.sort_by(f64::total_cmp);
    println!(
        "/metrics for {n} accounts: {} bytes, {series} series; cold {cold_ms:.1} ms (every forecast computed); unchanged p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms (100 scrapes)",
        text.len(),
        percentile(&warm, 0.5),
        percentile(&warm, 0.99),
        warm[warm.len() - 1],
    );
    // Between two scrapes one account was polled: its forecast is computed again, the others
    // come from the cache. The clock moves a second per reading, inside the same minute.
    let mut one_new = Vec::new();
    for k in 0..20 {
        clock.advance(Duration::seconds(1));
        let csv = format!(
            "time,remaining\n{},{:.4}\n",
            clock_now(&clock).to_rfc3339(),
            10.0 - k as f64 * 0.01
        );
        accounts::import_balances(
            &cw,
            &format!("acct-{:03}", k % n),
            csv.as_bytes(),
            Some(cliffwatch_core::model::Unit::parse("usd").unwrap()),
        )
        .await
        .unwrap();
        let t = Instant::now();
        let _ = cliffwatch_core::api::metrics::render(&cw).await.unwrap();
        one_new.push(t.elapsed().as_secs_f64() * 1e3);
    }
    one_new.sort_by(f64::total_cmp);
    // A new minute: every runway is counted again (as the forecast cache does each minute).
    let mut minute = Vec::new();
    for _ in 0..3 {
        clock.advance(Duration::minutes(1));
        let t = Instant::now();
        let _ = cliffwatch_core::api::metrics::render(&cw).await.unwrap();
        minute.push(t.elapsed().as_secs_f64() * 1e3);
    }
    minute.sort_by(f64::total_cmp);
    // What the engine does: its alert pass, just after each minute turns, computes every
    // forecast for the new minute; the scrapes of that minute find them ready.
    let mut warmed = Vec::new();
    let mut pass = Vec::new();
    for _ in 0..5 {
        clock.advance(Duration::minutes(1));
        let t = Instant::now();
        cw.forecasts()
            .all(cw.pool(), clock_now(&clock))
            .await
            .unwrap();
        pass.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let _ = cliffwatch_core::api::metrics::render(&cw).await.unwrap();
        warmed.push(t.elapsed().as_secs_f64() * 1e3);
    }
    warmed.sort_by(f64::total_cmp);
    pass.sort_by(f64::total_cmp);
    println!(
        "/metrics after one account's new reading: p50 {:.2} ms, max {:.2} ms (20 scrapes); at a new minute before the engine's pass (every forecast again): p50 {:.1} ms (3 scrapes); after it: p50 {:.2} ms, max {:.2} ms (5 scrapes; the pass itself {:.0} ms, in the background)",
        percentile(&one_new, 0.5),
        one_new[one_new.len() - 1],
        percentile(&minute, 0.5),
        percentile(&warmed, 0.5),
        warmed[warmed.len() - 1],
        percentile(&pass, 0.5),
    );

    let listener = cliffwatch_core::listen::start(
        cw.clone(),
        cliffwatch_core::listen::ListenConfig {
            addr: "127.0.0.1:0".parse().unwrap(),
            token: None,
        },
    )
    .await
    .unwrap();
    let base = format!("http://{}", listener.addr);
    if Command::new("wrk").arg("--version").output().is_err() {
        println!("wrk not found: load test skipped (apt-get install wrk)");
        return;
    }
    let before = rss_mib();
    println!("RSS before load: {before:.1} MiB");
    // Each path twice: memory that only warms up levels off in the second round; a leak grows.
    for path in ["/metrics", "/v1/status", "/metrics", "/v1/status"] {
        // wrk runs as its own process on the same 2 cores; the listener shares them.
        let url = format!("{base}{path}");
        let out = tokio::task::spawn_blocking(move || {
            Command::new("wrk")
                .args(["-t1", "-c8", &format!("-d{seconds}s"), "--latency", &url])
                .output()
                .expect("run wrk")
        })
        .await
        .unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        let rps = report
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .map(str::trim)
            .unwrap_or("?");
        let latency = |q: &str| {
            report
                .lines()
                .find_map(|l| l.trim().strip_prefix(q).map(|v| v.trim().to_owned()))
                .unwrap_or_else(|| "?".into())
        };
        let errors = report
            .lines()
            .filter(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
            .collect::<Vec<_>>()
            .join("; ");
        println!(
            "wrk {path} ({seconds} s, 8 connections): {rps} requests/s, latency p50 {} p99 {}; RSS after {:.1} MiB{}",
            latency("50%"),
            latency("99%"),
            rss_mib(),
            if errors.is_empty() { String::new() } else { format!("; {errors}") }
        );
    }
    println!(
        "RSS after load: {:.1} MiB (before: {before:.1} MiB)",
        rss_mib()
    );
    listener.task.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
