// SPDX-License-Identifier: GPL-2.0

//! Rules of the record stream, and a reader of whole images held in memory.
//!
//! [`StreamCheck`] is the one place that knows in which order records may
//! appear (the records of a task: `TASK`) and which objrefs they define and
//! use. The kernel feeds it the
//! records it reads from the image file, the tools feed it records parsed from
//! a buffer by [`Records`].

use crate::{
    check_padding, Arch, FileData, FormatError, Record, RecordHeader, VmaKind, RECORD_HEADER_LEN,
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
    /// A pipe ([`crate::PipeRecord`]).
    Pipe,
    /// An unlinked file ([`crate::UnlinkedRecord`]).
    Unlinked,
    /// Shared memory ([`crate::ShmemRecord`]).
    Shmem,
    /// A descriptor table shared by processes ([`crate::ObjsRecord`]).
    FdTable,
    /// An fs shared by processes ([`crate::ObjsRecord`]).
    Fs,
    /// An mm shared by processes ([`crate::ObjsRecord`]).
    Mm,
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

/// A place in the records of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Task,
    /// The CPU records of the image's architecture, in the order of their
    /// type numbers.
    Arch,
    RestartBlock,
    Signals,
    /// Interval timers of the thread group.
    Timer,
    /// What the process shares with other processes.
    Objs,
    Fs,
    /// Descriptors, in increasing order.
    Fd,
    /// Locks on the files of the descriptors.
    Lock,
    Mm,
    /// Memory areas, in increasing order, each with its pages records.
    Vma,
}

impl Slot {
    /// What is wrong with a record of this slot out of its place.
    fn misplaced(self) -> &'static str {
        match self {
            Slot::Task => "task record before the last task is complete",
            Slot::Arch => "cpu record not right after its task",
            Slot::RestartBlock => "restart block not after the cpu state",
            Slot::Signals => "signals record out of place",
            Slot::Timer => "timer record not after the signals of a process",
            Slot::Objs => "objs record not after the timers of a process",
            Slot::Fs => "fs record out of place",
            Slot::Fd => "fd record out of place",
            Slot::Lock => "lock record not after the descriptors",
            Slot::Mm => "mm record not after its task",
            Slot::Vma => "vma record not after an mm",
        }
    }
}

/// How often a slot comes in a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Count {
    One,
    Optional,
    OneOrMore,
    Many,
}

impl Count {
    fn required(self) -> bool {
        matches!(self, Count::One | Count::OneOrMore)
    }

    fn repeats(self) -> bool {
        matches!(self, Count::OneOrMore | Count::Many)
    }
}

/// The records of one task, in the order the kernel writes them
/// (`checkpoint_task()`) and reads them back (`restore_task()`): the one
/// statement of that order in the format, checked by the kernel and the
/// tools alike. The records of shared objects (credentials, files) are not
/// part of it: they may come anywhere before their first user.
const TASK: [(Slot, Count); 11] = [
    (Slot::Task, Count::One),
    (Slot::Arch, Count::OneOrMore),
    (Slot::RestartBlock, Count::Optional),
    (Slot::Signals, Count::One),
    (Slot::Timer, Count::Many),
    (Slot::Objs, Count::Optional),
    (Slot::Fs, Count::One),
    (Slot::Fd, Count::Many),
    (Slot::Lock, Count::Many),
    (Slot::Mm, Count::One),
    (Slot::Vma, Count::Many),
];

/// The records of a thread that does not lead its group (its task record's
/// tgid is not its pid): the head of [`TASK`]. Its fs, descriptors and
/// memory are its leader's.
const THREAD: &[(Slot, Count)] = TASK.split_at(4).0;

/// The records of a zombie ([`crate::TaskRecord::ZOMBIE`]): its task record.
const ZOMBIE: &[(Slot, Count)] = TASK.split_at(1).0;

/// What kind of task a task record opens, and so which table it follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// A process: a thread group's leader ([`TASK`]).
    Process,
    /// Another thread of a group ([`THREAD`]).
    Thread,
    /// A process that exited and is not reaped ([`ZOMBIE`]).
    Zombie,
}

