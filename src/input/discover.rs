//! Discovery: turns the paths a user gives into an ordered list of log files.
//!
//! Folders are walked recursively (the `ignore` crate's walker with its filters off; symlinks
//! followed, loops detected and reported) on the calling thread; sizes are looked up on the
//! pool. By default
//! only the SDK's own files are picked: `easemob.log`, `easemob_YYYY-MM-DD_HH-MM-SS.log` and the
//! same with `.gz`. The *device* of a file is the folder above `sdkdata/easemobLog` (else its
//! first folder below the scanned root). Within a device, rotated segments come in the order of
//! the time in their names, `easemob.log` last.

use std::borrow::Cow;
use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};

use chrono::NaiveDateTime;
use ignore::WalkBuilder;
use rayon::prelude::*;
use std::sync::{Mutex, MutexGuard, PoisonError};

pub(crate) use crate::model::order::{
    FileOrderKey, Skipped, sdk_log_name, sort_skipped, under_root,
};

/// One log file to scan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogFile {
    /// Where it is.
    pub path: PathBuf,
    /// Its path relative to the scanned root, `/`-separated (the key of `per_file`).
    pub rel_path: String,
    /// The device (the folder above `sdkdata/easemobLog`, else the first folder below the root).
    pub device: String,
    /// Gzip-compressed (by name).
    pub gzip: bool,
    /// Size on disk in bytes.
    pub size: u64,
    /// The rotation time in its name, for `easemob_YYYY-MM-DD_HH-MM-SS.log`.
    pub rotated_at: Option<NaiveDateTime>,
    /// logrotate's number in its name, for `easemob.log.N`.
    pub rotation_number: Option<u32>,
    /// The live `easemob.log` (may be written or rotated while we read it).
    pub live: bool,
    /// Named on the command line (scanned even if it looks binary).
    pub explicit: bool,
    /// Size and CRC-32 of the first and last 64 KiB on disk (see [`fingerprint`]).
    pub fingerprint: Option<String>,
}

impl LogFile {
    /// The file at `path`, named `name`, with what its name says (gzip, rotation time, live),
    /// and its size not yet looked up (0: see [`sized`]).
    fn named(
        path: PathBuf,
        rel_path: String,
        device: String,
        name: &str,
        explicit: bool,
    ) -> LogFile {
        let parsed = sdk_log_name(name);
        LogFile {
            path,
            rel_path,
            device,
            gzip: parsed.map_or(name.to_ascii_lowercase().ends_with(".gz"), |p| p.gzip),
            size: 0,
            rotated_at: parsed.and_then(|p| p.rotated_at),
            rotation_number: parsed.and_then(|p| p.rotation_number),
            live: parsed.is_some_and(|p| p.rotated_at.is_none() && p.rotation_number.is_none()),
            explicit,
            fingerprint: None,
        }
    }
}

/// The outcome of discovery.
#[derive(Clone, Debug, Default)]
pub(crate) struct Discovery {
    /// Files to scan, in report order.
    pub(crate) files: Vec<LogFile>,
    /// Paths that could not be used.
    pub(crate) skipped: Vec<Skipped>,
    /// Other `*.log` files found in folders and left out (not SDK log names), sorted.
    pub(crate) not_scanned: Vec<String>,
}

/// The device name of files that sit directly in the scanned folder, when it has no name.
pub(crate) const DEFAULT_DEVICE: &str = "default";

