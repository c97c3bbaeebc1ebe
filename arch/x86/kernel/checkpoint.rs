// SPDX-License-Identifier: GPL-2.0

//! x86 support of checkpoint/restart (a module of the `checkpoint` crate).
//!
//! CPU state: checkpoint and restore of the registers of an x86-64 task,
//! its extended state, and the system call it was stopped in.
//!
//! A task stopped in a system call has `orig_ax` >= 0 and, if the call was
//! interrupted, `ax` = `-ERESTART*`. These values are saved as they are and
//! restart returns `ax` as its own result, so that the usual signal-return
//! path restarts the call. A call that returned `-ERESTART_RESTARTBLOCK`
//! also needs its restart block: sleeps and futex waits with a timeout are
//! saved with the time left (see [`RestartBlock`]); other kinds (poll, ...)
//! are turned into `-EINTR`, as an interrupting signal with a handler would.

use crate::{
    ctx::Ctx,
    sys::{
        eopnotsupp,
        task::{current, RestartBlock as Block, Task},
    },
};
use ckpt_format::{Arch, CpuX86_64, Record, RestartBlock, RestartKind, Xstate};
use kernel::{bindings, prelude::*};

/// The architecture of the images this kernel writes and restores.
pub(crate) const ARCH: Arch = Arch::X86_64;

const AX: usize = 10;
const ORIG_AX: usize = 15;
const ERESTARTSYS: i64 = 512;
const ERESTART_RESTARTBLOCK: i64 = 516;
const EINTR: i64 = 4;

/// Writes the general registers, fs/gs bases and extended state (the XSAVE
/// area, with the components in use) of `task`, and its restart block.
pub(crate) fn checkpoint_cpu(ctx: &mut Ctx, task: &Task) -> Result {
    let mut regs = task.user_regs();
    // A restart could not load them: refuse now rather than write an image
    // that no kernel restores.
    if current::check_regs(&regs).is_err() {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("32-bit (ia32) tasks are not supported"),
        ));
    }
    let mut block = None;
    // CAST: both are signed values in `unsigned long` slots.
    let (ax, orig_ax) = (regs[AX] as i64, regs[ORIG_AX] as i64);
    if task.is_current() {
        // Self-checkpoint: the restarted task sees checkpoint(2) return 0.
        regs[AX] = 0;
    } else if orig_ax >= 0 && ax == -ERESTART_RESTARTBLOCK {
        match task.restart_block() {
            Ok(b) => block = Some(b),
            Err(_) => {
                ctx.log(format_args!(
                    "system call {orig_ax} has a restart block of an unsupported kind: it will return EINTR"
                ));
                regs[AX] = (-EINTR) as u64;
            }
        }
    }
    ctx.write_record(&Record::CpuX86_64(CpuX86_64 { regs }))?;
    let area = match task.xstate() {
        Ok(a) => a,
        Err(e) if e.to_errno() == ENODEV.to_errno() => {
            return Err(ctx.fail(eopnotsupp(), 0, format_args!("CPU without XSAVE")))
        }
        Err(e) => return Err(ctx.fail(e, 0, format_args!("cannot read the extended state"))),
    };
    ctx.write_record(&Record::Xstate(Xstate { area: &area }))?;
    if let Some(b) = block {
        let kind = if b.kind == bindings::CKPT_RESTART_FUTEX {
            RestartKind::FutexWait
        } else {
            RestartKind::Nanosleep
        };
        ctx.write_record(&Record::RestartBlock(RestartBlock {
            kind,
            clockid: b.clockid,
            remaining_ns: b.remaining,
            addr: b.addr,
            rmtp_type: b.rmtp_type,
            futex_val: b.val,
            futex_bitset: b.bitset,
            futex_shared: b.shared != 0,
        }))?;
    }
    Ok(())
}

/// The CPU state of the task being restored, loaded at the end of restart.
pub(crate) struct CpuRestore {
    regs: Option<[u64; 23]>,
    xstate: KVVec<u8>,
    block: Option<Block>,
}

