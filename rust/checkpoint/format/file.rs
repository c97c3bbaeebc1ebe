// SPDX-License-Identifier: GPL-2.0

//! The records of open files: the file, a shared object, and the
//! descriptors that refer to it.

use crate::codec::{Decoder, Encoder, LeArray, LeValue};
use crate::visit::{Field, Visitor};
use crate::{FormatError, Payload, MAX_PATH};

/// Kinds of open files that an image may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum FileKind {
    /// A regular file.
    Regular = 1,
    /// A directory.
    Directory = 2,
    /// One of the memory character devices `/dev/null`, `/dev/zero`,
    /// `/dev/random` and `/dev/urandom`.
    CharDevice = 3,
    /// An eventfd.
    Eventfd = 4,
    /// One end of a pipe (`O_RDONLY`: the read end, `O_WRONLY`: the write
    /// end), whose pipe is a [`PipeRecord`].
    Pipe = 5,
    /// An open regular file whose last name is gone, whose contents are an
    /// [`UnlinkedRecord`], shared by all the files open on it.
    Unlinked = 6,
    /// A file open on a FIFO (a named pipe), whose pipe is a
    /// [`PipeRecord`] with the FIFO's path.
    Fifo = 7,
    /// A signalfd.
    Signalfd = 8,
    /// A timerfd.
    Timerfd = 9,
    /// An epoll file, with its watches.
    Epoll = 10,
    /// A file open on shared memory of the kernel's internal mount (a
    /// memfd, or shared anonymous memory), whose contents are a
    /// [`ShmemRecord`], shared by all the files open on it.
    Shmem = 11,
    /// An inotify file, with its watches.
    Inotify = 12,
}

/// Most bytes an unlinked file may hold: larger ones are refused at
/// checkpoint.
pub const MAX_UNLINKED: usize = 8 << 20;

/// The largest size of an unlinked file or of shared memory: `MAX_LFS_FILESIZE`.
pub const MAX_CONTENTS: u64 = i64::MAX as u64;

/// The length of the head of contents of `size` bytes that their own record
/// holds: all of them, up to [`MAX_UNLINKED`].
pub fn head_len(size: u64) -> usize {
    // CAST: at most `MAX_UNLINKED`.
    size.min(MAX_UNLINKED as u64) as usize
}

/// Whether `data` is the head of contents of `size` bytes.
fn head_of(size: u64, data: &[u8]) -> bool {
    size <= MAX_CONTENTS && data.len() == head_len(size)
}

impl FileKind {
    /// Decodes a kind number.
    pub fn from_u32(v: u32) -> Result<Self, FormatError> {
        Ok(match v {
            1 => Self::Regular,
            2 => Self::Directory,
            3 => Self::CharDevice,
            4 => Self::Eventfd,
            5 => Self::Pipe,
            6 => Self::Unlinked,
            7 => Self::Fifo,
            8 => Self::Signalfd,
            9 => Self::Timerfd,
            10 => Self::Epoll,
            11 => Self::Shmem,
            12 => Self::Inotify,
            _ => return Err(FormatError::BadValue("file kind")),
        })
    }

    /// Returns the name used by the tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::Directory => "directory",
            Self::CharDevice => "chardev",
            Self::Eventfd => "eventfd",
            Self::Pipe => "pipe",
            Self::Unlinked => "unlinked",
            Self::Fifo => "fifo",
            Self::Signalfd => "signalfd",
            Self::Timerfd => "timerfd",
            Self::Epoll => "epoll",
            Self::Shmem => "shmem",
            Self::Inotify => "inotify",
        }
    }

    /// The file type bits (`S_IFMT`) of its inode: anonymous inodes
    /// (eventfd, signalfd, timerfd, epoll, inotify) have none.
    fn file_type(self) -> u32 {
        match self {
            Self::Regular | Self::Unlinked | Self::Shmem => 0o100000,
            Self::Directory => 0o040000,
            Self::CharDevice => 0o020000,
            Self::Eventfd | Self::Signalfd | Self::Timerfd | Self::Epoll | Self::Inotify => 0,
            Self::Pipe | Self::Fifo => 0o010000,
        }
    }
}

/// Device numbers (as `st_rdev`: the kernel's `new_encode_dev()`) of the
/// character devices a [`FileKind::CharDevice`] may be: `/dev/null`,
/// `/dev/zero`, `/dev/random`, `/dev/urandom` (major 1, minors 3, 5, 8, 9).
pub const MEM_CHAR_DEVICES: [u32; 4] = [0x103, 0x105, 0x108, 0x109];

