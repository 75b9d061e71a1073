//! Following a log folder as the SDK writes it: at each look, the lines written since the
//! last one.
//!
//! A file is followed by its identity (device and inode; volume and file index on Windows),
//! so a rotation that renames `easemob.log` to `easemob_<time>.log` keeps its place, and the
//! new `easemob.log` is read from its start. A file that shrinks was truncated: it is read
//! again from its start, as a new segment. Only whole lines are handed over; a rotated
//! file's unterminated last line goes at once (the SDK writes no more to it), the live
//! file's at [`Follower::finish`]. Gzip files are not followed: they are compressed copies of
//! rotated files. UTF-16 files (with a BOM) are decoded as they grow.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use encoding_rs::{Decoder, UTF_8, UTF_16BE, UTF_16LE};
use memchr::memrchr;
use notify::{PollWatcher, RecursiveMode, Watcher};

use crate::input::discover::{self, FileIdentity, LogFile};

/// Bytes read from a file at a time: each block's whole lines go out as one batch.
const BLOCK: usize = 1 << 20;

/// Looks in a row that must miss a followed file before it counts as gone. A rotation can
/// hide a file from one look (listed under its old name, renamed before it is looked up);
/// it is found again under its new name at the next.
const GONE_AFTER: u32 = 3;

/// Bytes at the start of a file kept to tell it from another file with the same identity.
const HEAD: usize = 1024;

/// The longest line held back waiting for its end; a longer one goes out as it is.
const LINE_MAX: usize = 8 << 20;

/// A followed file's segment: one stretch of its content, from its start or the watch's
/// start to a truncation or the end. Segment numbers are never reused.
pub(crate) type SegmentId = usize;

/// What a look found.
#[derive(Debug)]
pub(crate) enum Change<'a> {
    /// Whole lines that were in the file before the watch started (without `from_start`):
    /// they place the lines after them (line numbers, the entry time carried), and are not
    /// new.
    Before {
        segment: SegmentId,
        file: &'a LogFile,
        bytes: &'a [u8],
    },
    /// New whole lines (UTF-8, any BOM removed).
    Lines {
        segment: SegmentId,
        file: &'a LogFile,
        bytes: &'a [u8],
    },
    /// A file that appeared after the watch started.
    Appeared { file: &'a LogFile },
    /// A followed file now under another name (a rotation).
    Renamed {
        segment: SegmentId,
        from: String,
        file: &'a LogFile,
    },
    /// A file that shrank: `segment` ended; a new segment reads it from its start.
    Truncated {
        segment: SegmentId,
        file: &'a LogFile,
    },
    /// A followed file no longer in the folder.
    Gone { file: &'a LogFile },
    /// A file that could not be read at this look (tried again at the next).
    Unreadable { path: String, reason: String },
}

/// One followed file.
struct Followed {
    /// Its identity; `None` where the platform does not say (then its path is its identity).
    identity: Option<FileIdentity>,
    file: LogFile,
    segment: SegmentId,
    /// Bytes of the file consumed so far.
    offset: u64,
    /// Decoded text after the last line end.
    pending: Vec<u8>,
    /// How the file's bytes become UTF-8 (`None` until the start of the file was seen).
    decoder: Option<Decoder>,
    /// Looks in a row that did not find it (0: found at the current look).
    missed: u32,
    /// Its first bytes as read (up to [`HEAD`]): a file whose start differs is another file
    /// (an identity reused after a deletion) or was rewritten.
    head: Vec<u8>,
}

impl Followed {
    fn is(&self, identity: Option<FileIdentity>, path: &Path) -> bool {
        let same = match (self.identity, identity) {
            (Some(a), Some(b)) => a == b,
            _ => self.file.path == path,
        };
        // Under another name, it must also start as it did.
        same && (self.file.path == path || starts_as_read(&self.head, path))
    }
}

/// The files of one folder (or one file), followed look by look.
pub(crate) struct Follower {
    /// The folder looked at: the root, or the folder of a root that is one file.
    folder: PathBuf,
    /// A root that is one file: its name. Only that file is followed, and what it becomes when
    /// rotated (found again in its folder under another name).
    only: Option<std::ffi::OsString>,
    followed: Vec<Followed>,
    next_segment: SegmentId,
    /// Whether the first look is done (files there at the first look began before the watch).
    looked: bool,
    from_start: bool,
}

/// What a look saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Look {
    /// The root exists.
    pub(crate) root_exists: bool,
    /// Files followed.
    pub(crate) files: usize,
    /// A followed file was not found, or a new file waits for one: look again soon rather
    /// than at the next notification.
    pub(crate) unsettled: bool,
}

