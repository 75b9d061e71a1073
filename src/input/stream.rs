//! Streamed text: content that can only be read front to back (a gzip stream, UTF-16 being
//! transcoded) cut into line-aligned chunks as it is decoded, so that memory holds a few
//! chunks at a time, whatever the size of the input.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use memchr::{memchr, memrchr};

/// How many bytes one read from a source asks for.
const READ_PIECE: usize = 64 << 10;

/// How many leading bytes decide whether a file's lines end in a lone `\r` (and are sniffed
/// for a byte-order mark and NUL bytes).
pub(crate) const HEAD_LEN: usize = 8 << 10;

/// Whether the lines of a text whose first bytes are `head` end in a lone `\r` (old Mac
/// style): no `\n` in the head, and a `\r`. Only the first [`HEAD_LEN`] bytes are looked at,
/// so that the answer never depends on how the text is read or chunked.
pub(crate) fn cr_line_ends(head: &[u8]) -> bool {
    let head = &head[..head.len().min(HEAD_LEN)];
    memchr(b'\n', head).is_none() && memchr(b'\r', head).is_some()
}

/// Turns each lone `\r` (one not followed by `\n`) into `\n`: the lines of a text with
/// [`cr_line_ends`], in the form the search reads; a `\r\n` further on stays one line end.
/// `text[from..]` is new; the byte before it is decided now if the last call left it: a `\r`
/// at the very end waits for the byte after it (at the end of the text it ends the last line
/// as it is, as a `\r` before the end of a line is trimmed).
pub(crate) fn cr_to_lf(text: &mut [u8], from: usize) {
    for at in from.saturating_sub(1)..text.len().saturating_sub(1) {
        if text[at] == b'\r' && text[at + 1] != b'\n' {
            text[at] = b'\n';
        }
    }
}

/// Decoded text, appended to a buffer a piece at a time.
pub(crate) trait TextSource: Send {
    /// Appends the next piece of text to `buf`; `Ok(0)` at the end.
    fn append(&mut self, buf: &mut Vec<u8>) -> io::Result<usize>;
}

/// Bytes that are text as they are (UTF-8).
pub(crate) struct Plain<R>(pub(crate) R);

impl<R: Read + Send> TextSource for Plain<R> {
    fn append(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        let old = buf.len();
        buf.resize(old + READ_PIECE, 0);
        let read = loop {
            match self.0.read(&mut buf[old..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                other => break other,
            }
        };
        buf.truncate(old + *read.as_ref().unwrap_or(&0));
        read
    }
}

/// Bytes in another encoding (UTF-16), transcoded to UTF-8 as they are read; a byte-order
/// mark is removed, malformed units become U+FFFD.
pub(crate) struct Decoded<R> {
    raw: R,
    decoder: encoding_rs::Decoder,
    piece: Vec<u8>,
    ended: bool,
}

impl<R: Read + Send> Decoded<R> {
    /// `raw`, decoded from `encoding`.
    pub(crate) fn new(raw: R, encoding: &'static encoding_rs::Encoding) -> Decoded<R> {
        Decoded {
            raw,
            decoder: encoding.new_decoder_with_bom_removal(),
            piece: vec![0; READ_PIECE],
            ended: false,
        }
    }
}

impl<R: Read + Send> TextSource for Decoded<R> {
    fn append(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        // A piece may decode to nothing (half a code unit): read on until something comes.
        while !self.ended {
            let read = match self.raw.read(&mut self.piece) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => other?,
            };
            let last = read == 0;
            let room = self
                .decoder
                .max_utf8_buffer_length(read)
                .ok_or_else(|| io::Error::other("decoded text too large"))?;
            let old = buf.len();
            buf.resize(old + room, 0);
            let (_, _, written, _) =
                self.decoder
                    .decode_to_utf8(&self.piece[..read], &mut buf[old..], last);
            buf.truncate(old + written);
            self.ended = last;
            if written > 0 {
                return Ok(written);
            }
        }
        Ok(0)
    }
}

/// A reader whose first bytes were already read (to sniff them): gives them back, then the
/// error that stopped that first read (if any), then the rest.
pub(crate) struct Replay<R> {
    head: io::Cursor<Vec<u8>>,
    error: Option<io::Error>,
    rest: R,
}

