// SPDX-License-Identifier: GPL-2.0

//! Memory descriptors, their areas and their pages.
//!
//! C header: [`include/linux/mm.h`](srctree/include/linux/mm.h)

use super::{file::File, task::Task};
use core::ptr::{self, NonNull};
use kernel::{bindings, prelude::*, types::ARef};

/// A memory descriptor (`struct mm_struct`) with a user reference.
///
/// # Invariants
///
/// `self.0` points to a valid mm on which this value owns one `mm_users`
/// reference, dropped with `mmput()`.
pub(crate) struct Mm(NonNull<bindings::mm_struct>);

// SAFETY: The reference may be dropped on any thread; methods take the locks
// they need.
unsafe impl Send for Mm {}

// SAFETY: Shared references only read the mm's identity and counts, or take
// its locks.
unsafe impl Sync for Mm {}

impl Drop for Mm {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, we own one `mm_users` reference.
        unsafe { bindings::mmput(self.0.as_ptr()) };
    }
}

impl Clone for Mm {
    fn clone(&self) -> Self {
        // SAFETY: The mm is valid and has a user, ours: `mmget()` may add one.
        unsafe { bindings::ckpt_mmget(self.0.as_ptr()) };
        // INVARIANT: The reference just taken is the new value's.
        Self(self.0)
    }
}

/// The fields of [`ckpt_format::MmRecord`], read from an mm.
pub(crate) struct MmFields {
    pub(crate) layout: [u64; 11],
    pub(crate) flags: u64,
    pub(crate) def_flags: u64,
    pub(crate) auxv: [u64; 52],
}

impl Mm {
    /// Takes a user reference on the caller's mm.
    pub(crate) fn current() -> Option<Mm> {
        Self::of_task(&Task::current())
    }

    /// Takes a user reference on the mm of `task`; `None` for kernel threads
    /// and exiting tasks.
    pub(crate) fn of_task(task: &Task) -> Option<Mm> {
        // SAFETY: `task` is valid; `get_task_mm` takes the task lock and returns
        // a referenced mm or null.
        let p = unsafe { bindings::get_task_mm(task.as_ptr()) };
        // INVARIANT: A non-null result carries a reference.
        NonNull::new(p).map(Mm)
    }

    /// The address of the mm: its identity in the object hash.
    pub(crate) fn addr(&self) -> usize {
        self.0.as_ptr() as usize
    }

    /// The number of its users (`mm_users`): the tasks that use it, and
    /// references such as this one.
    pub(crate) fn users(&self) -> u64 {
        // SAFETY: The mm is valid; the count is read atomically.
        let n = unsafe { bindings::ckpt_mm_users(self.0.as_ptr()) };
        u64::try_from(n).unwrap_or(0)
    }

    /// Takes a reference on the mm's executable file (`/proc/PID/exe`).
    pub(crate) fn exe_file(&self) -> Option<ARef<File>> {
        // SAFETY: The mm is valid; the function returns a referenced file or
        // null.
        let p = unsafe { bindings::get_mm_exe_file(self.0.as_ptr()) };
        // INVARIANT: The reference is given to the `ARef`.
        // SAFETY: As above.
        NonNull::new(p).map(|p| unsafe { ARef::from_raw(p.cast()) })
    }

    /// Reads the layout, flags and saved auxiliary vector of the mm.
    pub(crate) fn fields(&self) -> MmFields {
        let _guard = self.read_lock();
        // SAFETY: The mm is valid; the mmap lock, held, keeps `brk` and the
        // other fields stable against `brk()` and `prctl(PR_SET_MM)`.
        let m = unsafe { &(*self.0.as_ptr()).__bindgen_anon_1 };
        let mut auxv = [0u64; 52];
        for (d, s) in auxv.iter_mut().zip(m.saved_auxv.iter()) {
            *d = *s as u64;
        }
        MmFields {
            layout: [
                m.start_code,
                m.end_code,
                m.start_data,
                m.end_data,
                m.start_brk,
                m.brk,
                m.start_stack,
                m.arg_start,
                m.arg_end,
                m.env_start,
                m.env_end,
            ]
            .map(|v| v as u64),
            flags: m.flags as u64,
            def_flags: m.def_flags as u64,
            auxv,
        }
    }

