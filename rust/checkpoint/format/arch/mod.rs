// SPDX-License-Identifier: GPL-2.0

//! Architectures, and the records of one architecture (the CPU state of a
//! task), all under [`Record::Arch`].
//!
//! Generic code handles the latter as [`ArchRecord`]s, and the stream check
//! refuses one whose [`ArchRecord::arch`] is not the image's. An arch record
//! type is its struct (implementing [`Payload`]) in a file of its
//! architecture, plus one line in `arch_records!`.

mod x86;

pub use x86::{CpuX86_64, Xstate};

use crate::codec::Encoder;
use crate::visit::Visitor;
use crate::{FormatError, Payload, Record, RecordKind, RecordType};

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

/// The table of arch records, one line each:
///
/// ```text
/// /// doc of the RecordType variant
/// Variant = type number, "name", Struct<'a>, Arch variant;
/// ```
///
/// `Variant` names the [`RecordType`] and the [`ArchRecord`] variant; the
/// lifetime is there when the struct borrows the image. This macro passes
/// the lines to `$cb!`, after `$pre` and `@arch`: the record table of the
/// crate root takes them with the generic records, and
/// `arch_record_enum!` makes [`ArchRecord`] from them.
macro_rules! arch_records {
    ($cb:ident! { $($pre:tt)* }) => {
        $cb! {
            $($pre)*
            @arch
            /// x86-64 registers of the task before it: [`CpuX86_64`].
            X86_64Cpu = 301, "cpu", CpuX86_64, X86_64;
            /// x86 extended state (XSAVE area) of the task before it:
            /// [`Xstate`]. (The XSAVE area of 32-bit tasks will follow
            /// their own cpu record; today it follows an x86-64 one.)
            X86Xstate = 302, "xstate", Xstate<'a>, X86_64;
        }
    };
}

/// Makes [`ArchRecord`] and its dispatch from the lines of
/// `arch_records!`.
macro_rules! arch_record_enum {
    (@arch $(
        $(#[$doc:meta])*
        $v:ident = $code:literal, $name:literal, $s:ident $(<$lt:lifetime>)?, $arch:ident;
    )*) => {
        /// A record that only images of one architecture hold.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum ArchRecord<'a> {
            $(
                #[doc = concat!("See [`", stringify!($s), "`].")]
                $v($s $(<$lt>)?),
            )*
        }

        impl<'a> ArchRecord<'a> {
            /// Returns the architecture of the images that hold this record.
            pub fn arch(&self) -> Arch {
                match self {
                    $(Self::$v(_) => Arch::$arch,)*
                }
            }

            /// Returns the type of this record.
            pub fn ty(&self) -> RecordType {
                match self {
                    $(Self::$v(_) => RecordType::$v,)*
                }
            }

            pub(crate) fn payload_len(&self) -> usize {
                match self {
                    $(Self::$v(r) => r.payload_len(),)*
                }
            }

            pub(crate) fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
                match self {
                    $(Self::$v(r) => r.encode(e),)*
                }
            }

            pub(crate) fn visit(&self, v: &mut dyn Visitor) {
                match self {
                    $(Self::$v(r) => r.visit(v),)*
                }
            }
        }

        $(
            impl<'a> RecordKind<'a> for $s $(<$lt>)? {
                const TYPE: RecordType = RecordType::$v;

                fn from_record(rec: Record<'a>) -> Option<Self> {
                    match rec {
                        Record::Arch(ArchRecord::$v(r)) => Some(r),
                        _ => None,
                    }
                }

                fn into_record(self) -> Record<'a> {
                    Record::Arch(ArchRecord::$v(self))
                }
            }
        )*
    };
}

arch_records!(arch_record_enum! {});