/// What reading a followed file came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reading {
    /// Read up to its end (or found unreadable, and said so).
    Done,
    /// Its name now holds another file: it was renamed or deleted since the listing.
    Moved,
}

/// Where a look's changes go; an error stops the look and is returned.
pub(crate) type OnChange<'a, E> = &'a mut dyn FnMut(Change<'_>) -> Result<(), E>;

impl Follower {
    /// Follows the SDK's log files under `root` (a folder or one file). Files there at the
    /// first look count from their end, unless `from_start`.
    pub(crate) fn new(root: PathBuf, from_start: bool) -> Follower {
        // A log file (or a `.log` name not there yet) is followed from its folder, so that its
        // rotation (a rename in that folder) keeps its place.
        let is_file = root.is_file()
            || (!root.exists()
                && root
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("log")));
        let (folder, only) = match (is_file, root.file_name(), root.parent()) {
            (true, Some(name), Some(parent)) => {
                let parent = if parent.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    parent.to_path_buf()
                };
                (parent, Some(name.to_os_string()))
            }
            _ => (root, None),
        };
        Follower {
            folder,
            only,
            followed: Vec::new(),
            next_segment: 0,
            looked: false,
            from_start,
        }
    }

    /// The folder the file system is watched in.
    pub(crate) fn folder(&self) -> &Path {
        &self.folder
    }

    /// Looks at the folder once: what appeared, was renamed, grew, shrank or went, in report
    /// order (a device's rotated files before its `easemob.log`).
    ///
    /// A file found under the name of a followed file that this look did not find (renamed
    /// out of the listing's sight, or deleted) waits until that file is found under its new
    /// name or has gone: the old file's last lines come before the new file's first.
    pub(crate) fn look<E>(&mut self, on_change: OnChange<'_, E>) -> Result<Look, E> {
        let root_exists = self.folder.is_dir();
        let found = if root_exists {
            discover::discover_to_follow(&self.folder)
        } else {
            Vec::new()
        };
        let first_look = !self.looked;
        self.looked = true;
        for f in &mut self.followed {
            f.missed += 1;
        }
        // Which followed file each found file is, before any is read: a followed file found
        // under a new name is not missed, whatever the order of the names.
        let found: Vec<_> = found
            .into_iter()
            .filter(|(f, _)| !f.gzip)
            .map(|(file, identity)| {
                let index = self
                    .followed
                    .iter()
                    .position(|f| f.is(identity, &file.path));
                if let Some(index) = index {
                    self.followed[index].missed = 0;
                }
                (file, identity, index)
            })
            .collect();
        let mut unsettled = false;
        for (file, identity, known) in found {
            let index = match known {
                Some(index) => {
                    let followed = &mut self.followed[index];
                    if followed.file.path != file.path {
                        let from = std::mem::replace(&mut followed.file, file);
                        on_change(Change::Renamed {
                            segment: followed.segment,
                            from: from.rel_path,
                            file: &followed.file,
                        })?;
                    } else {
                        followed.file.size = file.size;
                    }
                    index
                }
                // One file followed: another file in its folder is not its concern.
                None if self
                    .only
                    .as_ref()
                    .is_some_and(|name| file.path.file_name() != Some(name.as_os_str())) =>
                {
                    continue;
                }
                // Its name still belongs to a followed file not found at this look.
                None if self
                    .followed
                    .iter()
                    .any(|f| f.missed > 0 && f.file.path == file.path) =>
                {
                    unsettled = true;
                    continue;
                }
                None => {
                    let segment = self.new_segment();
                    self.followed.push(Followed {
                        identity,
                        file,
                        segment,
                        offset: 0,
                        pending: Vec::new(),
                        decoder: None,
                        missed: 0,
                        head: Vec::new(),
                    });
                    let followed = self.followed.last().expect("just pushed");
                    if !first_look {
                        on_change(Change::Appeared {
                            file: &followed.file,
                        })?;
                    }
                    self.followed.len() - 1
                }
            };
            let before = first_look && !self.from_start;
            if self.read_new(index, before, on_change)? == Reading::Moved {
                // Its name now holds another file: found again at a later look.
                self.followed[index].missed = 1;
            }
        }
        // Files that went: their last unterminated line, then the news.
        let mut index = 0;
        while index < self.followed.len() {
            let missed = self.followed[index].missed;
            unsettled |= missed > 0;
            if missed < GONE_AFTER {
                index += 1;
                continue;
            }
            let mut gone = self.followed.remove(index);
            flush(&mut gone, on_change)?;
            on_change(Change::Gone { file: &gone.file })?;
        }
        self.followed
            .sort_by(|a, b| discover::report_order(&a.file, &b.file));
        Ok(Look {
            root_exists,
            files: self.followed.len(),
            unsettled,
        })
    }

    /// Hands over every file's unterminated last line: the watch ends.
    pub(crate) fn finish<E>(&mut self, on_change: OnChange<'_, E>) -> Result<(), E> {
        for followed in &mut self.followed {
            flush(followed, on_change)?;
        }
        Ok(())
    }

    fn new_segment(&mut self) -> SegmentId {
        self.next_segment += 1;
        self.next_segment - 1
    }

    /// Reads what followed file `index` gained since the last look (from its start when it
    /// shrank), block by block.
    fn read_new<E>(
        &mut self,
        index: usize,
        before: bool,
        on_change: OnChange<'_, E>,
    ) -> Result<Reading, E> {
        let next_segment = self.next_segment;
        let followed = &mut self.followed[index];
        let mut handle = match File::open(&followed.file.path) {
            Ok(handle) => handle,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Reading::Moved),
            Err(e) => return unreadable(&followed.file, &e, on_change),
        };
        if let (Some(listed), Some(opened)) = (followed.identity, FileIdentity::of_open(&handle))
            && listed != opened
        {
            return Ok(Reading::Moved);
        }
        let size = match handle.metadata() {
            Ok(meta) => meta.len(),
            Err(e) => return unreadable(&followed.file, &e, on_change),
        };
        let rewritten =
            size < followed.offset || !starts_as_read(&followed.head, &followed.file.path);
        if rewritten {
            flush(followed, on_change)?;
            let segment = followed.segment;
            followed.segment = next_segment;
            followed.offset = 0;
            followed.decoder = None;
            followed.head.clear();
            self.next_segment += 1;
            on_change(Change::Truncated {
                segment,
                file: &followed.file,
            })?;
        }
        if size == followed.offset {
            return Ok(Reading::Done);
        }
        if let Err(e) = handle.seek(SeekFrom::Start(followed.offset)) {
            return unreadable(&followed.file, &e, on_change);
        }
        let mut block = vec![0; BLOCK];
        loop {
            let read = match handle.read(&mut block) {
                Ok(0) => break,
                Ok(read) => read,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return unreadable(&followed.file, &e, on_change),
            };
            let start = followed.offset == 0;
            followed.offset += read as u64;
            let mut raw = &block[..read];
            let room = HEAD.saturating_sub(followed.head.len()).min(read);
            followed.head.extend_from_slice(&raw[..room]);
            if start && followed.decoder.is_none() {
                let (decoder, bom) = decoder_for(raw);
                followed.decoder = Some(decoder);
                raw = &raw[bom..];
            }
            decode_into(followed.decoder.as_mut(), raw, &mut followed.pending);
            hand_over_lines(followed, before, on_change)?;
        }
        if !followed.file.live {
            hand_over(followed, before, on_change)?;
        }
        Ok(Reading::Done)
    }
}

