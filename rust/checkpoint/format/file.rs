// SPDX-License-Identifier: GPL-2.0

//! The records of open files: the file, a shared object, and the
//! descriptors that refer to it.

use crate::codec::{Decoder, Encoder};
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

impl FileRecord<'_> {
    /// Payload length without the path (its NUL included).
    pub const MIN_LEN: usize = 4 * 6 + 8 + 1;
}

impl<'a> Payload<'a> for FileRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::MIN_LEN, Self::MIN_LEN + MAX_PATH);

    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.path.len()
    }

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

    fn visit(&self, v: &mut dyn Visitor) {
        v.int("objref", self.objref);
        v.name(Field::new("kind").bare(), self.kind.name());
        v.oct("flags", self.flags);
        v.oct("mode", self.mode);
        v.hex(Field::new("rdev").detail(), self.rdev);
        v.int("pos", self.pos);
        v.str(Field::new("path").bare(), self.path);
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
