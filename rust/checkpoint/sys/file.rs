// SPDX-License-Identifier: GPL-2.0

//! Open files: the image stream, the log, and the files of tasks.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::{cred::Cred, errno, task::Task};
use core::ptr::{self, NonNull};
use kernel::{
    bindings,
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// An open file (`struct file`).
///
/// # Invariants
///
/// Instances are only reached through an `ARef<File>` that owns one reference
/// on a valid file.
#[repr(transparent)]
pub(crate) struct File(Opaque<bindings::file>);

// SAFETY: Files are refcounted atomically and may be used from any thread.
unsafe impl Send for File {}

// SAFETY: The methods only call C functions that synchronise themselves.
unsafe impl Sync for File {}

// SAFETY: The type invariants guarantee that `File` is always refcounted.
unsafe impl AlwaysRefCounted for File {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the refcount is nonzero.
        unsafe { bindings::get_file(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference, which is given up here.
        unsafe { bindings::fput(obj.cast().as_ptr()) }
    }
}

/// How a file is going to be used.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Read from, with `read(2)` semantics.
    Read,
    /// Written to, with `write(2)` semantics.
    Write,
}

/// What an image records of an open file.
#[derive(Default)]
pub(crate) struct FileInfo {
    /// `f_flags`.
    pub(crate) flags: u32,
    /// `f_pos`.
    pub(crate) pos: i64,
    /// `i_mode` of the inode.
    pub(crate) mode: u32,
    /// Device number of a character device (`new_encode_dev`), else 0.
    pub(crate) rdev: u32,
}

/// Closes every descriptor of the caller (the files restart holds stay open).
pub(crate) fn close_all_fds() {
    // SAFETY: No preconditions.
    unsafe { bindings::ckpt_close_all_fds() }
}

impl File {
    /// Takes a reference on the file behind descriptor `fd` of the caller,
    /// which must be open for `access`.
    ///
    /// Fails with `EBADF` otherwise, as `read(2)` and `write(2)` do.
    pub(crate) fn from_fd(fd: i32, access: Access) -> Result<ARef<File>> {
        let fd = u32::try_from(fd).map_err(|_| EBADF)?;
        // SAFETY: `fget` may be called with any descriptor number.
        let ptr = NonNull::new(unsafe { bindings::fget(fd) }).ok_or(EBADF)?;
        // INVARIANT: `fget` returned a reference, given to the `ARef`.
        // SAFETY: As above.
        let file: ARef<File> = unsafe { ARef::from_raw(ptr.cast()) };
        let need = match access {
            Access::Read => bindings::FMODE_READ,
            Access::Write => bindings::FMODE_WRITE,
        };
        if file.mode() & need == 0 {
            return Err(EBADF);
        }
        Ok(file)
    }

    /// Takes a reference on the file at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to a valid file on which the caller holds a reference
    /// (or a lock that keeps one held) for the duration of the call.
    pub(super) unsafe fn get(ptr: NonNull<bindings::file>) -> ARef<File> {
        // SAFETY: By the safety requirements the file is valid: taking one more
        // reference keeps it so for the `ARef`.
        unsafe { bindings::get_file(ptr.as_ptr()) };
        // INVARIANT: The reference just taken is owned by the `ARef`.
        // SAFETY: As above.
        unsafe { ARef::from_raw(ptr.cast()) }
    }

    /// Returns the path of the file as user space sees it (`d_path()` of
    /// `file_user_path()`), in `buf`.
    ///
    /// Fails with `ENAMETOOLONG` if it does not fit.
    pub(crate) fn path<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        let len = i32::try_from(buf.len()).map_err(|_| EINVAL)?;
        // SAFETY: The file is valid; `d_path` writes at most `len` bytes into
        // `buf`, ending with a NUL, and returns a pointer into `buf` or an
        // error pointer.
        let p = unsafe { bindings::ckpt_file_path(self.0.get(), buf.as_mut_ptr().cast(), len) };
        super::in_buf(buf, kernel::error::from_err_ptr(p)?)
    }

    /// Takes a reference on the file of the first descriptor of `task` at or
    /// above `from`; returns the descriptor, the file and its close-on-exec
    /// flag, or `None` when there are no more.
    pub(crate) fn next_of_task(task: &Task, from: u32) -> Option<(u32, ARef<File>, bool)> {
        let mut fd = from;
        let mut cloexec = false;
        // SAFETY: `task` is valid; the function returns a referenced file or
        // null, and writes both out-parameters.
        let p = unsafe { bindings::ckpt_next_fd(task.as_ptr(), &mut fd, &mut cloexec) };
        // INVARIANT: The reference taken is given to the `ARef`.
        // SAFETY: As above.
        NonNull::new(p).map(|p| (fd, unsafe { ARef::from_raw(p.cast()) }, cloexec))
    }

    /// Returns what an image records of the file.
    pub(crate) fn info(&self) -> FileInfo {
        let mut i = FileInfo::default();
        // SAFETY: The file is valid; the function only writes the fields.
        unsafe {
            bindings::ckpt_file_info(
                self.0.get(),
                &mut i.flags,
                &mut i.pos,
                &mut i.mode,
                &mut i.rdev,
            )
        };
        i
    }

    /// Opens `path` (an absolute path without NUL) with open flags `flags`
    /// at position `pos`, with credentials `cred` (the caller's if `None`).
    pub(crate) fn open(
        path: &[u8],
        flags: u32,
        pos: i64,
        cred: Option<&Cred>,
    ) -> Result<ARef<File>> {
        let c = c_path(path)?;
        let cred = cred.map_or(ptr::null(), |c| c.as_ptr().cast_const());
        // SAFETY: `c` is NUL-terminated, `cred` null or valid; the function
        // returns a referenced file or an error pointer, which `from_new` takes.
        unsafe {
            File::from_new(bindings::ckpt_open_file(
                c.as_ptr().cast(),
                flags,
                pos,
                cred,
            ))
        }
    }

    /// Takes the file that a C function returned, referenced, or its error.
    ///
    /// # Safety
    ///
    /// `p` is an error pointer, or a file with a reference that is given to
    /// the result.
    pub(super) unsafe fn from_new(p: *mut bindings::file) -> Result<ARef<File>> {
        let p = kernel::error::from_err_ptr(p)?;
        let p = NonNull::new(p).ok_or(ENOENT)?;
        // INVARIANT: The reference is given to the `ARef`.
        // SAFETY: By the function's safety requirements.
        Ok(unsafe { ARef::from_raw(p.cast()) })
    }

    /// Makes a file with no name in directory `dir` (`O_TMPFILE`) as a
    /// task with credentials `cred` would, of mode `mode` and holding
    /// `data`; returns it open for reading and writing.
    pub(crate) fn new_unlinked(
        dir: &[u8],
        mode: u32,
        data: &[u8],
        cred: &Cred,
    ) -> Result<ARef<File>> {
        let c = c_path(dir)?;
        // CAST: the permission bits fit in `umode_t`.
        let mode = (mode & 0o7777) as u16;
        // SAFETY: `c` is NUL-terminated, `data` valid for its length, `cred`
        // valid; the function returns a referenced file or an error pointer,
        // which `from_new` takes.
        unsafe {
            File::from_new(bindings::ckpt_new_unlinked(
                c.as_ptr().cast(),
                mode,
                data.as_ptr().cast(),
                data.len(),
                cred.as_ptr().cast_const(),
            ))
        }
    }

    /// Opens the file again, with `flags` at `pos`, as a task with
    /// credentials `cred`.
    pub(crate) fn reopen(&self, flags: u32, pos: i64, cred: &Cred) -> Result<ARef<File>> {
        // SAFETY: The file and `cred` are valid; the function returns a
        // referenced file or an error pointer, which `from_new` takes.
        unsafe {
            File::from_new(bindings::ckpt_reopen_file(
                self.as_ptr(),
                flags,
                pos,
                cred.as_ptr().cast_const(),
            ))
        }
    }

    /// Returns the address of the file's inode (the overlay's, for a
    /// backing file): the identity of an unlinked file.
    pub(crate) fn inode_addr(&self) -> usize {
        // SAFETY: The file is valid.
        unsafe { bindings::ckpt_file_inode(self.as_ptr()) as usize }
    }

    /// Returns whether the file's last name is gone.
    pub(crate) fn is_unlinked(&self) -> bool {
        // SAFETY: The file is valid.
        unsafe { bindings::ckpt_file_unlinked(self.as_ptr()) }
    }

    /// Returns the size of the file.
    pub(crate) fn size(&self) -> u64 {
        // SAFETY: The file is valid.
        unsafe { bindings::ckpt_file_size(self.as_ptr()) }
    }

    /// Returns the path of the directory that held the file, unlinked, in
    /// `buf`: `EOPNOTSUPP` if it is gone or not reachable from the
    /// caller's root.
    pub(crate) fn dir_path<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        let len = i32::try_from(buf.len()).map_err(|_| EINVAL)?;
        // SAFETY: As in `path`.
        let p =
            unsafe { bindings::ckpt_file_dir_path(self.as_ptr(), buf.as_mut_ptr().cast(), len) };
        super::in_buf(buf, kernel::error::from_err_ptr(p)?)
    }

    /// Reads `buf.len()` bytes of the file from `pos`, as `pread()` would.
    pub(crate) fn read_at(&self, buf: &mut [u8], pos: i64) -> Result {
        // SAFETY: The file is valid and `buf` writable for its length.
        kernel::error::to_result(unsafe {
            bindings::ckpt_file_read_at(self.as_ptr(), buf.as_mut_ptr().cast(), buf.len(), pos)
        })
    }

    /// Whether the file can be read at any offset (`pread()`) as well as
    /// at its position.
    pub(crate) fn preadable(&self) -> bool {
        // SAFETY: The file is valid; the function reads its mode.
        unsafe { bindings::ckpt_file_preadable(self.as_ptr()) }
    }

    /// Moves the position of a [`File::preadable`] file `len` bytes on
    /// (back if negative); returns where it was.
    pub(crate) fn skip(&self, len: i64) -> Result<i64> {
        let mut pos = 0;
        // SAFETY: The file is valid; the function writes `pos` only.
        kernel::error::to_result(unsafe {
            bindings::ckpt_file_skip(self.as_ptr(), len, &mut pos)
        })?;
        Ok(pos)
    }

    /// Writes all of `buf` into the file at `pos`, as `pwrite()` would.
    pub(crate) fn write_at(&self, buf: &[u8], pos: i64) -> Result {
        // SAFETY: The file is valid and `buf` readable for its length.
        kernel::error::to_result(unsafe {
            bindings::ckpt_file_write_at(self.as_ptr(), buf.as_ptr().cast(), buf.len(), pos)
        })
    }

    /// Checks that a task with credentials `cred` could `chdir()` to this
    /// directory, or `chroot()` to it if `root` (`CAP_SYS_CHROOT`).
    pub(crate) fn may_enter(&self, cred: &Cred, root: bool) -> Result {
        // SAFETY: Both are valid; the function only checks permissions.
        let r = unsafe { bindings::ckpt_may_enter(self.0.get(), cred.as_ptr(), root) };
        kernel::error::to_result(r)
    }

    /// Installs the file at descriptor `fd` of the caller.
    pub(crate) fn install(&self, fd: u32, cloexec: bool) -> Result {
        // SAFETY: The file is valid; `replace_fd` takes its own reference.
        let r = unsafe { bindings::ckpt_install_fd(fd, self.0.get(), cloexec) };
        kernel::error::to_result(r)
    }

    /// Returns the address of the file, its identity in the object hash.
    pub(crate) fn addr(&self) -> usize {
        self.0.get() as usize
    }

    /// Returns the references the kernel counts on the file (`f_count`):
    /// one per descriptor, memory area and executable that holds it, and
    /// those taken for a while (this one among them).
    pub(crate) fn count(&self) -> u64 {
        // SAFETY: The file is valid.
        unsafe { bindings::ckpt_file_count(self.as_ptr()) }
    }

    pub(super) fn as_ptr(&self) -> *mut bindings::file {
        self.0.get()
    }

    fn mode(&self) -> u32 {
        // SAFETY: `f_mode` is set at open and only read here.
        unsafe { *ptr::addr_of!((*self.0.get()).f_mode) }
    }

    /// Returns where a read or write starts: the file position, or none for
    /// stream files (pipes, sockets), as `read(2)` does.
    fn ppos(&self) -> *mut bindings::loff_t {
        if self.mode() & bindings::FMODE_STREAM != 0 {
            ptr::null_mut()
        } else {
            // SAFETY: `self` is valid; `kernel_read`/`kernel_write` update the
            // position through this pointer as `read(2)` and `write(2)` do.
            unsafe { ptr::addr_of_mut!((*self.0.get()).f_pos) }
        }
    }

    /// Writes all of `buf` at the file position, or fails.
    pub(crate) fn write_all(&self, mut buf: &[u8]) -> Result {
        while !buf.is_empty() {
            // SAFETY: `buf` is valid for reads of its length; the file is valid.
            let n = unsafe {
                bindings::kernel_write(self.0.get(), buf.as_ptr().cast(), buf.len(), self.ppos())
            };
            match usize::try_from(n) {
                Ok(0) => return Err(EIO),
                Ok(n) => buf = &buf[n.min(buf.len())..],
                // CAST: negative returns are errnos.
                Err(_) => return Err(Error::from_errno(n as i32)),
            }
        }
        Ok(())
    }

    /// Fills all of `buf` from the file position.
    ///
    /// Fails with `ENODATA` at end of file, `EINTR` or another errno else.
    /// With `hold`, only a fatal signal interrupts the read: a stop or a
    /// freeze is put off until the caller returns to user space.
    pub(crate) fn read_exact(&self, mut buf: &mut [u8], hold: bool) -> Result {
        while !buf.is_empty() {
            let n = self.read(buf, hold)?;
            if n == 0 {
                return Err(errno(bindings::ENODATA));
            }
            let len = buf.len();
            buf = &mut core::mem::take(&mut buf)[n.min(len)..];
        }
        Ok(())
    }

    /// Reads at most `buf.len()` bytes from the file position, as `read(2)`
    /// does; returns how many (0 at end of file). `hold` as for
    /// [`File::read_exact`].
    pub(crate) fn read(&self, buf: &mut [u8], hold: bool) -> Result<usize> {
        loop {
            // SAFETY: `buf` is valid for writes of its length; the file is valid.
            let n = unsafe {
                bindings::kernel_read(
                    self.0.get(),
                    buf.as_mut_ptr().cast(),
                    buf.len(),
                    self.ppos(),
                )
            };
            match usize::try_from(n) {
                Ok(n) => return Ok(n.min(buf.len())),
                // SAFETY: No preconditions.
                Err(_) if hold && interrupted(n) && unsafe { bindings::ckpt_defer_signal() } => {}
                // CAST: negative returns are errnos.
                Err(_) => return Err(Error::from_errno(n as i32)),
            }
        }
    }
}