/// The slot of a record of a task, if it is one.
fn slot_of(rec: &Record<'_>) -> Option<Slot> {
    Some(match rec {
        Record::Task(_) => Slot::Task,
        Record::Arch(_) => Slot::Arch,
        Record::RestartBlock(_) => Slot::RestartBlock,
        Record::Signals(_) => Slot::Signals,
        Record::Timer(_) => Slot::Timer,
        Record::Objs(_) => Slot::Objs,
        Record::Fs(_) => Slot::Fs,
        Record::Fd(_) => Slot::Fd,
        Record::Lock(_) => Slot::Lock,
        Record::Mm(_) => Slot::Mm,
        Record::Vma(_) => Slot::Vma,
        _ => return None,
    })
}

/// The records of a task of shape `shape`.
fn table(shape: Shape) -> &'static [(Slot, Count)] {
    match shape {
        Shape::Process => &TASK,
        Shape::Thread => THREAD,
        Shape::Zombie => ZOMBIE,
    }
}

/// Whether a task whose last record is at `pos` of its table has all the
/// records it needs.
fn complete(t: &TaskPos) -> bool {
    !table(t.shape)[t.pos + 1..]
        .iter()
        .any(|&(s, c)| t.needs(s, c))
}

/// Where the stream is in the memory of the last task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mem {
    /// Before its mm record.
    None,
    /// Areas of the mm, ending at `end`, came so far.
    Areas { end: u64 },
    /// In the area `[start, end)`; pages up to `last` were given. A cow
    /// record may come if `cow`.
    Area {
        start: u64,
        end: u64,
        last: Option<u64>,
        cow: bool,
    },
}

/// Where the stream is in the records of the last task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct TaskPos {
    /// Which records it has.
    shape: Shape,
    /// Index in its table of its last record.
    pos: usize,
    /// Its last descriptor.
    last_fd: i32,
    /// The type number of its last arch record.
    last_arch: u32,
    mem: Mem,
    /// Its fs is another process's ([`crate::ObjsRecord`]): no fs record.
    shares_fs: bool,
    /// Its descriptor table is another process's: no fd or lock records.
    shares_files: bool,
    /// Its mm is another process's: no mm, area or page records.
    shares_mm: bool,
    /// Its mm record says some areas are its parent's (cow records).
    inherits: bool,
}

impl TaskPos {
    /// Whether records of `slot`, which come `count` times in a task,
    /// must come in this one.
    fn needs(&self, slot: Slot, count: Count) -> bool {
        count.required() && self.has(slot)
    }

    /// Whether records of `slot` may come in this task at all.
    fn has(&self, slot: Slot) -> bool {
        match slot {
            Slot::Fs => !self.shares_fs,
            Slot::Fd | Slot::Lock => !self.shares_files,
            Slot::Mm | Slot::Vma => !self.shares_mm,
            _ => true,
        }
    }
}

