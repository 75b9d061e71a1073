//! The pipeline: a [`ScanConfig`] in, a [`Summary`] out. One driver runs every scan:
//!
//! ```text
//! discover ─▶ read chunks ─▶ search each chunk ─▶ fold (tally + collectors) ─▶ join per file
//!                                                                              │
//!            summary ◀── aggregator (file by file, report order) ◀─────────────┘
//! ```
//!
//! The driver picks one of three schedules: files scanned while discovery walks and tallied
//! by the worker that scanned them (the window is known up front); the same with chunks kept
//! until the last log time fixes a relative window; or file by file in report order, each
//! file's hits handed out with their line text before the next file is read (the event
//! stream). All three tally with the same code and build the summary with the same
//! aggregator. Worker threads come from one pool, built here ([`Threads`]).
//!
//! `emscan watch` follows a folder live ([`watch`]): each batch of new lines is searched and
//! tallied as a chunk, and the watched span's summary comes from the same join and aggregator.

use std::path::{Path, PathBuf};
use std::time::Instant;

pub(crate) mod watch;

use crate::analyze::aggregator;
use crate::analyze::tally::{self, ChunkTally, Collectors, FileTally, KeptChunk, TallyContext};
use crate::catalog::{Lang, catalog};
use crate::error::{Error, Result};
use crate::escape::escape_control;
use crate::input::discover::{self, Discovery, LogFile};
use crate::input::read::{self, ReadOptions, ScannedChunks};
use crate::model::{Bucket, Summary, Window};
use crate::search::chunks::{self, FileScan};
use crate::search::rules::RuleSet;
use crate::time;

/// One end of a `--since`/`--until` window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBound {
    /// A log-local time.
    At(time::LogTime),
    /// This many milliseconds before the last log time of the scan (`-2h`).
    BeforeLast(i64),
}

impl TimeBound {
    /// Parses `2024-03-01 09:00`, `2024-03-01 09:00:30`, `2024-03-01` or a relative `-90s`,
    /// `-15m`, `-2h`, `-1d` (before the last log time).
    pub fn parse(text: &str) -> Result<TimeBound> {
        let text = text.trim();
        let bad = || Error::BadTime {
            text: text.to_string(),
        };
        if let Some(rel) = text.strip_prefix('-') {
            let unit = rel.chars().last().ok_or_else(bad)?;
            let ms: i64 = match unit {
                's' => 1000,
                'm' => 60_000,
                'h' => 3_600_000,
                'd' => 86_400_000,
                _ => return Err(bad()),
            };
            let n: i64 = rel[..rel.len() - 1].parse().map_err(|_| bad())?;
            return n.checked_mul(ms).map(TimeBound::BeforeLast).ok_or_else(bad);
        }
        for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M"] {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, format) {
                return Ok(TimeBound::At(time::LogTime::from_naive(t)));
            }
        }
        if let Some(t) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
        {
            return Ok(TimeBound::At(time::LogTime::from_naive(t)));
        }
        Err(bad())
    }

    /// The time this bound stands for, given the last log time of the scan.
    pub fn resolve(self, last: Option<time::LogTime>) -> Option<time::LogTime> {
        match self {
            TimeBound::At(t) => Some(t),
            TimeBound::BeforeLast(ms) => last?.plus_millis(-ms),
        }
    }
}

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
    pub read: ReadOptions,
    /// The deep pass: the connection story (`handleDisconnect` reasons and their causes,
    /// reconnects) and
    /// failure-looking lines that no rule understands, grouped by template.
    pub deep: bool,
    /// Worker threads (`None`: one per core).
    pub threads: Option<usize>,
    /// Language of hints in the summary.
    pub lang: Lang,
    /// Count only what lies in this window (see [`TimeBound`]).
    pub since: Option<TimeBound>,
    /// See `since`.
    pub until: Option<TimeBound>,
    /// The timeline's bucket width.
    pub bucket: Bucket,
}

