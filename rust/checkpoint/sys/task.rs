// SPDX-License-Identifier: GPL-2.0

//! Tasks.
//!
//! C header: [`include/linux/sched.h`](srctree/include/linux/sched.h)

use super::cred::Cred;
use core::ptr::{self, NonNull};
use kernel::{
    bindings,
    prelude::*,
    types::{ARef, AlwaysRefCounted, Opaque},
};

/// A pid namespace: the one in which an image names its tasks.
///
/// # Invariants
///
/// `self.0` is null, for the active pid namespace of whichever task uses
/// it, or points to a pid namespace on which this value owns a reference.
pub(crate) struct PidNs(*mut bindings::pid_namespace);

// SAFETY: A reference on a pid namespace may be dropped from any thread.
unsafe impl Send for PidNs {}

// SAFETY: The namespace is only passed to C functions that read it.
unsafe impl Sync for PidNs {}

impl PidNs {
    /// The caller's active pid namespace.
    pub(crate) fn caller() -> Self {
        // INVARIANT: Null.
        PidNs(ptr::null_mut())
    }

    /// The pid namespace `up` levels above the caller's (its own for 0).
    pub(crate) fn above(up: u32) -> Self {
        // INVARIANT: The function returns a referenced namespace.
        // SAFETY: No preconditions.
        PidNs(unsafe { bindings::ckpt_pid_ns_above(up) })
    }

    /// The active pid namespace of `task`.
    pub(crate) fn of(task: &Task) -> Self {
        // INVARIANT: The function returns a referenced namespace.
        // SAFETY: `task` is valid.
        PidNs(unsafe { bindings::ckpt_task_pid_ns(task.as_ptr()) })
    }
}

impl PidNs {
    pub(crate) fn as_ptr(&self) -> *mut bindings::pid_namespace {
        self.0
    }
}

impl Drop for PidNs {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: By the type invariant, we own a reference.
            unsafe { bindings::put_pid_ns(self.0) }
        }
    }
}

/// A task (`struct task_struct`).
///
/// # Invariants
///
/// Instances are only reached through an [`ARef<Task>`], which owns one
/// reference on a valid task: the task stays valid while it exists.
#[repr(transparent)]
pub(crate) struct Task(Opaque<bindings::task_struct>);

// SAFETY: A `Task` is only reached through `ARef`, and the task's refcount and
// the fields read here may be accessed from any thread.
unsafe impl Send for Task {}

// SAFETY: The methods only read fields that are either constant for the life
// of the task or read under the locks the C accessors take.
unsafe impl Sync for Task {}

// SAFETY: The type invariants guarantee that `Task` is always refcounted.
unsafe impl AlwaysRefCounted for Task {
    fn inc_ref(&self) {
        // SAFETY: The existence of a shared reference means the refcount is nonzero.
        unsafe { bindings::get_task_struct(self.as_ptr()) };
    }

    unsafe fn dec_ref(obj: NonNull<Self>) {
        // SAFETY: The caller owns one reference, which is given up here.
        unsafe { bindings::put_task_struct(obj.cast().as_ptr()) }
    }
}

impl Task {
    pub(crate) fn as_ptr(&self) -> *mut bindings::task_struct {
        self.0.get()
    }

    /// Takes a reference on the calling task.
    pub(crate) fn current() -> ARef<Task> {
        // SAFETY: `get_current` has no preconditions.
        let ptr = unsafe { bindings::get_current() };
        // SAFETY: The current task is valid while it runs this code.
        unsafe { bindings::get_task_struct(ptr) };
        // SAFETY: `ptr` is non-null and we took the reference that the `ARef` owns.
        unsafe { ARef::from_raw(NonNull::new_unchecked(ptr.cast())) }
    }

    /// Finds the task with pid `pid` in the pid namespace of the caller.
    pub(crate) fn from_vpid(pid: i32) -> Option<ARef<Task>> {
        // SAFETY: `find_get_task_by_vpid` may be called with any pid; it returns
        // a referenced task or null.
        let ptr = unsafe { bindings::find_get_task_by_vpid(pid) };
        // INVARIANT: A non-null result carries a reference, given to the `ARef`.
        // SAFETY: As above.
        NonNull::new(ptr).map(|p| unsafe { ARef::from_raw(p.cast()) })
    }

    fn pid_nr(&self, ty: bindings::pid_type) -> i32 {
        self.pid_in(ty, &PidNs::caller())
    }

