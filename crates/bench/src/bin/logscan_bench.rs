//! Log-scan benchmark: the generic 402 scan (combined and JSON-lines logs where failures are
//! rare), the cost of re-scanning unchanged files, and the Claude Code import against ccusage
//! (`ccusage@18`, run with `--offline`) on the same generated corpus: time, peak RSS, totals.
//!
//! ```text
//! cargo run --release -p cliffwatch-bench --bin logscan_bench -- [--quick] [--dir D] [--ccusage D]
//! ```
//! `--quick` (CI) uses small corpora and finishes in well under a minute. Without `--ccusage`,
//! ccusage is installed with `npm install ccusage@18` into the work directory; if node or npm is
//! missing, that column is skipped with a note. Peak RSS comes from `/usr/bin/time -v`: our
//! import runs as a child process of this binary (`logscan_bench import-claude DIR DB`) so both
//! sides are measured the same way.

use chrono::{Duration, TimeZone, Utc};
use cliffwatch_core::db;
use cliffwatch_core::logs::{self, prices::PriceTable, ScanOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

struct Args {
    quick: bool,
    dir: PathBuf,
    ccusage: Option<PathBuf>,
}

fn parse_args() -> Args {
    let mut a = Args {
        quick: false,
        dir: std::env::temp_dir().join(format!("cliffwatch-logscan-bench-{}", std::process::id())),
        ccusage: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--quick" => a.quick = true,
            "--dir" => a.dir = it.next().expect("--dir DIR").into(),
            "--ccusage" => a.ccusage = Some(it.next().expect("--ccusage DIR").into()),
            other => panic!("unknown argument `{other}` (use --quick, --dir D, --ccusage D)"),
        }
    }
    a
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("import-claude") {
        import_claude(Path::new(&argv[2]), Path::new(&argv[3]));
        return;
    }
    if argv.get(1).map(String::as_str) == Some("gen-claude") {
        // `gen-claude DIR MB [SHAPE]`: only write the corpus (to profile or to try other tools
        // on it); SHAPE 0 = few large transcripts (default), 1 = many small ones.
        let mb: u64 = argv[3].parse().expect("MB");
        let shape = SHAPES[argv.get(4).map_or(0, |s| s.parse().expect("SHAPE 0 or 1"))];
        gen_claude_corpus(&Path::new(&argv[2]).join("projects"), mb << 20, shape);
        return;
    }
    let args = parse_args();
    std::fs::create_dir_all(&args.dir).expect("work dir");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mb: u64 = if args.quick { 48 } else { 1024 };
    println!(
        "# logscan_bench ({})\n",
        if args.quick { "quick" } else { "full" }
    );
    println!("| corpus | size | scan | throughput | events | re-scan (unchanged) |");
    println!("|---|---|---|---|---|---|");
    for kind in ["combined", "jsonl"] {
        let path = args.dir.join(format!("{kind}.log"));
        let failures = gen_request_log(&path, kind, mb << 20);
        let r = rt.block_on(scan_request_log(&args.dir, &path, kind));
        assert_eq!(
            r.events as usize, failures,
            "every generated failure must be found"
        );
        println!(
            "| {kind} (402/429/503 once per 50 000 lines, 404 per 997) | {:.0} MB | {:.2} s | **{:.0} MB/s** | {} | {:.2} ms |",
            r.bytes as f64 / 1e6,
            r.secs,
            r.bytes as f64 / 1e6 / r.secs,
            r.events,
            r.rescan_ms
        );
        std::fs::remove_file(&path).ok();
    }

    let ccusage = ccusage_command(&args);
    for shape in SHAPES {
        claude_vs_ccusage(&args, shape, &ccusage);
    }
    if args.quick || std::env::var_os("KEEP").is_none() {
        std::fs::remove_dir_all(&args.dir).ok();
    }
}

/// One corpus shape of the Claude Code import benchmark.
#[derive(Debug, Clone, Copy)]
struct Shape {
    name: &'static str,
    /// Turns per session: `min_turns + below(extra_turns)`.
    min_turns: u64,
    extra_turns: u64,
    /// Tool results are `below(this)` bytes.
    max_tool_result: u64,
    full_mb: u64,
    quick_mb: u64,
}

