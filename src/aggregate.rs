//! Aggregation: turns per-file hits into the [`Summary`], the one contract every output reads.
//!
//! The JSON format of `emscan scan --format json` *is* a serialised `Summary`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Category, Lang, SUCCESS_CODE};
use crate::discover::{LogFile, Skipped};
use crate::logtime::{LogTime, PrefixStyle};
use crate::rules::RuleSet;
use crate::scan::FileScan;

/// The schema name of scan JSON.
pub const SCHEMA: &str = "emscan.scan/1";

/// A place in a log file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Location {
    /// The file's path relative to the scanned folder.
    pub path: String,
    /// 1-based line number.
    pub line: u64,
}

/// Everything known about one code across the scan.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CodeSummary {
    /// The code.
    pub code: u32,
    /// The catalog name (absent for unknown codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The catalog category (absent for unknown codes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<Category>,
    /// Occurrences.
    pub count: u64,
    /// Earliest entry time of an occurrence.
    pub first: Option<LogTime>,
    /// Latest entry time of an occurrence.
    pub last: Option<LogTime>,
    /// Where the earliest occurrence is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_at: Option<Location>,
    /// Occurrences per file (relative path).
    pub per_file: BTreeMap<String, u64>,
    /// Occurrences per device.
    pub per_device: BTreeMap<String, u64>,
    /// Occurrences per shape (rule name).
    pub per_shape: BTreeMap<String, u64>,
    /// Occurrences per minute of log time (`YYYY-MM-DD HH:MM`).
    pub per_minute: BTreeMap<String, u64>,
    /// The catalog's remediation hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl CodeSummary {
    /// An empty summary for `code`, with catalog facts filled in when the catalog knows it.
    pub fn empty(code: u32, catalog: &Catalog, lang: Lang) -> CodeSummary {
        let info = catalog.get(code);
        CodeSummary {
            code,
            name: info.map(|i| i.name.clone()),
            category: info.map(|i| i.category),
            count: 0,
            first: None,
            last: None,
            first_at: None,
            per_file: BTreeMap::new(),
            per_device: BTreeMap::new(),
            per_shape: BTreeMap::new(),
            per_minute: BTreeMap::new(),
            hint: info
                .filter(|_| code != SUCCESS_CODE)
                .map(|i| i.hint(lang).to_string()),
        }
    }

    /// Number of devices the code occurred on.
    pub fn devices(&self) -> usize {
        self.per_device.len()
    }
}

/// One scanned file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileSummary {
    /// Path relative to the scanned folder (`.gz` name kept).
    pub path: String,
    /// Device (first folder below the scanned folder).
    pub device: String,
    /// Size on disk.
    pub bytes: u64,
    /// Size after decompression (gzip files only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uncompressed_bytes: Option<u64>,
    /// Physical lines.
    pub lines: u64,
    /// First entry time.
    pub first: Option<LogTime>,
    /// Last entry time.
    pub last: Option<LogTime>,
    /// Prefix generation.
    pub style: Option<PrefixStyle>,
    /// CRLF line ends.
    pub crlf: bool,
    /// Gzip-compressed.
    pub gzip: bool,
    /// The last line has no terminator.
    pub truncated_last_line: bool,
    /// Error occurrences (code 0 excluded).
    pub errors: u64,
    /// The text encoding when it is not UTF-8 (`utf-16le`, `utf-16be`); the file was transcoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Why the file was only partly read, if it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// Totals of a scan.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// Files scanned.
    pub files: u64,
    /// Bytes on disk.
    pub bytes: u64,
    /// Bytes scanned after decompression.
    pub bytes_scanned: u64,
    /// Physical lines.
    pub lines: u64,
    /// Error occurrences, known and unknown (code 0 excluded).
    pub errors: u64,
    /// Wall time of the scan.
    pub elapsed_ms: u64,
}

/// The result of a scan: what every renderer, the gate and the reports read.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The paths given.
    pub root: Vec<String>,
    /// Catalog codes, most frequent first.
    pub codes: Vec<CodeSummary>,
    /// Codes outside the catalog, most frequent first.
    pub unknown_codes: Vec<CodeSummary>,
    /// Code 0.
    pub success: CodeSummary,
    /// Files scanned, in discovery order.
    pub files: Vec<FileSummary>,
    /// Paths that could not be scanned.
    pub skipped: Vec<Skipped>,
    /// Totals.
    pub stats: Stats,
}

