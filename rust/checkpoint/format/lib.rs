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
//! See Documentation/checkpoint/format.rst.

#![no_std]
#![forbid(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

mod arch;
pub mod codec;
pub mod stream;

pub use arch::{ArchRecord, CpuX86_64, Xstate};
pub use codec::{LeArray, LeValue};

use codec::{Decoder, Encoder};
use core::fmt;

/// Magic number that opens the header record.
pub const HEADER_MAGIC: u64 = 0x00fe_ed0c_c0a2_d200;

/// Magic number of the tail record.
pub const TAIL_MAGIC: u64 = 0x002d_2a0c_c0de_ef00;

/// Version of the format this crate reads and writes.
///
/// Any change to a record's layout or meaning bumps it; images of another
/// version are refused.
pub const FORMAT_VERSION: u32 = 4;

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

/// Flags of `checkpoint(2)` (none are defined yet).
pub const CHECKPOINT_FLAGS_MASK: u64 = 0;

/// `restart(2)` flag: stop the restored task (`SIGSTOP`) before it runs, so
/// that a tool can inspect it; `SIGCONT` resumes it.
pub const RESTART_FROZEN: u64 = 1;

/// Flags of `restart(2)`.
pub const RESTART_FLAGS_MASK: u64 = RESTART_FROZEN;

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

/// Architecture of the checkpointed tasks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Arch {
    /// x86-64.
    X86_64 = 1,
    /// 32-bit x86 (and ia32 tasks on x86-64).
    X86_32 = 2,
    /// s390x.
    S390x = 3,
    /// 64-bit PowerPC.
    Ppc64 = 4,
    /// 64-bit Arm.
    Arm64 = 5,
}

impl Arch {
    /// Decodes an architecture number.
    pub fn from_u32(v: u32) -> Result<Self, FormatError> {
        Ok(match v {
            1 => Self::X86_64,
            2 => Self::X86_32,
            3 => Self::S390x,
            4 => Self::Ppc64,
            5 => Self::Arm64,
            _ => return Err(FormatError::BadArch(v)),
        })
    }

    /// Returns the name used in logs and by the tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::X86_32 => "i386",
            Self::S390x => "s390x",
            Self::Ppc64 => "ppc64",
            Self::Arm64 => "aarch64",
        }
    }
}

/// Record type numbers (`ckpt_hdr.type`), grouped by subsystem as in linux-cr.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum RecordType {
    /// Image header: [`Header`].
    Header = 1,
    /// A task: [`TaskRecord`].
    Task = 101,
    /// Signal state, limits and other per-task settings of the task before
    /// it: [`SignalsRecord`].
    Signals = 102,
    /// Root and working directories of the task before it: [`FsRecord`].
    Fs = 103,
    /// The interrupted system call of the task before it: [`RestartBlock`].
    RestartBlock = 104,
    /// Credentials, a shared object: [`CredRecord`].
    Cred = 111,
    /// The memory descriptor of the task before it: [`MmRecord`].
    Mm = 201,
    /// A memory area of that mm: [`VmaRecord`].
    Vma = 202,
    /// Contents of populated pages of the area before it: [`PagesRecord`].
    Pages = 203,
    /// x86-64 registers of the task before it: [`CpuX86_64`], an
    /// [`ArchRecord`].
    X86_64Cpu = 301,
    /// x86 extended state (XSAVE area) of the task before it: [`Xstate`],
    /// an [`ArchRecord`].
    X86Xstate = 302,
    /// An open file, a shared object: [`FileRecord`].
    File = 401,
    /// A descriptor of the task before it: [`FdRecord`].
    Fd = 402,
    /// End of the image: [`Tail`].
    Tail = 5001,
    /// Checkpoint failure: [`ErrorRecord`].
    Error = 9001,
}

impl RecordType {
    /// Decodes a record type number.
    pub fn from_u32(v: u32) -> Result<Self, FormatError> {
        Ok(match v {
            1 => Self::Header,
            101 => Self::Task,
            102 => Self::Signals,
            103 => Self::Fs,
            104 => Self::RestartBlock,
            111 => Self::Cred,
            201 => Self::Mm,
            202 => Self::Vma,
            203 => Self::Pages,
            301 => Self::X86_64Cpu,
            302 => Self::X86Xstate,
            401 => Self::File,
            402 => Self::Fd,
            5001 => Self::Tail,
            9001 => Self::Error,
            _ => return Err(FormatError::UnknownType(v)),
        })
    }

