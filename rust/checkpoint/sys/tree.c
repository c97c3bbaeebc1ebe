// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: process trees (sys/tree.rs).
 */

#include <linux/cgroup.h>
#include <linux/checkpoint.h>
#include <linux/completion.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/task_work.h>

/* Appends @p and the other threads of its group to @out, if they fit. */
static bool ckpt_add_group(struct task_struct *p, struct task_struct **out,
			   unsigned int *n, unsigned int max)
{
	struct task_struct *t;

	if (*n + get_nr_threads(p) > max)
		return false;
	get_task_struct(p);
	out[(*n)++] = p;
	for_each_thread(p, t) {
		if (t == p)
			continue;
		get_task_struct(t);
		out[(*n)++] = t;
	}
	return true;
}

/*
 * Takes a reference on @root, each of its descendants and each of their
 * threads, into @out: parents before their children (a walk of the
 * children lists of every thread, breadth first), each process followed by
 * its other threads. @root must lead its thread group. Returns how many,
 * or -E2BIG (no reference kept) if there are more than @max.
 */
int ckpt_collect_tree(struct task_struct *root, struct task_struct **out,
		      unsigned int max)
{
	struct task_struct *t, *child;
	unsigned int i, n = 0;

	read_lock(&tasklist_lock);
	if (!ckpt_add_group(root, out, &n, max))
		goto too_many;
	for (i = 0; i < n; i++) {
		if (!thread_group_leader(out[i]))
			continue;
		/* A child's parent is the thread that forked it. */
		for_each_thread(out[i], t) {
			list_for_each_entry(child, &t->children, sibling)
				if (!ckpt_add_group(child, out, &n, max))
					goto too_many;
		}
	}
	read_unlock(&tasklist_lock);
	return n;

too_many:
	read_unlock(&tasklist_lock);
	while (n)
		put_task_struct(out[--n]);
	return -E2BIG;
}

/*
 * The process group and session of @task, in pid namespace @ns (NULL: the
 * caller's).
 */
void ckpt_task_groups(struct task_struct *task, struct pid_namespace *ns,
		      pid_t *pgid, pid_t *sid)
{
	*pgid = task_pgrp_nr_ns(task, ns);
	*sid = task_session_nr_ns(task, ns);
}

/* A reference on the active pid namespace of @task. */
struct pid_namespace *ckpt_task_pid_ns(struct task_struct *task)
{
	return get_pid_ns(task_active_pid_ns(task));
}

/*
 * The pid in @ns (NULL: the caller's) of the init of @pidns, 0 if none
 * yet, -1 if it is gone or unseen.
 */
static pid_t ckpt_ns_init(struct pid_namespace *pidns, struct pid_namespace *ns)
{
	struct task_struct *init;
	pid_t nr = 0;

	rcu_read_lock();
	init = READ_ONCE(pidns->child_reaper);
	if (init)
		nr = task_pid_nr_ns(init, ns) ?: -1;
	rcu_read_unlock();
	return nr;
}

/*
 * Where @task is among the pid namespaces nested in @ns. Fills in @p its
 * pids from the level below @ns down to its own, and returns how many;
 * -EXDEV if its namespace is not @ns or below it, -E2BIG if more than
 * @max. p->init gets the pid in @names (NULL: the caller's namespace) of
 * its namespace's init; p->children how many levels below its own the
 * namespace of its children is (after unshare(CLONE_NEWPID)), -1 if it has
 * no namespaces (it exited), and p->children_init the pid in @names of
 * that namespace's init (0: none yet).
 */
int ckpt_task_nested_pids(struct task_struct *task, struct pid_namespace *ns,
			  struct pid_namespace *names,
			  struct ckpt_nested_pids *p, unsigned int max)
{
	struct pid_namespace *mine, *kids = NULL;
	struct pid *pid = get_task_pid(task, PIDTYPE_PID);
	int depth, i;

	if (!pid)
		return -ESRCH;
	mine = ns_of_pid(pid);
	depth = pid->level - ns->level;
	if (depth < 0 || pid->numbers[ns->level].ns != ns) {
		put_pid(pid);
		return -EXDEV;
	}
	if (depth > max) {
		put_pid(pid);
		return -E2BIG;
	}
	for (i = 0; i < depth; i++)
		p->pids[i] = pid->numbers[ns->level + 1 + i].nr;
	put_pid(pid);
	p->init = ckpt_ns_init(mine, names);

	task_lock(task);
	if (task->nsproxy)
		kids = get_pid_ns(task->nsproxy->pid_ns_for_children);
	task_unlock(task);
	p->children = -1;
	p->children_init = 0;
	if (kids) {
		p->children = kids->level - mine->level;
		p->children_init = ckpt_ns_init(kids, names);
		put_pid_ns(kids);
	}
	return depth;
}

/*
 * The caller's pid for the task with pid @nr in the pid namespace @up
 * levels above the caller's; 0 if there is none or the caller cannot see
 * it.
 */
