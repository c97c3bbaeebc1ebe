// SPDX-License-Identifier: GPL-2.0

//! Process trees: checkpoint and restart of a task and its descendants.
//!
//! Checkpoint walks the tree of the root task, parents before their
//! children, each process followed by its other threads (linux-cr's tree
//! walk, breadth first), writes the tree record (each task's pid, thread
//! group, parent, process group and session), then the records of each
//! task in that order. Shared objects (credentials, open files, pipes) are
//! written once for the whole tree, and shared again at restart; what a
//! thread group shares (memory, descriptors, fs) is saved with its leader.
//!
//! Restart rebuilds the tree in the kernel. The caller of `restart(2)` with
//! `RESTART_TREE` coordinates: it reads the header and the tree record and
//! creates the root as its child, with its pid. The tasks read their
//! records from the one image in turn, in the order of the tree, each in
//! its own context, where a process rebuilds its memory. A process then
//! creates its other threads, as `pthread_create()` would, sharing what it
//! rebuilt; each reads its own records in its turn. From an image that can
//! be read at any offset (a file), a process notes where its pages are in
//! its turn and reads them after it, while the next tasks read their
//! records. Once its memory is whole, a process creates its children, as
//! `fork()` would, so that they share its pages copy-on-write again, and
//! with their pids at every level of the pid namespaces nested in the
//! tree's (the pidns record: a child that is the init of one is made with
//! `CLONE_NEWPID`, or after its parent unshares it); a child that shared
//! its memory is made with `CLONE_VM`, and a parent that waited in
//! `vfork()` for a child waits for it again once its state is set. Once
//! the tail is read, every task sets the rest of its state (credentials,
//! descriptors, registers...), a thread after its leader, and returns to
//! user space, and the coordinator returns the root's pid. If any task
//! fails, every task of the tree is killed and the coordinator returns the
//! error, after a log line naming the task.

use crate::{
    ctx::{Ctx, RecordBuf},
    restart,
    sys::{
        eopnotsupp,
        mm::Mm,
        signal::current as signals,
        task::{current, PidNs, Task},
        tree::{
            exit_zombie, forget_signal, pid_from_above, setpgid, setsid, spawn_child,
            unshare_pid_ns, wait_child_exit, NestedPids, Spawn, Vfork,
        },
    },
    task::{self, InTree, Restored},
};
use ckpt_format::{
    LeArray, PidnsRecord, Record, TaskNs, TreeRecord, TreeTask, CHECKPOINT_SUBTREE, MAX_TASKS,
};
use kernel::{
    new_condvar, new_mutex,
    prelude::*,
    sync::{Arc, CondVar, Mutex},
    types::ARef,
};