    /// Returns the name used by the tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::Header => "header",
            Self::Task => "task",
            Self::Signals => "signals",
            Self::Fs => "fs",
            Self::RestartBlock => "restart_block",
            Self::Cred => "cred",
            Self::Mm => "mm",
            Self::Vma => "vma",
            Self::Pages => "pages",
            Self::X86_64Cpu => "cpu",
            Self::X86Xstate => "xstate",
            Self::File => "file",
            Self::Fd => "fd",
            Self::Tail => "tail",
            Self::Error => "error",
        }
    }

    /// Returns the smallest and largest payload length of this type.
    pub fn payload_bounds(self) -> (usize, usize) {
        if let Some(b) = ArchRecord::bounds(self) {
            return b;
        }
        match self {
            Self::Header => (Header::LEN, Header::LEN),
            Self::Task => (TaskRecord::LEN, TaskRecord::LEN),
            Self::Cred => (CredRecord::MIN_LEN, CredRecord::MIN_LEN + 4 * MAX_GROUPS),
            Self::Mm => (MmRecord::MIN_LEN, MmRecord::MIN_LEN + 8 * MAX_AUXV),
            Self::Signals => (
                SignalsRecord::MIN_LEN,
                SignalsRecord::MIN_LEN + SignalsRecord::PENDING_LEN * SignalsRecord::MAX_PENDING,
            ),
            Self::Fs => (FsRecord::MIN_LEN, FsRecord::MIN_LEN + 2 * MAX_PATH),
            Self::RestartBlock => (RestartBlock::LEN, RestartBlock::LEN),
            Self::File => (FileRecord::MIN_LEN, FileRecord::MIN_LEN + MAX_PATH),
            Self::Fd => (FdRecord::LEN, FdRecord::LEN),
            Self::Vma => (VmaRecord::LEN, VmaRecord::LEN),
            Self::Pages => (
                PagesRecord::PREFIX + 8 + 4096,
                PagesRecord::PREFIX + MAX_PAGES_PER_RECORD * (8 + MAX_PAGE_SIZE as usize),
            ),
            Self::Tail => (Tail::LEN, Tail::LEN),
            Self::Error => (ErrorRecord::MIN_LEN, ErrorRecord::MIN_LEN + MAX_ERROR_MSG),
            Self::X86_64Cpu | Self::X86Xstate => (0, 0),
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

/// The image header record: what the image is and where it was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header<'a> {
    /// Format version ([`FORMAT_VERSION`]).
    pub version: u32,
    /// Flags given to `checkpoint(2)`.
    pub flags: u32,
    /// Architecture of the tasks.
    pub arch: Arch,
    /// Page size of the checkpointing kernel.
    pub page_size: u32,
    /// Checkpoint id returned by `checkpoint(2)`.
    pub ckpt_id: u64,
    /// Wall-clock time of the checkpoint, in seconds since the epoch.
    pub time: u64,
    /// `uname -r` of the checkpointing kernel.
    pub release: &'a [u8],
    /// `uname -v` of the checkpointing kernel.
    pub version_str: &'a [u8],
    /// `uname -m` of the checkpointing kernel.
    pub machine: &'a [u8],
}

impl<'a> Header<'a> {
    /// Payload length.
    pub const LEN: usize = 8 + 4 * 4 + 8 * 2 + 3 * UTS_LEN;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.u64(HEADER_MAGIC)?;
        e.u32(self.version)?;
        e.u32(self.flags)?;
        e.u32(self.arch as u32)?;
        e.u32(self.page_size)?;
        e.u64(self.ckpt_id)?;
        e.u64(self.time)?;
        e.fixed_str::<UTS_LEN>(self.release)?;
        e.fixed_str::<UTS_LEN>(self.version_str)?;
        e.fixed_str::<UTS_LEN>(self.machine)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        if d.u64()? != HEADER_MAGIC {
            return Err(FormatError::BadMagic);
        }
        let version = d.u32()?;
        if version != FORMAT_VERSION {
            return Err(FormatError::BadVersion(version));
        }
        let flags = d.u32()?;
        if u64::from(flags) & !CHECKPOINT_FLAGS_MASK != 0 {
            return Err(FormatError::BadValue("header flags"));
        }
        let arch = Arch::from_u32(d.u32()?)?;
        let page_size = d.u32()?;
        if page_size < 4096 || !page_size.is_power_of_two() {
            return Err(FormatError::BadValue("page size"));
        }
        Ok(Self {
            version,
            flags,
            arch,
            page_size,
            ckpt_id: d.u64()?,
            time: d.u64()?,
            release: d.fixed_str::<UTS_LEN>()?,
            version_str: d.fixed_str::<UTS_LEN>()?,
            machine: d.fixed_str::<UTS_LEN>()?,
        })
    }
}

/// A task.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TaskRecord<'a> {
    /// Pid, in the pid namespace of the checkpointer.
    pub pid: i32,
    /// Thread-group id.
    pub tgid: i32,
    /// Pid of the parent (0 if it is outside the checkpointer's namespace).
    pub ppid: i32,
    /// Objref of the task's credentials ([`CredRecord`]).
    pub cred_ref: i32,
    /// Command name.
    pub comm: &'a [u8],
    /// `/proc/PID/oom_score_adj`, -1000 to 1000.
    pub oom_score_adj: i32,
    /// [`TaskRecord::NO_NEW_PRIVS`] and other flags.
    pub flags: u32,
    /// Head of the robust futex list (`set_robust_list()`), or 0.
    pub robust_list: u64,
    /// Length given with the robust list head.
    pub robust_list_len: u64,
}

impl<'a> TaskRecord<'a> {
    /// Payload length.
    pub const LEN: usize = 4 * 4 + COMM_LEN + 4 + 4 + 8 + 8;

    /// Flag: `PR_SET_NO_NEW_PRIVS` was set.
    pub const NO_NEW_PRIVS: u32 = 1;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.pid)?;
        e.i32(self.tgid)?;
        e.i32(self.ppid)?;
        e.i32(self.cred_ref)?;
        e.fixed_str::<COMM_LEN>(self.comm)?;
        e.i32(self.oom_score_adj)?;
        e.u32(self.flags)?;
        e.u64(self.robust_list)?;
        e.u64(self.robust_list_len)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let r = Self {
            pid: d.i32()?,
            tgid: d.i32()?,
            ppid: d.i32()?,
            cred_ref: d.i32()?,
            comm: d.fixed_str::<COMM_LEN>()?,
            oom_score_adj: d.i32()?,
            flags: d.u32()?,
            robust_list: d.u64()?,
            robust_list_len: d.u64()?,
        };
        if r.pid <= 0 || r.tgid <= 0 || r.ppid < 0 {
            return Err(FormatError::BadValue("task pid"));
        }
        if !(-1000..=1000).contains(&r.oom_score_adj) {
            return Err(FormatError::BadValue("task oom_score_adj"));
        }
        if r.flags & !Self::NO_NEW_PRIVS != 0 {
            return Err(FormatError::BadValue("task flags"));
        }
        Ok(r)
    }
}

