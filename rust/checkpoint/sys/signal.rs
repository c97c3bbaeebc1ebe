// SPDX-License-Identifier: GPL-2.0

//! Signal state, pending signals, limits and timers of a task, the holding
//! of the caller's signals during a restart, and the restart blocks of
//! interrupted system calls; the C glue is sys/signal.c.
//!
//! C header: [`include/linux/sched/signal.h`](srctree/include/linux/sched/signal.h)

use super::task::Task;
use kernel::{bindings, prelude::*};

/// The restart block of a stopped task whose system call returned
/// `-ERESTART_RESTARTBLOCK` (`struct ckpt_restart_block`).
pub(crate) type RestartBlock = bindings::ckpt_restart_block;

impl Task {
    /// Reads the restart block of a stopped task whose system call returned
    /// `-ERESTART_RESTARTBLOCK`: `EOPNOTSUPP` unless it is a sleep or a
    /// futex wait with a timeout.
    pub(crate) fn restart_block(&self) -> Result<RestartBlock> {
        // SAFETY: All-zero bytes are a valid `ckpt_restart_block`.
        let mut r: RestartBlock = unsafe { core::mem::zeroed() };
        // SAFETY: `self` is valid and stopped (frozen), so its restart block
        // does not change; the function only writes `r`.
        let e = unsafe { bindings::ckpt_get_restart_block(self.as_ptr(), &mut r) };
        kernel::error::to_result(e)?;
        Ok(r)
    }
}

/// Signal state and per-task settings (`struct ckpt_signals`).
pub(crate) type Signals = bindings::ckpt_signals;

/// A pending signal (`struct ckpt_pending`).
pub(crate) type Pending = bindings::ckpt_pending;

/// Allocates a signals block with every field zero.
pub(crate) fn new_signals() -> Result<KBox<Signals>> {
    // SAFETY: All-zero bytes are a valid `ckpt_signals` (plain integers).
    Ok(KBox::new(
        unsafe { core::mem::zeroed() },
        GFP_KERNEL_ACCOUNT,
    )?)
}

impl Task {
    /// Reads the signal state, limits, umask, rseq area and `ITIMER_REAL` of
    /// a stopped task (or of the caller).
    pub(crate) fn signals(&self) -> Result<KBox<Signals>> {
        let mut s = new_signals()?;
        // SAFETY: `self` is valid and stopped or the caller; the function
        // fills `s` under the locks that protect each field.
        let r = unsafe { bindings::ckpt_get_signals(self.as_ptr(), &mut *s) };
        kernel::error::to_result(r)?;
        Ok(s)
    }

