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
    ctx::Ctx,
    sys::{
        eopnotsupp,
        task::{current, new_signals, Signals, Task},
    },
};
use ckpt_format::{PendingSignal, Record, SignalsRecord, NSIG, RLIM_NLIMITS};
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
    let mut rlimits = KVec::with_capacity(16 * RLIM_NLIMITS, GFP_KERNEL_ACCOUNT)?;
    for r in &s.rlim {
        rlimits.extend_from_slice(&r[0].to_le_bytes(), GFP_KERNEL_ACCOUNT)?;
        rlimits.extend_from_slice(&r[1].to_le_bytes(), GFP_KERNEL_ACCOUNT)?;
    }
    let mut actions = KVec::with_capacity(32 * NSIG, GFP_KERNEL_ACCOUNT)?;
    for a in &s.action {
        for w in a {
            actions.extend_from_slice(&w.to_le_bytes(), GFP_KERNEL_ACCOUNT)?;
        }
    }
    ctx.write_record(&Record::Signals(SignalsRecord {
        blocked: s.blocked,
        altstack: [s.ss_sp, s.ss_size],
        altstack_flags: s.ss_flags,
        umask: s.umask,
        rseq: s.rseq,
        rseq_len: s.rseq_len,
        rseq_sig: s.rseq_sig,
        rlimits: &rlimits,
        actions: &actions,
        itimer_real: s.itimer_real,
        pending: &pending,
    }))
}

/// What restart keeps of a signals record until the end.
pub(crate) struct SignalsRestore {
    signals: Option<KBox<Signals>>,
    /// Pending signals, in the layout of the record.
    pending: KVec<u8>,
}

impl SignalsRestore {
    pub(crate) fn new() -> Self {
        Self {
            signals: None,
            pending: KVec::new(),
        }
    }
}

/// Checks a signals record against the caller and keeps it for
/// [`restore_signals_done`].
pub(crate) fn restore_signals(
    ctx: &mut Ctx,
    rec: &SignalsRecord<'_>,
    keep: &mut SignalsRestore,
) -> Result {
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
    for (i, r) in s.rlim.iter_mut().enumerate() {
        let (cur, max) = rec.rlimit(i);
        *r = [cur, max];
    }
    for (i, a) in s.action.iter_mut().enumerate() {
        *a = rec.action(i + 1);
    }
    if let Err(e) = current::check_signals(&s) {
        ctx.log(format_args!(
            "signals: limits, altstack, rseq or timer refused (errno {})",
            -e.to_errno()
        ));
        return Err(e);
    }
    keep.signals = Some(s);
    keep.pending = KVec::with_capacity(rec.pending.len(), GFP_KERNEL_ACCOUNT)?;
    keep.pending
        .extend_from_slice(rec.pending, GFP_KERNEL_ACCOUNT)?;
    Ok(())
}

/// Sets the signal state kept by [`restore_signals`], then queues the
/// pending signals, which the restored mask and handlers meet; without a
/// signals record, the task starts with the defaults of a new program.
pub(crate) fn restore_signals_done(ctx: &mut Ctx, keep: &SignalsRestore) -> Result {
    current::reset_signals();
    if let Some(s) = &keep.signals {
        current::set_signals(s).inspect_err(|e| {
            ctx.log(format_args!(
                "signals: cannot set them (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    for p in PendingSignal::iter(&keep.pending) {
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
