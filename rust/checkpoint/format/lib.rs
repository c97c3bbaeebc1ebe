// SPDX-License-Identifier: GPL-2.0

//! The checkpoint image format.
//!
//! A checkpoint image is a stream of records. Each record is a [`RecordHeader`]
//! (`ckpt_hdr { type, len }`, 8 bytes) followed by its payload, and padded with
//! zero bytes to the next multiple of 8. The stream starts with a
//! [`Record::Header`] and ends with a [`Record::Tail`]. Shared objects (for
//! example credentials) are written once, before their first use, and referred
//! to by a positive object reference ("objref").
//!
//! This crate is plain `core` Rust with no kernel dependency: the same source is
//! the `ckpt_format` crate of the kernel (rust/checkpoint/Kbuild), of the user
//! tools and of the host tests and fuzzers, so there is one definition of the
//! format. Decoding is strict: every length is checked against its record type,
//! strings must be NUL-terminated inside their bounds, padding must be zero, and
//! unknown types and versions are rejected.
//!
//! Each family of records has its module (`header`, `task`, `cred`, `file`,
//! `mm`, and `arch` for the records of one architecture), and every record
//! type is a struct implementing [`Payload`]. One table, at the end of this
//! file, lists the types with their numbers and names: it makes
//! [`RecordType`], [`Record`], their dispatch and the [`RecordKind`] impls.
//! Adding a record type is adding its struct and one line there (and its
//! rule in [`stream`]).
//!
//! See Documentation/checkpoint/format.rst.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

// The record families; `arch` first, for its table (`arch_records!`).
#[macro_use]
mod arch;
mod cred;
mod file;
mod header;
mod mm;
mod task;

pub mod codec;
pub mod stream;
pub mod visit;

pub use arch::{Arch, ArchRecord, CpuX86_64, Xstate};
pub use codec::{LeArray, LeValue};
pub use cred::CredRecord;
pub use file::{
    head_len, ContentsRecord, EpollWatch, FdRecord, FileData, FileKind, FileRecord, InotifyEvent,
    InotifyWatch, LockKind, LockRecord, PipeRecord, ShmemRecord, Timerfd, UnlinkedRecord,
    LOCK_TO_END, MAX_CONTENTS, MAX_EPOLL_WATCHES, MAX_INOTIFY_BYTES, MAX_INOTIFY_WATCHES,
    MAX_MEMFD_NAME, MAX_PIPE_DATA, MAX_UNLINKED, MEM_CHAR_DEVICES,
};
pub use header::{ErrorRecord, Header, Tail};
pub use mm::{vm, CowRecord, CowRun, MmRecord, PagesRecord, VmaKind, VmaRecord, MAX_COW_RUNS};
pub use task::{
    FsRecord, ObjsRecord, PendingSignal, PidnsRecord, RestartBlock, RestartKind, SignalsRecord,
    TaskNs, TaskRecord, TimerKind, TimerRecord, TreeRecord, TreeTask, MAX_NS_DEPTH, MAX_TASKS,
    NSIG, RLIM_NLIMITS, SS_AUTODISARM, SS_DISABLE,
};

use codec::{Decoder, Encoder};
use core::fmt;
use visit::Visitor;

/// Magic number that opens the header record.
pub const HEADER_MAGIC: u64 = 0x00fe_ed0c_c0a2_d200;

/// Magic number of the tail record.
pub const TAIL_MAGIC: u64 = 0x002d_2a0c_c0de_ef00;

/// Version of the format this crate reads and writes.
///
/// Any change to a record's layout or meaning bumps it; images of another
/// version are refused.
pub const FORMAT_VERSION: u32 = 7;

/// Size of a [`RecordHeader`].
pub const RECORD_HEADER_LEN: usize = 8;

/// Alignment of every record in the stream.
pub const RECORD_ALIGN: usize = 8;

/// Largest record (header included) that any type may have.
pub const MAX_RECORD_LEN: u32 = 1 << 24;

/// Length of the task command name field (`TASK_COMM_LEN`).
pub const COMM_LEN: usize = 16;

/// Length of a utsname field (`__NEW_UTS_LEN + 1`).
pub const UTS_LEN: usize = 65;

/// Longest message of an error record, without its NUL.
pub const MAX_ERROR_MSG: usize = 255;

