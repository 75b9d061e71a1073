//! A device's span, files, gaps and connection story, as the summary reports them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::time::{LogTime, PrefixStyle};

/// A hole between one file's last entry and the next file's first entry of at least this many
/// seconds is a gap (a rotated segment the SDK deleted, or the app not running).
pub const GAP_SECONDS: i64 = 120;

/// The most story entries kept per device (the first ones; `story_total` has them all).
pub const STORY_MAX: usize = 200;

/// The most `handleDisconnect:N` reasons listed per device (the first ones;
/// `disconnect_reason_counts` counts them all).
pub const REASONS_MAX: usize = 1000;

/// A hole in a device's logs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    /// The file whose last entry starts the gap.
    pub after: String,
    /// The file whose first entry ends it.
    pub before: String,
    /// The last entry before the gap.
    pub from: LogTime,
    /// The first entry after it.
    pub to: LogTime,
    /// Its length.
    pub seconds: i64,
}

/// An `onDisconnect…` code that follows a [`DisconnectCause`]'s disconnect on the same device
/// within this many seconds reports that disconnect: it is counted once, as that code.
pub const CAUSE_REPORTED_WITHIN_SECONDS: i64 = 10;

/// Why a `handleDisconnect:N` disconnect happened, where the log says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisconnectCause {
    /// `ConnUserLoginAnotherDevice` on the entry line right after `handleDisconnect:N` (the
    /// desktop C++ core's kick): the account logged in on another device.
    LoginAnotherDevice,
}

impl DisconnectCause {
    /// The SDK error code that stands for the cause: its catalog entry and hint apply.
    pub fn code(self) -> u32 {
        match self {
            DisconnectCause::LoginAnotherDevice => 206,
        }
    }
}

/// What a story entry tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryEvent {
    /// An `onDisconnect…` error code.
    Disconnect,
    /// A `handleDisconnect:N` reason.
    HandleDisconnect,
    /// A reconnection (`onConnected`).
    Connected,
}

/// One step of a device's connection story.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoryEntry {
    /// The entry time.
    pub time: Option<LogTime>,
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// What happened.
    pub event: StoryEvent,
    /// The code or reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<u32>,
    /// On a `handle_disconnect` entry: why the SDK disconnected, where the log says so. Such an
    /// entry is a disconnect (counted in [`DeviceSummary::disconnects`] unless
    /// `reported_by_listener`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<DisconnectCause>,
    /// On an entry with a `cause`: an `onDisconnect…` entry of the cause's code follows within
    /// [`CAUSE_REPORTED_WITHIN_SECONDS`] and is the disconnect counted; this entry gives its
    /// reason.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reported_by_listener: bool,
}

/// Everything known about one device (machine).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceSummary {
    /// The device name (first folder below the scanned folder).
    pub name: String,
    /// First entry time of its logs.
    pub first: Option<LogTime>,
    /// Last entry time of its logs.
    pub last: Option<LogTime>,
    /// Its files, oldest rotated segment first, `easemob.log` last.
    pub files: Vec<String>,
    /// Holes of at least [`GAP_SECONDS`] between consecutive files.
    pub gaps: Vec<Gap>,
    /// The prefix generations of its files, in file order, each once (two or more: an SDK
    /// upgrade).
    pub prefix_styles: Vec<PrefixStyle>,
    /// Error occurrences (code 0 excluded).
    pub errors: u64,
    /// Disconnects: `onDisconnect…` codes, and entries with a `cause` that no such code
    /// reports.
    pub disconnects: u64,
    /// `handleDisconnect:N` reasons, in time order (the first [`REASONS_MAX`]).
    pub disconnect_reasons: Vec<u32>,
    /// Every `handleDisconnect:N` reason (as a string) with its count.
    pub disconnect_reason_counts: BTreeMap<String, u64>,
    /// The connection story in order: disconnect codes, disconnect reasons, reconnections
    /// (the first [`STORY_MAX`]).
    pub story: Vec<StoryEntry>,
    /// All story entries, including those beyond [`STORY_MAX`].
    pub story_total: u64,
}