/// Writes the tree record of `root` and the records of its tasks: `root`
/// alone if it is the caller, else `root` and its descendants.
pub(crate) fn checkpoint_tree(ctx: &mut Ctx, root: &Task) -> Result {
    let tasks = if root.is_current() {
        let mut v = KVVec::new();
        v.push(ARef::from(root), GFP_KERNEL_ACCOUNT)?;
        v
    } else {
        root.tree(MAX_TASKS).map_err(|e| {
            ctx.fail(
                e,
                0,
                format_args!(
                    "pid {}: more than {MAX_TASKS} tasks in its tree",
                    root.vpid()
                ),
            )
        })?
    };
    if root.is_zombie() {
        return Err(ctx.fail(ESRCH, 0, format_args!("pid {}: exited", root.vpid())));
    }
    let root_ns = PidNs::of(root);
    let mut entries = KVVec::with_capacity(tasks.len(), GFP_KERNEL_ACCOUNT)?;
    let mut nested = KVVec::with_capacity(tasks.len(), GFP_KERNEL_ACCOUNT)?;
    // Each process's parent in the image, and what the system call of a
    // parent waiting in vfork() returns.
    let mut parents = KVVec::with_capacity(tasks.len(), GFP_KERNEL_ACCOUNT)?;
    let mut returns = KVVec::from_elem(None, tasks.len(), GFP_KERNEL_ACCOUNT)?;
    for t in &tasks {
        let (pid, tgid, ppid) = t.pids_in(&ctx.pidns);
        nested.push(
            t.nested_pids(&root_ns, &ctx.pidns).map_err(|e| {
                ctx.fail(
                    e,
                    0,
                    format_args!("pid {pid}: not in its tree's pid namespace or below it"),
                )
            })?,
            GFP_KERNEL_ACCOUNT,
        )?;
        let (pgid, sid) = t.groups_in(&ctx.pidns);
        let parent = entries
            .iter()
            .position(|p: &TreeTask| pid == tgid && p.pid == ppid && p.is_leader());
        let flags = match parent {
            Some(p) => {
                let (flags, ret) = made_how(ctx, t, &tasks[p], pid)?;
                returns[p] = ret.or(returns[p]);
                flags
            }
            None => 0,
        };
        parents.push(parent, GFP_KERNEL_ACCOUNT)?;
        entries.push(
            TreeTask {
                pid,
                tgid,
                ppid,
                pgid,
                sid,
                exit_signal: if pid == tgid { t.exit().0 } else { 0 },
                flags,
            },
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    ctx.write_record(&Record::Tree(TreeRecord {
        tasks: LeArray::Values(&entries),
    }))?;
    checkpoint_pidns(ctx, &entries, &nested)?;
    let whole = !root.is_current();
    for (i, t) in tasks.iter().enumerate() {
        let denied = |ctx: &Ctx, e: &Error| {
            if *e == EPERM {
                ctx.log(format_args!(
                    "pid {}: ptrace attach access denied",
                    t.vpid()
                ));
            }
        };
        if t.is_zombie() {
            t.attach_access().inspect_err(|e| denied(ctx, e))?;
            task::checkpoint_task(ctx, t, whole, InTree::default())?;
            continue;
        }
        // Held while its state is read: it cannot exec meanwhile, so the
        // ptrace access checked here holds however long writes block.
        let _pin = t.pin().inspect_err(|e| denied(ctx, e))?;
        // A process's parent in the image, whose memory it may share: saved
        // before it, frozen, and still the caller's to read.
        let parent = parents[i]
            .map(|j| &*tasks[j])
            .filter(|p| !p.is_zombie() && p.attach_access().is_ok());
        let at = InTree {
            parent,
            flags: entries[i].flags,
            returns: returns[i],
        };
        task::checkpoint_task(ctx, t, whole, at)?;
    }
    // A task that forked before it was frozen has a child the image lacks.
    if whole && root.tree(MAX_TASKS)?.len() != tasks.len() {
        return Err(ctx.fail(
            EBUSY,
            0,
            format_args!("the tree changed during the checkpoint (freeze all of it)"),
        ));
    }
    Ok(())
}

/// How `parent`, before it in the image, made process `child` (`pid`): its
/// flags in the tree record, and what the parent's system call returns if
/// it waits in `vfork()` for it (the child's pid, as it sees it).
fn made_how(ctx: &mut Ctx, child: &Task, parent: &Task, pid: i32) -> Result<(u32, Option<i64>)> {
    // Nothing of a task the caller may not trace: its checkpoint fails.
    if child.attach_access().is_err() || parent.attach_access().is_err() {
        return Ok((0, None));
    }
    let mut flags = 0;
    let mm = |t: &Task| Mm::of_task(t).map(|m| m.addr());
    let (mine, theirs) = (mm(child), mm(parent));
    if mine.is_some() && mine == theirs {
        flags |= TreeTask::SHARES_MM;
    }
    let vforked = child.vforked().map_err(|e| {
        ctx.fail(
            e,
            0,
            format_args!(
                "pid {pid}: the task that waits in vfork() for it is not its parent's group leader; not supported"
            ),
        )
    })?;
    if !vforked {
        return Ok((flags, None));
    }
    let seen = child.pids_in(&PidNs::of(parent)).0;
    Ok((flags | TreeTask::VFORK, Some(i64::from(seen))))
}

/// Writes the pidns record of the tree of `tasks` if any of them is in a
/// pid namespace nested in the tree's, or makes its children in one;
/// `nested` has where each is.
fn checkpoint_pidns(ctx: &mut Ctx, tasks: &[TreeTask], nested: &[NestedPids]) -> Result {
    let refuse = |ctx: &mut Ctx, pid: i32, why: &str| {
        ctx.fail(
            eopnotsupp(),
            0,
            format_args!("pid {pid}: {why}; not supported"),
        )
    };
    let mut levels = KVVec::with_capacity(tasks.len(), GFP_KERNEL_ACCOUNT)?;
    let mut pids = KVVec::new();
    for (i, (t, n)) in tasks.iter().zip(nested).enumerate() {
        let mut flags = 0;
        if let Some((below, init)) = n.children() {
            match below {
                0 => {}
                1 if init < 0 => {
                    return Err(refuse(
                        ctx,
                        t.pid,
                        "the pid namespace of its children lost its init",
                    ))
                }
                // clone() would not make its threads at restart.
                1 if tasks.iter().any(|o| o.tgid == t.tgid && o.pid != t.pid) => {
                    return Err(refuse(
                        ctx,
                        t.pid,
                        "a process with threads that unshared its pid namespace",
                    ))
                }
                // Its children there come back in one it unshares.
                1 if init == 0 || tasks.iter().any(|c| c.pid == init && c.ppid == t.pid) => {
                    flags |= TaskNs::UNSHARED
                }
                1 => {
                    return Err(refuse(
                        ctx,
                        t.pid,
                        "makes its children in a pid namespace another process made (setns())",
                    ))
                }
                _ => {
                    return Err(refuse(
                        ctx,
                        t.pid,
                        "makes its children two or more pid namespaces below its own",
                    ))
                }
            }
        }
        let parent = tasks[..i]
            .iter()
            .position(|p| p.pid == t.ppid && p.is_leader());
        if let (true, Some(p)) = (t.is_leader(), parent) {
            let up = &nested[p];
            // The init of the namespace one level down that its parent
            // makes its children in, if any.
            let unshared = up.children().filter(|c| c.0 == 1).map(|c| c.1);
            let below = n.pids().len() == up.pids().len() + 1;
            if below && unshared == Some(n.init()) {
                // In that namespace: made after its parent unshares it.
            } else if below && n.pids().last() == Some(&1) {
                flags |= TaskNs::NEWPID;
            } else if n.pids().len() != up.pids().len() {
                return Err(refuse(
                    ctx,
                    t.pid,
                    "in a pid namespace its parent did not make",
                ));
            }
        }
        // CAST: at most `MAX_PID_NS_LEVEL`.
        let depth = n.pids().len() as u32;
        levels.push(TaskNs { depth, flags }, GFP_KERNEL_ACCOUNT)?;
        for &p in n.pids() {
            // CAST: pids are positive.
            pids.push(p as u32, GFP_KERNEL_ACCOUNT)?;
        }
    }
    if levels.iter().all(|l| *l == TaskNs::default()) {
        return Ok(());
    }
    let rec = PidnsRecord {
        tasks: LeArray::Values(&levels),
        pids: LeArray::Values(&pids),
    };
    let tree = TreeRecord {
        tasks: LeArray::Values(tasks),
    };
    if rec.check(&tree).is_err() {
        return Err(ctx.fail(
            eopnotsupp(),
            0,
            format_args!("pid namespaces that restart cannot rebuild; not supported"),
        ));
    }
    ctx.write_record(&Record::Pidns(rec))
}

/// Where the tasks of a tree are among the pid namespaces nested in the
/// tree's: its pidns record, or none for a tree all in one.
pub(crate) struct Levels {
    /// Each task's entry, and where its pids start in `pids`; empty if
    /// there is no record.
    tasks: KVVec<(TaskNs, usize)>,
    /// Each task's pids below the tree's namespace, one task after the
    /// other.
    pids: KVVec<i32>,
}

impl Levels {
    /// No record: every task in the tree's namespace.
    fn none() -> Self {
        Self {
            tasks: KVVec::new(),
            pids: KVVec::new(),
        }
    }

    /// Task `i`'s entry.
    pub(crate) fn of(&self, i: usize) -> TaskNs {
        self.tasks.get(i).map(|t| t.0).unwrap_or_default()
    }

    /// Task `i`'s pids below the tree's namespace, down to its own.
    fn pids(&self, i: usize) -> &[i32] {
        let Some(&(ns, start)) = self.tasks.get(i) else {
            return &[];
        };
        // CAST: at most `MAX_NS_DEPTH`.
        self.pids
            .get(start..start + ns.depth as usize)
            .unwrap_or(&[])
    }

    /// Whether task `i` is made in the namespace its parent unshares.
    fn in_unshared(&self, i: usize, parent: usize) -> bool {
        let (me, up) = (self.of(i), self.of(parent));
        me.depth == up.depth + 1 && me.flags & TaskNs::NEWPID == 0
    }
}

/// Restart: reads the tree record and the pidns record if there is one;
/// returns the tasks and where they are.
pub(crate) fn restore_tree(
    ctx: &mut Ctx,
    buf: &mut RecordBuf,
) -> Result<(KVVec<TreeTask>, Levels)> {
    let rec = ctx.read::<TreeRecord<'_>>(buf)?;
    let mut tasks = KVVec::with_capacity(rec.tasks.len(), GFP_KERNEL_ACCOUNT)?;
    for t in rec.tasks.iter() {
        tasks.push(t, GFP_KERNEL_ACCOUNT)?;
    }
    let mut levels = Levels::none();
    if let Some(rec) = ctx.read_if::<PidnsRecord<'_>>(buf)? {
        let tree = TreeRecord {
            tasks: LeArray::Values(&tasks),
        };
        if rec.check(&tree).is_err() {
            ctx.log(format_args!(
                "the pidns record does not fit the tree: a task is not where its parent can make it"
            ));
            return Err(EINVAL);
        }
        levels.tasks = KVVec::with_capacity(rec.tasks.len(), GFP_KERNEL_ACCOUNT)?;
        levels.pids = KVVec::with_capacity(rec.pids.len(), GFP_KERNEL_ACCOUNT)?;
        for t in rec.tasks.iter() {
            levels
                .tasks
                .push((t, levels.pids.len()), GFP_KERNEL_ACCOUNT)?;
            // CAST: the depth is at most `MAX_NS_DEPTH`.
            for _ in 0..t.depth as usize {
                // CAST: checked when decoded: at most `i32::MAX`.
                let p = rec.pids.get(levels.pids.len()).ok_or(EINVAL)? as i32;
                levels.pids.push(p, GFP_KERNEL_ACCOUNT)?;
            }
        }
    }
    Ok((tasks, levels))
}

/// How far a task of a tree being restarted is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    /// Created; reading its records, or waiting.
    Reading,
    /// A zombie, its records read, waiting to exit.
    Zombie,
    /// Its signal actions are set, which decide whether the exit of a
    /// child leaves a zombie: its zombie children may exit.
    Actions,
    /// Its state is set: its children and threads may set theirs.
    Done,
}