    /// Takes the mmap lock for reading.
    pub(crate) fn read_lock(&self) -> MmReadGuard<'_> {
        // SAFETY: The mm is valid.
        unsafe { bindings::mmap_read_lock(self.0.as_ptr()) };
        // INVARIANT: The lock was just taken.
        MmReadGuard(self)
    }
}

/// The mmap lock of an [`Mm`], held for reading.
///
/// # Invariants
///
/// The lock of `self.0` is held for reading until this value is dropped.
pub(crate) struct MmReadGuard<'a>(&'a Mm);

impl Drop for MmReadGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, the lock is held for reading.
        unsafe { bindings::mmap_read_unlock(self.0 .0.as_ptr()) };
    }
}

/// Special mappings that the kernel installs itself.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Special {
    /// An ordinary area.
    No,
    /// The vDSO text (`[vdso]`).
    Vdso,
    /// The vDSO data (`[vvar]`).
    Vvar,
    /// Another special mapping (`[uprobes]`, ...).
    Other,
    /// Shared anonymous memory (`MAP_SHARED | MAP_ANONYMOUS`), backed by an
    /// internal shmem file.
    SharedAnon,
}

/// A copy of what checkpoint needs of a `struct vm_area_struct`.
pub(crate) struct Vma {
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) flags: u64,
    pub(crate) pgoff: u64,
    pub(crate) file: Option<ARef<File>>,
    pub(crate) special: Special,
}

/// A user page with a reference taken by `get_user_pages_remote()`, or a
/// new page not mapped yet ([`MmReadGuard::new_pages`]).
///
/// # Invariants
///
/// `self.0` points to a valid page on which this value owns one reference.
pub(crate) struct UserPage(NonNull<bindings::page>);

impl Drop for UserPage {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, we own one reference.
        unsafe { bindings::put_page(self.0.as_ptr()) };
    }
}

impl UserPage {
    /// Returns whether both are the same page: in two mms, one that
    /// `fork()` shares copy-on-write.
    pub(crate) fn is(&self, other: &UserPage) -> bool {
        self.0 == other.0
    }

    /// Gives up the reference, for a C function that takes it over.
    fn into_raw(self) -> *mut bindings::page {
        core::mem::ManuallyDrop::new(self).0.as_ptr()
    }

    /// Returns true for anonymous pages (for a private file mapping: pages
    /// written since the file was mapped).
    pub(crate) fn is_anon(&self) -> bool {
        // SAFETY: The page is valid.
        unsafe { bindings::PageAnon(self.0.as_ptr()) }
    }
}

fn raw_pages<'p>(
    pages: impl ExactSizeIterator<Item = &'p UserPage>,
) -> Result<([*mut bindings::page; GUP_BATCH], u32)> {
    let mut raw = [ptr::null_mut::<bindings::page>(); GUP_BATCH];
    let n = pages.len();
    if n > GUP_BATCH {
        return Err(EINVAL);
    }
    for (r, p) in raw.iter_mut().zip(pages) {
        *r = p.0.as_ptr();
    }
    // CAST: at most `GUP_BATCH`.
    Ok((raw, n as u32))
}

/// Reads the contents of `pages` (at most [`GUP_BATCH`]) from `file` at its
/// position, in one call; `ENODATA` at end of file.
pub(crate) fn read_pages_from(file: &File, pages: &[UserPage], hold: bool) -> Result {
    let (mut raw, n) = raw_pages(pages.iter())?;
    // SAFETY: `file` is valid; `raw` holds `n` referenced pages, which the
    // caller got for writing (`FOLL_WRITE`).
    let r = unsafe { bindings::ckpt_read_pages(file.as_ptr(), raw.as_mut_ptr(), n, hold) };
    kernel::error::to_result(r)
}

/// [`read_pages_from`] at `pos`, as `pread()`: the file position is left
/// alone, and tasks may read at once.
pub(crate) fn read_pages_at(file: &File, pages: &[UserPage], pos: i64, hold: bool) -> Result {
    let (mut raw, n) = raw_pages(pages.iter())?;
    // SAFETY: As in `read_pages_from`.
    let r = unsafe { bindings::ckpt_read_pages_at(file.as_ptr(), raw.as_mut_ptr(), n, pos, hold) };
    kernel::error::to_result(r)
}

