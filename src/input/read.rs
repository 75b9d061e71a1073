//! Scanning: owns the I/O. Reads each file positionally, maps it (Windows only) or streams it
//! through a decoder (gzip, UTF-16), cuts it into line-aligned chunks, runs [`extract_chunk`]
//! on every chunk in a rayon pool, and stitches the chunks of a file back together: line
//! numbers, and entry times that cross chunk boundaries. Discovery and scanning run together,
//! and a file reached by several paths is scanned once.

use std::collections::HashSet;
use std::fs::File;
use std::ops::Range;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use flate2::read::MultiGzDecoder;
use memchr::memchr;
use memmap2::Mmap;
use rayon::prelude::*;

use crate::input::discover::{self, Discovery, FileIdentity, LogFile};
use crate::input::stream::{
    Capped, Counted, Decoded, HEAD_LEN, LineChunks, Plain, Replay, TextSource, cr_line_ends,
    cr_to_lf,
};
use crate::search::chunks::{ChunkFindings, line_aligned_chunks, scan_chunk};
use crate::search::rules::RuleSet;
use crate::time::LogTime;

/// How a scan reads and splits files.
#[derive(Clone, Copy, Debug)]
pub struct ReadOptions {
    /// Target chunk size in bytes (chunks end at a line end, so they may be longer).
    pub chunk_size: usize,
    /// Files at least this large are memory-mapped on Windows, where a mapped file cannot
    /// shrink (never the live `easemob.log`; elsewhere files are always read, see `maps`); by
    /// default none: reading into aligned buffers costs less than faulting mapped pages in.
    pub mmap_min: u64,
    /// At most this many decompressed bytes are taken from one gzip file.
    pub gzip_limit: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            chunk_size: 1 << 20,
            mmap_min: u64::MAX,
            gzip_limit: 1 << 30,
        }
    }
}

/// Why a file could not be read at all. Its text becomes the file's `skipped` reason.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReadError {
    /// Opening or reading the file failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A `.gz` file whose stream does not decode at all.
    #[error("not a readable gzip file: {0}")]
    NotGzip(std::io::Error),
    /// A file that looks binary (what it looks like), found in a folder.
    #[error("{0}: skipped; name it on the command line to scan it anyway")]
    Binary(&'static str),
}

