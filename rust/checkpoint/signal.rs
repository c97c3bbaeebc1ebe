// SPDX-License-Identifier: GPL-2.0

//! Signal state and per-task settings: checkpoint and restore.
//!
//! One signals record per task holds its signal actions (handler, flags,
//! restorer, mask), blocked mask, alternate stack, resource limits, umask
//! and registered rseq area. Pending signals are not saved. At restart the
//! record is checked against the caller's privilege when it is read (a hard
//! limit above the caller's needs `CAP_SYS_RESOURCE`), and applied at the end.

use crate::{
    ctx::Ctx,
    sys::task::{current, new_signals, Signals, Task},
};
use ckpt_format::{Record, SignalsRecord, NSIG, RLIM_NLIMITS};
use kernel::prelude::*;

/// Writes the signals record of `task`.
pub(crate) fn checkpoint_signals(ctx: &mut Ctx, task: &Task) -> Result {
    let s = task.signals()?;
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
    }))
}

/// Checks a signals record against the caller and keeps it for
/// [`restore_signals_done`].
pub(crate) fn restore_signals(
    ctx: &mut Ctx,
    rec: &SignalsRecord<'_>,
    keep: &mut Option<KBox<Signals>>,
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
    for (i, r) in s.rlim.iter_mut().enumerate() {
        let (cur, max) = rec.rlimit(i);
        *r = [cur, max];
    }
    for (i, a) in s.action.iter_mut().enumerate() {
        *a = rec.action(i + 1);
    }
    if let Err(e) = current::check_signals(&s) {
        ctx.log(format_args!(
            "signals: limits, altstack or rseq refused (errno {})",
            -e.to_errno()
        ));
        return Err(e);
    }
    *keep = Some(s);
    Ok(())
}

/// Sets the signal state kept by [`restore_signals`]; without a signals
/// record, the task starts with the defaults of a new program.
pub(crate) fn restore_signals_done(ctx: &mut Ctx, keep: &Option<KBox<Signals>>) -> Result {
    current::reset_signals();
    if let Some(s) = keep {
        current::set_signals(s).inspect_err(|e| {
            ctx.log(format_args!(
                "signals: cannot set them (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    Ok(())
}