/// What a task, or the coordinator, waits for.
#[derive(Clone, Copy)]
enum Event {
    /// The turn of task `k` to read its records.
    Turn(usize),
    /// Every task's records are read (the tail too).
    AllRead,
    /// Task `u` is at stage `s` or further.
    Reached(usize, Stage),
    /// Every task set its state.
    AllCommitted,
    /// The failure of the restart is in the log.
    Reported,
}

/// Where a restart of a tree stands.
struct Turns {
    /// Index of the task whose records come next; the number of tasks once
    /// the tail is read.
    next: usize,
    /// Tasks that set their state and may run.
    committed: usize,
    /// How far each task is, by index in the tree.
    stage: KVVec<Stage>,
    /// Why the restart failed, if it did.
    failed: Option<Error>,
    /// The log line of the failure is written.
    reported: bool,
    /// The tasks created so far, killed if the restart fails.
    created: KVVec<ARef<Task>>,
    /// What each task waits for, and last the coordinator, if it waits.
    awaits: KVVec<Option<Event>>,
}

impl Turns {
    /// Whether `e` happened.
    fn happened(&self, e: Event) -> bool {
        let n = self.stage.len();
        match e {
            Event::Turn(k) => self.next == k,
            Event::AllRead => self.next == n,
            Event::Reached(u, s) => self.stage[u] >= s,
            Event::AllCommitted => self.committed == n,
            Event::Reported => self.reported,
        }
    }
}