pid_t ckpt_pid_from_above(pid_t nr, unsigned int up)
{
	struct pid_namespace *ns = task_active_pid_ns(current);
	pid_t vnr;

	while (up-- && ns->parent)
		ns = ns->parent;
	rcu_read_lock();
	vnr = pid_vnr(find_pid_ns(nr, ns));
	rcu_read_unlock();
	return vnr;
}

/* A reference on the pid namespace @up levels above the caller's. */
struct pid_namespace *ckpt_pid_ns_above(unsigned int up)
{
	struct pid_namespace *ns = task_active_pid_ns(current);

	while (up-- && ns->parent)
		ns = ns->parent;
	return get_pid_ns(ns);
}

/* Makes the caller's later children in a new pid namespace below its own. */
int ckpt_unshare_pid_ns(void)
{
	return ksys_unshare(CLONE_NEWPID);
}

/* Whether @task is the init of its pid namespace. */
bool ckpt_task_is_ns_init(struct task_struct *task)
{
	return task_pid_nr_ns(task, task_active_pid_ns(task)) == 1;
}

/* Whether @task has exited, and waits to be reaped. */
bool ckpt_task_is_zombie(struct task_struct *task)
{
	return READ_ONCE(task->exit_state);
}

/*
 * What @task's parent learns of its exit: the signal it gets (-1 for a
 * thread: none) and, of a zombie, the status wait() reports, as
 * wait_task_zombie() reads it.
 */
void ckpt_task_exit(struct task_struct *task, int *exit_signal, u32 *status)
{
	*exit_signal = READ_ONCE(task->exit_signal);
	*status = (task->signal->flags & SIGNAL_GROUP_EXIT) ?
		  task->signal->group_exit_code : task->exit_code;
}

/*
 * Whether the parent of @child, frozen, waits in vfork() until @child execs
 * or exits: 1 if it is its real parent and leads its thread group, 0 if
 * none waits, -EOPNOTSUPP if another task does (CLONE_PARENT, or a thread
 * other than the leader). wait_for_vfork_done() and ckpt_vfork_wait() keep
 * the completion on the waiter's stack.
 */
int ckpt_task_vforked(struct task_struct *child)
{
	struct task_struct *parent;
	unsigned long done, stack;
	int ret = 0;

	/* A kernel thread's is its exit completion, for kthread_stop(). */
	if (child->flags & PF_KTHREAD)
		return 0;
	task_lock(child);
	done = (unsigned long)child->vfork_done;
	task_unlock(child);
	if (!done)
		return 0;
	rcu_read_lock();
	parent = rcu_dereference(child->real_parent);
	stack = (unsigned long)task_stack_page(parent);
	if (done - stack >= THREAD_SIZE || !thread_group_leader(parent))
		ret = -EOPNOTSUPP;
	else
		ret = 1;
	rcu_read_unlock();
	return ret;
}

/* A wait of the caller for its child's exec or exit, as vfork() waits. */
struct ckpt_vfork {
	struct completion done;
	struct task_struct *child;
};

/*
 * Makes the exec or exit of the caller's child @pid, which it just made and
 * has not run yet, complete a new wait, as kernel_clone() does for
 * CLONE_VFORK: mm_release() completes it.
 */
struct ckpt_vfork *ckpt_vfork_arm(pid_t pid)
{
	struct ckpt_vfork *v = kmalloc(sizeof(*v), GFP_KERNEL_ACCOUNT);
	int err = 0;

	if (!v)
		return ERR_PTR(-ENOMEM);
	v->child = find_get_task_by_vpid(pid);
	if (!v->child) {
		kfree(v);
		return ERR_PTR(-ESRCH);
	}
	init_completion(&v->done);
	task_lock(v->child);
	if (v->child->vfork_done || (v->child->flags & PF_EXITING))
		err = -ESRCH;
	else
		v->child->vfork_done = &v->done;
	task_unlock(v->child);
	if (err) {
		put_task_struct(v->child);
		kfree(v);
		return ERR_PTR(err);
	}
	return v;
}

/*
 * Waits for @v as wait_for_vfork_done() does: until the child execs or
 * exits, or the caller gets SIGKILL, frozen for the cgroup freezer
 * meanwhile. The completion moves to the caller's stack first, where a
 * checkpoint finds it (ckpt_task_vforked()).
 */
void ckpt_vfork_wait(struct ckpt_vfork *v)
{
	struct completion done;
	bool armed;

	init_completion(&done);
	/* complete_vfork_done() takes vfork_done under the same lock. */
	task_lock(v->child);
	armed = v->child->vfork_done == &v->done;
	if (armed)
		v->child->vfork_done = &done;
	task_unlock(v->child);
	if (!armed)
		return;
	cgroup_enter_frozen();
	wait_for_completion_state(&done, TASK_KILLABLE | TASK_FREEZABLE);
	cgroup_leave_frozen(false);
	/* Killed: the child's exit must not complete it any more. */
	task_lock(v->child);
	if (v->child->vfork_done == &done)
		v->child->vfork_done = NULL;
	task_unlock(v->child);
}

