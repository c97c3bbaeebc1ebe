// SPDX-License-Identifier: GPL-2.0

//! Memory: checkpoint and restore.
//!
//! An mm is written as an mm record (layout fields, flags, saved auxiliary
//! vector), then one vma record per area, each followed by the contents of
//! its populated pages that the restarting kernel cannot find elsewhere:
//! every populated page of a private anonymous area, and the pages of a
//! private file mapping that were written since it was mapped. Shared file
//! mappings are recorded by path only; the vDSO is mapped anew at restart.
//!
//! Pages are taken from the target's mm with `get_user_pages_remote()` in
//! batches, under the mmap lock, which is dropped before the image is written.

use crate::{
    ctx::Ctx,
    sys::{
        eopnotsupp,
        mm::{Mm, Special, UserPage, Vma, GUP_BATCH},
        task::Task,
        uts,
    },
};
use ckpt_format::{vm, MmRecord, PagesRecord, Record, VmaKind, VmaRecord, MAX_PATH};
use kernel::{bindings, prelude::*};

/// What restart met of the memory records of one task.
#[derive(Default)]
pub(crate) struct MemStats {
    areas: u32,
    pages: u64,
}

/// Writes the memory of `task`.
pub(crate) fn checkpoint_mm(ctx: &mut Ctx, task: &Task, pid: i32) -> Result {
    let Some(mm) = Mm::of_task(task) else {
        return Err(ctx.fail(ESRCH, 0, format_args!("pid {pid}: task has no memory")));
    };
    let f = mm.fields();
    // The saved auxiliary vector up to and including its AT_NULL pair.
    let words = f
        .auxv
        .chunks_exact(2)
        .position(|pair| pair[0] == 0)
        .map_or(f.auxv.len(), |i| 2 * i + 2);
    let mut auxv = [0u8; 8 * 52];
    for (d, w) in auxv.chunks_exact_mut(8).zip(f.auxv.iter()) {
        d.copy_from_slice(&w.to_le_bytes());
    }
    ctx.write_record(&Record::Mm(MmRecord {
        layout: f.layout,
        flags: f.flags,
        def_flags: f.def_flags,
        auxv: &auxv[..8 * words],
    }))?;

    // Snapshot the areas, then write them without holding the mmap lock.
    let mut areas = KVec::new();
    {
        let guard = mm.read_lock();
        let mut addr = 0;
        while let Some(v) = guard.vma_from(addr) {
            addr = v.end;
            areas.push(v, GFP_KERNEL)?;
        }
    }
    let mut path = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL)?;
    let mut pages = 0;
    for v in &areas {
        pages += checkpoint_vma(ctx, &mm, v, &mut path)?;
    }
    ctx.log(format_args!(
        "pid {pid}: {} memory areas, {pages} pages",
        areas.len()
    ));
    Ok(())
}

/// Writes one area and its pages; returns the number of pages written.
fn checkpoint_vma(ctx: &mut Ctx, mm: &Mm, v: &Vma, buf: &mut [u8]) -> Result<u64> {
    let unsupported = |ctx: &mut Ctx, what: &str| {
        ctx.fail(
            eopnotsupp(),
            0,
            format_args!(
                "memory area {:#x}-{:#x}: {what} not supported",
                v.start, v.end
            ),
        )
    };
    let odd = u64::from(bindings::VM_IO | bindings::VM_PFNMAP | bindings::VM_HUGETLB);
    let (kind, path): (VmaKind, &[u8]) = match (v.special, &v.file) {
        (Special::Vdso, _) => (VmaKind::Vdso, b""),
        (Special::Vvar, _) => (VmaKind::Vvar, b""),
        (Special::Other, _) => return Err(unsupported(ctx, "special mapping")),
        _ if v.flags & odd != 0 => return Err(unsupported(ctx, "device or hugetlb mapping")),
        (Special::No, None) if v.flags & vm::SHARED != 0 => {
            return Err(unsupported(ctx, "shared anonymous memory"))
        }
        (Special::No, None) => (VmaKind::Anon, b""),
        (Special::No, Some(file)) => {
            let path = match file.path(buf) {
                Ok(p) => p,
                Err(e) => {
                    return Err(ctx.fail(
                        e,
                        0,
                        format_args!("memory area {:#x}: no path for its file", v.start),
                    ))
                }
            };
            if path.ends_with(b" (deleted)") || !path.starts_with(b"/") {
                // Shared anonymous memory is a file of an internal shmem mount.
                return Err(unsupported(ctx, "unlinked or internal file mapping"));
            }
            (VmaKind::File, path)
        }
    };
    ctx.write_record(&Record::Vma(VmaRecord {
        start: v.start,
        end: v.end,
        flags: v.flags,
        pgoff: v.pgoff,
        kind,
        path,
    }))?;
    match kind {
        VmaKind::Anon => write_pages(ctx, mm, v, false),
        VmaKind::File if v.flags & vm::SHARED == 0 => write_pages(ctx, mm, v, true),
        _ => Ok(0),
    }
}

/// Writes the populated pages of `v` (with `only_anon`, only those written
/// since a file was mapped); returns how many.
fn write_pages(ctx: &mut Ctx, mm: &Mm, v: &Vma, only_anon: bool) -> Result<u64> {
    let page = u64::from(uts::page_size());
    let mut addr = v.start;
    let mut written = 0;
    while addr < v.end {
        let mut batch = KVec::new();
        // CAST: an area spans fewer than 2^52 pages.
        let max = ((v.end - addr) / page) as usize;
        let got = mm.read_lock().get_pages(addr, max, &mut batch)?;
        if got == 0 {
            // Never populated: nothing to save.
            addr += page;
            continue;
        }
        let mut addrs = [0u64; GUP_BATCH];
        let mut keep: KVec<&UserPage> = KVec::with_capacity(got, GFP_KERNEL)?;
        for (i, p) in batch.iter().enumerate() {
            if !only_anon || p.is_anon() {
                addrs[keep.len()] = addr + i as u64 * page;
                keep.push(p, GFP_KERNEL)?;
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

/// Restores the mm of the task before it.
///
/// The record is validated; building the new mm comes with task restore.
pub(crate) fn restore_mm(ctx: &mut Ctx, rec: &MmRecord<'_>) -> Result {
    ctx.log(format_args!(
        "mm: code {:#x}-{:#x} brk {:#x} stack {:#x}, {} auxv words",
        rec.layout[0],
        rec.layout[1],
        rec.layout[5],
        rec.layout[6],
        rec.auxv.len() / 8
    ));
    Ok(())
}

/// Restores one memory area (validated only, as [`restore_mm`]).
pub(crate) fn restore_vma(_ctx: &mut Ctx, _rec: &VmaRecord<'_>, stats: &mut MemStats) -> Result {
    stats.areas += 1;
    Ok(())
}

/// Restores page contents (validated only, as [`restore_mm`]).
pub(crate) fn restore_pages(_ctx: &mut Ctx, rec: &PagesRecord<'_>, stats: &mut MemStats) -> Result {
    stats.pages += rec.count() as u64;
    Ok(())
}

/// Logs what was met of the memory of the image.
pub(crate) fn restore_done(ctx: &mut Ctx, stats: &MemStats) {
    ctx.log(format_args!(
        "mm: {} memory areas, {} pages",
        stats.areas, stats.pages
    ));
}