/// Whether the file at `path` starts with `head` (what was read of its start).
fn starts_as_read(head: &[u8], path: &Path) -> bool {
    if head.is_empty() {
        return true;
    }
    let mut start = vec![0; head.len()];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut start))
        .is_ok_and(|()| start == head)
}

/// Says that `file` could not be read at this look.
fn unreadable<E>(
    file: &LogFile,
    err: &std::io::Error,
    on_change: OnChange<'_, E>,
) -> Result<Reading, E> {
    on_change(Change::Unreadable {
        path: file.path.to_string_lossy().into_owned(),
        reason: err.to_string(),
    })?;
    Ok(Reading::Done)
}

/// The decoder for a file that starts with `head`, and the length of its BOM.
fn decoder_for(head: &[u8]) -> (Decoder, usize) {
    match head {
        [0xFF, 0xFE, ..] => (UTF_16LE.new_decoder_without_bom_handling(), 2),
        [0xFE, 0xFF, ..] => (UTF_16BE.new_decoder_without_bom_handling(), 2),
        [0xEF, 0xBB, 0xBF, ..] => (UTF_8.new_decoder_without_bom_handling(), 3),
        _ => (UTF_8.new_decoder_without_bom_handling(), 0),
    }
}

/// Appends `raw` to `text`: as it is for UTF-8 (the search takes bytes as they are), decoded
/// for UTF-16 (a code unit split between two reads waits in the decoder).
fn decode_into(decoder: Option<&mut Decoder>, raw: &[u8], text: &mut Vec<u8>) {
    let Some(decoder) = decoder.filter(|d| d.encoding() != UTF_8) else {
        text.extend_from_slice(raw);
        return;
    };
    let mut decoded = String::with_capacity(raw.len() * 3 / 2 + 16);
    let mut input = raw;
    loop {
        let (result, read, _) = decoder.decode_to_string(input, &mut decoded, false);
        input = &input[read..];
        if result == encoding_rs::CoderResult::InputEmpty {
            break;
        }
        decoded.reserve(input.len() * 3 / 2 + 16);
    }
    text.extend_from_slice(decoded.as_bytes());
}

