// SPDX-License-Identifier: GPL-2.0

//! `eclone(2)`: `clone(2)` with chosen pids.
//!
//! Restart rebuilds a process tree with the pids it had, at every level of
//! nested pid namespaces, so the tool that forks the tree must choose each
//! child's pids. This is linux-cr v20's settled `eclone()`, on the checks
//! that `clone3()`'s `set_tid` (Linux 5.5) has since given the kernel: the
//! flags are refused as `clone3()` refuses them, and each chosen pid is
//! checked where `alloc_pid()` checks `set_tid` (range, `EEXIST`, and
//! `CAP_SYS_ADMIN` or `CAP_CHECKPOINT_RESTORE` over the user namespace that
//! owns its pid namespace).
//!
//! User space gives the pids from the outermost level it names down to the
//! child's own, as the image records them; `alloc_pid()` takes them the
//! other way round.

use crate::sys::task::current::{self, CloneArgs};
use kernel::{bindings, prelude::*, uaccess::UserPtr, uaccess::UserSlice};

const MAX_LEVELS: usize = bindings::MAX_PID_NS_LEVEL as usize;
const ARGS_SIZE_VER0: usize = bindings::ECLONE_ARGS_SIZE_VER0 as usize;
const _: () = assert!(core::mem::size_of::<current::EcloneArgs>() == ARGS_SIZE_VER0);

/// Clone flags above bit 31 that `eclone()` takes (`CLONE_INTO_CGROUP`
/// would need a cgroup descriptor, which `struct eclone_args` lacks).
const HIGH_FLAGS: u64 = bindings::CLONE_CLEAR_SIGHAND;

/// Body of `eclone(flags_low, uargs, size, pids)`: returns the child's pid
/// in the caller's namespace.
pub(crate) fn eclone(flags_low: u32, uargs: UserPtr, size: usize, upids: UserPtr) -> Result<i32> {
    // As clone3(): too short is a bad size; too long is a newer ABI.
    if size < ARGS_SIZE_VER0 {
        return Err(EINVAL);
    }
    if size > kernel::page::PAGE_SIZE {
        return Err(E2BIG);
    }
    let a = current::copy_eclone_args(uargs, size)?;
    if a.reserved0 != 0 || a.clone_flags_high & !(HIGH_FLAGS >> 32) != 0 {
        return Err(EINVAL);
    }
    let flags = u64::from(flags_low & !bindings::CSIGNAL) | a.clone_flags_high << 32;
    let exit_signal = flags_low & bindings::CSIGNAL;
    if exit_signal > bindings::_NSIG {
        return Err(EINVAL);
    }

    let nr = a.nr_pids as usize;
    if nr > MAX_LEVELS {
        return Err(EINVAL);
    }
    let mut set_tid = [0i32; MAX_LEVELS + 1];
    let mut n = 0;
    if nr > 0 {
        // A new pid namespace's own level is its init.
        if flags & u64::from(bindings::CLONE_NEWPID) != 0 {
            set_tid[0] = 1;
            n = 1;
        }
        let mut raw = [0u8; MAX_LEVELS * 4];
        let raw = &mut raw[..nr * 4];
        UserSlice::new(upids, raw.len()).reader().read_slice(raw)?;
        for pid in raw.chunks_exact(4).rev() {
            set_tid[n] = i32::from_ne_bytes([pid[0], pid[1], pid[2], pid[3]]);
            n += 1;
        }
    }
    current::clone(&CloneArgs {
        flags,
        exit_signal,
        stack: a.child_stack,
        stack_size: a.child_stack_size,
        tls: a.tls,
        parent_tid: a.parent_tid_ptr,
        child_tid: a.child_tid_ptr,
        set_tid: &set_tid[..n],
    })
}