impl<R: Read> Replay<R> {
    /// Reads up to [`HEAD_LEN`] bytes of `reader` (fewer at its end or on an error).
    pub(crate) fn new(mut reader: R) -> Replay<R> {
        let mut head = Vec::with_capacity(HEAD_LEN);
        let error = (&mut reader)
            .take(HEAD_LEN as u64)
            .read_to_end(&mut head)
            .err();
        Replay {
            head: io::Cursor::new(head),
            error,
            rest: reader,
        }
    }

    /// The first bytes.
    pub(crate) fn head(&self) -> &[u8] {
        self.head.get_ref()
    }

    /// The error that stopped the first read before any byte came.
    pub(crate) fn failed_at_once(&mut self) -> Option<io::Error> {
        if self.head().is_empty() {
            self.error.take()
        } else {
            None
        }
    }
}

impl<R: Read> Read for Replay<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.head.read(buf)?;
        if n > 0 || buf.is_empty() {
            return Ok(n);
        }
        match self.error.take() {
            Some(e) => Err(e),
            None => self.rest.read(buf),
        }
    }
}

/// A reader cut off after `limit` bytes; `exceeded` is set when more were there.
pub(crate) struct Capped<R> {
    inner: R,
    left: u64,
    exceeded: Arc<AtomicBool>,
}

impl<R: Read> Capped<R> {
    /// `inner`, cut off after `limit` bytes; `exceeded` tells whether more were there.
    pub(crate) fn new(inner: R, limit: u64, exceeded: Arc<AtomicBool>) -> Capped<R> {
        Capped {
            inner,
            left: limit,
            exceeded,
        }
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.left == 0 {
            if !self.exceeded.load(Ordering::Relaxed) && self.inner.read(&mut [0])? > 0 {
                self.exceeded.store(true, Ordering::Relaxed);
            }
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

/// A reader that tells `progress` how many bytes it read (on-disk bytes, for the progress bar).
pub(crate) struct Counted<'a, R> {
    pub(crate) inner: R,
    pub(crate) progress: &'a (dyn Fn(u64) + Sync),
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.progress)(n as u64);
        Ok(n)
    }
}

/// A text source cut into chunks of whole lines, of about `chunk_size` bytes each (a chunk
/// ends after the last `\n` it holds; a line longer than a chunk makes its chunk longer).
/// A UTF-8 byte-order mark is dropped; lines ending in a lone `\r` ([`cr_line_ends`]) are
/// handed on ending in `\n`.
pub(crate) struct LineChunks<S> {
    source: S,
    chunk_size: usize,
    /// What the last chunk left: the start of a line.
    carry: Vec<u8>,
    /// Whether lines end in a lone `\r` (`None`: the head has not been seen yet).
    cr: Option<bool>,
    /// The source has ended (or failed).
    ended: bool,
    /// Set when the text was cut off: the unfinished last line is dropped.
    cut_off: Option<Arc<AtomicBool>>,
    /// Decoded bytes handed on (a byte-order mark included).
    pub(crate) decoded: u64,
    /// The error that ended the source early.
    pub(crate) error: Option<io::Error>,
}

impl<S: TextSource> LineChunks<S> {
    /// The chunks of `source`. When `cut_off` is set at the end, the text was cut off and its
    /// unfinished last line is dropped.
    pub(crate) fn new(
        source: S,
        chunk_size: usize,
        cut_off: Option<Arc<AtomicBool>>,
    ) -> LineChunks<S> {
        LineChunks {
            source,
            chunk_size: chunk_size.max(1),
            carry: Vec::new(),
            cr: None,
            ended: false,
            cut_off,
            decoded: 0,
            error: None,
        }
    }

    /// Whether lines end in a lone `\r` (known once the first chunk is out).
    pub(crate) fn cr(&self) -> bool {
        self.cr == Some(true)
    }

    /// Reads one more piece into `buf`; returns whether the source ended.
    fn fill(&mut self, buf: &mut Vec<u8>) -> bool {
        let old = buf.len();
        match self.source.append(buf) {
            Ok(0) => self.ended = true,
            Ok(_) => {
                if self.cr() {
                    cr_to_lf(buf, old);
                }
            }
            Err(e) => {
                self.error = Some(e);
                self.ended = true;
            }
        }
        self.ended
    }

