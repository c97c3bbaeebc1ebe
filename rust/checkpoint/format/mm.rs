// SPDX-License-Identifier: GPL-2.0

//! The records of a task's memory: its mm, its areas, and the contents of
//! their populated pages.

use crate::codec::{Decoder, Encoder, LeArray, LeValue};
use crate::visit::{Field, Value, Visitor};
use crate::{
    FormatError, Payload, RecordHeader, RecordType, MAX_AUXV, MAX_PAGES_PER_RECORD, MAX_PAGE_SIZE,
};

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
    /// Some of its areas are its parent's, shared copy-on-write: each has
    /// a [`CowRecord`].
    pub inherits: bool,
    /// `mm->saved_auxv` words (an even number, at most [`MAX_AUXV`]).
    pub auxv: LeArray<'a, u64>,
}

impl MmRecord<'_> {
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
}

impl<'a> Payload<'a> for MmRecord<'a> {
    const BOUNDS: (usize, usize) = (Self::MIN_LEN, Self::MIN_LEN + 8 * MAX_AUXV);

    fn payload_len(&self) -> usize {
        Self::MIN_LEN + self.auxv.byte_len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        for v in self.layout {
            e.u64(v)?;
        }
        e.u64(self.flags)?;
        e.u64(self.def_flags)?;
        e.i32(self.exe_ref)?;
        e.u32(u32::from(self.inherits))?;
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
        if exe_ref < 0 {
            return Err(FormatError::BadValue("mm executable"));
        }
        let inherits = match d.u32()? {
            0 => false,
            1 => true,
            _ => return Err(FormatError::BadValue("mm inherits")),
        };
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
            inherits,
            auxv,
        })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        let l = &self.layout;
        for (name, x) in Self::LAYOUT_NAMES.into_iter().zip(l) {
            v.hex(Field::new(name).detail(), *x);
        }
        v.list(Field::text("code").sep("-"), [l[0], l[1]].map(Value::Hex));
        v.list(Field::text("data").sep("-"), [l[2], l[3]].map(Value::Hex));
        v.list(Field::text("brk").sep("-"), [l[4], l[5]].map(Value::Hex));
        v.hex(Field::text("stack"), l[6]);
        v.hex(Field::new("flags").detail(), self.flags);
        v.hex(Field::new("def_flags").detail(), self.def_flags);
        v.int(Field::new("exe_ref").label("exe"), self.exe_ref);
        v.list(
            Field::new("auxv").detail(),
            self.auxv.iter().map(Value::Uint),
        );
        // CAST: at most `MAX_AUXV`.
        v.uint(Field::text("auxv").suffix(" words"), self.auxv.len() as u64);
        v.uint(Field::new("inherits").detail(), u64::from(self.inherits));
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
    /// Objref of the mapped file's record ([`FileRecord`](crate::FileRecord)) for
    /// [`VmaKind::File`], else 0.
    pub file_ref: i32,
}

impl VmaRecord {
    /// Payload length.
    pub const LEN: usize = 8 * 4 + 4 + 4;

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

impl<'a> Payload<'a> for VmaRecord {
    const BOUNDS: (usize, usize) = (Self::LEN, Self::LEN);

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        e.u64(self.start)?;
        e.u64(self.end)?;
        e.u64(self.flags)?;
        e.u64(self.pgoff)?;
        e.u32(self.kind as u32)?;
        e.i32(self.file_ref)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
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

    fn visit(&self, v: &mut dyn Visitor) {
        // `0x1000-0x3000 rw-p file pgoff 0x0 file 3`
        v.list(
            Field::text("").sep("-"),
            [self.start, self.end].map(Value::Hex),
        );
        v.hex(Field::new("start").detail(), self.start);
        v.hex(Field::new("end").detail(), self.end);
        v.hex(Field::new("flags").detail(), self.flags);
        v.str(Field::new("prot").bare(), &self.prot());
        v.name(Field::new("kind").bare(), self.kind.name());
        v.hex("pgoff", self.pgoff);
        v.int("file", self.file_ref);
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
}

impl<'a> Payload<'a> for PagesRecord<'a> {
    const BOUNDS: (usize, usize) = (
        Self::PREFIX + 8 + 4096,
        Self::PREFIX + MAX_PAGES_PER_RECORD * (8 + MAX_PAGE_SIZE as usize),
    );

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.addrs.len() + self.data.len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        // CAST: bounded by `MAX_PAGES_PER_RECORD` in any valid record.
        e.u32(self.count() as u32)?;
        e.u32(self.page_size)?;
        e.bytes(self.addrs)?;
        e.bytes(self.data)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let mut r = Self::decode_prefix(d)?;
        r.data = d.bytes(r.data_len())?;
        Ok(r)
    }

