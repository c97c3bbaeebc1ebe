// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: signal state, pending signals, timers, the
 * holding of signals during a restart, and the restart blocks of
 * interrupted system calls (sys/signal.rs).
 */

#include <linux/checkpoint.h>
#include <linux/fdtable.h>
#include <linux/fs_struct.h>
#include <linux/mutex.h>
#include <linux/futex.h>
#include <linux/hrtimer.h>
#include <linux/posix-timers.h>
#include <linux/restart_block.h>
#include <linux/resource.h>
#include <linux/rseq.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/security.h>
#include <linux/signal.h>
#include <linux/time.h>
#include <linux/time_namespace.h>

/*
 * Resets the caller's signal state to that of a new program (default
 * actions if @group, no alternate stack, nothing blocked) and forgets its
 * rseq area, robust futex list and clear_child_tid: handlers and addresses
 * of the restart tool must not survive into the restored task. The actions
 * belong to the thread group: only its leader (@group) resets them.
 */
void ckpt_reset_signals(bool group)
{
	sigset_t none;

	if (group)
		flush_signal_handlers(current, 1);
	current->sas_ss_sp = 0;
	current->sas_ss_size = 0;
	current->sas_ss_flags = SS_DISABLE;
	sigemptyset(&none);
	set_current_blocked(&none);

	/* User addresses the restart tool registered mean nothing now. */
	current->clear_child_tid = NULL;
	current->robust_list = NULL;
#ifdef CONFIG_RSEQ
	current->rseq = NULL;
	current->rseq_len = 0;
	current->rseq_sig = 0;
	current->rseq_event_mask = 0;
#endif
}

static int ckpt_get_real_timer(struct task_struct *task, struct ckpt_signals *s);

/*
 * Reads the signal state and settings of @task (stopped, or current), with
 * ITIMER_REAL; sys/timer.c reads the other timers.
 */
int ckpt_get_signals(struct task_struct *task, struct ckpt_signals *s)
{
	unsigned long flags;
	int i, ret = -ESRCH;

	memset(s, 0, sizeof(*s));
	s->blocked = task->blocked.sig[0];
	s->ss_sp = task->sas_ss_sp;
	s->ss_size = task->sas_ss_size;
	/* SS_ONSTACK as a mode means the same as 0. */
	s->ss_flags = task->sas_ss_size ? task->sas_ss_flags & ~SS_ONSTACK :
					  SS_DISABLE;
#ifdef CONFIG_RSEQ
	s->rseq = (unsigned long)task->rseq;
	s->rseq_len = task->rseq_len;
	s->rseq_sig = task->rseq_sig;
#endif
	task_lock(task);
	if (task->fs)
		s->umask = task->fs->umask;
	task_unlock(task);
	task_lock(task->group_leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		s->rlim[i][0] = task->signal->rlim[i].rlim_cur;
		s->rlim[i][1] = task->signal->rlim[i].rlim_max;
	}
	task_unlock(task->group_leader);
	if (lock_task_sighand(task, &flags)) {
		for (i = 0; i < _NSIG; i++) {
			struct sigaction *sa = &task->sighand->action[i].sa;

			s->action[i][0] = (unsigned long)sa->sa_handler;
			s->action[i][1] = sa->sa_flags;
#ifdef __ARCH_HAS_SA_RESTORER
			s->action[i][2] = (unsigned long)sa->sa_restorer;
#endif
			s->action[i][3] = sa->sa_mask.sig[0];
		}
		ret = ckpt_get_real_timer(task, s);
		unlock_task_sighand(task, &flags);
	}
	return ret;
}

/* Reads ITIMER_REAL. Under siglock. */
static int ckpt_get_real_timer(struct task_struct *task, struct ckpt_signals *s)
{
	struct hrtimer *timer = &task->signal->real_timer;

	if (hrtimer_active(timer)) {
		ktime_t rem = hrtimer_get_remaining(timer);

		/* About to fire: keep it armed, as getitimer() does. */
		s->itimer_real[0] = rem > 0 ? rem : NSEC_PER_USEC;
		s->itimer_real[1] = task->signal->it_real_incr;
	}
	return 0;
}

