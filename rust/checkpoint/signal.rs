// SPDX-License-Identifier: GPL-2.0

//! Signal state and per-task settings: checkpoint and restore.
//!
//! One signals record per task holds its signal actions (handler, flags,
//! restorer, mask), blocked mask, alternate stack, resource limits, umask
//! registered rseq area, `ITIMER_REAL` timer, and pending signals with
//! their siginfo. What a thread group shares is its leader's to set: the
//! actions, limits, umask and timer, which the records of its other threads
//! repeat and restart ignores there, and the signals pending for the whole
//! group, which only the leader's record holds. At restart the record is checked against the caller's
//! privilege when it is read (a hard limit above the caller's needs
//! `CAP_SYS_RESOURCE`), and applied at the end; pending signals are queued
//! last, as `rt_sigqueueinfo()` to itself would. The other timers of the
//! group are timer.rs's.

use crate::{
    ctx::{Ctx, RecordBuf},
    sys::{
        cred::capable,
        mm::current as mcur,
        signal::{current, new_signals, Signals},
        task::Task,
    },
};
use ckpt_format::{LeArray, PendingSignal, Record, SignalsRecord};
use kernel::{bindings, prelude::*};

/// Writes the signals record of `task`.
pub(crate) fn checkpoint_signals(ctx: &mut Ctx, task: &Task) -> Result {
    let s = task.signals()?;
    let pending = match task.pending_signals(SignalsRecord::MAX_PENDING) {
        Ok(p) => p,
        Err(e) => {
            return Err(ctx.fail(
                e,
                0,
                format_args!("more than {} pending signals", SignalsRecord::MAX_PENDING),
            ))
        }
    };
    ctx.write_record(&Record::Signals(SignalsRecord {
        blocked: s.blocked,
        altstack: [s.ss_sp, s.ss_size],
        altstack_flags: s.ss_flags,
        umask: s.umask,
        rseq: s.rseq,
        rseq_len: s.rseq_len,
        rseq_sig: s.rseq_sig,
        rlimits: LeArray::Values(&s.rlim),
        actions: LeArray::Values(&s.action),
        itimer_real: s.itimer_real,
        pending: &pending,
    }))
}

/// Checks that the caller may take the settings `s`, with the rules of the
/// system calls that set each of them.
fn check_signals(s: &Signals) -> Result {
    let nofile = bindings::RLIMIT_NOFILE as usize;
    for (i, (new, old)) in s.rlim.iter().zip(current::rlimits().iter()).enumerate() {
        // setrlimit(): soft within hard; raising a hard limit needs
        // CAP_SYS_RESOURCE; no more open files than fs.nr_open.
        if new[0] > new[1] {
            return Err(EINVAL);
        }
        if new[1] > old[1] && !capable(bindings::CAP_SYS_RESOURCE) {
            return Err(EPERM);
        }
        if i == nofile && new[1] != RLIM_INFINITY && new[1] > u64::from(current::nr_open()) {
            return Err(EPERM);
        }
    }
    // sigaltstack(): a stack of at least MINSIGSTKSZ bytes.
    if s.ss_flags & bindings::SS_DISABLE == 0 && s.ss_size < u64::from(bindings::MINSIGSTKSZ) {
        return Err(ENOMEM);
    }
    // rseq(): an aligned area of at least 32 bytes in user space.
    if s.rseq != 0 && (s.rseq % 32 != 0 || s.rseq_len < 32 || s.rseq >= mcur::task_size()) {
        return Err(EINVAL);
    }
    // setitimer(): times that ktime_t holds with room for the interval.
    if s.itimer_real.iter().any(|&t| t > KTIME_MAX / 2) {
        return Err(EINVAL);
    }
    Ok(())
}

/// `RLIM_INFINITY` in a limit of a signals record.
const RLIM_INFINITY: u64 = u64::MAX;

/// The largest `ktime_t`, in nanoseconds.
const KTIME_MAX: u64 = i64::MAX as u64;

/// What restart sets of the signal state at the end.
pub(crate) struct SignalState {
    signals: KBox<Signals>,
    /// The task leads its thread group, whose part of the state it sets.
    group: bool,
    /// Pending signals, in the layout of the record.
    pending: KVec<u8>,
}

/// Reads the signals record of a task and checks it against the caller.
/// Only a group leader (`group`) sets what its threads share.
pub(crate) fn restore_signals(
    ctx: &mut Ctx,
    buf: &mut RecordBuf,
    group: bool,
) -> Result<SignalState> {
    let rec = ctx.read::<SignalsRecord<'_>>(buf)?;
    let mut s = new_signals()?;
    s.blocked = rec.blocked;
    s.ss_sp = rec.altstack[0];
    s.ss_size = rec.altstack[1];
    s.ss_flags = rec.altstack_flags;
    s.umask = rec.umask;
    s.rseq = rec.rseq;
    s.rseq_len = rec.rseq_len;
    s.rseq_sig = rec.rseq_sig;
    s.itimer_real = rec.itimer_real;
    for (d, r) in s.rlim.iter_mut().zip(rec.rlimits.iter()) {
        *d = r;
    }
    for (d, a) in s.action.iter_mut().zip(rec.actions.iter()) {
        *d = a;
    }
    if let Err(e) = check_signals(&s) {
        ctx.log(format_args!(
            "signals: limits, altstack, rseq or timer refused (errno {})",
            -e.to_errno()
        ));
        return Err(e);
    }
    let mut pending = KVec::with_capacity(rec.pending.len(), GFP_KERNEL_ACCOUNT)?;
    pending.extend_from_slice(rec.pending, GFP_KERNEL_ACCOUNT)?;
    Ok(SignalState {
        signals: s,
        group,
        pending,
    })
}

impl SignalState {
    /// Sets the signal state, calls `actions_set`, then queues the pending
    /// signals, which the restored mask and handlers meet.
    pub(crate) fn commit(&self, ctx: &mut Ctx, actions_set: &dyn Fn() -> Result) -> Result {
        current::reset_signals(self.group);
        current::set_signals(&self.signals, self.group).inspect_err(|e| {
            ctx.log(format_args!(
                "signals: cannot set them (errno {})",
                -e.to_errno()
            ))
        })?;
        actions_set()?;
        for p in PendingSignal::iter(&self.pending) {
            current::queue_pending(p.signo, p.shared, p.info).inspect_err(|e| {
                ctx.log(format_args!(
                    "signals: cannot queue pending signal {} (errno {})",
                    p.signo,
                    -e.to_errno()
                ))
            })?;
        }
        Ok(())
    }
}