/// Writes `head`, then the contents of `pages` (at most [`GUP_BATCH`]), to
/// `file` at its position, in one call.
pub(crate) fn write_pages_to(file: &File, head: &[u8], pages: &[&UserPage]) -> Result {
    let (mut raw, n) = raw_pages(pages.iter().copied())?;
    // SAFETY: `file` is valid; `head` is readable for its length; `raw`
    // holds `n` referenced pages, which the function only reads.
    let r = unsafe {
        bindings::ckpt_write_pages(
            file.as_ptr(),
            head.as_ptr().cast(),
            head.len(),
            raw.as_mut_ptr(),
            n,
        )
    };
    kernel::error::to_result(r)
}

/// Most pages asked of `get_user_pages_remote()` at a time.
pub(crate) const GUP_BATCH: usize = 64;

impl MmReadGuard<'_> {
    fn mm(&self) -> *mut bindings::mm_struct {
        self.0 .0.as_ptr()
    }

    /// Returns the first page in `[start, end)` with a page table entry
    /// (present, swapped or migrating), or `end`; empty page tables are
    /// skipped whole.
    pub(crate) fn next_populated(&self, start: u64, end: u64) -> u64 {
        // CAST: user addresses fit in an `unsigned long`, and back.
        // SAFETY: The mmap lock is held for reading, as the walk needs.
        unsafe { bindings::ckpt_next_populated(self.mm(), start as _, end as _) as u64 }
    }

    /// Returns every area, in order: a snapshot, valid once the lock is
    /// dropped.
    pub(crate) fn areas(&self) -> Result<KVec<Vma>> {
        let mut areas = KVec::new();
        let mut addr = 0;
        while let Some(v) = self.vma_from(addr) {
            addr = v.end;
            areas.push(v, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(areas)
    }

    /// Returns the first area that ends above `addr`.
    pub(crate) fn vma_from(&self, addr: u64) -> Option<Vma> {
        // SAFETY: The mmap lock is held, so areas cannot go away.
        let v = NonNull::new(unsafe { bindings::find_vma(self.mm(), addr as _) })?;
        // SAFETY: As above, the area is valid while the lock is held.
        let v = unsafe { v.as_ref() };
        // SAFETY: Both union members are the same `vm_flags`.
        let flags = unsafe { v.__bindgen_anon_2.vm_flags } as u64;
        // SAFETY: `vm_start`/`vm_end` are in the first union member outside RCU
        // freeing, which the lock excludes.
        let (start, end) = unsafe {
            (
                v.__bindgen_anon_1.__bindgen_anon_1.vm_start,
                v.__bindgen_anon_1.__bindgen_anon_1.vm_end,
            )
        };
        // SAFETY: The area holds a reference on its file while the lock is held.
        let file = NonNull::new(v.vm_file).map(|f| unsafe { File::get(f) });
        Some(Vma {
            start: start as u64,
            end: end as u64,
            flags,
            pgoff: v.vm_pgoff as u64,
            file,
            special: special(v),
        })
    }

    /// Takes references on the populated pages from `addr`, at most `max`
    /// (and [`GUP_BATCH`]), stopping at the first page never populated, and
    /// appends them to `out`. With `write`, the pages are made present and
    /// private to the mm (copied on write), to be filled.
    ///
    /// Returns how many pages were taken (0 if `addr` itself is not populated).
    pub(crate) fn get_pages(
        &self,
        addr: u64,
        max: usize,
        write: bool,
        out: &mut KVec<UserPage>,
    ) -> Result<usize> {
        let n = max.min(GUP_BATCH);
        // Reserve first, so that no page reference can be left unowned below.
        out.reserve(n, GFP_KERNEL_ACCOUNT)?;
        let mut raw = [ptr::null_mut::<bindings::page>(); GUP_BATCH];
        let flags = if write {
            bindings::FOLL_FORCE | bindings::FOLL_WRITE
        } else {
            bindings::FOLL_FORCE | bindings::FOLL_DUMP
        };
        // SAFETY: The mmap lock is held for reading and `locked` is null, so
        // GUP keeps it held; `raw` has room for `n` pages.
        let got = unsafe {
            bindings::get_user_pages_remote(
                self.mm(),
                addr as _,
                n as _,
                flags,
                raw.as_mut_ptr(),
                ptr::null_mut(),
            )
        };
        if got == -(bindings::EFAULT as kernel::ffi::c_long) && !write {
            return Ok(0);
        }
        // CAST: negative returns are errnos.
        let got = usize::try_from(got).map_err(|_| Error::from_errno(got as i32))?;
        // INVARIANT: GUP returned each page with a reference.
        adopt(&raw[..got.min(n)], out);
        Ok(got)
    }

    /// Allocates `n` pages (at most [`GUP_BATCH`]) for the addresses from
    /// `addr`, not zeroed, to be filled and then mapped there with
    /// [`Self::map_new_pages`]. Returns `None` where they are to be filled
    /// in place ([`Self::get_pages`] with `write`): one is populated, or
    /// the area is not private anonymous memory.
    pub(crate) fn new_pages(&self, addr: u64, n: usize) -> Result<Option<KVec<UserPage>>> {
        if n > GUP_BATCH {
            return Err(EINVAL);
        }
        // Reserve first, so that no page reference can be left unowned below.
        let mut out = KVec::with_capacity(n, GFP_KERNEL_ACCOUNT)?;
        let mut raw = [ptr::null_mut::<bindings::page>(); GUP_BATCH];
        // CAST: user addresses fit in an `unsigned long`; `n` is small.
        // SAFETY: The mmap lock is held for reading; `raw` has room for `n`
        // pages.
        let r = unsafe {
            bindings::ckpt_new_anon_pages(self.mm(), addr as _, raw.as_mut_ptr(), n as u32)
        };
        if r == -(bindings::EAGAIN as i32) {
            return Ok(None);
        }
        kernel::error::to_result(r)?;
        // INVARIANT: Each new page comes with its reference.
        adopt(&raw[..n], &mut out);
        Ok(Some(out))
    }

    /// Maps `pages` from [`Self::new_pages`], now filled, at `addr`, as
    /// `UFFDIO_COPY` maps its pages. A page populated meanwhile is written
    /// over instead.
    pub(crate) fn map_new_pages(&self, addr: u64, pages: KVec<UserPage>) -> Result {
        let n = pages.len();
        if n > GUP_BATCH {
            return Err(EINVAL);
        }
        let mut raw = [ptr::null_mut::<bindings::page>(); GUP_BATCH];
        for (r, p) in raw.iter_mut().zip(pages) {
            *r = p.into_raw();
        }
        // CAST: As in `new_pages`.
        // SAFETY: The mmap lock is held for reading; `raw` holds `n` new
        // pages, whose references the function takes over.
        let r = unsafe {
            bindings::ckpt_map_new_pages(self.mm(), addr as _, raw.as_mut_ptr(), n as u32)
        };
        kernel::error::to_result(r)
    }
}

/// Appends the pages of `raw`, each with a reference that the caller gives
/// up, to `out`, which has room for them.
fn adopt(raw: &[*mut bindings::page], out: &mut KVec<UserPage>) {
    for p in raw.iter().filter_map(|p| NonNull::new(*p)) {
        // INVARIANT: The caller gives up the reference. The push cannot
        // allocate (room was reserved); were it to fail, it drops the
        // page, which puts its reference.
        let _ = out.push(UserPage(p), GFP_KERNEL_ACCOUNT);
    }
}

fn special(v: &bindings::vm_area_struct) -> Special {
    // SAFETY: `v` is a valid area, of the mm whose lock the caller holds.
    if unsafe { bindings::ckpt_vma_anon_shmem(ptr::from_ref(v).cast_mut()) } {
        return Special::SharedAnon;
    }
    // SAFETY: `vm_ops` of a valid area is null or a static table.
    let Some(ops) = (unsafe { v.vm_ops.as_ref() }) else {
        return Special::No;
    };
    let Some(name) = ops.name else {
        return Special::No;
    };
    // SAFETY: `name` takes a valid area and returns a static string or null.
    let p = unsafe { name(ptr::from_ref(v).cast_mut()) };
    if p.is_null() {
        return Special::No;
    }
    // SAFETY: `p` is a NUL-terminated static string.
    let s = unsafe { kernel::str::CStr::from_char_ptr(p) };
    match s.as_bytes() {
        b"[vdso]" => Special::Vdso,
        b"[vvar]" => Special::Vvar,
        _ => Special::Other,
    }
}

/// Changes to the caller's address space, made by restart.
pub(crate) mod current {
    use super::File;
    use kernel::{bindings, prelude::*};

    /// `mmap()` flags (include/uapi/asm-generic/mman*.h).
    pub(crate) const MAP_SHARED: u32 = 0x01;
    pub(crate) const MAP_PRIVATE: u32 = 0x02;
    pub(crate) const MAP_FIXED: u32 = 0x10;
    pub(crate) const MAP_ANONYMOUS: u32 = 0x20;
    pub(crate) const MAP_GROWSDOWN: u32 = 0x100;
    pub(crate) const MAP_NORESERVE: u32 = 0x4000;
    pub(crate) const MAP_LOCKED: u32 = 0x2000;

    /// Returns the end of the caller's user address space (`TASK_SIZE`).
    pub(crate) fn task_size() -> u64 {
        // CAST: an address fits in 64 bits.
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_task_size() as u64 }
    }

    /// Unmaps every user area of the caller (vDSO included).
    pub(crate) fn unmap_all() -> Result {
        unmap(0, task_size())
    }

    /// Unmaps `[start, start + len)` of the caller, as `munmap()` would.
    pub(crate) fn unmap(start: u64, len: u64) -> Result {
        // SAFETY: `vm_munmap` works on the caller's mm and takes its lock.
        let r = unsafe { bindings::vm_munmap(start as _, len as _) };
        kernel::error::to_result(r)
    }

    /// Maps `[start, start + len)` exactly there, as `mmap()` would.
    pub(crate) fn map(
        file: Option<&File>,
        start: u64,
        len: u64,
        prot: u32,
        flags: u32,
        offset: u64,
    ) -> Result {
        let f = file.map_or(core::ptr::null_mut(), |f| f.as_ptr());
        // SAFETY: `f` is null or a valid file, referenced by `file` for the
        // call; `vm_mmap` works on the caller's mm and takes its lock.
        let r = unsafe {
            bindings::vm_mmap(f, start as _, len as _, prot as _, flags as _, offset as _)
        };
        // CAST: `vm_mmap` returns an address or a negative errno.
        let r = r as i64;
        if (-4095..0).contains(&r) {
            return Err(Error::from_errno(r as i32));
        }
        if r as u64 != start {
            return Err(EEXIST);
        }
        Ok(())
    }

    /// Applies `madvise()` advice to an area of the caller.
    pub(crate) fn madvise(start: u64, len: u64, advice: i32) -> Result {
        let mm = super::Mm::current().ok_or(ESRCH)?;
        // SAFETY: `mm` is referenced; `do_madvise` takes its lock.
        let r = unsafe { bindings::do_madvise(mm.0.as_ptr(), start as _, len as _, advice) };
        kernel::error::to_result(r)
    }

    /// Sets the layout fields and saved auxiliary vector of the caller's mm,
    /// checked as `prctl(PR_SET_MM_MAP)` checks them.
    pub(crate) fn set_layout(layout: &[u64; 11], auxv: &[u64]) -> Result {
        let words = u32::try_from(auxv.len()).map_err(|_| EINVAL)?;
        // SAFETY: The function reads 11 layout words and `words` auxv words.
        let r = unsafe { bindings::ckpt_mm_set_layout(layout.as_ptr(), auxv.as_ptr(), words) };
        kernel::error::to_result(r)
    }

    /// Makes `file` the executable of the caller's mm (`/proc/self/exe`);
    /// needs `CAP_CHECKPOINT_RESTORE` (`EPERM`).
    pub(crate) fn set_exe_file(file: &File) -> Result {
        // SAFETY: `file` is valid; the function takes its own reference.
        kernel::error::to_result(unsafe { bindings::ckpt_set_exe_file(file.as_ptr()) })
    }
}