/// Credentials, as seen from the user namespace of the checkpointer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CredRecord<'a> {
    /// Objref of this object.
    pub objref: i32,
    /// Real, effective, saved and filesystem uids.
    pub uids: [u32; 4],
    /// Real, effective, saved and filesystem gids.
    pub gids: [u32; 4],
    /// Securebits (`SECBIT_*`).
    pub securebits: u32,
    /// Capability sets, named by [`CredRecord::CAP_SETS`].
    pub caps: [u64; 5],
    /// Supplementary groups, in increasing order (at most [`MAX_GROUPS`]).
    pub groups: LeArray<'a, u32>,
}

impl<'a> CredRecord<'a> {
    /// Payload length without the groups.
    pub const MIN_LEN: usize = 8 + 8 * 4 + 8 + 5 * 8;

    /// Names of the capability sets, in order.
    pub const CAP_SETS: [&'static str; 5] = [
        "inheritable",
        "permitted",
        "effective",
        "bounding",
        "ambient",
    ];

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.objref)?;
        e.u32(0)?;
        for v in self.uids.iter().chain(self.gids.iter()) {
            e.u32(*v)?;
        }
        e.u32(self.securebits)?;
        if self.groups.len() > MAX_GROUPS {
            return Err(FormatError::BadValue("cred group count"));
        }
        // CAST: at most `MAX_GROUPS`.
        e.u32(self.groups.len() as u32)?;
        for c in self.caps {
            e.u64(c)?;
        }
        e.array(&self.groups)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let objref = d.i32()?;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("cred reserved field"));
        }
        let mut r = Self {
            objref,
            ..Self::default()
        };
        for v in r.uids.iter_mut().chain(r.gids.iter_mut()) {
            *v = d.u32()?;
        }
        r.securebits = d.u32()?;
        let n = d.u32()? as usize;
        if n > MAX_GROUPS {
            return Err(FormatError::BadValue("cred group count"));
        }
        for c in r.caps.iter_mut() {
            *c = d.u64()?;
        }
        r.groups = d.array(n)?;
        // Sorted and distinct, as the kernel keeps them.
        let mut last = None;
        for g in r.groups.iter() {
            if last.is_some_and(|l| l >= g) {
                return Err(FormatError::BadValue("cred groups not sorted"));
            }
            last = Some(g);
        }
        Ok(r)
    }
}

/// Number of signals (`_NSIG`).
pub const NSIG: usize = 64;

/// Number of resource limits (`RLIM_NLIMITS`).
pub const RLIM_NLIMITS: usize = 16;

/// `SS_DISABLE` and `SS_AUTODISARM`, the flags an alternate stack may have.
pub const SS_DISABLE: u32 = 2;
/// See [`SS_DISABLE`].
pub const SS_AUTODISARM: u32 = 1 << 31;

/// Signal state and per-task settings: actions, blocked mask, alternate
/// stack, resource limits, umask, the registered rseq area, the
/// `ITIMER_REAL` timer, and pending signals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalsRecord<'a> {
    /// Blocked signals (bit `n - 1` for signal `n`).
    pub blocked: u64,
    /// Alternate signal stack: address, size.
    pub altstack: [u64; 2],
    /// Its flags (`SS_DISABLE`, `SS_AUTODISARM`).
    pub altstack_flags: u32,
    /// File mode creation mask.
    pub umask: u32,
    /// Registered rseq area: address (0 for none), length and signature.
    pub rseq: u64,
    /// See [`SignalsRecord::rseq`].
    pub rseq_len: u32,
    /// See [`SignalsRecord::rseq`].
    pub rseq_sig: u32,
    /// Resource limits: [`RLIM_NLIMITS`] pairs (soft, hard).
    pub rlimits: LeArray<'a, [u64; 2]>,
    /// Signal actions: [`NSIG`] of them (signal `n` at index `n - 1`), each
    /// handler, flags, restorer, mask.
    pub actions: LeArray<'a, [u64; 4]>,
    /// `ITIMER_REAL`: nanoseconds left (0: disarmed) and interval.
    pub itimer_real: [u64; 2],
    /// Pending signals, [`SignalsRecord::PENDING_LEN`] bytes each: signal
    /// number and flags ([`SignalsRecord::PENDING_SHARED`]) as `u32`, then
    /// the first 48 bytes of its `siginfo_t`.
    pub pending: &'a [u8],
}

/// A pending signal of a [`SignalsRecord`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PendingSignal<'a> {
    /// Signal number.
    pub signo: u32,
    /// Pending for the whole process (`kill()`) rather than the thread.
    pub shared: bool,
    /// The first 48 bytes of its `siginfo_t` (as `struct kernel_siginfo`).
    pub info: &'a [u8],
}

impl<'a> PendingSignal<'a> {
    /// Returns the pending signals in `bytes`, laid out as in
    /// [`SignalsRecord::pending`].
    pub fn iter(bytes: &'a [u8]) -> impl Iterator<Item = PendingSignal<'a>> + 'a {
        bytes
            .chunks_exact(SignalsRecord::PENDING_LEN)
            .map(|c| PendingSignal {
                signo: u32::from_le_bytes([c[0], c[1], c[2], c[3]]),
                shared: c[4] & 1 != 0,
                info: &c[8..],
            })
    }
}

impl<'a> SignalsRecord<'a> {
    /// Payload length without the pending signals.
    pub const MIN_LEN: usize = 8 * 3 + 4 * 2 + 8 + 4 * 2 + 16 * RLIM_NLIMITS + 32 * NSIG + 16 + 8;

    /// Length of one pending signal.
    pub const PENDING_LEN: usize = 8 + 48;

    /// Most pending signals of a record.
    pub const MAX_PENDING: usize = 4096;

    /// Flag of a pending signal: pending for the whole thread group.
    pub const PENDING_SHARED: u32 = 1;