    fn pid_in(&self, ty: bindings::pid_type, ns: &PidNs) -> i32 {
        // SAFETY: `self` is a valid task, `ns` null (the caller's active pid
        // namespace) or valid; the function takes the RCU lock itself.
        unsafe { bindings::__task_pid_nr_ns(self.as_ptr(), ty, ns.0) }
    }

    /// Returns the pid, thread-group id and parent's pid of the task, as
    /// seen from `ns` (0 if unseen).
    pub(crate) fn pids_in(&self, ns: &PidNs) -> (i32, i32, i32) {
        (
            self.pid_in(bindings::pid_type_PIDTYPE_PID, ns),
            self.pid_in(bindings::pid_type_PIDTYPE_TGID, ns),
            // SAFETY: As in `pid_in`; the helper reads `real_parent` under RCU.
            unsafe { bindings::task_ppid_nr_ns(self.as_ptr(), ns.0) },
        )
    }

    /// Returns the pid, as seen from the caller's pid namespace (0 if unseen).
    pub(crate) fn vpid(&self) -> i32 {
        self.pid_nr(bindings::pid_type_PIDTYPE_PID)
    }

    /// Returns the thread-group id, as seen from the caller's pid namespace.
    pub(crate) fn vtgid(&self) -> i32 {
        self.pid_nr(bindings::pid_type_PIDTYPE_TGID)
    }

    /// Returns true if the task is the calling task.
    pub(crate) fn is_current(&self) -> bool {
        // SAFETY: `get_current` has no preconditions.
        ptr::eq(self.as_ptr(), unsafe { bindings::get_current() })
    }

    /// Returns true if the task is frozen by the cgroup v1 freezer
    /// (`TASK_FROZEN`) or parked by the cgroup v2 freezer.
    ///
    /// The answer may change as soon as it is given: callers check again
    /// once they are done with the task.
    pub(crate) fn is_frozen(&self) -> bool {
        // SAFETY: `self` is valid; both helpers only read the task's state.
        unsafe { bindings::frozen(self.as_ptr()) || bindings::cgroup_task_frozen(self.as_ptr()) }
    }

    /// Returns true for kernel threads.
    pub(crate) fn is_kthread(&self) -> bool {
        // SAFETY: `self` is valid; `PF_KTHREAD` never changes after creation.
        let flags = unsafe { *ptr::addr_of!((*self.as_ptr()).flags) };
        flags & bindings::PF_KTHREAD != 0
    }

    /// Returns the command name, NUL-terminated.
    pub(crate) fn comm(&self) -> [u8; bindings::TASK_COMM_LEN as usize] {
        let mut buf = [0u8; bindings::TASK_COMM_LEN as usize];
        // SAFETY: `buf` has the size passed; `__get_task_comm` takes the task
        // lock and always NUL-terminates.
        unsafe { bindings::__get_task_comm(buf.as_mut_ptr().cast(), buf.len(), self.as_ptr()) };
        buf
    }

    /// Pins the task for its checkpoint, once the caller is found to have
    /// ptrace attach access to it (with its real credentials): until the
    /// returned guard is dropped the task cannot exec, so the access holds,
    /// and its kernel stack stays even if it dies.
    ///
    /// Fails with `EPERM` without access, `ESRCH` if the task is gone, and
    /// `EINTR` on a fatal signal.
    pub(crate) fn pin(&self) -> Result<TaskPin<'_>> {
        // SAFETY: `self` is valid; the function takes the task's
        // `exec_update_lock` and a stack reference only on success.
        kernel::error::to_result(unsafe { bindings::ckpt_task_pin(self.as_ptr()) })?;
        // INVARIANT: Both were just taken.
        Ok(TaskPin(self))
    }

    /// Returns what the task shares beyond its thread group: for a group
    /// leader, `CKPT_SHARES_FILES`, `_FS` or `_MM` if another thread group
    /// shares its descriptor table, fs or memory; for another thread,
    /// `CKPT_OWN_FILES` or `_FS` if its own is not its leader's. The task
    /// must be frozen.
    pub(crate) fn sharing(&self) -> u32 {
        // SAFETY: `self` is valid; the function takes the task's lock.
        unsafe { bindings::ckpt_task_sharing(self.as_ptr()) }
    }

    /// Returns the number of threads of the task's group, whether it has
    /// children (zombies included), and whether it is exiting.
    pub(crate) fn shape(&self) -> (i32, bool, bool) {
        let (mut threads, mut children, mut exiting) = (0, false, false);
        // SAFETY: `self` is valid; the function takes the locks it needs and
        // only writes the three out-parameters.
        unsafe {
            bindings::ckpt_task_shape(self.as_ptr(), &mut threads, &mut children, &mut exiting)
        };
        (threads, children, exiting)
    }

    /// Takes a reference on the task's objective credentials.
    pub(crate) fn cred(&self) -> ARef<Cred> {
        // SAFETY: `self` is valid; `get_task_cred` returns a referenced, non-null
        // cred.
        let ptr = unsafe { bindings::get_task_cred(self.as_ptr()) };
        // SAFETY: As above, the reference is given to the `ARef`.
        unsafe { ARef::from_raw(NonNull::new_unchecked(ptr.cast_mut().cast())) }
    }
}