/// A restart of a tree, shared by the coordinator and the tasks it creates.
#[pin_data]
struct Shared {
    /// The image and its objects, used by one task at a time, in turn.
    #[pin]
    ctx: Mutex<Ctx>,
    #[pin]
    turns: Mutex<Turns>,
    /// One for each task, and last the coordinator's, each woken alone
    /// when what it waits for happens: a hundred tasks waiting for their
    /// turn are not all woken at each turn.
    wakers: KVVec<Pin<KBox<CondVar>>>,
    /// The tree record.
    tasks: KVVec<TreeTask>,
    /// Where the tasks are among nested pid namespaces.
    levels: Levels,
    /// `RESTART_FROZEN`.
    frozen: bool,
    /// The image is a container: its root is the init of a new pid
    /// namespace, in which its tasks have their pids.
    container: bool,
}

impl Shared {
    /// Waits, as task `me` (the coordinator: the number of tasks), until
    /// `e` happens; fails if the restart failed (unless `e` is its report),
    /// or on a fatal signal.
    /// Other signals, stops and freezes wait until the task runs.
    fn wait(&self, me: usize, e: Event) -> Result {
        let mut t = self.turns.lock();
        let r = loop {
            match t.failed {
                Some(err) if !matches!(e, Event::Reported) => break Err(err),
                _ if t.happened(e) => break Ok(()),
                _ => {}
            }
            t.awaits[me] = Some(e);
            if self.wakers[me].wait_interruptible(&mut t) && !signals::defer_signal() {
                break Err(EINTR);
            }
        };
        t.awaits[me] = None;
        r
    }