    /// Returns the pending signals.
    pub fn pending_signals(&self) -> impl Iterator<Item = PendingSignal<'a>> + 'a {
        PendingSignal::iter(self.pending)
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        if self.rlimits.len() != RLIM_NLIMITS {
            return Err(FormatError::BadValue("resource limit count"));
        }
        if self.actions.len() != NSIG {
            return Err(FormatError::BadValue("signal action count"));
        }
        e.u64(self.blocked)?;
        e.u64(self.altstack[0])?;
        e.u64(self.altstack[1])?;
        e.u32(self.altstack_flags)?;
        e.u32(self.umask)?;
        e.u64(self.rseq)?;
        e.u32(self.rseq_len)?;
        e.u32(self.rseq_sig)?;
        e.array(&self.rlimits)?;
        e.array(&self.actions)?;
        e.u64(self.itimer_real[0])?;
        e.u64(self.itimer_real[1])?;
        // CAST: at most `MAX_PENDING`, checked by the length bounds.
        e.u32((self.pending.len() / Self::PENDING_LEN) as u32)?;
        e.u32(0)?;
        e.bytes(self.pending)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let mut r = Self {
            blocked: d.u64()?,
            altstack: [d.u64()?, d.u64()?],
            altstack_flags: d.u32()?,
            umask: d.u32()?,
            rseq: d.u64()?,
            rseq_len: d.u32()?,
            rseq_sig: d.u32()?,
            rlimits: d.array(RLIM_NLIMITS)?,
            actions: d.array(NSIG)?,
            itimer_real: [d.u64()?, d.u64()?],
            pending: &[],
        };
        let n = d.u32()? as usize;
        if d.u32()? != 0 || n > Self::MAX_PENDING {
            return Err(FormatError::BadValue("pending signals"));
        }
        r.pending = d.bytes(n * Self::PENDING_LEN)?;
        // Numbers in range, the siginfo's the same, known flags; SIGKILL
        // and SIGSTOP are never saved pending.
        for c in r.pending.chunks_exact(Self::PENDING_LEN) {
            let word = |i: usize| u32::from_le_bytes([c[i], c[i + 1], c[i + 2], c[i + 3]]);
            let (signo, flags, info_signo) = (word(0), word(4), word(8));
            if signo == 0
                || signo as usize > NSIG
                || signo == 9
                || signo == 19
                || info_signo != signo
                || flags & !Self::PENDING_SHARED != 0
            {
                return Err(FormatError::BadValue("pending signal"));
            }
        }
        if r.umask & !0o777 != 0 {
            return Err(FormatError::BadValue("umask"));
        }
        if r.altstack_flags & !(SS_DISABLE | SS_AUTODISARM) != 0 {
            return Err(FormatError::BadValue("altstack flags"));
        }
        if r.rlimits.iter().any(|[cur, max]| cur > max) {
            return Err(FormatError::BadValue("resource limit"));
        }
        // SIGKILL and SIGSTOP keep their default action.
        let handler = |sig: usize| r.actions.get(sig - 1).map_or(0, |a| a[0]);
        if handler(9) != 0 || handler(19) != 0 {
            return Err(FormatError::BadValue("signal action"));
        }
        Ok(r)
    }
}

/// How an interrupted system call resumes after restart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum RestartKind {
    /// `nanosleep()` or a relative `clock_nanosleep()`: sleep the rest.
    Nanosleep = 1,
    /// `FUTEX_WAIT` or `FUTEX_WAIT_BITSET` with a timeout: wait the rest.
    FutexWait = 2,
}

/// The restart block of a task stopped in a system call that returned
/// `-ERESTART_RESTARTBLOCK`: what `restart_syscall()` must do to resume it.
///
/// Times are relative to the checkpoint, so that they survive a reboot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RestartBlock {
    /// What the system call was.
    pub kind: RestartKind,
    /// Clock of the timeout (`CLOCK_*`).
    pub clockid: i32,
    /// Nanoseconds left (0 if due).
    pub remaining_ns: u64,
    /// Sleep: where the time left is reported (0 for none). Futex: the
    /// address of the futex word.
    pub addr: u64,
    /// Sleep: layout of `*addr` (kernel `enum timespec_type`: 0 none,
    /// 1 compat, 2 native). Futex: 0.
    pub rmtp_type: u32,
    /// Futex: the value expected in the word.
    pub futex_val: u32,
    /// Futex: the bitset of the wait.
    pub futex_bitset: u32,
    /// Futex: shared between processes (not `FUTEX_PRIVATE_FLAG`).
    pub futex_shared: bool,
}

impl RestartBlock {
    /// Payload length.
    pub const LEN: usize = 4 * 2 + 8 * 2 + 4 * 4;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.u32(self.kind as u32)?;
        e.i32(self.clockid)?;
        e.u64(self.remaining_ns)?;
        e.u64(self.addr)?;
        e.u32(self.rmtp_type)?;
        e.u32(self.futex_val)?;
        e.u32(self.futex_bitset)?;
        e.u32(u32::from(self.futex_shared))
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, FormatError> {
        let kind = match d.u32()? {
            1 => RestartKind::Nanosleep,
            2 => RestartKind::FutexWait,
            _ => return Err(FormatError::BadValue("restart block kind")),
        };
        let r = Self {
            kind,
            clockid: d.i32()?,
            remaining_ns: d.u64()?,
            addr: d.u64()?,
            rmtp_type: d.u32()?,
            futex_val: d.u32()?,
            futex_bitset: d.u32()?,
            futex_shared: match d.u32()? {
                0 => false,
                1 => true,
                _ => return Err(FormatError::BadValue("restart block futex flags")),
            },
        };
        // CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_BOOTTIME and CLOCK_TAI for
        // sleeps; the first two for futexes.
        let ok = match kind {
            RestartKind::Nanosleep => {
                [0, 1, 7, 11].contains(&r.clockid)
                    && r.rmtp_type <= 2
                    && r.futex_val == 0
                    && r.futex_bitset == 0
                    && !r.futex_shared
            }
            RestartKind::FutexWait => {
                [0, 1].contains(&r.clockid)
                    && r.rmtp_type == 0
                    && r.futex_bitset != 0
                    && r.addr.is_multiple_of(4)
            }
        };
        if !ok {
            return Err(FormatError::BadValue("restart block"));
        }
        Ok(r)
    }
}

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
}

