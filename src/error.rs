//! The library's error type.

use std::path::PathBuf;

/// Everything the library can fail with. Per-file problems during a scan are not errors: they
/// become `skipped` entries of the summary and the scan goes on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A user-supplied extraction rule is unusable.
    #[error("invalid --rule {pattern:?}: {reason}")]
    Rule {
        /// The pattern as given.
        pattern: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A code or name that the catalog does not know.
    #[error("{query:?} is not an SDK error code or name{}", suggest(.suggestions))]
    UnknownCode {
        /// What the user asked for.
        query: String,
        /// Close catalog names, best first.
        suggestions: Vec<String>,
    },
    /// No input could be read at all.
    #[error("no SDK log files found in {}{}", .paths.join(", "), .hint)]
    NoInput {
        /// The paths given.
        paths: Vec<String>,
        /// A hint on what to try.
        hint: String,
    },
    /// An I/O failure on a named path.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
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
    /// A saved summary that cannot be read back.
    #[error("{path}: not an emscan scan summary: {reason}")]
    BadSummary {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
}

fn suggest(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!("; did you mean {}?", suggestions.join(", "))
    }
}

/// The library's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