/// What a file record holds beyond what all files have: its kind's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileData<'a> {
    /// Files reopened by path (regular files, directories, devices): the
    /// absolute path, as seen from the checkpointer's root.
    Path(&'a [u8]),
    /// An eventfd's counter and `EFD_SEMAPHORE` flag.
    Eventfd {
        /// The counter.
        count: u64,
        /// `EFD_SEMAPHORE`.
        semaphore: bool,
    },
    /// One end of a pipe, or a file open on a FIFO: the objref of its
    /// [`PipeRecord`].
    Pipe {
        /// Objref of the pipe.
        pipe: i32,
    },
    /// A file open on an unlinked regular file: the objref of its
    /// [`UnlinkedRecord`].
    Unlinked {
        /// Objref of the unlinked file's contents.
        inode: i32,
    },
    /// A signalfd: the signals it reads (bit `n - 1` for signal `n`).
    Signalfd {
        /// The signal mask.
        mask: u64,
    },
    /// A timerfd.
    Timerfd(Timerfd),
    /// A file open on shared memory: the objref of its [`ShmemRecord`].
    Shmem {
        /// Objref of the shared memory.
        shmem: i32,
    },
    /// An epoll file: its watches, at most [`MAX_EPOLL_WATCHES`].
    Epoll {
        /// The watches, in no particular order.
        watches: LeArray<'a, EpollWatch>,
    },
    /// An inotify file: its watches, laid out as [`InotifyWatch::iter`]
    /// reads them, at most [`MAX_INOTIFY_WATCHES`] in
    /// [`MAX_INOTIFY_BYTES`], and the events it holds unread, as
    /// [`InotifyEvent::iter`] reads them, in [`MAX_INOTIFY_BYTES`] at most.
    Inotify {
        /// The number of watches.
        count: u32,
        /// The watches, by increasing watch descriptor.
        watches: &'a [u8],
        /// The events, oldest first, as `read()` gives them.
        events: &'a [u8],
    },
}

/// An event an inotify file holds unread: in the image, as `read()` gives
/// it (`struct inotify_event`): its wd, mask and cookie, the length of its
/// name (0, or a multiple of 16 with room for a NUL), then the name padded
/// with NULs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InotifyEvent<'a> {
    /// The wd of its watch (-1 for `IN_Q_OVERFLOW`).
    pub wd: i32,
    /// Its mask: events, `IN_ISDIR`, `IN_UNMOUNT`, `IN_IGNORED`,
    /// `IN_Q_OVERFLOW`.
    pub mask: u32,
    /// Its cookie, which pairs the two events of a rename.
    pub cookie: u32,
    /// The name of the entry of a watched directory, without its padding.
    pub name: &'a [u8],
}

impl<'a> InotifyEvent<'a> {
    /// Length of an event without its name.
    pub const PREFIX: usize = 16;

    /// The bits a mask may have.
    pub const MASK: u32 = 0xfff | 0x4000_0000 | 0x2000 | 0x8000 | 0x4000;

    /// Returns the events laid out in `bytes`; one that does not fit ends
    /// the iteration with an error.
    pub fn iter(bytes: &'a [u8]) -> impl Iterator<Item = Result<Self, FormatError>> + 'a {
        let mut rest = bytes;
        core::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let word = |i: usize| rest.get(i..i + 4).map(|w| [w[0], w[1], w[2], w[3]]);
            let (Some(wd), Some(mask), Some(cookie), Some(len)) =
                (word(0), word(4), word(8), word(12))
            else {
                rest = &[];
                return Some(Err(FormatError::Truncated));
            };
            let len = u32::from_le_bytes(len) as usize;
            let Some(padded) = rest.get(Self::PREFIX..Self::PREFIX + len) else {
                rest = &[];
                return Some(Err(FormatError::Truncated));
            };
            rest = &rest[Self::PREFIX + len..];
            let name = &padded[..padded.iter().position(|&b| b == 0).unwrap_or(len)];
            Some(Ok(Self {
                wd: i32::from_le_bytes(wd),
                mask: u32::from_le_bytes(mask),
                cookie: u32::from_le_bytes(cookie),
                name,
            }))
        })
    }

    /// Checks the events of an inotify record: each with a known mask,
    /// and a name as `read()` pads it: none, or NUL-terminated within a
    /// multiple of 16 bytes, at most `NAME_MAX`, without `/`.
    fn check(bytes: &'a [u8]) -> Result<(), FormatError> {
        if bytes.len() > MAX_INOTIFY_BYTES {
            return Err(FormatError::BadValue("inotify events"));
        }
        let mut at = 0;
        for e in Self::iter(bytes) {
            let e = e?;
            let len = u32::from_le_bytes([
                bytes[at + 12],
                bytes[at + 13],
                bytes[at + 14],
                bytes[at + 15],
            ]) as usize;
            let padded = &bytes[at + Self::PREFIX..at + Self::PREFIX + len];
            if e.wd < -1
                || e.mask == 0
                || e.mask & !Self::MASK != 0
                || len % 16 != 0
                || (len != 0 && (e.name.is_empty() || e.name.len() >= len))
                || e.name.len() > 255
                || e.name.contains(&b'/')
                || padded[e.name.len()..].iter().any(|&b| b != 0)
            {
                return Err(FormatError::BadValue("inotify event"));
            }
            at += Self::PREFIX + len;
        }
        Ok(())
    }
}

/// Most watches an inotify record holds.
pub const MAX_INOTIFY_WATCHES: usize = 8192;

/// Most bytes the watches of an inotify record take.
pub const MAX_INOTIFY_BYTES: usize = 1 << 20;

/// A watch of an inotify file: in the image, its wd and mask as `i32` and
/// `u32`, the length of its path as `u32`, then the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InotifyWatch<'a> {
    /// Its watch descriptor, positive.
    pub wd: i32,
    /// Its mask, as `inotify_add_watch()` takes it: events, and
    /// `IN_EXCL_UNLINK` and `IN_ONESHOT`.
    pub mask: u32,
    /// The absolute path of the watched inode, as the checkpointer saw it.
    pub path: &'a [u8],
}