fn interrupted(n: isize) -> bool {
    [
        bindings::ERESTARTSYS,
        bindings::ERESTARTNOINTR,
        bindings::ERESTARTNOHAND,
        bindings::EINTR,
    ]
    .iter()
    // CAST: errno constants are small.
    .any(|&e| n == -(e as isize))
}

/// Returns `path` (without NUL) NUL-terminated, for the C functions that
/// open by path; `EINVAL` if it holds a NUL.
pub(super) fn c_path(path: &[u8]) -> Result<KVec<u8>> {
    if path.contains(&0) {
        return Err(EINVAL);
    }
    let mut c = KVec::with_capacity(path.len() + 1, GFP_KERNEL_ACCOUNT)?;
    c.extend_from_slice(path, GFP_KERNEL_ACCOUNT)?;
    c.push(0, GFP_KERNEL_ACCOUNT)?;
    Ok(c)
}

/// A descriptor table (`struct files_struct`), shared by the threads of a
/// process and by processes made with `clone(CLONE_FILES)`.
///
/// C header: [`include/linux/fdtable.h`](srctree/include/linux/fdtable.h)
///
/// # Invariants
///
/// Instances are only reached through an `ARef<FdTable>` that owns one
/// reference (`count`) on a valid table.
#[repr(transparent)]
pub(crate) struct FdTable(Opaque<bindings::files_struct>);