/// A file or folder name as text. A name that is not valid Unicode keeps what makes it
/// distinct: each byte that is not UTF-8 (Unix) or each unpaired surrogate (Windows) is
/// written as `\xNN` or `\u{NNNN}`, so that two such names never become one.
pub(crate) fn name_text(name: &OsStr) -> Cow<'_, str> {
    if let Some(text) = name.to_str() {
        return Cow::Borrowed(text);
    }
    let mut text = String::new();
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        for chunk in name.as_bytes().utf8_chunks() {
            text.push_str(chunk.valid());
            for byte in chunk.invalid() {
                text.push_str(&format!("\\x{byte:02X}"));
            }
        }
    }
    #[cfg(windows)]
    {
        use std::os::windows::ffi::OsStrExt;
        for unit in char::decode_utf16(name.encode_wide()) {
            match unit {
                Ok(c) => text.push(c),
                Err(e) => text.push_str(&format!("\\u{{{:04X}}}", e.unpaired_surrogate())),
            }
        }
    }
    #[cfg(not(any(unix, windows)))]
    text.push_str(&name.to_string_lossy());
    Cow::Owned(text)
}

/// A path as given, as text; a path that is not valid Unicode keeps what makes it distinct
/// (see [`name_text`]).
pub(crate) fn path_text(path: &Path) -> String {
    if let Some(text) = path.to_str() {
        return text.to_string();
    }
    let mut text = String::new();
    for component in path.components() {
        if !text.is_empty() && !text.ends_with(std::path::is_separator) {
            text.push(std::path::MAIN_SEPARATOR);
        }
        match component {
            Component::Normal(part) => text.push_str(&name_text(part)),
            other => text.push_str(&other.as_os_str().to_string_lossy()),
        }
    }
    text
}

/// Joins path components with `/`, whatever the platform.
fn slash_path(path: &Path) -> String {
    path.components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(name_text(part).into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The device of a file in the SDK's own layout: the folder above `sdkdata/easemobLog`
/// (any case), wherever the scan started; `None` when the path does not go through it.
fn sdk_layout_device(path: &Path) -> Option<String> {
    let parts: Vec<&OsStr> = path
        .components()
        .filter_map(|c| match c {
            Component::Normal(part) => Some(part),
            _ => None,
        })
        .collect();
    let is = |part: &OsStr, name: &str| part.to_str().is_some_and(|p| p.eq_ignore_ascii_case(name));
    // The last `X/sdkdata/easemobLog/…` with a file below it.
    (1..parts.len().saturating_sub(2))
        .rev()
        .find(|&i| is(parts[i], "sdkdata") && is(parts[i + 1], "easemobLog"))
        .map(|i| name_text(parts[i - 1]).into_owned())
}

/// A scanned folder's own path with every link resolved, to find the SDK's layout above it.
fn resolved(root: &Path) -> Option<PathBuf> {
    std::fs::canonicalize(root).ok()
}

/// The name of a root folder, for files that sit directly in it.
fn root_device_name(root: &Path) -> String {
    std::fs::canonicalize(root)
        .ok()
        .and_then(|p| p.file_name().map(|n| name_text(n).into_owned()))
        .unwrap_or_else(|| DEFAULT_DEVICE.to_string())
}

/// Where the SDK writes its logs, relative to the app's folder.
pub(crate) const SDK_LOG_DIR: &str = "sdkdata/easemobLog";

/// The path to scan when none is given, run from `dir`: the SDK's log folder
/// (`sdkdata/easemobLog`) when `dir` is an app's folder that has one, else `.`. The path is
/// relative, so reports name files as the user would.
pub(crate) fn default_root(dir: &Path) -> PathBuf {
    if dir.join(SDK_LOG_DIR).is_dir() {
        PathBuf::from(SDK_LOG_DIR)
    } else {
        PathBuf::from(".")
    }
}

/// Finds the log files under `paths`, in report order, with their sizes.
///
/// `all_files` picks every regular file in folders, not only SDK log names. A file named
/// explicitly is always scanned. When more than one path is given, relative paths are
/// prefixed by the root as given, so that keys stay unique.
pub(crate) fn discover(paths: &[PathBuf], all_files: bool) -> Discovery {
    let (found, discovery) = discover_with(paths, all_files, Fingerprint::Take);
    Discovery {
        files: found.into_iter().map(|(file, _)| file).collect(),
        ..discovery
    }
}

/// The SDK's log files under `folder`, in report order, each with its identity, and without
/// fingerprints: what a watch looks at again at every change.
pub(crate) fn discover_to_follow(folder: &Path) -> Vec<(LogFile, Option<FileIdentity>)> {
    discover_with(
        std::slice::from_ref(&folder.to_path_buf()),
        false,
        Fingerprint::Skip,
    )
    .0
}

/// Whether discovery reads the ends of each file for its fingerprint.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fingerprint {
    Take,
    Skip,
}

/// [`discover`], with each file's identity beside it, the files left out of the
/// [`Discovery`].
fn discover_with(
    paths: &[PathBuf],
    all_files: bool,
    fingerprint: Fingerprint,
) -> (Vec<(LogFile, Option<FileIdentity>)>, Discovery) {
    let mut found = Vec::new();
    let (mut skipped, not_scanned) = walk(paths, all_files, &mut |batch| found.extend(batch));
    // One `stat` each, on the pool: most of the time discovery takes on a bundle of small
    // files.
    let (mut files, unreadable): (Vec<_>, Vec<_>) = found
        .into_par_iter()
        .map(|file| sized(file, fingerprint))
        .partition_map(|sized| match sized {
            Ok(file) => rayon::iter::Either::Left(file),
            Err(skip) => rayon::iter::Either::Right(skip),
        });
    skipped.extend(unreadable);
    sort_in_report_order(&mut files, |(file, _)| file);
    let (files, merged) = keep_one_path_per_file(files);
    skipped.extend(merged);
    sort_skipped(&mut skipped);
    let discovery = Discovery {
        files: Vec::new(),
        skipped,
        not_scanned,
    };
    (files, discovery)
}

/// The data behind `mutex`, even if a thread panicked while holding it (what they pushed is
/// still whole).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The data `mutex` held (see [`lock`]).
pub(crate) fn into_inner<T>(mutex: Mutex<T>) -> T {
    mutex.into_inner().unwrap_or_else(PoisonError::into_inner)
}

/// What makes two paths one file (overlapping roots, symbolic links, hard links): its device
/// and inode on Unix, its volume and file index on Windows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileIdentity {
    volume: u64,
    index: u64,
}