impl<'a> InotifyWatch<'a> {
    /// Length of a watch without its path.
    pub const PREFIX: usize = 4 * 3;

    /// The bits a mask may have: `IN_ALL_EVENTS`, `IN_EXCL_UNLINK` and
    /// `IN_ONESHOT`.
    pub const MASK: u32 = 0xfff | 0x0400_0000 | 0x8000_0000;

    /// Its length in the image.
    pub fn encoded_len(&self) -> usize {
        Self::PREFIX + self.path.len()
    }

    /// Writes it at the start of `out`, which [`InotifyWatch::encoded_len`]
    /// bytes must fit.
    pub fn write(&self, out: &mut [u8]) -> Result<(), FormatError> {
        let out = out
            .get_mut(..self.encoded_len())
            .ok_or(FormatError::Truncated)?;
        out[..4].copy_from_slice(&self.wd.to_le_bytes());
        out[4..8].copy_from_slice(&self.mask.to_le_bytes());
        // CAST: paths are at most `MAX_PATH`.
        out[8..12].copy_from_slice(&(self.path.len() as u32).to_le_bytes());
        out[12..].copy_from_slice(self.path);
        Ok(())
    }

    /// Returns the watches laid out in `bytes`; one that does not fit ends
    /// the iteration with an error.
    pub fn iter(bytes: &'a [u8]) -> impl Iterator<Item = Result<Self, FormatError>> + 'a {
        let mut rest = bytes;
        core::iter::from_fn(move || {
            if rest.is_empty() {
                return None;
            }
            let word = |b: &[u8], i: usize| b.get(i..i + 4).map(|w| [w[0], w[1], w[2], w[3]]);
            let head = (word(rest, 0), word(rest, 4), word(rest, 8));
            let (Some(wd), Some(mask), Some(len)) = head else {
                rest = &[];
                return Some(Err(FormatError::Truncated));
            };
            let len = u32::from_le_bytes(len) as usize;
            let Some(path) = rest.get(Self::PREFIX..Self::PREFIX + len) else {
                rest = &[];
                return Some(Err(FormatError::Truncated));
            };
            rest = &rest[Self::PREFIX + len..];
            Some(Ok(Self {
                wd: i32::from_le_bytes(wd),
                mask: u32::from_le_bytes(mask),
                path,
            }))
        })
    }

    /// Checks the watches of an inotify record: `count` of them in
    /// `bytes`, by increasing wd, each with a valid mask and an absolute
    /// path.
    fn check(count: u32, bytes: &'a [u8]) -> Result<(), FormatError> {
        let bad = FormatError::BadValue("inotify watch");
        if count as usize > MAX_INOTIFY_WATCHES || bytes.len() > MAX_INOTIFY_BYTES {
            return Err(FormatError::BadValue("inotify watch count"));
        }
        let mut n = 0u32;
        let mut last = 0;
        for w in Self::iter(bytes) {
            let w = w?;
            if w.wd <= last
                || w.mask & !Self::MASK != 0
                || w.mask & 0xfff == 0
                || w.path.len() > MAX_PATH
                || !w.path.starts_with(b"/")
                || w.path.contains(&0)
            {
                return Err(bad);
            }
            last = w.wd;
            n += 1;
        }
        if n != count {
            return Err(bad);
        }
        Ok(())
    }
}

/// The state of a timerfd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timerfd {
    /// Its clock: `CLOCK_REALTIME`, `CLOCK_MONOTONIC`, `CLOCK_BOOTTIME` or
    /// one of their `_ALARM` forms.
    pub clock: u32,
    /// The flags it was armed with: [`Timerfd::ABSTIME`],
    /// [`Timerfd::CANCEL_ON_SET`].
    pub flags: u32,
    /// Nanoseconds to the next expiry (0: disarmed); with
    /// [`Timerfd::ABSTIME`] on a `CLOCK_REALTIME` clock, the expiry itself,
    /// in nanoseconds since the epoch, so that it holds across a reboot.
    pub value: u64,
    /// The period in nanoseconds, 0 for a one-shot timer.
    pub interval: u64,
    /// Expirations not read yet.
    pub ticks: u64,
}

impl Timerfd {
    /// `TFD_TIMER_ABSTIME`.
    pub const ABSTIME: u32 = 1;
    /// `TFD_TIMER_CANCEL_ON_SET`.
    pub const CANCEL_ON_SET: u32 = 2;
    /// `CLOCK_REALTIME`.
    pub const REALTIME: u32 = 0;
    /// `CLOCK_REALTIME_ALARM`.
    pub const REALTIME_ALARM: u32 = 8;

    /// The clocks a timerfd may have: `CLOCK_REALTIME`, `CLOCK_MONOTONIC`,
    /// `CLOCK_BOOTTIME`, `CLOCK_REALTIME_ALARM`, `CLOCK_BOOTTIME_ALARM`.
    const CLOCKS: [u32; 5] = [0, 1, 7, 8, 9];

    /// Returns true if [`Timerfd::value`] is a `CLOCK_REALTIME` time.
    pub fn is_realtime_expiry(&self) -> bool {
        self.flags & Self::ABSTIME != 0
            && matches!(self.clock, Self::REALTIME | Self::REALTIME_ALARM)
    }
}

/// Most watches an epoll record holds.
pub const MAX_EPOLL_WATCHES: usize = 1 << 16;

