// SPDX-License-Identifier: GPL-2.0

//! The interval timers of a thread group besides `ITIMER_REAL`:
//! `ITIMER_VIRTUAL`, `ITIMER_PROF` and POSIX timers; the C glue is
//! sys/timer.c, over `posix_timer_get_state()` and `posix_timer_restore()`
//! (patch 0018).
//!
//! C header: [`include/linux/posix-timers.h`](srctree/include/linux/posix-timers.h)

use super::task::{PidNs, Task};
use kernel::{bindings, prelude::*};

/// An interval timer (`struct ckpt_timer`).
pub(crate) type Timer = bindings::ckpt_timer;

/// Returns a timer of kind `kind` (`CKPT_TIMER_*`) and id `id`, every other
/// field zero.
pub(crate) fn new_timer(kind: u32, id: i32) -> Timer {
    // SAFETY: All-zero bytes are a valid `ckpt_timer` (plain integers).
    let mut t: Timer = unsafe { core::mem::zeroed() };
    t.kind = kind;
    t.id = id;
    t
}

impl Task {
    /// Returns the ids of the POSIX timers of a stopped task's thread group
    /// (or of the caller's), in increasing order; `E2BIG` beyond `max`.
    pub(crate) fn timer_ids(&self, max: usize) -> Result<KVec<i32>> {
        let mut ids = KVVec::from_elem(0i32, max, GFP_KERNEL_ACCOUNT)?;
        let max = u32::try_from(max).map_err(|_| EINVAL)?;
        // SAFETY: `self` is valid; `ids` has room for the `max` ids the
        // function writes under the task's siglock.
        let n = unsafe { bindings::ckpt_get_timer_ids(self.as_ptr(), ids.as_mut_ptr(), max) };
        kernel::error::to_result(n)?;
        let mut out = KVec::new();
        // CAST: non-negative, checked above.
        out.extend_from_slice(&ids[..n as usize], GFP_KERNEL_ACCOUNT)?;
        out.sort_unstable();
        Ok(out)
    }

    /// Reads the timer that `t` names by kind and id, of a stopped task's
    /// thread group (or the caller's), with the thread a POSIX timer
    /// signals as seen from `ns`. `EINVAL` if there is no such timer.
    pub(crate) fn timer(&self, ns: &PidNs, t: &mut Timer) -> Result {
        // SAFETY: `self` is valid, `ns` null or valid; the function reads
        // the timer under its lock and the task's siglock, and writes `t`.
        kernel::error::to_result(unsafe { bindings::ckpt_get_timer(self.as_ptr(), ns.as_ptr(), t) })
    }
}

/// Gives the caller the timer `t`, which `timer::check_timer()` checked,
/// as `setitimer()` or `timer_create()` and `timer_settime()` would.
pub(crate) fn set_timer(t: &Timer) -> Result {
    // SAFETY: `t` is only read.
    kernel::error::to_result(unsafe { bindings::ckpt_set_timer(t) })
}