/// Longest path of a file, without its NUL (`PATH_MAX - 1`).
pub const MAX_PATH: usize = 4095;

/// Most words of a saved auxiliary vector (`mm->saved_auxv`).
pub const MAX_AUXV: usize = 128;

/// Most supplementary groups of a cred record (`NGROUPS_MAX`).
pub const MAX_GROUPS: usize = 65536;

/// Most pages in one pages record.
pub const MAX_PAGES_PER_RECORD: usize = 512;

/// Largest page size an image may have.
pub const MAX_PAGE_SIZE: u32 = 1 << 16;

/// Largest encoded record of the fixed-size kinds, padding included.
///
/// Small records are encoded into a buffer of this size.
pub const MAX_SMALL_RECORD: usize = 512;

/// `checkpoint(2)` flag: the task is not the init of a pid namespace;
/// save it and its descendants as a subtree, without checking that the
/// objects they use are used by no task outside it.
pub const CHECKPOINT_SUBTREE: u64 = 1;

/// `checkpoint(2)` flag: save unlinked files and shared memory of any
/// size, their contents beyond [`MAX_UNLINKED`] bytes in contents records;
/// without it they are refused (`EFBIG`).
pub const CHECKPOINT_BIG_FILES: u64 = 2;

/// Flags of `checkpoint(2)`.
pub const CHECKPOINT_FLAGS_MASK: u64 = CHECKPOINT_SUBTREE | CHECKPOINT_BIG_FILES;

/// `restart(2)` flag: stop the restored tasks (`SIGSTOP`) before they run,
/// so that a tool can inspect them; `SIGCONT` resumes them.
pub const RESTART_FROZEN: u64 = 1;

/// `restart(2)` flag: rebuild the tree of the image as descendants of the
/// caller, with their pids, rather than turn the caller into its one task.
pub const RESTART_TREE: u64 = 2;

/// Flags of `restart(2)`.
pub const RESTART_FLAGS_MASK: u64 = RESTART_FROZEN | RESTART_TREE;

/// Why an image or a record was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FormatError {
    /// The stream or a record ends early.
    Truncated,
    /// The header record does not start with [`HEADER_MAGIC`].
    BadMagic,
    /// The image has another format version.
    BadVersion(u32),
    /// The image names an unknown architecture.
    BadArch(u32),
    /// The record type is unknown.
    UnknownType(u32),
    /// The record length is wrong for its type.
    BadLength {
        /// Record type.
        ty: u32,
        /// Length found in its header.
        len: u32,
    },
    /// Padding after a record is not zero.
    BadPadding,
    /// A string is not NUL-terminated in its bounds, or not NUL-padded.
    BadString,
    /// A record has bytes after its last field.
    TrailingBytes,
    /// A field has a value out of its range.
    BadValue(&'static str),
    /// The tail record does not hold [`TAIL_MAGIC`].
    BadTail,
    /// An object reference is zero or negative.
    BadObjref(i32),
    /// An object reference is defined twice.
    DuplicateObjref(i32),
    /// An object reference is used before it is defined.
    MissingObjref(i32),
    /// An object reference names an object of another kind.
    WrongObjKind(i32),
    /// A record appears where the stream does not allow it.
    Order(&'static str),
    /// The image holds an error record: its checkpoint failed (errno).
    CheckpointFailed(i32),
    /// The output buffer is too small (encoding only).
    NoSpace,
}

impl FormatError {
    /// The errno (positive) that `restart(2)` reports for this error.
    ///
    /// Every format error is `EINVAL`: the log line on `logfd` says which.
    pub fn errno(&self) -> i32 {
        EINVAL
    }
}

/// `EINVAL`, the errno of every format error.
pub const EINVAL: i32 = 22;

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Truncated => write!(f, "image truncated"),
            Self::BadMagic => write!(f, "bad header magic"),
            Self::BadVersion(v) => {
                write!(f, "format version {v} (this kernel reads {FORMAT_VERSION})")
            }
            Self::BadArch(a) => write!(f, "unknown architecture {a}"),
            Self::UnknownType(t) => write!(f, "unknown record type {t}"),
            Self::BadLength { ty, len } => write!(f, "bad length {len} for record type {ty}"),
            Self::BadPadding => write!(f, "non-zero record padding"),
            Self::BadString => write!(f, "unterminated or unpadded string"),
            Self::TrailingBytes => write!(f, "trailing bytes in record"),
            Self::BadValue(what) => write!(f, "bad value for {what}"),
            Self::BadTail => write!(f, "bad tail magic"),
            Self::BadObjref(r) => write!(f, "invalid objref {r}"),
            Self::DuplicateObjref(r) => write!(f, "objref {r} defined twice"),
            Self::MissingObjref(r) => write!(f, "objref {r} used before its definition"),
            Self::WrongObjKind(r) => write!(f, "objref {r} has the wrong object kind"),
            Self::Order(what) => write!(f, "record out of order: {what}"),
            Self::CheckpointFailed(e) => write!(f, "image holds a checkpoint error (errno {e})"),
            Self::NoSpace => write!(f, "encoding buffer too small"),
        }
    }
}

