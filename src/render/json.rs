//! JSON output: the summary serialised as is (`emscan.scan/1`).

use std::io::{self, Write};

use crate::Summary;

/// Writes the summary as one pretty-printed JSON object and a newline.
pub fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, summary)?;
    writeln!(out)
}

/// Writes any serialisable value as pretty JSON and a newline.
pub fn write_value<T: serde::Serialize>(out: &mut dyn Write, value: &T) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}