impl ScanConfig {
    /// A configuration with defaults for `paths`.
    pub fn new(paths: Vec<PathBuf>) -> ScanConfig {
        ScanConfig {
            paths,
            all_files: false,
            user_rules: Vec::new(),
            read: ReadOptions::default(),
            deep: false,
            threads: None,
            lang: Lang::En,
            since: None,
            until: None,
            bucket: Bucket::Auto,
        }
    }

    /// The collectors this configuration asks for.
    fn collectors(&self) -> Collectors {
        Collectors::deep(self.deep)
    }
}

/// The worker threads of a scan: rayon's current pool when it already has the size asked
/// for (or none was asked for), else a pool of that size. Pools are built only here.
pub struct Threads {
    pool: Option<rayon::ThreadPool>,
}

impl Threads {
    /// `threads` workers (`None`: the current pool, by default one per core).
    pub fn new(threads: Option<usize>) -> Result<Threads> {
        let pool = match threads {
            Some(n) if n != rayon::current_num_threads() => Some(
                rayon::ThreadPoolBuilder::new()
                    .num_threads(n)
                    .build()
                    .map_err(|e| Error::ThreadPool {
                        reason: e.to_string(),
                    })?,
            ),
            _ => None,
        };
        Ok(Threads { pool })
    }

    /// Builds rayon's global pool (which runs everything not given a pool of its own, the
    /// rendering included) with `n` workers (`None`: rayon's default, one per core), unless it
    /// already runs with that many. Threads that cannot be started (a process limit) are an
    /// error here, where a pool rayon starts on first use would panic.
    pub fn size_global(n: Option<usize>) -> Result<()> {
        let mut builder = rayon::ThreadPoolBuilder::new();
        if let Some(n) = n {
            builder = builder.num_threads(n);
        }
        match builder.build_global() {
            Ok(()) => Ok(()),
            // Only a failure to start threads has a source; then no pool runs, and asking
            // its size would start the default one.
            Err(e) if std::error::Error::source(&e).is_some() => Err(Error::ThreadPool {
                reason: e.to_string(),
            }),
            // The pool runs already.
            Err(_) if n.is_none_or(|n| n == rayon::current_num_threads()) => Ok(()),
            Err(e) => Err(Error::ThreadPool {
                reason: e.to_string(),
            }),
        }
    }

    /// Runs `work` on these threads.
    pub fn run<R: Send>(&self, work: impl FnOnce() -> R + Send) -> R {
        match &self.pool {
            Some(pool) => pool.install(work),
            None => work(),
        }
    }
}

/// The paths given, as text.
fn roots_of(config: &ScanConfig) -> Vec<String> {
    config
        .paths
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect()
}

/// The error when discovery found no log file (`skipped`: the paths it could not use).
fn no_log_files(config: &ScanConfig, roots: Vec<String>, skipped: &[discover::Skipped]) -> Error {
    let problems = skipped
        .iter()
        .map(|s| {
            format!(
                "\n  {}: {}",
                escape_control(&s.path),
                escape_control(&s.reason)
            )
        })
        .collect();
    Error::NoInput {
        paths: roots,
        problems,
        sdk_names_only: !config.all_files,
    }
}