impl Summary {
    /// Total error occurrences (known and unknown).
    pub fn error_count(&self) -> u64 {
        self.codes
            .iter()
            .chain(&self.unknown_codes)
            .map(|c| c.count)
            .sum()
    }
}

/// Counts one more under `key`, allocating the key only the first time it is seen.
fn bump(counts: &mut BTreeMap<String, u64>, key: &str) {
    match counts.get_mut(key) {
        Some(count) => *count += 1,
        None => {
            counts.insert(key.to_string(), 1);
        }
    }
}

/// Adds one hit to a code's summary.
fn absorb(entry: &mut CodeSummary, file: &LogFile, shape: &str, line: u64, time: Option<LogTime>) {
    entry.count += 1;
    bump(&mut entry.per_file, &file.rel_path);
    bump(&mut entry.per_device, &file.device);
    bump(&mut entry.per_shape, shape);
    if let Some(time) = time {
        bump(&mut entry.per_minute, &time.minute_key());
        if entry.first.is_none_or(|first| time < first) {
            entry.first = Some(time);
            entry.first_at = Some(Location {
                path: file.rel_path.clone(),
                line,
            });
        }
        if entry.last.is_none_or(|last| time > last) {
            entry.last = Some(time);
        }
    } else if entry.first_at.is_none() {
        entry.first_at = Some(Location {
            path: file.rel_path.clone(),
            line,
        });
    }
}

/// Orders codes most frequent first, then by code.
fn by_frequency(codes: &mut [CodeSummary]) {
    codes.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
}

/// What [`summarize`] needs besides the per-file results.
pub struct SummaryInput<'a> {
    /// The paths given.
    pub roots: Vec<String>,
    /// The files scanned.
    pub files: &'a [LogFile],
    /// The scan result of each file, in the same order.
    pub results: Vec<Result<FileScan, String>>,
    /// Paths discovery skipped.
    pub skipped: Vec<Skipped>,
    /// The rules used (for shape names).
    pub rules: &'a RuleSet,
    /// The catalog.
    pub catalog: &'a Catalog,
    /// Language of the hints.
    pub lang: Lang,
    /// Wall time of the scan.
    pub elapsed_ms: u64,
}

/// Builds the summary of a scan.
pub fn summarize(input: SummaryInput<'_>) -> Summary {
    let SummaryInput {
        roots,
        files,
        results,
        mut skipped,
        rules,
        catalog,
        lang,
        elapsed_ms,
    } = input;
    let mut by_code: HashMap<u32, CodeSummary> = HashMap::new();
    let mut file_summaries = Vec::new();
    let mut stats = Stats {
        elapsed_ms,
        ..Stats::default()
    };
    for (file, result) in files.iter().zip(results) {
        let scan = match result {
            Ok(scan) => scan,
            Err(reason) => {
                skipped.push(Skipped {
                    path: file.rel_path.clone(),
                    reason,
                });
                continue;
            }
        };
        let mut errors = 0;
        for hit in &scan.hits {
            let shape = &rules.rules()[hit.rule].name;
            let entry = by_code
                .entry(hit.code)
                .or_insert_with(|| CodeSummary::empty(hit.code, catalog, lang));
            absorb(entry, file, shape, hit.line, hit.time);
            errors += u64::from(hit.code != SUCCESS_CODE);
        }
        stats.files += 1;
        stats.bytes += file.size;
        stats.bytes_scanned += scan.bytes_scanned;
        stats.lines += scan.lines;
        stats.errors += errors;
        file_summaries.push(FileSummary {
            path: file.rel_path.clone(),
            device: file.device.clone(),
            bytes: file.size,
            uncompressed_bytes: file.gzip.then_some(scan.bytes_scanned),
            lines: scan.lines,
            first: scan.first,
            last: scan.last,
            style: scan.style,
            crlf: scan.crlf,
            gzip: file.gzip,
            truncated_last_line: scan.truncated_last_line,
            errors,
            encoding: scan.encoding.map(str::to_string),
            warning: scan.warning,
        });
    }
    let success = by_code
        .remove(&SUCCESS_CODE)
        .unwrap_or_else(|| CodeSummary::empty(SUCCESS_CODE, catalog, lang));
    let (mut codes, mut unknown_codes): (Vec<_>, Vec<_>) = by_code
        .into_values()
        .partition(|c| catalog.get(c.code).is_some());
    by_frequency(&mut codes);
    by_frequency(&mut unknown_codes);
    Summary {
        schema: SCHEMA.to_string(),
        root: roots,
        codes,
        unknown_codes,
        success,
        files: file_summaries,
        skipped,
        stats,
    }
}
