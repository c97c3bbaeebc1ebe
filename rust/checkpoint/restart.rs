// SPDX-License-Identifier: GPL-2.0

//! `restart(2)`: read, validate and restore an image.
//!
//! With `RESTART_TREE`, the tree of the image is rebuilt as descendants of
//! the caller ([`tree`]). Otherwise the caller becomes the one task of the
//! image. Records are applied as they are
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
    task, tree,
};
use ckpt_format::{
    FormatError, Header, CHECKPOINT_SUBTREE, RESTART_FLAGS_MASK, RESTART_FROZEN, RESTART_TREE,
};
use kernel::prelude::*;

/// Restarts from the image in `fd`, logging to `logfd`.
///
/// `pid` must be 0. With `RESTART_TREE` the tree of the image is rebuilt as
/// descendants of the caller, and the call returns the pid of its root
/// ([`tree::restart_tree`]). Otherwise the caller becomes the one task of
/// the image, and the call returns what that task's interrupted system call
/// returns.
pub(crate) fn restart(pid: i32, fd: i32, flags: u64, logfd: i32) -> Result<i64> {
    if flags & !RESTART_FLAGS_MASK != 0 || pid != 0 {
        return Err(EINVAL);
    }
    let mut ctx = Ctx::new(Mode::Restart, fd, logfd)?;
    if flags & RESTART_TREE != 0 {
        return tree::restart_tree(ctx, flags & RESTART_FROZEN != 0);
    }
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
/// the tree, the task, the tail.
fn restore(ctx: &mut Ctx) -> Result<i64> {
    let mut buf = RecordBuf::new();
    if read_header(ctx, &mut buf)? & CHECKPOINT_SUBTREE == 0 {
        ctx.log(format_args!(
            "a container is restored with RESTART_TREE, in a new pid namespace"
        ));
        return Err(EINVAL);
    }
    let (tasks, levels) = tree::restore_tree(ctx, &mut buf)?;
    if tasks.len() > 1 {
        ctx.log(format_args!(
            "an image of {} tasks is restored with RESTART_TREE",
            tasks.len()
        ));
        return Err(EINVAL);
    }
    if levels.of(0).flags != 0 {
        ctx.log(format_args!(
            "a task that unshared its pid namespace is restored with RESTART_TREE"
        ));
        return Err(EINVAL);
    }
    let task::Restored::Live(task) = task::restore_task(ctx, &mut buf, &tasks[0], false)? else {
        ctx.log(format_args!("the image's task is a zombie"));
        return Err(EINVAL);
    };
    ctx.read_tail(&mut buf)?;
    // Its pages, by it and a helper at once (Ctx::defer_pages).
    task.fill_pages(&ctx.image())?;
    let ret = KBox::into_inner(task).commit(ctx, &|| Ok(()))?;
    ctx.log(format_args!(
        "restored ({} bytes, {} shared objects); the task resumes",
        ctx.offset(),
        ctx.objhash.count()
    ));
    Ok(ret)
}

/// Reads the header, and checks that this kernel can restore the image;
/// returns the flags it was taken with.
pub(crate) fn read_header(ctx: &mut Ctx, buf: &mut RecordBuf) -> Result<u64> {
    let offset = ctx.offset();
    let h = ctx.read::<Header<'_>>(buf)?;
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
    Ok(u64::from(h.flags))
}