impl FileKind {
    /// Decodes a kind number.
    pub fn from_u32(v: u32) -> Result<Self, FormatError> {
        Ok(match v {
            1 => Self::Regular,
            2 => Self::Directory,
            3 => Self::CharDevice,
            _ => return Err(FormatError::BadValue("file kind")),
        })
    }

    /// Returns the name used by the tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::Directory => "directory",
            Self::CharDevice => "chardev",
        }
    }
}

/// Device numbers (as `st_rdev`: the kernel's `new_encode_dev()`) of the
/// character devices a [`FileKind::CharDevice`] may be: `/dev/null`,
/// `/dev/zero`, `/dev/random`, `/dev/urandom` (major 1, minors 3, 5, 8, 9).
pub const MEM_CHAR_DEVICES: [u32; 4] = [0x103, 0x105, 0x108, 0x109];

/// The root and working directories of a task (its `fs_struct`), as paths
/// seen from the checkpointer's root.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FsRecord<'a> {
    /// Root directory (`chroot()`).
    pub root: &'a [u8],
    /// Working directory.
    pub cwd: &'a [u8],
}

impl<'a> FsRecord<'a> {
    /// Payload length without the paths: their lengths.
    pub const MIN_LEN: usize = 8;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        for p in [self.root, self.cwd] {
            // CAST: at most `MAX_PATH`, checked by the length bounds.
            e.u32(p.len() as u32)?;
        }
        e.bytes(self.root)?;
        e.bytes(self.cwd)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let (root_len, cwd_len) = (d.u32()? as usize, d.u32()? as usize);
        if root_len > MAX_PATH || cwd_len > MAX_PATH {
            return Err(FormatError::BadString);
        }
        let r = Self {
            root: d.bytes(root_len)?,
            cwd: d.bytes(cwd_len)?,
        };
        for p in [r.root, r.cwd] {
            if !p.starts_with(b"/") || p.contains(&0) {
                return Err(FormatError::BadString);
            }
        }
        Ok(r)
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
    /// Absolute path, as seen from the checkpointer's root.
    pub path: &'a [u8],
}

impl<'a> FileRecord<'a> {
    /// Payload length without the path (its NUL included).
    pub const MIN_LEN: usize = 4 * 6 + 8 + 1;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.objref)?;
        e.u32(self.kind as u32)?;
        e.u32(self.flags)?;
        e.u32(self.mode)?;
        e.u32(self.rdev)?;
        e.u32(0)?;
        e.u64(self.pos as u64)?;
        e.tail_str(self.path)
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
        let path = d.tail_str(MAX_PATH)?;
        // S_IFREG, S_IFDIR, S_IFCHR.
        let ty = match kind {
            FileKind::Regular => 0o100000,
            FileKind::Directory => 0o040000,
            FileKind::CharDevice => 0o020000,
        };
        if mode & 0o170000 != ty || mode & !0o177777 != 0 {
            return Err(FormatError::BadValue("file mode"));
        }
        if (kind == FileKind::CharDevice) != MEM_CHAR_DEVICES.contains(&rdev) {
            return Err(FormatError::BadValue("file device"));
        }
        if pos < 0 || !path.starts_with(b"/") {
            return Err(FormatError::BadValue("file position or path"));
        }
        Ok(Self {
            objref,
            kind,
            flags,
            mode,
            rdev,
            pos,
            path,
        })
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

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.fd)?;
        e.i32(self.objref)?;
        e.u32(u32::from(self.cloexec))?;
        e.u32(0)
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, FormatError> {
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
}

/// Fields of a task's memory descriptor (`struct mm_struct`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MmRecord<'a> {
    /// `start_code`, `end_code`, `start_data`, `end_data`, `start_brk`,
    /// `brk`, `start_stack`, `arg_start`, `arg_end`, `env_start`, `env_end`.
    pub layout: [u64; 11],
    /// `mm->flags` (`MMF_*`, dumpable bits).
    pub flags: u64,
    /// `mm->def_flags`.
    pub def_flags: u64,
    /// Objref of the executable's file record (`/proc/PID/exe`), or 0.
    pub exe_ref: i32,
    /// `mm->saved_auxv` words (an even number, at most [`MAX_AUXV`]).
    pub auxv: LeArray<'a, u64>,
}

impl<'a> MmRecord<'a> {
    /// Payload length without the auxiliary vector.
    pub const MIN_LEN: usize = 8 * 11 + 8 + 8 + 8 + 8;

    /// Names of the [`MmRecord::layout`] fields, in order.
    pub const LAYOUT_NAMES: [&'static str; 11] = [
        "start_code",
        "end_code",
        "start_data",
        "end_data",
        "start_brk",
        "brk",
        "start_stack",
        "arg_start",
        "arg_end",
        "env_start",
        "env_end",
    ];

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        for v in self.layout {
            e.u64(v)?;
        }
        e.u64(self.flags)?;
        e.u64(self.def_flags)?;
        e.i32(self.exe_ref)?;
        e.u32(0)?;
        if self.auxv.len() > MAX_AUXV {
            return Err(FormatError::BadValue("auxv length"));
        }
        // CAST: bounded by `MAX_AUXV`.
        e.u32(self.auxv.len() as u32)?;
        e.u32(0)?;
        e.array(&self.auxv)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let mut layout = [0u64; 11];
        for v in layout.iter_mut() {
            *v = d.u64()?;
        }
        let flags = d.u64()?;
        let def_flags = d.u64()?;
        let exe_ref = d.i32()?;
        if exe_ref < 0 || d.u32()? != 0 {
            return Err(FormatError::BadValue("mm executable"));
        }
        let words = d.u32()? as usize;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("mm reserved field"));
        }
        if words > MAX_AUXV || words & 1 != 0 {
            return Err(FormatError::BadValue("auxv length"));
        }
        let auxv = d.array(words)?;
        // Pairs are ordered as the kernel's checks of prctl(PR_SET_MM_MAP).
        let [sc, ec, sd, ed, sb, brk, _, sa, ea, se, ee] = layout;
        if sc > ec || sd > ed || sb > brk || sa > ea || se > ee {
            return Err(FormatError::BadValue("mm layout"));
        }
        Ok(Self {
            layout,
            flags,
            def_flags,
            exe_ref,
            auxv,
        })
    }
}