/// The error when no file could be read at all (`failures`: each file with its reason).
fn nothing_read<'a>(
    roots: Vec<String>,
    failures: impl Iterator<Item = (&'a str, &'a str)>,
) -> Error {
    let problems = failures
        .map(|(path, reason)| format!("\n  {}: {}", escape_control(path), escape_control(reason)))
        .collect();
    Error::NoInput {
        paths: roots,
        problems,
        sdk_names_only: false,
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The largest saved summary [`read_summary`] reads.
pub(crate) const SUMMARY_LIMIT: u64 = 256 << 20;

/// The largest gate policy file read.
pub(crate) const POLICY_LIMIT: u64 = 1 << 20;

/// Reads a saved `emscan scan --format json` report back into a [`Summary`]: a regular file
/// of at most 256 MiB (`SUMMARY_LIMIT`), checked as untrusted input ([`Summary::from_json`]).
pub fn read_summary(path: &Path) -> Result<Summary> {
    let text = read_regular_file(path, SUMMARY_LIMIT, "a saved summary")?;
    // The name its errors quote, made inert.
    let origin = escape_control(&path.to_string_lossy()).into_owned();
    Ok(Summary::from_json(&text, &origin)?)
}

/// Reads a UTF-8 text file the user names as a setting or a saved result. Only a regular file
/// of at most `limit` bytes is read: a FIFO, a device (`/dev/zero`) or a folder is refused
/// before any read, and a file that grows past `limit` while read is refused at `limit`.
/// `what` says what the file is for, in errors.
pub(crate) fn read_regular_file(path: &Path, limit: u64, what: &'static str) -> Result<String> {
    use std::io::Read;
    let io = |source: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    // The path is looked at before it is opened: opening a FIFO waits for a writer.
    let not_regular = || Error::NotRegularFile {
        path: path.to_path_buf(),
        what,
    };
    if !std::fs::metadata(path).map_err(io)?.is_file() {
        return Err(not_regular());
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular());
    }
    let too_large = || Error::TooLarge {
        path: path.to_path_buf(),
        what,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    // Sized from the length, which is at most `limit`: one allocation, not doublings.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    String::from_utf8(bytes).map_err(|e| {
        io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("not UTF-8 text (byte {})", e.utf8_error().valid_up_to()),
        ))
    })
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

/// Where each file's hits go besides the summary.
type OnFile<'a> = &'a mut dyn FnMut(FileEvents<'_>) -> std::io::Result<()>;

/// Discovers, scans and aggregates: the whole scan. Files are scanned as the walk finds them.
///
/// `on_found` is told the bytes of each file as discovery finds it (their sum is the total to
/// read); `on_progress` is told bytes as they are scanned. Per-file problems become `skipped`
/// entries; the call fails only on a bad rule, or when no log file could be found or read at
/// all.
pub fn scan_paths(
    config: &ScanConfig,
    on_found: &(dyn Fn(u64) + Sync),
    on_progress: &(dyn Fn(u64) + Sync),
) -> Result<Summary> {
    drive(
        config,
        ProgressHooks::without_walk(on_found, on_progress),
        None,
    )
}

/// What a scan tells as it goes, for a progress display; each call may come from any worker.
#[derive(Clone, Copy)]
pub(crate) struct ProgressHooks<'a> {
    /// The bytes of each file as discovery finds it.
    pub(crate) found: &'a (dyn Fn(u64) + Sync),
    /// Once, after the last `found`: the sum of `found` is the total to read.
    pub(crate) walked: &'a (dyn Fn() + Sync),
    /// Bytes as they are scanned.
    pub(crate) scanned: &'a (dyn Fn(u64) + Sync),
}

impl<'a> ProgressHooks<'a> {
    /// Hooks that are not told when the walk ends.
    fn without_walk(
        found: &'a (dyn Fn(u64) + Sync),
        scanned: &'a (dyn Fn(u64) + Sync),
    ) -> ProgressHooks<'a> {
        ProgressHooks {
            found,
            walked: &|| {},
            scanned,
        }
    }
}

/// [`scan_paths`], telling `hooks` how the scan goes, the end of the walk included.
pub(crate) fn scan_paths_with_progress(
    config: &ScanConfig,
    hooks: ProgressHooks<'_>,
) -> Result<Summary> {
    drive(config, hooks, None)
}

/// [`scan_stream`], telling `hooks` how the scan goes, the end of the walk included.
pub(crate) fn scan_stream_with_progress(
    config: &ScanConfig,
    hooks: ProgressHooks<'_>,
    on_file: OnFile<'_>,
) -> Result<Summary> {
    drive(config, hooks, Some(on_file))
}

