// SPDX-License-Identifier: GPL-2.0

//! Signal state and per-task settings: checkpoint and restore.
//!
//! One signals record per task holds its signal actions (handler, flags,
//! restorer, mask), blocked mask, alternate stack, resource limits, umask
//! registered rseq area, `ITIMER_REAL` timer, and pending signals with
//! their siginfo. At restart the record is checked against the caller's
//! privilege when it is read (a hard limit above the caller's needs
//! `CAP_SYS_RESOURCE`), and applied at the end; pending signals are queued
//! last, as `rt_sigqueueinfo()` to itself would. POSIX timers and the CPU
//! time interval timers refuse the checkpoint (`EOPNOTSUPP`) until they
//! are supported.

use crate::{
    ctx::{Ctx, RecordBuf},
    sys::{
        eopnotsupp,
        task::{current, new_signals, Signals, Task},
    },
};
use ckpt_format::{LeArray, PendingSignal, Record, SignalsRecord};
use kernel::prelude::*;

/// Writes the signals record of `task`.
pub(crate) fn checkpoint_signals(ctx: &mut Ctx, task: &Task) -> Result {
    let s = match task.signals() {
        Ok(s) => s,
        Err(e) if e.to_errno() == eopnotsupp().to_errno() => {
            return Err(ctx.fail(
                e,
                0,
                format_args!("POSIX timers, ITIMER_VIRTUAL and ITIMER_PROF are not supported yet"),
            ))
        }
        Err(e) => return Err(e),
    };
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

/// What restart sets of the signal state at the end.
pub(crate) struct SignalState {
    signals: KBox<Signals>,
    /// Pending signals, in the layout of the record.
    pending: KVec<u8>,
}

/// Reads the signals record of a task and checks it against the caller.
pub(crate) fn restore_signals(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<SignalState> {
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
    if let Err(e) = current::check_signals(&s) {
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
        pending,
    })
}

impl SignalState {
    /// Sets the signal state, then queues the pending signals, which the
    /// restored mask and handlers meet.
    pub(crate) fn commit(&self, ctx: &mut Ctx) -> Result {
        current::reset_signals();
        current::set_signals(&self.signals).inspect_err(|e| {
            ctx.log(format_args!(
                "signals: cannot set them (errno {})",
                -e.to_errno()
            ))
        })?;
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
