//! [`Watcher`]: a background task that re-scans the log sources when their files change.
//!
//! File events from `notify` are coalesced ([`COALESCE`]): a busy log writes many times a
//! second, and one scan after the burst reads all of it. A periodic re-scan ([`RESCAN_EVERY`])
//! catches what events miss (new files under a glob in an unwatched directory, network file
//! systems). The watcher is a handle: commands go through a channel, and dropping it stops
//! the task.

use super::tail::{scan_all_until, source_glob, Progress, ScanReport};
use crate::model::ErrorDto;
use crate::{Cliffwatch, Result};
use notify::{RecursiveMode, Watcher as _};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How long file events are gathered before one scan runs.
pub const COALESCE: Duration = Duration::from_millis(250);

/// A full re-scan this often even without file events (unchanged files cost a stat).
pub const RESCAN_EVERY: Duration = Duration::from_secs(60);

/// How long [`Watcher::stop`] waits for a scan in progress to finish its batch.
pub const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the watcher can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatcherCommand {
    /// Scan every source now.
    ScanNow,
    /// Sources were added or removed: watch their directories again, then scan.
    Reload,
    Stop,
}

/// What the watcher reports.
#[derive(Debug, Clone)]
pub enum WatcherEvent {
    /// A scan finished (sent only when it stored something new).
    Scanned(ScanReport),
    /// A backfill is under way.
    Progress(Progress),
    /// A scan failed; the watcher keeps going.
    Failed(crate::model::ErrorDto),
}

/// Where watcher events go (the CLI prints them, the app emits Tauri events).
pub type WatcherSink = Arc<dyn Fn(WatcherEvent) + Send + Sync>;

/// A running watcher. Dropping it stops the task.
#[derive(Debug)]
pub struct Watcher {
    commands: mpsc::Sender<WatcherCommand>,
    task: Option<tokio::task::JoinHandle<()>>,
    /// Ends a scan in progress after its current batch.
    cancel: Arc<AtomicBool>,
}

