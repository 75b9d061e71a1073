//! JSON output: the summary serialised as is (`emscan.scan/2`).
//!
//! On a big bundle the per-code, per-file, per-device and burst lists are most of the output,
//! and their elements are independent: each is rendered on its own, in parallel, and the
//! document is written around them. The bytes are those of `serde_json::to_writer_pretty` on
//! the whole summary (a test holds the two to that).

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use crate::Summary;

/// What separates the elements of a top-level list.
const LIST_SEPARATOR: &[u8] = b",\n    ";

/// Appends `json` (pretty JSON rendered on its own) to `out` with each line after the first
/// indented, to place it inside the document. (Raw newlines only separate tokens: strings
/// escape theirs.) One pass over the rendered bytes, rather than one per fragment serde writes.
fn append_indented(out: &mut Vec<u8>, json: &[u8], indent: &[u8]) {
    let mut from = 0;
    for i in memchr::memchr_iter(b'\n', json) {
        out.extend_from_slice(&json[from..=i]);
        out.extend_from_slice(indent);
        from = i + 1;
    }
    out.extend_from_slice(&json[from..]);
}

/// Renders one piece of the document on its own, appending it to the buffer given: a whole
/// value or a run of list elements.
type Piece<'a> = Box<dyn Fn(&mut Vec<u8>) -> serde_json::Result<()> + Send + Sync + 'a>;

thread_local! {
    /// Each worker's buffer for a value rendered before it is indented into place.
    static RENDERED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Appends `value` rendered as pretty JSON to `out`, each line after the first indented by
/// `indent`.
fn render_indented<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
    indent: &[u8],
) -> serde_json::Result<()> {
    RENDERED.with_borrow_mut(|rendered| {
        rendered.clear();
        serde_json::to_writer_pretty(&mut *rendered, value)?;
        append_indented(out, rendered, indent);
        Ok(())
    })
}

/// A field of the top-level object: its key and the pieces of its value.
enum Part<'a> {
    /// A value rendered whole, one level in.
    Value(&'a str, Piece<'a>),
    /// A list, in runs of elements (none: an empty list), two levels in.
    List(&'a str, Vec<Piece<'a>>),
}

impl<'a> Part<'a> {
    fn value<T: Serialize + Sync + ?Sized>(name: &'a str, value: &'a T) -> Part<'a> {
        Part::Value(
            name,
            Box::new(move |text: &mut Vec<u8>| render_indented(text, value, b"  ")),
        )
    }

    /// A list in runs small enough to spread over the workers.
    fn list<T: Serialize + Sync>(name: &'a str, items: &'a [T]) -> Part<'a> {
        let per_run = items
            .len()
            .div_ceil(rayon::current_num_threads() * 16)
            .max(1);
        let runs = items
            .chunks(per_run)
            .map(|run| Box::new(move |text: &mut Vec<u8>| render_run(text, run)) as Piece<'a>)
            .collect();
        Part::List(name, runs)
    }

    fn pieces(&self) -> &[Piece<'a>] {
        match self {
            Part::Value(_, piece) => std::slice::from_ref(piece),
            Part::List(_, runs) => runs,
        }
    }
}

/// Appends a run of list elements, each indented two levels, with the separators between
/// them.
fn render_run<T: Serialize>(text: &mut Vec<u8>, run: &[T]) -> serde_json::Result<()> {
    for (i, item) in run.iter().enumerate() {
        if i > 0 {
            text.extend_from_slice(LIST_SEPARATOR);
        }
        render_indented(text, item, b"    ")?;
    }
    Ok(())
}

