// SPDX-License-Identifier: GPL-2.0

//! Tasks: checkpoint and restore.
//!
//! A task is its task record, then the records of each class of its state,
//! in the order [`checkpoint_task`] writes them and [`restore_task`] reads
//! them: CPU state (with the restart block of its system call), signals,
//! fs, descriptors, memory. The shared objects they use come before their
//! first user. Restore reads a task without changing the caller up to its
//! memory, and returns what is set at the end ([`TaskState::commit`]).

use crate::{
    cpu,
    ctx::{Ctx, RecordBuf},
    files, fs, mm, signal,
    sys::{
        cred::{capable, Cred},
        eopnotsupp,
        mm::current as mcur,
        task::{current, Task, TaskSettings},
    },
};
use ckpt_format::{Record, TaskRecord};
use kernel::{bindings, prelude::*, types::ARef};

/// Writes the record of `task` and of the objects it uses. `whole`: its
/// children are in the image too.
pub(crate) fn checkpoint_task(ctx: &mut Ctx, task: &Task, whole: bool) -> Result {
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
    if children && !whole {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!(
                "pid {pid}: has child processes; a task checkpointing itself is saved alone"
            ),
        ));
    }
    let cred_ref = ctx.checkpoint_obj(&task.cred())?;
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
    cpu::checkpoint_cpu(ctx, task)?;
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

/// Checks that the caller may take the settings `t`, as the interfaces that
/// set them would: `/proc/PID/oom_score_adj` (below the caller's minimum
/// needs `CAP_SYS_RESOURCE`) and `set_robust_list()`.
fn check_settings(t: &TaskSettings) -> Result {
    if !(-1000..=1000).contains(&t.oom_score_adj) {
        return Err(EINVAL);
    }
    if t.oom_score_adj < current::oom_score_adj_min() && !capable(bindings::CAP_SYS_RESOURCE) {
        return Err(EACCES);
    }
    // `struct robust_list_head` (include/uapi/linux/futex.h): two pointers
    // and a long, which the bindings only see declared.
    let head = 3 * core::mem::size_of::<usize>() as u64;
    if t.robust_list != 0 && (t.robust_list_len != head || t.robust_list >= mcur::task_size()) {
        return Err(EINVAL);
    }
    Ok(())
}

/// What restart sets of a task at the end, class by class.
pub(crate) struct TaskState {
    comm: [u8; 16],
    cred: ARef<Cred>,
    settings: TaskSettings,
    cpu: cpu::CpuState,
    signals: signal::SignalState,
    fs: fs::FsState,
    fds: files::Fds,
    mm: mm::MmState,
}

/// Reads the records of task `pid`, the next of the tree record, in the
/// order [`checkpoint_task`] writes them, checking each against the
/// caller's privilege.
///
/// Nothing of the caller changes until its memory record: a failure before
/// it returns to the caller unharmed.
pub(crate) fn restore_task(ctx: &mut Ctx, buf: &mut RecordBuf, pid: i32) -> Result<TaskState> {
    let rec = ctx.read::<TaskRecord<'_>>(buf)?;
    let comm = core::str::from_utf8(rec.comm).unwrap_or("?");
    ctx.log(format_args!(
        "task {} ({comm}): tgid {} ppid {} cred objref {}",
        rec.pid, rec.tgid, rec.ppid, rec.cred_ref
    ));
    // The tasks come in the order of the tree record.
    if rec.pid != pid {
        ctx.log(format_args!(
            "task {}: the tree record has pid {pid} in its place",
            rec.pid
        ));
        return Err(EINVAL);
    }
    let settings = TaskSettings {
        oom_score_adj: rec.oom_score_adj,
        no_new_privs: u32::from(rec.flags & TaskRecord::NO_NEW_PRIVS != 0),
        robust_list: rec.robust_list,
        robust_list_len: rec.robust_list_len,
    };
    check_settings(&settings).inspect_err(|e| {
        ctx.log(format_args!(
            "task {}: oom_score_adj {} or robust list refused (errno {})",
            rec.pid,
            rec.oom_score_adj,
            -e.to_errno()
        ))
    })?;
    let mut comm = [0u8; 16];
    comm[..rec.comm.len()].copy_from_slice(rec.comm);
    let cred = ctx.fetch::<ARef<Cred>>(rec.cred_ref)?;
    // Its files and directories are reopened with its credentials.
    ctx.task_cred = Some(cred.clone());
    Ok(TaskState {
        comm,
        cred,
        settings,
        cpu: cpu::restore_cpu(ctx, buf)?,
        signals: signal::restore_signals(ctx, buf)?,
        fs: fs::restore_fs(ctx, buf)?,
        fds: files::restore_files(ctx, buf)?,
        mm: mm::restore_mm(ctx, buf)?,
    })
}

impl TaskState {
    /// Makes the caller the task: sets what each class kept, in an order
    /// that each step allows; returns what the task's system call returns.
    pub(crate) fn commit(self, ctx: &mut Ctx) -> Result<i64> {
        self.mm.commit(ctx)?;
        ctx.run_deferred()?;
        // Limits first: they may need privileges that new credentials drop.
        self.signals.commit(ctx)?;
        self.fs.commit();
        current::set_comm(&self.comm);
        self.cred.commit_to_current().inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set the credentials (errno {})",
                -e.to_errno()
            ))
        })?;
        // After the signal state, whose reset forgets the robust list.
        current::set_settings(&self.settings).inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set oom_score_adj, no_new_privs or the robust list (errno {})",
                -e.to_errno()
            ))
        })?;
        let ret = self.cpu.commit(ctx)?;
        // Last, so that the caller's descriptors close only on success (the
        // restart tool waits for that).
        self.fds.commit(ctx)?;
        Ok(ret)
    }
}