/// The header of every record (`struct ckpt_hdr`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordHeader {
    /// Record type.
    pub ty: RecordType,
    /// Length of the record, header included, padding excluded.
    pub len: u32,
}

impl RecordHeader {
    /// Builds the header of a record with `payload` bytes of payload.
    pub fn new(ty: RecordType, payload: usize) -> Result<Self, FormatError> {
        let len = payload
            .checked_add(RECORD_HEADER_LEN)
            .and_then(|l| u32::try_from(l).ok())
            .filter(|&l| l <= MAX_RECORD_LEN)
            .ok_or(FormatError::NoSpace)?;
        Ok(Self { ty, len })
    }

    /// Decodes and checks a record header: its type must be known and its
    /// length within the bounds of that type.
    pub fn decode(b: &[u8; RECORD_HEADER_LEN]) -> Result<Self, FormatError> {
        let mut d = Decoder::new(b);
        let raw_ty = d.u32()?;
        let len = d.u32()?;
        let ty = RecordType::from_u32(raw_ty)?;
        let (min, max) = ty.payload_bounds();
        let payload = (len as usize).checked_sub(RECORD_HEADER_LEN);
        match payload {
            Some(p) if p >= min && p <= max && len <= MAX_RECORD_LEN => Ok(Self { ty, len }),
            _ => Err(FormatError::BadLength { ty: raw_ty, len }),
        }
    }

    /// Encodes the header.
    pub fn encode(&self) -> [u8; RECORD_HEADER_LEN] {
        let mut b = [0u8; RECORD_HEADER_LEN];
        b[..4].copy_from_slice(&(self.ty as u32).to_le_bytes());
        b[4..].copy_from_slice(&self.len.to_le_bytes());
        b
    }

    /// Returns the payload length.
    pub fn payload_len(&self) -> usize {
        self.len as usize - RECORD_HEADER_LEN
    }

    /// Returns the number of zero bytes that follow the payload.
    pub fn padding(&self) -> usize {
        padding(self.len as usize)
    }
}

/// Returns the number of zero bytes that pad a record of `len` bytes.
pub fn padding(len: usize) -> usize {
    (RECORD_ALIGN - len % RECORD_ALIGN) % RECORD_ALIGN
}

/// Fails unless `pad` is all zero.
pub fn check_padding(pad: &[u8]) -> Result<(), FormatError> {
    if pad.iter().all(|&b| b == 0) {
        Ok(())
    } else {
        Err(FormatError::BadPadding)
    }
}

/// The payload of one record type: its bounds, its encoding and decoding,
/// and its fields as the tools show them.
pub trait Payload<'a>: Sized {
    /// Smallest and largest payload length of the type.
    const BOUNDS: (usize, usize);

    /// Returns the payload length of this record once encoded.
    fn payload_len(&self) -> usize {
        Self::BOUNDS.0
    }

    /// Encodes the payload, [`Payload::payload_len`] bytes.
    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError>;

    /// Decodes and checks a payload. The caller checks that it was read to
    /// its end.
    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError>;

    /// Shows the fields of the record to `v`, in order.
    fn visit(&self, v: &mut dyn Visitor);
}

/// A record struct that is one variant of [`Record`].
///
/// It lets a reader ask for a record of a given type
/// (`T::from_record(rec)`) and a writer build a [`Record`] from one.
pub trait RecordKind<'a>: Sized {
    /// The type of the records of this struct.
    const TYPE: RecordType;

    /// Returns the struct if `rec` is a record of this type.
    fn from_record(rec: Record<'a>) -> Option<Self>;

    /// Wraps the struct into a [`Record`].
    fn into_record(self) -> Record<'a>;
}

