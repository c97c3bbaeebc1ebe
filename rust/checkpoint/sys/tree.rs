// SPDX-License-Identifier: GPL-2.0

//! Process trees: walking a task's descendants, and creating the tasks of
//! a tree at restart.
//!
//! C headers: [`include/linux/sched/task.h`](srctree/include/linux/sched/task.h),
//! [`include/linux/task_work.h`](srctree/include/linux/task_work.h)

use super::task::{PidNs, Task};
use core::ptr::NonNull;
use kernel::{alloc::KBox, bindings, ffi::c_void, prelude::*, types::ARef};

impl Task {
    /// Takes a reference on this task (a group leader), each of its
    /// descendants and each of their threads: parents before their
    /// children, each process followed by its other threads; `E2BIG` if
    /// there are more than `max`.
    pub(crate) fn tree(&self, max: usize) -> Result<KVVec<ARef<Task>>> {
        // Both allocated first, so that every reference taken finds its place.
        let mut ptrs = KVVec::from_elem(core::ptr::null_mut(), max, GFP_KERNEL_ACCOUNT)?;
        let mut tasks = KVVec::with_capacity(max, GFP_KERNEL_ACCOUNT)?;
        let max = u32::try_from(max).map_err(|_| EINVAL)?;
        // SAFETY: The task is valid and `ptrs` has room for `max` pointers;
        // the function fills the first ones with referenced tasks.
        let n = unsafe { bindings::ckpt_collect_tree(self.as_ptr(), ptrs.as_mut_ptr(), max) };
        kernel::error::to_result(n)?;
        // CAST: a count, not negative after the check above.
        for &p in &ptrs[..n as usize] {
            // INVARIANT: The function took the reference the `ARef` owns.
            // SAFETY: `p` is non-null and referenced, as above.
            let t: ARef<Task> = unsafe { ARef::from_raw(NonNull::new_unchecked(p.cast())) };
            // Within the capacity reserved: cannot fail.
            tasks.push(t, GFP_KERNEL_ACCOUNT)?;
        }
        Ok(tasks)
    }

    /// Returns the process group and session of the task, in `ns` (0
    /// outside it).
    pub(crate) fn groups_in(&self, ns: &PidNs) -> (i32, i32) {
        let (mut pgid, mut sid) = (0, 0);
        // SAFETY: The task is valid, `ns` null or valid; the function only
        // writes both.
        unsafe { bindings::ckpt_task_groups(self.as_ptr(), ns.as_ptr(), &mut pgid, &mut sid) };
        (pgid, sid)
    }

    /// Returns where the task is among the pid namespaces nested in
    /// `levels` (`EXDEV` if it is not in one of them), with the pids of
    /// their inits in `names`.
    pub(crate) fn nested_pids(&self, levels: &PidNs, names: &PidNs) -> Result<NestedPids> {
        if levels.as_ptr().is_null() {
            return Err(EINVAL);
        }
        // SAFETY: All-zero is a valid value of this plain C struct.
        let mut raw: bindings::ckpt_nested_pids = unsafe { core::mem::zeroed() };
        // SAFETY: The task is valid, `levels` valid, `names` null or valid;
        // `raw` has room for `MAX_PID_NS_LEVEL` pids.
        let depth = unsafe {
            bindings::ckpt_task_nested_pids(
                self.as_ptr(),
                levels.as_ptr(),
                names.as_ptr(),
                &mut raw,
                bindings::MAX_PID_NS_LEVEL,
            )
        };
        kernel::error::to_result(depth)?;
        Ok(NestedPids {
            raw,
            // CAST: not negative after the check, at most `MAX_PID_NS_LEVEL`.
            depth: depth as usize,
        })
    }

    /// Returns whether the task is the init of its pid namespace.
    pub(crate) fn is_ns_init(&self) -> bool {
        // SAFETY: The task is valid.
        unsafe { bindings::ckpt_task_is_ns_init(self.as_ptr()) }
    }

    /// Returns whether the task has exited and waits to be reaped.
    pub(crate) fn is_zombie(&self) -> bool {
        // SAFETY: The task is valid.
        unsafe { bindings::ckpt_task_is_zombie(self.as_ptr()) }
    }

    /// Returns what its parent learns of its exit: the signal it gets (0
    /// for none, or for a thread), and the status `wait()` reports, once
    /// it is a zombie.
    pub(crate) fn exit(&self) -> (u32, u32) {
        let (mut signal, mut status) = (0, 0);
        // SAFETY: The task is valid; the function only writes both.
        unsafe { bindings::ckpt_task_exit(self.as_ptr(), &mut signal, &mut status) };
        (u32::try_from(signal).unwrap_or(0), status)
    }

