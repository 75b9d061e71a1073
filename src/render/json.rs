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

    /// A field whose value is rendered whole.
    fn field<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> io::Result<()> {
        self.key(name)?;
        let text = serde_json::to_string_pretty(value)?;
        // Raw newlines only separate tokens (strings escape theirs): indent one level.
        self.out.write_all(text.replace('\n', "\n  ").as_bytes())
    }

    /// A field holding a list, its elements rendered in parallel.
    fn list<T: Serialize + Sync>(&mut self, name: &str, items: &[T]) -> io::Result<()> {
        self.key(name)?;
        if items.is_empty() {
            return self.out.write_all(b"[]");
        }
        let rendered: Vec<String> = items
            .par_iter()
            .map(|item| {
                let text = serde_json::to_string_pretty(item)?;
                // An element of a top-level list: its inner lines indented two levels.
                Ok(text.replace('\n', "\n    "))
            })
            .collect::<serde_json::Result<_>>()?;
        self.out.write_all(b"[\n    ")?;
        for (i, text) in rendered.iter().enumerate() {
            if i > 0 {
                self.out.write_all(b",\n    ")?;
            }
            self.out.write_all(text.as_bytes())?;
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
                let mut ours = Vec::new();
                write_summary(&mut ours, &summary).unwrap();
                let mut plain = serde_json::to_vec_pretty(&summary).unwrap();
                plain.push(b'\n');
                assert_eq!(
                    String::from_utf8(ours).unwrap(),
                    String::from_utf8(plain).unwrap()
                );
            }
        }
    }
}
