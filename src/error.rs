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
    #[error("{query:?} is not an SDK error code or name{}", suggest(.suggestions))]
    UnknownCode {
        /// What the user asked for.
        query: String,
        /// Close catalog names, best first.
        suggestions: Vec<String>,
    },
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
    /// A relative `--since`/`--until` (`-2h`) where events are streamed before the last log
    /// time is known.
    #[error(
        "a window relative to the last log time (like -2h) cannot be streamed: events are \
         written before the last log time is known; give absolute times"
    )]
    RelativeWindowInStream,
    /// A saved summary that cannot be read back.
    #[error(transparent)]
    BadSummary(#[from] crate::model::BadSummary),
    /// A gate policy file that cannot be read as a policy (syntax, unknown key, wrong type).
    #[error("{}: invalid gate policy: {reason}", escape_control(.path))]
    PolicyFile {
        /// The file.
        path: String,
        /// Why, as the TOML parser says it (with line and column).
        reason: String,
    },
    /// A gate rule that cannot be used (unknown code or name, malformed limit, missing baseline).
    #[error("bad gate rule {entry}: {reason}")]
    GateRule {
        /// The entry as written, with where it came from, e.g. `--max FOO=1`.
        entry: String,
        /// Why it was rejected.
        reason: String,
    },
    /// The worker threads could not be started.
    #[error("could not start the worker threads: {reason}")]
    ThreadPool {
        /// Why, as the thread pool says it.
        reason: String,
    },
    /// A gate rule that compares with a baseline, without one.
    #[error("bad gate rule {entry}: needs a baseline")]
    NeedsBaseline {
        /// The rule.
        entry: String,
    },
    /// A gate without any rule to check.
    #[error("no gate rules: give a rule, or a policy file with a [gate] table")]
    NoGateRules,
}

/// What discovery looks for, said when it found nothing.
pub(crate) const LOOKED_FOR: &str =
    "\n  (looked for easemob.log and easemob_YYYY-MM-DD_HH-MM-SS.log[.gz])";

/// The paths, made inert, joined with commas.
pub(crate) fn inert_list(paths: &[String]) -> String {
    let inert: Vec<_> = paths.iter().map(|p| escape_control(p)).collect();
    inert.join(", ")
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