/// Scans file by file in report order and hands each file's hits, with their line text, to
/// `on_file` before the next file is read; then drops them. Memory is bounded by the largest
/// file, however many hits there are. Chunks of one file are still scanned in parallel.
///
/// Returns the same summary as [`scan_paths`], for the exit status and warnings; fails like
/// [`scan_paths`], when a window is relative to the last log time (not known until the end),
/// or when `on_file` fails to write.
pub fn scan_stream(
    config: &ScanConfig,
    on_found: &(dyn Fn(u64) + Sync),
    on_progress: &(dyn Fn(u64) + Sync),
    on_file: OnFile<'_>,
) -> Result<Summary> {
    drive(
        config,
        ProgressHooks::without_walk(on_found, on_progress),
        Some(on_file),
    )
}

/// The driver (see the module docs).
fn drive(
    config: &ScanConfig,
    hooks: ProgressHooks<'_>,
    on_file: Option<OnFile<'_>>,
) -> Result<Summary> {
    let started = Instant::now();
    let rules = RuleSet::with_user_rules(&config.user_rules)?;
    let roots = roots_of(config);
    let threads = Threads::new(config.threads)?;
    let (found, tallies, window) = match on_file {
        Some(on_file) => stream(config, &rules, &threads, hooks, on_file)?,
        None => threads.run(|| scan_all(config, &rules, hooks)),
    };
    if found.files.is_empty() {
        return Err(no_log_files(config, roots, &found.skipped));
    }
    if tallies.iter().all(|t| t.failure().is_some()) {
        let failures = found
            .files
            .iter()
            .zip(&tallies)
            .filter_map(|(f, t)| Some((f.rel_path.as_str(), t.failure()?)));
        return Err(nothing_read(roots, failures));
    }
    let input = aggregator::SummaryInput {
        roots,
        files: &found.files,
        tallies,
        skipped: found.skipped,
        rules: &rules,
        catalog: catalog(),
        lang: config.lang,
        elapsed_ms: elapsed_ms(started),
        window,
        bucket: config.bucket,
    };
    let mut summary = threads.run(|| aggregator::summarize(input));
    summary.not_scanned = found.not_scanned;
    Ok(summary)
}

/// What the scan of every file gives: the discovery, each file's tally (in the same order)
/// and the window counted.
type Scanned = (Discovery, Vec<FileTally>, Window);

/// Scans files as discovery finds them, in parallel.
fn scan_all(config: &ScanConfig, rules: &RuleSet, hooks: ProgressHooks<'_>) -> Scanned {
    let (paths, all_files, opts) = (&config.paths, config.all_files, &config.read);
    let (on_found, on_walked, on_progress) = (hooks.found, hooks.walked, hooks.scanned);
    let fixed = |bound: Option<TimeBound>| !matches!(bound, Some(TimeBound::BeforeLast(_)));
    if fixed(config.since) && fixed(config.until) {
        // The window is known before the scan.
        let window = Window {
            since: config.since.and_then(|b| b.resolve(None)),
            until: config.until.and_then(|b| b.resolve(None)),
        };
        let context = TallyContext::new(rules, window, config.collectors());
        // Each worker tallies the chunk it scanned; the chunk's hits go there.
        let (found, tallies) =
            read::discover_and_scan(paths, all_files, on_found, on_walked, &|file| {
                let scanned =
                    read::scan_file_chunks(file, rules, opts, on_progress, &|bytes, found| {
                        ChunkTally::of(bytes, found, &context)
                    });
                FileTally::join(file, scanned, &context)
            });
        return (found, tallies, window);
    }
    // A window relative to the last log time: keep every chunk until it is known.
    let keeping = TallyContext::new(rules, Window::default(), config.collectors());
    let (found, results) =
        read::discover_and_scan(paths, all_files, on_found, on_walked, &|file| {
            read::scan_file_chunks(file, rules, opts, on_progress, &|bytes, findings| {
                KeptChunk::new(bytes, findings, &keeping, false)
            })
        });
    let last = results
        .iter()
        .filter_map(|r| r.as_ref().ok()?.last_entry_time(|k| &k.texted.findings))
        .max();
    let window = Window {
        since: config.since.and_then(|b| b.resolve(last)),
        until: config.until.and_then(|b| b.resolve(last)),
    };
    let context = TallyContext::new(rules, window, config.collectors());
    let tallies = tally::tally_all(&found.files, results, &context);
    (found, tallies, window)
}

