//! JSON output: the summary serialised as is (`emscan.scan/1`).
//!
//! On a big bundle the per-code, per-file, per-device and burst lists are most of the output,
//! and their elements are independent: each is rendered on its own, in parallel, and spliced
//! into the document as raw JSON. The bytes are those of `serde_json::to_writer_pretty` on the
//! whole summary (a test holds the two to that).

use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;
use serde_json::value::RawValue;

use crate::Summary;
use crate::aggregate::{CodeSummary, Stats, Window};
use crate::discover::Skipped;
use crate::timeline::Timeline;
use crate::unmatched::UnmatchedTemplate;

/// The summary with its long lists pre-rendered; field for field the layout of [`Summary`].
#[derive(Serialize)]
struct Prerendered<'a> {
    schema: &'a str,
    root: &'a [String],
    codes: Vec<Box<RawValue>>,
    unknown_codes: Vec<Box<RawValue>>,
    success: &'a CodeSummary,
    files: Vec<Box<RawValue>>,
    skipped: &'a [Skipped],
    stats: &'a Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    window: &'a Option<Window>,
    timeline: &'a Timeline,
    bursts: Vec<Box<RawValue>>,
    devices: Vec<Box<RawValue>>,
    unmatched_templates: &'a [UnmatchedTemplate],
}

/// Each element pretty-printed as an element of a top-level field's array (its inner lines
/// indented by two levels), in parallel.
fn prerender<T: Serialize + Sync>(items: &[T]) -> serde_json::Result<Vec<Box<RawValue>>> {
    items
        .par_iter()
        .map(|item| {
            let text = serde_json::to_string_pretty(item)?;
            // Raw newlines only separate tokens: strings escape theirs.
            RawValue::from_string(text.replace('\n', "\n    "))
        })
        .collect()
}

/// Writes the summary as one pretty-printed JSON object and a newline.
pub fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let view = Prerendered {
        schema: &summary.schema,
        root: &summary.root,
        codes: prerender(&summary.codes)?,
        unknown_codes: prerender(&summary.unknown_codes)?,
        success: &summary.success,
        files: prerender(&summary.files)?,
        skipped: &summary.skipped,
        stats: &summary.stats,
        window: &summary.window,
        timeline: &summary.timeline,
        bursts: prerender(&summary.bursts)?,
        devices: prerender(&summary.devices)?,
        unmatched_templates: &summary.unmatched_templates,
    };
    serde_json::to_writer_pretty(&mut *out, &view)?;
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
    fn prerendered_output_is_serde_output() {
        let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for root in [
            here.join("fixtures/sample-bundle"),
            here.join("../shared/fixtures/bundle-mixed"),
        ] {
            let summary = scan_paths(&ScanConfig::new(vec![root]), &|_| {}, &|_| {}).unwrap();
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
