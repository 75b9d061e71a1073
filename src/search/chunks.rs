//! Chunks: a file's text cut into runs of whole lines, and the one join that puts what the
//! chunks found back together (line numbers, entry times carried across chunk ends, the
//! file's first and last entry, line ends).

use std::ops::Range;

use memchr::memchr;

use crate::search::extract::ChunkScan;
use crate::time::{LogTime, Prefix, PrefixStyle};

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

/// What joining chunks needs to know about the ends of a body (a file's text after any BOM).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BodyEnds {
    /// Whether the body's first `\n` follows a `\r` (`None`: no newline yet).
    pub crlf: Option<bool>,
    /// The body's last byte (`None`: empty so far).
    pub last_byte: Option<u8>,
}

impl BodyEnds {
    /// The ends of `bytes`.
    pub fn of(bytes: &[u8]) -> BodyEnds {
        BodyEnds {
            crlf: memchr(b'\n', bytes).map(|i| i > 0 && bytes[i - 1] == b'\r'),
            last_byte: bytes.last().copied(),
        }
    }

    /// The ends of this body followed by `next`.
    pub fn then(self, next: BodyEnds) -> BodyEnds {
        BodyEnds {
            crlf: self.crlf.or(next.crlf),
            last_byte: next.last_byte.or(self.last_byte),
        }
    }
}

/// What joining needs to know of a chunk besides what it found: its lines, entries and ends.
#[derive(Clone, Copy, Debug)]
pub struct ChunkFacts {
    /// Number of `\n` bytes in the chunk.
    pub newlines: u64,
    /// The chunk's first prefixed line.
    pub first_entry: Option<Prefix>,
    /// The chunk's last prefixed line.
    pub last_entry: Option<Prefix>,
    /// The chunk's ends.
    pub ends: BodyEnds,
}

impl ChunkFacts {
    /// The facts of a chunk whose extraction found `scan` and whose ends are `ends`.
    pub fn of(scan: &ChunkScan, ends: BodyEnds) -> ChunkFacts {
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
pub struct JoinedChunks {
    /// Lines (`\n`) of the chunks so far: the number of lines before the next chunk.
    pub line_base: u64,
    /// The first entry so far.
    pub first: Option<Prefix>,
    /// The last entry so far.
    pub last: Option<Prefix>,
    /// The ends of the body so far.
    pub ends: BodyEnds,
}

impl JoinedChunks {
    /// The time the next chunk inherits (its lines before its first entry belong to the
    /// last entry so far).
    pub fn carried(&self) -> Option<LogTime> {
        self.last.map(|p| p.time)
    }

    /// Adds the next chunk.
    pub fn then(&mut self, chunk: &ChunkFacts) {
        self.first = self.first.or(chunk.first_entry);
        self.last = chunk.last_entry.or(self.last);
        self.line_base += chunk.newlines;
        self.ends = self.ends.then(chunk.ends);
    }

    /// The last line has no terminator.
    pub fn truncated_last_line(&self) -> bool {
        self.ends.last_byte.is_some_and(|b| b != b'\n')
    }

    /// Physical lines, an unterminated last line included.
    pub fn lines(&self) -> u64 {
        self.line_base + u64::from(self.truncated_last_line())
    }

    /// The prefix generation: legacy when any entry we looked at is unpadded.
    pub fn style(&self) -> Option<PrefixStyle> {
        self.first.map(|a| match self.last {
            Some(b) if b.style == PrefixStyle::Legacy => PrefixStyle::Legacy,
            _ => a.style,
        })
    }

    /// Lines end in `\r\n`.
    pub fn crlf(&self) -> bool {
        self.ends.crlf.unwrap_or(false)
    }
}