/* Ends @v: the child's exec or exit no longer completes it. */
void ckpt_vfork_release(struct ckpt_vfork *v)
{
	/* complete_vfork_done() completes under the same lock. */
	task_lock(v->child);
	if (v->child->vfork_done == &v->done)
		v->child->vfork_done = NULL;
	task_unlock(v->child);
	put_task_struct(v->child);
	kfree(v);
}

/*
 * Whether the caller has ptrace attach access to @task, without the lock
 * that ckpt_task_pin() takes: for a task that cannot exec meanwhile, a
 * zombie, or a frozen task the checkpoint already saved under its pin (a
 * second pin would nest two locks of one class).
 */
bool ckpt_task_may_attach(struct task_struct *task)
{
	return ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS);
}

/* Ends the caller as a zombie whose parent's wait() gets @status. */
void __noreturn ckpt_exit_zombie(u32 status)
{
	do_group_exit(status);
}

/*
 * Waits until the caller's child @pid has exited, so that its parent's
 * wait() finds it a zombie; -EINTR on a fatal signal.
 */
int ckpt_wait_child_exit(pid_t pid)
{
	struct task_struct *child;
	int ret = 0;

	rcu_read_lock();
	child = find_task_by_vpid(pid);
	if (child && child->real_parent->tgid == current->tgid)
		get_task_struct(child);
	else
		child = NULL;
	rcu_read_unlock();
	if (!child)
		return -ESRCH;
	/*
	 * exit_notify() sets exit_state, then wakes the parent here, as
	 * do_wait() sleeps: interruptible. Only a fatal signal ends the wait;
	 * others wait for the task to run (ckpt_defer_signal()).
	 */
	while (wait_event_interruptible(current->signal->wait_chldexit,
					READ_ONCE(child->exit_state))) {
		if (!ckpt_defer_signal()) {
			ret = -EINTR;
			break;
		}
	}
	put_task_struct(child);
	return ret;
}

/*
 * Forgets signal @sig pending for the caller: the one that the restart of
 * its zombie children sent, which the image's own pending signals replace.
 */
void ckpt_forget_signal(int sig)
{
	kernel_siginfo_t info;
	enum pid_type type;
	sigset_t others;

	/* dequeue_signal() takes the signals not in its mask. */
	sigfillset(&others);
	sigdelset(&others, sig);
	spin_lock_irq(&current->sighand->siglock);
	while (dequeue_signal(&others, &info, &type))
		;
	spin_unlock_irq(&current->sighand->siglock);
}

/* Makes the caller the leader of a new session, as setsid() does. */
int ckpt_setsid(void)
{
	int ret = ksys_setsid();

	return ret < 0 ? ret : 0;
}

/* Moves the caller into process group @pgid (0: its own), as setpgid() does. */
int ckpt_setpgid(pid_t pgid)
{
	return ksys_setpgid(0, pgid);
}

void ckpt_kill_task(struct task_struct *task)
{
	send_sig(SIGKILL, task, 1);
}

struct ckpt_child {
	struct callback_head work;
	void (*run)(void *arg);
	void *arg;
};

static void ckpt_child_work(struct callback_head *work)
{
	struct ckpt_child *c = container_of(work, struct ckpt_child, work);
	void (*run)(void *) = c->run;
	void *arg = c->arg;

	kfree(c);
	run(arg);
}

/*
 * The first code of a child of ckpt_spawn_child(), in the kernel: it holds
 * its signals (they would find the parent's state, which it will replace)
 * and has run() called as task work, on its way to user space, where
 * ret_from_fork() no longer touches its registers.
 */
static int ckpt_child_start(void *data)
{
	struct ckpt_child *c = data;

	ckpt_hold_signals();
	init_task_work(&c->work, ckpt_child_work);
	if (task_work_add(current, &c->work, TWA_RESUME))
		ckpt_child_work(&c->work);
	return 0;
}

/*
 * Creates a task with clone flags @flags (which the Rust core chose: a
 * child process, the init of a new pid namespace, or a thread of the
 * caller's group) and the pids @set_tid (its own namespace's first), in
 * which run(@arg) is called before it first returns to user space. Returns
 * its pid in the caller's namespace; on error, @arg is not used.
 */
pid_t ckpt_spawn_child(const pid_t *set_tid, size_t n, u64 flags,
		       int exit_signal, void (*run)(void *arg), void *arg)
{
	struct ckpt_child *c = kmalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	struct kernel_clone_args args = {
		.flags = flags,
		.exit_signal = exit_signal,
		.fn = ckpt_child_start,
		.set_tid = (pid_t *)set_tid,
		.set_tid_size = n,
	};
	pid_t pid;

	if (!c)
		return -ENOMEM;
	c->run = run;
	c->arg = arg;
	args.fn_arg = c;
	pid = kernel_clone(&args);
	if (pid < 0)
		kfree(c);
	return pid;
}