/// Few large transcripts (tool results up to 40 KB: ~1.1 MB a file, ~7 KB a line) and many
/// small ones (tool results up to 9 KB: ~0.45 MB a file, ~2 KB a line, so three times the lines
/// and twice the files per MB), the two shapes real `~/.claude/projects` folders take.
const SHAPES: [Shape; 2] = [
    Shape {
        name: "few large transcripts",
        min_turns: 20,
        extra_turns: 60,
        max_tool_result: 40_000,
        full_mb: 320,
        quick_mb: 24,
    },
    Shape {
        name: "many small transcripts",
        min_turns: 20,
        extra_turns: 96,
        max_tool_result: 9_000,
        full_mb: 290,
        quick_mb: 24,
    },
];

fn claude_vs_ccusage(args: &Args, shape: Shape, ccusage: &Option<Result<Command, String>>) {
    let corpus = args.dir.join("claude");
    let target = if args.quick {
        shape.quick_mb
    } else {
        shape.full_mb
    } << 20;
    let gen = gen_claude_corpus(&corpus.join("projects"), target, shape);
    println!(
        "\n## Claude Code import vs ccusage: {}\n\nCorpus: {:.0} MB, {} files, {} lines ({} assistant writes of {} distinct messages; tool results up to {} KB).\n",
        shape.name,
        gen.bytes as f64 / 1e6,
        gen.files,
        gen.lines,
        gen.assistant_writes,
        gen.messages,
        shape.max_tool_result / 1000,
    );
    // The physical limit: reading every transcript from the page cache.
    let mut cat_cmd = Command::new("sh");
    cat_cmd
        .arg("-c")
        .arg("find \"$0\" -name '*.jsonl' -exec cat {} + > /dev/null; echo '{\"totals\":{}}'")
        .arg(corpus.join("projects"));
    let mut ours_cmd = Command::new(std::env::current_exe().unwrap());
    ours_cmd
        .arg("import-claude")
        .arg(corpus.join("projects"))
        .arg(args.dir.join("import.db"));
    let mut theirs_cmd = match ccusage {
        Some(Ok(c)) => {
            let mut c2 = Command::new(c.get_program());
            c2.args(c.get_args()).env("CLAUDE_CONFIG_DIR", &corpus);
            Some(c2)
        }
        _ => None,
    };
    // One warm-up round (page cache, node's compile cache), then rounds taken in turn so that
    // a burst of load on this shared machine falls on all three alike; the median is shown.
    let rounds = if args.quick { 1 } else { ROUNDS };
    let (mut cat, mut ours, mut theirs) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..=rounds {
        let c = measure(&mut cat_cmd);
        let o = measure(&mut ours_cmd);
        let t = theirs_cmd.as_mut().map(measure);
        if round > 0 {
            cat.push(c);
            ours.push(o);
            theirs.extend(t);
        }
    }
    let cat = median(cat);
    let ours = median(ours);
    let theirs = match ccusage {
        Some(Ok(_)) => Some(Ok(median(theirs))),
        Some(Err(e)) => Some(Err(e.clone())),
        None => None,
    };
    println!("Median of {rounds} round(s) after a warm-up; peak RSS is the largest seen.\n");
    println!(
        "| tool | time | × cat | peak RSS | input | output | cache create | cache read | cost (USD) |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| cat to /dev/null | {:.2} s | 1.0 | {:.0} MB | | | | | |",
        cat.secs,
        cat.peak_kb as f64 / 1024.0
    );
    let row = |name: &str, m: &Measured| {
        let t = totals_of(&m.stdout);
        println!(
            "| {name} | {:.2} s | {:.1} | {:.0} MB | {} | {} | {} | {} | {:.4} |",
            m.secs,
            m.secs / cat.secs.max(1e-6),
            m.peak_kb as f64 / 1024.0,
            t[0] as i64,
            t[1] as i64,
            t[2] as i64,
            t[3] as i64,
            t[4]
        );
        t
    };
    let ot = row("cliffwatch", &ours);
    match &theirs {
        Some(Ok(m)) => {
            let tt = row("ccusage 18 --offline", m);
            let tokens_equal = ot[..4] == tt[..4];
            let cost_diff = if tt[4] > 0.0 {
                (ot[4] - tt[4]).abs() / tt[4] * 100.0
            } else {
                0.0
            };
            println!(
                "\nSpeed-up **{:.1}×**, memory **{:.1}× less**; tokens {}; cost differs by {:.3} %.",
                m.secs / ours.secs,
                m.peak_kb as f64 / ours.peak_kb.max(1) as f64,
                if tokens_equal { "agree exactly" } else { "DIFFER" },
                cost_diff
            );
            assert!(
                tokens_equal,
                "token totals must agree exactly (duplicates carry equal usage)"
            );
            assert!(cost_diff < 0.5, "cost must agree within 0.5 %");
        }
        Some(Err(e)) => println!("\nccusage did not run: {e}"),
        None => println!("\nccusage skipped: node/npm not available"),
    }
}

