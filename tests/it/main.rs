//! The integration tests, one binary: each module covers one area of the command line or the
//! library, against the project's own fixtures (`fixtures/`, written by `fixtures/gen_sample.py`).
//!
//! Tests that need programs a bare machine lacks (Java with pyspark, Chromium) are `#[ignore]`d
//! with the reason; `.ci/run` installs the programs and runs `cargo test -- --include-ignored`.

mod catalog_newer;
mod catalog_seed;
mod cli;
mod common;
mod desktop_core;
mod expected_bundles;
mod fleet;
mod gate;
mod hostile;
mod hostile_input;
mod hostile_output;
mod hostile_summary;
mod invariance;
mod layers;
mod report;
mod spark;
mod terminal;
mod timeline;
mod watch;