/// A watch of an epoll file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EpollWatch {
    /// Objref of the watched file.
    pub objref: i32,
    /// The descriptor it was added under (it need not be open any more).
    pub fd: i32,
    /// Its events and flags (`EPOLLIN`, `EPOLLET`, `EPOLLONESHOT`, ...).
    pub events: u32,
    /// The data returned with its events.
    pub data: u64,
}

impl EpollWatch {
    /// Length in the image.
    pub const LEN: usize = 4 * 4 + 8;
}

impl LeValue for EpollWatch {
    const SIZE: usize = Self::LEN;

    fn read(b: &[u8]) -> Self {
        let word = |i: usize| u32::read(b.get(4 * i..).unwrap_or(&[]));
        Self {
            // CAST: objrefs and descriptors are stored as their bits.
            objref: word(0) as i32,
            fd: word(1) as i32,
            events: word(2),
            data: u64::read(b.get(16..).unwrap_or(&[])),
        }
    }

    fn write(self, out: &mut [u8]) {
        // CAST: as in `read`.
        let words = [self.objref as u32, self.fd as u32, self.events, 0];
        for (chunk, w) in out.chunks_mut(4).zip(words) {
            w.write(chunk);
        }
        if let Some(d) = out.get_mut(16..) {
            self.data.write(d);
        }
    }
}

/// An open file (`struct file`), shared by the descriptors that refer to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileRecord<'a> {
    /// Objref of this object.
    pub objref: i32,
    /// What the file is.
    pub kind: FileKind,
    /// Open flags (`f_flags`: `O_ACCMODE`, `O_APPEND`, `O_NONBLOCK`, ...).
    pub flags: u32,
    /// `i_mode` of the inode (type and permissions).
    pub mode: u32,
    /// Device number of a character device (as `st_rdev`), else 0.
    pub rdev: u32,
    /// File position.
    pub pos: i64,
    /// The kind's state: [`FileData::Path`] for the kinds reopened by path.
    pub data: FileData<'a>,
}

impl<'a> FileRecord<'a> {
    /// Payload length of the fields all files have.
    pub const COMMON_LEN: usize = 4 * 6 + 8;

    /// Payload length of a path record without its path (the NUL included).
    pub const MIN_LEN: usize = Self::COMMON_LEN + 1;

    /// The path of a file reopened by path.
    pub fn path(&self) -> Option<&'a [u8]> {
        match self.data {
            FileData::Path(p) => Some(p),
            _ => None,
        }
    }

    fn data_len(&self) -> usize {
        match self.data {
            FileData::Path(p) => p.len() + 1,
            FileData::Eventfd { .. } => 16,
            FileData::Pipe { .. } => 8,
            FileData::Unlinked { .. } | FileData::Shmem { .. } => 8,
            FileData::Signalfd { .. } => 8,
            FileData::Timerfd(_) => 4 * 2 + 8 * 3,
            FileData::Epoll { watches } => 8 + watches.byte_len(),
            FileData::Inotify {
                watches, events, ..
            } => 8 + watches.len() + events.len(),
        }
    }
}