// ---------------------------------------------------------------------------------------------
// Generic request logs.

/// Writes a request log of about `size` bytes with one failure (402, a disguised 429, or a
/// 503) per 50 000 lines; returns how many failures it wrote.
fn gen_request_log(path: &Path, kind: &str, size: u64) -> usize {
    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path).unwrap());
    let t0 = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let (mut written, mut i, mut failures) = (0u64, 0u64, 0usize);
    let uas = [
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
        "python-requests/2.32.3",
        "Scrapy/2.11.2 (+https://scrapy.org)",
    ];
    while written < size {
        let status = match i % 50_000 {
            49_999 => 402,
            24_999 => 429,
            37_499 => 503,
            n if n % 997 == 0 => 404,
            n if n % 89 == 0 => 304,
            _ => 200,
        };
        if status >= 429 || status == 402 {
            failures += 1;
        }
        if status == 404 {
            failures += 1;
        }
        let t = t0 + Duration::milliseconds(i as i64 * 37);
        let line = if kind == "combined" {
            format!(
                "10.{}.{}.{} - - [{}] \"GET /api/v1/items/{}?page={}&api_key=k{} HTTP/1.1\" {status} {} \"https://shop.example/c/{}\" \"{}\"\n",
                i % 200,
                i % 31,
                i % 250,
                t.format("%d/%b/%Y:%H:%M:%S +0000"),
                i,
                i % 17,
                i % 9,
                512 + i % 40_000,
                i % 1000,
                uas[(i % 3) as usize]
            )
        } else {
            let body = if status == 429 {
                r#","body":{"error":{"type":"insufficient_quota","code":"insufficient_quota","message":"You exceeded your current quota"}}"#
            } else {
                ""
            };
            format!(
                "{{\"time\":\"{}\",\"level\":\"info\",\"method\":\"POST\",\"url\":\"https://api.openai.com/v1/chat/completions?item={}\",\"status\":{status},\"duration_ms\":{},\"bytes\":{},\"user\":\"u{}\"{body}}}\n",
                t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                i,
                40 + i % 900,
                512 + i % 40_000,
                i % 500
            )
        };
        w.write_all(line.as_bytes()).unwrap();
        written += line.len() as u64;
        i += 1;
    }
    w.flush().unwrap();
    failures
}

struct ScanResult {
    bytes: u64,
    secs: f64,
    events: u64,
    rescan_ms: f64,
}

async fn scan_request_log(dir: &Path, path: &Path, kind: &str) -> ScanResult {
    let dbp = dir.join(format!("{kind}.db"));
    let _ = std::fs::remove_file(&dbp);
    let pool = db::open(&dbp).await.unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
    let fmt = if kind == "combined" {
        "combined"
    } else {
        "jsonl"
    };
    let id = db::log_sources::insert(&pool, path.to_str().unwrap(), fmt, None, None, now)
        .await
        .unwrap();
    let src = db::log_sources::list(&pool)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.id == id)
        .unwrap();
    let opts = ScanOptions::new(now, Arc::new(PriceTable::shipped()));
    let last = std::sync::atomic::AtomicU64::new(0);
    let progress = move |p: &logs::Progress| {
        // A progress line every ~10 %.
        let pct = p.bytes_done * 10 / p.bytes_total.max(1);
        if pct != last.swap(pct, std::sync::atomic::Ordering::Relaxed) {
            eprint!("\r  scanning {kind}: {}0 %", pct);
        }
    };
    let t = Instant::now();
    let r = logs::scan_source(&pool, &src, &opts, Some(&progress))
        .await
        .unwrap();
    let secs = t.elapsed().as_secs_f64();
    eprintln!();
    let t = Instant::now();
    let again = logs::scan_source(&pool, &src, &opts, None).await.unwrap();
    let rescan_ms = t.elapsed().as_secs_f64() * 1e3;
    assert!(
        again.files.iter().all(|f| f.unchanged) && again.bytes_read == 0,
        "re-scan must not read"
    );
    pool.close().await;
    let _ = std::fs::remove_file(&dbp);
    ScanResult {
        bytes: r.bytes_read,
        secs,
        events: r.events_new as u64,
        rescan_ms,
    }
}

// ---------------------------------------------------------------------------------------------
// Claude Code corpus.

struct Generated {
    bytes: u64,
    files: usize,
    lines: u64,
    assistant_writes: u64,
    messages: u64,
}

