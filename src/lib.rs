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
use rules::RuleSet;
use scan::ScanOptions;

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
    on_total(found.files.iter().map(|f| f.size).sum());
    let run = || scan::scan_files(&found.files, &rules, &config.scan, on_progress);
    let results = match config.threads {
        Some(n) => rayon::ThreadPoolBuilder::new()
            .num_threads(n)
            .build()
            .map(|pool| pool.install(run))
            .unwrap_or_else(|_| run()),
        None => run(),
    };
    if results.iter().all(|r| r.is_err()) {
        let hint = found
            .files
            .iter()
            .zip(&results)
            .filter_map(|(f, r)| r.as_ref().err().map(|e| format!("\n  {}: {e}", f.rel_path)))
            .collect();
        return Err(Error::NoInput { paths: roots, hint });
    }
    let summary = aggregate::summarize(aggregate::SummaryInput {
        roots,
        files: &found.files,
        results,
        skipped: found.skipped,
        rules: &rules,
        catalog: catalog(),
        lang: config.lang,
        elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    });
    Ok(summary)
}

/// Reads a saved `emscan scan --format json` report back into a [`Summary`].
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let bad = |reason: String| Error::BadSummary {
        path: path.display().to_string(),
        reason,
    };
    let summary: Summary = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
    if summary.schema != aggregate::SCHEMA {
        return Err(bad(format!(
            "schema {:?}, expected {:?}",
            summary.schema,
            aggregate::SCHEMA
        )));
    }
    Ok(summary)
}