impl Watcher {
    /// Starts watching every enabled source of `cw`; runs a first scan at once.
    pub fn start(cw: Cliffwatch, sink: WatcherSink) -> Result<Self> {
        let (commands, rx) = mpsc::channel(16);
        let cancel = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(cw, sink, rx, cancel.clone()));
        Ok(Watcher {
            commands,
            task: Some(task),
            cancel,
        })
    }

    /// Asks for a scan now (coalesced with one already queued).
    pub fn scan_now(&self) {
        let _ = self.commands.try_send(WatcherCommand::ScanNow);
    }

    /// Sources changed: re-read them.
    pub fn reload(&self) {
        let _ = self.commands.try_send(WatcherCommand::Reload);
    }

    /// Stops the task, waiting at most [`STOP_TIMEOUT`] for a batch in progress (a batch is
    /// one transaction: stopping between batches loses nothing).
    pub async fn stop(mut self) {
        self.cancel.store(true, Ordering::Release);
        let _ = self.commands.send(WatcherCommand::Stop).await;
        if let Some(t) = self.task.take() {
            let abort = t.abort_handle();
            if tokio::time::timeout(STOP_TIMEOUT, t).await.is_err() {
                // An unfinished batch was never committed: aborting loses nothing.
                abort.abort();
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.cancel.store(true, Ordering::Release);
        if let Some(t) = self.task.take() {
            t.abort();
        }
    }
}

/// The directories to watch for a source pattern: the longest prefix without glob characters,
/// recursively when the pattern goes deeper than one level.
fn watch_root(pattern: &str) -> (PathBuf, RecursiveMode) {
    let glob = source_glob(pattern);
    let mut root = PathBuf::new();
    let mut rest_depth = 0;
    for comp in Path::new(&glob).components() {
        let s = comp.as_os_str().to_string_lossy();
        if rest_depth > 0 || s.contains(['*', '?', '[']) {
            rest_depth += 1;
        } else {
            root.push(comp);
        }
    }
    if rest_depth == 0 {
        // A plain file: watch its directory (rotation replaces the file itself).
        root.pop();
        return (root, RecursiveMode::NonRecursive);
    }
    let mode = if rest_depth > 1 || glob.contains("**") {
        RecursiveMode::Recursive
    } else {
        RecursiveMode::NonRecursive
    };
    (root, mode)
}

async fn run(
    cw: Cliffwatch,
    sink: WatcherSink,
    mut commands: mpsc::Receiver<WatcherCommand>,
    cancel: Arc<AtomicBool>,
) {
    let (fs_tx, mut fs_rx) = mpsc::channel::<()>(1);
    let make = || {
        let tx = fs_tx.clone();
        // Symbolic links are not followed into: `ln -s . loop` would be watched without end,
        // and the periodic re-scan (which follows each linked folder once) catches their files.
        notify::RecommendedWatcher::new(
            move |res: notify::Result<notify::Event>| {
                if res.is_ok_and(|e| !e.kind.is_access()) {
                    // A full channel already holds a wake-up: that is the coalescing.
                    let _ = tx.try_send(());
                }
            },
            notify::Config::default().with_follow_symlinks(false),
        )
    };
    let mut watcher = make().ok();
    let mut watched: Vec<PathBuf> = Vec::new();
    let mut tick = tokio::time::interval(RESCAN_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut rewatch = true;
    // Errors reported by the last scan: a file or source that keeps failing is told once, not
    // every minute (`logs list` and the Logs screen keep showing it).
    let mut told: HashSet<String> = HashSet::new();
    loop {
        if rewatch {
            rewatch = false;
            if let Some(w) = watcher.as_mut() {
                for p in watched.drain(..) {
                    let _ = w.unwatch(&p);
                }
                if let Ok(sources) = crate::db::log_sources::list(cw.pool()).await {
                    for s in sources.iter().filter(|s| s.enabled) {
                        let (root, mode) = watch_root(&s.pattern);
                        if w.watch(&root, mode).is_ok() {
                            watched.push(root);
                        }
                    }
                }
            }
        }
        tokio::select! {
            cmd = commands.recv() => match cmd {
                None | Some(WatcherCommand::Stop) => break,
                Some(WatcherCommand::ScanNow) => {}
                Some(WatcherCommand::Reload) => rewatch = true,
            },
            Some(()) = fs_rx.recv() => {
                tokio::time::sleep(COALESCE).await;
                while fs_rx.try_recv().is_ok() {}
            }
            _ = tick.tick() => {}
        }
        // Reading and parsing a backfill is disk and CPU work (a gigabyte takes about a second):
        // on a blocking thread, so that it never holds up the runtime's workers (the window's
        // commands, polls, alerts). Stopping the watcher sets `cancel`, which ends the scan
        // after its batch in progress.
        let (scan_cw, progress_sink, scan_cancel) = (cw.clone(), sink.clone(), cancel.clone());
        let runtime = tokio::runtime::Handle::current();
        let scanned = tokio::task::spawn_blocking(move || {
            let progress = move |p: &Progress| progress_sink(WatcherEvent::Progress(p.clone()));
            runtime.block_on(scan_all_until(&scan_cw, Some(&progress), Some(scan_cancel)))
        })
        .await
        // The panic's message is not shown: it may quote a log line, and a line may hold a key.
        .unwrap_or_else(|_| {
            Err(crate::Error::Internal(
                "the log scan crashed; it resumes at the next change".into(),
            ))
        });
        match scanned {
            Ok(r) => {
                let now = scan_errors(&r);
                for e in now.iter().filter(|e| !told.contains(&e.message)) {
                    sink(WatcherEvent::Failed(e.clone()));
                }
                told = now.into_iter().map(|e| e.message).collect();
                if r.events_new > 0 || r.usage_records > 0 {
                    sink(WatcherEvent::Scanned(r));
                }
            }
            Err(e) => sink(WatcherEvent::Failed((&e).into())),
        }
    }
}

/// The files and sources a scan could not read, as the errors the watcher reports.
fn scan_errors(r: &ScanReport) -> Vec<ErrorDto> {
    let files = r.files.iter().filter_map(|f| {
        f.error.as_ref().map(|m| ErrorDto {
            kind: "log_file".into(),
            message: m.clone(),
        })
    });
    let sources = r.errors.iter().map(|e| ErrorDto {
        kind: "log_source".into(),
        message: format!("log source `{}`: {}", e.pattern, e.message),
    });
    files.chain(sources).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn watch_roots() {
        let (r, m) = watch_root("/var/log/nginx/*.log");
        assert_eq!(
            (r.as_path(), m),
            (Path::new("/var/log/nginx"), RecursiveMode::NonRecursive)
        );
        let (r, m) = watch_root("/home/u/.claude/projects/**/*.jsonl");
        assert_eq!(
            (r.as_path(), m),
            (
                Path::new("/home/u/.claude/projects"),
                RecursiveMode::Recursive
            )
        );
        let (r, _) = watch_root("/srv/app.log");
        assert_eq!(
            r,
            Path::new("/srv"),
            "a single file is watched through its directory (rotation)"
        );
    }
}
