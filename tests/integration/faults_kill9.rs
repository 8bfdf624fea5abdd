//! `kill -9` of `cliffwatch watch` at random moments while it polls loopback providers and
//! tails a growing log (issue 11, "faults survived"). Afterwards one `logs scan` catches up, and
//! then every failing line written to the log is stored exactly once, every balance reading is
//! whole and one the provider really sent, and the database passes `PRAGMA integrity_check`.
//!
//! The watcher is killed `CLIFFWATCH_KILL9_RUNS` times (default 20; the README's figure comes
//! from a run with 100), after a random delay of up to [`MAX_RUN`] each (one run in four within
//! 150 ms; a run after two that stored no log events first waits for its commit), and restarted.
//! A writer thread appends combined-log lines all along (every failing line carries a unique id in
//! its URL; some lines are written in two halves, so the watcher meets partial last lines).
//! Before each start both accounts get their key set again (`account set-key`): an edited
//! account is polled at once, so every run polls instead of only the first one (the scheduler
//! persists next-due times, and DeepSeek's floor is 60 s). `CLIFFWATCH_KILL9_SEED` replays a
//! run's kill delays.

use crate::loopback_provider::Provider;
use crate::support::*;
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest a run lives before its kill. The watcher opens the database, scans and polls
/// within the first ~100 ms; 700 ms spreads the kills over start-up, scans of the backlog, the
/// polls and the quiet time between file events.
const MAX_RUN: Duration = Duration::from_millis(700);

/// The keys live in environment variables (`--secret-env`): the keychain may be absent here.
const KEY_OK: (&str, &str) = ("CW_KILL9_KEY_OK", "sk-kill9-ok-0001");
const KEY_DRY: (&str, &str) = ("CW_KILL9_KEY_DRY", "sk-kill9-dry-0002");

fn cw(data: &Path) -> Command {
    let mut c = cliffwatch(data);
    c.env(KEY_OK.0, KEY_OK.1).env(KEY_DRY.0, KEY_DRY.1);
    c
}