    /// Whether its parent, frozen, waits in `vfork()` until it execs or
    /// exits; `EOPNOTSUPP` if the one that waits is not its parent's group
    /// leader (a thread, or `CLONE_PARENT`).
    pub(crate) fn vforked(&self) -> Result<bool> {
        // SAFETY: The task is valid; the function takes its lock.
        let r = unsafe { bindings::ckpt_task_vforked(self.as_ptr()) };
        kernel::error::to_result(r).map(|()| r > 0)
    }

    /// Checks that the caller has ptrace attach access to the task, which
    /// cannot exec meanwhile: a zombie, or a frozen task already saved
    /// under [`Task::pin`] (which any other live task needs).
    pub(crate) fn attach_access(&self) -> Result {
        // SAFETY: The task is valid.
        match unsafe { bindings::ckpt_task_may_attach(self.as_ptr()) } {
            true => Ok(()),
            false => Err(EPERM),
        }
    }

    /// Sends `SIGKILL` to the task.
    pub(crate) fn kill(&self) {
        // SAFETY: The task is valid.
        unsafe { bindings::ckpt_kill_task(self.as_ptr()) }
    }
}

/// Where a task is among the pid namespaces nested in its tree's:
/// [`Task::nested_pids`].
pub(crate) struct NestedPids {
    raw: bindings::ckpt_nested_pids,
    depth: usize,
}

impl NestedPids {
    /// Its pids from the level below the tree's namespace down to its own.
    pub(crate) fn pids(&self) -> &[i32] {
        self.raw.pids.get(..self.depth).unwrap_or(&[])
    }

    /// The pid of the init of its namespace.
    pub(crate) fn init(&self) -> i32 {
        self.raw.init
    }

    /// How many levels below its own its children are made (1 after
    /// `unshare(CLONE_NEWPID)`), and the pid of the init there (0: none
    /// yet, -1: gone); `None` for a task without namespaces (it exited).
    pub(crate) fn children(&self) -> Option<(i32, i32)> {
        (self.raw.children >= 0).then_some((self.raw.children, self.raw.children_init))
    }
}

/// Returns the caller's pid for the task with pid `nr` in the pid namespace
/// `up` levels above the caller's; 0 if the caller cannot see it.
pub(crate) fn pid_from_above(nr: i32, up: u32) -> i32 {
    // SAFETY: No preconditions.
    unsafe { bindings::ckpt_pid_from_above(nr, up) }
}

/// Makes the caller's later children in a new pid namespace below its own
/// (`unshare(CLONE_NEWPID)`).
pub(crate) fn unshare_pid_ns() -> Result {
    // SAFETY: No preconditions.
    kernel::error::to_result(unsafe { bindings::ckpt_unshare_pid_ns() })
}

/// Ends the caller, a restored zombie, with the status `wait()` reports.
pub(crate) fn exit_zombie(status: u32) -> ! {
    // SAFETY: No preconditions; the function does not return.
    unsafe { bindings::ckpt_exit_zombie(status) }
}

/// Waits until the caller's child `pid` has exited; `EINTR` on a fatal
/// signal.
pub(crate) fn wait_child_exit(pid: i32) -> Result {
    // SAFETY: No preconditions.
    kernel::error::to_result(unsafe { bindings::ckpt_wait_child_exit(pid) })
}

/// Forgets signal `sig` (1 to 64) pending for the caller.
pub(crate) fn forget_signal(sig: u32) {
    if let Ok(sig @ 1..=64) = i32::try_from(sig) {
        // SAFETY: `sig` is a valid signal number.
        unsafe { bindings::ckpt_forget_signal(sig) }
    }
}

/// Makes the caller the leader of a new session (`setsid()`).
pub(crate) fn setsid() -> Result {
    // SAFETY: No preconditions.
    kernel::error::to_result(unsafe { bindings::ckpt_setsid() })
}

/// Moves the caller into process group `pgid`, 0 for its own, with the
/// checks of `setpgid()` (`EPERM` for a group of another session).
pub(crate) fn setpgid(pgid: i32) -> Result {
    // SAFETY: No preconditions.
    kernel::error::to_result(unsafe { bindings::ckpt_setpgid(pgid) })
}

/// What a child of [`spawn_child`] runs.
struct Start<T> {
    data: KBox<T>,
    run: fn(KBox<T>),
}