impl FileIdentity {
    /// The identity of the file at `path`, whose metadata (symbolic links followed) is `meta`;
    /// `None` where the platform does not say.
    #[cfg(unix)]
    fn of(_path: &Path, meta: &std::fs::Metadata) -> Option<FileIdentity> {
        use std::os::unix::fs::MetadataExt;
        Some(FileIdentity {
            volume: meta.dev(),
            index: meta.ino(),
        })
    }

    /// See the Unix version.
    #[cfg(windows)]
    fn of(path: &Path, _meta: &std::fs::Metadata) -> Option<FileIdentity> {
        let handle = winapi_util::Handle::from_path_any(path).ok()?;
        let info = winapi_util::file::information(&handle).ok()?;
        Some(FileIdentity {
            volume: info.volume_serial_number(),
            index: info.file_index(),
        })
    }

    /// See the Unix version.
    #[cfg(not(any(unix, windows)))]
    fn of(_path: &Path, _meta: &std::fs::Metadata) -> Option<FileIdentity> {
        None
    }

    /// The identity of the file `handle` has open (whatever name it has now).
    #[cfg(unix)]
    pub(crate) fn of_open(handle: &std::fs::File) -> Option<FileIdentity> {
        let meta = handle.metadata().ok()?;
        FileIdentity::of(Path::new(""), &meta)
    }

    /// See the Unix version.
    #[cfg(windows)]
    pub(crate) fn of_open(handle: &std::fs::File) -> Option<FileIdentity> {
        let info =
            winapi_util::file::information(winapi_util::HandleRef::from_file(handle)).ok()?;
        Some(FileIdentity {
            volume: info.volume_serial_number(),
            index: info.file_index(),
        })
    }

    /// See the Unix version.
    #[cfg(not(any(unix, windows)))]
    pub(crate) fn of_open(_handle: &std::fs::File) -> Option<FileIdentity> {
        None
    }
}

