//! Scanning: owns the I/O. Maps or reads each file (decoding gzip in-process), cuts it into
//! line-aligned chunks, runs [`extract_chunk`] on every chunk in a rayon pool, and stitches the
//! chunks of a file back together: line numbers, and entry times that cross chunk boundaries.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::Read;
use std::ops::{Deref, Range};

use flate2::read::MultiGzDecoder;
use memchr::memchr;
use memmap2::Mmap;
use rayon::prelude::*;

use crate::discover::LogFile;
use crate::extract::{ChunkScan, EntryTime, extract_chunk};
use crate::logtime::{LogTime, PrefixStyle};
use crate::rules::RuleSet;
use crate::samples::{self, Sample};
use crate::sessions::{self, RawEvent, SessionEvent};
use crate::unmatched;

/// How a scan reads and splits files.
#[derive(Clone, Copy, Debug)]
pub struct ScanOptions {
    /// Target chunk size in bytes (chunks end at a line end, so they may be longer).
    pub chunk_size: usize,
    /// Files at least this large are memory-mapped (except the live `easemob.log`).
    pub mmap_min: u64,
    /// At most this many decompressed bytes are taken from one gzip file.
    pub gzip_limit: u64,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            chunk_size: 1 << 20,
            mmap_min: 4 << 20,
            gzip_limit: 1 << 30,
        }
    }
}

/// One occurrence of a code, placed in its file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The code.
    pub code: u32,
    /// The rule index in the scan's [`RuleSet`].
    pub rule: usize,
    /// 1-based physical line number.
    pub line: u64,
    /// The time of the entry the line belongs to (`None` before the file's first entry).
    pub time: Option<LogTime>,
}

/// What a scan found in one file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileScan {
    /// Bytes scanned (after decompression).
    pub bytes_scanned: u64,
    /// Physical lines, an unterminated last line included.
    pub lines: u64,
    /// First entry time.
    pub first: Option<LogTime>,
    /// Last entry time.
    pub last: Option<LogTime>,
    /// Prefix generation (legacy when any sampled entry is unpadded).
    pub style: Option<PrefixStyle>,
    /// Lines end in `\r\n`.
    pub crlf: bool,
    /// The last line has no terminator (a crash or a copy mid-write).
    pub truncated_last_line: bool,
    /// The codes found, in line order.
    pub hits: Vec<Hit>,
    /// Something that made the scan of this file partial.
    pub warning: Option<String>,
    /// The file's text encoding, when it is not UTF-8 (`utf-16le`, `utf-16be`).
    pub encoding: Option<&'static str>,
    /// Line texts of the first hit of each error code per minute (by index into `hits`).
    pub samples: Vec<Sample>,
    /// Connection events that are not codes (`handleDisconnect:N`, `onConnected`), in order.
    pub events: Vec<SessionEvent>,
    /// Failure-looking lines without a hit, by template (lines 1-based, times resolved).
    pub unmatched: BTreeMap<String, unmatched::Group>,
}

/// What the per-chunk collectors besides [`extract_chunk`] found in one chunk.
struct ChunkExtras {
    samples: Vec<Sample>,
    events: Vec<RawEvent>,
    unmatched: BTreeMap<String, unmatched::Group>,
}

impl ChunkExtras {
    fn collect(chunk: &[u8], scan: &ChunkScan) -> ChunkExtras {
        let mut hit_lines: Vec<usize> = scan.hits.iter().map(|h| h.line_start).collect();
        hit_lines.dedup();
        ChunkExtras {
            samples: samples::collect_chunk(chunk, scan),
            events: sessions::collect_chunk(chunk),
            unmatched: unmatched::collect_chunk(chunk, &hit_lines),
        }
    }
}

/// File content, mapped or owned.
enum Content {
    Mapped(Mmap),
    Owned(Vec<u8>),
}

impl Deref for Content {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Content::Mapped(map) => map,
            Content::Owned(bytes) => bytes,
        }
    }
}

