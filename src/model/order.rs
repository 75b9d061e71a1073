//! Where files stand in a report: their labels, the SDK's log file names, report order, and
//! the paths that were skipped.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

/// A path that was not scanned, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The path as found.
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// What an SDK log file name says about the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdkLogName {
    /// Rotation time, for rotated segments.
    pub rotated_at: Option<NaiveDateTime>,
    /// Ends in `.gz`.
    pub gzip: bool,
}

/// Recognises the SDK's log file names (any case): `easemob.log`,
/// `easemob_YYYY-MM-DD_HH-MM-SS.log`, and either with `.gz`.
pub fn sdk_log_name(file_name: &str) -> Option<SdkLogName> {
    let lower = file_name.to_ascii_lowercase();
    let (stem, gzip) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (lower.as_str(), false),
    };
    let stem = stem.strip_suffix(".log")?;
    if stem == "easemob" {
        return Some(SdkLogName {
            rotated_at: None,
            gzip,
        });
    }
    let stamp = stem.strip_prefix("easemob_")?;
    let rotated_at = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d_%H-%M-%S").ok()?;
    // chrono accepts unpadded fields; the SDK writes padded ones.
    (stamp.len() == "YYYY-MM-DD_HH-MM-SS".len()).then_some(SdkLogName {
        rotated_at: Some(rotated_at),
        gzip,
    })
}

/// The label of `rel` (a `/`-separated path below the folder `root`) when several paths are
/// scanned: the root as given, trailing separators trimmed, then `/` and `rel`.
pub fn under_root(root: &str, rel: &str) -> String {
    let root = root.trim_end_matches(['/', '\\']);
    if rel.is_empty() {
        root.to_string()
    } else {
        format!("{root}/{rel}")
    }
}

/// Sorts skipped paths by path, then reason: an order that depends neither on which thread
/// found them nor on the order summaries are merged in.
pub fn sort_skipped(skipped: &mut [Skipped]) {
    skipped.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.reason.cmp(&b.reason)));
}

/// The fields that place a file in report order (discovery sorts files by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileOrderKey<'a> {
    /// The device.
    pub device: &'a str,
    /// The path label (the key of `per_file`).
    pub rel_path: &'a str,
    /// The rotation time in the file's name.
    pub rotated_at: Option<NaiveDateTime>,
}

impl<'a> FileOrderKey<'a> {
    /// The key of a file known only by its label and device (as in a saved summary): the
    /// rotation time is read from the label's last component, as discovery reads it.
    pub fn from_label(rel_path: &'a str, device: &'a str) -> FileOrderKey<'a> {
        let name = rel_path.rsplit(['/', '\\']).next().unwrap_or(rel_path);
        FileOrderKey {
            device,
            rel_path,
            rotated_at: sdk_log_name(name).and_then(|n| n.rotated_at),
        }
    }

    /// Report order: by device, then folder, then rotated segments by their time with the live
    /// file last, then path.
    pub fn report_order(&self, other: &FileOrderKey<'_>) -> std::cmp::Ordering {
        // A folder may hold several users' logs: keep each folder's rotation together.
        fn dir(rel_path: &str) -> Option<&str> {
            rel_path.rsplit_once('/').map(|(d, _)| d)
        }
        self.device
            .cmp(other.device)
            .then_with(|| dir(self.rel_path).cmp(&dir(other.rel_path)))
            .then_with(|| match (self.rotated_at, other.rotated_at) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| self.rel_path.cmp(other.rel_path))
    }
}