/// A file reached by more than one path, under each path but the one kept.
pub(crate) fn merged_path(merged: &LogFile, kept: &LogFile) -> Skipped {
    let reason = if merged.path == kept.path {
        "the same file, reached again through another of the paths given: counted once".into()
    } else {
        format!(
            "the same file as {}: counted once, there",
            kept.path.to_string_lossy()
        )
    };
    Skipped {
        path: merged.path.to_string_lossy().into_owned(),
        reason,
        counted_elsewhere: true,
    }
}

/// Keeps one path per file, the first in report order (`files` are in report order); the
/// others come back as [`merged_path`] entries.
fn keep_one_path_per_file(
    files: Vec<(LogFile, Option<FileIdentity>)>,
) -> (Vec<(LogFile, Option<FileIdentity>)>, Vec<Skipped>) {
    let mut kept_at: std::collections::HashMap<FileIdentity, usize> =
        std::collections::HashMap::new();
    let mut kept: Vec<(LogFile, Option<FileIdentity>)> = Vec::with_capacity(files.len());
    let mut merged = Vec::new();
    for (file, identity) in files {
        match identity.and_then(|id| kept_at.get(&id)) {
            Some(&at) => merged.push(merged_path(&file, &kept[at].0)),
            None => {
                if let Some(id) = identity {
                    kept_at.insert(id, kept.len());
                }
                kept.push((file, identity));
            }
        }
    }
    (kept, merged)
}

/// `file` with its size looked up (symbolic links followed, as in the walk), its identity and
/// its fingerprint when asked, or why it cannot be read.
pub(crate) fn sized(
    mut file: LogFile,
    fingerprint_it: Fingerprint,
) -> Result<(LogFile, Option<FileIdentity>), Skipped> {
    match std::fs::metadata(&file.path) {
        Ok(meta) => {
            file.size = meta.len();
            let identity = FileIdentity::of(&file.path, &meta);
            if meta.is_file() && fingerprint_it == Fingerprint::Take {
                file.fingerprint = fingerprint(&file.path, file.size);
            }
            Ok((file, identity))
        }
        Err(e) => Err(Skipped {
            path: file.path.to_string_lossy().into_owned(),
            reason: e.to_string(),
            counted_elsewhere: false,
        }),
    }
}

/// Bytes hashed at each end of a file for its fingerprint.
const FINGERPRINT_SPAN: u64 = 64 << 10;

/// `SIZE:HEAD:TAIL`: the size, and the CRC-32 of the first and last 64 KiB of the file as
/// stored. The same input in two summaries has the same fingerprint, whatever path reached it;
/// `None` when the file cannot be read (the scan then says why).
pub(crate) fn fingerprint(path: &Path, size: u64) -> Option<String> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
    let crc = |from: u64, file: &mut std::fs::File| -> Option<u32> {
        file.seek(SeekFrom::Start(from)).ok()?;
        let mut buf = Vec::with_capacity(FINGERPRINT_SPAN as usize);
        file.by_ref()
            .take(FINGERPRINT_SPAN)
            .read_to_end(&mut buf)
            .ok()?;
        Some(crc32fast::hash(&buf))
    };
    let head = crc(0, &mut file)?;
    let tail = crc(size.saturating_sub(FINGERPRINT_SPAN), &mut file)?;
    Some(format!("{size}:{head:08x}:{tail:08x}"))
}

