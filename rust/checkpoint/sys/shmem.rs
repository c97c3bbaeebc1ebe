// SPDX-License-Identifier: GPL-2.0

//! Shared memory of the kernel's internal mount: memfds and shared
//! anonymous memory, read through a file open on it and made again with
//! `memfd_create()`'s checks; the C glue is sys/shmem.c.
//!
//! C headers: [`include/linux/memfd.h`](srctree/include/linux/memfd.h),
//! [`include/linux/shmem_fs.h`](srctree/include/linux/shmem_fs.h)

use super::file::{c_path, File};
use core::ptr;
use kernel::{bindings, error::to_result, prelude::*, types::ARef};

impl File {
    /// Returns true if the file is shmem that no path reaches: a memfd, or
    /// shared anonymous memory.
    pub(crate) fn is_internal_shmem(&self) -> bool {
        // SAFETY: The file is valid; the function reads the caller's root.
        unsafe { bindings::ckpt_file_internal_shmem(self.as_ptr()) }
    }

    /// Returns the name of the file's dentry (a memfd's `memfd:NAME`), in
    /// `buf`, cut to its length.
    pub(crate) fn dentry_name<'b>(&self, buf: &'b mut [u8]) -> &'b [u8] {
        let len = i32::try_from(buf.len()).unwrap_or(i32::MAX);
        // SAFETY: The file is valid; the function writes at most `len`
        // bytes, NUL included, into `buf`.
        let n = unsafe { bindings::ckpt_file_name(self.as_ptr(), buf.as_mut_ptr().cast(), len) };
        // CAST: a length, not negative.
        let n = (n as usize).min(buf.len().saturating_sub(1));
        &buf[..n]
    }

    /// Returns the seals of a shmem file (`F_GET_SEALS`).
    pub(crate) fn seals(&self) -> Result<u32> {
        // SAFETY: The file is valid.
        let r = unsafe { bindings::memfd_fcntl(self.as_ptr(), bindings::F_GET_SEALS, 0) };
        to_result(i32::try_from(r).map_err(|_| EINVAL)?)?;
        // CAST: seals are small positive bits.
        Ok(r as u32)
    }

    /// Adds `seals` to a memfd, as `fcntl(F_ADD_SEALS)` does.
    pub(crate) fn add_seals(&self, seals: u32) -> Result {
        // SAFETY: The file is valid.
        let r = unsafe { bindings::memfd_fcntl(self.as_ptr(), bindings::F_ADD_SEALS, seals) };
        to_result(i32::try_from(r).map_err(|_| EINVAL)?)
    }

    /// Returns how many memory areas, in any mm, map the file's inode.
    pub(crate) fn mapped_areas(&self) -> u64 {
        // SAFETY: The file is valid; the function walks the areas under the
        // mapping's lock.
        let n = unsafe { bindings::ckpt_shmem_mapped(self.as_ptr()) };
        u64::try_from(n).unwrap_or(u64::MAX)
    }

    /// Makes shared memory of `size` bytes that begin with `data` (the
    /// caller writes the rest): a memfd named `memfd` as `memfd_create()`
    /// makes it with `flags`, or, if `None`, the file of shared anonymous
    /// memory. Returns a file open on it for reading and writing.
    pub(crate) fn new_shmem(
        memfd: Option<&[u8]>,
        flags: u32,
        data: &[u8],
        size: u64,
    ) -> Result<ARef<File>> {
        let size = i64::try_from(size).map_err(|_| EFBIG)?;
        let name = memfd.map(c_path).transpose()?;
        let name = name.as_ref().map_or(ptr::null(), |n| n.as_ptr());
        // SAFETY: `name` is null or NUL-terminated, `data` valid for its
        // length; the function returns a referenced file or an error
        // pointer, which `from_new` takes.
        unsafe {
            File::from_new(bindings::ckpt_new_shmem(
                name.cast(),
                flags,
                data.as_ptr().cast(),
                data.len(),
                size,
            ))
        }
    }
}