    /// Records the failure of the restart (the first one, with a log line
    /// naming the task, if a task failed), and wakes every task to end it.
    fn fail(&self, e: Error, pid: Option<i32>) {
        let first = {
            let mut t = self.turns.lock();
            let first = t.failed.is_none();
            if first {
                t.failed = Some(e);
            }
            first
        };
        for w in &self.wakers {
            w.notify_all();
        }
        if first {
            let ctx = self.ctx.lock();
            match pid {
                Some(pid) => ctx.log(format_args!(
                    "pid {pid}: restart failed (errno {}): killing the tree",
                    -e.to_errno()
                )),
                None => ctx.log(format_args!(
                    "restart failed (errno {}): killing the tree",
                    -e.to_errno()
                )),
            }
            drop(ctx);
            self.advance(|t| t.reported = true);
        }
    }

    /// Whether the tree has a task of pid `pid`.
    fn in_tree(&self, pid: i32) -> bool {
        self.tasks.iter().any(|t| t.pid == pid)
    }

    /// Moves the restart on (`step`), and wakes the tasks that waited
    /// for what happened.
    fn advance(&self, step: impl FnOnce(&mut Turns)) {
        let mut t = self.turns.lock();
        step(&mut t);
        for (w, e) in self.wakers.iter().zip(&t.awaits) {
            if e.is_some_and(|e| t.happened(e)) {
                w.notify_one();
            }
        }
    }
}

/// What a task created by [`spawn`] restores.
struct Start {
    shared: Arc<Shared>,
    index: usize,
}

/// Creates task `index` of the tree as a child of the caller, or as a
/// thread of its group, with its pid.
fn spawn(s: &Arc<Shared>, index: usize) -> Result<i32> {
    let t = s.tasks[index];
    let pid = t.pid;
    let how = match t.is_leader() {
        false => Spawn::Thread,
        true => Spawn::Process {
            exit_signal: t.exit_signal,
            new_pid_ns: (index == 0 && s.container)
                || s.levels.of(index).flags & TaskNs::NEWPID != 0,
            shares_mm: t.flags & TreeTask::SHARES_MM != 0,
        },
    };
    // Its pids, its own namespace's first.
    let nested = s.levels.pids(index);
    let mut set_tid = KVec::with_capacity(nested.len() + 1, GFP_KERNEL_ACCOUNT)?;
    for &p in Iterator::chain(nested.iter().rev(), [&pid]) {
        set_tid.push(p, GFP_KERNEL_ACCOUNT)?;
    }
    let start = KBox::new(
        Start {
            shared: s.clone(),
            index,
        },
        GFP_KERNEL_ACCOUNT,
    )?;
    spawn_child(&set_tid, how, start, run_task).map_err(|e| {
        let ctx = s.ctx.lock();
        if e == EEXIST {
            ctx.log(format_args!("pid {pid}: in use"));
            EBUSY
        } else if e == EPERM {
            ctx.log(format_args!(
                "pid {pid}: choosing pids needs CAP_CHECKPOINT_RESTORE over the pid namespace"
            ));
            e
        } else {
            ctx.log(format_args!(
                "pid {pid}: cannot create the task (errno {})",
                -e.to_errno()
            ));
            e
        }
    })
}