/// Walks `paths` (see [`discover`]) and hands the log files to `on_files` in batches as they
/// are found, with their size not yet looked up (0: see [`sized`]), so that a caller can start
/// on them (on rayon's pool) while the walk goes on. The walk runs on the calling thread: it
/// starts no threads of its own, so it cannot fail where threads are scarce. Returns the paths
/// it could not use, by path, and the other `*.log` files it left out (worth naming), sorted.
pub(crate) fn walk(
    paths: &[PathBuf],
    all_files: bool,
    on_files: &mut dyn FnMut(Vec<LogFile>),
) -> (Vec<Skipped>, Vec<String>) {
    let mut skipped = Vec::new();
    let mut not_scanned = Vec::new();
    let several = paths.len() > 1;
    for root in paths {
        let meta = match std::fs::metadata(root) {
            Ok(meta) => meta,
            Err(e) => {
                skipped.push(Skipped {
                    path: root.to_string_lossy().into_owned(),
                    reason: e.to_string(),
                    counted_elsewhere: false,
                });
                continue;
            }
        };
        if meta.is_file() {
            let name = root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let device = resolved(root)
                .as_deref()
                .and_then(sdk_layout_device)
                .unwrap_or_else(|| {
                    root.parent()
                        .filter(|p| !p.as_os_str().is_empty())
                        .map(root_device_name)
                        .unwrap_or_else(|| root_device_name(Path::new(".")))
                });
            let rel_path = if several {
                path_text(root)
            } else {
                name.clone()
            };
            on_files(vec![LogFile::named(
                root.clone(),
                rel_path,
                device,
                &name,
                true,
            )]);
        } else if meta.is_dir() {
            let folder = Folder {
                root,
                resolved_root: resolved(root),
                several,
                device: root_device_name(root),
                all_files,
            };
            let mut found = FolderFiles {
                folder: &folder,
                on_files: &mut *on_files,
                skipped: &mut skipped,
                not_scanned: &mut not_scanned,
                batch: Vec::with_capacity(FILES_PER_BATCH),
            };
            // Every file counts: no ignore files, hidden files included.
            for entry in WalkBuilder::new(root)
                .standard_filters(false)
                .follow_links(true)
                .build()
            {
                found.take(entry);
            }
        } else {
            skipped.push(Skipped {
                path: root.to_string_lossy().into_owned(),
                reason: "not a regular file or folder".into(),
                counted_elsewhere: false,
            });
        }
    }
    sort_skipped(&mut skipped);
    not_scanned.sort();
    (skipped, not_scanned)
}

/// A folder being walked, and what makes a file in it a log file.
struct Folder<'a> {
    /// The folder as given.
    root: &'a Path,
    /// The folder with links resolved: the SDK's layout may sit above it.
    resolved_root: Option<PathBuf>,
    /// More than one path is scanned: labels start with the root.
    several: bool,
    /// The device of files directly in the folder.
    device: String,
    /// Every regular file counts, not only SDK log names.
    all_files: bool,
}

/// What a folder's entry is to the scan.
enum Entry {
    /// A log file to read.
    Log(LogFile),
    /// A file under a log name that cannot be read, and why.
    Skipped(Skipped),
    /// Another `*.log` file, by its label: left out, but worth naming.
    NotScanned(String),
}

impl Folder<'_> {
    /// What `entry` is to the scan, or `None` (a folder, or a file that is not a log).
    fn log_file(&self, entry: &ignore::DirEntry) -> Option<Entry> {
        let file_type = entry.file_type()?;
        let name = entry.file_name().to_string_lossy();
        let parsed = sdk_log_name(&name);
        if !file_type.is_file() {
            // A FIFO or device under an SDK log name is worth a word; folders are not.
            return (parsed.is_some() && !file_type.is_dir()).then(|| {
                Entry::Skipped(Skipped {
                    path: entry.path().to_string_lossy().into_owned(),
                    reason: "not a regular file (a FIFO, socket or device): not read".into(),
                    counted_elsewhere: false,
                })
            });
        }
        let label = |rel: &Path| -> String {
            let rel = slash_path(rel);
            if self.several {
                under_root(&path_text(self.root), &rel)
            } else {
                rel
            }
        };
        let rel = entry.path().strip_prefix(self.root).unwrap_or(entry.path());
        if parsed.is_none() && !self.all_files {
            let lower = name.to_ascii_lowercase();
            return (lower.ends_with(".log") || lower.ends_with(".log.gz"))
                .then(|| Entry::NotScanned(label(rel)));
        }
        let mut components = rel.components();
        // The folder above the SDK's own layout names the device, whether the scan started at
        // the bundle, the device folder, `sdkdata` or `easemobLog`; else the first folder below
        // the root does.
        let in_layout = self
            .resolved_root
            .as_ref()
            .and_then(|root| sdk_layout_device(&root.join(rel)));
        let device = match (in_layout, components.next(), components.next()) {
            (Some(device), ..) => device,
            (None, Some(first), Some(_)) => name_text(first.as_os_str()).into_owned(),
            _ => self.device.clone(),
        };
        let device = if self.several {
            label(Path::new(&device))
        } else {
            device
        };
        Some(Entry::Log(LogFile::named(
            entry.path().to_path_buf(),
            label(rel),
            device,
            &name,
            false,
        )))
    }
}