/// Hands over the whole lines waiting in `followed` (and a line past [`LINE_MAX`] as it is).
fn hand_over_lines<E>(
    followed: &mut Followed,
    before: bool,
    on_change: OnChange<'_, E>,
) -> Result<(), E> {
    let end = match memrchr(b'\n', &followed.pending) {
        Some(at) => at + 1,
        None if followed.pending.len() > LINE_MAX => followed.pending.len(),
        None => return Ok(()),
    };
    let rest = followed.pending.split_off(end);
    let lines = std::mem::replace(&mut followed.pending, rest);
    let (segment, file, bytes) = (followed.segment, &followed.file, lines.as_slice());
    on_change(change(segment, file, bytes, before))
}

/// Lines of `segment`: from before the watch, or new.
fn change<'a>(segment: SegmentId, file: &'a LogFile, bytes: &'a [u8], before: bool) -> Change<'a> {
    if before {
        Change::Before {
            segment,
            file,
            bytes,
        }
    } else {
        Change::Lines {
            segment,
            file,
            bytes,
        }
    }
}

/// Hands over the unterminated last line of `followed`, if any, as new.
fn flush<E>(followed: &mut Followed, on_change: OnChange<'_, E>) -> Result<(), E> {
    hand_over(followed, false, on_change)
}

/// Hands over the unterminated last line of `followed`, if any; `before` the watch or new.
fn hand_over<E>(
    followed: &mut Followed,
    before: bool,
    on_change: OnChange<'_, E>,
) -> Result<(), E> {
    if followed.pending.is_empty() {
        return Ok(());
    }
    let line = std::mem::take(&mut followed.pending);
    on_change(change(followed.segment, &followed.file, &line, before))
}

/// Wakes the watch when the file system says something changed under the root.
pub(crate) struct Wakeups {
    events: mpsc::Receiver<()>,
    /// Kept for as long as the wakeups are wanted.
    _watcher: Box<dyn Watcher + Send>,
    /// The watcher polls (asked for, or the platform's notifications could not start).
    pub(crate) polling: bool,
}

/// Whether a file system event can mean new lines, a new name or a new file. Opening, reading
/// and closing a file are not changes: the watch's own reads raise them, and waking on them
/// would have it look again and again at an idle folder.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, MetadataKind, ModifyKind};
    match kind {
        notify::EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        notify::EventKind::Access(_) => false,
        notify::EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        _ => true,
    }
}