/// How a restored task goes on once its state is set.
enum Outcome {
    /// It returns to user space; first, if it made a child with `vfork()`,
    /// it waits for that child's exec or exit, as it did.
    Runs(Option<Vfork>),
    /// A zombie: it exits with this status.
    Exits(u32),
}

/// The life of a restored task before it first runs, in its own context.
fn run_task(start: KBox<Start>) {
    let Start { shared, index } = KBox::into_inner(start);
    match restore_task(&shared, index) {
        Ok(Outcome::Runs(vfork)) => {
            // Nothing of the restart is held however long it waits.
            drop(shared);
            if let Some(v) = vfork {
                v.wait();
            }
        }
        Ok(Outcome::Exits(status)) => {
            // Nothing is dropped after it: the restart's references first.
            drop(shared);
            exit_zombie(status);
        }
        Err(e) => {
            shared.fail(e, Some(shared.tasks[index].pid));
            // It must not reach user space with a half-restored state.
            current::kill();
        }
    }
}

/// Restores task `index` in its own context; returns how it goes on.
fn restore_task(s: &Arc<Shared>, index: usize) -> Result<Outcome> {
    let n = s.tasks.len();
    let me = s.tasks[index];
    let pid = me.pid;
    // The task whose state this one's builds on: its group's leader, or
    // its parent (the root's is the caller).
    let up_pid = if me.is_leader() { me.ppid } else { me.tgid };
    let up = s.tasks[..index].iter().position(|t| t.pid == up_pid);
    {
        let mut t = s.turns.lock();
        if let Some(e) = t.failed {
            return Err(e);
        }
        t.created.push(Task::current(), GFP_KERNEL_ACCOUNT)?;
    }
    if me.is_leader() {
        // Its session or group, which the children it makes inherit.
        let r = if me.sid == pid {
            setsid()
        } else if me.pgid == pid {
            setpgid(0)
        } else {
            Ok(())
        };
        r.inspect_err(|e| {
            s.ctx.lock().log(format_args!(
                "pid {pid}: cannot lead its session or group (errno {})",
                -e.to_errno()
            ))
        })?;
    }
    s.wait(index, Event::Turn(index))?;
    let (restored, image) = {
        let mut ctx = s.ctx.lock();
        // Its signals are held since it was created.
        ctx.hold_signals();
        let mut buf = RecordBuf::new();
        let restored = task::restore_task(&mut ctx, &mut buf, &me, up.is_some())?;
        if let Restored::Zombie(z) = &restored {
            // A zombie has a parent in the image, and no threads or
            // children: they would wait for it forever.
            let others = s
                .tasks
                .iter()
                .any(|t| t.pid != pid && (t.tgid == pid || t.ppid == pid));
            if up.is_none() || others {
                ctx.log(format_args!(
                    "pid {pid}: a zombie that is the root, or has threads or children"
                ));
                return Err(EINVAL);
            }
            // Now: its parent holds the context while it waits for it.
            z.commit(&mut ctx)?;
        }
        if index + 1 == n {
            ctx.read_tail(&mut buf)?;
        }
        (restored, ctx.image())
    };
    let state = match restored {
        Restored::Zombie(z) => {
            s.advance(|t| {
                t.stage[index] = Stage::Zombie;
                t.next = index + 1;
            });
            s.wait(index, Event::AllRead)?;
            // Its parent's actions say whether its exit leaves a zombie.
            s.wait(index, Event::Reached(up.ok_or(EINVAL)?, Stage::Actions))?;
            s.advance(|t| {
                t.committed += 1;
                t.stage[index] = Stage::Done;
            });
            return Ok(Outcome::Exits(z.status()));
        }
        Restored::Live(state) => state,
    };
    // The descriptors or fs it shares are set by the process that came
    // first with them, before it in the tree.
    let mut sharing = KVec::new();
    for p in state.shares_with().into_iter().flatten() {
        let j = s.tasks[..index].iter().position(|t| t.pid == p);
        sharing.push(j.ok_or(EINVAL)?, GFP_KERNEL_ACCOUNT)?;
    }
    // Its other threads share the memory, descriptors and fs it just
    // rebuilt; they come after it in the tree.
    if me.is_leader() {
        for (j, c) in s.tasks.iter().enumerate().skip(index + 1) {
            if c.tgid == pid && !c.is_leader() {
                spawn(s, j)?;
            }
        }
    }
    s.advance(|t| t.next = index + 1);
    // Its pages, while the next tasks read their records.
    state.fill_pages(&image)?;
    drop(image);
    let mut vfork = None;
    if me.is_leader() {
        // Its group first if its leader leads it already (it came before
        // it in the tree): its children inherit it, as they did, where
        // those in a pid namespace below could not join it themselves.
        if s.tasks[..index].iter().any(|t| t.pid == me.pgid) {
            join_group(s, index)?;
        }
        vfork = spawn_children(s, index)?;
    }
    s.wait(index, Event::AllRead)?;
    if me.is_leader() {
        join_group(s, index)?;
        check_group(s, index)?;
    }
    // It runs once what it builds on (its parent's or leader's state, and
    // what it shares) is set, so that neither sees the other half-restored.
    for &u in Iterator::chain(up.iter(), &sharing) {
        s.wait(index, Event::Reached(u, Stage::Done))?;
    }
    // Its zombie children wait for its actions to exit; it waits for them
    // by the pids it sees, in its pid namespace.
    let depth = s.levels.of(index).depth;
    let mut zombies = KVec::new();
    {
        let t = s.turns.lock();
        for (j, c) in s.tasks.iter().enumerate() {
            if c.ppid == pid && t.stage[j] == Stage::Zombie {
                let seen = pid_from_above(c.pid, depth);
                zombies.push((seen, c.exit_signal), GFP_KERNEL_ACCOUNT)?;
            }
        }
    }
    KBox::into_inner(state).commit(&mut s.ctx.lock(), &|| {
        s.advance(|t| t.stage[index] = Stage::Actions);
        for &(z, _) in &zombies {
            wait_child_exit(z)?;
        }
        // Their exits signalled it again; the image has its own pending.
        for &(_, sig) in &zombies {
            forget_signal(sig);
        }
        Ok(())
    })?;
    if s.frozen {
        current::stop();
    }
    signals::resume_signals();
    s.advance(|t| {
        t.committed += 1;
        t.stage[index] = Stage::Done;
    });
    Ok(Outcome::Runs(vfork))
}