// SAFETY: Tables are refcounted atomically and may be used from any thread.
unsafe impl Send for FdTable {}

// SAFETY: The methods only call C functions that synchronise themselves.
unsafe impl Sync for FdTable {}

// SAFETY: The type invariants guarantee that `FdTable` is always refcounted.
unsafe impl AlwaysRefCounted for FdTable {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the count is nonzero.
        unsafe { bindings::ckpt_hold_files(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference, which is given up here.
        unsafe { bindings::ckpt_put_files(obj.cast().as_ptr()) }
    }
}

impl FdTable {
    /// Returns the table of `task`; `ESRCH` if it exited.
    pub(crate) fn of(task: &Task) -> Result<ARef<Self>> {
        // SAFETY: `task` is valid; the function takes its lock and returns
        // a referenced table or NULL.
        let ptr = unsafe { bindings::ckpt_task_files(task.as_ptr()) };
        let ptr = NonNull::new(ptr).ok_or(ESRCH)?;
        // SAFETY: The reference taken above is given to the `ARef`.
        Ok(unsafe { ARef::from_raw(ptr.cast()) })
    }

    /// The identity of the table.
    pub(crate) fn addr(&self) -> usize {
        self.0.get() as usize
    }

    /// The references the kernel counts on the table: one per task that
    /// uses it, and one per holder such as this one.
    pub(crate) fn refs(&self) -> u64 {
        // SAFETY: `self` is valid; the function reads an atomic counter.
        let n = unsafe { bindings::ckpt_files_refs(self.0.get()) };
        u64::try_from(n).unwrap_or(0)
    }

