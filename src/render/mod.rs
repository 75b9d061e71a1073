//! Rendering: turns a [`crate::Summary`] (or catalog entries) into text for people or programs.
//! Renderers never read logs; everything they show comes through the summary (NDJSON: the
//! hits the pipeline hands over file by file).
//!
//! One module per output: `table` (and its `table_md` and `csv` forms), `json`, `ndjson`,
//! `prometheus`, `report_md` and `report_html` (with what both say in `report`), `gate`,
//! `junit`, `sarif`, `diff`, `catalog`, and `watch` (live lines). Shared helpers: `cells` (times, shares, sparklines,
//! histograms) and `text` (escaping untrusted text, the list of file problems).

pub(crate) mod catalog;
pub(crate) mod cells;
pub(crate) mod csv;
pub(crate) mod diff;
pub(crate) mod fit;
pub(crate) mod gate;
pub(crate) mod json;
pub(crate) mod junit;
pub(crate) mod ndjson;
pub(crate) mod prometheus;
pub(crate) mod report;
pub mod report_html;
pub mod report_md;
pub(crate) mod sarif;
pub(crate) mod table;
pub(crate) mod table_md;
pub(crate) mod text;
pub(crate) mod watch;

/// Output formats of `scan` and `codes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum Format {
    /// A table for people.
    #[default]
    Table,
    /// One JSON object.
    Json,
}

/// Output formats of `gate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum GateFormat {
    /// One line per broken rule and a verdict.
    #[default]
    Text,
    /// The verdict as JSON (`emscan.gate/1`).
    Json,
    /// JUnit XML: one test case per rule.
    Junit,
    /// SARIF 2.1.0: one result per broken rule.
    Sarif,
    /// GitHub Actions `::error` workflow commands.
    Github,
}

/// Output formats of `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum DiffFormat {
    /// A table for people.
    #[default]
    Table,
    /// One JSON object (`emscan.diff/1`).
    Json,
    /// A Markdown table (for pull-request comments).
    Markdown,
}

/// Output formats of `watch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum WatchFormat {
    /// A line per new error occurrence, the hint the first time a code shows.
    #[default]
    Text,
    /// One JSON object per occurrence, as `scan --format ndjson` writes them.
    Ndjson,
}

/// Output formats of `scan` (and of `merge`, except `ndjson`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub(crate) enum ScanFormat {
    /// A table for people.
    #[default]
    Table,
    /// One JSON object: the summary (`emscan.scan/2`).
    Json,
    /// One JSON object per occurrence (OpenTelemetry log fields), streamed.
    Ndjson,
    /// The table as CSV, one row per code.
    Csv,
    /// The table as Markdown.
    Markdown,
    /// Prometheus text format, for the node exporter's textfile collector.
    Prometheus,
}