/// Creates the children of process `index`, once its memory is whole, so
/// that they share its pages as `fork()` left them, or its memory as
/// `clone(CLONE_VM)` did: those of its own pid namespace and the inits of
/// new ones, then those of the one it unshared, its init first. Returns
/// its wait for the one it made with `vfork()`, if any.
fn spawn_children(s: &Arc<Shared>, index: usize) -> Result<Option<Vfork>> {
    let pid = s.tasks[index].pid;
    let mut vfork = None;
    let mut make = |j: usize| -> Result {
        let child = spawn(s, j)?;
        if s.tasks[j].flags & TreeTask::VFORK != 0 {
            vfork = Some(Vfork::arm(child)?);
        }
        Ok(())
    };
    let children = || {
        s.tasks
            .iter()
            .enumerate()
            .skip(index + 1)
            .filter(|(_, c)| c.is_leader() && c.ppid == pid)
            .map(|(j, _)| j)
    };
    for j in children().filter(|&j| !s.levels.in_unshared(j, index)) {
        make(j)?;
    }
    if s.levels.of(index).flags & TaskNs::UNSHARED != 0 {
        unshare_pid_ns().inspect_err(|e| {
            s.ctx.lock().log(format_args!(
                "pid {pid}: cannot unshare its pid namespace (errno {})",
                -e.to_errno()
            ))
        })?;
        for j in children().filter(|&j| s.levels.in_unshared(j, index)) {
            make(j)?;
        }
    }
    Ok(vfork)
}

