// SPDX-License-Identifier: GPL-2.0

//! Tasks: checkpoint and restore.
//!
//! A task is its task record, then the records of each class of its state,
//! in the order [`checkpoint_task`] writes them and [`restore_task`] reads
//! them: CPU state (with the restart block of its system call), signals,
//! timers, fs, descriptors, memory. A thread that does not lead its group stops
//! after its signals: the rest is its group's, saved with the leader. The
//! shared objects they use come before their first user. Restore reads a
//! task without changing the caller up to its memory, and returns what is
//! set at the end ([`TaskState::commit`]).

use crate::{
    cpu,
    ctx::{Ctx, RecordBuf},
    files, fs, mm,
    objhash::Shared,
    signal,
    sys::{
        cred::{capable, Cred},
        eopnotsupp,
        file::{FdTable, File, FsStruct},
        mm::{current as mcur, Mm},
        task::{current, Task, TaskSettings},
    },
    timer,
};
use ckpt_format::{ObjsRecord, Record, TaskRecord, TreeTask};
use kernel::{bindings, prelude::*, types::ARef};

/// Where a task is in the tree being saved, as its records need it.
#[derive(Clone, Copy, Default)]
pub(crate) struct InTree<'a> {
    /// Its parent in the image, saved before it, whose memory it may share.
    pub(crate) parent: Option<&'a Task>,
    /// Its flags in the tree record ([`TreeTask::SHARES_MM`]...).
    pub(crate) flags: u32,
    /// What its system call returns, if the tree decides it: a parent
    /// that waits in `vfork()` gets its child's pid.
    pub(crate) returns: Option<i64>,
}

/// Writes the record of `task` and of the objects it uses. `whole`: its
/// children are in the image too.
pub(crate) fn checkpoint_task(ctx: &mut Ctx, task: &Task, whole: bool, at: InTree<'_>) -> Result {
    let (pid, tgid, ppid) = task.pids_in(&ctx.pidns);
    ctx.task_pid = pid;
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
    if task.is_zombie() {
        return checkpoint_zombie(ctx, task, (pid, tgid, ppid));
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
    // The other threads of a task checkpointing itself are running.
    if threads > 1 && !whole {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("pid {pid}: {threads} threads; a task checkpointing itself must have one"),
        ));
    }
    // Signal actions shared between processes, or a thread that does not
    // share its group's descriptors or fs, would come back otherwise.
    // Processes of a tree may share memory, descriptors and fs.
    let sharing = task.sharing();
    let refused = if sharing & bindings::CKPT_SHARES_SIGHAND != 0 {
        Some("its signal actions (CLONE_SIGHAND) are shared with another process")
    } else if sharing & (bindings::CKPT_OWN_FILES | bindings::CKPT_OWN_FS) != 0 {
        Some("a thread with a descriptor table or fs of its own (unshare())")
    } else if sharing != 0 && !whole {
        Some("its memory, descriptor table or fs (CLONE_VM, CLONE_FILES, CLONE_FS) is shared with another process")
    } else {
        None
    };
    if let Some(what) = refused {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("pid {pid}: {what}; not supported yet"),
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
    let settings = task.settings();
    let cred_ref = write_task_record(
        ctx,
        task,
        (pid, tgid, ppid),
        TaskRecord {
            oom_score_adj: settings.oom_score_adj,
            flags: if settings.no_new_privs != 0 {
                TaskRecord::NO_NEW_PRIVS
            } else {
                0
            },
            robust_list: settings.robust_list,
            robust_list_len: settings.robust_list_len,
            clear_child_tid: settings.clear_child_tid,
            ..Default::default()
        },
    )?;
    cpu::checkpoint_cpu(ctx, task, at.returns)?;
    signal::checkpoint_signals(ctx, task)?;
    // What the group shares is saved with its leader.
    if tgid == pid {
        timer::checkpoint_timers(ctx, task, pid)?;
        let own = checkpoint_objs(ctx, task, sharing, threads)?;
        // Restart gives a process its parent's memory only as it makes it.
        if own.mm == (at.flags & TreeTask::SHARES_MM != 0) {
            return Err(ctx.fail(
                eopnotsupp(),
                0,
                format_args!(
                    "pid {pid}: its memory is shared with a process other than its parent (CLONE_PARENT, or reparented); not supported"
                ),
            ));
        }
        if own.fs {
            fs::checkpoint_fs(ctx, task, pid)?;
        }
        if own.files {
            files::checkpoint_files(ctx, task, pid)?;
        }
        if own.mm {
            mm::checkpoint_mm(ctx, task, pid, at.parent)?;
        }
    }
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

/// Which records of its own a process has: none of what it shares with a
/// process written before it.
struct Own {
    fs: bool,
    files: bool,
    mm: bool,
}

/// Writes the objs record of process `task`, of `threads` threads, if it
/// shares its descriptor table, fs or memory with another process
/// (`sharing`, of [`Task::sharing`]): each is an object of the hash, which
/// every thread of the image that uses it accounts for once (the leak
/// check).
fn checkpoint_objs(ctx: &mut Ctx, task: &Task, sharing: u32, threads: i32) -> Result<Own> {
    let mut own = Own {
        fs: true,
        files: true,
        mm: true,
    };
    let mut rec = ObjsRecord::default();
    if sharing & bindings::CKPT_SHARES_FILES != 0 {
        (rec.files_ref, own.files) = name_shared(ctx, &FdTable::of(task)?, threads)?;
    }
    if sharing & bindings::CKPT_SHARES_FS != 0 {
        (rec.fs_ref, own.fs) = name_shared(ctx, &FsStruct::of(task)?, threads)?;
    }
    if sharing & bindings::CKPT_SHARES_MM != 0 {
        let mm = Mm::of_task(task).ok_or(ESRCH)?;
        (rec.mm_ref, own.mm) = name_shared(ctx, &mm, threads)?;
    }
    if rec != ObjsRecord::default() {
        ctx.write_record(&Record::Objs(rec))?;
    }
    Ok(own)
}

/// The objref of `obj`, which the `threads` threads of a process use, and
/// whether it was met first.
fn name_shared<T: Shared>(ctx: &mut Ctx, obj: &T, threads: i32) -> Result<(i32, bool)> {
    let found = ctx.objhash.lookup_add(obj, ctx.task_pid)?;
    let others = u32::try_from(threads).unwrap_or(1).saturating_sub(1);
    ctx.objhash.add_users(found.objref, others);
    Ok((found.objref, found.first))
}

/// Writes the task record of a zombie: what its parent's `wait()` and
/// `/proc` see of it (credentials, name, exit status).
fn checkpoint_zombie(ctx: &mut Ctx, task: &Task, (pid, tgid, ppid): (i32, i32, i32)) -> Result {
    // A leader that exited before its other threads is not a zombie yet;
    // it counts until it is reaped.
    let (threads, _, _) = task.shape();
    if threads > 1 {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!(
                "pid {pid}: its leader exited, {} other threads run",
                threads - 1
            ),
        ));
    }
    let (_, exit_status) = task.exit();
    let rec = TaskRecord {
        flags: TaskRecord::ZOMBIE,
        exit_status,
        ..Default::default()
    };
    write_task_record(ctx, task, (pid, tgid, ppid), rec).map(|_| ())
}