/// What backs a memory area.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum VmaKind {
    /// Anonymous memory (heap, stack, `MAP_ANONYMOUS`).
    Anon = 1,
    /// A file mapping; the record names its file record by objref.
    File = 2,
    /// The vDSO text, mapped anew by the restarting kernel.
    Vdso = 3,
    /// The vDSO data, mapped anew with the vDSO.
    Vvar = 4,
}

impl VmaKind {
    /// Decodes a kind number.
    pub fn from_u32(v: u32) -> Result<Self, FormatError> {
        Ok(match v {
            1 => Self::Anon,
            2 => Self::File,
            3 => Self::Vdso,
            4 => Self::Vvar,
            _ => return Err(FormatError::BadValue("vma kind")),
        })
    }

    /// Returns the name used by the tools.
    pub fn name(self) -> &'static str {
        match self {
            Self::Anon => "anon",
            Self::File => "file",
            Self::Vdso => "vdso",
            Self::Vvar => "vvar",
        }
    }
}

/// `VM_READ`, `VM_WRITE`, `VM_EXEC`, `VM_SHARED` of `vm_flags`.
pub mod vm {
    /// Readable.
    pub const READ: u64 = 0x1;
    /// Writable.
    pub const WRITE: u64 = 0x2;
    /// Executable.
    pub const EXEC: u64 = 0x4;
    /// Shared mapping.
    pub const SHARED: u64 = 0x8;
    /// Grows down (stack).
    pub const GROWSDOWN: u64 = 0x100;
}

/// A memory area (`struct vm_area_struct`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VmaRecord {
    /// First address.
    pub start: u64,
    /// End address (excluded).
    pub end: u64,
    /// `vm_flags` (see [`vm`]).
    pub flags: u64,
    /// Offset in the file, in pages.
    pub pgoff: u64,
    /// What backs the area.
    pub kind: VmaKind,
    /// Objref of the mapped file's record ([`FileRecord`]) for
    /// [`VmaKind::File`], else 0.
    pub file_ref: i32,
}

impl VmaRecord {
    /// Payload length.
    pub const LEN: usize = 8 * 4 + 4 + 4;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.u64(self.start)?;
        e.u64(self.end)?;
        e.u64(self.flags)?;
        e.u64(self.pgoff)?;
        e.u32(self.kind as u32)?;
        e.i32(self.file_ref)
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, FormatError> {
        let r = Self {
            start: d.u64()?,
            end: d.u64()?,
            flags: d.u64()?,
            pgoff: d.u64()?,
            kind: VmaKind::from_u32(d.u32()?)?,
            file_ref: d.i32()?,
        };
        if r.start >= r.end {
            return Err(FormatError::BadValue("vma range"));
        }
        // A file mapping names its file, other areas none.
        let file_ok = match r.kind {
            VmaKind::File => r.file_ref > 0,
            _ => r.file_ref == 0,
        };
        if !file_ok {
            return Err(FormatError::BadValue("vma file"));
        }
        Ok(r)
    }

    /// Returns `rwxs`/`rwxp` letters as in `/proc/PID/maps`.
    pub fn prot(&self) -> [u8; 4] {
        let bit = |b: u64, c: u8| if self.flags & b != 0 { c } else { b'-' };
        [
            bit(vm::READ, b'r'),
            bit(vm::WRITE, b'w'),
            bit(vm::EXEC, b'x'),
            if self.flags & vm::SHARED != 0 {
                b's'
            } else {
                b'p'
            },
        ]
    }
}

/// Contents of some populated pages of the area before it.
///
/// Payload: `count: u32`, `page_size: u32`, `count` addresses (`u64`), then
/// `count` pages of data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PagesRecord<'a> {
    /// Page size.
    pub page_size: u32,
    addrs: &'a [u8],
    data: &'a [u8],
}

impl<'a> PagesRecord<'a> {
    /// Payload length before the addresses.
    pub const PREFIX: usize = 8;

    /// Returns the number of pages.
    pub fn count(&self) -> usize {
        self.addrs.len() / 8
    }

