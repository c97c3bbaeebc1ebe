// SPDX-License-Identifier: GPL-2.0

//! Memory: checkpoint and restore.
//!
//! An mm is written as an mm record (layout fields, flags, saved auxiliary
//! vector), then one vma record per area, each followed by the contents of
//! its populated pages that the restarting kernel cannot find elsewhere:
//! every populated page of a private anonymous area, and the pages of a
//! private file mapping that were written since it was mapped. A file
//! mapping names its file by objref: the files that the mm maps (and its
//! executable) are written before the mm record, so that restart reopens
//! them before it releases the caller's memory. The vDSO is mapped anew at
//! restart, by the architecture.
//!
//! Each kind of area is a module with an [`AreaOps`] table (recognize,
//! which pages to save, map at restart), listed in [`KINDS`]; an area of
//! no listed kind refuses the checkpoint with `EOPNOTSUPP`.
//!
//! Pages are taken from the target's mm with `get_user_pages_remote()` in
//! batches, under the mmap lock, which is dropped before the image is written.

mod anon;
mod cow;
mod file;
mod vdso;

use crate::{
    ctx::{Ctx, RecordBuf},
    files::{self, OpenFile},
    objhash::Shared,
    sys::{
        eopnotsupp,
        file::File,
        mm::{current as mcur, read_pages_at, Mm, Special, UserPage, Vma, GUP_BATCH},
        signal::current as signals,
        task::Task,
        uts,
    },
};
use ckpt_format::{
    stream::ObjKind, vm, CowRecord, CowRun, LeArray, MmRecord, PagesRecord, Record, VmaKind,
    VmaRecord,
};
use kernel::{
    bindings, new_condvar, new_mutex,
    prelude::*,
    sync::{Arc, CondVar, Mutex},
    types::ARef,
    workqueue,
};

/// An mm that processes share (`clone(CLONE_VM)`, `vfork()`): named by
/// their objs records, saved with the first.
impl Shared for Mm {
    const KIND: ObjKind = ObjKind::Mm;

    fn addr(&self) -> usize {
        Mm::addr(self)
    }

    /// One user is the hash's; each thread that uses it is one.
    fn kernel_refs(&self) -> Option<u64> {
        Some(self.users().saturating_sub(1))
    }
}

/// Writes the memory of `task`, whose areas may share pages copy-on-write
/// with those of `parent`, its parent in the image.
pub(crate) fn checkpoint_mm(ctx: &mut Ctx, task: &Task, pid: i32, parent: Option<&Task>) -> Result {
    let Some(mm) = Mm::of_task(task) else {
        return Err(ctx.fail(ESRCH, 0, format_args!("pid {pid}: task has no memory")));
    };
    let parent = match parent.and_then(Mm::of_task) {
        Some(p) => Some(cow::Parent::new(p)?),
        None => None,
    };
    // Snapshot the areas, then write them without holding the mmap lock.
    let areas = mm.read_lock().areas()?;
    // The files first: the executable, if it can be saved (else none is
    // named), then those of the file mappings.
    let exe_ref = match mm.exe_file() {
        Some(f) => files::checkpoint_mapped(ctx, f)?.unwrap_or(0),
        None => 0,
    };
    let mut kinds = KVec::with_capacity(areas.len(), GFP_KERNEL_ACCOUNT)?;
    for v in &areas {
        let ops = kind_of(ctx, v)?;
        // Private memory over the parent's may share its pages.
        let cow = parent.as_ref().filter(|p| p.covers(v));
        kinds.push((ops, (ops.prepare)(ctx, v)?, cow), GFP_KERNEL_ACCOUNT)?;
    }
    let f = mm.fields();
    // The saved auxiliary vector up to and including its AT_NULL pair.
    let words = f
        .auxv
        .chunks_exact(2)
        .position(|pair| pair[0] == 0)
        .map_or(f.auxv.len(), |i| 2 * i + 2);
    ctx.write_record(&Record::Mm(MmRecord {
        layout: f.layout,
        flags: f.flags,
        def_flags: f.def_flags,
        exe_ref,
        inherits: kinds.iter().any(|k| k.2.is_some()),
        auxv: LeArray::Values(&f.auxv[..words]),
    }))?;
    let mut pages = 0;
    for (v, (ops, file_ref, cow)) in areas.iter().zip(kinds.iter()) {
        pages += checkpoint_vma(ctx, &mm, v, ops, *file_ref, *cow)?;
    }
    ctx.log(format_args!(
        "pid {pid}: {} memory areas, {pages} pages",
        areas.len()
    ));
    Ok(())
}