impl CpuRestore {
    pub(crate) fn new() -> Self {
        Self {
            regs: None,
            xstate: KVVec::new(),
            block: None,
        }
    }
}

/// Checks the registers of the record; they are set by [`restore_cpu_done`].
pub(crate) fn restore_cpu(ctx: &mut Ctx, rec: &CpuX86_64, st: &mut CpuRestore) -> Result {
    if current::check_regs(&rec.regs).is_err() {
        ctx.log(format_args!(
            "cpu: segments or fs/gs bases not those of a 64-bit task"
        ));
        return Err(EINVAL);
    }
    st.regs = Some(rec.regs);
    Ok(())
}

/// Checks the extended state against this CPU and keeps it, in this CPU's
/// layout, for [`restore_cpu_done`].
pub(crate) fn restore_xstate(ctx: &mut Ctx, rec: &Xstate<'_>, st: &mut CpuRestore) -> Result {
    let (features, size) = current::xstate_support();
    let used = rec.xfeatures();
    if used & !features != 0 {
        ctx.log(format_args!(
            "xstate: the image uses components {:#x} that this CPU lacks (it has {features:#x})",
            used & !features
        ));
        return Err(EINVAL);
    }
    // Components sit at fixed offsets of the standard format: an area of
    // another size converts as long as those in use fit.
    let mut area = KVVec::from_elem(0u8, size, GFP_KERNEL_ACCOUNT)?;
    let n = size.min(rec.area.len());
    if rec.area[n..].iter().any(|&b| b != 0) {
        ctx.log(format_args!(
            "xstate: state beyond this CPU's {size}-byte area"
        ));
        return Err(EINVAL);
    }
    area[..n].copy_from_slice(&rec.area[..n]);
    // Refused now, rather than when it is loaded, after the point of no
    // return.
    current::check_xstate(&area).inspect_err(|e| {
        ctx.log(format_args!(
            "xstate: refused by this CPU: reserved MXCSR or header bits, or components without permission (errno {})",
            -e.to_errno()
        ))
    })?;
    st.xstate = area;
    Ok(())
}

/// Keeps the restart block of the interrupted call.
pub(crate) fn restore_restart_block(rec: &RestartBlock, st: &mut CpuRestore) -> Result {
    st.block = Some(Block {
        kind: match rec.kind {
            RestartKind::Nanosleep => bindings::CKPT_RESTART_NANOSLEEP,
            RestartKind::FutexWait => bindings::CKPT_RESTART_FUTEX,
        },
        clockid: rec.clockid,
        remaining: rec.remaining_ns,
        addr: rec.addr,
        rmtp_type: rec.rmtp_type,
        val: rec.futex_val,
        bitset: rec.futex_bitset,
        shared: u32::from(rec.futex_shared),
    });
    Ok(())
}

/// Loads the CPU state into the caller; returns the value its system call
/// returns to user space (the saved `ax`).
pub(crate) fn restore_cpu_done(ctx: &mut Ctx, st: &mut CpuRestore) -> Result<i64> {
    let Some(mut regs) = st.regs else {
        ctx.log(format_args!("cpu: the image has no registers"));
        return Err(EINVAL);
    };
    if !st.xstate.is_empty() {
        current::set_xstate(&st.xstate).inspect_err(|e| {
            ctx.log(format_args!(
                "xstate: refused by this CPU (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    // CAST: signed values in `unsigned long` slots.
    let (ax, orig_ax) = (regs[AX] as i64, regs[ORIG_AX] as i64);
    if orig_ax >= 0 && ax == -ERESTART_RESTARTBLOCK {
        match &st.block {
            Some(b) => current::set_restart_block(b)?,
            None => regs[AX] = (-EINTR) as u64,
        }
    }
    current::set_regs(&regs)?;
    if orig_ax >= 0 && (-ERESTART_RESTARTBLOCK..=-ERESTARTSYS).contains(&ax) {
        current::notify_restart();
    }
    // CAST: as above.
    Ok(regs[AX] as i64)
}
