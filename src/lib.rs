//! emscan: diagnoses the logs of the Easemob (环信 / Agora Chat) IM Windows SDK.
//!
//! The pipeline, one module per stage, dependencies pointing one way:
//!
//! ```text
//! discover → scan (→ extract) → aggregate → render
//!                 ↑                  ↑
//!               rules             catalog
//! ```
//! [`scan_paths`] runs the first three stages; renderers read the resulting [`Summary`].

pub mod aggregate;
pub mod catalog;
pub mod cli;
pub mod diff;
pub mod discover;
pub mod error;
pub mod extract;
pub mod gate;
pub mod logtime;
pub mod progress;
pub mod render;
pub mod rules;
pub mod scan;

use std::path::{Path, PathBuf};
use std::time::Instant;

pub use aggregate::Summary;
pub use error::{Error, Result};

use catalog::{Lang, catalog};
use discover::LogFile;
use rules::RuleSet;
use scan::{FileScan, ScanOptions};

/// What to scan and how.
#[derive(Clone, Debug)]
pub struct ScanConfig {
    /// Files or folders.
    pub paths: Vec<PathBuf>,
    /// Scan every file in folders, not only the SDK's log names.
    pub all_files: bool,
    /// User extraction rules (regexes with a `code` group).
    pub user_rules: Vec<String>,
    /// Reading and chunking options.
    pub scan: ScanOptions,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// Language of hints in the summary.
    pub lang: Lang,
}

impl ScanConfig {
    /// A configuration with defaults for `paths`.
    pub fn new(paths: Vec<PathBuf>) -> ScanConfig {
        ScanConfig {
            paths,
            all_files: false,
            user_rules: Vec::new(),
            scan: ScanOptions::default(),
            threads: None,
            lang: Lang::En,
        }
    }
}

/// What every scan needs before reading: the rules, the files, and the roots as given.
struct Prepared {
    rules: RuleSet,
    found: discover::Discovery,
    roots: Vec<String>,
}

fn prepare(config: &ScanConfig) -> Result<Prepared> {
    let rules = RuleSet::with_user_rules(&config.user_rules)?;
    let found = discover::discover(&config.paths, config.all_files);
    let roots: Vec<String> = config
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if found.files.is_empty() {
        let mut hint = String::new();
        for s in &found.skipped {
            hint.push_str(&format!("\n  {}: {}", s.path, s.reason));
        }
        if !config.all_files {
            hint.push_str(
                "\n  (looked for easemob.log and easemob_YYYY-MM-DD_HH-MM-SS.log[.gz]; \
                 --all-files scans every file)",
            );
        }
        return Err(Error::NoInput { paths: roots, hint });
    }
    Ok(Prepared {
        rules,
        found,
        roots,
    })
}

/// The error when no file could be read at all (`failures`: each file with its reason).
fn nothing_read<'a>(
    roots: Vec<String>,
    failures: impl Iterator<Item = (&'a str, &'a str)>,
) -> Error {
    let hint = failures
        .map(|(path, reason)| format!("\n  {path}: {reason}"))
        .collect();
    Error::NoInput { paths: roots, hint }
}

fn thread_pool(threads: Option<usize>) -> Option<rayon::ThreadPool> {
    threads.and_then(|n| rayon::ThreadPoolBuilder::new().num_threads(n).build().ok())
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Discovers, scans and aggregates: the whole scan.
///
/// `on_total` is told the total bytes to read once discovery is done; `on_progress` is told
/// bytes as they are scanned. Per-file problems become `skipped` entries; the call fails only
/// on a bad rule, or when no log file could be found or read at all.
pub fn scan_paths(
    config: &ScanConfig,
    on_total: &dyn Fn(u64),
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    let started = Instant::now();
    let Prepared {
        rules,
        found,
        roots,
    } = prepare(config)?;
    on_total(found.files.iter().map(|f| f.size).sum());
    let run = || scan::scan_files(&found.files, &rules, &config.scan, on_progress);
    let results = match thread_pool(config.threads) {
        Some(pool) => pool.install(run),
        None => run(),
    };
    if results.iter().all(|r| r.is_err()) {
        let failures = found
            .files
            .iter()
            .zip(&results)
            .filter_map(|(f, r)| Some((f.rel_path.as_str(), r.as_ref().err()?.as_str())));
        return Err(nothing_read(roots, failures));
    }
    let summary = aggregate::summarize(aggregate::SummaryInput {
        roots,
        files: &found.files,
        results,
        skipped: found.skipped,
        rules: &rules,
        catalog: catalog(),
        lang: config.lang,
        elapsed_ms: elapsed_ms(started),
    });
    Ok(summary)
}

/// Reads a saved `emscan scan --format json` report back into a [`Summary`].
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Summary::from_json(&text, &path.display().to_string())
}

/// One scanned file as [`scan_stream`] hands it over: the file, its hits in line order (each
/// with its line text) and the rules that name their shapes.
pub struct FileEvents<'a> {
    /// The file.
    pub file: &'a LogFile,
    /// What its scan found.
    pub scan: &'a FileScan,
    /// The rules of the scan (`Hit::rule` indexes them).
    pub rules: &'a RuleSet,
}

/// Scans file by file in report order and hands each file's hits, with their line text, to
/// `on_file` before the next file is read; then drops them. Memory is bounded by the largest
/// file, however many hits there are. Chunks of one file are still scanned in parallel.
///
/// Returns the same summary as [`scan_paths`] (built as it goes), for the exit status and
/// warnings; fails like [`scan_paths`], or when `on_file` fails to write.
pub fn scan_stream(
    config: &ScanConfig,
    on_total: &dyn Fn(u64),
    on_progress: &(dyn Fn(u64) + Sync),
    on_file: &mut dyn FnMut(FileEvents<'_>) -> std::io::Result<()>,
) -> Result<Summary> {
    let started = Instant::now();
    let Prepared {
        rules,
        found,
        roots,
    } = prepare(config)?;
    on_total(found.files.iter().map(|f| f.size).sum());
    let options = ScanOptions {
        keep_lines: true,
        ..config.scan
    };
    let pool = thread_pool(config.threads);
    let mut aggregator = aggregate::Aggregator::new(&rules, catalog(), config.lang);
    let mut failures = Vec::new();
    for file in &found.files {
        let run = || scan::scan_file(file, &rules, &options, on_progress);
        let result = match &pool {
            Some(pool) => pool.install(run),
            None => run(),
        };
        match &result {
            Ok(scan) => on_file(FileEvents {
                file,
                scan,
                rules: &rules,
            })?,
            Err(reason) => failures.push((file.rel_path.as_str(), reason.clone())),
        }
        aggregator.add(file, &result);
    }
    if failures.len() == found.files.len() {
        let failures = failures.iter().map(|(p, r)| (*p, r.as_str()));
        return Err(nothing_read(roots, failures));
    }
    Ok(aggregator.finish(roots, found.skipped, elapsed_ms(started)))
}