    fn visit(&self, v: &mut dyn Visitor) {
        // `2 pages 0x10000..0x13000`
        // CAST: at most `MAX_PAGES_PER_RECORD`.
        v.uint(
            Field::new("count").bare().suffix(" pages"),
            self.count() as u64,
        );
        v.uint(Field::new("page_size").detail(), self.page_size);
        v.list(Field::new("addrs").detail(), self.addrs().map(Value::Hex));
        let first = self.addrs().next().unwrap_or(0);
        let last = self.addrs().last().unwrap_or(first);
        v.list(Field::text("").sep(".."), [first, last].map(Value::Hex));
    }
}

/// Most runs of a [`CowRecord`].
pub const MAX_COW_RUNS: usize = 1 << 16;

/// A run of pages of a [`CowRecord`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CowRun {
    /// Address of its first page.
    pub addr: u64,
    /// Number of pages.
    pub pages: u64,
}

impl LeValue for CowRun {
    const SIZE: usize = 16;

    fn read(b: &[u8]) -> Self {
        Self {
            addr: u64::read(b),
            pages: u64::read(b.get(8..).unwrap_or(&[])),
        }
    }

    fn write(self, out: &mut [u8]) {
        self.addr.write(out);
        if let Some(o) = out.get_mut(8..) {
            self.pages.write(o);
        }
    }
}

/// The private area before it (anonymous memory or a file mapping) is its
/// parent's at the same addresses, which a `fork()` at restart shares
/// again copy-on-write: right after its vma record, before its pages
/// records, in an mm whose record says it [`MmRecord::inherits`]. The
/// parent's pages in `runs` are kept, as the task shares them; every other
/// page of the area starts as a new mapping would have it (empty, or the
/// file's), and the pages records that follow hold the task's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CowRecord<'a> {
    /// Increasing, disjoint runs of pages in the area.
    pub runs: LeArray<'a, CowRun>,
}

impl Default for CowRecord<'_> {
    fn default() -> Self {
        Self {
            runs: LeArray::Values(&[]),
        }
    }
}

impl CowRecord<'_> {
    /// Payload length without the runs.
    pub const PREFIX: usize = 8;

    /// Checks that the runs are in `[start, end)`, page-aligned, not
    /// empty, increasing and disjoint.
    pub fn check(&self, start: u64, end: u64, page_size: u64) -> Result<(), FormatError> {
        let mut from = start;
        for r in self.runs.iter() {
            let len = r.pages.checked_mul(page_size);
            let run_end = len.and_then(|l| r.addr.checked_add(l));
            match run_end {
                Some(e) if r.pages > 0 && r.addr >= from && r.addr % page_size == 0 && e <= end => {
                    from = e
                }
                _ => return Err(FormatError::BadValue("cow run")),
            }
        }
        Ok(())
    }
}

impl<'a> Payload<'a> for CowRecord<'a> {
    const BOUNDS: (usize, usize) = (
        Self::PREFIX + CowRun::SIZE,
        Self::PREFIX + CowRun::SIZE * MAX_COW_RUNS,
    );

    fn payload_len(&self) -> usize {
        Self::PREFIX + self.runs.byte_len()
    }

    fn encode(&self, e: &mut Encoder<'_>) -> Result<(), FormatError> {
        // CAST: at most `MAX_COW_RUNS` in a valid record.
        e.u32(self.runs.len() as u32)?;
        e.u32(0)?;
        e.array(&self.runs)
    }

    fn decode(d: &mut Decoder<'a>) -> Result<Self, FormatError> {
        let n = d.u32()? as usize;
        if d.u32()? != 0 {
            return Err(FormatError::BadValue("cow reserved field"));
        }
        if n == 0 || n > MAX_COW_RUNS {
            return Err(FormatError::BadValue("cow run count"));
        }
        Ok(Self { runs: d.array(n)? })
    }

    fn visit(&self, v: &mut dyn Visitor) {
        // CAST: at most `MAX_COW_RUNS`.
        v.uint(Field::new("runs").suffix(" runs"), self.runs.len() as u64);
        v.uint(
            Field::new("pages").suffix(" pages shared"),
            self.runs
                .iter()
                .map(|r| r.pages)
                .fold(0u64, u64::saturating_add),
        );
        v.list(
            Field::new("addrs").detail(),
            self.runs.iter().map(|r| Value::Hex(r.addr)),
        );
    }
}
