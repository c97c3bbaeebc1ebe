// SPDX-License-Identifier: GPL-2.0

//! Private memory that a process shares copy-on-write with its parent, as
//! `fork()` left it.
//!
//! At checkpoint, a private area of a process (anonymous memory, or a
//! private file mapping's written pages) whose parent is in the image, and
//! has an area of the same flags over the same addresses (mapping the same
//! file there), is compared page by page with the parent's: the pages that
//! are the same page in both (`fork()` shared them, and neither wrote them
//! since) are written as runs in a cow record after the area's vma record,
//! and are not saved again; the area's other pages are, as usual.
//!
//! At restart the tree makes each process once its parent's memory is
//! whole, so that the `fork()` shares the parent's pages again. The
//! process keeps the areas of its mm that the image says it inherits,
//! empties their pages outside the runs, and writes its own pages over
//! them (which copies each on write); it unmaps the rest of what it
//! inherited.

use super::advise;
use crate::{
    ctx::Ctx,
    sys::{
        file::File,
        mm::{current as mcur, Mm, Special, Vma},
        uts,
    },
};
use ckpt_format::{vm, CowRecord, CowRun, LeArray, Record, VmaKind, VmaRecord, MAX_COW_RUNS};
use kernel::{bindings, prelude::*};

/// `madvise(MADV_DONTNEED)`: the pages of a private mapping start empty.
const MADV_DONTNEED: i32 = 4;

/// The flags that must match for an area to be its parent's: how it is
/// mapped, and what `fork()` leaves out (`MADV_DONTFORK`, wiped on fork).
const SAME: u64 = vm::READ
    | vm::WRITE
    | vm::EXEC
    | vm::SHARED
    | bindings::VM_GROWSDOWN as u64
    | bindings::VM_LOCKED as u64
    | bindings::VM_DONTCOPY as u64
    | bindings::VM_WIPEONFORK as u64;

/// Whether a `fork()` shares the pages of `v` copy-on-write: private
/// memory, anonymous or of a file.
pub(super) fn private(v: &Vma) -> bool {
    v.special == Special::No && v.flags & vm::SHARED == 0
}

/// What an area maps, for [`maps_as`].
enum Backing<'a> {
    /// Anonymous memory.
    Anon,
    /// This file, at page offset `pgoff`.
    File(&'a File, u64),
    /// A file at page offset `pgoff`: at restart, the file an area maps
    /// may be another than the one opened (overlayfs maps the file below).
    AnyFile(u64),
}

/// Whether the area `x` maps all of `[start, end)` with `flags`, backed
/// as `what`.
fn maps_as(x: &Vma, start: u64, end: u64, flags: u64, what: Backing<'_>) -> bool {
    let page = u64::from(uts::page_size());
    let at = |pgoff: u64| x.pgoff + (start - x.start) / page == pgoff;
    let backed = match (x.file.as_deref(), what) {
        (None, Backing::Anon) => true,
        (Some(a), Backing::File(b, pgoff)) => core::ptr::eq(a, b) && at(pgoff),
        (Some(_), Backing::AnyFile(pgoff)) => at(pgoff),
        _ => false,
    };
    private(x) && x.start <= start && end <= x.end && (x.flags ^ flags) & SAME == 0 && backed
}

/// The memory of the parent of the process being checkpointed.
pub(super) struct Parent {
    mm: Mm,
    areas: KVec<Vma>,
}

impl Parent {
    /// Snapshots the areas of `mm`, the parent's.
    pub(super) fn new(mm: Mm) -> Result<Self> {
        let areas = mm.read_lock().areas()?;
        Ok(Self { mm, areas })
    }

    /// Whether the parent maps all of `v` as it is, in an area that a
    /// `fork()` copies.
    pub(super) fn covers(&self, v: &Vma) -> bool {
        let dropped = u64::from(bindings::VM_DONTCOPY | bindings::VM_WIPEONFORK);
        let what = || match v.file.as_deref() {
            Some(f) => Backing::File(f, v.pgoff),
            None => Backing::Anon,
        };
        private(v)
            && self
                .areas
                .iter()
                .any(|x| x.flags & dropped == 0 && maps_as(x, v.start, v.end, v.flags, what()))
    }
}