/// Which pages of an area the image holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pages {
    /// Every populated page.
    All,
    /// The populated pages that are anonymous: those written since a file
    /// was mapped privately.
    Anon,
    /// None: the restarting kernel finds them elsewhere.
    None,
}

/// One kind of memory area, and how it is checkpointed and restored.
pub(crate) struct AreaOps {
    /// The kind in the image.
    kind: VmaKind,
    /// Whether an area is of this kind.
    recognize: fn(&Vma) -> bool,
    /// Checkpoint: writes what the area needs before the mm record (the
    /// file it maps); returns the objref its vma record names, or 0.
    prepare: fn(&mut Ctx, &Vma) -> Result<i32>,
    /// Which of its pages the image holds.
    pages: fn(&Vma) -> Pages,
    /// Restart: maps the area of a record; returns whether pages records
    /// may follow it.
    restore: fn(&mut Ctx, &VmaRecord, &mut Areas) -> Result<bool>,
}

/// The kinds of areas that can be checkpointed: one line per kind.
const KINDS: &[&AreaOps] = &[&anon::OPS, &file::OPS, &vdso::VVAR, &vdso::VDSO];

/// Returns the ops of the kind of `v`, or refuses it (`EOPNOTSUPP` and an
/// error record naming it).
fn kind_of(ctx: &mut Ctx, v: &Vma) -> Result<&'static AreaOps> {
    let odd = u64::from(bindings::VM_IO | bindings::VM_PFNMAP | bindings::VM_HUGETLB);
    let what = match v.special {
        Special::Other => "special mapping",
        // The vDSO data is VM_IO | VM_PFNMAP too: it is a kind of its own.
        Special::No if v.flags & odd != 0 => "device or hugetlb mapping",
        _ => match KINDS.iter().copied().find(|k| (k.recognize)(v)) {
            Some(k) => return Ok(k),
            None if v.file.is_none() => "anonymous memory without a file",
            None => "mapping",
        },
    };
    Err(unsupported(ctx, v, what))
}

/// Refuses area `v`: `EOPNOTSUPP`, and an error record saying `what`.
fn unsupported(ctx: &mut Ctx, v: &Vma, what: &str) -> Error {
    ctx.fail(
        eopnotsupp(),
        0,
        format_args!(
            "memory area {:#x}-{:#x}: {what} not supported",
            v.start, v.end
        ),
    )
}

/// Writes one area and its pages, but for those it shares with `parent`;
/// returns the number of pages written.
fn checkpoint_vma(
    ctx: &mut Ctx,
    mm: &Mm,
    v: &Vma,
    ops: &AreaOps,
    file_ref: i32,
    parent: Option<&cow::Parent>,
) -> Result<u64> {
    ctx.write_record(&Record::Vma(VmaRecord {
        start: v.start,
        end: v.end,
        flags: v.flags,
        pgoff: v.pgoff,
        kind: ops.kind,
        file_ref,
    }))?;
    let shared = match parent {
        Some(p) => cow::checkpoint(ctx, mm, p, v)?,
        None => KVVec::new(),
    };
    match (ops.pages)(v) {
        Pages::All => write_pages(ctx, mm, v, false, &shared),
        Pages::Anon => write_pages(ctx, mm, v, true, &shared),
        Pages::None => Ok(0),
    }
}

/// Writes the populated pages of `v` (with `only_anon`, only those written
/// since a file was mapped), but for those in the runs of `shared`;
/// returns how many.
fn write_pages(ctx: &mut Ctx, mm: &Mm, v: &Vma, only_anon: bool, shared: &[CowRun]) -> Result<u64> {
    let page = u64::from(uts::page_size());
    let mut addr = v.start;
    let mut written = 0;
    let mut next_run = 0;
    while addr < v.end {
        // Pages it shares with its parent are not even read.
        let stop = match cow::place(shared, &mut next_run, addr) {
            cow::Place::In(end) => {
                addr = end;
                continue;
            }
            cow::Place::Before(start) => start.min(v.end),
        };
        let mut batch = KVec::new();
        // CAST: an area spans fewer than 2^52 pages.
        let max = ((stop - addr) / page) as usize;
        let got = {
            let guard = mm.read_lock();
            let got = guard.get_pages(addr, max, false, &mut batch)?;
            if got == 0 {
                // A hole, or the zero page: nothing to save. Go on at the
                // next page that has a page table entry, so that the cost
                // is in what is populated, not in the size of the area.
                addr = guard.next_populated(addr + page, v.end);
                continue;
            }
            got
        };
        let mut addrs = [0u64; GUP_BATCH];
        let mut keep: KVec<&UserPage> = KVec::with_capacity(got, GFP_KERNEL_ACCOUNT)?;
        for (i, p) in batch.iter().enumerate() {
            if !only_anon || p.is_anon() {
                addrs[keep.len()] = addr + i as u64 * page;
                keep.push(p, GFP_KERNEL_ACCOUNT)?;
            }
        }
        if !keep.is_empty() {
            ctx.write_pages(&addrs[..keep.len()], &keep)?;
            written += keep.len() as u64;
        }
        addr += got as u64 * page;
    }
    Ok(written)
}