    /// The next chunk, `None` at the end.
    pub(crate) fn next_chunk(&mut self) -> Option<Vec<u8>> {
        let mut buf = std::mem::take(&mut self.carry);
        let first = self.cr.is_none();
        // The first chunk waits for the whole head, which decides the line ends.
        let want = if first {
            self.chunk_size.max(HEAD_LEN)
        } else {
            self.chunk_size
        };
        while buf.len() < want && !self.ended {
            self.fill(&mut buf);
        }
        if first {
            let cr = cr_line_ends(&buf);
            self.cr = Some(cr);
            if cr {
                cr_to_lf(&mut buf, 0);
            }
            if buf.starts_with(b"\xEF\xBB\xBF") {
                buf.drain(..3);
                self.decoded += 3;
            }
        }
        // Cut after the last `\n`; read on while there is none.
        let mut searched = 0;
        let cut = loop {
            if let Some(i) = memrchr(b'\n', &buf[searched..]) {
                break searched + i + 1;
            }
            searched = buf.len();
            if self.ended {
                break buf.len();
            }
            self.fill(&mut buf);
        };
        if self.ended && cut == buf.len() {
            // The end: what is left is the last line, unfinished unless the text was cut off.
            if self
                .cut_off
                .as_ref()
                .is_some_and(|c| c.load(Ordering::Relaxed))
            {
                buf.truncate(memrchr(b'\n', &buf).map_or(0, |i| i + 1));
            }
        } else {
            self.carry = buf[cut..].to_vec();
            buf.truncate(cut);
        }
        self.decoded += buf.len() as u64;
        (!buf.is_empty()).then_some(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks_of(text: &[u8], chunk_size: usize) -> Vec<Vec<u8>> {
        let mut chunks = LineChunks::new(Plain(text), chunk_size, None);
        std::iter::from_fn(|| chunks.next_chunk()).collect()
    }

    #[test]
    fn chunks_end_at_line_ends_and_keep_every_byte() {
        let text = b"aa\nbbbb\nc\n\ndd";
        for size in 1..=text.len() + 1 {
            let chunks = chunks_of(text, size);
            assert_eq!(chunks.concat(), text, "{size}");
            for c in &chunks[..chunks.len() - 1] {
                assert!(c.ends_with(b"\n"), "{size}: {c:?}");
            }
        }
        assert!(chunks_of(b"", 4).is_empty());
    }

    #[test]
    fn lone_cr_line_ends_become_lf_and_a_bom_goes() {
        assert_eq!(chunks_of(b"\xEF\xBB\xBFa\rb\rc", 2).concat(), b"a\nb\nc");
        assert_eq!(chunks_of(b"a\r\nb\r", 2).concat(), b"a\r\nb\r");
        assert!(cr_line_ends(b"a\rb") && !cr_line_ends(b"a\r\nb") && !cr_line_ends(b"ab"));
    }

    #[test]
    fn utf16_is_transcoded_across_pieces() {
        let text = "第一行 code: 1\n".repeat(10_000);
        let mut raw = vec![0xFF, 0xFE];
        raw.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut chunks = LineChunks::new(Decoded::new(&raw[..], encoding_rs::UTF_16LE), 1000, None);
        let out: Vec<u8> = std::iter::from_fn(|| chunks.next_chunk())
            .flatten()
            .collect();
        assert_eq!(out, text.as_bytes());
        assert_eq!(chunks.decoded, text.len() as u64);
    }

    #[test]
    fn a_cut_off_text_drops_its_unfinished_line() {
        let exceeded = Arc::new(AtomicBool::new(false));
        let capped = Capped::new(&b"ab\ncd\nef"[..], 5, exceeded.clone());
        let mut chunks = LineChunks::new(Plain(capped), 2, Some(exceeded.clone()));
        let out: Vec<u8> = std::iter::from_fn(|| chunks.next_chunk())
            .flatten()
            .collect();
        assert_eq!(out, b"ab\n");
        assert!(exceeded.load(Ordering::Relaxed));
    }
}
