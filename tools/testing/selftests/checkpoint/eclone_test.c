// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of eclone(2): children with chosen pids, at one level and at
 * several levels of nested pid namespaces, the usual clone flags, and the
 * refusal of pids in use, of callers without privilege over a level, and of
 * bad sizes, counts, flags and pids.
 *
 * Children report through their exit status: 0 when every check they make
 * holds, otherwise the number of the check that failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "checkpoint.h"

#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

static pid_t eclone_pids(unsigned int flags, const pid_t *pids, unsigned int n)
{
	struct eclone_args a = { .nr_pids = n };

	return sys_eclone(flags, &a, sizeof(a), pids);
}

/* Waits for @pid and returns its exit status, or -1 if it did not exit. */
static int exit_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * The first of three pids that no task has in the caller's namespace, away
 * from the ones being handed out. Nothing else forks in the test guest
 * while a test runs.
 */
static pid_t free_pids(void)
{
	pid_t pid;
	int i;

	for (pid = getpid() + 2000; pid < 32000; pid += 3) {
		for (i = 0; i < 3; i++)
			if (kill(pid + i, 0) == 0 || errno != ESRCH)
				break;
		if (i == 3)
			return pid;
	}
	return -1;
}

/* The "NSpid:" line of /proc/self/status, levels from the outermost. */
static int nspids(pid_t *out, int max)
{
	char line[256];
	int n = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + 6, *end;

		if (strncmp(line, "NSpid:", 6))
			continue;
		while (n < max) {
			long v = strtol(p, &end, 10);

			if (end == p)
				break;
			out[n++] = v;
			p = end;
		}
	}
	fclose(f);
	return n;
}

/* True if the caller's pids, outermost first, are @want (@n of them). */
static bool has_pids(const pid_t *want, int n)
{
	pid_t got[8];

	return nspids(got, 8) == n && !memcmp(got, want, n * sizeof(pid_t));
}

TEST(no_pids_is_fork)
{
	pid_t pid = eclone_pids(SIGCHLD, NULL, 0);

	ASSERT_GE(pid, 0);
	if (pid == 0)
		_exit(getppid() > 0 ? 7 : 1);
	ASSERT_EQ(exit_status(pid), 7);
}

TEST(chosen_pid)
{
	pid_t want = free_pids(), pid;

	ASSERT_GT(want, 0);
	pid = eclone_pids(SIGCHLD, &want, 1);
	if (pid == 0)
		_exit(getpid() == want ? 0 : 1);
	ASSERT_EQ(pid, want) TH_LOG("eclone: %s", strerror(errno));
	ASSERT_EQ(exit_status(pid), 0);
}

/*
 * The init of a new pid namespace (pid 1 inside, a chosen pid outside)
 * creates the init of a namespace nested in its own with pids chosen at
 * both its levels, which creates a child with pids chosen at all three.
 */
TEST(several_levels)
{
	pid_t top = free_pids(), pid;

	ASSERT_GT(top, 0);
	pid = eclone_pids(CLONE_NEWPID | SIGCHLD, &top, 1);
	if (pid == 0) {
		pid_t mid[] = { top + 1, 50 };
		pid_t want1[] = { top, 1 };

		if (getpid() != 1 || !has_pids(want1, 2))
			_exit(1);
		pid = eclone_pids(CLONE_NEWPID | SIGCHLD, mid, 2);
		if (pid < 0)
			_exit(2);
		if (pid == 0) {
			pid_t leaf[] = { top + 2, 60, 70 };
			pid_t want2[] = { top + 1, 50, 1 };

			if (getpid() != 1 || !has_pids(want2, 3))
				_exit(3);
			pid = eclone_pids(SIGCHLD, leaf, 3);
			if (pid < 0)
				_exit(4);
			if (pid == 0)
				_exit(getpid() == 70 && getppid() == 1 &&
				      has_pids(leaf, 3) ? 0 : 5);
			if (pid != 70)
				_exit(6);
			_exit(exit_status(pid));
		}
		if (pid != 50)
			_exit(7);
		_exit(exit_status(pid));
	}
	ASSERT_EQ(pid, top) TH_LOG("eclone: %s", strerror(errno));
	ASSERT_EQ(exit_status(pid), 0);
}

TEST(pid_in_use_eexist)
{
	pid_t mine = getpid();
	pid_t top = free_pids(), pid;

	EXPECT_EQ(eclone_pids(SIGCHLD, &mine, 1), -1);
	EXPECT_EQ(errno, EEXIST);

	/* In a new namespace, pid 1 is its init. */
	ASSERT_GT(top, 0);
	pid = eclone_pids(CLONE_NEWPID | SIGCHLD, &top, 1);
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pid_t both[] = { top + 1, 1 };

		if (eclone_pids(SIGCHLD, both, 2) != -1 || errno != EEXIST)
			_exit(1);
		_exit(0);
	}
	ASSERT_EQ(exit_status(pid), 0);
}

/* A caller that dropped to nobody without capabilities may not choose. */
TEST(unprivileged_eperm)
{
	pid_t want = free_pids(), pid;

	ASSERT_GT(want, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		pid_t child;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(1);
		if (eclone_pids(SIGCHLD, &want, 1) != -1 || errno != EPERM)
			_exit(2);
		/* Without chosen pids it is clone(). */
		child = eclone_pids(SIGCHLD, NULL, 0);
		if (child == 0)
			_exit(0);
		_exit(child > 0 && exit_status(child) == 0 ? 0 : 3);
	}
	ASSERT_EQ(exit_status(pid), 0);
}

/*
 * Capabilities in a user namespace of one's own do not reach the pid
 * namespace, which the initial user namespace owns.
 */
