//! A failure-looking message no rule found a code in, as the summary reports it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Location;
use crate::time::LogTime;

/// A template across the scan: the JSON `unmatched_templates` entries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UnmatchedTemplate {
    /// The masked message.
    pub template: String,
    /// Occurrences.
    pub count: u64,
    /// Earliest entry time.
    pub first: Option<LogTime>,
    /// Latest entry time.
    pub last: Option<LogTime>,
    /// Where the first example is.
    pub first_at: Location,
    /// One line as written (control characters are escaped by the renderers).
    pub example: String,
    /// Occurrences per device.
    pub per_device: BTreeMap<String, u64>,
    /// A known decoy (HTTP status, `handleDisconnect:N`, …), not a missed code.
    pub known_noise: bool,
}

/// The templates most frequent first (then by template).
pub fn sorted(all: BTreeMap<String, UnmatchedTemplate>) -> Vec<UnmatchedTemplate> {
    let mut list: Vec<_> = all.into_values().collect();
    list.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.template.cmp(&b.template))
    });
    list
}