/// Scans file by file in report order, handing each file's hits inside the window to
/// `on_file` before the next file is read.
fn stream(
    config: &ScanConfig,
    rules: &RuleSet,
    threads: &Threads,
    hooks: ProgressHooks<'_>,
    on_file: OnFile<'_>,
) -> Result<Scanned> {
    let on_progress = hooks.scanned;
    let found = discover::discover(&config.paths, config.all_files);
    if found.files.is_empty() {
        return Ok((found, Vec::new(), Window::default()));
    }
    (hooks.found)(found.files.iter().map(|f| f.size).sum());
    (hooks.walked)();
    // Events go out file by file, before the last log time is known: only absolute bounds.
    let absolute = |bound: Option<TimeBound>| match bound {
        Some(TimeBound::BeforeLast(_)) => Err(Error::RelativeWindowInStream),
        Some(TimeBound::At(t)) => Ok(Some(t)),
        None => Ok(None),
    };
    let window = Window {
        since: absolute(config.since)?,
        until: absolute(config.until)?,
    };
    let context = TallyContext::new(rules, window, config.collectors());
    let mut tallies = Vec::with_capacity(found.files.len());
    for file in &found.files {
        let scanned = threads.run(|| {
            read::scan_file_chunks(
                file,
                rules,
                &config.read,
                on_progress,
                &|bytes, findings| KeptChunk::new(bytes, findings, &context, true),
            )
        });
        tallies.push(FileTally::of_findings(file, scanned.as_ref(), &context));
        if let Ok(scanned) = scanned {
            let mut scan = hits_of(scanned);
            // Events outside the window are not written (the tally skips them too).
            if !window.is_open() {
                scan.hits.retain(|h| window.contains(h.time));
            }
            on_file(FileEvents {
                file,
                scan: &scan,
                rules,
            })?;
        }
    }
    Ok((found, tallies, window))
}