extern "C" fn start<T>(arg: *mut c_void) {
    // SAFETY: `arg` is the `KBox<Start<T>>` that `spawn_child` gave up, and
    // the C code calls this once.
    let s = unsafe { KBox::from_raw(arg.cast::<Start<T>>()) };
    let Start { data, run } = KBox::into_inner(s);
    run(data);
}

/// How [`spawn_child`] creates a task.
#[derive(Clone, Copy)]
pub(crate) enum Spawn {
    /// A child process, as `fork()` makes one, whose parent gets
    /// `exit_signal` at its exit: with `new_pid_ns`, the init of a new pid
    /// namespace (`CLONE_NEWPID`); with `shares_mm`, sharing the caller's
    /// memory (`CLONE_VM`).
    Process {
        exit_signal: u32,
        new_pid_ns: bool,
        shares_mm: bool,
    },
    /// A thread of the caller's group, as `pthread_create()` makes one: it
    /// shares the caller's memory, descriptors, fs and signal actions.
    Thread,
}

/// Creates a task (`how`) with the pids `set_tid`, its own namespace's
/// first, then those of the levels above (`EEXIST` if one is in use,
/// `EPERM` without `CAP_CHECKPOINT_RESTORE` over a level). The task
/// calls `run(data)` in its own context before it first returns to user
/// space, with all signals but `SIGKILL` and `SIGSTOP` blocked. Returns its
/// pid in the caller's pid namespace.
pub(crate) fn spawn_child<T: Send>(
    set_tid: &[i32],
    how: Spawn,
    data: KBox<T>,
    run: fn(KBox<T>),
) -> Result<i32> {
    let (flags, exit_signal) = match how {
        Spawn::Process {
            exit_signal,
            new_pid_ns,
            shares_mm,
        } => {
            let ns = if new_pid_ns {
                bindings::CLONE_NEWPID
            } else {
                0
            };
            let vm = if shares_mm { bindings::CLONE_VM } else { 0 };
            (ns | vm, exit_signal)
        }
        Spawn::Thread => (
            bindings::CLONE_VM
                | bindings::CLONE_FS
                | bindings::CLONE_FILES
                | bindings::CLONE_SIGHAND
                | bindings::CLONE_THREAD
                | bindings::CLONE_SYSVSEM,
            0,
        ),
    };
    // The tree record holds at most signal 64.
    let exit_signal = i32::try_from(exit_signal).map_err(|_| EINVAL)?;
    let s = KBox::into_raw(KBox::new(Start { data, run }, GFP_KERNEL_ACCOUNT)?);
    // SAFETY: `set_tid` is read during the call; on success the child owns
    // `s` and passes it to `start::<T>` once, on failure it is untouched.
    let r = unsafe {
        bindings::ckpt_spawn_child(
            set_tid.as_ptr(),
            set_tid.len(),
            u64::from(flags),
            exit_signal,
            Some(start::<T>),
            s.cast(),
        )
    };
    if r < 0 {
        // SAFETY: Not used by C on failure: ours again.
        drop(unsafe { KBox::from_raw(s) });
        return Err(Error::from_errno(r));
    }
    Ok(r)
}

/// The caller's wait for its child's exec or exit, as `vfork()` waits.
///
/// # Invariants
///
/// `self.0` is a wait that `ckpt_vfork_arm()` returned, released once, on
/// drop.
pub(crate) struct Vfork(NonNull<bindings::ckpt_vfork>);

// SAFETY: The wait is the caller's; the C functions take the child's lock.
unsafe impl Send for Vfork {}

impl Vfork {
    /// Makes the exec or exit of the caller's child `pid`, just made and not
    /// run yet, end the wait; `ESRCH` if it is exiting.
    pub(crate) fn arm(pid: i32) -> Result<Self> {
        // SAFETY: No pointer is passed; the result is a wait or an error.
        let p = unsafe { bindings::ckpt_vfork_arm(pid) };
        let p = kernel::error::from_err_ptr(p)?;
        // INVARIANT: Not an error: a wait, ours to release.
        NonNull::new(p).map(Self).ok_or(ENOMEM)
    }

    /// Waits until the child execs or exits, or the caller gets `SIGKILL`.
    pub(crate) fn wait(self) {
        // SAFETY: By the type invariant, the wait is valid until dropped.
        unsafe { bindings::ckpt_vfork_wait(self.0.as_ptr()) };
    }
}

impl Drop for Vfork {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, released here only.
        unsafe { bindings::ckpt_vfork_release(self.0.as_ptr()) };
    }
}
