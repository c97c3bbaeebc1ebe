// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: tasks, their pinning during a checkpoint, and
 * per-task settings (sys/task.rs).
 */

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/fs_struct.h>
#include <linux/futex.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/ptrace.h>
#include <linux/resource.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/security.h>

/*
 * Pins @task for the whole of its checkpoint: its exec_update_lock, read,
 * as /proc/PID/mem and ptrace_attach() take it, so that it cannot exec
 * (and take new credentials or memory) until the image is written; and its
 * kernel stack, where its user registers live, even if it dies meanwhile.
 * ptrace attach access is checked under the lock, so it holds throughout.
 * Returns 0, -EINTR (fatal signal), -EPERM or -ESRCH.
 */
int ckpt_task_pin(struct task_struct *task)
{
	int ret = down_read_killable(&task->signal->exec_update_lock);

	if (ret)
		return ret;
	if (!ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS))
		ret = -EPERM;
	else if (!try_get_task_stack(task))
		ret = -ESRCH;
	if (ret)
		up_read(&task->signal->exec_update_lock);
	return ret;
}

void ckpt_task_unpin(struct task_struct *task)
{
	put_task_stack(task);
	up_read(&task->signal->exec_update_lock);
}

/* Per-task settings, as a task record holds them. */
void ckpt_get_task_settings(struct task_struct *task, struct ckpt_task_settings *t)
{
	memset(t, 0, sizeof(*t));
	t->oom_score_adj = READ_ONCE(task->signal->oom_score_adj);
	t->no_new_privs = task_no_new_privs(task);
#ifdef CONFIG_FUTEX
	t->robust_list = (unsigned long)task->robust_list;
	t->robust_list_len = task->robust_list ? sizeof(struct robust_list_head) : 0;
#endif
	t->clear_child_tid = (unsigned long)task->clear_child_tid;
}

/* The lowest oom_score_adj the caller may set without CAP_SYS_RESOURCE. */
int ckpt_oom_score_adj_min(void)
{
	return READ_ONCE(current->signal->oom_score_adj_min);
}

/*
 * Sets the caller's settings, which the Rust core checked against the
 * caller when it read them (task.rs: check_settings()). no_new_privs is
 * only ever set; clear_child_tid is set as set_tid_address() sets it.
 */
int ckpt_set_task_settings(const struct ckpt_task_settings *t)
{
	WRITE_ONCE(current->signal->oom_score_adj, t->oom_score_adj);
	if (t->no_new_privs)
		task_set_no_new_privs(current);
#ifdef CONFIG_FUTEX
	current->robust_list =
		(struct robust_list_head __user *)(unsigned long)t->robust_list;
#endif
	current->clear_child_tid = (int __user *)(unsigned long)t->clear_child_tid;
	return 0;
}

/*
 * What @task shares beyond its thread group: for a group leader, its
 * descriptor table (CKPT_SHARES_FILES), fs (CKPT_SHARES_FS), memory
 * (CKPT_SHARES_MM) or signal actions (CKPT_SHARES_SIGHAND) with a task
 * outside its thread group (clone() without CLONE_THREAD, or vfork()); for
 * another thread, a descriptor table
 * (CKPT_OWN_FILES) or fs (CKPT_OWN_FS) of its own (unshare()), where its
 * group's is saved. Tasks are frozen.
 */
unsigned int ckpt_task_sharing(struct task_struct *task)
{
	struct task_struct *leader = task->group_leader;
	int threads = get_nr_threads(task);
	unsigned int odd = 0;

	task_lock(task);
	if (!thread_group_leader(task)) {
		if (task->files != leader->files)
			odd |= CKPT_OWN_FILES;
		if (task->fs != leader->fs)
			odd |= CKPT_OWN_FS;
	} else {
		if (task->files && atomic_read(&task->files->count) > threads)
			odd |= CKPT_SHARES_FILES;
		if (task->fs && READ_ONCE(task->fs->users) > threads)
			odd |= CKPT_SHARES_FS;
		if (task->mm && atomic_read(&task->mm->mm_users) > threads)
			odd |= CKPT_SHARES_MM;
		if (refcount_read(&task->sighand->count) > threads)
			odd |= CKPT_SHARES_SIGHAND;
	}
	task_unlock(task);
	return odd;
}

/* The shape of @task's state: its group's threads, children, an exit. */
void ckpt_task_shape(struct task_struct *task, int *threads, bool *children,
		     bool *exiting)
{
	*threads = get_nr_threads(task);
	read_lock(&tasklist_lock);
	*children = !list_empty(&task->children);
	read_unlock(&tasklist_lock);
	*exiting = task->flags & PF_EXITING;
}

void ckpt_set_comm(const char *comm)
{
	__set_task_comm(current, comm, false);
}

/* Kills the caller, whose restart failed once its old memory was gone. */
void ckpt_kill_self(void)
{
	force_sig(SIGKILL);
}

u64 ckpt_nofile_limit(void)
{
	return rlimit(RLIMIT_NOFILE);
}

/* Stops the restored caller before it runs (RESTART_FROZEN). */
void ckpt_stop_self(void)
{
	send_sig(SIGSTOP, current, 1);
}

/*
 * Restart rebuilds the caller: it must not share its memory or files with
 * another task. Temporary users of the mm (a reader of /proc/PID/maps) do
 * not count.
 */
bool ckpt_current_is_alone(void)
{
	return current_is_single_threaded() &&
	       atomic_read(&current->files->count) == 1 &&
	       current->fs->users == 1;
}

/* eclone(2): copies its arguments as clone3() does (a longer struct with a zero tail). */
int ckpt_copy_eclone_args(struct eclone_args *args,
			  const struct eclone_args __user *uargs, size_t size)
{
	return copy_struct_from_user(args, sizeof(*args), uargs, size);
}
