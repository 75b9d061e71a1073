//! emscan: diagnoses the logs of the Easemob (环信 / Agora Chat) IM Windows SDK.
//!
//! Layers, each a folder or file, each importing only layers below it (see
//! `docs/ARCHITECTURE.md` for the full graph):
//!
//! ```text
//! cli ─▶ render, gate, diff ───────────────────────────▶ model ─▶ time, catalog
//! cli ─▶ pipeline ─▶ analyze ─▶ input ─▶ search ─▶ time   (analyze and input also read model)
//! ```
//! [`scan_paths`] runs a scan; renderers read the resulting [`Summary`].

mod analyze;
pub mod catalog;
pub mod cli;
mod diff;
pub mod error;
mod escape;
mod gate;
mod input;
pub mod model;
mod pipeline;
mod progress;
pub mod render;
pub mod search;
pub mod time;

pub use error::{Error, Result};
pub use input::discover::LogFile;
pub use input::read::ReadOptions;
pub use model::{Bucket, Summary};
pub use pipeline::{FileEvents, ScanConfig, TimeBound, read_summary, scan_paths, scan_stream};
pub use search::chunks::{FileScan, Hit};