/// xorshift64: reproducible kill delays from a printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One combined-log line. Failing lines carry `k9-<seq>` in the path; the key in the query
/// string is redacted when stored.
fn log_line(seq: usize, status: u16) -> String {
    let t = seq % 86_400;
    format!(
        "10.0.{}.{} - - [21/Nov/2026:{:02}:{:02}:{:02} +0000] \"GET https://api.scraperapi.com/v1/jobs/k9-{seq:07}?api_key=SECRETKEY123 HTTP/1.1\" {status} 12 \"-\" \"bot\"\n",
        seq / 256 % 256,
        seq % 256,
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

fn status_of(seq: usize) -> u16 {
    match seq % 13 {
        0 | 4 | 9 => 402,
        6 => 429,
        11 => 503,
        _ => 200,
    }
}

/// The writer's record: every failing line fully written, by id, with its status.
#[derive(Default)]
struct Written {
    failing: BTreeMap<String, u16>,
}

/// Appends lines to `path` until `stop`: a burst of 1–20 lines every 5 ms, one line in seven
/// written in two halves 2 ms apart.
fn writer(
    path: PathBuf,
    first_seq: usize,
    stop: Arc<AtomicBool>,
    written: Arc<Mutex<Written>>,
    lines: Arc<AtomicUsize>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut seq = first_seq;
        while !stop.load(Ordering::Acquire) {
            for _ in 0..=rng.below(20) {
                let status = status_of(seq);
                let line = log_line(seq, status);
                if rng.below(7) == 0 {
                    let (a, b) = line.split_at(line.len() / 2);
                    f.write_all(a.as_bytes()).unwrap();
                    std::thread::sleep(Duration::from_millis(2));
                    f.write_all(b.as_bytes()).unwrap();
                } else {
                    f.write_all(line.as_bytes()).unwrap();
                }
                if status != 200 {
                    written
                        .lock()
                        .unwrap()
                        .failing
                        .insert(format!("k9-{seq:07}"), status);
                }
                seq += 1;
                lines.store(seq, Ordering::Release);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    })
}

/// The id a stored URL carries (`k9-0001234`), if any.
fn id_in(url: &str) -> Option<String> {
    let at = url.find("k9-")?;
    url.get(at..at + 10).map(str::to_owned)
}

fn block_on<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

/// Counts taken between runs straight from the file (read-only): log events and balance
/// samples stored so far.
fn counts(db: &Path) -> (i64, i64) {
    block_on(async {
        let pool = read_only(db).await;
        let (events,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM cliff_events WHERE origin = 'log'")
                .fetch_one(&pool)
                .await
                .unwrap();
        let (samples,): (i64,) = sqlx::query_as("SELECT count(*) FROM balance_samples")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        (events, samples)
    })
}

pub async fn read_only(db: &Path) -> sqlx::SqlitePool {
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(db)
        .read_only(true);
    sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await
        .unwrap_or_else(|e| panic!("open {} read-only: {e}", db.display()))
}

/// `PRAGMA integrity_check`, whole.
pub fn integrity(db: &Path) -> String {
    block_on(async {
        let pool = read_only(db).await;
        let rows: Vec<(String,)> = sqlx::query_as("PRAGMA integrity_check")
            .fetch_all(&pool)
            .await
            .unwrap();
        pool.close().await;
        rows.into_iter().map(|r| r.0).collect::<Vec<_>>().join("; ")
    })
}

type SampleRow = (String, Option<f64>, Option<f64>, Option<f64>, String, i64);

fn samples_of(db: &Path, label: &str) -> Vec<SampleRow> {
    block_on(async {
        let pool = read_only(db).await;
        let rows = sqlx::query_as(
            "SELECT s.observed_at, s.remaining, s.limit_total, s.used, s.unit, s.is_topup \
             FROM balance_samples s JOIN accounts a ON a.id = s.account_id \
             WHERE a.label = ? ORDER BY s.id",
        )
        .bind(label)
        .fetch_all(&pool)
        .await
        .unwrap();
        pool.close().await;
        rows
    })
}

#[test]
fn kill9_of_watch_loses_and_doubles_nothing() {
    let runs: usize = std::env::var("CLIFFWATCH_KILL9_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let seed: u64 = std::env::var("CLIFFWATCH_KILL9_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        // A fresh seed each run (std's hasher keys are random), printed for replay.
        .unwrap_or_else(|| {
            use std::hash::BuildHasher;
            std::collections::hash_map::RandomState::new().hash_one(std::process::id()) | 1
        });
    eprintln!("kill9: {runs} runs, CLIFFWATCH_KILL9_SEED={seed}");
    let started = Instant::now();

    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let db = data.join("cliffwatch.db");
    let log = tmp.path().join("logs").join("app.log");
    std::fs::create_dir_all(log.parent().unwrap()).unwrap();
    let provider = Provider::start();

    for (label, url, var) in [
        ("ok", provider.ok_url(), KEY_OK.0),
        ("dry", provider.dry_url(), KEY_DRY.0),
    ] {
        let mut c = cw(&data);
        c.args(["account", "add", "--provider", "deepseek", "--label", label])
            .args(["--base-url", &url, "--secret-env", var]);
        ok(run(c));
    }

    // A backlog the first runs are killed in the middle of (about 0.5 MB).
    let written = Arc::new(Mutex::new(Written::default()));
    let backlog = 4000;
    {
        let mut text = String::new();
        let mut w = written.lock().unwrap();
        for seq in 0..backlog {
            let status = status_of(seq);
            text.push_str(&log_line(seq, status));
            if status != 200 {
                w.failing.insert(format!("k9-{seq:07}"), status);
            }
        }
        std::fs::write(&log, text).unwrap();
    }
    let pattern = log.to_string_lossy().into_owned();
    let mut c = cw(&data);
    c.args(["logs", "add", &pattern, "--format", "combined"]);
    ok(run(c));

    let stop = Arc::new(AtomicBool::new(false));
    let lines = Arc::new(AtomicUsize::new(backlog));
    let writer = writer(
        log.clone(),
        backlog,
        stop.clone(),
        written.clone(),
        lines.clone(),
    );

    let mut rng = Rng(seed);
    let (mut runs_storing_events, mut runs_storing_samples, mut runs_storing_nothing) = (0, 0, 0);
    let (mut interrupted, mut catch_ups, mut without_progress) = (0, 0, 0);
    let mut before = (0, 0);
    let mut killed_lived = Duration::ZERO;
    for i in 0..runs {
        for (label, var) in [("ok", KEY_OK.0), ("dry", KEY_DRY.0)] {
            let mut c = cw(&data);
            c.args(["account", "set-key", label, "--secret-env", var]);
            ok(run(c));
        }
        let err_path = tmp.path().join(format!("watch-{i}.err"));
        let mut c = cw(&data);
        c.args(["--json", "watch", "--no-desktop"])
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&err_path).unwrap());
        // One run in four is killed within 150 ms, mostly before its first scan commits.
        let most = if i % 4 == 0 {
            150
        } else {
            MAX_RUN.as_millis() as u64
        };
        let delay = Duration::from_millis(rng.below(most + 1));
        let pending = written.lock().unwrap().failing.len() as i64;
        let spawned = Instant::now();
        let mut child = c.spawn().expect("spawn cliffwatch watch");
        // A scan commits a file's unread tail as one batch (up to 8 MiB): runs killed before
        // it ends leave more for the next, and in a debug build a few such runs in a row
        // would leave more than any run reads in its lifetime. After two runs without new
        // log events, a run is let live until it commits, then killed at a random moment.
        if without_progress >= 2 {
            catch_ups += 1;
            let deadline = Instant::now() + Duration::from_secs(20);
            while counts(&db).0 <= before.0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        std::thread::sleep(delay);
        let still_running = child.try_wait().unwrap().is_none();
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        killed_lived += spawned.elapsed();
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        assert!(
            still_running,
            "run {i}: watch exited by itself before its kill at {delay:?} ({status:?}):\n{err}"
        );
        assert!(!err.contains("panicked"), "run {i}: watch panicked:\n{err}");
        let now = counts(&db);
        if now.0 > before.0 {
            runs_storing_events += 1;
            without_progress = 0;
        } else {
            without_progress += 1;
        }
        if now.0 < pending {
            // Killed before it had stored what was in the log when it started.
            interrupted += 1;
        }
        if now.1 > before.1 {
            runs_storing_samples += 1;
        }
        if now == before {
            runs_storing_nothing += 1;
        }
        before = now;
    }
    stop.store(true, Ordering::Release);
    writer.join().unwrap();
    let kill_loop = started.elapsed();

    // One scan catches up with what the last run did not read.
    let mut c = cw(&data);
    c.args(["--json", "logs", "scan", &pattern, "--format", "combined"]);
    ok(run(c));

    // Every failing line exactly once, by its id, with its status.
    let mut c = cw(&data);
    c.args(["--json", "events"]);
    let events = json(&ok(run(c)));
    let events = events.as_array().expect("events --json is a list");
    let mut stored: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut poll_events = 0;
    for e in events {
        match e["origin"].as_str() {
            Some("log") => {
                let url = e["url"].as_str().unwrap_or_default();
                let id = id_in(url).unwrap_or_else(|| panic!("a log event without an id: {e}"));
                assert!(
                    !url.contains("SECRETKEY123"),
                    "the key in the URL is redacted: {url}"
                );
                stored
                    .entry(id)
                    .or_default()
                    .push(e["status"].as_i64().unwrap_or(-1));
            }
            Some("poll") => {
                poll_events += 1;
                assert_eq!(
                    e["status"], 402,
                    "the dry account's poll events are 402s: {e}"
                );
                assert_eq!(e["outcome"], "out_of_credit", "{e}");
            }
            other => panic!("an event of unknown origin {other:?}: {e}"),
        }
    }
    let written = std::mem::take(&mut written.lock().unwrap().failing);
    let doubled: Vec<_> = stored.iter().filter(|(_, s)| s.len() > 1).collect();
    let lost: Vec<_> = written
        .keys()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    let invented: Vec<_> = stored
        .keys()
        .filter(|id| !written.contains_key(*id))
        .collect();
    let summary = format!(
        "{runs} kills; {} failing lines written ({} lines in all), {} stored; \
         {runs_storing_events} runs stored log events, {runs_storing_samples} stored readings, \
         {runs_storing_nothing} stored nothing, {interrupted} were killed before they had \
         stored what the log held at their start, {catch_ups} were let live until they \
         committed",
        written.len(),
        lines.load(Ordering::Acquire),
        stored.len()
    );
    assert!(
        doubled.is_empty(),
        "{} lines stored more than once, e.g. {:?} ({summary})",
        doubled.len(),
        doubled.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        lost.is_empty(),
        "{} lines written but never stored, e.g. {:?} ({summary})",
        lost.len(),
        lost.iter().take(5).collect::<Vec<_>>()
    );
    assert!(
        invented.is_empty(),
        "stored ids never written (a line cut and glued wrong?): {:?} ({summary})",
        invented.iter().take(5).collect::<Vec<_>>()
    );
    for (id, statuses) in &stored {
        assert_eq!(
            i64::from(written[id]),
            statuses[0],
            "{id} is stored with the status it was written with"
        );
    }

    // Balance readings: whole rows, each one the provider sent, none twice.
    let served = provider.served();
    let sent: HashSet<u64> = served.balances.iter().map(|b| b.to_bits()).collect();
    let ok_samples = samples_of(&db, "ok");
    let mut seen = HashSet::new();
    for (observed_at, remaining, limit, used, unit, is_topup) in &ok_samples {
        let r = remaining.unwrap_or_else(|| panic!("a reading without its amount: {observed_at}"));
        assert!(r.is_finite(), "a reading is a number, got {r}");
        assert!(
            sent.contains(&r.to_bits()),
            "{r} was never sent by the provider: a torn or invented reading"
        );
        assert!(seen.insert(r.to_bits()), "the reading {r} is stored twice");
        assert_eq!(unit, "usd", "the unit is stored with its amount");
        assert_eq!(
            (*limit, *used),
            (None, None),
            "DeepSeek gives no limit/used"
        );
        assert_eq!(
            *is_topup, 0,
            "balances only fall here: no top-up is invented"
        );
        assert!(
            chrono::DateTime::parse_from_rfc3339(observed_at).is_ok(),
            "observed_at reads back: {observed_at}"
        );
    }
    assert!(
        samples_of(&db, "dry").is_empty(),
        "a 402 stores no balance reading"
    );
    assert!(
        !ok_samples.is_empty(),
        "at least one poll was stored between the kills ({summary})"
    );
    assert!(
        ok_samples.len() <= served.balances.len(),
        "no more readings than answers"
    );
    assert!(
        poll_events <= served.dry,
        "at most one poll event per 402 answered ({poll_events} > {})",
        served.dry
    );

    // The CLI opens it (quick_check) and reads the latest reading; the file is sound.
    let mut c = cw(&data);
    c.args(["--json", "status"]);
    let status = json(&ok(run(c)));
    let latest = status["accounts"]
        .as_array()
        .and_then(|a| a.iter().find(|s| s["account"]["label"] == "ok"))
        .map(|s| s["latest"]["remaining"].clone());
    assert_eq!(
        latest.and_then(|v| v.as_f64()),
        ok_samples.last().and_then(|s| s.1),
        "status shows the last stored reading"
    );
    assert_eq!(integrity(&db), "ok", "PRAGMA integrity_check");
    assert!(
        runs_storing_events > 0 && interrupted > 0,
        "the kills must land both after and before a commit for this test to mean anything \
         ({summary})"
    );

    eprintln!(
        "kill9: {summary}; {} readings stored of {} sent, {poll_events} poll 402 events of {} sent; \
         kill loop {kill_loop:?} (watch alive {killed_lived:?} in all), whole test {:?}",
        ok_samples.len(),
        served.balances.len(),
        served.dry,
        started.elapsed()
    );
}