    /// Returns the pending signals of a stopped task (or of the caller),
    /// its own then its thread group's, in the layout of a signals record;
    /// `E2BIG` beyond `max`.
    pub(crate) fn pending_signals(&self, max: usize) -> Result<KVec<u8>> {
        // SAFETY: All-zero bytes are a valid `ckpt_pending`.
        let zero: Pending = unsafe { core::mem::zeroed() };
        let mut p = KVVec::from_elem(zero, max, GFP_KERNEL_ACCOUNT)?;
        let max = u32::try_from(max).map_err(|_| EINVAL)?;
        // SAFETY: `self` is valid; `p` has room for `max` entries, which the
        // function fills under the task's siglock.
        let n = unsafe { bindings::ckpt_get_pending(self.as_ptr(), p.as_mut_ptr(), max) };
        kernel::error::to_result(n)?;
        let mut out = KVec::new();
        // CAST: non-negative, checked above.
        for e in &p[..n as usize] {
            out.extend_from_slice(&e.signo.to_le_bytes(), GFP_KERNEL_ACCOUNT)?;
            out.extend_from_slice(&e.flags.to_le_bytes(), GFP_KERNEL_ACCOUNT)?;
            out.extend_from_slice(&e.info, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(out)
    }
}

/// Operations on the signal state of the caller, which restart turns into
/// the task of an image.
pub(crate) mod current {
    use super::{Pending, RestartBlock, Signals};
    use kernel::{bindings, prelude::*};

    /// Returns the caller's resource limits, soft and hard.
    pub(crate) fn rlimits() -> [[u64; 2]; bindings::RLIM_NLIMITS as usize] {
        let mut r = [[0u64; 2]; bindings::RLIM_NLIMITS as usize];
        // SAFETY: `r` has room for the `RLIM_NLIMITS` pairs the function
        // writes.
        unsafe { bindings::ckpt_get_rlimits(r.as_mut_ptr()) };
        r
    }

    /// Returns the most descriptors a task may have open (`fs.nr_open`).
    pub(crate) fn nr_open() -> u32 {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_nr_open() }
    }

    /// Sets the caller's blocked mask, alternate stack and rseq area, and if
    /// `group` its thread group's signal actions, limits, umask and
    /// `ITIMER_REAL`, which `signal::check_signals()` checked against the
    /// caller.
    pub(crate) fn set_signals(s: &Signals, group: bool) -> Result {
        // SAFETY: `s` is a valid `ckpt_signals`, only read.
        kernel::error::to_result(unsafe { bindings::ckpt_set_signals(s, group) })
    }

    /// Resets the alternate stack and the blocked mask, and if `group` the
    /// signal actions of the thread group, to those of a new program.
    pub(crate) fn reset_signals(group: bool) {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_reset_signals(group) }
    }

    /// Queues a pending signal to the caller (number, shared with the
    /// thread group, the first 48 bytes of its siginfo), as
    /// `rt_sigqueueinfo()` to itself would.
    pub(crate) fn queue_pending(signo: u32, shared: bool, info: &[u8]) -> Result {
        // SAFETY: All-zero bytes are a valid `ckpt_pending`.
        let mut p: Pending = unsafe { core::mem::zeroed() };
        // What the C side needs: a signal that `send_signal()` may queue
        // (`valid_signal()`, and not `sig_kernel_only()`), and a siginfo of
        // that signal.
        let kernel_only = [bindings::SIGKILL, bindings::SIGSTOP];
        if !(1..=bindings::_NSIG).contains(&signo)
            || kernel_only.contains(&signo)
            || info.len() != p.info.len()
            || info[..4] != signo.to_ne_bytes()
        {
            return Err(EINVAL);
        }
        p.signo = signo;
        p.flags = if shared {
            bindings::CKPT_PENDING_SHARED
        } else {
            0
        };
        p.info.copy_from_slice(info);
        // SAFETY: `p` is only read.
        kernel::error::to_result(unsafe { bindings::ckpt_queue_pending(&p) })
    }

    /// Blocks every signal but `SIGKILL` (and `SIGSTOP`, which cannot be
    /// blocked) until the restored mask is set: past the point of no return
    /// only a fatal signal may end the restart.
    pub(crate) fn hold_signals() {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_hold_signals() }
    }

    /// Makes the return to user space look for signals, stops and freezes
    /// that reads of the image put off (see [`hold_signals`]).
    pub(crate) fn resume_signals() {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_resume_signals() }
    }

    /// After an interrupted wait: returns false for a fatal signal;
    /// otherwise puts off the signal, stop or freeze until the return to
    /// user space ([`resume_signals`]), so that the wait can go on.
    pub(crate) fn defer_signal() -> bool {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_defer_signal() }
    }

    /// Returns true if the caller was sent a fatal signal.
    pub(crate) fn fatal_signal_pending() -> bool {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_fatal_signal_pending() }
    }

    /// Makes the return to user space restart an interrupted system call as
    /// a signal without handler would.
    pub(crate) fn notify_restart() {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_notify_restart() }
    }

    /// Sets the restart block to resume `r` for the time it had left.
    pub(crate) fn set_restart_block(r: &RestartBlock) -> Result {
        // SAFETY: `r` is only read; the function checks its values.
        kernel::error::to_result(unsafe { bindings::ckpt_set_restart_block(r) })
    }
}
