//! JSON output: the summary serialised as is (`emscan.scan/1`).
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

/// The top-level object of a pretty-printed document, written field by field in serde_json's
/// layout (two spaces per level).
struct TopLevel<'w> {
    out: &'w mut dyn Write,
    fields: usize,
}

impl TopLevel<'_> {
    /// Starts the next field: its separator, indent and key.
    fn key(&mut self, name: &str) -> io::Result<()> {
        let lead: &[u8] = if self.fields == 0 { b"{\n  " } else { b",\n  " };
        self.fields += 1;
        self.out.write_all(lead)?;
        serde_json::to_writer(&mut *self.out, name)?;
        self.out.write_all(b": ")
    }

    /// A field whose value is rendered whole, one level in.
    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> io::Result<()> {
        self.key(name)?;
        let rendered = serde_json::to_vec_pretty(value)?;
        let mut text = Vec::with_capacity(rendered.len());
        append_indented(&mut text, &rendered, b"  ");
        self.out.write_all(&text)
    }

    /// A field holding a list, its elements rendered in parallel (runs of them per task),
    /// two levels in.
    fn list<T: Serialize + Sync>(&mut self, name: &str, items: &[T]) -> io::Result<()> {
        self.key(name)?;
        if items.is_empty() {
            return self.out.write_all(b"[]");
        }
        let per_task = items
            .len()
            .div_ceil(rayon::current_num_threads() * 16)
            .max(1);
        let runs: Vec<Vec<u8>> = items
            .par_chunks(per_task)
            .map(|run| {
                let (mut text, mut rendered) = (Vec::new(), Vec::new());
                for (i, item) in run.iter().enumerate() {
                    if i > 0 {
                        text.extend_from_slice(LIST_SEPARATOR);
                    }
                    rendered.clear();
                    serde_json::to_writer_pretty(&mut rendered, item)?;
                    append_indented(&mut text, &rendered, b"    ");
                }
                Ok(text)
            })
            .collect::<serde_json::Result<_>>()?;
        self.out.write_all(b"[\n    ")?;
        for (i, text) in runs.iter().enumerate() {
            if i > 0 {
                self.out.write_all(LIST_SEPARATOR)?;
            }
            self.out.write_all(text)?;
        }
        self.out.write_all(b"\n  ]")
    }

    /// Closes the object.
    fn end(self) -> io::Result<()> {
        let close: &[u8] = if self.fields == 0 { b"{}" } else { b"\n}" };
        self.out.write_all(close)
    }
}

/// Writes the summary as one pretty-printed JSON object and a newline. The fields are those
/// of [`Summary`], in its order.
pub fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let mut doc = TopLevel { out, fields: 0 };
    doc.field("schema", &summary.schema)?;
    doc.field("root", &summary.root)?;
    doc.list("codes", &summary.codes)?;
    doc.list("unknown_codes", &summary.unknown_codes)?;
    doc.field("success", &summary.success)?;
    doc.list("files", &summary.files)?;
    doc.field("skipped", &summary.skipped)?;
    doc.field("stats", &summary.stats)?;
    if let Some(window) = &summary.window {
        doc.field("window", window)?;
    }
    doc.field("timeline", &summary.timeline)?;
    doc.list("bursts", &summary.bursts)?;
    doc.list("devices", &summary.devices)?;
    doc.field("unmatched_templates", &summary.unmatched_templates)?;
    doc.end()?;
    writeln!(out)
}

/// Writes any serialisable value as pretty JSON and a newline.
pub fn write_value<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
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
            here.join("../shared/fixtures/bundle-mixed"),
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
