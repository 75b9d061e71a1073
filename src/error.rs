//! The library's error type.

use std::path::PathBuf;

use crate::escape::escape_control;

/// Everything the library can fail with. Per-file problems during a scan are not errors: they
/// become `skipped` entries of the summary and the scan goes on. Messages describe the problem;
/// how an option is spelled is the command line's business (`cli` words those that concern a
/// flag).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user-supplied extraction rule is unusable.
    #[error(transparent)]
    Rule(#[from] crate::search::rules::RuleError),
    /// A code or name that the catalog does not know.
    #[error(transparent)]
    UnknownCode(#[from] crate::catalog::UnknownCode),
    /// No input could be read at all.
    #[error("no SDK log files found in {}{}{}", inert_list(.paths), .problems, if *.sdk_names_only { LOOKED_FOR } else { "" })]
    NoInput {
        /// The paths given.
        paths: Vec<String>,
        /// What went wrong with which path, a `\n  path: reason` line each (path and reason
        /// made inert with `escape_control`).
        problems: String,
        /// Only the SDK's log names were looked for (not every file).
        sdk_names_only: bool,
    },
    /// An I/O failure on a named path.
    #[error("{}: {source}", escape_control(&.path.to_string_lossy()))]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// Writing output failed (a closed pipe included).
    #[error("writing the output: {source}")]
    Write {
        /// The failure.
        #[from]
        source: std::io::Error,
    },
    /// A `--since`/`--until` value that is not a time.
    #[error(
        "{text:?} is not a time: use 2024-03-01 09:00, 2024-03-01 09:00:30, 2024-03-01, or -30m, -2h, -1d (before the last log time)"
    )]
    BadTime {
        /// The value as given.
        text: String,
    },
    /// The folder to watch cannot be watched.
    #[error("{}", escape_control(.reason))]
    Watch {
        /// Why, with the path.
        reason: String,
    },
    /// A relative `--since`/`--until` (`-2h`) where events are streamed before the last log
    /// time is known.
    #[error(
        "a window relative to the last log time (like -2h) cannot be streamed: events are \
         written before the last log time is known; give absolute times"
    )]
    RelativeWindowInStream,
    /// A file named as a setting or saved result that is not a regular file (a FIFO, a
    /// device, a folder).
    #[error("{}: not a regular file; {what} must be a regular file", .path.display())]
    NotRegularFile {
        /// The path.
        path: PathBuf,
        /// What the file is for: `a saved summary`, `a policy file`.
        what: &'static str,
    },
    /// A file named as a setting or saved result that is larger than it may be.
    #[error("{}: larger than {} MiB, the most {what} may be", .path.display(), .limit >> 20)]
    TooLarge {
        /// The path.
        path: PathBuf,
        /// What the file is for.
        what: &'static str,
        /// The limit in bytes.
        limit: u64,
    },
    /// Summaries whose counts add up past `u64::MAX` when merged.
    #[error("{path}: cannot be merged: {source}")]
    MergeOverflow {
        /// The summary merged in when a count overflowed.
        path: String,
        /// Which count.
        source: crate::model::CountOverflow,
    },
    /// A saved summary that cannot be read back.
    #[error(transparent)]
    BadSummary(#[from] crate::model::BadSummary),
    /// A gate rule or policy that cannot be used.
    #[error(transparent)]
    Gate(#[from] crate::gate::GateError),
    /// The worker threads could not be started.
    #[error("could not start the worker threads: {reason}")]
    ThreadPool {
        /// Why, as the thread pool says it.
        reason: String,
    },
}

/// What discovery looks for, said when it found nothing.
pub(crate) const LOOKED_FOR: &str = "\n  (looked for easemob.log, easemob_YYYY-MM-DD_HH-MM-SS.log and easemob.log.N, each also .gz)";

/// The paths, made inert, joined with commas.
pub(crate) fn inert_list(paths: &[String]) -> String {
    let inert: Vec<_> = paths.iter().map(|p| escape_control(p)).collect();
    inert.join(", ")
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