/// How many files the walk gathers before it hands them on: one hand-over per file would
/// wake a worker of the pool per file.
const FILES_PER_BATCH: usize = 32;

/// What the walk of a folder found: log files go on in batches, the last when the walk is
/// done (on drop).
struct FolderFiles<'a> {
    folder: &'a Folder<'a>,
    on_files: &'a mut dyn FnMut(Vec<LogFile>),
    skipped: &'a mut Vec<Skipped>,
    not_scanned: &'a mut Vec<String>,
    batch: Vec<LogFile>,
}

impl FolderFiles<'_> {
    fn take(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) {
        match entry.map(|entry| self.folder.log_file(&entry)) {
            Ok(Some(Entry::Log(file))) => {
                self.batch.push(file);
                if self.batch.len() == FILES_PER_BATCH {
                    (self.on_files)(std::mem::take(&mut self.batch));
                }
            }
            Ok(Some(Entry::Skipped(skip))) => self.skipped.push(skip),
            Ok(Some(Entry::NotScanned(label))) => self.not_scanned.push(label),
            Ok(None) => {}
            Err(e) => self.skipped.push(walk_error(e, self.folder.root)),
        }
    }
}

impl Drop for FolderFiles<'_> {
    fn drop(&mut self) {
        if !self.batch.is_empty() {
            (self.on_files)(std::mem::take(&mut self.batch));
        }
    }
}

/// What the walk of `root` could not read, and why.
fn walk_error(error: ignore::Error, root: &Path) -> Skipped {
    let mut path = None;
    let mut error = &error;
    let reason = loop {
        match error {
            ignore::Error::WithPath { path: at, err } => {
                path.get_or_insert(at);
                error = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                error = err;
            }
            ignore::Error::Loop { child, .. } => {
                path.get_or_insert(child);
                break "symlink loop: not followed".to_string();
            }
            // The walk's own error wraps the system's and names the path again: the path is
            // said already.
            ignore::Error::Io(io) => {
                break io
                    .get_ref()
                    .and_then(|walk| walk.source())
                    .map_or_else(|| io.to_string(), ToString::to_string);
            }
            other => break other.to_string(),
        }
    };
    Skipped {
        path: path
            .unwrap_or(&root.to_path_buf())
            .to_string_lossy()
            .into_owned(),
        reason,
        counted_elsewhere: false,
    }
}

/// Orders `items` by the report order of their files (see [`report_order`]), in parallel.
pub(crate) fn sort_in_report_order<T: Send>(
    items: &mut [T],
    file_of: impl Fn(&T) -> &LogFile + Sync,
) {
    items.par_sort_by(|a, b| report_order(file_of(a), file_of(b)));
}

