//! Rendering: turns a [`crate::Summary`] (or catalog entries) into text for people or programs.
//! Renderers never read logs; everything they show comes through the summary.

pub mod catalog;
pub mod json;
pub mod report;
pub mod report_html;
pub mod report_md;
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
