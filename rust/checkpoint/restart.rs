// SPDX-License-Identifier: GPL-2.0

//! `restart(2)`: read, validate and restore an image.
//!
//! The caller becomes the task of the image. Records are applied as they are
//! read, in two phases. Up to the mm record, nothing of the caller changes:
//! credentials are checked, registers and extended state checked and kept,
//! files reopened. A failure there returns an error to the caller, unharmed.
//! The mm record releases the caller's memory; areas and pages are rebuilt
//! from the image, and at the tail the rest is set: mm layout, descriptors,
//! command name, extended state, registers, credentials. A failure after the
//! memory is released cannot return to the caller's program: the caller is
//! killed (`SIGKILL`), and the log says why.

use crate::{
    cpu::{Arch, Native},
    ctx::{Ctx, Mode, RecordBuf},
    sys::{signal::current as signals, task::current, uts},
    task,
};
use ckpt_format::{FormatError, Header, RecordType, Tail, RESTART_FLAGS_MASK, RESTART_FROZEN};
use kernel::prelude::*;

/// Restarts from the image in `fd`, logging to `logfd`.
///
/// `pid` must be 0: the image is restored into the caller (a coordinator mode
/// that restores a tree built by user space comes with multi-task restart).
/// Returns what the restored task's interrupted system call returns.
pub(crate) fn restart(pid: i32, fd: i32, flags: u64, logfd: i32) -> Result<i64> {
    if flags & !RESTART_FLAGS_MASK != 0 || pid != 0 {
        return Err(EINVAL);
    }
    let mut ctx = Ctx::new(Mode::Restart, fd, logfd)?;
    if !current::is_alone() {
        ctx.log(format_args!(
            "the caller shares its memory or descriptors with another task"
        ));
        return Err(EBUSY);
    }
    let r = restore(&mut ctx);
    if r.is_ok() && flags & RESTART_FROZEN != 0 {
        current::stop();
    }
    if r.is_ok() && ctx.holds_signals() {
        signals::resume_signals();
    }
    if let Err(e) = &r {
        if ctx.holds_signals() {
            ctx.log(format_args!(
                "failed after the caller's memory was released (errno {}): killing it",
                -e.to_errno()
            ));
            current::kill();
        }
    }
    r
}

/// Reads the image, in the order `checkpoint(2)` writes it: the header,
/// the task, the tail.
fn restore(ctx: &mut Ctx) -> Result<i64> {
    let mut buf = RecordBuf::new();
    let offset = ctx.offset();
    let h = ctx.read::<Header<'_>>(&mut buf)?;
    restore_header(ctx, &h, offset)?;
    let task = task::restore_task(ctx, &mut buf)?;
    if ctx.peek_type()?.0 == RecordType::Task {
        ctx.log(format_args!(
            "images of several tasks are not supported yet"
        ));
        return Err(EINVAL);
    }
    ctx.read::<Tail>(&mut buf)?;
    let ret = task.commit(ctx)?;
    ctx.log(format_args!(
        "restored ({} bytes, {} shared objects); the task resumes",
        ctx.offset(),
        ctx.objhash.count()
    ));
    Ok(ret)
}

/// Checks that this kernel can restore an image with header `h`.
fn restore_header(ctx: &mut Ctx, h: &Header<'_>, offset: u64) -> Result {
    let release = core::str::from_utf8(h.release).unwrap_or("?");
    ctx.log(format_args!(
        "image {} taken on {} {release} at {}",
        h.ckpt_id,
        h.arch.name(),
        h.time
    ));
    if h.arch != Native::ARCH {
        return Err(ctx.bad_image(offset, FormatError::BadArch(h.arch as u32)));
    }
    if h.page_size != uts::page_size() {
        return Err(ctx.bad_image(offset, FormatError::BadValue("page size")));
    }
    Ok(())
}