/* Collects the signals of @pending into @p (at most @max); returns the count. */
static int ckpt_collect_pending(struct sigpending *pending, u32 flags,
				struct ckpt_pending *p, int n, int max)
{
	struct sigqueue *q;
	sigset_t queued;
	int sig;

	BUILD_BUG_ON(sizeof(q->info) != sizeof(p->info));
	sigemptyset(&queued);
	list_for_each_entry(q, &pending->list, list) {
		sig = q->info.si_signo;
		if (sig_kernel_only(sig))
			continue;
		/* A POSIX timer's own signal: saved with the timer. */
		if (q->flags & SIGQUEUE_PREALLOC) {
			sigaddset(&queued, sig);
			continue;
		}
		if (n >= max)
			return -E2BIG;
		p[n].signo = sig;
		p[n].flags = flags;
		memcpy(p[n].info, &q->info, sizeof(p[n].info));
		sigaddset(&queued, sig);
		n++;
	}
	/* Pending without a queue entry: sent by the kernel, or coalesced. */
	for (sig = 1; sig <= _NSIG; sig++) {
		kernel_siginfo_t info;

		if (!sigismember(&pending->signal, sig) ||
		    sigismember(&queued, sig) || sig_kernel_only(sig))
			continue;
		if (n >= max)
			return -E2BIG;
		clear_siginfo(&info);
		info.si_signo = sig;
		info.si_code = SI_KERNEL;
		p[n].signo = sig;
		p[n].flags = flags;
		memcpy(p[n].info, &info, sizeof(p[n].info));
		n++;
	}
	return n;
}

/*
 * Copies the pending signals of @task (stopped, or current), its own then,
 * for a group leader, its thread group's, into @p; returns how many, or
 * -E2BIG beyond @max. SIGKILL and SIGSTOP are left out: a task they are
 * pending for is dying or stopping, not resuming.
 */
int ckpt_get_pending(struct task_struct *task, struct ckpt_pending *p,
		     unsigned int max)
{
	unsigned long flags;
	int n;

	if (!lock_task_sighand(task, &flags))
		return -ESRCH;
	n = ckpt_collect_pending(&task->pending, 0, p, 0, max);
	if (n >= 0 && thread_group_leader(task))
		n = ckpt_collect_pending(&task->signal->shared_pending,
					 CKPT_PENDING_SHARED, p, n, max);
	unlock_task_sighand(task, &flags);
	return n;
}

/*
 * Queues a pending signal of an image to the caller, as rt_sigqueueinfo()
 * or rt_tgsigqueueinfo() to itself would, with its siginfo: it stays
 * pending until the restored task unblocks or handles it.
 */
int ckpt_queue_pending(const struct ckpt_pending *p)
{
	kernel_siginfo_t info;

	/* The Rust wrapper (sys/signal.rs) checked the signal number. */
	memcpy(&info, p->info, sizeof(p->info));
	return do_send_sig_info(p->signo, &info, current,
				p->flags & CKPT_PENDING_SHARED ? PIDTYPE_TGID :
								 PIDTYPE_PID);
}

/* The caller's resource limits, soft and hard. */
void ckpt_get_rlimits(u64 (*rlim)[2])
{
	int i;

	task_lock(current->group_leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		rlim[i][0] = current->signal->rlim[i].rlim_cur;
		rlim[i][1] = current->signal->rlim[i].rlim_max;
	}
	task_unlock(current->group_leader);
}

/* The most descriptors a task may have open (fs.nr_open). */
unsigned int ckpt_nr_open(void)
{
	return READ_ONCE(sysctl_nr_open);
}

/*
 * Sets the caller's signal state and settings, which the Rust core checked
 * against the caller when it read them (signal.rs: check_signals()): its
 * own, and if @group those of its thread group (limits, actions, umask,
 * ITIMER_REAL), which the group's leader sets.
 */
