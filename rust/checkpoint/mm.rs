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
    files::Reopened,
    sys::{
        cred::Cred,
        eopnotsupp,
        file::File,
        mm::{current as mcur, Mm, Special, UserPage, Vma, GUP_BATCH},
        task::Task,
        uts,
    },
};
use ckpt_format::{vm, MmRecord, PagesRecord, Record, VmaKind, VmaRecord, MAX_PATH};
use kernel::{bindings, prelude::*};

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
    // The files part of the image has a record of the executable, unless it
    // could not be saved (unlinked): then none is named.
    let exe_ref = mm
        .exe_file()
        .and_then(|f| ctx.objhash.objref_of(f.addr()))
        .unwrap_or(0);
    ctx.write_record(&Record::Mm(MmRecord {
        layout: f.layout,
        flags: f.flags,
        def_flags: f.def_flags,
        exe_ref,
        auxv: &auxv[..8 * words],
    }))?;

    // Snapshot the areas, then write them without holding the mmap lock.
    let mut areas = KVec::new();
    {
        let guard = mm.read_lock();
        let mut addr = 0;
        while let Some(v) = guard.vma_from(addr) {
            addr = v.end;
            areas.push(v, GFP_KERNEL_ACCOUNT)?;
        }
    }
    let mut path = KVec::from_elem(0u8, MAX_PATH + 1, GFP_KERNEL_ACCOUNT)?;
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
        (Special::SharedAnon, _) => return Err(unsupported(ctx, "shared anonymous memory")),
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
        let got = mm.read_lock().get_pages(addr, max, false, &mut batch)?;
        if got == 0 {
            // Never populated: nothing to save.
            addr += page;
            continue;
        }
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

/// The state of a memory restore, across the records of one mm.
pub(crate) struct MmRestore {
    /// The caller's own memory was released: from here on, a failed restart
    /// cannot return to the caller's program, and kills it.
    pub(crate) released: bool,
    layout: [u64; 11],
    auxv: KVec<u64>,
    exe_ref: i32,
    /// The area being restored, if pages may be written to it.
    writable: bool,
    /// The vDSO data area, mapped with the vDSO that follows it.
    vvar: Option<(u64, u64)>,
    mm: Option<Mm>,
    areas: u32,
    pages: u64,
}

impl MmRestore {
    pub(crate) fn new() -> Self {
        Self {
            released: false,
            layout: [0; 11],
            auxv: KVec::new(),
            exe_ref: 0,
            writable: false,
            vvar: None,
            mm: None,
            areas: 0,
            pages: 0,
        }
    }
}

/// Starts the restore of an mm: releases all of the caller's memory.
pub(crate) fn restore_mm(ctx: &mut Ctx, rec: &MmRecord<'_>, st: &mut MmRestore) -> Result {
    st.layout = rec.layout;
    st.exe_ref = rec.exe_ref;
    st.auxv = KVec::with_capacity(rec.auxv.len() / 8, GFP_KERNEL_ACCOUNT)?;
    for w in rec.auxv_words() {
        st.auxv.push(w, GFP_KERNEL_ACCOUNT)?;
    }
    st.mm = Some(Mm::current().ok_or(ESRCH)?);
    st.released = true;
    ctx.log(format_args!(
        "releasing the caller's memory: a failure kills it, only SIGKILL ends the restart now"
    ));
    ctx.hold_signals();
    mcur::unmap_all().inspect_err(|e| {
        ctx.log(format_args!(
            "cannot unmap the caller (errno {})",
            -e.to_errno()
        ))
    })
}

/// `madvise()` advice that restores each `VM_*` flag set by one.
const ADVICE: [(u64, i32); 5] = [
    (bindings::VM_DONTCOPY as u64, 10),   // MADV_DONTFORK
    (bindings::VM_DONTDUMP as u64, 16),   // MADV_DONTDUMP
    (bindings::VM_WIPEONFORK as u64, 18), // MADV_WIPEONFORK
    (bindings::VM_RAND_READ as u64, 1),   // MADV_RANDOM
    (bindings::VM_SEQ_READ as u64, 2),    // MADV_SEQUENTIAL
];