/// Writes the task record of `task`, `rec` with the pids, credentials and
/// name that every task has; returns the objref of the credentials.
fn write_task_record(
    ctx: &mut Ctx,
    task: &Task,
    (pid, tgid, ppid): (i32, i32, i32),
    rec: TaskRecord<'_>,
) -> Result<i32> {
    let cred_ref = ctx.checkpoint_obj(&task.cred())?;
    let comm = task.comm();
    ctx.write_record(&Record::Task(TaskRecord {
        pid,
        tgid,
        ppid,
        cred_ref,
        comm: &comm,
        ..rec
    }))?;
    Ok(cred_ref)
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
    // set_tid_address() takes any address; one in user space is all that
    // the exit of the task may write to.
    if t.clear_child_tid >= mcur::task_size() {
        return Err(EINVAL);
    }
    Ok(())
}

/// A task read from the image.
pub(crate) enum Restored {
    /// A task that runs again (boxed: its state is large for the stack).
    Live(KBox<TaskState>),
    /// A zombie, which exits again once its parent exists.
    Zombie(Zombie),
}

/// A zombie of the image.
pub(crate) struct Zombie {
    comm: [u8; 16],
    cred: ARef<Cred>,
    status: u32,
}

impl Zombie {
    /// Gives the caller the zombie's name and credentials, as a live task
    /// gets them ([`TaskState::commit`]).
    pub(crate) fn commit(&self, ctx: &mut Ctx) -> Result {
        current::set_comm(&self.comm);
        self.cred.commit_to_current().inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set the credentials (errno {})",
                -e.to_errno()
            ))
        })
    }

    /// The status its parent's `wait()` gets.
    pub(crate) fn status(&self) -> u32 {
        self.status
    }
}

