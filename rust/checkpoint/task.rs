// SPDX-License-Identifier: GPL-2.0

//! Tasks: checkpoint and restore.

use crate::{arch, cred, ctx::Ctx, mm, sys::task::Task};
use ckpt_format::{Record, TaskRecord};
use kernel::prelude::*;

/// Writes the record of `task` and of the objects it uses.
pub(crate) fn checkpoint_task(ctx: &mut Ctx, task: &Task) -> Result {
    let pid = task.vpid();
    if pid == 0 {
        return Err(ctx.fail(ESRCH, 0, format_args!("task exited during checkpoint")));
    }
    if task.is_kthread() {
        return Err(ctx.fail(
            EINVAL,
            0,
            format_args!("pid {pid}: kernel threads cannot be checkpointed"),
        ));
    }
    // Another task must hold still while its state is read: frozen by the
    // cgroup v1 or v2 freezer. A task checkpointing itself is still anyway.
    let external = !task.is_current();
    if external && !task.is_frozen() {
        return Err(ctx.fail(
            EBUSY,
            0,
            format_args!("pid {pid}: task is not frozen (use the cgroup freezer)"),
        ));
    }
    let cred_ref = cred::checkpoint_cred(ctx, task.cred())?;
    let comm = task.comm();
    ctx.write_record(&Record::Task(TaskRecord {
        pid,
        tgid: task.vtgid(),
        ppid: task.vppid(),
        cred_ref,
        comm: &comm,
    }))?;
    arch::checkpoint_cpu(ctx, task)?;
    mm::checkpoint_mm(ctx, task, pid)?;
    if external && !task.is_frozen() {
        return Err(ctx.fail(
            EBUSY,
            0,
            format_args!("pid {pid}: task was thawed during the checkpoint"),
        ));
    }
    let (users, held) = ctx.objhash.users(cred_ref);
    ctx.log(format_args!(
        "task {pid}: cred objref {cred_ref} (users {users}, held {held})"
    ));
    Ok(())
}

/// Restores a task from its record.
///
/// The stream check has validated the record and its cred objref. Building the
/// task (memory, registers, files, signals) is not implemented yet: restart
/// fails with `EOPNOTSUPP` after validating the whole image.
pub(crate) fn restore_task(ctx: &mut Ctx, rec: &TaskRecord<'_>) -> Result {
    let comm = core::str::from_utf8(rec.comm).unwrap_or("?");
    ctx.log(format_args!(
        "task {} ({comm}): tgid {} ppid {} cred objref {}",
        rec.pid, rec.tgid, rec.ppid, rec.cred_ref
    ));
    Ok(())
}