/// Maps one memory area of the image.
pub(crate) fn restore_vma(
    ctx: &mut Ctx,
    v: &VmaRecord<'_>,
    st: &mut MmRestore,
    reopened: &Reopened,
    cred: Option<&Cred>,
) -> Result {
    let r = map_vma(v, st, reopened, cred);
    if let Err(e) = &r {
        ctx.log(format_args!(
            "memory area {:#x}-{:#x} ({}): cannot map (errno {})",
            v.start,
            v.end,
            v.kind.name(),
            -e.to_errno()
        ));
    }
    st.areas += 1;
    r
}

fn map_vma(
    v: &VmaRecord<'_>,
    st: &mut MmRestore,
    reopened: &Reopened,
    cred: Option<&Cred>,
) -> Result {
    let len = v.end - v.start;
    let shared = v.flags & vm::SHARED != 0;
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
    st.writable = false;
    match v.kind {
        VmaKind::Anon => {
            if shared {
                return Err(EINVAL);
            }
            mcur::map(
                None,
                v.start,
                len,
                prot,
                flags | mcur::MAP_PRIVATE | mcur::MAP_ANONYMOUS,
                0,
            )?;
            st.writable = true;
        }
        VmaKind::File => {
            let may_write = v.flags & u64::from(bindings::VM_MAYWRITE) != 0;
            // O_RDWR for shared writable mappings, else O_RDONLY.
            let oflags = if shared && may_write { 2 } else { 0 };
            // Reopened before the memory was released; opened now only
            // if the image has no file record for it.
            let file = match reopened.find(v.path, oflags == 2) {
                Some(f) => f,
                None => File::open(v.path, oflags, 0, cred)?,
            };
            let offset = v
                .pgoff
                .checked_mul(u64::from(uts::page_size()))
                .ok_or(EINVAL)?;
            let share = if shared {
                mcur::MAP_SHARED
            } else {
                mcur::MAP_PRIVATE
            };
            mcur::map(Some(&file), v.start, len, prot, flags | share, offset)?;
            st.writable = !shared;
        }
        VmaKind::Vvar => {
            st.vvar = Some((v.start, v.end));
            return Ok(());
        }
        VmaKind::Vdso => {
            let (vs, ve) = st.vvar.take().ok_or(EINVAL)?;
            if ve != v.start {
                return Err(EINVAL);
            }
            #[cfg(CONFIG_X86_64)]
            mcur::map_vdso(vs, ve - vs, len)?;
            return Ok(());
        }
    }
    for (bit, advice) in ADVICE {
        if v.flags & bit != 0 {
            mcur::madvise(v.start, len, advice)?;
        }
    }
    Ok(())
}

/// Writes page contents into the area before them.
pub(crate) fn restore_pages(ctx: &mut Ctx, rec: &PagesRecord<'_>, st: &mut MmRestore) -> Result {
    if !st.writable {
        ctx.log(format_args!("pages for an area that has none of its own"));
        return Err(EINVAL);
    }
    let mm = st.mm.as_ref().ok_or(EINVAL)?;
    let page = u64::from(uts::page_size());
    let mut it = rec.addrs().peekable();
    while let Some(addr) = it.next() {
        // A run of consecutive pages, filled straight from the image.
        let mut n = 1;
        while n < GUP_BATCH && it.peek() == Some(&(addr + n as u64 * page)) {
            it.next();
            n += 1;
        }
        let mut batch = KVec::new();
        let got = mm.read_lock().get_pages(addr, n, true, &mut batch)?;
        if got != n {
            return Err(EFAULT);
        }
        ctx.read_pages(&batch)?;
        st.pages += n as u64;
    }
    Ok(())
}

/// Ends the restore of an mm: sets its layout and saved auxiliary vector.
pub(crate) fn restore_mm_done(ctx: &mut Ctx, st: &mut MmRestore) -> Result {
    ctx.log(format_args!(
        "mm: {} memory areas, {} pages",
        st.areas, st.pages
    ));
    mcur::set_layout(&st.layout, &st.auxv)
        .inspect_err(|e| ctx.log(format_args!("mm: bad layout (errno {})", -e.to_errno())))?;
    // Without the privilege, /proc/PID/exe stays the caller's: say so only.
    if let Some(exe) = ctx.objhash.file(st.exe_ref) {
        if let Err(e) = mcur::set_exe_file(&exe) {
            ctx.log(format_args!(
                "mm: executable not set (errno {})",
                -e.to_errno()
            ));
        }
    }
    Ok(())
}
