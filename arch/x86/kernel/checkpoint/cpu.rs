// SPDX-License-Identifier: GPL-2.0

//! x86-64 CPU state: the [`Arch`] implementation of this architecture.
//!
//! A task's CPU state is a cpu record (the general registers in the order
//! of `struct pt_regs`, then the fs and gs bases) and an xstate record (the
//! XSAVE area in the standard format, with the components in use). A task
//! in a system call has `orig_ax` >= 0, and `ax` is what the call returns.

use super::sys;
use crate::{
    cpu::{Arch, Syscall},
    ctx::{Ctx, RecordBuf},
    sys::{eopnotsupp, task::Task},
};
use ckpt_format::{ArchRecord, CpuX86_64, Record, Xstate};
use kernel::prelude::*;

/// x86-64.
pub(crate) struct X86_64;

const AX: usize = 10;
const ORIG_AX: usize = 15;

/// The CPU state of the task being restored.
pub(crate) struct Cpu {
    regs: [u64; 23],
    xstate: KVVec<u8>,
}

fn syscall_of(regs: &[u64; 23]) -> Option<Syscall> {
    // CAST: signed values in `unsigned long` slots.
    let (ret, nr) = (regs[AX] as i64, regs[ORIG_AX] as i64);
    (nr >= 0).then_some(Syscall { nr, ret })
}

impl Arch for X86_64 {
    const ARCH: ckpt_format::Arch = ckpt_format::Arch::X86_64;
    type Cpu = Cpu;

    fn syscall(task: &Task) -> Option<Syscall> {
        syscall_of(&sys::user_regs(task))
    }

    fn checkpoint_cpu(ctx: &mut Ctx, task: &Task, ret: Option<i64>) -> Result {
        let mut regs = sys::user_regs(task);
        // A restart could not load them: refuse now rather than write an
        // image that no kernel restores.
        if sys::check_regs(&regs).is_err() {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!("32-bit (ia32) tasks are not supported"),
            ));
        }
        if let Some(ret) = ret {
            // CAST: signed values in `unsigned long` slots.
            regs[AX] = ret as u64;
        }
        ctx.write_record(&Record::Arch(ArchRecord::X86_64Cpu(CpuX86_64 { regs })))?;
        let area = match sys::xstate(task) {
            Ok(a) => a,
            Err(e) if e.to_errno() == ENODEV.to_errno() => {
                return Err(ctx.fail(eopnotsupp(), 0, format_args!("CPU without XSAVE")))
            }
            Err(e) => return Err(ctx.fail(e, 0, format_args!("cannot read the extended state"))),
        };
        ctx.write_record(&Record::Arch(ArchRecord::X86Xstate(Xstate { area: &area })))
    }

    fn restore_cpu(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<Cpu> {
        let regs = ctx.read::<CpuX86_64>(buf)?.regs;
        if sys::check_regs(&regs).is_err() {
            ctx.log(format_args!(
                "cpu: segments or fs/gs bases not those of a 64-bit task"
            ));
            return Err(EINVAL);
        }
        let rec = ctx.read::<Xstate<'_>>(buf)?;
        let xstate = restore_xstate(ctx, &rec)?;
        Ok(Cpu { regs, xstate })
    }

    fn cpu_syscall(cpu: &Cpu) -> Option<Syscall> {
        syscall_of(&cpu.regs)
    }

    fn set_cpu_return(cpu: &mut Cpu, ret: i64) {
        // CAST: signed values in `unsigned long` slots.
        cpu.regs[AX] = ret as u64;
    }

    fn commit_cpu(ctx: &mut Ctx, cpu: Cpu) -> Result<i64> {
        sys::set_xstate(&cpu.xstate).inspect_err(|e| {
            ctx.log(format_args!(
                "xstate: refused by this CPU (errno {})",
                -e.to_errno()
            ))
        })?;
        sys::set_regs(&cpu.regs)?;
        // CAST: as above.
        Ok(cpu.regs[AX] as i64)
    }

    fn map_vdso(data: (u64, u64), text: (u64, u64)) -> Result {
        if data.1 != text.0 {
            return Err(EINVAL);
        }
        sys::map_vdso(data.0, data.1 - data.0, text.1 - text.0)
    }
}

/// Checks the extended state of the image against this CPU; returns it in
/// this CPU's layout.
fn restore_xstate(ctx: &mut Ctx, rec: &Xstate<'_>) -> Result<KVVec<u8>> {
    let (features, size) = sys::xstate_support();
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
    sys::check_xstate(&area).inspect_err(|e| {
        ctx.log(format_args!(
            "xstate: refused by this CPU: reserved MXCSR or header bits, or components without permission (errno {})",
            -e.to_errno()
        ))
    })?;
    Ok(area)
}