    /// Returns the address of each page, in order.
    pub fn addrs(&self) -> impl Iterator<Item = u64> + 'a {
        self.addrs
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
    }

    /// Returns the address and contents of each page, in order (empty
    /// contents for a record decoded by [`PagesRecord::decode_head`]).
    pub fn pages(&self) -> impl Iterator<Item = (u64, &'a [u8])> + 'a {
        let data = self.data;
        let size = self.page_size as usize;
        self.addrs()
            .enumerate()
            .map(move |(i, a)| (a, data.get(i * size..(i + 1) * size).unwrap_or(&[])))
    }

    /// Returns true if the record holds the page contents.
    pub fn has_data(&self) -> bool {
        !self.data.is_empty()
    }

    /// Returns how many bytes of addresses follow the 8-byte prefix `p` of
    /// a pages record, after checking the count.
    pub fn addrs_len(p: &[u8; 8]) -> Result<usize, FormatError> {
        let count = u32::from_le_bytes([p[0], p[1], p[2], p[3]]) as usize;
        if count == 0 || count > MAX_PAGES_PER_RECORD {
            return Err(FormatError::BadValue("page count"));
        }
        Ok(count * 8)
    }

    /// Decodes the part of a pages record before the page contents (the
    /// prefix and the addresses), with the same checks as a whole record:
    /// a reader can then put the contents straight where they belong. The
    /// contents, [`PagesRecord::data_len`] bytes, follow in the stream.
    pub fn decode_head(hdr: &RecordHeader, head: &'a [u8]) -> Result<Self, FormatError> {
        let mut d = Decoder::new(head);
        let r = Self::decode_prefix(&mut d)?;
        d.finish()?;
        if hdr.ty != RecordType::Pages || hdr.payload_len() != head.len() + r.data_len() {
            return Err(FormatError::BadLength {
                ty: hdr.ty as u32,
                len: hdr.len,
            });
        }
        Ok(r)
    }

    /// Returns the length of the page contents of the record.
    pub fn data_len(&self) -> usize {
        self.count() * self.page_size as usize
    }

    /// Returns the header of a pages record of `count` pages of `page_size`
    /// bytes, and its prefix (what precedes the addresses).
    pub fn head(count: usize, page_size: u32) -> Result<(RecordHeader, [u8; 8]), FormatError> {
        if count == 0 || count > MAX_PAGES_PER_RECORD {
            return Err(FormatError::NoSpace);
        }
        let payload = Self::PREFIX + count * (8 + page_size as usize);
        let hdr = RecordHeader::new(RecordType::Pages, payload)?;
        let mut prefix = [0u8; 8];
        // CAST: bounded by `MAX_PAGES_PER_RECORD`.
        prefix[..4].copy_from_slice(&(count as u32).to_le_bytes());
        prefix[4..].copy_from_slice(&page_size.to_le_bytes());
        Ok((hdr, prefix))
    }

    fn decode_prefix(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let count = d.u32()? as usize;
        let page_size = d.u32()?;
        if count == 0 || count > MAX_PAGES_PER_RECORD {
            return Err(FormatError::BadValue("page count"));
        }
        if !(4096..=MAX_PAGE_SIZE).contains(&page_size) || !page_size.is_power_of_two() {
            return Err(FormatError::BadValue("page size"));
        }
        let r = Self {
            page_size,
            addrs: d.bytes(count * 8)?,
            data: &[],
        };
        let mut prev = None;
        for a in r.addrs() {
            if a % u64::from(page_size) != 0 || prev.is_some_and(|p| a <= p) {
                return Err(FormatError::BadValue("page address"));
            }
            prev = Some(a);
        }
        Ok(r)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let mut r = Self::decode_prefix(d)?;
        r.data = d.bytes(r.data_len())?;
        Ok(r)
    }
}

/// The record that ends a complete image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tail;

impl Tail {
    /// Payload length.
    pub const LEN: usize = 8;
}

/// A checkpoint failure, written into the stream before `checkpoint(2)` fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRecord<'a> {
    /// The errno (positive) that `checkpoint(2)` returned.
    pub errno: i32,
    /// Objref of the object that could not be checkpointed, or 0.
    pub objref: i32,
    /// What failed.
    pub msg: &'a [u8],
}

impl<'a> ErrorRecord<'a> {
    /// Payload length without the message (the NUL included).
    pub const MIN_LEN: usize = 8 + 1;

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.i32(self.errno)?;
        e.i32(self.objref)?;
        let msg = &self.msg[..self.msg.len().min(MAX_ERROR_MSG)];
        e.tail_str(msg)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let errno = d.i32()?;
        if !(1..4096).contains(&errno) {
            return Err(FormatError::BadValue("errno"));
        }
        let objref = d.i32()?;
        if objref < 0 {
            return Err(FormatError::BadObjref(objref));
        }
        Ok(Self {
            errno,
            objref,
            msg: d.tail_str(MAX_ERROR_MSG)?,
        })
    }

    /// Returns the encoded payload length of this record.
    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.msg.len().min(MAX_ERROR_MSG)
    }
}