/// What restart sets of an mm at the end.
pub(crate) struct MmState {
    layout: [u64; 11],
    auxv: KVec<u64>,
    exe: Option<ARef<File>>,
    /// Runs of pages whose contents are read later ([`MmState::fill`]):
    /// address, count and offset in the image.
    deferred: KVVec<(u64, usize, i64)>,
}

/// The state of the areas of an mm while they are restored.
pub(crate) struct Areas {
    mm: Mm,
    /// The vDSO data area, mapped with the vDSO text that follows it.
    vvar: Option<(u64, u64)>,
    count: u32,
    pages: u64,
}

/// Reads the mm of a task: checks its record, then releases all of the
/// caller's memory (the point of no return) and maps the areas of the
/// image, with their pages. With `from_parent`, the caller was made by its
/// parent in the image once that parent's memory was whole, and keeps the
/// areas of it that the image says it shares.
pub(crate) fn restore_mm(ctx: &mut Ctx, buf: &mut RecordBuf, from_parent: bool) -> Result<MmState> {
    // The files it maps come before it: reopened while a failure still
    // returns to the caller.
    let rec = ctx.read::<MmRecord<'_>>(buf)?;
    let inherits = rec.inherits;
    if inherits && !from_parent {
        ctx.log(format_args!(
            "an mm that shares its parent's memory, of a task made without it"
        ));
        return Err(EINVAL);
    }
    let mut auxv = KVec::with_capacity(rec.auxv.len(), GFP_KERNEL_ACCOUNT)?;
    for w in rec.auxv.iter() {
        auxv.push(w, GFP_KERNEL_ACCOUNT)?;
    }
    let exe = match rec.exe_ref {
        0 => None,
        r => Some(ctx.fetch::<OpenFile>(r)?.file),
    };
    let mut state = MmState {
        layout: rec.layout,
        auxv,
        exe,
        deferred: KVVec::new(),
    };
    let mut areas = Areas {
        mm: Mm::current().ok_or(ESRCH)?,
        vvar: None,
        count: 0,
        pages: 0,
    };
    ctx.log(format_args!(
        "releasing the caller's memory: a failure kills it, only SIGKILL ends the restart now"
    ));
    ctx.hold_signals();
    let released = match inherits {
        true => cow::release_all_but_private(),
        false => mcur::unmap_all(),
    };
    released.inspect_err(|e| {
        ctx.log(format_args!(
            "cannot unmap the caller (errno {})",
            -e.to_errno()
        ))
    })?;
    let mut kept = KVVec::new();
    while let Some(v) = ctx.read_if::<VmaRecord>(buf)? {
        let shared = ctx.read_if::<CowRecord<'_>>(buf)?;
        let writable = restore_vma(ctx, &v, shared.as_ref(), &mut areas)?;
        if inherits {
            kept.push((v.start, v.end), GFP_KERNEL_ACCOUNT)?;
        }
        while let Some(p) = ctx.read_if::<PagesRecord<'_>>(buf)? {
            if !writable {
                ctx.log(format_args!("pages for an area that has none of its own"));
                return Err(EINVAL);
            }
            restore_pages(ctx, &p, &mut areas, &mut state.deferred)?;
        }
    }
    if inherits {
        cow::unmap_rest(&kept)?;
    }
    ctx.log(format_args!(
        "mm: {} memory areas, {} pages",
        areas.count, areas.pages
    ));
    Ok(state)
}

/// `madvise()` advice that restores each `VM_*` flag set by one.
const ADVICE: [(u64, i32); 5] = [
    (bindings::VM_DONTCOPY as u64, 10),   // MADV_DONTFORK
    (bindings::VM_DONTDUMP as u64, 16),   // MADV_DONTDUMP
    (bindings::VM_WIPEONFORK as u64, 18), // MADV_WIPEONFORK
    (bindings::VM_RAND_READ as u64, 1),   // MADV_RANDOM
    (bindings::VM_SEQ_READ as u64, 2),    // MADV_SEQUENTIAL
];