/// What restart sets of a task at the end, class by class.
pub(crate) struct TaskState {
    comm: [u8; 16],
    cred: ARef<Cred>,
    settings: TaskSettings,
    cpu: cpu::CpuState,
    signals: signal::SignalState,
    /// What its thread group shares, set by the leader.
    group: Option<GroupState>,
}

/// What a thread group shares: timers, fs, descriptors and memory. Its fs
/// and descriptors are another process's if it shares them.
struct GroupState {
    timers: timer::Timers,
    fs: Option<fs::FsState>,
    fds: Option<files::Fds>,
    /// None if it shares its parent's.
    mm: Option<mm::MmState>,
    shares: Shares,
}

/// What a process shares with a process restored before it: that one's
/// descriptor table, fs and memory, each with the pid of that process.
#[derive(Default)]
struct Shares {
    files: Option<(ARef<FdTable>, i32)>,
    fs: Option<(ARef<FsStruct>, i32)>,
    mm: Option<(Mm, i32)>,
}

/// Reads the objs record of process `me`, if it has one. A descriptor
/// table, fs or mm named there first is the caller's own, which its own
/// records fill, and processes read later share. One named before is the
/// process's that named it first, whose records filled it; an mm only as
/// the caller's parent made it ([`TreeTask::SHARES_MM`]), with it.
fn restore_objs(ctx: &mut Ctx, buf: &mut RecordBuf, me: &TreeTask) -> Result<Shares> {
    let pid = me.pid;
    let shares = match ctx.read_if::<ObjsRecord>(buf)? {
        None => Shares::default(),
        Some(rec) => {
            let task = Task::current();
            Shares {
                files: take_shared(ctx, rec.files_ref, pid, || FdTable::of(&task))?,
                fs: take_shared(ctx, rec.fs_ref, pid, || FsStruct::of(&task))?,
                mm: take_shared(ctx, rec.mm_ref, pid, || Mm::current().ok_or(ESRCH))?,
            }
        }
    };
    let made_sharing = me.flags & TreeTask::SHARES_MM != 0;
    let shares_mm = shares.mm.as_ref().map(|m| m.0.addr());
    if made_sharing != shares_mm.is_some()
        || shares_mm.is_some_and(|m| Some(m) != Mm::current().map(|c| c.addr()))
    {
        ctx.log(format_args!(
            "task {pid}: the tree and its objs record disagree on whether it shares its parent's memory"
        ));
        return Err(EINVAL);
    }
    Ok(shares)
}

/// Restart: the object `objref` of an objs record (none for 0), with the
/// pid of the process that named it first; `None` if the caller `pid` is
/// that process, which registers its own (`own()`).
fn take_shared<T: Shared>(
    ctx: &mut Ctx,
    objref: i32,
    pid: i32,
    own: impl FnOnce() -> Result<T>,
) -> Result<Option<(T, i32)>> {
    if objref == 0 {
        return Ok(None);
    }
    if ctx.objhash.users(objref).1 {
        let obj = ctx.fetch::<T>(objref)?;
        return Ok(Some((obj, ctx.objhash.definer(objref))));
    }
    ctx.objhash.set_by(objref, own()?, pid)?;
    Ok(None)
}