impl<'a> Record<'a> {
    /// Decodes the payload of a record whose header is `hdr`.
    ///
    /// `payload` must be exactly [`RecordHeader::payload_len`] bytes.
    pub fn decode(hdr: &RecordHeader, payload: &'a [u8]) -> Result<Self, FormatError> {
        if payload.len() != hdr.payload_len() {
            return Err(FormatError::Truncated);
        }
        let mut d = Decoder::new(payload);
        let rec = Self::decode_payload(hdr.ty, &mut d)?;
        d.finish()?;
        Ok(rec)
    }

    /// Encodes the whole record (header, payload and padding) at the start of
    /// `out` and returns its length.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, FormatError> {
        let hdr = RecordHeader::new(self.ty(), self.payload_len())?;
        let total = hdr.len as usize + hdr.padding();
        let out = out.get_mut(..total).ok_or(FormatError::NoSpace)?;
        let mut e = Encoder::new(out);
        e.bytes(&hdr.encode())?;
        self.encode_payload(&mut e)?;
        debug_assert_eq!(e.len(), hdr.len as usize);
        e.bytes(&[0u8; RECORD_ALIGN][..hdr.padding()])?;
        Ok(total)
    }
}

/// Makes [`RecordType`], [`Record`], their dispatch and the [`RecordKind`]
/// impls from the record table below and the arch records of
/// `arch_records!`.
macro_rules! record_table {
    (
        $(
            $(#[$doc:meta])*
            $v:ident = $code:literal, $name:literal, $s:ident $(<$lt:lifetime>)?;
        )*
        @arch
        $(
            $(#[$adoc:meta])*
            $av:ident = $acode:literal, $aname:literal, $as:ident $(<$alt:lifetime>)?, $arch:ident;
        )*
    ) => {
        /// Record type numbers (`ckpt_hdr.type`), grouped by subsystem as in
        /// linux-cr.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        #[repr(u32)]
        pub enum RecordType {
            $($(#[$doc])* $v = $code,)*
            $($(#[$adoc])* $av = $acode,)*
        }

        impl RecordType {
            /// Decodes a record type number.
            pub fn from_u32(v: u32) -> Result<Self, FormatError> {
                Ok(match v {
                    $($code => Self::$v,)*
                    $($acode => Self::$av,)*
                    _ => return Err(FormatError::UnknownType(v)),
                })
            }

            /// Returns the name used by the tools.
            pub fn name(self) -> &'static str {
                match self {
                    $(Self::$v => $name,)*
                    $(Self::$av => $aname,)*
                }
            }

            /// Returns the smallest and largest payload length of this type.
            pub fn payload_bounds(self) -> (usize, usize) {
                Record::bounds(self)
            }
        }

        /// A record: decoded from an image, or to encode.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Record<'a> {
            $(
                #[doc = concat!("See [`", stringify!($s), "`].")]
                $v($s $(<$lt>)?),
            )*
            /// A record of one architecture: see [`ArchRecord`].
            Arch(ArchRecord<'a>),
        }

        impl<'a> Record<'a> {
            fn bounds(ty: RecordType) -> (usize, usize) {
                match ty {
                    $(RecordType::$v => <$s $(<$lt>)? as Payload<'a>>::BOUNDS,)*
                    $(RecordType::$av => <$as $(<$alt>)? as Payload<'a>>::BOUNDS,)*
                }
            }

            /// Returns the type of this record.
            pub fn ty(&self) -> RecordType {
                match self {
                    $(Self::$v(_) => RecordType::$v,)*
                    Self::Arch(a) => a.ty(),
                }
            }

            /// Returns the payload length of this record once encoded.
            pub fn payload_len(&self) -> usize {
                match self {
                    $(Self::$v(r) => r.payload_len(),)*
                    Self::Arch(a) => a.payload_len(),
                }
            }

            /// Shows the fields of this record to `v`, in order.
            pub fn visit(&self, v: &mut dyn Visitor) {
                match self {
                    $(Self::$v(r) => r.visit(v),)*
                    Self::Arch(a) => a.visit(v),
                }
            }

            fn decode_payload(ty: RecordType, d: &mut Decoder<'a>) -> Result<Self, FormatError> {
                Ok(match ty {
                    $(RecordType::$v => Self::$v(Payload::decode(d)?),)*
                    $(RecordType::$av => Self::Arch(ArchRecord::$av(Payload::decode(d)?)),)*
                })
            }

            fn encode_payload(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
                match self {
                    $(Self::$v(r) => r.encode(e),)*
                    Self::Arch(a) => a.encode(e),
                }
            }
        }

        $(
            impl<'a> RecordKind<'a> for $s $(<$lt>)? {
                const TYPE: RecordType = RecordType::$v;

                fn from_record(rec: Record<'a>) -> Option<Self> {
                    match rec {
                        Record::$v(r) => Some(r),
                        _ => None,
                    }
                }

                fn into_record(self) -> Record<'a> {
                    Record::$v(self)
                }
            }
        )*
    };
    // The generic records: add the arch records, then make the table.
    ($($generic:tt)*) => {
        arch_records!(record_table! { $($generic)* });
    };
}

// The record table: one line per record type (the arch records are in
// arch/mod.rs):
//
//     /// doc of the RecordType variant
//     Variant = type number, "name", Struct<'a>;
//
// `Variant` names the `RecordType` and the `Record` variant; the lifetime is
// there when the struct borrows the image.
record_table! {
    /// Image header: [`Header`].
    Header = 1, "header", Header<'a>;
    /// A task: [`TaskRecord`].
    Task = 101, "task", TaskRecord<'a>;
    /// Signal state, limits and other per-task settings of the task before
    /// it: [`SignalsRecord`].
    Signals = 102, "signals", SignalsRecord<'a>;
    /// Root and working directories of the task before it: [`FsRecord`].
    Fs = 103, "fs", FsRecord<'a>;
    /// The interrupted system call of the task before it: [`RestartBlock`].
    RestartBlock = 104, "restart_block", RestartBlock;
    /// The tasks of the image and their tree: [`TreeRecord`].
    Tree = 105, "tree", TreeRecord<'a>;
    /// An interval timer of the process before it: [`TimerRecord`].
    Timer = 106, "timer", TimerRecord;
    /// The descriptor table and fs that the process before it shares with
    /// other processes: [`ObjsRecord`].
    Objs = 107, "objs", ObjsRecord;
    /// The pid namespaces nested in the tree's, right after the tree
    /// record: [`PidnsRecord`].
    Pidns = 108, "pidns", PidnsRecord<'a>;
    /// Credentials, a shared object: [`CredRecord`].
    Cred = 111, "cred", CredRecord<'a>;
    /// The memory descriptor of the task before it: [`MmRecord`].
    Mm = 201, "mm", MmRecord<'a>;
    /// A memory area of that mm: [`VmaRecord`].
    Vma = 202, "vma", VmaRecord;
    /// Contents of populated pages of the area before it: [`PagesRecord`].
    Pages = 203, "pages", PagesRecord<'a>;
    /// The parent's pages that the area before it shares copy-on-write:
    /// [`CowRecord`].
    Cow = 204, "cow", CowRecord<'a>;
    /// An open file, a shared object: [`FileRecord`].
    File = 401, "file", FileRecord<'a>;
    /// A descriptor of the task before it: [`FdRecord`].
    Fd = 402, "fd", FdRecord;
    /// A pipe, a shared object of its ends' file records: [`PipeRecord`].
    Pipe = 403, "pipe", PipeRecord<'a>;
    /// An unlinked file, a shared object of the file records open on it:
    /// [`UnlinkedRecord`].
    Unlinked = 404, "unlinked", UnlinkedRecord<'a>;
    /// A lock on an open file of the task before it: [`LockRecord`].
    Lock = 405, "lock", LockRecord;
    /// Shared memory (a memfd, or shared anonymous memory), a shared object
    /// of the file records open on it: [`ShmemRecord`].
    Shmem = 406, "shmem", ShmemRecord<'a>;
    /// More of the contents of an unlinked file or of shared memory:
    /// [`ContentsRecord`].
    Contents = 407, "contents", ContentsRecord<'a>;
    /// End of the image: [`Tail`].
    Tail = 5001, "tail", Tail;
    /// Checkpoint failure: [`ErrorRecord`].
    Error = 9001, "error", ErrorRecord<'a>;
}
