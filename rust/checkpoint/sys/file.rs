// SPDX-License-Identifier: GPL-2.0

//! Open files, as the image stream and the log.
//!
//! C header: [`include/linux/fs.h`](srctree/include/linux/fs.h)

use super::errno;
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

    /// Returns the path of the file, as `d_path()` gives it, in `buf`.
    ///
    /// Fails with `ENAMETOOLONG` if it does not fit.
    pub(crate) fn path<'b>(&self, buf: &'b mut [u8]) -> Result<&'b [u8]> {
        let len = i32::try_from(buf.len()).map_err(|_| EINVAL)?;
        // SAFETY: `f_path` of a valid file is valid; `d_path` writes at most
        // `len` bytes into `buf`, ending with a NUL, and returns a pointer into
        // `buf` or an error pointer.
        let p = unsafe {
            bindings::d_path(
                ptr::addr_of!((*self.0.get()).f_path),
                buf.as_mut_ptr().cast(),
                len,
            )
        };
        let p = kernel::error::from_err_ptr(p)?;
        let start = (p as usize).wrapping_sub(buf.as_ptr() as usize);
        let s = buf.get(start..).ok_or(EINVAL)?;
        let end = s.iter().position(|&b| b == 0).ok_or(EINVAL)?;
        Ok(&s[..end])
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
    pub(crate) fn read_exact(&self, mut buf: &mut [u8]) -> Result {
        while !buf.is_empty() {
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
                Ok(0) => return Err(errno(bindings::ENODATA)),
                Ok(n) => {
                    let len = buf.len();
                    buf = &mut core::mem::take(&mut buf)[n.min(len)..];
                }
                // CAST: negative returns are errnos.
                Err(_) => return Err(Error::from_errno(n as i32)),
            }
        }
        Ok(())
    }
}
