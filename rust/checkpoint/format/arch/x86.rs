// SPDX-License-Identifier: GPL-2.0

//! x86 records: the general registers of an x86-64 task and the XSAVE area.

use crate::codec::{Decoder, Encoder};
use crate::visit::{Field, Value, Visitor};
use crate::{FormatError, Payload};

/// General registers of an x86-64 task, in the order of `struct pt_regs`
/// (and of `struct user_regs_struct`), then its fs and gs bases.
///
/// The segment selectors other than `cs` and `ss` are not recorded: 64-bit
/// tasks have them zero, and restart sets them so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuX86_64 {
    /// Register values, named by [`CpuX86_64::NAMES`].
    pub regs: [u64; 23],
}

impl CpuX86_64 {
    /// Payload length.
    pub const LEN: usize = 23 * 8;

    /// Names of the registers, in order.
    pub const NAMES: [&'static str; 23] = [
        "r15", "r14", "r13", "r12", "bp", "bx", "r11", "r10", "r9", "r8", "ax", "cx", "dx", "si",
        "di", "orig_ax", "ip", "cs", "flags", "sp", "ss", "fs_base", "gs_base",
    ];

    /// Returns the value of register `name`.
    pub fn get(&self, name: &str) -> Option<u64> {
        Self::NAMES
            .iter()
            .position(|n| *n == name)
            .map(|i| self.regs[i])
    }
}

impl<'a> Payload<'a> for CpuX86_64 {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        for r in self.regs {
            e.u64(r)?;
        }
        Ok(())
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let mut regs = [0u64; 23];
        for r in regs.iter_mut() {
            *r = d.u64()?;
        }
        Ok(Self { regs })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        for (name, r) in Self::NAMES.into_iter().zip(self.regs) {
            v.hex(Field::new(name).detail(), r);
        }
        // `ip 0x... sp 0x... ax 0x... orig_ax -1 flags 0x... fs_base 0x...`
        let reg = |name| self.get(name).unwrap_or(0);
        for name in ["ip", "sp", "ax"] {
            v.hex(Field::text(name), reg(name));
        }
        // CAST: a system call number, or -1 outside of one.
        v.int(Field::text("orig_ax"), reg("orig_ax") as i64);
        for name in ["flags", "fs_base"] {
            v.hex(Field::text(name), reg(name));
        }
    }
}

/// The x86 extended state of a task: its XSAVE area in the standard
/// (uncompacted) format that ptrace and core dumps use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Xstate<'a> {
    /// The XSAVE area: 512 bytes of legacy (x87, SSE) state, the 64-byte
    /// XSAVE header, then the extended components.
    pub area: &'a [u8],
}

impl<'a> Xstate<'a> {
    /// Smallest area: the legacy region and the XSAVE header.
    pub const MIN_AREA: usize = 512 + 64;
    /// Largest area accepted (AMX tiles take 8 KiB).
    pub const MAX_AREA: usize = 1 << 16;
    /// Payload length before the area.
    pub const PREFIX: usize = 8;

    /// Returns `XSTATE_BV`: the components whose state the area holds.
    pub fn xfeatures(&self) -> u64 {
        let b = &self.area[512..520];
        u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
    }

    /// Returns the 16 bytes of register `xmm<n>` (n < 16) from the legacy
    /// region.
    pub fn xmm(&self, n: usize) -> Option<&'a [u8]> {
        (n < 16).then(|| &self.area[160 + 16 * n..176 + 16 * n])
    }
}

impl<'a> Payload<'a> for Xstate<'a> {
    const BOUNDS: (usize, usize) = (Self::PREFIX + Self::MIN_AREA, Self::PREFIX + Self::MAX_AREA);

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.area.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        // CAST: bounded by `MAX_AREA`.
        e.u32(self.area.len() as u32)?;
        e.u32(0)?;
        e.bytes(self.area)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let size = d.u32()? as usize;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("xstate reserved field"));
        }
        if !(Self::MIN_AREA..=Self::MAX_AREA).contains(&size) {
            return Err(FormatError::BadValue("xstate size"));
        }
        let area = d.bytes(size)?;
        // XCOMP_BV must be zero in the standard format.
        if area[520..528].iter().any(|&b| b != 0) {
            return Err(FormatError::BadValue("xstate format"));
        }
        Ok(Self { area })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        // CAST: at most `MAX_AREA`.
        let size = self.area.len() as u64;
        v.uint(Field::new("size").bare().suffix(" bytes,"), size);
        v.hex(
            Field::new("xfeatures").label("components"),
            self.xfeatures(),
        );
        v.list(
            Field::new("xmm").detail(),
            (0..16).filter_map(|i| self.xmm(i)).map(Value::Hexdump),
        );
    }
}
