// SPDX-License-Identifier: GPL-2.0

//! Tasks: checkpoint and restore.

use crate::{
    arch, cred,
    ctx::Ctx,
    files, fs, mm, signal,
    sys::{
        cred::Cred,
        eopnotsupp,
        task::{current, Task, TaskSettings},
    },
};
use ckpt_format::{Record, TaskRecord};
use kernel::{prelude::*, types::ARef};

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
    if task.shape().2 {
        return Err(ctx.fail(
            ESRCH,
            0,
            format_args!("pid {pid}: task exited during the checkpoint"),
        ));
    }
    if external && !task.is_frozen() {
        return Err(ctx.fail(
            EBUSY,
            0,
            format_args!("pid {pid}: task is not frozen (use the cgroup freezer)"),
        ));
    }
    let (threads, children, exiting) = task.shape();
    if exiting {
        return Err(ctx.fail(ESRCH, 0, format_args!("pid {pid}: task is exiting")));
    }
    // Refused until process trees and threads are supported, rather than
    // saved without them.
    if threads > 1 {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!(
                "pid {pid}: {threads} threads; multi-threaded tasks are not supported yet"
            ),
        ));
    }
    if children {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("pid {pid}: has child processes; process trees are not supported yet"),
        ));
    }
    let cred_ref = cred::checkpoint_cred(ctx, task.cred())?;
    let comm = task.comm();
    let settings = task.settings();
    ctx.write_record(&Record::Task(TaskRecord {
        pid,
        tgid: task.vtgid(),
        ppid: task.vppid(),
        cred_ref,
        comm: &comm,
        oom_score_adj: settings.oom_score_adj,
        flags: if settings.no_new_privs != 0 {
            TaskRecord::NO_NEW_PRIVS
        } else {
            0
        },
        robust_list: settings.robust_list,
        robust_list_len: settings.robust_list_len,
    }))?;
    arch::checkpoint_cpu(ctx, task)?;
    signal::checkpoint_signals(ctx, task)?;
    fs::checkpoint_fs(ctx, task, pid)?;
    files::checkpoint_files(ctx, task, pid)?;
    mm::checkpoint_mm(ctx, task, pid)?;
    if task.shape().2 {
        return Err(ctx.fail(
            ESRCH,
            0,
            format_args!("pid {pid}: task exited during the checkpoint"),
        ));
    }
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

/// Keeps what the caller, which becomes the task of a task record, takes at
/// the end: its command name and credentials (checked against the caller's
/// privilege when their record was read).
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
    let settings = TaskSettings {
        oom_score_adj: rec.oom_score_adj,
        no_new_privs: u32::from(rec.flags & TaskRecord::NO_NEW_PRIVS != 0),
        robust_list: rec.robust_list,
        robust_list_len: rec.robust_list_len,
    };
    current::check_settings(&settings).inspect_err(|e| {
        ctx.log(format_args!(
            "task {}: oom_score_adj {} or robust list refused (errno {})",
            rec.pid,
            rec.oom_score_adj,
            -e.to_errno()
        ))
    })?;
    st.settings = Some(settings);
    let mut c = [0u8; 16];
    c[..rec.comm.len()].copy_from_slice(rec.comm);
    st.comm = Some(c);
    st.cred = Some(ctx.objhash.cred(rec.cred_ref).ok_or(EINVAL)?);
    Ok(())
}

/// What restart sets of the task at the end.
pub(crate) struct TaskRestore {
    comm: Option<[u8; 16]>,
    cred: Option<ARef<Cred>>,
    settings: Option<TaskSettings>,
}

impl TaskRestore {
    pub(crate) fn new() -> Self {
        Self {
            comm: None,
            cred: None,
            settings: None,
        }
    }

    /// The credentials of the task: files are reopened with them.
    pub(crate) fn cred(&self) -> Option<&Cred> {
        self.cred.as_deref()
    }
}

/// Sets the command name and credentials of the caller.
pub(crate) fn restore_task_done(ctx: &mut Ctx, st: &TaskRestore) -> Result {
    if let Some(comm) = &st.comm {
        current::set_comm(comm);
    }
    if let Some(cred) = &st.cred {
        cred.commit_to_current().inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set the credentials (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    // After the signal state, whose reset forgets the robust list.
    if let Some(t) = &st.settings {
        current::set_settings(t).inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set oom_score_adj, no_new_privs or the robust list (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    Ok(())
}