impl<'a> Payload<'a> for FileRecord<'a> {
    const BOUNDS: (usize, usize) = (
        Self::MIN_LEN,
        // The larger of an epoll's watches and an inotify file's watches
        // and events.
        Self::COMMON_LEN + 8 + 2 * MAX_INOTIFY_BYTES,
    );

    fn payload_len(&self) -> usize {
        Self::COMMON_LEN + self.data_len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.objref)?;
        e.u32(self.kind as u32)?;
        e.u32(self.flags)?;
        e.u32(self.mode)?;
        e.u32(self.rdev)?;
        e.u32(0)?;
        e.u64(self.pos as u64)?;
        match (self.kind, self.data) {
            (FileKind::Regular | FileKind::Directory | FileKind::CharDevice, FileData::Path(p)) => {
                e.tail_str(p)
            }
            (FileKind::Eventfd, FileData::Eventfd { count, semaphore }) => {
                e.u64(count)?;
                e.u32(u32::from(semaphore))?;
                e.u32(0)
            }
            (FileKind::Pipe | FileKind::Fifo, FileData::Pipe { pipe }) => {
                e.i32(pipe)?;
                e.u32(0)
            }
            (FileKind::Unlinked, FileData::Unlinked { inode: obj })
            | (FileKind::Shmem, FileData::Shmem { shmem: obj }) => {
                e.i32(obj)?;
                e.u32(0)
            }
            (FileKind::Signalfd, FileData::Signalfd { mask }) => e.u64(mask),
            (FileKind::Timerfd, FileData::Timerfd(t)) => {
                e.u32(t.clock)?;
                e.u32(t.flags)?;
                e.u64(t.value)?;
                e.u64(t.interval)?;
                e.u64(t.ticks)
            }
            (FileKind::Epoll, FileData::Epoll { watches }) => {
                if watches.len() > MAX_EPOLL_WATCHES {
                    return Err(FormatError::BadValue("epoll watch count"));
                }
                // CAST: bounded above.
                e.u32(watches.len() as u32)?;
                e.u32(0)?;
                e.array(&watches)
            }
            (
                FileKind::Inotify,
                FileData::Inotify {
                    count,
                    watches,
                    events,
                },
            ) => {
                InotifyWatch::check(count, watches)?;
                InotifyEvent::check(events)?;
                e.u32(count)?;
                // CAST: at most `MAX_INOTIFY_BYTES`.
                e.u32(events.len() as u32)?;
                e.bytes(watches)?;
                e.bytes(events)
            }
            _ => Err(FormatError::BadValue("file data of another kind")),
        }
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        let kind = FileKind::from_u32(d.u32()?)?;
        let flags = d.u32()?;
        let mode = d.u32()?;
        let rdev = d.u32()?;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("file reserved field"));
        }
        // CAST: the position is a signed `loff_t`.
        let pos = d.u64()? as i64;
        let data = match kind {
            FileKind::Regular | FileKind::Directory | FileKind::CharDevice => {
                let path = d.tail_str(MAX_PATH)?;
                if !path.starts_with(b"/") {
                    return Err(FormatError::BadValue("file path"));
                }
                FileData::Path(path)
            }
            FileKind::Eventfd => {
                let count = d.u64()?;
                let semaphore = match d.u32()? {
                    0 => false,
                    1 => true,
                    _ => return Err(FormatError::BadValue("eventfd flags")),
                };
                if d.u32()? != 0 {
                    return Err(FormatError::BadValue("eventfd reserved field"));
                }
                FileData::Eventfd { count, semaphore }
            }
            FileKind::Pipe | FileKind::Fifo => {
                let pipe = d.i32()?;
                // A pipe end is opened for reading or for writing, a FIFO
                // for either or both.
                let access = match kind {
                    FileKind::Pipe => flags & 0o3 < 2,
                    _ => flags & 0o3 < 3,
                };
                if d.u32()? != 0 || pipe <= 0 || !access {
                    return Err(FormatError::BadValue("pipe end"));
                }
                FileData::Pipe { pipe }
            }
            FileKind::Unlinked => {
                let inode = d.i32()?;
                if d.u32()? != 0 || inode <= 0 {
                    return Err(FormatError::BadValue("unlinked file"));
                }
                FileData::Unlinked { inode }
            }
            FileKind::Shmem => {
                let shmem = d.i32()?;
                if d.u32()? != 0 || shmem <= 0 {
                    return Err(FormatError::BadValue("shared memory file"));
                }
                FileData::Shmem { shmem }
            }
            FileKind::Signalfd => FileData::Signalfd { mask: d.u64()? },
            FileKind::Timerfd => {
                let t = Timerfd {
                    clock: d.u32()?,
                    flags: d.u32()?,
                    value: d.u64()?,
                    interval: d.u64()?,
                    ticks: d.u64()?,
                };
                if !Timerfd::CLOCKS.contains(&t.clock) {
                    return Err(FormatError::BadValue("timerfd clock"));
                }
                if t.flags & !(Timerfd::ABSTIME | Timerfd::CANCEL_ON_SET) != 0 {
                    return Err(FormatError::BadValue("timerfd flags"));
                }
                // Limits of a `struct timespec64` that `timerfd_settime()`
                // takes: below 2^63 nanoseconds.
                if t.value > i64::MAX as u64 || t.interval > i64::MAX as u64 {
                    return Err(FormatError::BadValue("timerfd time"));
                }
                FileData::Timerfd(t)
            }
            FileKind::Epoll => {
                let count = d.u32()? as usize;
                if d.u32()? != 0 || count > MAX_EPOLL_WATCHES {
                    return Err(FormatError::BadValue("epoll watch count"));
                }
                let watches = d.array::<EpollWatch>(count)?;
                let reserved = match watches {
                    LeArray::Bytes(b) => {
                        b.chunks_exact(EpollWatch::LEN).any(|w| w[12..16] != [0; 4])
                    }
                    LeArray::Values(_) => false,
                };
                if reserved || watches.iter().any(|w| w.objref <= 0 || w.fd < 0) {
                    return Err(FormatError::BadValue("epoll watch"));
                }
                FileData::Epoll { watches }
            }
            FileKind::Inotify => {
                let count = d.u32()?;
                let events_len = d.u32()? as usize;
                // The watches, then the events, to the end of the record.
                let watches_len = d.remaining().len().checked_sub(events_len);
                let watches = d.bytes(watches_len.ok_or(FormatError::Truncated)?)?;
                InotifyWatch::check(count, watches)?;
                let events = d.bytes(events_len)?;
                InotifyEvent::check(events)?;
                FileData::Inotify {
                    count,
                    watches,
                    events,
                }
            }
        };
        if mode & 0o170000 != kind.file_type() || mode & !0o177777 != 0 {
            return Err(FormatError::BadValue("file mode"));
        }
        if (kind == FileKind::CharDevice) != MEM_CHAR_DEVICES.contains(&rdev) {
            return Err(FormatError::BadValue("file device"));
        }
        if pos < 0 {
            return Err(FormatError::BadValue("file position"));
        }
        Ok(Self {
            objref,
            kind,
            flags,
            mode,
            rdev,
            pos,
            data,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        v.name(Field::new("kind").bare(), self.kind.name());
        v.oct("flags", self.flags);
        v.oct("mode", self.mode);
        v.hex(Field::new("rdev").detail(), self.rdev);
        v.int("pos", self.pos);
        match self.data {
            FileData::Path(p) => v.str(Field::new("path").bare(), p),
            FileData::Eventfd { count, semaphore } => {
                v.uint("count", count);
                v.flag("semaphore", semaphore);
            }
            FileData::Pipe { pipe } => v.int("pipe", pipe),
            FileData::Unlinked { inode } => v.int("unlinked", inode),
            FileData::Shmem { shmem } => v.int("shmem", shmem),
            FileData::Signalfd { mask } => v.hex("mask", mask),
            FileData::Timerfd(t) => {
                v.uint("clock", t.clock);
                v.oct("settime flags", t.flags);
                v.uint(Field::new("value").suffix(" ns"), t.value);
                v.uint(Field::new("interval").suffix(" ns"), t.interval);
                v.uint("ticks", t.ticks);
            }
            FileData::Epoll { watches } => {
                // CAST: at most `MAX_EPOLL_WATCHES`.
                v.uint("watches", watches.len() as u64);
                for w in watches.iter() {
                    v.int(Field::new("watch").detail(), w.objref);
                    v.int(Field::new("fd").detail(), w.fd);
                    v.hex(Field::new("events").detail(), w.events);
                    v.hex(Field::new("data").detail(), w.data);
                }
            }
            FileData::Inotify {
                count,
                watches,
                events,
            } => {
                v.uint("watches", count);
                for w in InotifyWatch::iter(watches).flatten() {
                    v.int(Field::new("wd").detail(), w.wd);
                    v.hex(Field::new("mask").detail(), w.mask);
                    v.str(Field::new("watch").detail(), w.path);
                }
                // CAST: at most `MAX_INOTIFY_BYTES`.
                let n = InotifyEvent::iter(events).count() as u64;
                v.uint("events", n);
                for e in InotifyEvent::iter(events).flatten() {
                    v.int(Field::new("event_wd").detail(), e.wd);
                    v.hex(Field::new("event_mask").detail(), e.mask);
                    v.str(Field::new("event_name").detail(), e.name);
                }
            }
        }
    }
}