/// Tiny deterministic generator (xorshift64*), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Sessions like real ones: user prompts, bulky tool results, assistant messages written one
/// to three times as they stream (with equal usage, so ccusage's first-wins and our
/// largest-wins agree), summaries and file snapshots.
fn gen_claude_corpus(projects: &Path, target: u64, shape: Shape) -> Generated {
    let _ = std::fs::remove_dir_all(projects);
    let mut g = Generated {
        bytes: 0,
        files: 0,
        lines: 0,
        assistant_writes: 0,
        messages: 0,
    };
    let mut rng = Rng(0x5EED_CAFE_F00D_1234);
    let models = [
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-6",
        "claude-haiku-4-5-20251001",
        "claude-sonnet-4-20250514",
    ];
    let t0 = Utc.with_ymd_and_hms(2026, 10, 1, 8, 0, 0).unwrap();
    let filler: String =
        "lorem ipsum dolor sit amet, \\\"quoted\\\" text with \\n newlines and usage words; "
            .repeat(600);
    let mut session = 0u64;
    while g.bytes < target {
        let project = projects.join(format!("-home-dev-project-{}", session % 12));
        std::fs::create_dir_all(&project).unwrap();
        let sid = format!("{:08x}-0000-4000-8000-{:012x}", session, session * 7919);
        let path = project.join(format!("{sid}.jsonl"));
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let mut t = t0 + Duration::minutes((session * 97 % (30 * 24 * 60)) as i64);
        let turns = shape.min_turns + rng.below(shape.extra_turns);
        let model = models[(session % 4) as usize];
        let write = |w: &mut std::io::BufWriter<std::fs::File>, s: String, g: &mut Generated| {
            w.write_all(s.as_bytes()).unwrap();
            w.write_all(b"\n").unwrap();
            g.bytes += s.len() as u64 + 1;
            g.lines += 1;
        };
        write(
            &mut w,
            format!(r#"{{"type":"summary","summary":"Session {session}","leafUuid":"{sid}"}}"#),
            &mut g,
        );
        for turn in 0..turns {
            t += Duration::seconds(5 + rng.below(120) as i64);
            let ts = t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
            let tool_len = (rng.below(shape.max_tool_result) as usize).min(filler.len());
            let mut cut = tool_len;
            while !filler.is_char_boundary(cut) || filler[..cut].ends_with('\\') {
                cut -= 1;
            }
            write(
                &mut w,
                format!(
                    r#"{{"parentUuid":"p{turn}","isSidechain":false,"userType":"external","cwd":"/home/dev/project","sessionId":"{sid}","version":"2.1.38","type":"user","message":{{"role":"user","content":[{{"tool_use_id":"toolu_{session}_{turn}","type":"tool_result","content":"{}"}}]}},"uuid":"u{session}-{turn}","timestamp":"{ts}"}}"#,
                    &filler[..cut]
                ),
                &mut g,
            );
            let input = 1 + rng.below(400);
            let output = 1 + rng.below(3000);
            let cc = rng.below(30_000);
            // A few long-context requests exercise the >200k tier prices.
            let cr = if rng.below(50) == 0 {
                200_000 + rng.below(150_000)
            } else {
                rng.below(150_000)
            };
            let writes = 1 + rng.below(3);
            g.messages += 1;
            for k in 0..writes {
                g.assistant_writes += 1;
                let ts2 = (t + Duration::milliseconds(300 * k as i64))
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
                write(
                    &mut w,
                    format!(
                        r#"{{"parentUuid":"u{session}-{turn}","isSidechain":false,"userType":"external","cwd":"/home/dev/project","sessionId":"{sid}","version":"2.1.38","message":{{"model":"{model}","id":"msg_{session:06}_{turn:04}","type":"message","role":"assistant","content":[{{"type":"text","text":"Working on step {turn} ({k})."}},{{"type":"tool_use","id":"toolu_{session}_{turn}","name":"Bash","input":{{"command":"cargo test -p x -- --nocapture {turn}"}}}}],"stop_reason":null,"stop_sequence":null,"usage":{{"input_tokens":{input},"cache_creation_input_tokens":{cc},"cache_read_input_tokens":{cr},"cache_creation":{{"ephemeral_5m_input_tokens":{cc},"ephemeral_1h_input_tokens":0}},"output_tokens":{output},"service_tier":"standard"}}}},"requestId":"req_{session:06}_{turn:04}","type":"assistant","uuid":"a{session}-{turn}-{k}","timestamp":"{ts2}"}}"#
                    ),
                    &mut g,
                );
            }
            if turn % 10 == 0 {
                write(
                    &mut w,
                    format!(
                        r#"{{"type":"file-history-snapshot","messageId":"m{session}-{turn}","snapshot":{{"messageId":"m{session}-{turn}","trackedFileBackups":{{}},"timestamp":"{ts}"}},"isSnapshotUpdate":false}}"#
                    ),
                    &mut g,
                );
            }
        }
        w.flush().unwrap();
        g.files += 1;
        session += 1;
    }
    g
}

/// Child mode: import a Claude Code projects directory into a fresh database and print the
/// totals as JSON (the same shape as ccusage's `totals`).
fn import_claude(projects: &Path, dbp: &Path) {
    // The runtime the `cliffwatch` binary runs on.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let _ = std::fs::remove_file(dbp);
        let pool = db::open(dbp).await.unwrap();
        let now = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let pattern = format!("{}/**/*.jsonl", projects.display());
        let id = db::log_sources::insert(&pool, &pattern, "claude-code", None, None, now)
            .await
            .unwrap();
        let src = db::log_sources::list(&pool)
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.id == id)
            .unwrap();
        let opts = ScanOptions::new(now, Arc::new(PriceTable::shipped()));
        logs::scan_source(&pool, &src, &opts, None).await.unwrap();
        let t = db::usage_records::totals(&pool, None, None).await.unwrap();
        println!(
            "{}",
            serde_json::json!({"totals": {
                "inputTokens": t.input_tokens,
                "outputTokens": t.output_tokens,
                "cacheCreationTokens": t.cache_creation_tokens,
                "cacheReadTokens": t.cache_read_tokens,
                "totalCost": t.cost,
            }})
        );
        pool.close().await;
    });
}