TEST(own_user_namespace_eperm)
{
	pid_t want = free_pids(), pid;

	ASSERT_GT(want, 0);
	pid = fork();
	ASSERT_GE(pid, 0);
	if (pid == 0) {
		if (unshare(CLONE_NEWUSER))
			_exit(1);
		if (eclone_pids(SIGCHLD, &want, 1) != -1 || errno != EPERM)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(exit_status(pid), 0);
}

/* Refusals that happen before any child exists. */
TEST(bad_arguments)
{
	struct {
		struct eclone_args a;
		__u64 tail;
	} big = { };
	struct eclone_args a = { .nr_pids = 1 };
	pid_t want = free_pids(), pids[2] = { want, want + 1 }, pid;
	pid_t bad[] = { 0, -5, 1 << 30 };
	int pidfd = -1, i;

	ASSERT_GT(want, 0);

	/* Sizes: too short; longer, from a newer ABI, with a non-zero tail. */
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, 0, &want), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, ECLONE_ARGS_SIZE_VER0 - 1, &want), -1);
	EXPECT_EQ(errno, EINVAL);
	big.a.nr_pids = 1;
	big.tail = 1;
	EXPECT_EQ(sys_eclone(SIGCHLD, &big.a, sizeof(big), &want), -1);
	EXPECT_EQ(errno, E2BIG);
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, 4097, &want), -1);
	EXPECT_EQ(errno, E2BIG);

	/* Reserved fields and flags. */
	a.reserved0 = 1;
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	a.reserved0 = 0;
	a.clone_flags_high = CLONE_INTO_CGROUP >> 32;
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	a.clone_flags_high = 1ULL << 40;
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	a.clone_flags_high = CLONE_CLEAR_SIGHAND >> 32;
	EXPECT_EQ(sys_eclone(CLONE_SIGHAND | CLONE_VM | SIGCHLD, &a, sizeof(a),
			     &want), -1);
	EXPECT_EQ(errno, EINVAL);
	a.clone_flags_high = 0;
	EXPECT_EQ(sys_eclone(CLONE_DETACHED | SIGCHLD, &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(sys_eclone(65, &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	/* As clone3(): a thread has no exit signal. */
	EXPECT_EQ(sys_eclone(CLONE_THREAD | CLONE_SIGHAND | CLONE_VM | SIGCHLD,
			     &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	/* A stack size without a stack. */
	a.child_stack_size = 4096;
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	a.child_stack_size = 0;
	/* The pidfd and the parent's tid would land in the same place. */
	a.parent_tid_ptr = (__u64)(unsigned long)&pidfd;
	EXPECT_EQ(sys_eclone(CLONE_PIDFD | CLONE_PARENT_SETTID | SIGCHLD, &a,
			     sizeof(a), &want), -1);
	EXPECT_EQ(errno, EINVAL);
	a.parent_tid_ptr = 0;

	/* Counts: beyond any nesting, and beyond the caller's levels. */
	a.nr_pids = 33;
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), pids), -1);
	EXPECT_EQ(errno, EINVAL);
	a.nr_pids = 2;
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), pids), -1);
	EXPECT_EQ(errno, EINVAL);

	/* Pids: out of range, and not readable. */
	a.nr_pids = 1;
	for (i = 0; i < 3; i++) {
		EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), &bad[i]), -1);
		EXPECT_EQ(errno, EINVAL) TH_LOG("pid %d", bad[i]);
	}
	EXPECT_EQ(sys_eclone(SIGCHLD, &a, sizeof(a), NULL), -1);
	EXPECT_EQ(errno, EFAULT);

	/* A longer struct with a zero tail is accepted. */
	big.tail = 0;
	pid = sys_eclone(SIGCHLD, &big.a, sizeof(big), &want);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, want) TH_LOG("eclone: %s", strerror(errno));
	EXPECT_EQ(exit_status(want), 0);
}

static void on_usr1(int sig)
{
}

/* CLONE_PIDFD, CLONE_CHILD_SETTID and CLONE_CLEAR_SIGHAND work as in clone3(). */
TEST(usual_clone_flags)
{
	struct eclone_args a = { .nr_pids = 1 };
	pid_t want = free_pids(), pid, child_tid = 0;
	int pidfd = -1;
	siginfo_t si;

	ASSERT_GT(want, 0);
	ASSERT_NE(signal(SIGUSR1, on_usr1), SIG_ERR);
	a.parent_tid_ptr = (__u64)(unsigned long)&pidfd;
	a.child_tid_ptr = (__u64)(unsigned long)&child_tid;
	a.clone_flags_high = CLONE_CLEAR_SIGHAND >> 32;
	pid = sys_eclone(CLONE_PIDFD | CLONE_CHILD_SETTID | SIGCHLD, &a,
			 sizeof(a), &want);
	if (pid == 0) {
		struct sigaction sa;

		if (child_tid != want)
			_exit(1);
		if (sigaction(SIGUSR1, NULL, &sa) || sa.sa_handler != SIG_DFL)
			_exit(2);
		_exit(0);
	}
	ASSERT_EQ(pid, want) TH_LOG("eclone: %s", strerror(errno));
	ASSERT_GE(pidfd, 0);
	ASSERT_EQ(syscall(SYS_waitid, P_PIDFD, pidfd, &si, WEXITED, NULL), 0);
	EXPECT_EQ(si.si_pid, want);
	EXPECT_EQ(si.si_code, CLD_EXITED);
	EXPECT_EQ(si.si_status, 0);
	EXPECT_EQ(child_tid, 0);	/* the parent's copy is untouched */
	close(pidfd);
}

TEST_HARNESS_MAIN