/// A file's hits, placed by the join of its kept chunks.
fn hits_of(scanned: ScannedChunks<KeptChunk>) -> FileScan {
    let texted = scanned.parts.into_iter().map(|k| k.texted).collect();
    chunks::place_hits(texted, scanned.bytes_scanned)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::LogTime;

    #[test]
    fn time_bounds_absolute_and_relative() {
        let at = |s: &str| TimeBound::parse(s).ok();
        let t = |s: &str| LogTime::parse_display(s).map(TimeBound::At);
        assert_eq!(at("2024-03-01 09:00"), t("2024-03-01 09:00:00.000"));
        assert_eq!(at("2024-03-01 09:00:30"), t("2024-03-01 09:00:30.000"));
        assert_eq!(at("2024-03-01 09:00:30.250"), t("2024-03-01 09:00:30.250"));
        assert_eq!(at("2024-03-01"), t("2024-03-01 00:00:00.000"));
        assert_eq!(at("-2h"), Some(TimeBound::BeforeLast(7_200_000)));
        assert_eq!(at("-90s"), Some(TimeBound::BeforeLast(90_000)));
        assert_eq!(at("-1d"), Some(TimeBound::BeforeLast(86_400_000)));
        for bad in [
            "",
            "-",
            "-2",
            "-2x",
            "yesterday",
            "2024-13-01",
            "-99999999999999999d",
        ] {
            assert!(TimeBound::parse(bad).is_err(), "{bad:?}");
        }
        let last = LogTime::parse_display("2024-03-01 10:00:00.000");
        assert_eq!(
            TimeBound::BeforeLast(1_800_000).resolve(last),
            LogTime::parse_display("2024-03-01 09:30:00.000")
        );
        assert_eq!(TimeBound::BeforeLast(1).resolve(None), None);
    }

    /// A streamed scan with an absolute window writes only the hits inside it (untimed hits
    /// before the first entry included only when the window is open), and its summary is the
    /// one a whole scan with the same window gives.
    #[test]
    fn streamed_events_keep_only_the_window() {
        let dir = tempfile::tempdir().unwrap();
        let logs = dir.path().join("PC-1/sdkdata/easemobLog");
        std::fs::create_dir_all(&logs).unwrap();
        let text = "before any entry errorCode=7, desc=x\n\
                    [2024/03/01 08:00:00:001]: a failed, code: 300; desc: y\n\
                    [2024/03/01 09:00:00:000]: b failed, code: 301; desc: y\n\
                    \x20 continuation errorCode=5, desc=z\n\
                    [2024/03/01 10:00:00:000]: c failed, code: 302; desc: y\n\
                    [2024/03/01 10:00:00:001]: d failed, code: 303; desc: y\n";
        std::fs::write(logs.join("easemob.log"), text).unwrap();
        let streamed = |since: Option<&str>, until: Option<&str>| {
            let mut config = ScanConfig::new(vec![dir.path().to_path_buf()]);
            config.since = since.map(|s| TimeBound::parse(s).unwrap());
            config.until = until.map(|s| TimeBound::parse(s).unwrap());
            let mut written = Vec::new();
            let summary = scan_stream(&config, &|_| {}, &|_| {}, &mut |events| {
                written.extend(events.scan.hits.iter().map(|h| (h.code, h.line)));
                assert!(events.scan.hits.iter().all(|h| h.text.is_some()));
                Ok(())
            })
            .unwrap();
            let mut whole = scan_paths(&config, &|_| {}, &|_| {}).unwrap();
            whole.stats.elapsed_ms = summary.stats.elapsed_ms;
            assert_eq!(summary, whole, "{since:?}..{until:?}");
            written
        };
        assert_eq!(
            streamed(None, None),
            [(7, 1), (300, 2), (301, 3), (5, 4), (302, 5), (303, 6)]
        );
        assert_eq!(
            streamed(Some("2024-03-01 09:00"), Some("2024-03-01 10:00")),
            [(301, 3), (5, 4), (302, 5)]
        );
        assert_eq!(streamed(Some("2024-03-01 10:00:00.001"), None), [(303, 6)]);
        assert_eq!(streamed(None, Some("2024-03-01 07:00")), []);
        let mut relative = ScanConfig::new(vec![dir.path().to_path_buf()]);
        relative.since = Some(TimeBound::BeforeLast(60_000));
        assert!(matches!(
            scan_stream(&relative, &|_| {}, &|_| {}, &mut |_| Ok(())),
            Err(Error::RelativeWindowInStream)
        ));
    }

    #[test]
    fn windows_contain_and_meet() {
        let t = |s: &str| LogTime::parse_display(s);
        let open = Window::default();
        assert!(open.contains(None) && open.meets(None, None));
        let w = Window {
            since: t("2024-03-01 09:00:00.000"),
            until: t("2024-03-01 10:00:00.000"),
        };
        assert!(!w.contains(None));
        assert!(w.contains(t("2024-03-01 09:00:00.000")));
        assert!(w.contains(t("2024-03-01 10:00:00.000")));
        assert!(!w.contains(t("2024-03-01 10:00:00.001")));
        assert!(w.meets(t("2024-03-01 08:00:00.000"), t("2024-03-01 09:00:00.000")));
        assert!(!w.meets(t("2024-03-01 10:00:01.000"), t("2024-03-01 11:00:00.000")));
    }
}
