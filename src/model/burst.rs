//! An incident window, as the summary reports it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::SampleLine;
use crate::time::LogTime;

/// One incident window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Burst {
    /// The first error of the window.
    pub start: LogTime,
    /// The last error of the window.
    pub end: LogTime,
    /// The devices involved, by name.
    pub devices: Vec<String>,
    /// Errors per code (as a string) in the window.
    pub codes: BTreeMap<String, u64>,
    /// Errors in the window.
    pub errors: u64,
    /// Errors per device in the window.
    pub per_device: BTreeMap<String, u64>,
    /// What the mix of codes says happened: `network_outage`, `token_expiry`,
    /// `kicked_offline`, `rate_limited` (absent when the mix says nothing clear).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// The busiest minute's errors (of one device).
    pub peak_per_minute: u64,
    /// The background: the median errors per minute (of the busiest device).
    pub baseline_per_minute: f64,
    /// The hot-minute threshold that was crossed (of the busiest device).
    pub threshold_per_minute: u64,
    /// A few representative lines.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<SampleLine>,
}