/// Maps one memory area of the image, or keeps its parent's that it
/// `shared`; returns whether pages of its own may follow.
fn restore_vma(
    ctx: &mut Ctx,
    v: &VmaRecord,
    shared: Option<&CowRecord<'_>>,
    areas: &mut Areas,
) -> Result<bool> {
    let ops = KINDS.iter().find(|k| k.kind == v.kind).ok_or(EINVAL)?;
    let r = match shared {
        // Its parent's, kept: its own pages may follow.
        Some(rec) => cow::restore(ctx, v, rec).map(|()| true),
        None => (ops.restore)(ctx, v, areas),
    };
    if let Err(e) = &r {
        ctx.log(format_args!(
            "memory area {:#x}-{:#x} ({}): cannot map (errno {})",
            v.start,
            v.end,
            v.kind.name(),
            -e.to_errno()
        ));
    }
    areas.count += 1;
    r
}

/// The `mmap()` protection and flags that map the area of `v` again as it
/// was (without `MAP_SHARED`/`MAP_PRIVATE`).
fn map_args(v: &VmaRecord) -> (u32, u32) {
    // CAST: the protection bits are the low three of both.
    let prot = (v.flags & (vm::READ | vm::WRITE | vm::EXEC)) as u32;
    let mut flags = mcur::MAP_FIXED;
    if v.flags & u64::from(bindings::VM_GROWSDOWN) != 0 {
        flags |= mcur::MAP_GROWSDOWN;
    }
    if v.flags & u64::from(bindings::VM_NORESERVE) != 0 {
        flags |= mcur::MAP_NORESERVE;
    }
    // Locked again as mmap(MAP_LOCKED) locks: within RLIMIT_MEMLOCK, or
    // with CAP_IPC_LOCK.
    if v.flags & u64::from(bindings::VM_LOCKED) != 0 {
        flags |= mcur::MAP_LOCKED;
    }
    (prot, flags)
}

/// Gives the area of `v` the `madvise()` flags it had.
fn advise(v: &VmaRecord) -> Result {
    for (bit, advice) in ADVICE {
        if v.flags & bit != 0 {
            mcur::madvise(v.start, v.end - v.start, advice)?;
        }
    }
    Ok(())
}

/// Skipped pages past which [`MmState::fill`] takes a helper.
const SPLIT_FILL: usize = 2048;

/// Reads the contents of `runs` (address, pages, offset) from `image` into
/// the pages of `mm`, as [`read_pages_at`] with `hold`, until `stop()`.
fn fill_runs(
    mm: &Mm,
    image: &File,
    runs: &[(u64, usize, i64)],
    hold: bool,
    stop: &dyn Fn() -> bool,
) -> Result {
    for &(addr, n, pos) in runs {
        if stop() {
            return Err(EINTR);
        }
        fill_pages(mm, addr, n, |p| read_pages_at(image, p, pos, hold)).map_err(|e| {
            // The image ends before its pages do.
            if e.to_errno() == -(bindings::ENODATA as i32) {
                EINVAL
            } else {
                e
            }
        })?;
    }
    Ok(())
}

/// Fills the `n` pages of `mm` from `addr` with `read`: new pages mapped
/// once read, where none is populated yet in private anonymous memory, so
/// that no fault zeroes them first; otherwise the pages made present and
/// private to `mm`. `EFAULT` if one is outside its areas.
fn fill_pages(mm: &Mm, addr: u64, n: usize, read: impl FnOnce(&[UserPage]) -> Result) -> Result {
    let new = mm.read_lock().new_pages(addr, n)?;
    if let Some(pages) = new {
        read(&pages)?;
        return mm.read_lock().map_new_pages(addr, pages);
    }
    let mut pages = KVec::new();
    if mm.read_lock().get_pages(addr, n, true, &mut pages)? != n {
        return Err(EFAULT);
    }
    read(&pages)
}

/// A helper of [`MmState::fill`]: a work item that reads some runs of the
/// caller's pages into its mm while the caller reads the others.
#[pin_data]
struct FillHelper {
    #[pin]
    state: Mutex<HelperState>,
    #[pin]
    done: CondVar,
}

/// Where a [`FillHelper`] stands.
struct HelperState {
    /// Its result, once it is done.
    result: Option<Result>,
    /// The caller asks it to stop.
    stop: bool,
}