/// Reads a gzip file in-process, up to `limit` decompressed bytes. A corrupt or truncated
/// stream keeps what decoded, with a warning.
fn read_gzip(file: File, limit: u64) -> Result<(Vec<u8>, Option<String>), String> {
    let mut out = Vec::new();
    let mut decoder = MultiGzDecoder::new(file).take(limit.saturating_add(1));
    let warning = match decoder.read_to_end(&mut out) {
        Ok(_) if out.len() as u64 > limit => {
            out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
            // Keep whole lines only.
            let keep = memchr::memrchr(b'\n', &out).map_or(0, |i| i + 1);
            out.truncate(keep);
            Some(format!(
                "decompressed size exceeds the gzip limit of {limit} bytes; scanned the first {keep} bytes"
            ))
        }
        Ok(_) => None,
        Err(e) if out.is_empty() => return Err(format!("not a readable gzip file: {e}")),
        Err(e) => Some(format!(
            "gzip stream is damaged after {} decompressed bytes ({e}); counted what decoded",
            out.len()
        )),
    };
    Ok((out, warning))
}

/// Loads a file's bytes: gzip decoded, large rotated files mapped, the rest read.
fn load(file: &LogFile, opts: &ScanOptions) -> Result<(Content, Option<String>), String> {
    let handle = File::open(&file.path).map_err(|e| e.to_string())?;
    if file.gzip {
        let (bytes, warning) = read_gzip(handle, opts.gzip_limit)?;
        return Ok((Content::Owned(bytes), warning));
    }
    let len = handle.metadata().map_err(|e| e.to_string())?.len();
    // The live easemob.log can be truncated by the SDK while we read it: never map it.
    if len >= opts.mmap_min && !file.live {
        // SAFETY: rotated segments are not written again by the SDK; a file shrinking under the
        // mapping is the known risk of mmap, accepted for rotated files only.
        if let Ok(map) = unsafe { Mmap::map(&handle) } {
            #[cfg(unix)]
            let _ = map.advise(memmap2::Advice::Sequential);
            return Ok((Content::Mapped(map), None));
        }
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    (&handle)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    Ok((Content::Owned(bytes), None))
}

/// How many leading bytes are sniffed for NUL bytes to tell a binary file.
const SNIFF_LEN: usize = 8 << 10;

/// Turns loaded bytes into UTF-8-compatible text: UTF-16 (with a BOM) is transcoded; a file
/// with NUL bytes near its start is refused as binary unless it was named explicitly.
fn decode(raw: Content, explicit: bool) -> Result<(Content, Option<&'static str>), String> {
    let utf16 = match raw.get(..2) {
        Some([0xFF, 0xFE]) => Some(encoding_rs::UTF_16LE),
        Some([0xFE, 0xFF]) => Some(encoding_rs::UTF_16BE),
        _ => None,
    };
    if let Some(encoding) = utf16 {
        // decode() strips the BOM and replaces malformed units with U+FFFD.
        let (text, _, _) = encoding.decode(&raw);
        let name = if encoding == encoding_rs::UTF_16LE {
            "utf-16le"
        } else {
            "utf-16be"
        };
        return Ok((Content::Owned(text.into_owned().into_bytes()), Some(name)));
    }
    let head = &raw[..raw.len().min(SNIFF_LEN)];
    if !explicit && memchr(0, head).is_some() {
        let what = if head.iter().all(|&b| b == 0) {
            "NUL-filled file"
        } else {
            "binary file (NUL bytes near the start; UTF-16 without a byte-order mark?)"
        };
        return Err(format!(
            "{what}: skipped; name it on the command line to scan it anyway"
        ));
    }
    Ok((raw, None))
}

/// Splits `data` into ranges of about `target` bytes, each ending just after a `\n` (or at
/// the end of the data).
pub fn line_aligned_chunks(data: &[u8], target: usize) -> Vec<Range<usize>> {
    let target = target.max(1);
    let mut chunks = Vec::with_capacity(data.len() / target + 1);
    let mut start = 0;
    while start < data.len() {
        let want = start.saturating_add(target).min(data.len());
        let end = memchr(b'\n', &data[want - 1..]).map_or(data.len(), |i| want + i);
        chunks.push(start..end);
        start = end;
    }
    chunks
}

/// Scans bytes already in memory (the whole of one file).
pub fn scan_bytes(
    data: &[u8],
    rules: &RuleSet,
    chunk_size: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> FileScan {
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let ranges = line_aligned_chunks(body, chunk_size);
    let chunks: Vec<(ChunkScan, ChunkExtras)> = ranges
        .par_iter()
        .map(|range| {
            let bytes = &body[range.clone()];
            let scan = extract_chunk(rules, bytes);
            let extras = ChunkExtras::collect(bytes, &scan);
            progress(range.len() as u64);
            (scan, extras)
        })
        .collect();
    stitch(body, chunks, data.len() as u64)
}

/// Joins the chunks of one file: global line numbers, inherited entry times, first/last.
fn stitch(body: &[u8], chunks: Vec<(ChunkScan, ChunkExtras)>, bytes_scanned: u64) -> FileScan {
    let mut scan = FileScan {
        bytes_scanned,
        ..FileScan::default()
    };
    let mut line_base = 0;
    let mut first = None;
    let mut last = None;
    let mut sampled = HashSet::new();
    for (chunk, extras) in chunks {
        let carried = last.map(|p: crate::logtime::Prefix| p.time);
        let hit_base = scan.hits.len();
        scan.hits.extend(chunk.hits.iter().map(|h| Hit {
            code: h.code,
            rule: h.rule,
            line: line_base + h.line_in_chunk + 1,
            time: match h.time {
                EntryTime::At(time) => Some(time),
                EntryTime::Inherited => carried,
            },
        }));
        let resolve = |t: EntryTime| match t {
            EntryTime::At(time) => Some(time),
            EntryTime::Inherited => carried,
        };
        for sample in extras.samples {
            let hit = hit_base + sample.hit;
            if let Some(h) = scan.hits.get(hit)
                && sampled.insert(samples::key(h.code, h.time))
            {
                scan.samples.push(Sample {
                    hit,
                    text: sample.text,
                });
            }
        }
        scan.events
            .extend(extras.events.iter().map(|e| SessionEvent {
                line: line_base + e.line_in_chunk + 1,
                time: resolve(e.time),
                kind: e.kind,
            }));
        let groups = extras
            .unmatched
            .into_iter()
            .map(|(key, mut g)| {
                g.line += line_base + 1;
                if g.inherited {
                    if let Some(c) = carried {
                        g.min = Some(g.min.map_or(c, |m| m.min(c)));
                        g.max = Some(g.max.map_or(c, |m| m.max(c)));
                    }
                    g.inherited = false;
                }
                (key, g)
            })
            .collect();
        unmatched::merge(&mut scan.unmatched, groups);
        first = first.or(chunk.first_entry);
        last = chunk.last_entry.or(last);
        line_base += chunk.newlines;
    }
    scan.truncated_last_line = body.last().is_some_and(|&b| b != b'\n');
    scan.lines = line_base + u64::from(scan.truncated_last_line);
    scan.first = first.map(|p| p.time);
    scan.last = last.map(|p| p.time);
    // An unpadded field anywhere we looked marks the file as legacy.
    scan.style = first.map(|a| match last {
        Some(b) if b.style == PrefixStyle::Legacy => PrefixStyle::Legacy,
        _ => a.style,
    });
    scan.crlf = memchr(b'\n', body).is_some_and(|i| i > 0 && body[i - 1] == b'\r');
    scan
}

/// Scans one file from disk.
pub fn scan_file(
    file: &LogFile,
    rules: &RuleSet,
    opts: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileScan, String> {
    let (raw, warning) = load(file, opts)?;
    let (content, encoding) = decode(raw, file.explicit)?;
    let mut scan = scan_bytes(&content, rules, opts.chunk_size, &|bytes| {
        // Report progress in on-disk bytes, so the bar ends at the total size on disk.
        let decoded_len = content.len() as u64;
        if decoded_len != file.size && decoded_len > 0 {
            progress(bytes * file.size / decoded_len);
        } else {
            progress(bytes);
        }
    });
    scan.warning = warning;
    scan.encoding = encoding;
    Ok(scan)
}

/// Scans every file in parallel; results are in the order of `files`.
pub fn scan_files(
    files: &[LogFile],
    rules: &RuleSet,
    opts: &ScanOptions,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<FileScan, String>> {
    files
        .par_iter()
        .map(|file| scan_file(file, rules, opts, progress))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn chunks_end_at_line_ends_and_cover_everything() {
        let data = b"aa\nbbbb\nc\n\ndd";
        for target in 1..=data.len() + 1 {
            let chunks = line_aligned_chunks(data, target);
            assert_eq!(chunks.first().map(|c| c.start), Some(0));
            assert_eq!(chunks.last().map(|c| c.end), Some(data.len()));
            for pair in chunks.windows(2) {
                assert_eq!(pair[0].end, pair[1].start);
                assert_eq!(data[pair[0].end - 1], b'\n');
            }
        }
        assert!(line_aligned_chunks(b"", 4).is_empty());
    }

    #[test]
    fn lines_count_unterminated_last_line_and_skip_bom() {
        let rules = RuleSet::builtin();
        let none = &|_| {};
        let scan = scan_bytes(
            b"\xEF\xBB\xBF[2024/03/01 08:00:00:001]: a\r\nb",
            &rules,
            8,
            none,
        );
        assert_eq!(scan.lines, 2);
        assert!(scan.truncated_last_line && scan.crlf);
        assert_eq!(scan.first.unwrap().to_string(), "2024-03-01 08:00:00.001");
        assert_eq!(scan_bytes(b"", &rules, 8, none).lines, 0);
        assert_eq!(scan_bytes(b"\n", &rules, 8, none).lines, 1);
    }

    #[test]
    fn gzip_damage_keeps_what_decoded() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        let text = "[2024/03/01 08:00:00:001]: x failed, code: 300; desc: y\n".repeat(2000);
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.log.gz");
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let (bytes, warning) = read_gzip(File::open(&path).unwrap(), 1 << 30).unwrap();
        assert!(!bytes.is_empty() && bytes.len() < text.len());
        assert!(warning.unwrap().contains("damaged"));

        std::fs::write(&path, &gz).unwrap();
        let (bytes, warning) = read_gzip(File::open(&path).unwrap(), 1000).unwrap();
        assert!(bytes.len() <= 1000 && bytes.ends_with(b"\n"));
        assert!(warning.unwrap().contains("gzip limit"));

        std::fs::write(&path, b"plain text").unwrap();
        assert!(read_gzip(File::open(&path).unwrap(), 1000).is_err());
    }

    /// A small log with every shape, continuation lines and decoys, from random pieces.
    fn log_line() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("[2024/03/01 08:00:00:001]: SDK_Error: {\"callbackId\":\"1\",\"error\":{\"code\":300,\"desc\":\"x\"}}".to_string()),
            Just("[2024/3/1 8:0:1:2]: Client_Login failed, code: 202; desc: y".to_string()),
            Just("[0][2024/03/01 08:00:02:003(08)]: [global listener] onDisconnect206".to_string()),
            Just("  continuation errorCode=3, desc=z".to_string()),
            Just("{ status : { error_code : 0 } } httpExecute code: 404".to_string()),
            Just("[2024/03/01 08:01:00:000]: plain".to_string()),
            Just(String::new()),
        ]
    }

    proptest! {
        #[test]
        fn chunk_size_never_changes_the_result(
            lines in proptest::collection::vec(log_line(), 0..40),
            crlf in any::<bool>(),
            final_newline in any::<bool>(),
            chunk in 1usize..200,
        ) {
            let eol = if crlf { "\r\n" } else { "\n" };
            let mut text = lines.join(eol);
            if final_newline && !text.is_empty() { text.push_str(eol); }
            let rules = RuleSet::builtin();
            let whole = scan_bytes(text.as_bytes(), &rules, usize::MAX, &|_| {});
            let split = scan_bytes(text.as_bytes(), &rules, chunk, &|_| {});
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_never_depend_on_chunking(
            data in proptest::collection::vec(
                prop_oneof![
                    Just(b'\n'), Just(b'\r'), Just(b'['), Just(b']'), Just(b':'), Just(b'0'), Just(b'3'),
                    any::<u8>(),
                ],
                0..400,
            ),
            seeds in proptest::collection::vec(0usize..5, 0..6),
            chunk in 1usize..100,
        ) {
            // Mix in pieces of real shapes so that hits happen amid the noise.
            let pieces: [&[u8]; 5] = [
                b"[2024/03/01 08:00:00:001]: ",
                b"onDisconnect303",
                b"errorCode=500",
                b"\"error\":{\"code\":7",
                b"code: 202; desc:",
            ];
            let mut bytes = data.clone();
            for (i, seed) in seeds.iter().enumerate() {
                let at = (i * 37) % (bytes.len() + 1);
                bytes.splice(at..at, pieces[*seed].iter().copied());
            }
            let rules = RuleSet::builtin();
            let whole = scan_bytes(&bytes, &rules, usize::MAX, &|_| {});
            let split = scan_bytes(&bytes, &rules, chunk, &|_| {});
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn chunks_are_line_aligned(data in proptest::collection::vec(prop_oneof![Just(b'\n'), any::<u8>()], 0..300), target in 1usize..64) {
            let chunks = line_aligned_chunks(&data, target);
            let total: usize = chunks.iter().map(|c| c.len()).sum();
            prop_assert_eq!(total, data.len());
            for c in &chunks[..chunks.len().saturating_sub(1)] {
                prop_assert_eq!(data[c.end - 1], b'\n');
            }
        }
    }
}