/// Checks the order of records and their objrefs, one record at a time.
#[derive(Debug)]
pub struct StreamCheck {
    state: State,
    /// The number of tasks the tree record lists, once it is read.
    tree: Option<usize>,
    /// The record before was the tree record.
    after_tree: bool,
    tasks: usize,
    page_size: u32,
    arch: Option<Arch>,
    task: Option<TaskPos>,
    /// The unlinked file or shared memory whose contents records must come
    /// next: its objref, where the next one starts, and its size.
    contents: Option<(i32, u64, u64)>,
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
            tree: None,
            after_tree: false,
            tasks: 0,
            page_size: 0,
            arch: None,
            task: None,
            contents: None,
        }
    }

    /// In the area of the last task: pages up to `last` were given, and
    /// its cow record, if any, came.
    fn in_area(&mut self, last: Option<u64>) {
        if let Some(TaskPos {
            mem: Mem::Area { last: l, cow, .. },
            ..
        }) = &mut self.task
        {
            *l = last;
            *cow = false;
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
        // Contents records continue the record right before them, up to
        // its size.
        if let Some((objref, at, size)) = self.contents {
            let Record::Contents(c) = rec else {
                return Err(FormatError::Order("contents record missing").into());
            };
            // CAST: at most `ContentsRecord::MAX_DATA`.
            let end = at + c.data.len() as u64;
            if c.objref != objref || c.offset != at || end > size {
                return Err(FormatError::Order("contents record out of place").into());
            }
            self.contents = (end < size).then_some((objref, end, size));
            return Ok(());
        }
        if let Record::Contents(_) = rec {
            return Err(FormatError::Order("contents record not after its object").into());
        }
        let after_tree = core::mem::replace(&mut self.after_tree, false);
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
            (_, Record::Arch(a)) if self.arch != Some(a.arch()) => {
                Err(FormatError::BadValue("cpu record of another architecture").into())
            }
            (_, Record::File(f)) => {
                match f.data {
                    FileData::Pipe { pipe } => use_ref(objs, pipe, ObjKind::Pipe)?,
                    FileData::Unlinked { inode } => use_ref(objs, inode, ObjKind::Unlinked)?,
                    FileData::Shmem { shmem } => use_ref(objs, shmem, ObjKind::Shmem)?,
                    FileData::Epoll { watches } => {
                        for w in watches.iter() {
                            use_ref(objs, w.objref, ObjKind::File)?;
                        }
                    }
                    _ => {}
                }
                define(objs, f.objref, ObjKind::File)
            }
            (_, Record::Pipe(p)) => define(objs, p.objref, ObjKind::Pipe),
            (_, Record::Unlinked(u)) => {
                define(objs, u.objref, ObjKind::Unlinked)?;
                self.expect_contents(u.objref, u.data, u.size);
                Ok(())
            }
            (_, Record::Shmem(m)) => {
                define(objs, m.objref, ObjKind::Shmem)?;
                self.expect_contents(m.objref, m.data, m.size);
                Ok(())
            }
            (_, Record::Cow(c)) => {
                let Some(TaskPos {
                    mem:
                        Mem::Area {
                            start,
                            end,
                            last,
                            cow: true,
                        },
                    ..
                }) = self.task
                else {
                    return Err(FormatError::Order(
                        "cow record not right after a private vma of an mm that inherits",
                    )
                    .into());
                };
                c.check(start, end, u64::from(self.page_size))?;
                self.in_area(last);
                Ok(())
            }
            (_, Record::Pages(p)) => {
                let Some(TaskPos {
                    mem:
                        Mem::Area {
                            start, end, last, ..
                        },
                    ..
                }) = self.task
                else {
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
                self.in_area(last);
                Ok(())
            }
            (_, Record::Tree(t)) => {
                if self.tree.is_some() || self.tasks > 0 {
                    return Err(FormatError::Order("tree record not before the tasks").into());
                }
                self.tree = Some(t.tasks.len());
                self.after_tree = true;
                Ok(())
            }
            (_, Record::Pidns(p)) => {
                if !after_tree {
                    return Err(FormatError::Order("pidns record not right after the tree").into());
                }
                if self.tree != Some(p.tasks.len()) {
                    return Err(FormatError::BadValue("pidns task count").into());
                }
                Ok(())
            }
            (_, r @ Record::Task(_)) => {
                if self.task.is_some_and(|t| !complete(&t)) {
                    return Err(FormatError::Order(Slot::Task.misplaced()).into());
                }
                match self.tree {
                    None => return Err(FormatError::Order("task record before the tree").into()),
                    Some(n) if self.tasks == n => {
                        return Err(FormatError::Order("more tasks than the tree lists").into())
                    }
                    Some(_) => {}
                }
                self.tasks += 1;
                self.task = Some(TaskPos {
                    shape: match r {
                        Record::Task(t) if t.is_zombie() => Shape::Zombie,
                        Record::Task(t) if t.tgid != t.pid => Shape::Thread,
                        _ => Shape::Process,
                    },
                    pos: 0,
                    last_fd: -1,
                    last_arch: 0,
                    mem: Mem::None,
                    shares_fs: false,
                    shares_files: false,
                    shares_mm: false,
                    inherits: false,
                });
                self.task_record(r, objs)
            }
            (_, Record::Tail(_)) => {
                if self.tasks == 0 {
                    return Err(FormatError::Order("image has no task").into());
                }
                if self.task.is_some_and(|t| !complete(&t)) {
                    return Err(FormatError::Order("image ends in the middle of a task").into());
                }
                if self.tree != Some(self.tasks) {
                    return Err(FormatError::Order("fewer tasks than the tree lists").into());
                }
                self.state = State::Done;
                Ok(())
            }
            (_, r) => self.task_record(r, objs),
        }
    }

    /// After the record of object `objref` with the first bytes `head` of
    /// its `size`: contents records must follow with the rest.
    fn expect_contents(&mut self, objref: i32, head: &[u8], size: u64) {
        // CAST: at most `MAX_UNLINKED`.
        let at = head.len() as u64;
        self.contents = (at < size).then_some((objref, at, size));
    }

    /// Checks a record of the current task against its place in [`TASK`]
    /// and the records of the task before it.
    fn task_record<T: ObjTable + ?Sized>(
        &mut self,
        rec: &Record<'_>,
        objs: &mut T,
    ) -> Result<(), T::Error> {
        let slot = slot_of(rec).ok_or(FormatError::Order("record out of place"))?;
        let Some(t) = &mut self.task else {
            return Err(FormatError::Order(slot.misplaced()).into());
        };
        let table = table(t.shape);
        let Some(at) = table.iter().position(|(s, _)| *s == slot) else {
            return Err(FormatError::Order(match t.shape {
                Shape::Zombie => "record of a live task in a zombie",
                _ => "record of a process in a thread that shares it",
            })
            .into());
        };
        // Forward only, a slot that comes once only once, and no slot
        // that must come skipped.
        let again = at == t.pos && slot != Slot::Task;
        if at < t.pos
            || (again && !table[at].1.repeats())
            || table[t.pos + 1..at.max(t.pos + 1)]
                .iter()
                .any(|&(s, c)| t.needs(s, c))
        {
            return Err(FormatError::Order(slot.misplaced()).into());
        }
        if !t.has(slot) {
            return Err(
                FormatError::Order("record of what the process shares with another").into(),
            );
        }
        match rec {
            Record::Task(task) => use_ref(objs, task.cred_ref, ObjKind::Cred)?,
            Record::Arch(a) => {
                let ty = a.ty() as u32;
                if again && ty <= t.last_arch {
                    return Err(FormatError::Order("cpu records out of order").into());
                }
                t.last_arch = ty;
            }
            Record::Fd(f) => {
                if again && f.fd <= t.last_fd {
                    return Err(FormatError::Order("fd records not in increasing order").into());
                }
                use_ref(objs, f.objref, ObjKind::File)?;
                t.last_fd = f.fd;
            }
            Record::Lock(l) => use_ref(objs, l.objref, ObjKind::File)?,
            Record::Objs(o) => {
                // The first process to name one defines it; later ones
                // share it, and have no records of it.
                let named = [
                    (o.files_ref, ObjKind::FdTable),
                    (o.fs_ref, ObjKind::Fs),
                    (o.mm_ref, ObjKind::Mm),
                ];
                for (objref, kind) in named {
                    if objref == 0 {
                        continue;
                    }
                    let shared = objs.kind_of(objref).is_some();
                    if shared {
                        use_ref(objs, objref, kind)?;
                    } else {
                        define(objs, objref, kind)?;
                    }
                    match kind {
                        ObjKind::FdTable => t.shares_files = shared,
                        ObjKind::Mm => t.shares_mm = shared,
                        _ => t.shares_fs = shared,
                    }
                }
            }
            Record::Mm(m) => {
                if m.exe_ref != 0 {
                    use_ref(objs, m.exe_ref, ObjKind::File)?;
                }
                t.mem = Mem::Areas { end: 0 };
                t.inherits = m.inherits;
            }
            Record::Vma(v) => {
                let prev_end = match t.mem {
                    Mem::Areas { end } | Mem::Area { end, .. } => end,
                    Mem::None => {
                        return Err(FormatError::Order("vma record not after an mm").into())
                    }
                };
                let ps = u64::from(self.page_size);
                if v.start < prev_end || v.start % ps != 0 || v.end % ps != 0 {
                    return Err(FormatError::BadValue("vma range").into());
                }
                if v.kind == VmaKind::File {
                    use_ref(objs, v.file_ref, ObjKind::File)?;
                }
                t.mem = Mem::Area {
                    start: v.start,
                    end: v.end,
                    last: None,
                    cow: t.inherits && matches!(v.kind, VmaKind::Anon | VmaKind::File),
                };
            }
            _ => {}
        }
        t.pos = at;
        Ok(())
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