/// Most data a pipe record holds: the default `pipe-max-size`. A pipe
/// holding more is refused at checkpoint.
pub const MAX_PIPE_DATA: usize = 1 << 20;

/// A pipe, a shared object of its two ends' file records (or of the files
/// open on a FIFO): its capacity, the data buffered in it when it was
/// saved, and a FIFO's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipeRecord<'a> {
    /// Objref of this object.
    pub objref: i32,
    /// Capacity in bytes (`F_GETPIPE_SZ`).
    pub size: u32,
    /// The bytes buffered, oldest first.
    pub data: &'a [u8],
    /// Of a FIFO, its absolute path; empty for an anonymous pipe.
    pub fifo: &'a [u8],
}

impl PipeRecord<'_> {
    /// Payload length without the data.
    pub const PREFIX: usize = 4 * 4;
}

impl<'a> Payload<'a> for PipeRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::PREFIX, Self::PREFIX + MAX_PIPE_DATA + MAX_PATH);

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.data.len() + self.fifo.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        if self.fifo.len() > MAX_PATH {
            return Err(FormatError::BadValue("fifo path"));
        }
        e.i32(self.objref)?;
        e.u32(self.size)?;
        // CAST: at most `MAX_PIPE_DATA` and `MAX_PATH` in any valid record.
        e.u32(self.data.len() as u32)?;
        e.u32(self.fifo.len() as u32)?;
        e.bytes(self.data)?;
        e.bytes(self.fifo)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        let size = d.u32()?;
        let len = d.u32()? as usize;
        let path_len = d.u32()? as usize;
        // CAST: `u32` to `usize` is lossless on the supported targets.
        if len > size as usize || !size.is_power_of_two() || size < 4096 {
            return Err(FormatError::BadValue("pipe size"));
        }
        if path_len > MAX_PATH {
            return Err(FormatError::BadValue("fifo path"));
        }
        let data = d.bytes(len)?;
        let fifo = d.bytes(path_len)?;
        if path_len > 0 && (!fifo.starts_with(b"/") || fifo.contains(&0)) {
            return Err(FormatError::BadValue("fifo path"));
        }
        Ok(Self {
            objref,
            size,
            data,
            fifo,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        v.uint("size", self.size);
        // CAST: at most `MAX_PIPE_DATA`.
        v.uint(
            Field::new("buffered").suffix(" bytes"),
            self.data.len() as u64,
        );
        if !self.fifo.is_empty() {
            v.str(Field::new("fifo").bare(), self.fifo);
        }
    }
}

/// A file descriptor of the task before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FdRecord {
    /// Descriptor number.
    pub fd: i32,
    /// Objref of its file ([`FileRecord`]).
    pub objref: i32,
    /// Close-on-exec flag.
    pub cloexec: bool,
}

impl FdRecord {
    /// Payload length.
    pub const LEN: usize = 4 * 4;
}

impl<'a> Payload<'a> for FdRecord {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.fd)?;
        e.i32(self.objref)?;
        e.u32(u32::from(self.cloexec))?;
        e.u32(0)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let fd = d.i32()?;
        let objref = d.i32()?;
        let cloexec = match d.u32()? {
            0 => false,
            1 => true,
            _ => return Err(FormatError::BadValue("fd flags")),
        };
        if d.u32()? != 0 || fd < 0 {
            return Err(FormatError::BadValue("fd number"));
        }
        Ok(Self {
            fd,
            objref,
            cloexec,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("fd", self.fd);
        v.int("objref", self.objref);
        v.flag("cloexec", self.cloexec);
    }
}

