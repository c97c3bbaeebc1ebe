// SPDX-License-Identifier: GPL-2.0

//! Rules of the record stream, and a reader of whole images held in memory.
//!
//! [`StreamCheck`] is the one place that knows in which order records may
//! appear and which objrefs they define and use. The kernel feeds it the
//! records it reads from the image file, the tools feed it records parsed from
//! a buffer by [`Records`].

use crate::{
    check_padding, Arch, ArchRecord, FormatError, Record, RecordHeader, VmaKind, RECORD_HEADER_LEN,
};

/// An [`ObjTable`] for user space: the objrefs of one image, in a map.
#[cfg(feature = "std")]
#[derive(Debug, Default)]
pub struct ObjMap(std::collections::BTreeMap<i32, ObjKind>);

#[cfg(feature = "std")]
impl ObjTable for ObjMap {
    type Error = FormatError;

    fn define(&mut self, objref: i32, kind: ObjKind) -> Result<(), FormatError> {
        self.0.insert(objref, kind);
        Ok(())
    }

    fn kind_of(&self, objref: i32) -> Option<ObjKind> {
        self.0.get(&objref).copied()
    }
}

/// Kinds of shared objects, named by objrefs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjKind {
    /// Credentials ([`crate::CredRecord`]).
    Cred,
    /// An open file ([`crate::FileRecord`]).
    File,
}

/// Bookkeeping of the objrefs seen in a stream.
///
/// The kernel implements it with its object hash, the tools with a map.
pub trait ObjTable {
    /// What [`ObjTable::define`] fails with (the kernel's may not allocate).
    type Error: From<FormatError>;

    /// Records that `objref`, not yet defined, names an object of kind `kind`.
    fn define(&mut self, objref: i32, kind: ObjKind) -> Result<(), Self::Error>;

    /// Returns the kind of `objref`, if it is defined.
    fn kind_of(&self, objref: i32) -> Option<ObjKind>;
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Start,
    Body,
    Done,
}

/// Where the stream is in the records of the last task.
///
/// A task's records come in this order: task, cpu, xstate, restart block,
/// signals, fs, files and descriptors, then its mm with its areas and their
/// pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mem {
    /// No task yet.
    Closed,
    /// The task's records before its mm; `step` is the last one seen
    /// (see [`step_of`]), `last_fd` the last descriptor.
    Task { step: u8, last_fd: i32 },
    /// Areas of the mm, ending at `end`, came so far.
    Areas { end: u64 },
    /// In the area `[start, end)`; pages up to `last` were given.
    Area {
        start: u64,
        end: u64,
        last: Option<u64>,
    },
}

/// The place of a per-task record before the mm, and the places that may
/// come right before it.
fn step_of(rec: &Record<'_>) -> Option<(u8, &'static [u8], &'static str)> {
    Some(match rec {
        Record::Arch(ArchRecord::X86_64Cpu(_)) => (1, &[0], "cpu record not right after its task"),
        Record::Arch(ArchRecord::X86Xstate(_)) => (2, &[1], "xstate record not after a cpu record"),
        Record::RestartBlock(_) => (3, &[1, 2], "restart block not after the cpu state"),
        Record::Signals(_) => (4, &[0, 1, 2, 3], "signals record out of place"),
        Record::Fs(_) => (5, &[0, 1, 2, 3, 4], "fs record out of place"),
        Record::File(_) | Record::Fd(_) => (6, &[0, 1, 2, 3, 4, 5, 6], "file record out of place"),
        _ => return None,
    })
}

/// Checks the order of records and their objrefs, one record at a time.
#[derive(Debug)]
pub struct StreamCheck {
    state: State,
    tasks: u32,
    page_size: u32,
    arch: Option<Arch>,
    mem: Mem,
}

impl Default for StreamCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamCheck {
    /// Creates a checker for a new stream.
    pub fn new() -> Self {
        Self {
            state: State::Start,
            tasks: 0,
            page_size: 0,
            arch: None,
            mem: Mem::Closed,
        }
    }

