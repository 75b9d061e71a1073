//! A progress bar on stderr that appears only when a scan runs long enough to need one.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a scan runs before the bar appears.
const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Byte progress, drawn on stderr after [`SHOW_AFTER`] when enabled.
pub(crate) struct Progress {
    bar: ProgressBar,
    enabled: bool,
    shown: AtomicBool,
    started: Instant,
}

impl Progress {
    /// A bar that may draw (when `enabled`: stderr is a terminal and the user did not opt out).
    pub(crate) fn new(enabled: bool) -> Progress {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} scanning {bytes}/{total_bytes} [{wide_bar}] {binary_bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        Progress {
            bar,
            enabled,
            shown: AtomicBool::new(false),
            started: Instant::now(),
        }
    }

    /// Adds bytes to the total (files are counted in as discovery finds them).
    pub(crate) fn add_total(&self, bytes: u64) {
        self.bar.inc_length(bytes);
    }

    /// Adds scanned bytes.
    pub(crate) fn advance(&self, bytes: u64) {
        self.bar.inc(bytes);
        if self.enabled
            && !self.shown.load(Ordering::Relaxed)
            && self.started.elapsed() >= SHOW_AFTER
            && !self.shown.swap(true, Ordering::Relaxed)
        {
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    }

    /// Removes the bar from the screen.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