/// Why the file system cannot be watched.
#[derive(Debug, thiserror::Error)]
#[error("cannot watch {path}: {source}")]
pub(crate) struct WatchError {
    path: String,
    #[source]
    source: notify::Error,
}

impl Wakeups {
    /// Wakeups for changes under `root`: the platform's notifications, or polling every
    /// `poll` when given or when notifications cannot start (a network share, a limit on
    /// watches).
    pub(crate) fn new(root: &Path, poll: Option<Duration>) -> Result<Wakeups, WatchError> {
        let (sender, events) = mpsc::channel();
        let handler = move |event: notify::Result<notify::Event>| {
            if event.is_ok_and(|e| is_change(&e.kind)) {
                // The receiver is gone only when the watch has ended.
                let _ = sender.send(());
            }
        };
        let error = |source| WatchError {
            path: root.to_string_lossy().into_owned(),
            source,
        };
        let native = match poll {
            Some(_) => None,
            None => notify::recommended_watcher(handler.clone())
                .and_then(|mut w| w.watch(root, RecursiveMode::Recursive).map(|()| w))
                .ok(),
        };
        let (watcher, polling): (Box<dyn Watcher + Send>, bool) = match native {
            Some(watcher) => (Box::new(watcher), false),
            None => {
                let every = poll.unwrap_or(Duration::from_secs(1));
                let config = notify::Config::default().with_poll_interval(every);
                let mut watcher = PollWatcher::new(handler, config).map_err(error)?;
                watcher
                    .watch(root, RecursiveMode::Recursive)
                    .map_err(error)?;
                (Box::new(watcher), true)
            }
        };
        Ok(Wakeups {
            events,
            _watcher: watcher,
            polling,
        })
    }

    /// Waits up to `timeout` for a change; the changes that came meanwhile count as one.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let woken = self.events.recv_timeout(timeout).is_ok();
        while self.events.try_recv().is_ok() {}
        woken
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::io::Write;

    /// What a look handed over, as text: one entry per change.
    fn look(follower: &mut Follower) -> Vec<String> {
        let mut seen = Vec::new();
        follower
            .look::<()>(&mut |change| {
                seen.push(describe(&change));
                Ok(())
            })
            .unwrap();
        seen
    }

    fn describe(change: &Change<'_>) -> String {
        let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
        match change {
            Change::Before {
                segment,
                file,
                bytes,
            } => format!("before {segment} {} {:?}", file.rel_path, text(bytes)),
            Change::Lines {
                segment,
                file,
                bytes,
            } => format!("lines {segment} {} {:?}", file.rel_path, text(bytes)),
            Change::Appeared { file } => format!("appeared {}", file.rel_path),
            Change::Renamed {
                segment,
                from,
                file,
            } => format!("renamed {segment} {from} -> {}", file.rel_path),
            Change::Truncated { segment, file } => format!("truncated {segment} {}", file.rel_path),
            Change::Gone { file } => format!("gone {}", file.rel_path),
            Change::Unreadable { path, .. } => format!("unreadable {path}"),
        }
    }

    /// What a look tells of a rotation: the renamed file's last line under its new name,
    /// then the new `easemob.log` from its start.
    const LAST_THEN_FIRST: [&str; 4] = [
        "renamed 0 easemob.log -> easemob_2024-03-01_08-41-45.log",
        r#"lines 0 easemob_2024-03-01_08-41-45.log "last\n""#,
        "appeared easemob.log",
        r#"lines 1 easemob.log "first\n""#,
    ];

    fn append(path: &Path, text: &[u8]) {
        let mut file = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .unwrap();
        file.write_all(text).unwrap();
    }