    /// Returns true once the tail record was accepted.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Checks the next record of the stream against what came before it.
    pub fn next<T: ObjTable + ?Sized>(
        &mut self,
        rec: &Record<'_>,
        objs: &mut T,
    ) -> Result<(), T::Error> {
        match (self.state, rec) {
            (State::Done, _) => Err(FormatError::Order("record after the tail").into()),
            (State::Start, Record::Header(h)) => {
                self.state = State::Body;
                self.page_size = h.page_size;
                self.arch = Some(h.arch);
                Ok(())
            }
            (State::Start, _) => {
                Err(FormatError::Order("image does not start with a header").into())
            }
            (_, Record::Header(_)) => Err(FormatError::Order("second header").into()),
            (_, Record::Error(e)) => Err(FormatError::CheckpointFailed(e.errno).into()),
            (_, Record::Cred(c)) => define(objs, c.objref, ObjKind::Cred),
            (_, Record::Task(t)) => {
                use_ref(objs, t.cred_ref, ObjKind::Cred)?;
                self.tasks += 1;
                self.mem = Mem::Task {
                    step: 0,
                    last_fd: -1,
                };
                Ok(())
            }
            (_, Record::Arch(a)) if self.arch != Some(a.arch()) => {
                Err(FormatError::BadValue("cpu record of another architecture").into())
            }
            (_, Record::Fd(f)) => {
                let Mem::Task { step, last_fd } = self.mem else {
                    return Err(FormatError::Order("fd record not after its task").into());
                };
                if step > 6 || (step == 6 && f.fd <= last_fd) {
                    return Err(FormatError::Order("fd records not in increasing order").into());
                }
                use_ref(objs, f.objref, ObjKind::File)?;
                self.mem = Mem::Task {
                    step: 6,
                    last_fd: f.fd,
                };
                Ok(())
            }
            (
                _,
                r @ (Record::Arch(_)
                | Record::RestartBlock(_)
                | Record::Signals(_)
                | Record::Fs(_)
                | Record::File(_)),
            ) => {
                let (place, after, what) = step_of(r).ok_or(FormatError::Order("record"))?;
                let Mem::Task { step, last_fd } = self.mem else {
                    return Err(FormatError::Order(what).into());
                };
                if !after.contains(&step) {
                    return Err(FormatError::Order(what).into());
                }
                if let Record::File(f) = r {
                    define(objs, f.objref, ObjKind::File)?;
                }
                self.mem = Mem::Task {
                    step: place,
                    last_fd: if place == 6 { last_fd } else { -1 },
                };
                Ok(())
            }
            (_, Record::Mm(m)) => {
                if !matches!(self.mem, Mem::Task { .. }) {
                    return Err(FormatError::Order("mm record not after its task").into());
                }
                if m.exe_ref != 0 {
                    use_ref(objs, m.exe_ref, ObjKind::File)?;
                }
                self.mem = Mem::Areas { end: 0 };
                Ok(())
            }
            (_, Record::Vma(v)) => {
                let prev_end = match self.mem {
                    Mem::Areas { end } | Mem::Area { end, .. } => end,
                    _ => return Err(FormatError::Order("vma record not after an mm").into()),
                };
                let ps = u64::from(self.page_size);
                if v.start < prev_end || v.start % ps != 0 || v.end % ps != 0 {
                    return Err(FormatError::BadValue("vma range").into());
                }
                if v.kind == VmaKind::File {
                    use_ref(objs, v.file_ref, ObjKind::File)?;
                }
                self.mem = Mem::Area {
                    start: v.start,
                    end: v.end,
                    last: None,
                };
                Ok(())
            }
            (_, Record::Pages(p)) => {
                let Mem::Area { start, end, last } = self.mem else {
                    return Err(FormatError::Order("pages record not after a vma").into());
                };
                if p.page_size != self.page_size {
                    return Err(FormatError::BadValue("page size").into());
                }
                let mut last = last;
                for a in p.addrs() {
                    if a < start || a >= end || last.is_some_and(|l| a <= l) {
                        return Err(FormatError::BadValue("page address").into());
                    }
                    last = Some(a);
                }
                self.mem = Mem::Area { start, end, last };
                Ok(())
            }
            (_, Record::Tail(_)) => {
                if self.tasks == 0 {
                    return Err(FormatError::Order("image has no task").into());
                }
                self.state = State::Done;
                Ok(())
            }
        }
    }
}

