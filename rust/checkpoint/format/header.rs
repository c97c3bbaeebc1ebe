// SPDX-License-Identifier: GPL-2.0

//! The records that frame an image: its header, its tail, and the error
//! record of a failed checkpoint.

use crate::codec::{Decoder, Encoder};
use crate::visit::{Field, Value, Visitor};
use crate::{
    Arch, FormatError, Payload, CHECKPOINT_FLAGS_MASK, FORMAT_VERSION, HEADER_MAGIC, MAX_ERROR_MSG,
    TAIL_MAGIC, UTS_LEN,
};

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

impl Header<'_> {
    /// Payload length.
    pub const LEN: usize = 8 + 4 * 4 + 8 * 2 + 3 * UTS_LEN;
}

impl<'a> Payload<'a> for Header<'a> {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

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

    fn visit(&self, v: &mut dyn Visitor) {
        v.uint("version", self.version);
        v.uint(Field::new("flags").detail(), self.flags);
        v.name("arch", self.arch.name());
        v.uint("page_size", self.page_size);
        v.uint("ckpt_id", self.ckpt_id);
        v.uint("time", self.time);
        v.str(Field::new("release").quoted(), self.release);
        v.str(Field::new("kernel_version").detail(), self.version_str);
        v.str(Field::new("machine").quoted(), self.machine);
    }
}

/// The record that ends a complete image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tail;

impl Tail {
    /// Payload length.
    pub const LEN: usize = 8;
}

impl Payload<'_> for Tail {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.u64(TAIL_MAGIC)
    }

    fn decode(d: &mut Decoder<'_>) -> Result<Self, FormatError> {
        if d.u64()? != TAIL_MAGIC {
            return Err(FormatError::BadTail);
        }
        Ok(Self)
    }

    fn visit(&self, _: &mut dyn Visitor) {}
}

/// A checkpoint failure, written into the stream before `checkpoint(2)` fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ErrorRecord<'a> {
    /// The errno (positive) that `checkpoint(2)` returned.
    pub errno: i32,
    /// Objref of the object that could not be checkpointed, or 0.
    pub objref: i32,
    /// What failed (cut at [`MAX_ERROR_MSG`] bytes when encoded).
    pub msg: &'a [u8],
}

impl ErrorRecord<'_> {
    /// Payload length without the message (the NUL included).
    pub const MIN_LEN: usize = 8 + 1;
}

impl<'a> Payload<'a> for ErrorRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::MIN_LEN, Self::MIN_LEN + MAX_ERROR_MSG);

    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.msg.len().min(MAX_ERROR_MSG)
    }

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

    fn visit(&self, v: &mut dyn Visitor) {
        // `EBUSY objref 0: what failed`
        v.int(Field::new("errno").detail(), self.errno);
        v.field(&Field::new("errno_name").bare(), Value::Errno(self.errno));
        v.int(Field::new("objref").suffix(":"), self.objref);
        v.str(Field::new("message").bare(), self.msg);
    }
}