/// How two files compare in report order: by device, then rotated segments by their time,
/// the live file last, then path.
pub(crate) fn report_order(a: &LogFile, b: &LogFile) -> std::cmp::Ordering {
    fn key(f: &LogFile) -> FileOrderKey<'_> {
        FileOrderKey {
            device: f.device.as_str(),
            rel_path: f.rel_path.as_str(),
            rotated_at: f.rotated_at,
            rotation_number: f.rotation_number,
        }
    }
    key(a).report_order(&key(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn recognises_sdk_names() {
        assert_eq!(sdk_log_name("easemob.log").map(|n| n.gzip), Some(false));
        assert_eq!(sdk_log_name("Easemob.LOG.gz").map(|n| n.gzip), Some(true));
        let rotated = sdk_log_name("easemob_2024-03-01_08-41-45.log.gz").unwrap();
        assert_eq!(
            rotated.rotated_at.unwrap().to_string(),
            "2024-03-01 08:41:45"
        );
        for name in [
            "easemob.txt",
            "easemob_.log",
            "easemob_2024-3-1_8-41-45.log",
            "easemob_2024-13-01_08-41-45.log",
            "myeasemob.log",
            "easemob.log.bak",
        ] {
            assert_eq!(sdk_log_name(name), None, "{name}");
        }
    }

    #[test]
    fn walks_devices_and_orders_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let log_dir = dir.path().join("PC-1/sdkdata/easemobLog");
        fs::create_dir_all(&log_dir).unwrap();
        for name in [
            "easemob.log",
            "easemob_2024-03-01_09-00-00.log",
            "easemob_2024-03-01_08-00-00.log.gz",
            "notes.txt",
        ] {
            fs::write(log_dir.join(name), "x\n").unwrap();
        }
        fs::write(dir.path().join("easemob.log"), "x\n").unwrap();
        let found = discover(&[dir.path().to_path_buf()], false);
        let names: Vec<(&str, &str)> = found
            .files
            .iter()
            .map(|f| (f.device.as_str(), f.rel_path.as_str()))
            .collect();
        let root_name = root_device_name(dir.path());
        let mut expected = vec![
            (
                "PC-1",
                "PC-1/sdkdata/easemobLog/easemob_2024-03-01_08-00-00.log.gz",
            ),
            (
                "PC-1",
                "PC-1/sdkdata/easemobLog/easemob_2024-03-01_09-00-00.log",
            ),
            ("PC-1", "PC-1/sdkdata/easemobLog/easemob.log"),
            (root_name.as_str(), "easemob.log"),
        ];
        // Devices sort by name; within a device the order above must hold (stable sort).
        expected.sort_by_key(|(device, _)| *device);
        assert_eq!(names, expected);
        assert!(found.files.iter().any(|f| f.gzip));
        let all = discover(&[dir.path().to_path_buf()], true);
        assert_eq!(all.files.len(), 5);
    }

    #[test]
    fn default_root_prefers_the_sdk_log_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(default_root(dir.path()), PathBuf::from("."));
        fs::create_dir_all(dir.path().join("sdkdata")).unwrap();
        assert_eq!(default_root(dir.path()), PathBuf::from("."));
        fs::create_dir_all(dir.path().join("sdkdata/easemobLog")).unwrap();
        assert_eq!(default_root(dir.path()), PathBuf::from(SDK_LOG_DIR));
    }

    #[test]
    fn labels_under_a_root_trim_separators() {
        assert_eq!(
            under_root("logs/", "PC-1/easemob.log"),
            "logs/PC-1/easemob.log"
        );
        assert_eq!(under_root(r"C:\logs\", "PC-1"), r"C:\logs/PC-1");
        assert_eq!(under_root("logs", ""), "logs");
    }

    #[test]
    fn missing_path_is_skipped_with_reason() {
        let found = discover(&[PathBuf::from("/definitely/not/here")], false);
        assert!(found.files.is_empty());
        assert_eq!(found.skipped.len(), 1);
        assert!(found.skipped[0].path.contains("not/here"));
    }

    #[cfg(unix)]
    /// The pool sizes the files in no set order; what discovery returns is the same on any
    /// number of threads, batches and all.
    #[test]
    fn discovery_is_the_same_on_any_number_of_threads() {
        let dir = tempfile::tempdir().unwrap();
        let devices = 2 * FILES_PER_BATCH + 3;
        for d in 0..devices {
            let logs = dir.path().join(format!("PC-{d:03}/sdkdata/easemobLog"));
            fs::create_dir_all(&logs).unwrap();
            for name in [
                "easemob.log",
                "easemob_2024-03-01_09-00-00.log",
                "easemob_2024-03-01_08-00-00.log.gz",
                "notes.txt",
            ] {
                fs::write(logs.join(name), "x\n").unwrap();
            }
        }
        #[cfg(unix)]
        {
            let logs = dir.path().join("PC-001/sdkdata/easemobLog");
            std::os::unix::fs::symlink(dir.path(), logs.join("loop")).unwrap();
            std::os::unix::fs::symlink(
                "/nonexistent",
                logs.join("easemob_2024-01-01_00-00-00.log"),
            )
            .unwrap();
        }
        let paths = [dir.path().to_path_buf()];
        let in_pool = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| discover(&paths, false))
        };
        let one = in_pool(1);
        assert_eq!(one.files.len(), 3 * devices);
        assert_eq!(
            one.files[0].rel_path,
            "PC-000/sdkdata/easemobLog/easemob_2024-03-01_08-00-00.log.gz"
        );
        #[cfg(unix)]
        assert_eq!(
            one.skipped
                .iter()
                .map(|s| (s.path.rsplit('/').next().unwrap(), s.reason.as_str()))
                .collect::<Vec<_>>(),
            [
                (
                    "easemob_2024-01-01_00-00-00.log",
                    "No such file or directory (os error 2)"
                ),
                ("loop", "symlink loop: not followed"),
            ]
        );
        for threads in [2, 3, 8] {
            let many = in_pool(threads);
            assert_eq!(many.files, one.files, "{threads} threads");
            assert_eq!(many.skipped, one.skipped, "{threads} threads");
        }
    }

    #[cfg(unix)]
    #[test]
    fn folder_names_that_are_not_utf8_stay_distinct_devices() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        for name in [&b"PC-\xff"[..], b"PC-\xfe", "PC-\u{FFFD}".as_bytes()] {
            let device = dir.path().join(OsStr::from_bytes(name));
            fs::create_dir_all(&device).unwrap();
            fs::write(device.join("easemob.log"), "x\n").unwrap();
        }
        let found = discover(&[dir.path().to_path_buf()], false);
        let devices: Vec<&str> = found.files.iter().map(|f| f.device.as_str()).collect();
        assert_eq!(devices, ["PC-\\xFE", "PC-\\xFF", "PC-\u{FFFD}"]);
        let keys: std::collections::HashSet<&str> =
            found.files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(keys.len(), 3);
        // Named one by one, and as roots of their own: keys stay distinct too.
        let paths: Vec<PathBuf> = found.files.iter().map(|f| f.path.clone()).collect();
        let named = discover(&paths, false);
        let keys: std::collections::HashSet<&str> =
            named.files.iter().map(|f| f.rel_path.as_str()).collect();
        assert_eq!(keys.len(), 3, "{:?}", named.files);
        let roots: Vec<PathBuf> = paths.iter().map(|p| p.parent().unwrap().into()).collect();
        let rooted = discover(&roots, false);
        let devices: std::collections::HashSet<&str> =
            rooted.files.iter().map(|f| f.device.as_str()).collect();
        assert_eq!(devices.len(), 3, "{:?}", rooted.files);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loop_is_reported_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("dev1");
        fs::create_dir_all(&sub).unwrap();
        fs::write(sub.join("easemob.log"), "x\n").unwrap();
        std::os::unix::fs::symlink(dir.path(), sub.join("loop")).unwrap();
        let found = discover(&[dir.path().to_path_buf()], false);
        assert_eq!(found.files.len(), 1);
        assert!(
            found.skipped.iter().any(|s| s.reason.contains("loop")),
            "{:?}",
            found.skipped
        );
    }
}
