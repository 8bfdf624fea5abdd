//! A progress bar on stderr for long backfills, drawn only when stderr is a terminal (scripts
//! and CI get clean output).

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Redraws at most 10 times a second.
const REDRAW: Duration = Duration::from_millis(100);

#[derive(Debug)]
pub struct Bar {
    enabled: bool,
    last: Mutex<Option<Instant>>,
}

impl Bar {
    pub fn new() -> Self {
        Bar {
            enabled: std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }

    pub fn draw(&self, done: u64, total: u64, files_done: usize, files_total: usize, now: Instant) {
        if !self.enabled {
            return;
        }
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.is_some_and(|t| now.duration_since(t) < REDRAW) && done < total {
            return;
        }
        *last = Some(now);
        let width = 30usize;
        let frac = if total == 0 {
            1.0
        } else {
            (done as f64 / total as f64).min(1.0)
        };
        let filled = (frac * width as f64).round() as usize;
        let mut err = std::io::stderr().lock();
        let _ = write!(
            err,
            "\r[{}{}] {:>3.0}%  {:.1}/{:.1} MB  file {}/{}",
            "#".repeat(filled),
            "-".repeat(width - filled),
            frac * 100.0,
            done as f64 / 1e6,
            total as f64 / 1e6,
            files_done.min(files_total),
            files_total
        );
        let _ = err.flush();
    }

    pub fn finish(&self) {
        if self.enabled && self.last.lock().map(|l| l.is_some()).unwrap_or(false) {
            eprintln!();
        }
    }
}