/// Checkpoint: writes the cow record of `v`, an area of `mm` that the
/// parent [`Parent::covers`]: the runs of its pages that are the parent's
/// pages at the same addresses. Returns them (none: no record).
pub(super) fn checkpoint(
    ctx: &mut Ctx,
    mm: &Mm,
    parent: &Parent,
    v: &Vma,
) -> Result<KVVec<CowRun>> {
    let page = u64::from(uts::page_size());
    let mut runs: KVVec<CowRun> = KVVec::new();
    let mut addr = v.start;
    while addr < v.end && runs.len() < MAX_COW_RUNS {
        let mut mine = KVec::new();
        // CAST: an area spans fewer than 2^52 pages.
        let max = ((v.end - addr) / page) as usize;
        {
            let g = mm.read_lock();
            if g.get_pages(addr, max, false, &mut mine)? == 0 {
                addr = g.next_populated(addr + page, v.end);
                continue;
            }
        }
        // The parent's, from the same address, up to its next hole.
        let mut i = 0;
        while i < mine.len() {
            let at = addr + i as u64 * page;
            let mut theirs = KVec::new();
            let got = parent
                .mm
                .read_lock()
                .get_pages(at, mine.len() - i, false, &mut theirs)?;
            if got == 0 {
                i += 1;
                continue;
            }
            for (j, p) in theirs.iter().enumerate() {
                if !mine.get(i + j).is_some_and(|m| m.is(p)) {
                    continue;
                }
                let a = at + j as u64 * page;
                let n = runs.len();
                match runs.last_mut() {
                    Some(r) if r.addr + r.pages * page == a => r.pages += 1,
                    _ if n == MAX_COW_RUNS => break,
                    _ => runs.push(CowRun { addr: a, pages: 1 }, GFP_KERNEL_ACCOUNT)?,
                }
            }
            i += theirs.len();
        }
        addr += mine.len() as u64 * page;
    }
    if !runs.is_empty() {
        ctx.write_record(&Record::Cow(CowRecord {
            runs: LeArray::Values(&runs),
        }))?;
    }
    Ok(runs)
}

/// Where an address is among sorted runs: [`place`].
pub(super) enum Place {
    /// In a run, which ends there.
    In(u64),
    /// Before the next run, which starts there (`u64::MAX`: none).
    Before(u64),
}

/// Returns where `a` is among `runs` (sorted) from `*next` on, which it
/// moves past the runs below `a`.
pub(super) fn place(runs: &[CowRun], next: &mut usize, a: u64) -> Place {
    let page = u64::from(uts::page_size());
    let end = |r: &CowRun| r.addr + r.pages * page;
    while runs.get(*next).is_some_and(|r| end(r) <= a) {
        *next += 1;
    }
    match runs.get(*next) {
        Some(r) if r.addr <= a => Place::In(end(r)),
        Some(r) => Place::Before(r.addr),
        None => Place::Before(u64::MAX),
    }
}

/// Restart, for a task whose mm inherits some of its parent's areas: unmaps
/// all the caller has but private memory, which the image's areas keep or
/// replace.
pub(super) fn release_all_but_private() -> Result {
    let areas = Mm::current().ok_or(ESRCH)?.read_lock().areas()?;
    for v in areas.iter().filter(|v| !private(v)) {
        mcur::unmap(v.start, v.end - v.start)?;
    }
    Ok(())
}

/// Restart: keeps the caller's area of `v`, its parent's, with the pages of
/// `rec`; empties its other pages, which its own pages records fill.
pub(super) fn restore(ctx: &mut Ctx, v: &VmaRecord, rec: &CowRecord<'_>) -> Result {
    let what = match v.kind {
        VmaKind::Anon => Backing::Anon,
        VmaKind::File => Backing::AnyFile(v.pgoff),
        _ => return Err(EINVAL),
    };
    let mm = Mm::current().ok_or(ESRCH)?;
    let ok = mm
        .read_lock()
        .vma_from(v.start)
        .is_some_and(|x| maps_as(&x, v.start, v.end, v.flags, what));
    if !ok {
        ctx.log(format_args!(
            "memory area {:#x}-{:#x}: its parent's is not there to share",
            v.start, v.end
        ));
        return Err(EINVAL);
    }
    let page = u64::from(uts::page_size());
    let runs = rec.runs.iter().map(|r| (r.addr, r.addr + r.pages * page));
    for_gaps(runs, v.start, v.end, |s, len| {
        mcur::madvise(s, len, MADV_DONTNEED)
    })?;
    advise(v)
}

/// Restart: unmaps what the caller inherited outside the image's areas,
/// `kept` (sorted).
pub(super) fn unmap_rest(kept: &[(u64, u64)]) -> Result {
    for_gaps(kept.iter().copied(), 0, mcur::task_size(), mcur::unmap)
}

/// Calls `f(start, len)` for each gap of `[lo, hi)` between `ranges`
/// (sorted, disjoint, within it).
fn for_gaps(
    ranges: impl Iterator<Item = (u64, u64)>,
    lo: u64,
    hi: u64,
    mut f: impl FnMut(u64, u64) -> Result,
) -> Result {
    let mut from = lo;
    for (s, e) in ranges {
        if s > from {
            f(from, s - from)?;
        }
        from = e;
    }
    if from < hi {
        f(from, hi - from)?;
    }
    Ok(())
}