/// Writes the summary as one pretty-printed JSON object and a newline. The fields are those
/// of [`Summary`], in its order, in serde_json's layout (two spaces per level). The pieces of
/// all fields are rendered in parallel, in waves across fields (see [`Waves`]).
pub(crate) fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let mut parts = vec![
        Part::value("schema", &summary.schema),
        Part::value("root", &summary.root),
        Part::list("codes", &summary.codes),
        Part::list("unknown_codes", &summary.unknown_codes),
        Part::value("success", &summary.success),
        Part::list("files", &summary.files),
        Part::value("skipped", &summary.skipped),
    ];
    if !summary.not_scanned.is_empty() {
        parts.push(Part::value("not_scanned", &summary.not_scanned));
    }
    parts.push(Part::value("stats", &summary.stats));
    if let Some(window) = &summary.window {
        parts.push(Part::value("window", window));
    }
    parts.extend([
        Part::value("timeline", &summary.timeline),
        Part::list("bursts", &summary.bursts),
        Part::list("devices", &summary.devices),
        Part::value("unmatched_templates", &summary.unmatched_templates),
    ]);
    let pieces: Vec<&Piece<'_>> = parts.iter().flat_map(Part::pieces).collect();
    let mut rendered = Waves {
        pieces: pieces.chunks(rayon::current_num_threads() * 4),
        ready: Vec::new().into_iter(),
        spare: Vec::new(),
    };
    for (i, part) in parts.iter().enumerate() {
        out.write_all(if i == 0 { b"{\n  " } else { b",\n  " })?;
        let name = match part {
            Part::Value(name, _) | Part::List(name, _) => name,
        };
        serde_json::to_writer(&mut *out, name)?;
        out.write_all(b": ")?;
        match part {
            Part::Value(..) => rendered.write_next(out)?,
            Part::List(_, runs) if runs.is_empty() => out.write_all(b"[]")?,
            Part::List(_, runs) => {
                out.write_all(b"[\n    ")?;
                for i in 0..runs.len() {
                    if i > 0 {
                        out.write_all(LIST_SEPARATOR)?;
                    }
                    rendered.write_next(out)?;
                }
                out.write_all(b"\n  ]")?;
            }
        }
    }
    out.write_all(b"\n}\n")
}

/// The document's pieces, rendered in order in waves of a few per worker: the output is
/// never held whole, and the buffers of a wave are written out and handed to the next wave
/// to render into, so that memory is touched once (first touches of fresh memory are costly:
/// ~0.4 ms per MiB, and several times that for huge pages the host has taken back).
struct Waves<'p, 'a> {
    pieces: std::slice::Chunks<'p, &'p Piece<'a>>,
    ready: std::vec::IntoIter<Vec<u8>>,
    /// Buffers written out, for the next wave.
    spare: Vec<Vec<u8>>,
}

impl Waves<'_, '_> {
    /// Writes the next piece (nothing past the last one).
    fn write_next(&mut self, out: &mut dyn Write) -> io::Result<()> {
        loop {
            if let Some(mut text) = self.ready.next() {
                out.write_all(&text)?;
                text.clear();
                self.spare.push(text);
                return Ok(());
            }
            let Some(wave) = self.pieces.next() else {
                return Ok(());
            };
            let mut texts: Vec<Vec<u8>> = (0..wave.len())
                .map(|_| self.spare.pop().unwrap_or_default())
                .collect();
            texts
                .par_iter_mut()
                .zip(wave.par_iter())
                .try_for_each(|(text, piece)| piece(text))?;
            self.ready = texts.into_iter();
        }
    }
}

/// Writes any serialisable value as pretty JSON and a newline.
pub(crate) fn write_value<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ScanConfig, scan_paths};

    /// The parallel rendering is byte for byte serde_json's rendering of the whole summary.
    #[test]
    fn parallel_rendering_is_serde_output() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for root in [
            here.join("fixtures/sample-bundle"),
            here.join("fixtures/utf16-legacy"),
        ] {
            let whole = ScanConfig::new(vec![root]);
            // A window adds the optional field.
            let mut windowed = whole.clone();
            windowed.since = Some(crate::TimeBound::BeforeLast(3_600_000));
            for config in [whole, windowed] {
                let summary = scan_paths(&config, &|_| {}, &|_| {}).unwrap();
                assert!(!summary.codes.is_empty() && !summary.bursts.is_empty());
                let mut plain = serde_json::to_vec_pretty(&summary).unwrap();
                plain.push(b'\n');
                // One thread: runs of several elements per task; more: runs of one or two.
                for threads in [1, 4] {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(threads)
                        .build()
                        .unwrap();
                    let mut ours = Vec::new();
                    pool.install(|| write_summary(&mut ours, &summary)).unwrap();
                    assert_eq!(
                        String::from_utf8(ours).unwrap(),
                        String::from_utf8(plain.clone()).unwrap()
                    );
                }
            }
        }
    }
}