    /// Makes the caller use this table in place of its own, as if
    /// `clone(CLONE_FILES)` had made it; its own is dropped.
    pub(crate) fn share_with_current(&self) {
        // SAFETY: `self` is valid; the function takes its own reference.
        unsafe { bindings::ckpt_share_files(self.0.get()) }
    }
}

/// Root and working directories and umask (`struct fs_struct`), shared by
/// the threads of a process and by processes made with `clone(CLONE_FS)`.
///
/// C header: [`include/linux/fs_struct.h`](srctree/include/linux/fs_struct.h)
///
/// # Invariants
///
/// Instances are only reached through an `ARef<FsStruct>` that owns one
/// user (`users`) of a valid fs.
#[repr(transparent)]
pub(crate) struct FsStruct(Opaque<bindings::fs_struct>);

// SAFETY: Users are counted under the fs's lock, from any thread.
unsafe impl Send for FsStruct {}

// SAFETY: The methods only call C functions that synchronise themselves.
unsafe impl Sync for FsStruct {}

// SAFETY: The type invariants guarantee that `FsStruct` is always counted.
unsafe impl AlwaysRefCounted for FsStruct {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means it has users.
        unsafe { bindings::ckpt_hold_fs(self.0.get()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one user, which is given up here.
        unsafe { bindings::ckpt_put_fs(obj.cast().as_ptr()) }
    }
}

impl FsStruct {
    /// Returns the fs of `task`; `ESRCH` if it exited.
    pub(crate) fn of(task: &Task) -> Result<ARef<Self>> {
        // SAFETY: `task` is valid; the function takes its lock and returns
        // an fs with one more user, or NULL.
        let ptr = unsafe { bindings::ckpt_task_fs(task.as_ptr()) };
        let ptr = NonNull::new(ptr).ok_or(ESRCH)?;
        // SAFETY: The user added above is given to the `ARef`.
        Ok(unsafe { ARef::from_raw(ptr.cast()) })
    }

    /// The identity of the fs.
    pub(crate) fn addr(&self) -> usize {
        self.0.get() as usize
    }

    /// The users the kernel counts: one per task that uses it, and one per
    /// holder such as this one.
    pub(crate) fn users(&self) -> u64 {
        // SAFETY: `self` is valid; the function reads the count once.
        let n = unsafe { bindings::ckpt_fs_users(self.0.get()) };
        u64::try_from(n).unwrap_or(0)
    }

    /// Makes the caller use this fs in place of its own, as if
    /// `clone(CLONE_FS)` had made it; its own is dropped.
    pub(crate) fn share_with_current(&self) {
        // SAFETY: `self` is valid; the function adds its own user.
        unsafe { bindings::ckpt_share_fs(self.0.get()) }
    }
}
