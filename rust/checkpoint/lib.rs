// SPDX-License-Identifier: GPL-2.0

//! Linux checkpoint/restart.
//!
//! The kernel saves the state of a task into one stream of `ckpt_hdr` records
//! written to a file descriptor (`checkpoint(2)`), and later rebuilds it from
//! that stream (`restart(2)`). The image format is the `ckpt_format` crate
//! (rust/checkpoint/format), shared with the user tools.
//!
//! Each object class has its module with a symmetric checkpoint/restore pair
//! ([`task`], [`cred`], [`files`], [`mm`]...); restore reads a class's
//! records in the order its checkpoint writes them. Shared objects meet
//! only through the object hash ([`objhash::Object`]). [`sys`] is the thin
//! layer of safe abstractions over the C structures and, with the
//! architecture's own `sys` layer, the only place with `unsafe` code.
//!
//! See Documentation/checkpoint/.

#![no_std]

mod checkpoint;
mod cpu;
mod cred;
mod ctx;
mod deferqueue;
mod eclone;
mod files;
mod fs;
mod mm;
mod objhash;
mod restart;
mod signal;
mod sys;
mod task;
mod timer;
mod tree;

/// The architecture: its implementation of [`cpu::Arch`], and its `unsafe`
/// layer.
#[cfg(CONFIG_X86_64)]
#[path = "../../arch/x86/kernel/checkpoint"]
mod arch {
    mod cpu;
    mod sys;
    pub(crate) use cpu::X86_64 as Native;
}

#[cfg(CONFIG_CHECKPOINT_KUNIT_TEST)]
mod selftest;

use kernel::{
    bindings,
    error::{code::*, Error, Result},
    ffi::{c_int, c_long, c_uint, c_ulong},
    uaccess::UserPtr,
};

/// Maps the result of a system call that must not be restarted: an interrupted
/// checkpoint or restart has consumed part of its stream, so it reports
/// `EINTR` instead of being restarted transparently.
fn syscall_return(r: Result<i64>) -> c_long {
    match r {
        // CAST: ids and counts fit in a `long`.
        Ok(v) => v as c_long,
        Err(e) => {
            let e = if [
                ERESTARTSYS,
                ERESTARTNOINTR,
                ERESTARTNOHAND,
                ERESTART_RESTARTBLOCK,
            ]
            .iter()
            .any(|r| r.to_errno() == e.to_errno())
            {
                EINTR
            } else {
                e
            };
            Error::to_errno(e) as c_long
        }
    }
}

/// Body of `checkpoint(2)`: checkpoints task `pid` (0 for the caller) into the
/// file open for writing at `fd`, and logs to `logfd` (`-1` for no log).
///
/// Returns a positive checkpoint id, or a negative errno: `EINVAL` for unknown
/// `flags`, `EBADF` for a bad descriptor, `ESRCH` if there is no such task and
/// `EPERM` without ptrace attach access to it.
#[no_mangle]
pub extern "C" fn ckpt_sys_checkpoint(
    pid: c_int,
    fd: c_int,
    flags: c_ulong,
    logfd: c_int,
) -> c_long {
    // CAST: `unsigned long` is at most 64 bits.
    syscall_return(checkpoint::checkpoint(pid, fd, flags as u64, logfd))
}

/// Body of `restart(2)`: restores from the image open for reading at `fd`, and
/// logs to `logfd` (`-1` for no log). `pid` must be 0.
///
/// On success the caller has become the task of the image and the call
/// returns what that task's interrupted system call returns (0 for a task
/// that checkpointed itself). Otherwise a negative errno: `EINVAL` for bad
/// arguments, an invalid image or one this machine cannot run, `EBADF` for a
/// bad descriptor, `EPERM` for credentials beyond the caller's, `EBUSY` if
/// the caller shares its memory or descriptors, or the error of reopening a
/// file. A failure after the caller's memory was released kills the caller.
#[no_mangle]
pub extern "C" fn ckpt_sys_restart(pid: c_int, fd: c_int, flags: c_ulong, logfd: c_int) -> c_long {
    // CAST: `unsigned long` is at most 64 bits.
    syscall_return(restart::restart(pid, fd, flags as u64, logfd))
}

/// Body of `eclone(2)` (see [`eclone`]): creates a child of the caller with
/// the `nr_pids` pids at `pids`, outermost level first.
///
/// Returns the child's pid, or a negative errno: `EINVAL` for bad flags,
/// sizes, counts or pids, `E2BIG` for a longer `struct eclone_args` that
/// does not end in zeros, `EFAULT`, `EEXIST` for a pid in use, `EPERM`
/// without `CAP_SYS_ADMIN` (or `CAP_CHECKPOINT_RESTORE`) over a level whose
/// pid is chosen, or any error of `clone(2)`, which is restarted as
/// `clone(2)` is.
#[no_mangle]
pub extern "C" fn ckpt_sys_eclone(
    flags_low: c_uint,
    uargs: *const bindings::eclone_args,
    size: usize,
    pids: *const c_int,
) -> c_long {
    match eclone::eclone(flags_low, uargs as UserPtr, size, pids as UserPtr) {
        // CAST: `long` is at least 32 bits.
        Ok(pid) => pid as c_long,
        Err(e) => e.to_errno() as c_long,
    }
}
