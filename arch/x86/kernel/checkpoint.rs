// SPDX-License-Identifier: GPL-2.0

//! x86 support of checkpoint/restart (a module of the `checkpoint` crate).
//!
//! CPU state: checkpoint and restore of the registers of an x86-64 task.

use crate::{
    ctx::Ctx,
    sys::{eopnotsupp, task::Task},
};
use ckpt_format::{Arch, CpuX86_64, Record, Xstate};
use kernel::prelude::*;

/// The architecture of the images this kernel writes and restores.
pub(crate) const ARCH: Arch = Arch::X86_64;

/// Writes the general registers, fs/gs bases and extended state (the XSAVE
/// area, with the components in use) of `task`.
///
/// The normalization of interrupted system calls comes next.
pub(crate) fn checkpoint_cpu(ctx: &mut Ctx, task: &Task) -> Result {
    ctx.write_record(&Record::CpuX86_64(CpuX86_64 {
        regs: task.user_regs(),
    }))?;
    let area = match task.xstate() {
        Ok(a) => a,
        Err(e) if e.to_errno() == ENODEV.to_errno() => {
            return Err(ctx.fail(eopnotsupp(), 0, format_args!("CPU without XSAVE")))
        }
        Err(e) => return Err(ctx.fail(e, 0, format_args!("cannot read the extended state"))),
    };
    ctx.write_record(&Record::Xstate(Xstate { area: &area }))
}

/// Restores the extended state from its record (validated only).
pub(crate) fn restore_xstate(ctx: &mut Ctx, rec: &Xstate<'_>) -> Result {
    ctx.log(format_args!(
        "xstate: {} bytes, components {:#x}",
        rec.area.len(),
        rec.xfeatures()
    ));
    Ok(())
}

/// Restores registers from their record (validated only: task restore is
/// not implemented yet).
pub(crate) fn restore_cpu(ctx: &mut Ctx, rec: &CpuX86_64) -> Result {
    ctx.log(format_args!(
        "cpu: ip {:#x} sp {:#x} orig_ax {}",
        rec.get("ip").unwrap_or(0),
        rec.get("sp").unwrap_or(0),
        rec.get("orig_ax").unwrap_or(0) as i64
    ));
    Ok(())
}
