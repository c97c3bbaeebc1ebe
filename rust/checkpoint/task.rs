// SPDX-License-Identifier: GPL-2.0

//! Tasks: checkpoint and restore.

use crate::{
    arch, cred,
    ctx::Ctx,
    files, mm, signal,
    sys::{
        cred::set_current_ids,
        task::{current, Task},
    },
};
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
    signal::checkpoint_signals(ctx, task)?;
    files::checkpoint_files(ctx, task, pid)?;
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

/// Checks a task record against the caller, which becomes that task.
///
/// Its credentials must be within the caller's privilege (`EPERM`); they are
/// set, and the command name, by [`restore_task_done`].
pub(crate) fn restore_task(ctx: &mut Ctx, rec: &TaskRecord<'_>, st: &mut TaskRestore) -> Result {
    let comm = core::str::from_utf8(rec.comm).unwrap_or("?");
    ctx.log(format_args!(
        "task {} ({comm}): tgid {} ppid {} cred objref {}",
        rec.pid, rec.tgid, rec.ppid, rec.cred_ref
    ));
    if st.comm.is_some() {
        ctx.log(format_args!(
            "images of several tasks are not supported yet"
        ));
        return Err(EINVAL);
    }
    let ids = cred::restored_ids(ctx, rec.cred_ref)?;
    let mut c = [0u8; 16];
    c[..rec.comm.len()].copy_from_slice(rec.comm);
    st.comm = Some(c);
    st.ids = Some(ids);
    Ok(())
}

/// What restart sets of the task at the end.
pub(crate) struct TaskRestore {
    comm: Option<[u8; 16]>,
    ids: Option<([u32; 4], [u32; 4])>,
}

impl TaskRestore {
    pub(crate) fn new() -> Self {
        Self {
            comm: None,
            ids: None,
        }
    }
}

/// Sets the command name and credentials of the caller.
pub(crate) fn restore_task_done(ctx: &mut Ctx, st: &TaskRestore) -> Result {
    if let Some(comm) = &st.comm {
        current::set_comm(comm);
    }
    if let Some((uids, gids)) = &st.ids {
        set_current_ids(uids, gids, true).inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set the credentials (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    Ok(())
}