impl Task {
    /// Returns the task's root and working directories as paths from the
    /// caller's root, written in `root` and `cwd`.
    ///
    /// Fails with `ENAMETOOLONG` if one does not fit, `ESRCH` if the task
    /// has no `fs_struct` (it is exiting).
    pub(crate) fn fs_paths<'b>(
        &self,
        root: &'b mut [u8],
        cwd: &'b mut [u8],
    ) -> Result<(&'b [u8], &'b [u8])> {
        if root.len() != cwd.len() {
            return Err(EINVAL);
        }
        let len = i32::try_from(root.len()).map_err(|_| EINVAL)?;
        let (mut r, mut c) = (ptr::null_mut(), ptr::null_mut());
        // SAFETY: `self` is valid; both buffers have `len` bytes, and the
        // function sets `r` and `c` to the start of the NUL-terminated
        // paths it wrote in them, or fails.
        let e = unsafe {
            bindings::ckpt_get_fs(
                self.as_ptr(),
                root.as_mut_ptr().cast(),
                cwd.as_mut_ptr().cast(),
                len,
                &mut r,
                &mut c,
            )
        };
        kernel::error::to_result(e)?;
        Ok((super::in_buf(root, r)?, super::in_buf(cwd, c)?))
    }
}

/// Per-task settings (`struct ckpt_task_settings`): `oom_score_adj`,
/// `no_new_privs`, robust futex list.
pub(crate) type TaskSettings = bindings::ckpt_task_settings;

impl Task {
    /// Reads the settings of a stopped task (or of the caller).
    pub(crate) fn settings(&self) -> TaskSettings {
        // SAFETY: All-zero bytes are a valid `ckpt_task_settings`.
        let mut t: TaskSettings = unsafe { core::mem::zeroed() };
        // SAFETY: `self` is valid; the function only reads the task and
        // writes `t`.
        unsafe { bindings::ckpt_get_task_settings(self.as_ptr(), &mut t) };
        t
    }
}

/// A task pinned for its checkpoint by [`Task::pin`].
///
/// # Invariants
///
/// Holds the task's `exec_update_lock` for reading and a reference on its
/// kernel stack, both given up on drop.
pub(crate) struct TaskPin<'a>(&'a Task);

impl Drop for TaskPin<'_> {
    fn drop(&mut self) {
        // SAFETY: By the type invariants both are held, and given up once.
        unsafe { bindings::ckpt_task_unpin(self.0.as_ptr()) }
    }
}

/// Operations on the caller, which restart turns into the task of an image.
pub(crate) mod current {
    use super::TaskSettings;
    use crate::sys::file::File;
    use kernel::{
        bindings,
        ffi::{c_int, c_ulong},
        prelude::*,
        uaccess::UserPtr,
    };

    /// The arguments of `eclone(2)`, as user space gives them.
    pub(crate) type EcloneArgs = bindings::eclone_args;

    /// Copies the arguments of `eclone(2)` from user space, `size` bytes at
    /// `uargs`, as `clone3()` copies its own: a longer struct, from a newer
    /// ABI, must end in zeros (`E2BIG` if not).
    pub(crate) fn copy_eclone_args(uargs: UserPtr, size: usize) -> Result<EcloneArgs> {
        // SAFETY: All zeros is a valid `eclone_args` (plain integers).
        let mut a: EcloneArgs = unsafe { core::mem::zeroed() };
        // SAFETY: `a` is writable; the function checks the user range.
        kernel::error::to_result(unsafe {
            bindings::ckpt_copy_eclone_args(&mut a, uargs as *const EcloneArgs, size)
        })?;
        Ok(a)
    }

