//! The contract: the [`Summary`] every output reads, and the types it is made of. The JSON
//! format of `emscan scan --format json` *is* a serialised `Summary` (schema [`SCHEMA`]).
//! This layer depends only on [`crate::time`] and [`crate::catalog`].

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Category, Lang, SUCCESS_CODE, Tier};
use crate::time::{LogTime, Minute, PrefixStyle};

mod burst;
pub mod device;
mod merge;
pub mod order;
pub mod template;
pub mod timeline;

pub use burst::Burst;
pub use device::{DeviceSummary, DisconnectCause, Gap, StoryEntry, StoryEvent};
pub use merge::CountOverflow;
pub use order::{FileOrderKey, Skipped};
pub use template::UnmatchedTemplate;
pub use timeline::{Bucket, Cell, Series, Timeline};

/// Sample lines kept per code (the earliest).
pub const SAMPLES_PER_CODE: usize = 3;

/// A log line quoted as evidence.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SampleLine {
    /// The code the line states.
    pub code: u32,
    /// The device.
    pub device: String,
    /// The file (relative path).
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// The entry time.
    pub time: Option<LogTime>,
    /// The line as written (lossy UTF-8, cut at 400 bytes); renderers escape it.
    pub text: String,
}

/// The time window a scan was restricted to (`--since`, `--until`): every figure counts only
/// what lies inside it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    /// The earliest time counted (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<LogTime>,
    /// The latest time counted (inclusive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<LogTime>,
}

impl Window {
    /// No restriction.
    pub fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether something at `time` counts (without a time: only when the window is open).
    pub fn contains(&self, time: Option<LogTime>) -> bool {
        match time {
            None => self.is_open(),
            Some(t) => self.since.is_none_or(|s| t >= s) && self.until.is_none_or(|u| t <= u),
        }
    }

    /// Whether the range `[first, last]` meets the window.
    pub fn meets(&self, first: Option<LogTime>, last: Option<LogTime>) -> bool {
        if self.is_open() {
            return true;
        }
        match (first, last) {
            (Some(a), Some(b)) => {
                self.since.is_none_or(|s| b >= s) && self.until.is_none_or(|u| a <= u)
            }
            _ => false,
        }
    }
}

/// The schema name of scan JSON.
pub const SCHEMA: &str = "emscan.scan/2";

/// The schemas a saved summary may have: `emscan.scan/1` writes the timeline's series as dense
/// arrays, one count per bucket; [`SCHEMA`] writes only the non-empty buckets.
pub(crate) const READABLE_SCHEMAS: [&str; 2] = ["emscan.scan/1", SCHEMA];

/// A place in a log file.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
    /// The catalog name: the Windows table's, or for an unknown code the newer tier's (absent
    /// for codes in neither).
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
    /// Occurrences per minute of log time (written `YYYY-MM-DD HH:MM`).
    pub per_minute: BTreeMap<Minute, u64>,
    /// The catalog's remediation hint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
    /// The earliest few lines stating the code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<SampleLine>,
    /// `newer` for an unknown code that newer SDK versions define (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// The page a newer-tier code is taken from (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
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
            samples: Vec::new(),
            tier: None,
            source: None,
        }
    }

    /// Fills in the name, tier and source of a code that is not in the Windows table but in
    /// the catalog's newer tier; other codes are left as they are.
    pub fn name_newer_code(&mut self, catalog: &Catalog) {
        if catalog.get(self.code).is_some() {
            return;
        }
        if let Some(info) = catalog.newer(self.code) {
            self.name = Some(info.name.clone());
            self.tier = Some(Tier::Newer);
            self.source = info.source.clone();
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
    /// What makes this file the same input in another summary: `SIZE:HEAD:TAIL`, the size on
    /// disk and the CRC-32 of its first and last 64 KiB (`merge` refuses one input twice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
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
    /// Other `*.log` files found in the folders and left out (not SDK log names; `--all-files`
    /// scans them), sorted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_scanned: Vec<String>,
    /// Totals.
    pub stats: Stats,
    /// The `--since`/`--until` window every figure is restricted to (absent: the whole logs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// Errors per time bucket, in total and per code.
    #[serde(default)]
    pub timeline: Timeline,
    /// Incident windows, in time order.
    #[serde(default)]
    pub bursts: Vec<Burst>,
    /// Per device: span, files, gaps, prefix generations, connection story.
    #[serde(default)]
    pub devices: Vec<DeviceSummary>,
    /// Failure-looking lines no rule found a code in, by template, most frequent first.
    #[serde(default)]
    pub unmatched_templates: Vec<UnmatchedTemplate>,
}

/// A saved summary that cannot be read back: the file, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: not an emscan scan summary: {reason}")]
pub struct BadSummary {
    /// The file.
    pub path: String,
    /// Why.
    pub reason: String,
}

/// Orders codes most frequent first, then by code.
pub fn by_frequency(codes: &mut [CodeSummary]) {
    codes.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::catalog;

    #[test]
    fn name_newer_code_names_only_codes_of_the_newer_tier() {
        let mut newer = CodeSummary::empty(3, catalog(), Lang::En);
        assert_eq!(
            newer.name, None,
            "outside the Windows table, empty() names nothing"
        );
        newer.name_newer_code(catalog());
        assert_eq!(newer.name.as_deref(), Some("DATABASE_ERROR"));
        assert_eq!(newer.tier, Some(Tier::Newer));
        assert!(
            newer
                .source
                .as_deref()
                .is_some_and(|s| s.starts_with("https://"))
        );
        assert_eq!((newer.category, newer.hint.as_deref()), (None, None));

        let mut windows = CodeSummary::empty(300, catalog(), Lang::En);
        let before = windows.clone();
        windows.name_newer_code(catalog());
        assert_eq!(
            windows, before,
            "a Windows-table code keeps its facts, no tier"
        );

        let mut neither = CodeSummary::empty(4242, catalog(), Lang::En);
        neither.name_newer_code(catalog());
        assert_eq!(
            (neither.name, neither.tier, neither.source),
            (None, None, None)
        );
    }
}