/// Reads the records of task `me`, the next of the tree record, in the
/// order [`checkpoint_task`] writes them, checking each against the
/// caller's privilege.
///
/// Nothing of the caller changes until its memory record: a failure before
/// it returns to the caller unharmed. `from_parent`: the caller was made by
/// its parent in the image, once that parent's memory was whole.
pub(crate) fn restore_task(
    ctx: &mut Ctx,
    buf: &mut RecordBuf,
    me: &TreeTask,
    from_parent: bool,
) -> Result<Restored> {
    let rec = ctx.read::<TaskRecord<'_>>(buf)?;
    let comm = core::str::from_utf8(rec.comm).unwrap_or("?");
    ctx.log(format_args!(
        "task {} ({comm}): tgid {} ppid {} cred objref {}",
        rec.pid, rec.tgid, rec.ppid, rec.cred_ref
    ));
    // The tasks come in the order of the tree record.
    if (rec.pid, rec.tgid) != (me.pid, me.tgid) {
        ctx.log(format_args!(
            "task {}: the tree record has pid {} of group {} in its place",
            rec.pid, me.pid, me.tgid
        ));
        return Err(EINVAL);
    }
    let mut comm = [0u8; 16];
    comm[..rec.comm.len()].copy_from_slice(rec.comm);
    if rec.is_zombie() {
        return Ok(Restored::Zombie(Zombie {
            comm,
            cred: ctx.fetch::<ARef<Cred>>(rec.cred_ref)?,
            status: rec.exit_status,
        }));
    }
    let leader = me.is_leader();
    let settings = TaskSettings {
        oom_score_adj: rec.oom_score_adj,
        no_new_privs: u32::from(rec.flags & TaskRecord::NO_NEW_PRIVS != 0),
        robust_list: rec.robust_list,
        robust_list_len: rec.robust_list_len,
        clear_child_tid: rec.clear_child_tid,
    };
    check_settings(&settings).inspect_err(|e| {
        ctx.log(format_args!(
            "task {}: oom_score_adj {} or robust list refused (errno {})",
            rec.pid,
            rec.oom_score_adj,
            -e.to_errno()
        ))
    })?;
    let cred = ctx.fetch::<ARef<Cred>>(rec.cred_ref)?;
    // Its files and directories are reopened with its credentials.
    ctx.task_cred = Some(cred.clone());
    let cpu = cpu::restore_cpu(ctx, buf)?;
    let signals = signal::restore_signals(ctx, buf, leader)?;
    let group = match leader {
        true => {
            let timers = timer::restore_timers(ctx, buf, me.pid)?;
            let shares = restore_objs(ctx, buf, me)?;
            let fs = match shares.fs {
                None => Some(fs::restore_fs(ctx, buf)?),
                Some(_) => None,
            };
            let fds = match shares.files {
                None => Some(files::restore_files(ctx, buf)?),
                Some(_) => None,
            };
            let mm = match shares.mm {
                None => Some(mm::restore_mm(ctx, buf, from_parent)?),
                Some(_) => None,
            };
            // Its memory is replaced: the caller is the task now. Its
            // threads, made next, share what it takes.
            if let Some((t, _)) = &shares.files {
                t.share_with_current();
            }
            if let Some((f, _)) = &shares.fs {
                f.share_with_current();
            }
            Some(GroupState {
                timers,
                fs,
                fds,
                mm,
                shares,
            })
        }
        false => None,
    };
    let state = TaskState {
        comm,
        cred,
        settings,
        cpu,
        signals,
        group,
    };
    Ok(Restored::Live(KBox::new(state, GFP_KERNEL_ACCOUNT)?))
}

impl TaskState {
    /// Makes the caller the task: sets what each class kept, in an order
    /// that each step allows; returns what the task's system call returns.
    /// A thread commits after its group's leader. `actions_set` runs once
    /// the signal actions are set, before pending signals are queued.
    pub(crate) fn commit(self, ctx: &mut Ctx, actions_set: &dyn Fn() -> Result) -> Result<i64> {
        if let Some(mm) = self.group.as_ref().and_then(|g| g.mm.as_ref()) {
            mm.commit(ctx)?;
        }
        ctx.run_deferred()?;
        // Limits first: they may need privileges that new credentials drop.
        self.signals.commit(ctx, actions_set)?;
        if let Some(fs) = self.group.as_ref().and_then(|g| g.fs.as_ref()) {
            fs.commit();
        }
        current::set_comm(&self.comm);
        self.cred.commit_to_current().inspect_err(|e| {
            ctx.log(format_args!(
                "cannot set the credentials (errno {})",
                -e.to_errno()
            ))
        })?;
        // With its credentials, whose RLIMIT_SIGPENDING they count against.
        if let Some(g) = &self.group {
            g.timers.commit(ctx)?;
        }
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
        if let Some(fds) = self.group.as_ref().and_then(|g| g.fds.as_ref()) {
            fds.commit(ctx)?;
        }
        Ok(ret)
    }

    /// Reads the page contents that its memory records skipped
    /// ([`Ctx::defer_pages`]) from `image`.
    pub(crate) fn fill_pages(&self, image: &ARef<File>) -> Result {
        match self.group.as_ref().and_then(|g| g.mm.as_ref()) {
            Some(mm) => mm.fill(image),
            None => Ok(()),
        }
    }

    /// The pids of the processes whose descriptor table or fs the task
    /// shares: it must not run before they are restored.
    pub(crate) fn shares_with(&self) -> [Option<i32>; 2] {
        match &self.group {
            Some(g) => [
                g.shares.files.as_ref().map(|s| s.1),
                g.shares.fs.as_ref().map(|s| s.1),
            ],
            None => [None, None],
        }
    }
}
