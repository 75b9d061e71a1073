//! Rendering: turns a [`crate::Summary`] (or catalog entries) into text for people or programs.
//! Renderers never read logs; everything they show comes through the summary.

pub mod catalog;
pub mod csv;
pub mod json;
pub mod markdown;
pub mod ndjson;
pub mod prometheus;
pub mod table;
pub mod text;

/// Output formats of `scan` and `codes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// A table for people.
    #[default]
    Table,
    /// One JSON object.
    Json,
}

/// Output formats of `scan` (and of `merge`, except `ndjson`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ScanFormat {
    /// A table for people.
    #[default]
    Table,
    /// One JSON object: the summary (`emscan.scan/1`).
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