impl FillHelper {
    /// Starts a helper on `runs` of the caller's mm, from `image`.
    fn spawn(image: &ARef<File>, runs: &[(u64, usize, i64)]) -> Result<Arc<Self>> {
        let mut own = KVVec::with_capacity(runs.len(), GFP_KERNEL_ACCOUNT)?;
        for r in runs {
            own.push(*r, GFP_KERNEL_ACCOUNT)?;
        }
        let mm = Mm::current().ok_or(ESRCH)?;
        let h = Arc::pin_init(
            pin_init!(FillHelper {
                state <- new_mutex!(HelperState {
                    result: None,
                    stop: false,
                }),
                done <- new_condvar!(),
            }),
            GFP_KERNEL_ACCOUNT,
        )?;
        let (me, image) = (h.clone(), image.clone());
        workqueue::system_unbound().try_spawn(GFP_KERNEL_ACCOUNT, move || {
            // A work item has no signals to hold.
            let r = fill_runs(&mm, &image, &own, false, &|| me.state.lock().stop);
            me.state.lock().result = Some(r);
            me.done.notify_all();
        })?;
        Ok(h)
    }

    /// Waits for the helper to be done, asking it to stop first if `stop`
    /// or on a fatal signal (it stops within a batch of pages); returns
    /// its result.
    fn wait(&self, stop: bool) -> Result {
        let mut s = self.state.lock();
        s.stop |= stop;
        loop {
            if let Some(r) = s.result {
                return r;
            }
            if s.stop {
                self.done.wait(&mut s);
            } else if self.done.wait_interruptible(&mut s) && !signals::defer_signal() {
                s.stop = true;
            }
        }
    }
}

/// Writes page contents into the area before them, or with
/// [`Ctx::defer_pages`] notes where they are, in `deferred`.
fn restore_pages(
    ctx: &mut Ctx,
    rec: &PagesRecord<'_>,
    areas: &mut Areas,
    deferred: &mut KVVec<(u64, usize, i64)>,
) -> Result {
    let page = u64::from(uts::page_size());
    let mut it = rec.addrs().peekable();
    while let Some(addr) = it.next() {
        // A run of consecutive pages, filled straight from the image.
        let mut n = 1;
        while n < GUP_BATCH && it.peek() == Some(&(addr + n as u64 * page)) {
            it.next();
            n += 1;
        }
        areas.pages += n as u64;
        if ctx.defer_pages {
            let pos = ctx.skip_pages(n)?;
            deferred.push((addr, n, pos), GFP_KERNEL_ACCOUNT)?;
            continue;
        }
        fill_pages(&areas.mm, addr, n, |p| ctx.read_pages(p))?;
    }
    Ok(())
}

impl MmState {
    /// Reads the contents of the pages that [`restore_mm`] skipped from
    /// `image`, at their offsets, into the caller's memory: while other
    /// tasks of the restart read theirs. Past [`SPLIT_FILL`] pages, a
    /// helper on the unbound workqueue reads half of them meanwhile. Only
    /// a fatal signal interrupts it.
    pub(crate) fn fill(&self, image: &ARef<File>) -> Result {
        let mm = Mm::current().ok_or(ESRCH)?;
        let runs = &self.deferred[..];
        let total: usize = runs.iter().map(|r| r.1).sum();
        // The first run of the second half.
        let mut seen = 0;
        let mid = runs
            .iter()
            .position(|r| {
                seen += r.1;
                seen > total / 2
            })
            .map_or(runs.len(), |i| i + 1);
        let helper = match total >= SPLIT_FILL && mid < runs.len() {
            true => FillHelper::spawn(image, &runs[mid..]).ok(),
            false => None,
        };
        let mine = match helper {
            Some(_) => &runs[..mid],
            None => runs,
        };
        let r = fill_runs(&mm, image, mine, true, &|| false);
        match helper {
            Some(h) => {
                let theirs = h.wait(r.is_err());
                r.and(theirs)
            }
            None => r,
        }
    }

    /// Sets the layout, saved auxiliary vector and executable of the
    /// caller's new mm.
    pub(crate) fn commit(&self, ctx: &mut Ctx) -> Result {
        mcur::set_layout(&self.layout, &self.auxv)
            .inspect_err(|e| ctx.log(format_args!("mm: bad layout (errno {})", -e.to_errno())))?;
        // Without the privilege, /proc/PID/exe stays the caller's: say so only.
        if let Some(exe) = &self.exe {
            if let Err(e) = mcur::set_exe_file(exe) {
                ctx.log(format_args!(
                    "mm: executable not set (errno {})",
                    -e.to_errno()
                ));
            }
        }
        Ok(())
    }
}
