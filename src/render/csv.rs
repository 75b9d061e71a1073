//! CSV: the scan table for spreadsheets, one row per code (catalog codes, then codes outside
//! the catalog). Every log-derived or catalog cell goes through
//! [`csv_cell`](crate::render::text::csv_cell), so no cell can run as a formula.

use std::io::{self, Write};

use crate::Summary;
use crate::render::cells::time;
use crate::render::text::csv_cell;

/// The header row (stable, English, for programs as much as people).
pub(crate) const HEADER: [&str; 10] = [
    "code", "name", "category", "known", "count", "devices", "first", "last", "first_at", "hint",
];

/// Writes the summary's codes as CSV with a header row.
pub(crate) fn write_summary(out: &mut dyn Write, summary: &Summary) -> io::Result<()> {
    let mut writer = ::csv::Writer::from_writer(out);
    writer.write_record(HEADER)?;
    let known = summary.codes.iter().map(|c| (c, true));
    let unknown = summary.unknown_codes.iter().map(|c| (c, false));
    for (code, is_known) in known.chain(unknown) {
        let first_at = code
            .first_at
            .as_ref()
            .map(|at| format!("{}:{}", at.path, at.line))
            .unwrap_or_default();
        let record = [
            code.code.to_string(),
            csv_cell(code.name.as_deref().unwrap_or_default()).into_owned(),
            code.category
                .map(|c| c.as_str().to_string())
                .unwrap_or_default(),
            is_known.to_string(),
            code.count.to_string(),
            code.devices().to_string(),
            code.first.map(|_| time(code.first)).unwrap_or_default(),
            code.last.map(|_| time(code.last)).unwrap_or_default(),
            csv_cell(&first_at).into_owned(),
            csv_cell(code.hint.as_deref().unwrap_or_default()).into_owned(),
        ];
        writer.write_record(&record)?;
    }
    writer.flush()
}
