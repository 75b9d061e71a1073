//! Progress on stderr that appears only when a scan runs long enough to need it. Files are
//! scanned while discovery still walks the folders, so the total is not known at first: a
//! spinner counts the bytes scanned and the files found until the walk ends, then a bar with
//! an ETA takes over.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use indicatif::{HumanBytes, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a scan runs before the progress appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// While discovery walks: bytes scanned, files and bytes found so far, throughput.
const WALKING: &str = "{spinner} scanning {bytes} · found {msg} so far · {binary_bytes_per_sec}";
/// Once every file is found: a bar over the known total, with an ETA.
const COUNTING: &str =
    "{spinner} scanning {bytes}/{total_bytes} [{wide_bar}] {binary_bytes_per_sec} eta {eta}";

/// Scan progress, drawn after [`SHOW_AFTER`] when enabled.
pub(crate) struct Progress {
    bar: ProgressBar,
    /// Where to draw once shown (`None` once shown, or when disabled).
    target: Mutex<Option<ProgressDrawTarget>>,
    shown: AtomicBool,
    show_after: Duration,
    started: Instant,
    /// Files found so far.
    files: AtomicU64,
    /// Their bytes.
    found: AtomicU64,
    /// Whether discovery has ended (the total is known).
    walked: AtomicBool,
}

impl Progress {
    /// Progress that may draw on stderr (when `enabled`: stderr is a terminal and the user did
    /// not opt out).
    pub(crate) fn new(enabled: bool) -> Progress {
        let target = enabled.then(ProgressDrawTarget::stderr);
        Progress::drawing_to(target, SHOW_AFTER)
    }

    /// Progress that draws on `target` (none: never) once `show_after` has passed.
    fn drawing_to(target: Option<ProgressDrawTarget>, show_after: Duration) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(WALKING) {
            bar.set_style(style);
        }
        Progress {
            bar,
            target: Mutex::new(target),
            shown: AtomicBool::new(false),
            show_after,
            started: Instant::now(),
            files: AtomicU64::new(0),
            found: AtomicU64::new(0),
            walked: AtomicBool::new(false),
        }
    }

    /// Counts in a file of `bytes` that discovery found.
    pub(crate) fn add_total(&self, bytes: u64) {
        let files = self.files.fetch_add(1, Ordering::Relaxed) + 1;
        let found = self.found.fetch_add(bytes, Ordering::Relaxed) + bytes;
        if !self.walked.load(Ordering::Relaxed) {
            self.bar.set_message(found_message(files, found));
        }
    }

    /// Discovery has found every file: the total is known, the bar with its ETA replaces the
    /// spinner.
    pub(crate) fn walked(&self) {
        if self.walked.swap(true, Ordering::Relaxed) {
            return;
        }
        self.bar.set_length(self.found.load(Ordering::Relaxed));
        if let Ok(style) = ProgressStyle::with_template(COUNTING) {
            self.bar.set_style(style.progress_chars("=> "));
        }
    }

    /// Adds scanned bytes.
    pub(crate) fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
        if !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= self.show_after
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            let target = self.target.lock().ok().and_then(|mut t| t.take());
            if let Some(target) = target {
                self.bar.set_draw_target(target);
            }
        }
    }

    /// Removes the progress from the screen.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// `3 files, 1.20 MiB`.
fn found_message(files: u64, bytes: u64) -> String {
    let noun = if files == 1 { "file" } else { "files" };
    format!("{files} {noun}, {}", HumanBytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use indicatif::InMemoryTerm;

    /// Progress drawing at once on an in-memory terminal.
    fn on_screen() -> (Progress, InMemoryTerm) {
        let term = InMemoryTerm::new(4, 120);
        let target = ProgressDrawTarget::term_like(Box::new(term.clone()));
        (Progress::drawing_to(Some(target), Duration::ZERO), term)
    }

    /// What the terminal shows after a forced draw.
    fn screen(progress: &Progress, term: &InMemoryTerm) -> String {
        progress.bar.tick();
        term.contents()
    }

    #[test]
    fn while_the_walk_runs_a_spinner_counts_bytes_and_files_without_a_total() {
        let (progress, term) = on_screen();
        progress.add_total(1000);
        progress.advance(300);
        progress.add_total(1000);
        let text = screen(&progress, &term);
        assert!(text.contains("scanning 300 B"), "{text}");
        assert!(text.contains("found 2 files, 1.95 KiB so far"), "{text}");
        // No bar and no ETA: the total still grows.
        assert!(!text.contains('['), "{text}");
        assert!(!text.contains("eta"), "{text}");
    }

    #[test]
    fn once_the_walk_ends_the_bar_fills_from_what_was_scanned() {
        let (progress, term) = on_screen();
        for _ in 0..4 {
            progress.add_total(1000);
        }
        progress.advance(1000);
        progress.walked();
        let text = screen(&progress, &term);
        // Done is not the total: the bar shows a quarter, with an ETA.
        assert!(text.contains("scanning 1000 B/3.91 KiB ["), "{text}");
        assert!(text.contains("eta"), "{text}");
        let bar: String = text
            .chars()
            .skip_while(|&c| c != '[')
            .skip(1)
            .take_while(|&c| c != ']')
            .collect();
        let filled = bar.chars().filter(|&c| c == '=').count();
        assert!(
            filled > 0 && filled * 3 < bar.chars().count(),
            "a quarter done should fill about a quarter of the bar: {text}"
        );
        progress.advance(3000);
        let text = screen(&progress, &term);
        assert!(text.contains("scanning 3.91 KiB/3.91 KiB ["), "{text}");
    }

    #[test]
    fn nothing_is_drawn_when_disabled() {
        let progress = Progress::drawing_to(None, Duration::ZERO);
        progress.add_total(10);
        progress.advance(10);
        progress.walked();
        progress.finish();
        assert!(progress.bar.is_hidden());
    }
}
