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
    /// Not damage: the same file, reached again by another path, was counted under that one
    /// (`--strict` and the gate do not count it as input lost).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted_elsewhere: bool,
}

/// What an SDK log file name says about the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SdkLogName {
    /// Rotation time, for rotated segments.
    pub rotated_at: Option<NaiveDateTime>,
    /// logrotate's number, for `easemob.log.N` (higher is older).
    pub rotation_number: Option<u32>,
    /// Ends in `.gz`.
    pub gzip: bool,
}

/// Recognises the SDK's log file names (any case): `easemob.log`,
/// `easemob_YYYY-MM-DD_HH-MM-SS.log`, logrotate's `easemob.log.N`, and each with `.gz`.
pub fn sdk_log_name(file_name: &str) -> Option<SdkLogName> {
    let lower = file_name.to_ascii_lowercase();
    let (stem, gzip) = match lower.strip_suffix(".gz") {
        Some(stem) => (stem, true),
        None => (lower.as_str(), false),
    };
    if let Some(number) = stem.strip_prefix("easemob.log.") {
        let digits = !number.is_empty() && number.len() <= 6;
        return (digits && number.bytes().all(|b| b.is_ascii_digit())).then(|| SdkLogName {
            rotated_at: None,
            rotation_number: number.parse().ok(),
            gzip,
        });
    }
    let stem = stem.strip_suffix(".log")?;
    if stem == "easemob" {
        return Some(SdkLogName {
            rotated_at: None,
            rotation_number: None,
            gzip,
        });
    }
    let stamp = stem.strip_prefix("easemob_")?;
    let rotated_at = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d_%H-%M-%S").ok()?;
    // chrono accepts unpadded fields; the SDK writes padded ones.
    (stamp.len() == "YYYY-MM-DD_HH-MM-SS".len()).then_some(SdkLogName {
        rotated_at: Some(rotated_at),
        rotation_number: None,
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
    /// logrotate's number in the file's name (`easemob.log.N`).
    pub rotation_number: Option<u32>,
}

impl<'a> FileOrderKey<'a> {
    /// The key of a file known only by its label and device (as in a saved summary): the
    /// rotation time is read from the label's last component, as discovery reads it.
    pub fn from_label(rel_path: &'a str, device: &'a str) -> FileOrderKey<'a> {
        let name = rel_path.rsplit(['/', '\\']).next().unwrap_or(rel_path);
        let parsed = sdk_log_name(name);
        FileOrderKey {
            device,
            rel_path,
            rotated_at: parsed.and_then(|n| n.rotated_at),
            rotation_number: parsed.and_then(|n| n.rotation_number),
        }
    }

    /// Where the file sits in its rotation, oldest first: segments by the time in their names,
    /// then logrotate's numbered ones from the highest number down, then the live file.
    fn rotation(&self) -> (u8, Option<NaiveDateTime>, std::cmp::Reverse<u32>) {
        match (self.rotated_at, self.rotation_number) {
            (Some(at), _) => (0, Some(at), std::cmp::Reverse(0)),
            (None, Some(n)) => (1, None, std::cmp::Reverse(n)),
            (None, None) => (2, None, std::cmp::Reverse(0)),
        }
    }

    /// Report order: by device, then folder, then rotated segments by their time (then
    /// logrotate's numbered ones, oldest first) with the live file last, then path.
    pub fn report_order(&self, other: &FileOrderKey<'_>) -> std::cmp::Ordering {
        // A folder may hold several users' logs: keep each folder's rotation together.
        fn dir(rel_path: &str) -> Option<&str> {
            rel_path.rsplit_once('/').map(|(d, _)| d)
        }
        self.device
            .cmp(other.device)
            .then_with(|| dir(self.rel_path).cmp(&dir(other.rel_path)))
            .then_with(|| self.rotation().cmp(&other.rotation()))
            .then_with(|| self.rel_path.cmp(other.rel_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logrotate_numbers_are_sdk_log_names() {
        let n = |name: &str| sdk_log_name(name).map(|p| (p.rotation_number, p.gzip));
        assert_eq!(n("easemob.log.1"), Some((Some(1), false)));
        assert_eq!(n("Easemob.Log.12.gz"), Some((Some(12), true)));
        assert_eq!(n("easemob.log"), Some((None, false)));
        for other in [
            "easemob.log.",
            "easemob.log.x",
            "easemob.log.1x",
            "easemob.log.1234567",
        ] {
            assert_eq!(n(other), None, "{other}");
        }
    }

    #[test]
    fn rotation_order_is_timestamped_then_highest_number_then_live() {
        let key = |path: &'static str| FileOrderKey::from_label(path, "d");
        let mut files = [
            "easemob.log",
            "easemob.log.1",
            "easemob_2024-03-01_09-00-00.log",
            "easemob.log.3.gz",
            "easemob.log.2",
        ];
        files.sort_by(|a, b| key(a).report_order(&key(b)));
        assert_eq!(
            files,
            [
                "easemob_2024-03-01_09-00-00.log",
                "easemob.log.3.gz",
                "easemob.log.2",
                "easemob.log.1",
                "easemob.log"
            ]
        );
    }
}