/// Joins the process group of task `index` if its leader is another task
/// of the tree, where it is not already: before it makes its children if
/// the leader came before it in the tree, else once every task exists.
fn join_group(s: &Shared, index: usize) -> Result {
    let me = &s.tasks[index];
    let pid = me.pid;
    // The tree names them in its namespace, some levels above the task's.
    let up = s.levels.of(index).depth;
    let tree_ns = PidNs::above(up);
    if me.pgid != pid && s.in_tree(me.pgid) && Task::current().groups_in(&tree_ns).0 != me.pgid {
        // Seen from its namespace: in a nested one, it may not see it.
        let seen = pid_from_above(me.pgid, up);
        let r = if seen > 0 { setpgid(seen) } else { Err(ESRCH) };
        r.inspect_err(|e| {
            s.ctx.lock().log(format_args!(
                "pid {pid}: cannot join group {} (errno {})",
                me.pgid,
                -e.to_errno()
            ))
        })?;
    }
    Ok(())
}

/// Checks that the session and group of task `index` are those of the
/// image where the tree holds them (others are the caller's).
fn check_group(s: &Shared, index: usize) -> Result {
    let me = &s.tasks[index];
    let pid = me.pid;
    let tree_ns = PidNs::above(s.levels.of(index).depth);
    let (pgid, sid) = Task::current().groups_in(&tree_ns);
    if (s.in_tree(me.pgid) && pgid != me.pgid) || (s.in_tree(me.sid) && sid != me.sid) {
        s.ctx.lock().log(format_args!(
            "pid {pid}: cannot rebuild group {} of session {} (has {pgid} of {sid})",
            me.pgid, me.sid
        ));
        return Err(EINVAL);
    }
    Ok(())
}

/// `restart(2)` with `RESTART_TREE`: rebuilds the tree of the image as
/// descendants of the caller; returns the pid of its root.
pub(crate) fn restart_tree(mut ctx: Ctx, frozen: bool) -> Result<i64> {
    let mut buf = RecordBuf::new();
    let container = restart::read_header(&mut ctx, &mut buf)? & CHECKPOINT_SUBTREE == 0;
    let (tasks, levels) = restore_tree(&mut ctx, &mut buf)?;
    let n = tasks.len();
    ctx.log(format_args!(
        "a tree of {n} tasks, root pid {}",
        tasks[0].pid
    ));
    // CAST: at most `MAX_TASKS`.
    ctx.tasks = n as u64;
    let stage = KVVec::from_elem(Stage::Reading, n, GFP_KERNEL_ACCOUNT)?;
    let awaits = KVVec::from_elem(None, n + 1, GFP_KERNEL_ACCOUNT)?;
    let mut wakers = KVVec::with_capacity(n + 1, GFP_KERNEL_ACCOUNT)?;
    for _ in 0..=n {
        wakers.push(
            KBox::pin_init(new_condvar!(), GFP_KERNEL_ACCOUNT)?,
            GFP_KERNEL_ACCOUNT,
        )?;
    }
    let s = Arc::pin_init(
        pin_init!(Shared {
            ctx <- new_mutex!(ctx),
            turns <- new_mutex!(Turns {
                next: 0,
                committed: 0,
                stage,
                failed: None,
                reported: false,
                created: KVVec::new(),
                awaits,
            }),
            wakers,
            tasks,
            levels,
            frozen,
            container,
        }),
        GFP_KERNEL_ACCOUNT,
    )?;
    let r = spawn(&s, 0).and_then(|root| s.wait(n, Event::AllCommitted).map(|()| root));
    // Signals the wait put off are for after the call.
    signals::resume_signals();
    match r {
        Ok(root) => {
            s.ctx
                .lock()
                .log(format_args!("restored {n} tasks; the root is pid {root}"));
            Ok(i64::from(root))
        }
        Err(e) => {
            s.fail(e, None);
            for t in s.turns.lock().created.iter() {
                t.kill();
            }
            // The caller reads the log once the call returns: the task
            // that failed first writes its line, once the kill above
            // made whoever read the image let go of it.
            let _ = s.wait(n, Event::Reported);
            Err(e)
        }
    }
}
