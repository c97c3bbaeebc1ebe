// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: process trees (sys/tree.rs).
 */

#include <linux/checkpoint.h>
#include <linux/pid_namespace.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/slab.h>
#include <linux/syscalls.h>
#include <linux/task_work.h>

/*
 * Takes a reference on @root and each of its descendants, parents before
 * their children (a depth-first walk of the children lists, as linux-cr's
 * tree walk), into @out. Returns how many, or -E2BIG (no reference kept) if
 * there are more than @max.
 */
int ckpt_collect_tree(struct task_struct *root, struct task_struct **out,
		      unsigned int max)
{
	struct task_struct *p = root;
	unsigned int n = 0;

	read_lock(&tasklist_lock);
	for (;;) {
		if (n == max) {
			read_unlock(&tasklist_lock);
			while (n)
				put_task_struct(out[--n]);
			return -E2BIG;
		}
		get_task_struct(p);
		out[n++] = p;
		if (!list_empty(&p->children)) {
			p = list_first_entry(&p->children, struct task_struct,
					     sibling);
			continue;
		}
		/* Up to the first ancestor with a next sibling, and over. */
		while (p != root &&
		       list_is_last(&p->sibling, &p->real_parent->children))
			p = p->real_parent;
		if (p == root)
			break;
		p = list_next_entry(p, sibling);
	}
	read_unlock(&tasklist_lock);
	return n;
}

/* The process group and session of @task, in the caller's pid namespace. */
void ckpt_task_groups(struct task_struct *task, pid_t *pgid, pid_t *sid)
{
	rcu_read_lock();
	*pgid = task_pgrp_vnr(task);
	*sid = task_session_vnr(task);
	rcu_read_unlock();
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
 * Creates a child of the caller, as fork() would (its own copy of the
 * memory, files and fs), with the pids @set_tid (its own namespace's
 * first), in which run(@arg) is called before it first returns to user
 * space. Returns its pid in the caller's namespace; on error, @arg is not
 * used.
 */
pid_t ckpt_spawn_child(const pid_t *set_tid, size_t n, void (*run)(void *arg),
		       void *arg)
{
	struct ckpt_child *c = kmalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	struct kernel_clone_args args = {
		.exit_signal = SIGCHLD,
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
