// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: the interval timers of a thread group besides
 * ITIMER_REAL (which sys/signal.c saves with the signals): ITIMER_VIRTUAL,
 * ITIMER_PROF and POSIX timers (sys/timer.rs).
 */

#include <linux/checkpoint.h>
#include <linux/pid_namespace.h>
#include <linux/posix-timers.h>
#include <linux/sched/cputime.h>
#include <linux/sched/signal.h>
#include <linux/time.h>

/*
 * Copies the ids of the POSIX timers of @task's thread group into @ids;
 * returns how many, or -E2BIG beyond @max.
 */
int ckpt_get_timer_ids(struct task_struct *task, s32 *ids, unsigned int max)
{
	struct k_itimer *timr;
	unsigned long flags;
	int n = 0;

	if (!lock_task_sighand(task, &flags))
		return -ESRCH;
	hlist_for_each_entry(timr, &task->signal->posix_timers, list) {
		if (n == max) {
			n = -E2BIG;
			break;
		}
		ids[n++] = timr->it_id;
	}
	unlock_task_sighand(task, &flags);
	return n;
}

/* Reads ITIMER_VIRTUAL or ITIMER_PROF as getitimer() does. */
static int ckpt_get_itimer(struct task_struct *task, unsigned int clock,
			   struct ckpt_timer *t)
{
	struct cpu_itimer *it = &task->signal->it[clock];
	u64 samples[CPUCLOCK_MAX];
	unsigned long flags;

	if (!lock_task_sighand(task, &flags))
		return -ESRCH;
	t->expiry = it->expires;
	t->interval = it->incr;
	if (t->expiry) {
		thread_group_sample_cputime(task, samples);
		/* About to fire: keep it armed. */
		t->expiry = t->expiry > samples[clock] ?
			    t->expiry - samples[clock] : TICK_NSEC;
	}
	unlock_task_sighand(task, &flags);
	return 0;
}

/*
 * Reads the timer of @task's thread group that @t names by kind (and id, for
 * a POSIX timer), with the thread a POSIX timer signals as seen from @ns.
 */
int ckpt_get_timer(struct task_struct *task, struct pid_namespace *ns,
		   struct ckpt_timer *t)
{
	struct posix_timer_state st;
	int ret;

	switch (t->kind) {
	case CKPT_TIMER_VIRTUAL:
		return ckpt_get_itimer(task, CPUCLOCK_VIRT, t);
	case CKPT_TIMER_PROF:
		return ckpt_get_itimer(task, CPUCLOCK_PROF, t);
	case CKPT_TIMER_POSIX:
		break;
	default:
		return -EINVAL;
	}
	ret = posix_timer_get_state(task, t->id, ns ?: task_active_pid_ns(current),
				    &st);
	if (ret)
		return ret;
	/* What timer_create(CLOCK_PROCESS_CPUTIME_ID) stores: its own process. */
	t->clock = st.clock == make_process_cpuclock(0, CPUCLOCK_SCHED) ?
		   CLOCK_PROCESS_CPUTIME_ID : st.clock;
	t->notify = st.notify;
	t->signo = st.signo;
	t->tid = st.tid;
	t->value = (unsigned long)st.value.sival_ptr;
	t->expiry = timespec64_to_ns(&st.setting.it_value);
	t->interval = timespec64_to_ns(&st.setting.it_interval);
	t->flags = 0;
	if (st.abstime && t->expiry)
		t->flags |= CKPT_TIMER_ABSTIME;
	if (st.pending)
		t->flags |= CKPT_TIMER_PENDING;
	t->overrun = st.overrun;
	t->pending_overrun = st.pending_overrun;
	return 0;
}

/*
 * Gives the caller the timer @t, which the Rust core checked (sys/timer.rs):
 * with @t->tid in the caller's pid namespace, and with CKPT_TIMER_ABSTIME
 * an expiry that is a time of CLOCK_REALTIME.
 */
int ckpt_set_timer(const struct ckpt_timer *t)
{
	struct posix_timer_state st = {};
	struct itimerspec64 it = {
		.it_value = ns_to_timespec64(t->expiry),
		.it_interval = ns_to_timespec64(t->interval),
	};

	switch (t->kind) {
	case CKPT_TIMER_VIRTUAL:
		return do_setitimer(ITIMER_VIRTUAL, &it, NULL);
	case CKPT_TIMER_PROF:
		return do_setitimer(ITIMER_PROF, &it, NULL);
	case CKPT_TIMER_POSIX:
		break;
	default:
		return -EINVAL;
	}
	st.id = t->id;
	st.clock = t->clock;
	st.notify = t->notify;
	st.signo = t->signo;
	st.tid = t->tid;
	st.value.sival_ptr = (void __user *)(unsigned long)t->value;
	st.setting = it;
	st.abstime = t->flags & CKPT_TIMER_ABSTIME;
	st.pending = t->flags & CKPT_TIMER_PENDING;
	st.overrun = t->overrun;
	st.pending_overrun = t->pending_overrun;
	return posix_timer_restore(&st);
}
