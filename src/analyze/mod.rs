//! Analysis: what the pipeline makes of each chunk's findings and how files add up to the
//! [`crate::model::Summary`]: per-chunk collectors (samples, connection events, unmatched
//! lines), per-file tallies, the aggregator, device sessions and bursts.

pub mod aggregator;
pub mod bursts;
pub mod samples;
pub mod sessions;
pub mod tally;
pub mod unmatched;
