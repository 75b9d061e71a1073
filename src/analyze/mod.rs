//! Analysis: what the pipeline makes of each chunk's findings and how files add up to the
//! [`crate::model::Summary`]: per-chunk collectors (samples, connection events, unmatched
//! lines), per-file tallies, the aggregator, device sessions and bursts.

pub(crate) mod aggregator;
pub(crate) mod bursts;
pub(crate) mod samples;
pub(crate) mod sessions;
pub(crate) mod tally;
pub(crate) mod unmatched;
