//! Chunks: a file's text cut into runs of whole lines, and the one join that puts what the
//! chunks found back together (line numbers, entry times carried across chunk ends, the
//! file's first and last entry, line ends).

use std::ops::Range;

use memchr::memchr;

use crate::search::extract::{ChunkScan, extract_chunk};
use crate::search::line;
use crate::search::rules::RuleSet;
use crate::time::{LogTime, Prefix, PrefixStyle};

/// Splits `data` into ranges of about `target` bytes, each ending just after a `\n` (or at
/// the end of the data).
pub(crate) fn line_aligned_chunks(data: &[u8], target: usize) -> Vec<Range<usize>> {
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

/// What joining chunks needs to know about the ends of a body (a file's text after any BOM).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct BodyEnds {
    /// Whether the body's first `\n` follows a `\r` (`None`: no newline yet).
    pub(crate) crlf: Option<bool>,
    /// The body's last byte (`None`: empty so far).
    pub(crate) last_byte: Option<u8>,
}

impl BodyEnds {
    /// The ends of `bytes`.
    pub(crate) fn of(bytes: &[u8]) -> BodyEnds {
        BodyEnds {
            crlf: memchr(b'\n', bytes).map(|i| i > 0 && bytes[i - 1] == b'\r'),
            last_byte: bytes.last().copied(),
        }
    }

    /// The ends of this body followed by `next`.
    pub(crate) fn then(self, next: BodyEnds) -> BodyEnds {
        BodyEnds {
            crlf: self.crlf.or(next.crlf),
            last_byte: next.last_byte.or(self.last_byte),
        }
    }
}

/// What joining needs to know of a chunk besides what it found: its lines, entries and ends.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ChunkFacts {
    /// Number of `\n` bytes in the chunk.
    pub(crate) newlines: u64,
    /// The chunk's first prefixed line.
    pub(crate) first_entry: Option<Prefix>,
    /// The chunk's last prefixed line.
    pub(crate) last_entry: Option<Prefix>,
    /// The chunk's ends.
    pub(crate) ends: BodyEnds,
}

impl ChunkFacts {
    /// The facts of a chunk whose extraction found `scan` and whose ends are `ends`.
    pub(crate) fn of(scan: &ChunkScan, ends: BodyEnds) -> ChunkFacts {
        ChunkFacts {
            newlines: scan.newlines,
            first_entry: scan.first_entry,
            last_entry: scan.last_entry,
            ends,
        }
    }
}

/// What a file's chunks, joined in order, tell about the whole file.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct JoinedChunks {
    /// Lines (`\n`) of the chunks so far: the number of lines before the next chunk.
    pub(crate) line_base: u64,
    /// The first entry so far.
    pub(crate) first: Option<Prefix>,
    /// The last entry so far.
    pub(crate) last: Option<Prefix>,
    /// The ends of the body so far.
    pub(crate) ends: BodyEnds,
}

impl JoinedChunks {
    /// The time the next chunk inherits (its lines before its first entry belong to the
    /// last entry so far).
    pub(crate) fn carried(&self) -> Option<LogTime> {
        self.last.map(|p| p.time)
    }

    /// Adds the next chunk.
    pub(crate) fn then(&mut self, chunk: &ChunkFacts) {
        self.first = self.first.or(chunk.first_entry);
        self.last = chunk.last_entry.or(self.last);
        self.line_base += chunk.newlines;
        self.ends = self.ends.then(chunk.ends);
    }

    /// The last line has no terminator.
    pub(crate) fn truncated_last_line(&self) -> bool {
        self.ends.last_byte.is_some_and(|b| b != b'\n')
    }

    /// Physical lines, an unterminated last line included.
    pub(crate) fn lines(&self) -> u64 {
        self.line_base + u64::from(self.truncated_last_line())
    }

    /// The prefix generation: legacy when any entry we looked at is unpadded.
    pub(crate) fn style(&self) -> Option<PrefixStyle> {
        self.first.map(|a| match self.last {
            Some(b) if b.style == PrefixStyle::Legacy => PrefixStyle::Legacy,
            _ => a.style,
        })
    }

    /// Lines end in `\r\n`.
    pub(crate) fn crlf(&self) -> bool {
        self.ends.crlf.unwrap_or(false)
    }
}