fn define<T: ObjTable + ?Sized>(objs: &mut T, objref: i32, kind: ObjKind) -> Result<(), T::Error> {
    if objref <= 0 {
        return Err(FormatError::BadObjref(objref).into());
    }
    if objs.kind_of(objref).is_some() {
        return Err(FormatError::DuplicateObjref(objref).into());
    }
    objs.define(objref, kind)
}

fn use_ref<T: ObjTable + ?Sized>(objs: &T, objref: i32, kind: ObjKind) -> Result<(), FormatError> {
    if objref <= 0 {
        return Err(FormatError::BadObjref(objref));
    }
    match objs.kind_of(objref) {
        Some(k) if k == kind => Ok(()),
        Some(_) => Err(FormatError::WrongObjKind(objref)),
        None => Err(FormatError::MissingObjref(objref)),
    }
}

/// One record found by [`Records`].
#[derive(Clone, Copy, Debug)]
pub struct Item<'a> {
    /// Offset of the record in the image.
    pub offset: usize,
    /// Its header.
    pub header: RecordHeader,
    /// The decoded record.
    pub record: Record<'a>,
}

/// Iterates over the records of an image held in memory.
///
/// It checks each record on its own; pass them to [`StreamCheck`] to check the
/// stream. It stops after the first error.
pub struct Records<'a> {
    buf: &'a [u8],
    pos: usize,
    failed: bool,
}

impl<'a> Records<'a> {
    /// Creates an iterator over the image `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Self {
            buf,
            pos: 0,
            failed: false,
        }
    }

    /// Returns the offset of the next record.
    pub fn offset(&self) -> usize {
        self.pos
    }

    fn read(&mut self) -> Result<Item<'a>, FormatError> {
        let rest = &self.buf[self.pos..];
        let hdr_bytes: &[u8; RECORD_HEADER_LEN] = rest
            .get(..RECORD_HEADER_LEN)
            .and_then(|b| b.try_into().ok())
            .ok_or(FormatError::Truncated)?;
        let header = RecordHeader::decode(hdr_bytes)?;
        let len = header.len as usize;
        let total = len + header.padding();
        let rec = rest.get(..total).ok_or(FormatError::Truncated)?;
        check_padding(&rec[len..])?;
        let record = Record::decode(&header, &rec[RECORD_HEADER_LEN..len])?;
        let offset = self.pos;
        self.pos += total;
        Ok(Item {
            offset,
            header,
            record,
        })
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Item<'a>, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.pos >= self.buf.len() {
            return None;
        }
        let r = self.read();
        self.failed = r.is_err();
        Some(r)
    }
}

/// Reads and checks a whole image held in memory.
///
/// Calls `each` for every record, in order, and fails on the first record that
/// is invalid or out of order, or if the image ends before its tail. Returns
/// the length of the image (bytes after the tail are not read).
pub fn validate<'a, T: ObjTable + ?Sized>(
    buf: &'a [u8],
    objs: &mut T,
    mut each: impl FnMut(&Item<'a>),
) -> Result<usize, (usize, T::Error)> {
    let mut check = StreamCheck::new();
    let mut records = Records::new(buf);
    while !check.is_done() {
        let offset = records.offset();
        let item = match records.next() {
            Some(Ok(item)) => item,
            Some(Err(e)) => return Err((offset, e.into())),
            None => return Err((offset, FormatError::Truncated.into())),
        };
        each(&item);
        check.next(&item.record, objs).map_err(|e| (offset, e))?;
    }
    Ok(records.offset())
}