/// What a [`LockRecord`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum LockKind {
    /// A `flock()` lock, owned by the open file: every descriptor of it
    /// shares it, in this task or others.
    Flock = 1,
    /// A POSIX record lock (`F_SETLK`), owned by the task's descriptor
    /// table.
    Posix = 2,
}

/// The last offset a lock can reach (`OFFSET_MAX`): a lock to it reaches
/// the end of the file, however far it grows.
pub const LOCK_TO_END: u64 = i64::MAX as u64;

/// A lock on an open file of the task before it, after its descriptors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockRecord {
    /// Objref of the file ([`FileRecord`]) it was taken through.
    pub objref: i32,
    /// Its kind.
    pub kind: LockKind,
    /// A write (exclusive) lock, else a read (shared) one.
    pub write: bool,
    /// Its first byte; 0 for a `flock()` lock.
    pub start: u64,
    /// Its last byte, at most [`LOCK_TO_END`], which a `flock()` lock
    /// always has.
    pub end: u64,
}

impl LockRecord {
    /// Payload length.
    pub const LEN: usize = 4 * 4 + 8 * 2;
}

impl<'a> Payload<'a> for LockRecord {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.objref)?;
        e.u32(self.kind as u32)?;
        e.u32(u32::from(self.write))?;
        e.u32(0)?;
        e.u64(self.start)?;
        e.u64(self.end)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        let kind = match d.u32()? {
            1 => LockKind::Flock,
            2 => LockKind::Posix,
            _ => return Err(FormatError::BadValue("lock kind")),
        };
        let write = match d.u32()? {
            0 => false,
            1 => true,
            _ => return Err(FormatError::BadValue("lock type")),
        };
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("lock reserved field"));
        }
        let (start, end) = (d.u64()?, d.u64()?);
        let range = match kind {
            LockKind::Flock => start == 0 && end == LOCK_TO_END,
            LockKind::Posix => start <= end && end <= LOCK_TO_END,
        };
        if !range {
            return Err(FormatError::BadValue("lock range"));
        }
        Ok(Self {
            objref,
            kind,
            write,
            start,
            end,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        let kind = match self.kind {
            LockKind::Flock => "flock",
            LockKind::Posix => "posix",
        };
        v.name(Field::new("kind").bare(), kind);
        v.name(
            Field::new("type").bare(),
            if self.write { "write" } else { "read" },
        );
        if self.kind == LockKind::Posix {
            v.uint("start", self.start);
            if self.end == LOCK_TO_END {
                v.name(Field::new("end").bare(), "to end of file");
            } else {
                v.uint("end", self.end);
            }
        }
    }
}

/// An unlinked regular file, a shared object of the file records open on
/// it: the directory it was in, where restart makes a file with no name
/// (`O_TMPFILE`), its mode, and its contents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnlinkedRecord<'a> {
    /// Objref of this object.
    pub objref: i32,
    /// Its mode: a regular file's.
    pub mode: u32,
    /// The absolute path of the directory it was in.
    pub dir: &'a [u8],
    /// Its size: beyond [`MAX_UNLINKED`] bytes, contents records follow
    /// with the rest.
    pub size: u64,
    /// Its contents, the first [`MAX_UNLINKED`] bytes at most.
    pub data: &'a [u8],
}

impl UnlinkedRecord<'_> {
    /// Payload length without the directory and the data.
    pub const PREFIX: usize = 4 * 4 + 8;
}

impl<'a> Payload<'a> for UnlinkedRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::PREFIX + 1, Self::PREFIX + MAX_PATH + MAX_UNLINKED);

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.dir.len() + self.data.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        if self.dir.len() > MAX_PATH || !head_of(self.size, self.data) {
            return Err(FormatError::BadValue("unlinked file"));
        }
        e.i32(self.objref)?;
        e.u32(self.mode)?;
        // CAST: bounded above.
        e.u32(self.dir.len() as u32)?;
        e.u32(0)?;
        e.u64(self.size)?;
        e.bytes(self.dir)?;
        e.bytes(self.data)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        let mode = d.u32()?;
        let dir_len = d.u32()? as usize;
        let reserved = d.u32()?;
        let size = d.u64()?;
        if reserved != 0 || dir_len > MAX_PATH || size > MAX_CONTENTS {
            return Err(FormatError::BadValue("unlinked file"));
        }
        if mode & 0o170000 != 0o100000 || mode & !0o177777 != 0 {
            return Err(FormatError::BadValue("unlinked file mode"));
        }
        let dir = d.bytes(dir_len)?;
        if !dir.starts_with(b"/") || dir.contains(&0) {
            return Err(FormatError::BadValue("unlinked file directory"));
        }
        let data = d.bytes(head_len(size))?;
        Ok(Self {
            objref,
            mode,
            dir,
            size,
            data,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        v.oct("mode", self.mode);
        v.str(Field::new("dir").bare(), self.dir);
        v.uint(Field::new("size").suffix(" bytes"), self.size);
    }
}

/// Most bytes of a memfd's name (`MFD_NAME_MAX_LEN`), without its
/// `memfd:` prefix.
pub const MAX_MEMFD_NAME: usize = 249;

