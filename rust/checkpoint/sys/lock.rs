// SPDX-License-Identifier: GPL-2.0

//! Locks on open files: `flock()` locks, owned by an open file, and POSIX
//! record locks, owned by a descriptor table; the C glue is sys/lock.c.
//!
//! C header: [`include/linux/filelock.h`](srctree/include/linux/filelock.h)

use super::{file::File, task::Task};
use core::ptr;
use kernel::{bindings, error::to_result, prelude::*};

/// Who owns a lock, and so what kind it is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    /// A `flock()` lock: the open file.
    Flock,
    /// A POSIX record lock: a descriptor table.
    Posix,
    /// An open file description lock (`F_OFD_SETLK`): the open file.
    Ofd,
    /// A lease (`F_SETLEASE`): the open file.
    Lease,
}

/// A lock held through a file.
pub(crate) struct Lock {
    /// Its owner.
    pub(crate) owner: Owner,
    /// A write (exclusive) lock, else a read (shared) one.
    pub(crate) write: bool,
    /// Its first byte.
    pub(crate) start: u64,
    /// Its last byte (`OFFSET_MAX`: to the end of the file).
    pub(crate) end: u64,
}

impl File {
    /// Returns the locks held through the file: its own (`flock()`, OFD
    /// locks, leases) and, with `task`, the POSIX locks of `task`'s
    /// descriptor table.
    pub(crate) fn locks(&self, task: Option<&Task>) -> Result<KVec<Lock>> {
        let task = task.map_or(ptr::null_mut(), |t| t.as_ptr());
        let mut raw: KVec<bindings::ckpt_lock> = KVec::new();
        loop {
            let cap = u32::try_from(raw.capacity()).map_err(|_| ENOMEM)?;
            // SAFETY: The file is valid, `task` null or valid; the function
            // writes at most `cap` entries at the start of the buffer.
            let n =
                unsafe { bindings::ckpt_file_locks(self.as_ptr(), task, raw.as_mut_ptr(), cap) };
            // CAST: a count, not negative.
            let n = n as usize;
            if n <= raw.capacity() {
                // SAFETY: The first `n` entries were written, and C
                // integers and bools have no invalid values.
                unsafe { raw.set_len(n) };
                break;
            }
            // More were taken meanwhile: room for them, and try again.
            raw.reserve(n + 4, GFP_KERNEL_ACCOUNT)?;
        }
        let mut locks = KVec::with_capacity(raw.len(), GFP_KERNEL_ACCOUNT)?;
        for l in raw.iter() {
            let owner = match l.flags {
                bindings::FL_FLOCK => Owner::Flock,
                bindings::FL_POSIX => Owner::Posix,
                bindings::FL_OFDLCK => Owner::Ofd,
                _ => Owner::Lease,
            };
            let lock = Lock {
                owner,
                write: l.write,
                start: l.start,
                end: l.end,
            };
            locks.push(lock, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(locks)
    }

    /// Returns true if the file has an owner for `SIGIO` (`F_SETOWN`, or
    /// that of a dnotify watch).
    pub(crate) fn has_owner(&self) -> bool {
        // SAFETY: The file is valid; the function reads its owner under
        // the owner's lock.
        unsafe { bindings::ckpt_file_has_owner(self.as_ptr()) }
    }

    /// Takes a `flock()` lock through the file, without waiting
    /// (`EWOULDBLOCK` if another holds one in the way), as `flock(2)` does.
    pub(crate) fn flock(&self, write: bool) -> Result {
        let cmd = if write {
            bindings::LOCK_EX
        } else {
            bindings::LOCK_SH
        };
        // SAFETY: The file is valid.
        to_result(unsafe { bindings::vfs_flock(self.as_ptr(), cmd | bindings::LOCK_NB) })
    }

    /// Checks that the caller could take a POSIX lock on bytes `start` to
    /// `end` of the file, as `F_GETLK` does: `EAGAIN` if another owner
    /// holds a lock in the way.
    pub(crate) fn test_posix_lock(&self, write: bool, start: u64, end: u64) -> Result {
        // SAFETY: The file is valid.
        to_result(unsafe { bindings::ckpt_posix_test_lock(self.as_ptr(), write, start, end) })
    }

    /// Takes a POSIX lock on bytes `start` to `end` of the file, open in
    /// the caller as descriptor `fd`, as `fcntl(F_SETLK)` does.
    pub(crate) fn posix_lock(&self, fd: u32, write: bool, start: u64, end: u64) -> Result {
        // SAFETY: The file is valid.
        to_result(unsafe { bindings::ckpt_posix_lock(fd, self.as_ptr(), write, start, end) })
    }
}
