// SPDX-License-Identifier: GPL-2.0

//! x86 support of checkpoint/restart (a module of the `checkpoint` crate).
//!
//! CPU state: checkpoint and restore of the registers of an x86-64 task.

use crate::{ctx::Ctx, sys::task::Task};
use ckpt_format::{Arch, CpuX86_64, Record};
use kernel::prelude::*;

/// The architecture of the images this kernel writes and restores.
pub(crate) const ARCH: Arch = Arch::X86_64;

/// Writes the general registers and fs/gs bases of `task`.
///
/// The extended (FPU, SSE, AVX) state and the normalization of interrupted
/// system calls come next; until then the image is not restartable, which
/// restart reports.
pub(crate) fn checkpoint_cpu(ctx: &mut Ctx, task: &Task) -> Result {
    ctx.write_record(&Record::CpuX86_64(CpuX86_64 {
        regs: task.user_regs(),
    }))
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