/// A decoded record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record<'a> {
    /// See [`Header`].
    Header(Header<'a>),
    /// See [`TaskRecord`].
    Task(TaskRecord<'a>),
    /// See [`CredRecord`].
    Cred(CredRecord<'a>),
    /// A record of one architecture: see [`ArchRecord`].
    Arch(ArchRecord<'a>),
    /// See [`SignalsRecord`].
    Signals(SignalsRecord<'a>),
    /// See [`FsRecord`].
    Fs(FsRecord<'a>),
    /// See [`RestartBlock`].
    RestartBlock(RestartBlock),
    /// See [`FileRecord`].
    File(FileRecord<'a>),
    /// See [`FdRecord`].
    Fd(FdRecord),
    /// See [`MmRecord`].
    Mm(MmRecord<'a>),
    /// See [`VmaRecord`].
    Vma(VmaRecord),
    /// See [`PagesRecord`]. The kernel writes it piecewise, from
    /// [`PagesRecord::head`] and the pages themselves.
    Pages(PagesRecord<'a>),
    /// See [`Tail`].
    Tail(Tail),
    /// See [`ErrorRecord`].
    Error(ErrorRecord<'a>),
}

impl<'a> Record<'a> {
    /// Returns the type of this record.
    pub fn ty(&self) -> RecordType {
        match self {
            Self::Header(_) => RecordType::Header,
            Self::Task(_) => RecordType::Task,
            Self::Cred(_) => RecordType::Cred,
            Self::Mm(_) => RecordType::Mm,
            Self::Arch(a) => a.ty(),
            Self::Signals(_) => RecordType::Signals,
            Self::Fs(_) => RecordType::Fs,
            Self::RestartBlock(_) => RecordType::RestartBlock,
            Self::File(_) => RecordType::File,
            Self::Fd(_) => RecordType::Fd,
            Self::Vma(_) => RecordType::Vma,
            Self::Pages(_) => RecordType::Pages,
            Self::Tail(_) => RecordType::Tail,
            Self::Error(_) => RecordType::Error,
        }
    }

    /// Returns the payload length of this record once encoded.
    pub fn payload_len(&self) -> usize {
        match self {
            Self::Error(e) => e.payload_len(),
            Self::Mm(m) => MmRecord::MIN_LEN + m.auxv.byte_len(),
            Self::Pages(p) => PagesRecord::PREFIX + p.addrs.len() + p.data.len(),
            Self::Arch(a) => a.payload_len(),
            Self::File(f) => FileRecord::MIN_LEN + f.path.len(),
            Self::Cred(c) => CredRecord::MIN_LEN + c.groups.byte_len(),
            Self::Fs(f) => FsRecord::MIN_LEN + f.root.len() + f.cwd.len(),
            Self::Signals(g) => SignalsRecord::MIN_LEN + g.pending.len(),
            _ => self.ty().payload_bounds().0,
        }
    }

    /// Decodes the payload of a record whose header is `hdr`.
    ///
    /// `payload` must be exactly [`RecordHeader::payload_len`] bytes.
    pub fn decode(hdr: &RecordHeader, payload: &'a [u8]) -> Result<Self, FormatError> {
        if payload.len() != hdr.payload_len() {
            return Err(FormatError::Truncated);
        }
        let mut d = Decoder::new(payload);
        if let Some(a) = ArchRecord::decode(hdr.ty, &mut d) {
            let rec = Self::Arch(a?);
            d.finish()?;
            return Ok(rec);
        }
        let rec = match hdr.ty {
            RecordType::Header => Self::Header(Header::decode(&mut d)?),
            RecordType::Task => Self::Task(TaskRecord::decode(&mut d)?),
            RecordType::Cred => Self::Cred(CredRecord::decode(&mut d)?),
            RecordType::Mm => Self::Mm(MmRecord::decode(&mut d)?),
            RecordType::Signals => Self::Signals(SignalsRecord::decode(&mut d)?),
            RecordType::Fs => Self::Fs(FsRecord::decode(&mut d)?),
            RecordType::RestartBlock => Self::RestartBlock(RestartBlock::decode(&mut d)?),
            RecordType::File => Self::File(FileRecord::decode(&mut d)?),
            RecordType::Fd => Self::Fd(FdRecord::decode(&mut d)?),
            RecordType::Vma => Self::Vma(VmaRecord::decode(&mut d)?),
            RecordType::Pages => Self::Pages(PagesRecord::decode(&mut d)?),
            RecordType::Tail => {
                if d.u64()? != TAIL_MAGIC {
                    return Err(FormatError::BadTail);
                }
                Self::Tail(Tail)
            }
            RecordType::Error => Self::Error(ErrorRecord::decode(&mut d)?),
            RecordType::X86_64Cpu | RecordType::X86Xstate => {
                return Err(FormatError::UnknownType(hdr.ty as u32))
            }
        };
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
        match self {
            Self::Header(h) => h.encode(&mut e)?,
            Self::Task(t) => t.encode(&mut e)?,
            Self::Cred(c) => c.encode(&mut e)?,
            Self::Mm(m) => m.encode(&mut e)?,
            Self::Arch(a) => a.encode(&mut e)?,
            Self::Signals(r) => r.encode(&mut e)?,
            Self::Fs(r) => r.encode(&mut e)?,
            Self::RestartBlock(r) => r.encode(&mut e)?,
            Self::File(f) => f.encode(&mut e)?,
            Self::Fd(f) => f.encode(&mut e)?,
            Self::Vma(v) => v.encode(&mut e)?,
            Self::Pages(p) => {
                e.u32(p.count() as u32)?;
                e.u32(p.page_size)?;
                e.bytes(p.addrs)?;
                e.bytes(p.data)?
            }
            Self::Tail(_) => e.u64(TAIL_MAGIC)?,
            Self::Error(r) => r.encode(&mut e)?,
        }
        debug_assert_eq!(e.len(), hdr.len as usize);
        e.bytes(&[0u8; RECORD_ALIGN][..hdr.padding()])?;
        Ok(total)
    }
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

macro_rules! record_kind {
    ($($ty:ty => $variant:ident,)*) => {$(
        impl<'a> RecordKind<'a> for $ty {
            const TYPE: RecordType = RecordType::$variant;

            fn from_record(rec: Record<'a>) -> Option<Self> {
                match rec {
                    Record::$variant(r) => Some(r),
                    _ => None,
                }
            }

            fn into_record(self) -> Record<'a> {
                Record::$variant(self)
            }
        }
    )*};
}

record_kind! {
    Header<'a> => Header,
    TaskRecord<'a> => Task,
    CredRecord<'a> => Cred,
    SignalsRecord<'a> => Signals,
    FsRecord<'a> => Fs,
    RestartBlock => RestartBlock,
    FileRecord<'a> => File,
    FdRecord => Fd,
    MmRecord<'a> => Mm,
    VmaRecord => Vma,
    PagesRecord<'a> => Pages,
    Tail => Tail,
    ErrorRecord<'a> => Error,
}

macro_rules! arch_record_kind {
    ($($ty:ty => $variant:ident,)*) => {$(
        impl<'a> RecordKind<'a> for $ty {
            const TYPE: RecordType = RecordType::$variant;

            fn from_record(rec: Record<'a>) -> Option<Self> {
                match rec {
                    Record::Arch(ArchRecord::$variant(r)) => Some(r),
                    _ => None,
                }
            }

            fn into_record(self) -> Record<'a> {
                Record::Arch(ArchRecord::$variant(self))
            }
        }
    )*};
}

arch_record_kind! {
    CpuX86_64 => X86_64Cpu,
    Xstate<'a> => X86Xstate,
}
