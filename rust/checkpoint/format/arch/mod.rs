// SPDX-License-Identifier: GPL-2.0

//! Records of one architecture (the CPU state of a task), all under
//! [`Record::Arch`](crate::Record::Arch).
//!
//! Generic code handles them as [`ArchRecord`]s and checks that their
//! [`ArchRecord::arch`] is the image's.

mod x86;

pub use x86::{CpuX86_64, Xstate};

use crate::codec::{Decoder, Encoder};
use crate::{Arch, FormatError, RecordType};

/// A record that only images of one architecture hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchRecord<'a> {
    /// See [`CpuX86_64`].
    X86_64Cpu(CpuX86_64),
    /// See [`Xstate`].
    X86Xstate(Xstate<'a>),
}

impl<'a> ArchRecord<'a> {
    /// Returns the architecture of the images that hold this record.
    pub fn arch(&self) -> Arch {
        match self {
            // The XSAVE area of 32-bit tasks will come with their own cpu
            // record; today it follows an x86-64 one.
            Self::X86_64Cpu(_) | Self::X86Xstate(_) => Arch::X86_64,
        }
    }

    /// Returns the type of this record.
    pub fn ty(&self) -> RecordType {
        match self {
            Self::X86_64Cpu(_) => RecordType::X86_64Cpu,
            Self::X86Xstate(_) => RecordType::X86Xstate,
        }
    }

    /// Returns the payload bounds of `ty` if it is an arch record type.
    pub(crate) fn bounds(ty: RecordType) -> Option<(usize, usize)> {
        Some(match ty {
            RecordType::X86_64Cpu => (CpuX86_64::LEN, CpuX86_64::LEN),
            RecordType::X86Xstate => (
                Xstate::PREFIX + Xstate::MIN_AREA,
                Xstate::PREFIX + Xstate::MAX_AREA,
            ),
            _ => return None,
        })
    }

    pub(crate) fn payload_len(&self) -> usize {
        match self {
            Self::X86_64Cpu(_) => CpuX86_64::LEN,
            Self::X86Xstate(x) => Xstate::PREFIX + x.area.len(),
        }
    }

    /// Decodes the payload of an arch record of type `ty`; `None` if `ty`
    /// is not an arch record type.
    pub(crate) fn decode(ty: RecordType, d: &mut Decoder<'a>) -> Option<Result<Self, FormatError>> {
        Some(match ty {
            RecordType::X86_64Cpu => CpuX86_64::decode(d).map(Self::X86_64Cpu),
            RecordType::X86Xstate => Xstate::decode(d).map(Self::X86Xstate),
            _ => return None,
        })
    }

    pub(crate) fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        match self {
            Self::X86_64Cpu(c) => c.encode(e),
            Self::X86Xstate(x) => x.encode(e),
        }
    }
}