    #[test]
    fn lines_before_the_start_place_and_new_lines_come_once() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"a\nb\npart");
        let mut follower = Follower::new(dir.path().to_path_buf(), false);
        assert_eq!(look(&mut follower), [r#"before 0 easemob.log "a\nb\n""#]);
        assert!(look(&mut follower).is_empty());
        append(&live, b"ial\nc\n");
        assert_eq!(
            look(&mut follower),
            [r#"lines 0 easemob.log "partial\nc\n""#]
        );
        assert!(look(&mut follower).is_empty());
    }

    #[test]
    fn from_start_hands_over_what_is_there_as_new() {
        let dir = tempfile::tempdir().unwrap();
        append(&dir.path().join("easemob.log"), b"a\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), true);
        assert_eq!(look(&mut follower), [r#"lines 0 easemob.log "a\n""#]);
    }

    #[test]
    fn a_rotation_keeps_the_renamed_file_and_reads_the_new_one_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"old\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), false);
        look(&mut follower);
        // The SDK's last lines, its rename, a new file with lines: nothing lost, none twice.
        append(&live, b"last\nunterminated");
        let rotated = dir.path().join("easemob_2024-03-01_08-41-45.log");
        fs::rename(&live, &rotated).unwrap();
        append(&live, b"first\n");
        assert_eq!(
            look(&mut follower),
            [
                "renamed 0 easemob.log -> easemob_2024-03-01_08-41-45.log",
                r#"lines 0 easemob_2024-03-01_08-41-45.log "last\n""#,
                r#"lines 0 easemob_2024-03-01_08-41-45.log "unterminated""#,
                "appeared easemob.log",
                r#"lines 1 easemob.log "first\n""#,
            ]
        );
    }

    #[test]
    fn a_file_missed_by_one_look_during_a_rotation_is_found_under_its_new_name() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"old\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), false);
        look(&mut follower);
        // Renamed out of sight (another folder) for one look, then back under a rotated name.
        let aside = tempfile::tempdir().unwrap();
        fs::rename(&live, aside.path().join("easemob.log")).unwrap();
        assert!(look(&mut follower).is_empty());
        append(&aside.path().join("easemob.log"), b"new\n");
        let rotated = dir.path().join("easemob_2024-03-01_08-41-45.log");
        fs::rename(aside.path().join("easemob.log"), &rotated).unwrap();
        assert_eq!(
            look(&mut follower),
            [
                "renamed 0 easemob.log -> easemob_2024-03-01_08-41-45.log",
                r#"lines 0 easemob_2024-03-01_08-41-45.log "new\n""#,
            ]
        );
    }

    /// The rotation that made `watch_follows_appends_rotation_truncation_and_recreation_once_in_order`
    /// fail in CI: a listing that finds the new `easemob.log` but not the renamed file.
    #[test]
    fn a_new_file_under_a_followed_name_waits_until_the_old_file_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"old\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), false);
        look(&mut follower);
        append(&live, b"last\n");
        // Out of the listing's sight (not a log name), then under its rotated name.
        let aside = dir.path().join("rotating.tmp");
        fs::rename(&live, &aside).unwrap();
        append(&live, b"first\n");
        let mut seen = Vec::new();
        let looked = follower
            .look::<()>(&mut |change| {
                seen.push(describe(&change));
                Ok(())
            })
            .unwrap();
        assert!(seen.is_empty(), "{seen:?}");
        assert!(looked.unsettled);
        fs::rename(&aside, dir.path().join("easemob_2024-03-01_08-41-45.log")).unwrap();
        assert_eq!(look(&mut follower), LAST_THEN_FIRST);
    }

    #[test]
    fn a_file_deleted_and_created_again_is_read_after_the_old_one_went() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"old\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), false);
        look(&mut follower);
        append(&live, b"tail");
        assert!(look(&mut follower).is_empty());
        // A second name out of the listing's sight keeps the old file's identity from reuse.
        fs::hard_link(&live, dir.path().join("kept.tmp")).unwrap();
        fs::remove_file(&live).unwrap();
        append(&live, b"new\n");
        assert!(look(&mut follower).is_empty());
        assert!(look(&mut follower).is_empty());
        assert_eq!(
            look(&mut follower),
            [r#"lines 0 easemob.log "tail""#, "gone easemob.log"]
        );
        assert_eq!(
            look(&mut follower),
            ["appeared easemob.log", r#"lines 1 easemob.log "new\n""#]
        );
        let mut none = |_: Change<'_>| Ok::<(), ()>(());
        assert!(!follower.look(&mut none).unwrap().unsettled);
    }

    #[test]
    fn one_file_followed_is_followed_through_its_rotation_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"old\n");
        append(
            &dir.path().join("easemob_2024-03-01_07-00-00.log"),
            b"other\n",
        );
        let mut follower = Follower::new(live.clone(), false);
        assert_eq!(look(&mut follower), [r#"before 0 easemob.log "old\n""#]);
        append(&live, b"last\n");
        let rotated = dir.path().join("easemob_2024-03-01_08-41-45.log");
        fs::rename(&live, &rotated).unwrap();
        append(&live, b"first\n");
        assert_eq!(look(&mut follower), LAST_THEN_FIRST);
    }

    #[test]
    fn a_truncated_file_starts_a_new_segment_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"one\ntwo\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), true);
        look(&mut follower);
        fs::write(&live, b"x\n").unwrap();
        assert_eq!(
            look(&mut follower),
            ["truncated 0 easemob.log", r#"lines 1 easemob.log "x\n""#]
        );
    }

    #[test]
    fn a_file_rewritten_larger_is_read_again_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        append(&live, b"one\n");
        let mut follower = Follower::new(dir.path().to_path_buf(), true);
        look(&mut follower);
        fs::write(&live, b"another start\n").unwrap();
        assert_eq!(
            look(&mut follower),
            [
                "truncated 0 easemob.log",
                r#"lines 1 easemob.log "another start\n""#
            ]
        );
    }

    #[test]
    fn a_folder_that_appears_later_is_followed_from_the_start_of_its_files() {
        let parent = tempfile::tempdir().unwrap();
        let root = parent.path().join("easemobLog");
        let mut follower = Follower::new(root.clone(), false);
        let mut none = |_: Change<'_>| Ok::<(), ()>(());
        assert!(!follower.look(&mut none).unwrap().root_exists);
        fs::create_dir(&root).unwrap();
        append(&root.join("easemob.log"), b"a\n");
        assert_eq!(
            look(&mut follower),
            ["appeared easemob.log", r#"lines 0 easemob.log "a\n""#]
        );
    }

    #[test]
    fn a_deleted_file_hands_over_its_last_line_and_goes() {
        let dir = tempfile::tempdir().unwrap();
        let rotated = dir.path().join("easemob_2024-03-01_08-41-45.log");
        let live = dir.path().join("easemob.log");
        append(&live, b"");
        let mut follower = Follower::new(dir.path().to_path_buf(), false);
        look(&mut follower);
        append(&live, b"tail");
        assert!(look(&mut follower).is_empty());
        fs::remove_file(&live).unwrap();
        append(&rotated, b"r\n");
        assert_eq!(
            look(&mut follower),
            [
                "appeared easemob_2024-03-01_08-41-45.log",
                r#"lines 1 easemob_2024-03-01_08-41-45.log "r\n""#,
            ]
        );
        assert!(look(&mut follower).is_empty());
        assert_eq!(
            look(&mut follower),
            [r#"lines 0 easemob.log "tail""#, "gone easemob.log"]
        );
    }

    #[test]
    fn utf16_is_decoded_across_reads_that_split_a_character() {
        let dir = tempfile::tempdir().unwrap();
        let live = dir.path().join("easemob.log");
        let text: Vec<u8> = "错误 code: 2\n"
            .encode_utf16()
            .flat_map(u16::to_le_bytes)
            .collect();
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend_from_slice(&text);
        // Half a code unit first, the rest at the next look.
        append(&live, &bytes[..5]);
        let mut follower = Follower::new(dir.path().to_path_buf(), true);
        assert!(look(&mut follower).is_empty());
        append(&live, &bytes[5..]);
        assert_eq!(
            look(&mut follower),
            [r#"lines 0 easemob.log "错误 code: 2\n""#]
        );
    }

    #[test]
    fn finish_hands_over_the_live_files_unterminated_line() {
        let dir = tempfile::tempdir().unwrap();
        append(&dir.path().join("easemob.log"), b"a\nb");
        let mut follower = Follower::new(dir.path().to_path_buf(), true);
        assert_eq!(look(&mut follower), [r#"lines 0 easemob.log "a\n""#]);
        let mut seen = Vec::new();
        follower
            .finish::<()>(&mut |c| {
                seen.push(describe(&c));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [r#"lines 0 easemob.log "b""#]);
    }
}