/// What one chunk yields: its hits and entries, and the facts about its ends that the join
/// needs.
pub(crate) struct ChunkFindings {
    /// Hits and entries (lines 0-based in the chunk).
    pub(crate) scan: ChunkScan,
    /// The chunk's ends.
    pub(crate) ends: BodyEnds,
}

impl ChunkFindings {
    /// What the join needs of this chunk.
    pub(crate) fn facts(&self) -> ChunkFacts {
        ChunkFacts::of(&self.scan, self.ends)
    }
}

/// Runs extraction on one chunk (a run of whole lines).
pub(crate) fn scan_chunk(rules: &RuleSet, bytes: &[u8]) -> ChunkFindings {
    ChunkFindings {
        scan: extract_chunk(rules, bytes),
        ends: BodyEnds::of(bytes),
    }
}

/// Where a chunk starts in its file: the lines before it, and the entry time its lines before
/// its own first entry inherit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChunkStart {
    /// `\n` bytes before the chunk.
    pub(crate) line_base: u64,
    /// The last entry time before the chunk.
    pub(crate) carried: Option<LogTime>,
}

impl ChunkStart {
    /// The 1-based file line of the chunk's 0-based line `line_in_chunk`.
    pub(crate) fn line(&self, line_in_chunk: u64) -> u64 {
        self.line_base + line_in_chunk + 1
    }
}

/// The join: where each of a file's chunks starts (in order), and what the chunks tell about
/// the whole file. Every consumer of chunks (the tallies, the event stream) places what a
/// chunk found by these starts.
pub(crate) fn join(
    chunks: impl IntoIterator<Item = ChunkFacts>,
) -> (Vec<ChunkStart>, JoinedChunks) {
    let chunks = chunks.into_iter();
    let mut starts = Vec::with_capacity(chunks.size_hint().0);
    let mut joined = JoinedChunks::default();
    for facts in chunks {
        starts.push(ChunkStart {
            line_base: joined.line_base,
            carried: joined.carried(),
        });
        joined.then(&facts);
    }
    (starts, joined)
}

/// One occurrence of a code, placed in its file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The code.
    pub code: u32,
    /// The rule index in the scan's [`RuleSet`].
    pub rule: usize,
    /// 1-based physical line number.
    pub line: u64,
    /// The time of the entry the line belongs to (`None` before the file's first entry).
    pub time: Option<LogTime>,
    /// The line, without its terminator (`\r` trimmed), invalid UTF-8 replaced; only when
    /// the line texts were kept.
    pub text: Option<String>,
}

/// A file's hits in line order, placed by the join, and the file's facts.
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
}

/// A chunk's findings with the text of each hit's line, when kept.
pub(crate) struct TextedChunk {
    /// The findings.
    pub(crate) findings: ChunkFindings,
    /// Each hit's line text, in hit order (`None`: not kept).
    pub(crate) texts: Option<Vec<String>>,
}

impl TextedChunk {
    /// The findings of `bytes`, with their hits' line texts when `keep` is set.
    pub(crate) fn new(bytes: &[u8], findings: ChunkFindings, keep: bool) -> TextedChunk {
        let texts = keep.then(|| {
            findings
                .scan
                .hits
                .iter()
                .map(|h| line::line_at(bytes, h.line_start))
                .collect()
        });
        TextedChunk { findings, texts }
    }
}

/// A file's hits placed in the file by the [`join`] of its chunks, with the file's facts.
pub(crate) fn place_hits(chunks: Vec<TextedChunk>, bytes_scanned: u64) -> FileScan {
    let (starts, joined) = join(chunks.iter().map(|c| c.findings.facts()));
    let mut hits = Vec::with_capacity(chunks.iter().map(|c| c.findings.scan.hits.len()).sum());
    for (chunk, start) in chunks.into_iter().zip(starts) {
        let mut texts = chunk.texts.map(Vec::into_iter);
        hits.extend(chunk.findings.scan.hits.iter().map(|h| Hit {
            code: h.code,
            rule: h.rule,
            line: start.line(h.line_in_chunk),
            time: h.time.or_carried(start.carried),
            text: texts.as_mut().and_then(Iterator::next),
        }));
    }
    FileScan {
        bytes_scanned,
        lines: joined.lines(),
        first: joined.first.map(|p| p.time),
        last: joined.last.map(|p| p.time),
        style: joined.style(),
        crlf: joined.crlf(),
        truncated_last_line: joined.truncated_last_line(),
        hits,
    }
}