    /// A child to create, as `kernel_clone()` takes it. Pointers are user
    /// addresses, checked by the functions that use them.
    pub(crate) struct CloneArgs<'a> {
        pub(crate) flags: u64,
        pub(crate) exit_signal: u32,
        pub(crate) stack: u64,
        pub(crate) stack_size: u64,
        pub(crate) tls: u64,
        /// Where `CLONE_PARENT_SETTID` writes the pid, or `CLONE_PIDFD` the
        /// pidfd, as `clone(2)` has it.
        pub(crate) parent_tid: u64,
        pub(crate) child_tid: u64,
        /// Chosen pids, the child's own namespace first (`set_tid`).
        pub(crate) set_tid: &'a [i32],
    }

    /// Creates a child of the caller: refuses what `clone3()` refuses
    /// (`EINVAL`), then forks it with `kernel_clone()`, which checks the
    /// chosen pids as it does `clone3()`'s `set_tid` (`EINVAL` out of range,
    /// `EEXIST` in use, `EPERM` without `CAP_SYS_ADMIN` or
    /// `CAP_CHECKPOINT_RESTORE` over a level). Returns the child's pid in
    /// the caller's namespace.
    pub(crate) fn clone(a: &CloneArgs<'_>) -> Result<i32> {
        // SAFETY: All zeros is a valid `kernel_clone_args`: no name, thread
        // function, cgroup or pid array.
        let mut k: bindings::kernel_clone_args = unsafe { core::mem::zeroed() };
        k.flags = a.flags;
        // CAST: user addresses and the stack fit in `unsigned long`.
        k.pidfd = a.parent_tid as usize as *mut c_int;
        k.parent_tid = a.parent_tid as usize as *mut c_int;
        k.child_tid = a.child_tid as usize as *mut c_int;
        // CAST: at most `_NSIG`, checked by the caller.
        k.exit_signal = a.exit_signal as c_int;
        k.stack = a.stack as c_ulong;
        k.stack_size = a.stack_size as c_ulong;
        k.tls = a.tls as c_ulong;
        k.set_tid = a.set_tid.as_ptr().cast_mut();
        k.set_tid_size = a.set_tid.len();
        // SAFETY: `k` is valid; the function checks it and sets up its stack.
        if !unsafe { bindings::clone3_args_valid(&mut k) } {
            return Err(EINVAL);
        }
        // SAFETY: `k` is valid, and `set_tid`, which `kernel_clone()` only
        // reads, outlives the call.
        let pid = unsafe { bindings::kernel_clone(&mut k) };
        if pid < 0 {
            Err(Error::from_errno(pid))
        } else {
            Ok(pid)
        }
    }

    /// Returns true if the caller is a single thread with an mm of its own.
    pub(crate) fn is_alone() -> bool {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_current_is_alone() }
    }

    /// Sets the command name (`comm`, NUL-terminated in its 16 bytes).
    pub(crate) fn set_comm(comm: &[u8; bindings::TASK_COMM_LEN as usize]) {
        let mut c = *comm;
        c[c.len() - 1] = 0;
        // SAFETY: `c` is NUL-terminated.
        unsafe { bindings::ckpt_set_comm(c.as_ptr().cast()) }
    }

    /// Queues `SIGKILL` to the caller: a restart that failed after the old
    /// memory was released must not return to user space.
    pub(crate) fn kill() {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_kill_self() }
    }

    /// Returns the caller's soft limit on open files (`RLIMIT_NOFILE`).
    pub(crate) fn nofile_limit() -> u64 {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_nofile_limit() }
    }

    /// Queues `SIGSTOP` to the caller: it stops before it returns to user
    /// space.
    pub(crate) fn stop() {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_stop_self() }
    }

    /// Returns the lowest `oom_score_adj` the caller may set without
    /// `CAP_SYS_RESOURCE`.
    pub(crate) fn oom_score_adj_min() -> i32 {
        // SAFETY: No preconditions.
        unsafe { bindings::ckpt_oom_score_adj_min() }
    }

    /// Sets the caller's `oom_score_adj`, `no_new_privs` and robust list,
    /// which `task::check_settings()` checked against the caller.
    pub(crate) fn set_settings(t: &TaskSettings) -> Result {
        // SAFETY: `t` is only read.
        kernel::error::to_result(unsafe { bindings::ckpt_set_task_settings(t) })
    }

    /// Sets the caller's root directory (if `root`) and working directory,
    /// checked with [`File::may_enter`].
    pub(crate) fn set_fs(root: Option<&File>, cwd: &File) {
        let root = root.map_or(core::ptr::null_mut(), |f| f.as_ptr());
        // SAFETY: Both files are valid (or `root` null); the function
        // takes its own references on their paths.
        unsafe { bindings::ckpt_set_fs(root, cwd.as_ptr()) }
    }
}
