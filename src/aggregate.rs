//! Aggregation: turns per-file hits into the [`Summary`], the one contract every output reads.
//!
//! The JSON format of `emscan scan --format json` *is* a serialised `Summary`.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::bursts::{self, Burst, DeviceErrors};
use crate::catalog::{Catalog, Category, Lang, SUCCESS_CODE};
use crate::discover::{LogFile, Skipped};
use crate::logtime::{LogTime, PrefixStyle};
use crate::rules::RuleSet;
use crate::scan::FileScan;
use crate::sessions::{self, DeviceSummary, EventKind, StoryEntry};
use crate::timeline::{Bucket, Timeline};
use crate::unmatched::{self, UnmatchedTemplate};

/// Sample lines kept per code (the earliest).
pub const SAMPLES_PER_CODE: usize = 3;

/// Sample lines kept per burst.
pub const SAMPLES_PER_BURST: usize = 3;

/// The rule (shape) whose hits are `onDisconnect…` listener callbacks.
const LISTENER_SHAPE: &str = "listener";

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
    /// The earliest few lines stating the code.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<SampleLine>,
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

/// Adds one hit to a code's summary.
fn absorb(entry: &mut CodeSummary, file: &LogFile, shape: &str, line: u64, time: Option<LogTime>) {
    entry.count += 1;
    *entry.per_file.entry(file.rel_path.clone()).or_default() += 1;
    *entry.per_device.entry(file.device.clone()).or_default() += 1;
    *entry.per_shape.entry(shape.to_string()).or_default() += 1;
    if let Some(time) = time {
        *entry.per_minute.entry(time.minute_key()).or_default() += 1;
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
    /// Count only what lies in this window.
    pub window: Window,
    /// The timeline's bucket width.
    pub bucket: Bucket,
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
        window,
        bucket,
    } = input;
    let mut samples: Vec<SampleLine> = Vec::new();
    let mut device_hits: BTreeMap<String, Vec<(LogTime, u32)>> = BTreeMap::new();
    let mut stories: Vec<Vec<StoryEntry>> = Vec::new();
    let mut templates: BTreeMap<String, UnmatchedTemplate> = BTreeMap::new();
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
        let mut story = Vec::new();
        let timed = device_hits.entry(file.device.clone()).or_default();
        for hit in &scan.hits {
            if !window.contains(hit.time) {
                continue;
            }
            let shape = &rules.rules()[hit.rule].name;
            if hit.code != SUCCESS_CODE {
                if let Some(t) = hit.time {
                    timed.push((t, hit.code));
                }
                if shape == LISTENER_SHAPE {
                    story.push(StoryEntry {
                        time: hit.time,
                        path: file.rel_path.clone(),
                        line: hit.line,
                        event: "disconnect".into(),
                        value: Some(hit.code),
                    });
                }
            }
            let entry = by_code
                .entry(hit.code)
                .or_insert_with(|| CodeSummary::empty(hit.code, catalog, lang));
            absorb(entry, file, shape, hit.line, hit.time);
            errors += u64::from(hit.code != SUCCESS_CODE);
        }
        for sample in &scan.samples {
            let Some(hit) = scan.hits.get(sample.hit) else {
                continue;
            };
            if window.contains(hit.time) {
                samples.push(SampleLine {
                    code: hit.code,
                    device: file.device.clone(),
                    path: file.rel_path.clone(),
                    line: hit.line,
                    time: hit.time,
                    text: sample.text.clone(),
                });
            }
        }
        for event in scan.events.iter().filter(|e| window.contains(e.time)) {
            let (name, value) = match event.kind {
                EventKind::HandleDisconnect(reason) => ("handle_disconnect", Some(reason)),
                EventKind::Connected => ("connected", None),
            };
            story.push(StoryEntry {
                time: event.time,
                path: file.rel_path.clone(),
                line: event.line,
                event: name.into(),
                value,
            });
        }
        // Within a file: line order.
        story.sort_by_key(|s| s.line);
        stories.push(story);
        let groups: BTreeMap<_, _> = scan
            .unmatched
            .iter()
            .filter(|(_, g)| window.meets(g.min, g.max))
            .map(|(k, g)| (k.clone(), g.clone()))
            .collect();
        unmatched::absorb(&mut templates, &file.rel_path, &file.device, &groups);
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
    // Samples: earliest first; each code keeps its first few.
    samples
        .sort_by(|a, b| (a.time, &a.path, a.line, a.code).cmp(&(b.time, &b.path, b.line, b.code)));
    for code in codes.iter_mut().chain(unknown_codes.iter_mut()) {
        code.samples = samples
            .iter()
            .filter(|s| s.code == code.code)
            .take(SAMPLES_PER_CODE)
            .cloned()
            .collect();
    }
    let all_timed: Vec<(LogTime, u32)> = device_hits.values().flatten().copied().collect();
    let timeline = Timeline::build(&all_timed, bucket);
    let devices = sessions::devices(&file_summaries, &stories);
    let inputs: Vec<DeviceErrors<'_>> = devices
        .iter()
        .map(|d| DeviceErrors {
            name: &d.name,
            // The background is measured inside the window only.
            span: d.first.zip(d.last).map(|(a, b)| {
                (
                    window.since.map_or(a, |s| a.max(s)),
                    window.until.map_or(b, |u| b.min(u)),
                )
            }),
            hits: device_hits.remove(&d.name).unwrap_or_default(),
        })
        .collect();
    let mut bursts = bursts::detect(&inputs);
    for burst in &mut bursts {
        burst.samples = burst_samples(burst, &samples);
    }
    Summary {
        schema: SCHEMA.to_string(),
        root: roots,
        codes,
        unknown_codes,
        success,
        files: file_summaries,
        skipped,
        stats,
        window: (!window.is_open()).then_some(window),
        timeline,
        bursts,
        devices,
        unmatched_templates: unmatched::sorted(templates),
    }
}

/// A few lines from inside a burst: the first line of each of its most frequent codes.
fn burst_samples(burst: &Burst, samples: &[SampleLine]) -> Vec<SampleLine> {
    let inside: Vec<&SampleLine> = samples
        .iter()
        .filter(|s| {
            burst.devices.contains(&s.device)
                && s.time.is_some_and(|t| t >= burst.start && t <= burst.end)
        })
        .collect();
    let mut codes: Vec<(&String, &u64)> = burst.codes.iter().collect();
    codes.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    let mut out: Vec<SampleLine> = Vec::new();
    for (code, _) in codes {
        if out.len() >= SAMPLES_PER_BURST {
            break;
        }
        if let Some(s) = inside.iter().find(|s| s.code.to_string() == *code) {
            out.push((*s).clone());
        }
    }
    out.sort_by(|a, b| (a.time, &a.path, a.line).cmp(&(b.time, &b.path, b.line)));
    out
}