/// What the first bytes of a file say about how to read it.
enum Sniff {
    /// Plain bytes (UTF-8 or close enough): scan as is.
    Text,
    /// UTF-16 (with a byte-order mark, or ASCII-heavy text whose NUL bytes say which half of
    /// each unit is the high one): transcode first.
    Utf16(&'static encoding_rs::Encoding),
    /// Binary or NUL-filled: the reason to skip it.
    Binary(&'static str),
    /// Binary-looking, but named on the command line: scanned as is, with this warning.
    Named(&'static str),
}

/// The warning on a binary-looking file scanned because it was named.
const SCANNED_AS_TEXT: &str = "NUL bytes near the start, in no UTF-16 pattern (binary, or UTF-16 with mostly non-ASCII text?): scanned as plain text because it was named";

/// The UTF-16 byte order that the NUL bytes of `head` show: text that is mostly ASCII has a
/// NUL in the high byte of most units, and almost none in the low ones.
fn utf16_by_nuls(head: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let units = head.len() / 2;
    if units < 2 {
        return None;
    }
    let (mut even, mut odd) = (0, 0);
    for pair in head.chunks_exact(2) {
        even += usize::from(pair[0] == 0);
        odd += usize::from(pair[1] == 0);
    }
    // Most high bytes NUL, at most a few low ones (U+0100, U+0200, … in the text).
    let mostly = |n: usize| n * 2 > units;
    let few = |n: usize| n * 16 <= units;
    if mostly(odd) && few(even) {
        Some(encoding_rs::UTF_16LE)
    } else if mostly(even) && few(odd) {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// Looks at the first bytes of a file (or of its decompressed content).
fn sniff(head: &[u8], explicit: bool) -> Sniff {
    match head.get(..2) {
        Some([0xFF, 0xFE]) => return Sniff::Utf16(encoding_rs::UTF_16LE),
        Some([0xFE, 0xFF]) => return Sniff::Utf16(encoding_rs::UTF_16BE),
        _ => {}
    }
    let head = &head[..head.len().min(HEAD_LEN)];
    if memchr(0, head).is_none() {
        return Sniff::Text;
    }
    if let Some(encoding) = utf16_by_nuls(head) {
        return Sniff::Utf16(encoding);
    }
    if explicit {
        Sniff::Named(SCANNED_AS_TEXT)
    } else if head.iter().all(|&b| b == 0) {
        Sniff::Binary("NUL-filled file")
    } else {
        Sniff::Binary("binary file (NUL bytes near the start, in no UTF-16 pattern)")
    }
}

/// The name of a UTF-16 encoding, as the summary gives it.
fn encoding_name(encoding: &'static encoding_rs::Encoding) -> &'static str {
    if encoding == encoding_rs::UTF_16LE {
        "utf-16le"
    } else {
        "utf-16be"
    }
}

/// The alignment of reads, in memory and (where the caller can choose) in the file: the
/// kernel copies from the page cache about twice as fast when both sides are aligned to a
/// cache line.
const READ_ALIGN: usize = 64;

/// A read buffer that is reused without being zeroed again: its storage only grows, and the
/// current read is `storage[head..head + len]`, with `head` on a [`READ_ALIGN`] boundary.
#[derive(Default)]
struct ReadBuffer {
    storage: Vec<u8>,
    head: usize,
    len: usize,
}

impl ReadBuffer {
    /// The bytes read so far.
    fn filled(&self) -> &[u8] {
        &self.storage[self.head..self.head + self.len]
    }

    fn clear(&mut self) {
        self.len = 0;
    }
}

/// Reads up to `want` bytes at `offset`, appending them to `buf`; fewer at the end of the file
/// (or when the file shrank meanwhile). Positional reads cannot fault like a mapping can.
/// With `cr` (lines end in a lone `\r`), each lone `\r` read is handed on as `\n`.
fn read_at(
    file: &File,
    offset: u64,
    want: usize,
    cr: bool,
    buf: &mut ReadBuffer,
) -> std::io::Result<usize> {
    if buf.len == 0 {
        // A fresh read starts on an aligned address.
        let room = want.saturating_add(READ_ALIGN);
        if buf.storage.len() < room {
            buf.storage.resize(room, 0);
        }
        buf.head = buf.storage.as_ptr().align_offset(READ_ALIGN) % READ_ALIGN;
    }
    let end = buf.head + buf.len + want;
    if buf.storage.len() < end {
        buf.storage.resize(end, 0);
    }
    let mut filled = 0;
    while filled < want {
        let at = offset + filled as u64;
        let into = &mut buf.storage[buf.head + buf.len + filled..end];
        #[cfg(unix)]
        let n = std::os::unix::fs::FileExt::read_at(file, into, at);
        #[cfg(windows)]
        let n = std::os::windows::fs::FileExt::seek_read(file, into, at);
        match n {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if cr {
        cr_to_lf(
            &mut buf.storage[buf.head..buf.head + buf.len + filled],
            buf.len,
        );
    }
    buf.len += filled;
    Ok(filled)
}

/// How much more is read first to find the end of a chunk's last line (most lines are
/// shorter); each further read doubles, up to [`OVERHANG_MAX`].
const OVERHANG_MIN: usize = 4 << 10;

/// The most that one read past a chunk's piece asks for.
const OVERHANG_MAX: usize = 1 << 20;

/// Reads chunk `index` of a body (the file from byte `base` on, `body_len` bytes) cut into
/// nominal `size`-byte pieces, made line-aligned: a chunk holds the lines that *start* in its
/// piece (the line at 0 belongs to chunk 0). Returns the chunk's range within `buf`.
#[allow(clippy::too_many_arguments)]
fn read_chunk(
    file: &File,
    cr: bool,
    base: u64,
    body_len: u64,
    index: u64,
    size: u64,
    buf: &mut ReadBuffer,
) -> std::io::Result<Range<usize>> {
    buf.clear();
    // Offsets below are in the file (the body starts at `base`).
    let piece_start = base + index * size;
    let piece_end = base + (index * size + size).min(body_len);
    // One byte before the piece tells whether the piece starts at a line start. The read
    // starts a little earlier, at an aligned offset (see `READ_ALIGN`).
    let first = if index == 0 { base } else { piece_start - 1 };
    let read_from = (first - first % READ_ALIGN as u64).max(base);
    let to_index = |offset: u64| usize::try_from(offset - read_from).unwrap_or(usize::MAX);
    read_at(file, read_from, to_index(piece_end), cr, buf)?;
    let start = if index == 0 {
        0
    } else {
        let skip = to_index(first);
        match memchr(b'\n', buf.filled().get(skip..).unwrap_or_default()) {
            Some(i) if first + (i as u64) + 1 < piece_end => skip + i + 1,
            // No line starts in this piece: it lies inside a line of an earlier chunk.
            _ => return Ok(0..0),
        }
    };
    // The chunk ends after the first `\n` at or past the piece's last byte.
    let mut search_from = to_index(piece_end).saturating_sub(1).max(start);
    let mut overhang = OVERHANG_MIN;
    loop {
        if let Some(i) = memchr(b'\n', buf.filled().get(search_from..).unwrap_or_default()) {
            return Ok(start..search_from + i + 1);
        }
        // The last byte again: a lone `\r` there becomes a line end once the next is read.
        search_from = buf.len.saturating_sub(1).max(start);
        let offset = read_from + buf.len as u64;
        if read_at(file, offset, overhang, cr, buf)? == 0 {
            return Ok(start..buf.len.max(start));
        }
        overhang = (overhang * 2).min(OVERHANG_MAX);
    }
}

thread_local! {
    /// Each worker's read buffer, reused from chunk to chunk and file to file.
    static READ_BUFFER: std::cell::RefCell<ReadBuffer> = std::cell::RefCell::new(ReadBuffer::default());
}

/// Scans a file through positional reads, chunks in parallel, each into its worker's reused
/// buffer: memory stays flat, and a file truncated or rewritten meanwhile can only make the
/// reads come up short. `body_start` skips a UTF-8 byte-order mark; `cr`: lines end in a
/// lone `\r`.
#[allow(clippy::too_many_arguments)]
fn scan_positional<P: Send>(
    file: &File,
    file_len: u64,
    body_start: u64,
    cr: bool,
    rules: &RuleSet,
    chunk_size: usize,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> std::io::Result<ScannedChunks<P>> {
    let size = (chunk_size.max(1) as u64).min(file_len.max(1));
    let body_len = file_len - body_start;
    let count = body_len.div_ceil(size).max(1);
    let parts: std::io::Result<Vec<P>> = (0..count)
        .into_par_iter()
        .map(|index| {
            let folded = READ_BUFFER.with_borrow_mut(|buf| {
                let range = read_chunk(file, cr, body_start, body_len, index, size, buf)?;
                let bytes = &buf.filled()[range];
                Ok::<_, std::io::Error>(fold(bytes, scan_chunk(rules, bytes)))
            })?;
            progress(size.min(body_len - (index * size).min(body_len)));
            Ok(folded)
        })
        .collect();
    Ok(ScannedChunks::new(parts?, file_len))
}

#[cfg(test)]
/// Scans bytes already in memory (the whole of one file), chunks in parallel, each folded
/// by `fold`, in order.
pub(crate) fn scan_bytes<P: Send>(
    data: &[u8],
    rules: &RuleSet,
    chunk_size: usize,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> ScannedChunks<P> {
    let translated;
    let data = if cr_line_ends(data) {
        translated = {
            let mut copy = data.to_vec();
            cr_to_lf(&mut copy, 0);
            copy
        };
        &translated[..]
    } else {
        data
    };
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let parts = fold_chunks(body, rules, chunk_size, progress, fold);
    ScannedChunks::new(parts, data.len() as u64)
}

/// What a caller makes of each chunk's findings, on the worker that scanned the chunk, with
/// the chunk's bytes still at hand (collectors that look at more than hits read them here).
pub(crate) type ChunkFold<'a, P> = dyn Fn(&[u8], ChunkFindings) -> P + Sync + 'a;

/// The chunks of `body` (in memory), scanned in parallel and folded, in order.
fn fold_chunks<P: Send>(
    body: &[u8],
    rules: &RuleSet,
    chunk_size: usize,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> Vec<P> {
    line_aligned_chunks(body, chunk_size)
        .par_iter()
        .map(|range| {
            let bytes = &body[range.clone()];
            let folded = fold(bytes, scan_chunk(rules, bytes));
            progress(range.len() as u64);
            folded
        })
        .collect()
}

/// One file's scan before its chunks are joined: what the fold made of each chunk, in file
/// order, and the facts of the whole file.
pub(crate) struct ScannedChunks<P> {
    /// The folded chunks, in file order.
    pub(crate) parts: Vec<P>,
    /// Bytes scanned (after decompression).
    pub(crate) bytes_scanned: u64,
    /// Something that made the scan of this file partial.
    pub(crate) warning: Option<String>,
    /// The file's text encoding, when it is not UTF-8.
    pub(crate) encoding: Option<&'static str>,
}

impl<P> ScannedChunks<P> {
    fn new(parts: Vec<P>, bytes_scanned: u64) -> ScannedChunks<P> {
        ScannedChunks {
            parts,
            bytes_scanned,
            warning: None,
            encoding: None,
        }
    }
}

impl<P> ScannedChunks<P> {
    /// The time of the file's last entry; `findings` gives each part's chunk findings.
    pub(crate) fn last_entry_time(
        &self,
        findings: impl Fn(&P) -> &ChunkFindings,
    ) -> Option<LogTime> {
        self.parts
            .iter()
            .rev()
            .find_map(|part| findings(part).scan.last_entry)
            .map(|p| p.time)
    }
}

/// Scans a mapped file, chunks in parallel.
fn scan_mapped<P: Send>(
    map: &[u8],
    rules: &RuleSet,
    opts: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> ScannedChunks<P> {
    let body = map.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(map);
    let parts = fold_chunks(body, rules, opts.chunk_size, progress, fold);
    ScannedChunks::new(parts, map.len() as u64)
}

/// Scans text that can only be read front to back (a gzip stream, UTF-16 being transcoded):
/// chunks are cut as the text is decoded and scanned in batches of one per worker, the next
/// batch decoded while the workers scan this one. Memory holds two batches, whatever the
/// size of the text. Returns the folded chunks, in order, and the chunker (which knows the
/// bytes decoded, the line ends and the error that ended the text early, if any).
fn scan_streamed<S: TextSource, P: Send>(
    source: S,
    cut_off: Option<Arc<AtomicBool>>,
    rules: &RuleSet,
    chunk_size: usize,
    fold: &ChunkFold<'_, P>,
) -> (Vec<P>, LineChunks<S>) {
    let mut chunks = LineChunks::new(source, chunk_size, cut_off);
    let batch_len = rayon::current_num_threads().max(1);
    let read_batch = |chunks: &mut LineChunks<S>| -> Vec<Vec<u8>> {
        std::iter::from_fn(|| chunks.next_chunk())
            .take(batch_len)
            .collect()
    };
    let mut parts = Vec::new();
    let mut batch = read_batch(&mut chunks);
    while !batch.is_empty() {
        let (next, folded) = rayon::join(
            || read_batch(&mut chunks),
            || {
                batch
                    .par_iter()
                    .map(|bytes| fold(bytes, scan_chunk(rules, bytes)))
                    .collect::<Vec<P>>()
            },
        );
        parts.extend(folded);
        batch = next;
    }
    (parts, chunks)
}

/// Scans a gzip file as it inflates (UTF-16 content transcoded on the way), up to
/// `opts.gzip_limit` decompressed bytes. A corrupt or truncated stream keeps what decoded,
/// with a warning.
fn scan_gzip<P: Send>(
    handle: File,
    explicit: bool,
    rules: &RuleSet,
    opts: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> Result<ScannedChunks<P>, ReadError> {
    let exceeded = Arc::new(AtomicBool::new(false));
    let counted = Counted {
        inner: handle,
        progress,
    };
    let inflated = Capped::new(
        MultiGzDecoder::new(counted),
        opts.gzip_limit,
        exceeded.clone(),
    );
    let mut replay = Replay::new(inflated);
    if let Some(e) = replay.failed_at_once() {
        return Err(ReadError::NotGzip(e));
    }
    let cut_off = Some(exceeded.clone());
    let sniffed = sniff(replay.head(), explicit);
    let (parts, decoded, error, encoding) = match sniffed {
        Sniff::Binary(what) => return Err(ReadError::Binary(what)),
        Sniff::Utf16(encoding) => {
            let source = Decoded::new(replay, encoding);
            let (parts, chunks) = scan_streamed(source, cut_off, rules, opts.chunk_size, fold);
            (
                parts,
                chunks.decoded,
                chunks.error,
                Some(encoding_name(encoding)),
            )
        }
        Sniff::Text | Sniff::Named(_) => {
            let (parts, chunks) =
                scan_streamed(Plain(replay), cut_off, rules, opts.chunk_size, fold);
            (parts, chunks.decoded, chunks.error, None)
        }
    };
    let mut scanned = ScannedChunks::new(parts, decoded);
    scanned.encoding = encoding;
    scanned.warning = match error {
        Some(e) if decoded == 0 => return Err(ReadError::NotGzip(e)),
        Some(e) => Some(format!(
            "gzip stream is damaged after {decoded} decompressed bytes ({e}); counted what decoded"
        )),
        None if exceeded.load(Ordering::Relaxed) => Some(format!(
            "decompressed size exceeds the gzip limit of {} bytes; scanned the first {decoded} bytes",
            opts.gzip_limit
        )),
        None => named_warning(&sniffed),
    };
    Ok(scanned)
}

/// Whether a file of `len` bytes is read through a mapping. Only where a mapped file cannot
/// shrink: on Windows, a file with a mapped view cannot be truncated by anyone, so its pages
/// stay backed. On Unix any process may truncate a mapped file, and touching a page past the
/// new end kills the reader with SIGBUS; no check before the access closes that window, so
/// files there are always read positionally. The live `easemob.log` is never mapped (a
/// mapped view would make the SDK's own truncation and rotation fail on Windows), nor is a
/// file whose lines end in a lone `\r` (its line ends are rewritten as they are read).
fn maps(file: &LogFile, len: u64, cr: bool, opts: &ReadOptions) -> bool {
    cfg!(windows) && len >= opts.mmap_min && !file.live && !cr
}

/// Scans one file from disk: gzip is inflated and UTF-16 transcoded as they stream through
/// line-aligned chunks, large rotated segments are mapped where that is safe, and everything
/// else (the live `easemob.log` above all) is read positionally. Each chunk's findings go
/// through `fold` on the worker that scanned the chunk, and the folded chunks come back in
/// file order.
pub(crate) fn scan_file_chunks<P: Send>(
    file: &LogFile,
    rules: &RuleSet,
    opts: &ReadOptions,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> Result<ScannedChunks<P>, ReadError> {
    let handle = File::open(&file.path)?;
    if file.gzip {
        return scan_gzip(handle, file.explicit, rules, opts, progress, fold);
    }
    // The size seen by discovery, moments ago, picks the path; a small file's one read also
    // tells whether it changed since.
    if file.size <= opts.chunk_size as u64 {
        return scan_small(&handle, file.size, file.explicit, rules, progress, fold);
    }
    let len = handle.metadata()?.len();
    let mut head = ReadBuffer::default();
    read_at(&handle, 0, HEAD_LEN, false, &mut head)?;
    let head = head.filled();
    let sniffed = sniff(head, file.explicit);
    match sniffed {
        Sniff::Binary(what) => return Err(ReadError::Binary(what)),
        Sniff::Utf16(encoding) => {
            let counted = Counted {
                inner: &handle,
                progress,
            };
            let source = Decoded::new(counted, encoding);
            let (parts, chunks) = scan_streamed(source, None, rules, opts.chunk_size, fold);
            if let Some(e) = chunks.error {
                return Err(ReadError::Io(e));
            }
            let mut scanned = ScannedChunks::new(parts, chunks.decoded);
            scanned.encoding = Some(encoding_name(encoding));
            return Ok(scanned);
        }
        Sniff::Text | Sniff::Named(_) => {}
    }
    let cr = cr_line_ends(head);
    if maps(file, len, cr, opts) {
        // SAFETY: see `maps`: while the view is mapped, the file cannot shrink.
        if let Ok(map) = unsafe { Mmap::map(&handle) } {
            let mut scanned = scan_mapped(&map, rules, opts, progress, fold);
            scanned.warning = named_warning(&sniffed);
            return Ok(scanned);
        }
    }
    let bom = if head.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut scanned = scan_positional(
        &handle,
        len,
        bom,
        cr,
        rules,
        opts.chunk_size,
        progress,
        fold,
    )?;
    let len_now = handle.metadata().map(|m| m.len()).unwrap_or(len);
    scanned.warning = if len_now != len {
        Some(format!(
            "the file changed size while it was scanned ({len} -> {len_now} bytes); counts reflect what was read"
        ))
    } else {
        named_warning(&sniffed)
    };
    Ok(scanned)
}

/// The warning a sniff gives a file that is scanned anyway.
fn named_warning(sniffed: &Sniff) -> Option<String> {
    match sniffed {
        Sniff::Named(warning) => Some((*warning).to_string()),
        _ => None,
    }
}

/// Scans a file of at most one chunk: one read into the worker's buffer, sniffed and scanned
/// there (no mapping, no second read for the sniff).
fn scan_small<P: Send>(
    handle: &File,
    len: u64,
    explicit: bool,
    rules: &RuleSet,
    progress: &(dyn Fn(u64) + Sync),
    fold: &ChunkFold<'_, P>,
) -> Result<ScannedChunks<P>, ReadError> {
    let (folded, bytes_scanned, encoding, got, want, named) =
        READ_BUFFER.with_borrow_mut(|buf| {
            buf.clear();
            // One byte more than expected: getting it means the file grew.
            let want = usize::try_from(len).unwrap_or(usize::MAX);
            let got = read_at(handle, 0, want.saturating_add(1), false, buf)?;
            buf.len = buf.len.min(want);
            let sniffed = sniff(buf.filled(), explicit);
            let (folded, scanned, encoding) = match sniffed {
                Sniff::Binary(what) => return Err(ReadError::Binary(what)),
                Sniff::Utf16(encoding) => {
                    let mut text = Vec::new();
                    let mut source = Decoded::new(buf.filled(), encoding);
                    while source.append(&mut text)? > 0 {}
                    let folded = scan_whole(&mut text, rules, fold);
                    (folded, text.len() as u64, Some(encoding_name(encoding)))
                }
                Sniff::Text | Sniff::Named(_) => {
                    let start = buf.head;
                    let bytes = &mut buf.storage[start..start + buf.len];
                    let scanned = bytes.len() as u64;
                    (scan_whole(bytes, rules, fold), scanned, None)
                }
            };
            Ok((
                folded,
                scanned,
                encoding,
                got,
                want,
                named_warning(&sniffed),
            ))
        })?;
    progress(len);
    let mut scanned = ScannedChunks::new(vec![folded], bytes_scanned);
    scanned.encoding = encoding;
    scanned.warning = named;
    if got != want {
        let len_now = handle.metadata().map(|m| m.len()).unwrap_or(got as u64);
        scanned.warning = Some(format!(
            "the file changed size while it was scanned ({len} -> {len_now} bytes); counts reflect what was read"
        ));
    }
    Ok(scanned)
}

/// Scans `data` (a whole file) as one chunk, on this thread, and folds it. Lines that end in
/// a lone `\r` are rewritten to end in `\n` first.
fn scan_whole<P>(data: &mut [u8], rules: &RuleSet, fold: &ChunkFold<'_, P>) -> P {
    if cr_line_ends(data) {
        cr_to_lf(data, 0);
    }
    let body = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    fold(body, scan_chunk(rules, body))
}

/// Discovers and scans at once, as ripgrep does: the walk goes on while the pool's workers
/// scan what it has found, instead of every worker waiting for the whole walk
/// (most of the wall time before any byte is read on a bundle of small files). Each batch the
/// walk hands on becomes one task of the pool, which looks up the sizes and spawns a scan per
/// file. `on_found` is told the size of each file as it is found, and `on_walked` once, after
/// the last `on_found` (the total is then known). Returns the discovery, its files in report
/// order, and what `scan` made of each file, in the same order.
pub(crate) fn discover_and_scan<T: Send>(
    paths: &[PathBuf],
    all_files: bool,
    on_found: &(dyn Fn(u64) + Sync),
    on_walked: &(dyn Fn() + Sync),
    scan: &(dyn Fn(&LogFile) -> T + Sync),
) -> (Discovery, Vec<T>) {
    type Done<T> = (LogFile, Option<FileIdentity>, T);
    let done: Mutex<Vec<Done<T>>> = Mutex::new(Vec::new());
    let unreadable = Mutex::new(Vec::new());
    // A file reached again by another path is scanned once: the first path found is scanned
    // as soon as it is found, the others wait here.
    let seen = Mutex::new(HashSet::new());
    let again = Mutex::new(Vec::new());
    let mut skipped = Vec::new();
    let mut not_scanned = Vec::new();
    // Batches not yet sized, plus one for the walk itself: whichever ends last has seen every
    // file found.
    let unsized_batches = AtomicUsize::new(1);
    let batch_sized = || {
        if unsized_batches.fetch_sub(1, Ordering::AcqRel) == 1 {
            on_walked();
        }
    };
    // In place: this thread walks, so that every worker of the pool is free to size and scan
    // what the walk finds.
    rayon::in_place_scope(|scope| {
        (skipped, not_scanned) = discover::walk(paths, all_files, &mut |batch| {
            let (done, unreadable, seen, again, batch_sized) =
                (&done, &unreadable, &seen, &again, &batch_sized);
            unsized_batches.fetch_add(1, Ordering::AcqRel);
            scope.spawn(move |scope| {
                for file in batch {
                    match discover::sized(file, discover::Fingerprint::Take) {
                        Ok((file, Some(id))) if !discover::lock(seen).insert(id) => {
                            discover::lock(again).push((file, id));
                        }
                        Ok((file, identity)) => {
                            on_found(file.size);
                            scope.spawn(move |_| {
                                let output = scan(&file);
                                discover::lock(done).push((file, identity, output));
                            });
                        }
                        Err(skip) => discover::lock(unreadable).push(skip),
                    }
                }
                batch_sized();
            });
        });
        batch_sized();
    });
    skipped.extend(discover::into_inner(unreadable));
    let mut done = discover::into_inner(done);
    // The path kept for a file is the first in report order, whichever the walk found first.
    let mut merged: Vec<(LogFile, FileIdentity)> = Vec::new();
    for (file, id) in discover::into_inner(again) {
        let Some(kept) = done
            .iter_mut()
            .find(|(_, identity, _)| *identity == Some(id))
        else {
            continue;
        };
        if discover::report_order(&file, &kept.0).is_lt() {
            let output = scan(&file);
            let was_kept = std::mem::replace(kept, (file, Some(id), output));
            merged.push((was_kept.0, id));
        } else {
            merged.push((file, id));
        }
    }
    for (file, id) in &merged {
        if let Some((kept, _, _)) = done.iter().find(|(_, identity, _)| *identity == Some(*id)) {
            skipped.push(discover::merged_path(file, kept));
        }
    }
    discover::sort_skipped(&mut skipped);
    discover::sort_in_report_order(&mut done, |(file, _, _)| file);
    let (files, outputs) = done
        .into_iter()
        .map(|(file, _, output)| (file, output))
        .unzip();
    (
        Discovery {
            files,
            skipped,
            not_scanned,
        },
        outputs,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::chunks::{FileScan, TextedChunk, place_hits};

    /// The hits of `data` scanned in chunks of `chunk_size`, placed by the join; with their
    /// line texts when `keep`.
    fn hits_of(data: &[u8], rules: &RuleSet, chunk_size: usize, keep: bool) -> FileScan {
        let scanned = scan_bytes(data, rules, chunk_size, &|_| {}, &|bytes, findings| {
            TextedChunk::new(bytes, findings, keep)
        });
        place_hits(scanned.parts, scanned.bytes_scanned)
    }

    /// The hits of one file from disk, placed by the join.
    fn scan_file(
        file: &LogFile,
        rules: &RuleSet,
        opts: &ReadOptions,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<FileScan, ReadError> {
        scan_file_chunks(file, rules, opts, progress, &|bytes, findings| {
            TextedChunk::new(bytes, findings, false)
        })
        .map(|scanned| place_hits(scanned.parts, scanned.bytes_scanned))
    }
    use proptest::prelude::*;

    #[test]
    fn scanning_while_discovering_equals_discovering_then_scanning() {
        let dir = tempfile::tempdir().unwrap();
        for device in ["PC-2", "PC-1", "PC-3"] {
            let logs = dir.path().join(device).join("sdkdata/easemobLog");
            std::fs::create_dir_all(&logs).unwrap();
            for (i, name) in ["easemob.log", "easemob_2024-03-01_09-00-00.log"]
                .iter()
                .enumerate()
            {
                let line = format!("[2024/03/01 08:00:0{i}:001]: x failed, code: 30{i}; desc: y\n");
                std::fs::write(logs.join(name), line.repeat(i + device.len())).unwrap();
            }
        }
        std::fs::write(dir.path().join("PC-1/notes.txt"), "code: 1; desc: z\n").unwrap();
        let paths = [dir.path().to_path_buf()];
        // Chunks of 16 bytes: files of several chunks are split while the walk goes on.
        let opts = ReadOptions {
            chunk_size: 16,
            ..ReadOptions::default()
        };
        let rules = RuleSet::builtin();
        let none = &|_| {};
        for all_files in [false, true] {
            let discovered = discover::discover(&paths, all_files);
            let expected: Vec<FileScan> = discovered
                .files
                .iter()
                .map(|file| scan_file(file, &rules, &opts, none).unwrap())
                .collect();
            for threads in [1, 2, 4] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let found_sizes = std::sync::atomic::AtomicU64::new(0);
                let on_found = |bytes| {
                    found_sizes.fetch_add(bytes, std::sync::atomic::Ordering::Relaxed);
                };
                // The sizes found when the walk is said to be over, once per call.
                let at_walked = Mutex::new(Vec::new());
                let on_walked = || {
                    let sum = found_sizes.load(std::sync::atomic::Ordering::Relaxed);
                    at_walked.lock().unwrap().push(sum);
                };
                let (found, scans) = pool.install(|| {
                    discover_and_scan(&paths, all_files, &on_found, &on_walked, &|file| {
                        scan_file(file, &rules, &opts, none).unwrap()
                    })
                });
                assert_eq!(found.files, discovered.files);
                assert_eq!(found.skipped, discovered.skipped);
                assert_eq!(scans, expected);
                let total: u64 = discovered.files.iter().map(|f| f.size).sum();
                assert_eq!(found_sizes.into_inner(), total);
                // Told once, after every file was found: the total it knows is the whole.
                assert_eq!(at_walked.into_inner().unwrap(), [total]);
            }
        }
    }

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
        let scan = hits_of(
            b"\xEF\xBB\xBF[2024/03/01 08:00:00:001]: a\r\nb",
            &rules,
            8,
            false,
        );
        assert_eq!(scan.lines, 2);
        assert!(scan.truncated_last_line && scan.crlf);
        assert_eq!(scan.first.unwrap().to_string(), "2024-03-01 08:00:00.001");
        assert_eq!(hits_of(b"", &rules, 8, false).lines, 0);
        assert_eq!(hits_of(b"\n", &rules, 8, false).lines, 1);
    }

    #[test]
    fn kept_lines_are_the_hit_lines_without_terminators() {
        let rules = RuleSet::builtin();
        let text = b"[2024/03/01 08:00:00:001]: a failed, code: 300; desc: x\r\n  cont errorCode=3, desc=\xff\r\nlast onDisconnect2";
        for chunk in [1, 7, 64, usize::MAX] {
            let kept = hits_of(text, &rules, chunk, true);
            let lines: Vec<&str> = kept.hits.iter().filter_map(|h| h.text.as_deref()).collect();
            assert_eq!(
                lines,
                [
                    "[2024/03/01 08:00:00:001]: a failed, code: 300; desc: x",
                    "  cont errorCode=3, desc=\u{fffd}",
                    "last onDisconnect2"
                ]
            );
            let plain = hits_of(text, &rules, chunk, false);
            assert!(plain.hits.iter().all(|h| h.text.is_none()));
            let mut without = kept.clone();
            without.hits.iter_mut().for_each(|h| h.text = None);
            assert_eq!(without, plain);
        }
    }

    /// A file found in a folder (not named on the command line), to scan from disk.
    fn found_file(path: &std::path::Path) -> LogFile {
        LogFile {
            path: path.to_path_buf(),
            rel_path: path.to_string_lossy().into_owned(),
            device: "d".into(),
            gzip: path.extension().is_some_and(|e| e == "gz"),
            size: std::fs::metadata(path).unwrap().len(),
            rotated_at: None,
            rotation_number: None,
            live: false,
            explicit: false,
            fingerprint: None,
        }
    }

    #[test]
    fn gzip_damage_keeps_what_decoded() {
        use flate2::{Compression, write::GzEncoder};
        use std::io::Write;
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        let line = "[2024/03/01 08:00:00:001]: x failed, code: 300; desc: y\n";
        let text = line.repeat(2000);
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cut.log.gz");
        let rules = RuleSet::builtin();
        let fold = |bytes: &[u8], findings| TextedChunk::new(bytes, findings, false);
        let scan = |opts: &ReadOptions| {
            scan_file_chunks(&found_file(&path), &rules, opts, &|_| {}, &fold)
                .map(|s| (s.warning.clone(), place_hits(s.parts, s.bytes_scanned)))
        };
        let small_chunks = ReadOptions {
            chunk_size: 1000,
            ..ReadOptions::default()
        };
        std::fs::write(&path, &gz[..gz.len() / 2]).unwrap();
        let (warning, cut) = scan(&small_chunks).unwrap();
        assert!(cut.bytes_scanned > 0 && cut.bytes_scanned < text.len() as u64);
        assert!(warning.unwrap().contains("damaged"));

        std::fs::write(&path, &gz).unwrap();
        let (warning, whole) = scan(&small_chunks).unwrap();
        assert_eq!((warning, whole.hits.len()), (None, 2000));
        let capped = ReadOptions {
            gzip_limit: 1000,
            ..small_chunks
        };
        let (warning, first) = scan(&capped).unwrap();
        let whole_lines = 1000 / line.len();
        assert_eq!(first.bytes_scanned, (whole_lines * line.len()) as u64);
        assert_eq!(
            (first.hits.len(), first.lines),
            (whole_lines, whole_lines as u64)
        );
        assert!(warning.unwrap().contains("gzip limit"));

        std::fs::write(&path, b"plain text").unwrap();
        let err = scan(&small_chunks).unwrap_err();
        assert!(matches!(err, ReadError::NotGzip(_)));
        assert!(err.to_string().starts_with("not a readable gzip file: "));
    }

    #[test]
    fn files_are_mapped_only_where_a_mapped_file_cannot_shrink() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("easemob_2024-03-01_07-00-00.log");
        std::fs::write(&path, "x\n").unwrap();
        let rotated = found_file(&path);
        let live = LogFile {
            live: true,
            ..rotated.clone()
        };
        let opts = ReadOptions {
            mmap_min: 1,
            ..ReadOptions::default()
        };
        // A truncated mapping faults (SIGBUS) on Unix: nothing is mapped there.
        assert_eq!(maps(&rotated, 1 << 30, false, &opts), cfg!(windows));
        assert!(!maps(&live, 1 << 30, false, &opts));
        assert!(!maps(&rotated, 1 << 30, true, &opts));
        assert!(!maps(&rotated, 1 << 30, false, &ReadOptions::default()));
    }

    #[test]
    fn lone_cr_line_ends_count_each_line() {
        let rules = RuleSet::builtin();
        let text = "[2024/03/01 08:00:00:001]: a failed, code: 300; desc: x\r".repeat(5);
        for chunk in [1, 7, 64, usize::MAX] {
            let scan = hits_of(text.as_bytes(), &rules, chunk, false);
            assert_eq!((scan.hits.len(), scan.lines), (5, 5), "chunk {chunk}");
            let lines: Vec<u64> = scan.hits.iter().map(|h| h.line).collect();
            assert_eq!(lines, [1, 2, 3, 4, 5]);
        }
    }

    /// Lone-CR line ends for longer than the head that decides them, then CRLF: each line
    /// counted once, whatever the chunk size and the way it is read.
    #[test]
    fn a_file_of_lone_cr_lines_that_turns_to_crlf_gains_no_empty_lines() {
        let rules = RuleSet::builtin();
        let filler = "[2024/03/01 08:00:00:001]: nothing to see here\r".repeat(200);
        assert!(filler.len() > HEAD_LEN);
        let tail = "[2024/03/01 08:00:00:002]: a failed, code: 300; desc: x\r\n".repeat(5);
        let bytes = format!("{filler}{tail}").into_bytes();
        assert!(cr_line_ends(&bytes));
        let mut file = tempfile::tempfile().unwrap();
        std::io::Write::write_all(&mut file, &bytes).unwrap();
        for chunk in [1, 7, 64, 4096, usize::MAX] {
            let whole = hits_of(&bytes, &rules, chunk, false);
            let lines: Vec<u64> = whole.hits.iter().map(|h| h.line).collect();
            assert_eq!(lines, [201, 202, 203, 204, 205], "chunk {chunk}");
            assert_eq!(whole.lines, 205, "chunk {chunk}");
            let size = chunk.min(1 << 20);
            let read = scan_positional(
                &file,
                bytes.len() as u64,
                0,
                true,
                &rules,
                size,
                &|_| {},
                &|b, f| TextedChunk::new(b, f, false),
            )
            .unwrap();
            assert_eq!(
                place_hits(read.parts, read.bytes_scanned),
                whole,
                "chunk {chunk}"
            );
            let (parts, streamed) =
                scan_streamed(Plain(&bytes[..]), None, &rules, size, &|b, f| {
                    TextedChunk::new(b, f, false)
                });
            assert_eq!(place_hits(parts, streamed.decoded), whole, "chunk {chunk}");
        }
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
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            // Lone-CR lines past the head that decides line ends, before the lines.
            cr_head in any::<bool>(),
            final_newline in any::<bool>(),
            chunk in 1usize..200,
        ) {
            let mut text = lines.join(eol);
            if final_newline && !text.is_empty() { text.push_str(eol); }
            if cr_head {
                text.insert_str(0, &"[2024/03/01 08:00:00:001]: code: 2\r".repeat(300));
            }
            let rules = RuleSet::builtin();
            let whole = hits_of(text.as_bytes(), &rules, usize::MAX, true);
            let split = hits_of(text.as_bytes(), &rules, chunk, true);
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
            let whole = hits_of(&bytes, &rules, usize::MAX, false);
            let split = hits_of(&bytes, &rules, chunk, false);
            prop_assert_eq!(whole, split);
        }

        #[test]
        fn positional_reads_match_in_memory_scans(
            lines in proptest::collection::vec(log_line(), 0..40),
            bom in any::<bool>(),
            eol in prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            // Lone-CR lines past the head that decides line ends, before the lines.
            cr_head in any::<bool>(),
            final_newline in any::<bool>(),
            chunk in 1usize..300,
            // A line longer than the first read past a piece (so that reads double).
            long_line in proptest::option::of((0usize..40, 4_000usize..20_000)),
        ) {
            let mut lines = lines;
            if let Some((at, len)) = long_line {
                let line = format!("{} errorCode=5, desc=", "x".repeat(len));
                lines.insert(at.min(lines.len()), line);
            }
            let mut text = lines.join(eol);
            if final_newline && !text.is_empty() { text.push_str(eol); }
            let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
            if cr_head {
                bytes.extend_from_slice("[2024/03/01 08:00:00:001]: code: 2\r".repeat(300).as_bytes());
            }
            bytes.extend_from_slice(text.as_bytes());
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &bytes).unwrap();
            let rules = RuleSet::builtin();
            let whole = hits_of(&bytes, &rules, usize::MAX, true);
            let cr = cr_line_ends(&bytes);
            let read = scan_positional(&file, bytes.len() as u64, if bom { 3 } else { 0 }, cr, &rules, chunk, &|_| {}, &|b, f| TextedChunk::new(b, f, true)).unwrap();
            let read = place_hits(read.parts, read.bytes_scanned);
            prop_assert_eq!(&whole, &read);
            let (parts, streamed) = scan_streamed(Plain(&bytes[..]), None, &rules, chunk, &|b, f| TextedChunk::new(b, f, true));
            prop_assert_eq!(&whole, &place_hits(parts, streamed.decoded));
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