int ckpt_set_signals(const struct ckpt_signals *s, bool group)
{
	struct rlimit *rlim = current->signal->rlim;
	sigset_t blocked;
	int i, ret;

	for (i = 0; group && i < RLIM_NLIMITS; i++) {
		struct rlimit new = { s->rlim[i][0], s->rlim[i][1] };

		ret = security_task_setrlimit(current, i, &new);
		if (ret)
			return ret;
		task_lock(current->group_leader);
		rlim[i] = new;
		task_unlock(current->group_leader);
		/* As do_prlimit(): arm the CPU time limit. */
		if (i == RLIMIT_CPU && new.rlim_cur != RLIM_INFINITY &&
		    IS_ENABLED(CONFIG_POSIX_TIMERS))
			update_rlimit_cpu(current, new.rlim_cur);
	}
	for (i = 1; group && i <= _NSIG; i++) {
		struct k_sigaction ka = {};

		if (i == SIGKILL || i == SIGSTOP)
			continue;
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)s->action[i - 1][0];
		ka.sa.sa_flags = s->action[i - 1][1];
#ifdef __ARCH_HAS_SA_RESTORER
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)s->action[i - 1][2];
#endif
		ka.sa.sa_mask.sig[0] = s->action[i - 1][3];
		ret = do_sigaction(i, &ka, NULL);
		if (ret)
			return ret;
	}
	if (s->ss_flags & SS_DISABLE) {
		current->sas_ss_sp = 0;
		current->sas_ss_size = 0;
		current->sas_ss_flags = SS_DISABLE;
	} else {
		current->sas_ss_sp = s->ss_sp;
		current->sas_ss_size = s->ss_size;
		current->sas_ss_flags = s->ss_flags;
	}
	blocked.sig[0] = s->blocked;
	set_current_blocked(&blocked);
	if (group)
		xchg(&current->fs->umask, s->umask & 0777);
#ifdef CONFIG_POSIX_TIMERS
	if (group) {
		struct itimerspec64 it = {
			.it_value = ns_to_timespec64(s->itimer_real[0]),
			.it_interval = ns_to_timespec64(s->itimer_real[1]),
		};

		ret = do_setitimer(ITIMER_REAL, &it, NULL);
		if (ret)
			return ret;
	}
#endif
#ifdef CONFIG_RSEQ
	current->rseq = (struct rseq __user *)(unsigned long)s->rseq;
	current->rseq_len = s->rseq_len;
	current->rseq_sig = s->rseq_sig;
	if (s->rseq)
		rseq_set_notify_resume(current);
#endif
	return 0;
}

/*
 * Past the point of no return, only SIGKILL may end a restart. Every other
 * signal is blocked until the restored mask is set, and stays pending for
 * the restored task's own handlers.
 */
void ckpt_hold_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigdelsetmask(&all, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_current_blocked(&all);
}

/*
 * A read of the image was interrupted past the point of no return: by a
 * stop, a freeze, or a fatal signal. Returns false for a fatal signal;
 * otherwise forgets the wake-up so that the read can go on, and the stop
 * or freeze happens when the restored task returns to user space
 * (ckpt_resume_signals()).
 */
bool ckpt_defer_signal(void)
{
	if (fatal_signal_pending(current))
		return false;
	clear_thread_flag(TIF_SIGPENDING);
	return true;
}

/* Makes the return to user space handle what ckpt_defer_signal() put off. */
void ckpt_resume_signals(void)
{
	set_thread_flag(TIF_SIGPENDING);
}

bool ckpt_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

/*
 * Makes the caller's return to user space go through the restart of
 * interrupted system calls (arch_do_signal_or_restart()).
 */
void ckpt_notify_restart(void)
{
	set_notify_signal(current);
}

/* Interrupted system calls: the restart block of a sleep. */

static ktime_t ckpt_clock_now(clockid_t clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
	case CLOCK_REALTIME_ALARM:
		return ktime_get_real();
	case CLOCK_BOOTTIME:
	case CLOCK_BOOTTIME_ALARM:
		return ktime_get_boottime();
	case CLOCK_TAI:
		return ktime_get_clocktai();
	default:
		return ktime_get();
	}
}