// ---------------------------------------------------------------------------------------------
// Measuring child processes.

struct Measured {
    secs: f64,
    peak_kb: u64,
    stdout: String,
}

/// Rounds of each Claude Code measurement in a full run.
const ROUNDS: usize = 5;

/// The median time of `runs` (its output), with the largest peak RSS among them.
fn median(mut runs: Vec<Measured>) -> Measured {
    let peak_kb = runs.iter().map(|m| m.peak_kb).max().unwrap_or(0);
    runs.sort_by(|a, b| a.secs.total_cmp(&b.secs));
    let mut m = runs.swap_remove(runs.len() / 2);
    m.peak_kb = peak_kb;
    m
}

fn measure(cmd: &mut Command) -> Measured {
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-v").arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        if let Some(v) = v {
            timed.env(k, v);
        }
    }
    let t = Instant::now();
    let out = timed
        .output()
        .expect("run /usr/bin/time -v (apt-get install time)");
    let secs = t.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{:?} failed: {stderr}",
        cmd.get_program()
    );
    let peak_kb = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Measured {
        secs,
        peak_kb,
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
    }
}

fn totals_of(stdout: &str) -> [f64; 5] {
    let j: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not JSON ({e}): {stdout:.300}"));
    let t = &j["totals"];
    let f = |k: &str| t[k].as_f64().unwrap_or(0.0);
    [
        f("inputTokens"),
        f("outputTokens"),
        f("cacheCreationTokens"),
        f("cacheReadTokens"),
        f("totalCost"),
    ]
}

/// `node …/ccusage/dist/index.js daily --json --offline`, installing `ccusage@18` with npm into
/// the work directory when no `--ccusage` directory is given.
fn ccusage_command(args: &Args) -> Option<Result<Command, String>> {
    let node = Command::new("node").arg("--version").output().ok()?;
    let node = String::from_utf8_lossy(&node.stdout).trim().to_owned();
    let root = match &args.ccusage {
        Some(d) => d.clone(),
        None => {
            let d = args.dir.join("ccusage");
            std::fs::create_dir_all(&d).ok()?;
            let st = Command::new("npm")
                .args(["install", "--silent", "--no-audit", "--no-fund", "--prefix"])
                .arg(&d)
                .arg("ccusage@18")
                .status()
                .ok()?;
            if !st.success() {
                return Some(Err("npm install ccusage@18 failed".into()));
            }
            d
        }
    };
    let entry = root.join("node_modules/ccusage/dist/index.js");
    if !entry.exists() {
        return Some(Err(format!("{} not found", entry.display())));
    }
    // Which release npm gave (`@18` is a range), and which node runs it.
    let version = std::fs::read_to_string(root.join("node_modules/ccusage/package.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|v| v["version"].as_str().map(str::to_owned))
        .unwrap_or_else(|| "?".into());
    println!("\nccusage {version} on node {node}");
    let mut c = Command::new("node");
    c.arg(entry).args(["daily", "--json", "--offline"]);
    Some(Ok(c))
}
