// SPDX-License-Identifier: GPL-2.0

//! Pipes.
//!
//! C header: [`include/linux/pipe_fs_i.h`](srctree/include/linux/pipe_fs_i.h)

use super::{
    cred::Cred,
    file::{c_path, File},
};
use core::ptr::{self, NonNull};
use kernel::{bindings, prelude::*, types::ARef};

/// What checkpoint reads of a pipe.
pub(crate) struct PipeState {
    /// Capacity in bytes.
    pub(crate) size: u32,
    /// Open files of its two ends.
    pub(crate) ends: u32,
}

impl File {
    /// Returns the address of the pipe (its identity) if the file is an end
    /// of an anonymous pipe.
    pub(crate) fn pipe(&self) -> Option<usize> {
        // SAFETY: The file is valid; the function only reads it.
        let p = unsafe { bindings::ckpt_pipe_of(self.as_ptr()) };
        (!p.is_null()).then_some(p as usize)
    }

    /// Returns the address of the pipe (its identity) if the file is open
    /// on a FIFO.
    pub(crate) fn fifo(&self) -> Option<usize> {
        // SAFETY: The file is valid; the function only reads it.
        let p = unsafe { bindings::ckpt_fifo_of(self.as_ptr()) };
        (!p.is_null()).then_some(p as usize)
    }

    /// Opens the FIFO at `path` for reading and writing, as a task with
    /// credentials `cred` would, sizes it to `size` (with the checks and
    /// limits of `F_SETPIPE_SZ`) and writes `data` into it.
    pub(crate) fn open_fifo(
        path: &[u8],
        size: u32,
        data: &[u8],
        cred: &Cred,
    ) -> Result<ARef<File>> {
        let c = c_path(path)?;
        // SAFETY: `c` is NUL-terminated, `data` readable for its length and
        // `cred` valid; the function returns a referenced file or an error
        // pointer, which `from_new` takes.
        unsafe {
            File::from_new(bindings::ckpt_open_fifo(
                c.as_ptr().cast(),
                size,
                data.as_ptr().cast(),
                data.len(),
                cred.as_ptr().cast_const(),
            ))
        }
    }

    /// Copies the data buffered in the pipe of this end into `buf`, without
    /// consuming it; returns its length and the pipe's state. `E2BIG` if it
    /// does not fit, `EOPNOTSUPP` for a packet-mode or notification pipe.
    pub(crate) fn pipe_peek(&self, buf: &mut [u8]) -> Result<(usize, PipeState)> {
        let mut st = PipeState { size: 0, ends: 0 };
        // SAFETY: The file is valid and `buf` writable for its length; the
        // function takes the pipe's mutex.
        let n = unsafe {
            bindings::ckpt_pipe_peek(
                self.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                &mut st.size,
                &mut st.ends,
            )
        };
        if n < 0 {
            // CAST: an errno.
            return Err(Error::from_errno(n as i32));
        }
        // CAST: at most `buf.len()`.
        Ok((n as usize, st))
    }

    /// Creates a pipe of `size` bytes (with the checks and limits of
    /// `F_SETPIPE_SZ`) holding `data`; returns its read and write ends.
    pub(crate) fn new_pipe(size: u32, data: &[u8]) -> Result<(ARef<File>, ARef<File>)> {
        let mut files = [ptr::null_mut(); 2];
        // SAFETY: `files` has room for two pointers, `data` is readable; on
        // success both hold a reference.
        let r = unsafe {
            bindings::ckpt_pipe_create(files.as_mut_ptr(), size, data.as_ptr().cast(), data.len())
        };
        kernel::error::to_result(r)?;
        let [rd, wr] = files.map(|f| {
            // INVARIANT: Each reference is given to its `ARef`.
            // SAFETY: Non-null and referenced, as above.
            unsafe { ARef::from_raw(NonNull::new_unchecked(f).cast::<File>()) }
        });
        Ok((rd, wr))
    }

    /// Sets or clears `O_NONBLOCK`.
    pub(crate) fn set_nonblock(&self, nonblock: bool) {
        // SAFETY: The file is valid; the function takes its `f_lock`.
        unsafe { bindings::ckpt_file_set_nonblock(self.as_ptr(), nonblock) }
    }
}