/* The time of @clock now, as the caller's time namespace sees it. */
s64 ckpt_clock_ns(clockid_t clock)
{
	struct timespec64 ts = ktime_to_timespec64(ckpt_clock_now(clock));

	if (clock == CLOCK_BOOTTIME || clock == CLOCK_BOOTTIME_ALARM)
		timens_add_boottime(&ts);
	else if (clock != CLOCK_REALTIME && clock != CLOCK_REALTIME_ALARM &&
		 clock != CLOCK_TAI)
		timens_add_monotonic(&ts);
	return timespec64_to_ns(&ts);
}

static u64 ckpt_time_left(ktime_t expires, clockid_t clock)
{
	ktime_t left = ktime_sub(expires, ckpt_clock_now(clock));

	return left > 0 ? left : 0;
}

/*
 * Reads the restart block of a stopped @task whose system call returned
 * -ERESTART_RESTARTBLOCK: a sleep or a futex wait with a timeout, with the
 * time left. -EOPNOTSUPP for another kind of restart block.
 */
int ckpt_get_restart_block(struct task_struct *task,
			   struct ckpt_restart_block *r)
{
	struct restart_block *rb = &task->restart_block;
	struct futex_wait_block w;

	memset(r, 0, sizeof(*r));
	if (rb->fn == hrtimer_nanosleep_restart) {
		r->kind = CKPT_RESTART_NANOSLEEP;
		r->clockid = rb->nanosleep.clockid;
		r->rmtp_type = rb->nanosleep.type;
		r->addr = rb->nanosleep.type == TT_NATIVE ?
			  (unsigned long)rb->nanosleep.rmtp : 0;
		r->remaining = ckpt_time_left(rb->nanosleep.expires,
					      rb->nanosleep.clockid);
		return 0;
	}
	if (futex_wait_restart_get(rb, &w))
		return -EOPNOTSUPP;
	r->kind = CKPT_RESTART_FUTEX;
	r->clockid = w.clockid;
	r->addr = (unsigned long)w.uaddr;
	r->val = w.val;
	r->bitset = w.bitset;
	r->shared = w.shared;
	r->remaining = ckpt_time_left(w.abs_time, w.clockid);
	return 0;
}

/* Sets the caller's restart block to resume @r for the time it had left. */
int ckpt_set_restart_block(const struct ckpt_restart_block *r)
{
	struct restart_block *rb = &current->restart_block;
	struct futex_wait_block w;

	if (r->remaining > KTIME_MAX / 2)
		return -EINVAL;
	switch (r->kind) {
	case CKPT_RESTART_NANOSLEEP:
		if (r->rmtp_type == TT_COMPAT)
			return -EINVAL;
		switch (r->clockid) {
		case CLOCK_REALTIME:
		case CLOCK_MONOTONIC:
		case CLOCK_BOOTTIME:
		case CLOCK_TAI:
			break;
		default:
			return -EINVAL;
		}
		rb->nanosleep.clockid = r->clockid;
		rb->nanosleep.expires = ktime_add_ns(ckpt_clock_now(r->clockid),
						     r->remaining);
		rb->nanosleep.type = r->rmtp_type;
		rb->nanosleep.rmtp = r->rmtp_type == TT_NATIVE ?
			(struct __kernel_timespec __user *)r->addr : NULL;
		set_restart_fn(rb, hrtimer_nanosleep_restart);
		return 0;
	case CKPT_RESTART_FUTEX:
		w.uaddr = (u32 __user *)r->addr;
		w.val = r->val;
		w.bitset = r->bitset;
		w.shared = r->shared;
		w.clockid = r->clockid;
		w.abs_time = ktime_add_ns(ckpt_clock_now(r->clockid),
					  r->remaining);
		return futex_wait_restart_set(rb, &w);
	}
	return -EINVAL;
}