/// Shared memory of the kernel's internal mount, a shared object of the
/// file records open on it: a memfd (with its name, seals and mode), or
/// shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`), whose areas map
/// it through such a file; and its contents, saved once for all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShmemRecord<'a> {
    /// Objref of this object.
    pub objref: i32,
    /// A memfd, else shared anonymous memory.
    pub memfd: bool,
    /// Its seals (`F_GET_SEALS`): `F_SEAL_SEAL` 1, `F_SEAL_SHRINK` 2,
    /// `F_SEAL_GROW` 4, `F_SEAL_WRITE` 8, `F_SEAL_FUTURE_WRITE` 16,
    /// `F_SEAL_EXEC` 32.
    pub seals: u32,
    /// The mode of its inode: a regular file's.
    pub mode: u32,
    /// A memfd's name, without its `memfd:` prefix; empty otherwise.
    pub name: &'a [u8],
    /// Its size: beyond [`MAX_UNLINKED`] bytes, contents records follow
    /// with the rest.
    pub size: u64,
    /// Its contents, the first [`MAX_UNLINKED`] bytes at most.
    pub data: &'a [u8],
}

impl ShmemRecord<'_> {
    /// Payload length without the name and the data.
    pub const PREFIX: usize = 4 * 6 + 8;

    /// The seals a memfd may have.
    pub const SEALS: u32 = 0x3f;
}

impl<'a> Payload<'a> for ShmemRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::PREFIX, Self::PREFIX + MAX_MEMFD_NAME + MAX_UNLINKED);

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.name.len() + self.data.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        if self.name.len() > MAX_MEMFD_NAME || !head_of(self.size, self.data) {
            return Err(FormatError::BadValue("shared memory"));
        }
        e.i32(self.objref)?;
        e.u32(u32::from(self.memfd))?;
        e.u32(self.seals)?;
        e.u32(self.mode)?;
        // CAST: both bounded above.
        e.u32(self.name.len() as u32)?;
        e.u32(0)?;
        e.u64(self.size)?;
        e.bytes(self.name)?;
        e.bytes(self.data)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        let memfd = match d.u32()? {
            0 => false,
            1 => true,
            _ => return Err(FormatError::BadValue("shared memory kind")),
        };
        let seals = d.u32()?;
        let mode = d.u32()?;
        let name_len = d.u32()? as usize;
        let reserved = d.u32()?;
        let size = d.u64()?;
        if reserved != 0 || size > MAX_CONTENTS || name_len > MAX_MEMFD_NAME {
            return Err(FormatError::BadValue("shared memory"));
        }
        // Shared anonymous memory has no name and no seals but its own.
        if seals & !Self::SEALS != 0 || (!memfd && (name_len != 0 || seals != 1)) {
            return Err(FormatError::BadValue("shared memory seals"));
        }
        if mode & 0o170000 != 0o100000 || mode & !0o177777 != 0 {
            return Err(FormatError::BadValue("shared memory mode"));
        }
        let name = d.bytes(name_len)?;
        if name.contains(&0) || name.contains(&b'/') {
            return Err(FormatError::BadValue("memfd name"));
        }
        let data = d.bytes(head_len(size))?;
        Ok(Self {
            objref,
            memfd,
            seals,
            mode,
            name,
            size,
            data,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        if self.memfd {
            v.str(Field::new("memfd").bare(), self.name);
            v.hex("seals", self.seals);
        } else {
            v.name(Field::new("kind").bare(), "shared anonymous memory");
        }
        v.oct("mode", self.mode);
        v.uint(Field::new("size").suffix(" bytes"), self.size);
    }
}

/// More of the contents of an unlinked file or of shared memory, whose
/// record holds their first [`MAX_UNLINKED`] bytes at most: the bytes at
/// `offset`, right after that record or the contents record before it.
/// Only an image taken with [`crate::CHECKPOINT_BIG_FILES`] has them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ContentsRecord<'a> {
    /// Objref of the unlinked file or shared memory.
    pub objref: i32,
    /// Where the bytes go: the end of what came before.
    pub offset: u64,
    /// The bytes, at least one, at most [`ContentsRecord::MAX_DATA`].
    pub data: &'a [u8],
}

impl ContentsRecord<'_> {
    /// Payload length without the data.
    pub const PREFIX: usize = 4 * 2 + 8;

    /// Most bytes of one record.
    pub const MAX_DATA: usize = 1 << 20;
}

impl<'a> Payload<'a> for ContentsRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::PREFIX + 1, Self::PREFIX + Self::MAX_DATA);

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.data.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        if self.data.is_empty() || self.data.len() > Self::MAX_DATA {
            return Err(FormatError::BadValue("contents length"));
        }
        e.i32(self.objref)?;
        // CAST: at most `MAX_DATA`.
        e.u32(self.data.len() as u32)?;
        e.u64(self.offset)?;
        e.bytes(self.data)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        let len = d.u32()? as usize;
        let offset = d.u64()?;
        if len == 0 || len > Self::MAX_DATA || offset > i64::MAX as u64 - len as u64 {
            return Err(FormatError::BadValue("contents length"));
        }
        Ok(Self {
            objref,
            offset,
            data: d.bytes(len)?,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        v.uint("offset", self.offset);
        // CAST: at most `MAX_DATA`.
        v.uint(Field::new("size").suffix(" bytes"), self.data.len() as u64);
    }
}
