// SPDX-License-Identifier: GPL-2.0

//! The x86 `unsafe` layer of checkpoint/restart: safe functions over the
//! task's saved user registers, its FPU state and the vDSO, and over the C
//! glue of arch/x86/kernel/checkpoint.c.
//!
//! C headers: [`arch/x86/include/asm/ptrace.h`](srctree/arch/x86/include/asm/ptrace.h),
//! [`arch/x86/include/asm/fpu/xstate.h`](srctree/arch/x86/include/asm/fpu/xstate.h),
//! [`include/linux/checkpoint.h`](srctree/include/linux/checkpoint.h).

use crate::sys::task::Task;
use kernel::{bindings, prelude::*};

/// Returns the user registers of a stopped task (or of the caller, as it
/// entered the kernel), in the order of `struct pt_regs`, then its fs and
/// gs bases.
pub(super) fn user_regs(task: &Task) -> [u64; 23] {
    // SAFETY: `task` is valid; a task's user registers live at the top of
    // its kernel stack, pinned by the checkpoint for its whole duration. The
    // task is frozen or is the caller, so they do not change while read.
    let r = unsafe { &*bindings::task_pt_regs(task.as_ptr()) };
    // SAFETY: `cs` and `ss` are the low 16 bits of their unions, valid in
    // every entry path.
    let (cs, ss) = unsafe { (r.__bindgen_anon_1.cs, r.__bindgen_anon_2.ss) };
    // SAFETY: `task` is valid; both functions read the saved base of a
    // stopped task, or the live one of the caller.
    let (fs, gs) = unsafe {
        (
            bindings::x86_fsbase_read_task(task.as_ptr()),
            bindings::x86_gsbase_read_task(task.as_ptr()),
        )
    };
    [
        r.r15,
        r.r14,
        r.r13,
        r.r12,
        r.bp,
        r.bx,
        r.r11,
        r.r10,
        r.r9,
        r.r8,
        r.ax,
        r.cx,
        r.dx,
        r.si,
        r.di,
        r.orig_ax,
        r.ip,
        cs.into(),
        r.flags,
        r.sp,
        ss.into(),
        fs,
        gs,
    ]
    .map(|v| v as u64)
}

/// Returns the extended state of a stopped task (or of the caller) as an
/// XSAVE area in the standard format; `ENODEV` without XSAVE.
pub(super) fn xstate(task: &Task) -> Result<KVVec<u8>> {
    // SAFETY: No preconditions.
    let size = unsafe { bindings::ckpt_xstate_size() };
    let mut buf = KVVec::from_elem(0u8, size as usize, GFP_KERNEL_ACCOUNT)?;
    // SAFETY: `buf` has room for `size` bytes; the task is valid, and
    // frozen or the caller, whose state is saved to memory first.
    let r = unsafe { bindings::ckpt_xstate_get(task.as_ptr(), buf.as_mut_ptr().cast(), size) };
    kernel::error::to_result(r)?;
    Ok(buf)
}

/// Checks registers of a cpu record before anything is changed: those of a
/// 64-bit task.
pub(super) fn check_regs(regs: &[u64; 23]) -> Result {
    // SAFETY: The function reads the 23 values.
    kernel::error::to_result(unsafe { bindings::ckpt_check_regs(regs.as_ptr()) })
}

/// Sets the user registers and fs/gs bases (in the order of a cpu record)
/// with which the caller returns to user space.
pub(super) fn set_regs(regs: &[u64; 23]) -> Result {
    // SAFETY: The function reads the 23 values; it writes only the caller's
    // own saved user registers.
    kernel::error::to_result(unsafe { bindings::ckpt_set_regs(regs.as_ptr()) })
}

/// Returns the XSAVE components this CPU and kernel support, and the size
/// of the standard-format area.
pub(super) fn xstate_support() -> (u64, usize) {
    // SAFETY: No preconditions.
    unsafe {
        (
            bindings::ckpt_xstate_features(),
            bindings::ckpt_xstate_size() as usize,
        )
    }
}

/// Checks an XSAVE area (standard format, this CPU's size) as [`set_xstate`]
/// would, without loading it.
pub(super) fn check_xstate(area: &[u8]) -> Result {
    let len = u32::try_from(area.len()).map_err(|_| EINVAL)?;
    // SAFETY: `area` is `len` readable bytes.
    kernel::error::to_result(unsafe { bindings::ckpt_xstate_check(area.as_ptr().cast(), len) })
}

/// Loads an XSAVE area (standard format, this CPU's size) into the caller's
/// extended state.
pub(super) fn set_xstate(area: &[u8]) -> Result {
    let len = u32::try_from(area.len()).map_err(|_| EINVAL)?;
    // SAFETY: `area` is `len` readable bytes.
    kernel::error::to_result(unsafe { bindings::ckpt_xstate_set(area.as_ptr().cast(), len) })
}

/// Maps this kernel's vDSO with its data at `vvar_start`; the sizes of both
/// parts must be those of the image.
pub(super) fn map_vdso(vvar_start: u64, vvar_len: u64, vdso_len: u64) -> Result {
    // SAFETY: No preconditions beyond the values, which it checks.
    let r = unsafe { bindings::ckpt_map_vdso(vvar_start as _, vvar_len as _, vdso_len as _) };
    kernel::error::to_result(r)
}
