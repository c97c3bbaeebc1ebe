// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of checkpoint(2) and restart(2): argument and permission checks, the
 * freezer rules, the image of a child as decoded by ckptinfo, programs that
 * are checkpointed, killed and restarted and check their own state, and
 * refusal of corrupted images.
 *
 * ckptinfo (tools/checkpoint) must be on PATH.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "checkpoint.h"
#include "freezer.h"

/*
 * The harness's 30 s per test is short for a guest under TCG on a busy host
 * with KASAN and lockdep: a checkpoint and restart of a few MiB took more
 * there. A test that hangs still fails, later.
 */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 180

/* Corruption tests visit this many records of an image at most. */
#define MAX_RECORDS_CORRUPTED 48

/* Path of ckpt_sleeper, beside this program. */
static const char *sleeper_path(void)
{
	static char path[4096];
	char *slash;
	ssize_t n;

	if (path[0])
		return path;
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n <= 0)
		return "ckpt_sleeper";
	path[n] = '\0';
	slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, 32, "ckpt_sleeper");
	return path;
}

/*
 * Starts ckpt_sleeper (a fresh address space, unlike a forked child of the
 * harness) named @comm in @mode, in v2 cgroup @cg if not NULL (so that its
 * children are born there); its first output goes to @out (@len bytes).
 */
static pid_t spawn_target_in(const char *cg, const char *bin, const char *comm,
			     const char *mode, const char *arg, void *out, size_t len)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (cg && write_str(cg, "cgroup.procs", "0"))
			_exit(126);
		dup2(p[1], 1);
		close(p[0]);
		execl(bin, "ckpt_sleeper", comm, mode, arg, NULL);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], out, len) != (ssize_t)len) {
		close(p[0]);
		return -1;
	}
	close(p[0]);
	return pid;
}

static pid_t spawn_target_at(const char *bin, const char *comm, const char *mode,
			     const char *arg, void *out, size_t len)
{
	return spawn_target_in(NULL, bin, comm, mode, arg, out, len);
}

static pid_t spawn_target(const char *comm, const char *mode, void *out, size_t len)
{
	return spawn_target_at(sleeper_path(), comm, mode, NULL, out, len);
}

/* A task that sleeps until killed, with a known name. */
static pid_t spawn_sleeper(const char *comm)
{
	char ready[5];

	return spawn_target(comm, "", ready, sizeof(ready));
}

/*
 * In a forked child: makes /dev/null its stdin, stdout and stderr, or @out
 * its stdout if not -1, and closes everything else.
 */
static void only_null_stdio(int out)
{
	int null = open("/dev/null", O_RDWR);

	dup2(null, 0);
	dup2(out < 0 ? null : out, 1);
	dup2(null, 2);
	syscall(SYS_close_range, 3, ~0U, 0);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Forks a target with /dev/null stdio (or @out as its stdout) and nothing
 * else open, which runs @setup(@arg) and then pauses. Returns once the
 * target has done so, so that it is frozen in the state under test.
 */
static pid_t fork_target(int out, void (*setup)(void *), void *arg)
{
	int p[2];
	char c;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		dup2(out < 0 ? null : out, 1);
		dup2(null, 2);
		dup2(p[1], 3);
		syscall(SYS_close_range, 4, ~0U, 0);
		if (setup)
			setup(arg);
		if (write(3, "r", 1) != 1)
			_exit(1);
		close(3);
		for (;;)
			pause();
	}
	close(p[1]);
	/* Its "r", then end of file once it has closed the pipe too. */
	if (read(p[0], &c, 1) != 1 || read(p[0], &c, 1) != 0) {
		close(p[0]);
		reap(pid);
		return -1;
	}
	close(p[0]);
	return pid;
}

static int memfd(void)
{
	return memfd_create("ckpt-image", 0);
}

/* Checkpoints @pid into a new memfd, rewound; returns the image length. */
static ssize_t image_of(pid_t pid, int *fdp, long *id)
{
	int fd = memfd();
	off_t len;

	if (fd < 0)
		return -1;
	*id = sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, -1);
	if (*id <= 0)
		return -1;
	len = lseek(fd, 0, SEEK_CUR);
	lseek(fd, 0, SEEK_SET);
	*fdp = fd;
	return len;
}

/* Reads the whole of @fd from its start into a new buffer. */
static char *slurp(int fd, size_t *len)
{
	off_t end = lseek(fd, 0, SEEK_END);
	char *buf;

	if (end <= 0)
		return NULL;
	buf = malloc(end + 64);
	if (!buf || pread(fd, buf, end, 0) != end)
		return NULL;
	*len = end;
	return buf;
}

/* Offsets of the records of an image, at most @max; returns how many. */
static size_t record_offsets(const char *buf, size_t len, size_t *offs, size_t max)
{
	size_t off = 0, n = 0;

	while (off + 8 <= len && n < max) {
		uint32_t rlen;

		memcpy(&rlen, buf + off + 4, 4);
		if (rlen < 8)
			break;
		offs[n++] = off;
		off += ((size_t)rlen + 7) & ~(size_t)7;
	}
	return n;
}

/* Reads the file at @path into a new buffer, its length in *@len. */
static char *slurp_path(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	char *buf = fd < 0 ? NULL : slurp(fd, len);

	if (fd >= 0)
		close(fd);
	return buf;
}

/* The offset of the first record of type @type in the image @img, or 0. */
static size_t first_record(const char *img, size_t len, uint32_t type)
{
	static size_t offs[1 << 14];
	size_t i, n = record_offsets(img, len, offs, 1 << 14);

	for (i = 0; i < n; i++)
		if (!memcmp(img + offs[i], &type, 4))
			return offs[i];
	return 0;
}

static size_t read_file(const char *path, char *buf, size_t size);
static int copy_file(const char *from, const char *to, mode_t mode);

/*
 * Calls restart(2) on @fd in a new child, which becomes the task of the
 * image. Returns the errno of a refused image; 0 once the child runs as the
 * restored task (its pid in *@pidp, or killed if @pidp is NULL); or minus
 * the signal that killed it (a failure after its memory was released).
 */
static int restart_fd(int fd, pid_t *pidp)
{
	char path[64], comm[32];
	int p[2], err, status;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return -1000;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		/* Restart sets the image's name before it replaces the pipe. */
		prctl(PR_SET_NAME, "ckpt-restarting");
		sys_restart(0, fd, 0, -1);
		err = errno;
		_exit(write(p[1], &err, sizeof(err)) == sizeof(err) ? 100 : 101);
	}
	close(p[1]);
	/* The pipe ends when the child reports, or its descriptors are replaced. */
	n = read(p[0], &err, sizeof(err));
	close(p[0]);
	if (n == sizeof(err)) {
		waitpid(pid, NULL, 0);
		return err;
	}
	/*
	 * Without its new name, the child failed after its memory was
	 * released and was killed: wait for it, however slow the machine.
	 */
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	read_file(path, comm, sizeof(comm));
	if (!strcmp(comm, "ckpt-restarting\n") || !comm[0]) {
		waitpid(pid, &status, 0);
		return WIFSIGNALED(status) ? -WTERMSIG(status) : -2000 - WEXITSTATUS(status);
	}
	if (pidp)
		*pidp = pid;
	else
		reap(pid);
	return 0;
}

/* restart_fd() of @len bytes of @buf (the restored task is killed). */
static int restart_buf(const void *buf, size_t len)
{
	int fd = memfd();
	int err;

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	lseek(fd, 0, SEEK_SET);
	err = restart_fd(fd, NULL);
	close(fd);
	return err;
}

/*
 * A refusal: a clean errno (EINVAL, or the error of reopening a file whose
 * path was changed), or the kill of a restart that failed late.
 */
static int refused(int err)
{
	return (err > 0 && err < 4096) || err == -SIGKILL;
}

/*
 * Starts ckpt_sleeper named @comm in @mode with argument @arg, its stdout
 * appended to the new file @log.
 */
static pid_t spawn_logged(const char *comm, const char *mode, const char *arg,
			  const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, 1) < 0)
			_exit(126);
		execl(sleeper_path(), "ckpt_sleeper", comm, mode, arg, NULL);
		_exit(127);
	}
	return pid;
}

/* Reads file @path into @buf (NUL-terminated); returns its length. */
static size_t read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	n = n < 0 ? 0 : n;
	buf[n] = '\0';
	return n;
}

/* Waits up to @secs seconds for @count occurrences of @needle after byte @from of @path. */
static int wait_log(const char *path, size_t from, const char *needle, int count, int secs)
{
	static char buf[1 << 20];
	int i;

	for (i = 0; i < secs * 20; i++) {
		size_t len = read_file(path, buf, sizeof(buf));
		const char *p = len > from ? buf + from : "";
		int found = 0;

		while ((p = strstr(p, needle))) {
			p += strlen(needle);
			if (++found >= count)
				return 0;
		}
		usleep(50 * 1000);
	}
	return -1;
}

/*
 * Freezes @pid in a new v2 cgroup, checkpoints it (a subtree, with @flags
 * too) into @path and kills it.
 */
static long checkpoint_flags_and_kill(pid_t pid, const char *path, unsigned long flags)
{
	char cg[128];
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long id;

	if (fd < 0 || freeze_v2(pid, cg, sizeof(cg)))
		return -1;
	id = sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE | flags, -1);
	close(fd);
	reap(pid);
	thaw_v2(cg);
	remove_v2(cg);
	return id;
}

/* Freezes @pid in a new v2 cgroup, checkpoints it into @path and kills it. */
static long checkpoint_and_kill(pid_t pid, const char *path)
{
	return checkpoint_flags_and_kill(pid, path, 0);
}

/* Restarts the image at @path in a new child; returns its pid, or -1. */
static pid_t restart_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	pid_t pid = -1;
	int err;

	if (fd < 0)
		return -1;
	err = restart_fd(fd, &pid);
	close(fd);
	return err ? -1 : pid;
}

/* Restarts the tree of the image at @path under the caller; its root's pid, or -1. */
static pid_t restart_tree_path(const char *path)
{
	int fd = open(path, O_RDONLY);
	pid_t pid;

	if (fd < 0)
		return -1;
	pid = sys_restart(0, fd, RESTART_TREE, -1);
	close(fd);
	return pid;
}

/* Runs ckptinfo with @args on @path; returns its exit status, output in @out. */
/* Runs @cmd with sh, its output (and error) in @out; returns its status. */
static int run_capture(const char *cmd, char *out, size_t len)
{
	FILE *p = popen(cmd, "r");
	char drain[4096];
	size_t n;

	if (!p)
		return -1;
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	/* Drain the rest, so that the command never dies of SIGPIPE. */
	while (fread(drain, 1, sizeof(drain), p) > 0)
		;
	return pclose(p);
}

static int run_ckptinfo(const char *path, const char *arg, char *out, size_t outlen)
{
	char cmd[512];
	int status;

	snprintf(cmd, sizeof(cmd), "ckptinfo %s %s 2>&1", arg, path);
	status = run_capture(cmd, out, outlen);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Starts ckpt_sleeper in @mode (its first output in @out), freezes it in the
 * v2 cgroup @cg, checkpoints it into @fd and thaws it. Returns its pid, or -1
 * with errno set.
 */
static pid_t checkpoint_target(const char *comm, const char *mode, void *out,
			       size_t len, int fd, char *cg, size_t cglen)
{
	pid_t child = spawn_target(comm, mode, out, len);
	int err;

	if (child < 0)
		return -1;
	if (freeze_v2(child, cg, cglen) || sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1) <= 0) {
		err = errno;
		reap(child);
		errno = err;
		return -1;
	}
	if (thaw_v2(cg)) {
		err = errno;
		reap(child);
		errno = err;
		return -1;
	}
	return child;
}

/* Undoes checkpoint_target() and the image file it wrote. */
static void finish_target(pid_t child, const char *cg, int fd, const char *path)
{
	close(fd);
	unlink(path);
	reap(child);
	remove_v2(cg);
}

TEST(syscalls_exist)
{
	/* A bad descriptor, not ENOSYS: the calls are wired up. */
	EXPECT_EQ(-1, sys_checkpoint(getpid(), -1, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, sys_restart(0, -1, 0, -1));
	EXPECT_EQ(EBADF, errno);
}

TEST(bad_flags_einval)
{
	int fd = memfd();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), fd, CHECKPOINT_SUBTREE | 4, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), fd, 1UL << 63, -1));
	EXPECT_EQ(EINVAL, errno);
	/* A task that is not a pid namespace's init is a subtree. */
	EXPECT_EQ(-1, sys_checkpoint(getpid(), fd, 0, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sys_restart(0, fd, 4, -1));
	EXPECT_EQ(EINVAL, errno);
	/* pid is 0: into the caller, or under it with RESTART_TREE. */
	EXPECT_EQ(-1, sys_restart(getpid(), fd, 0, -1));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was written by the refused calls. */
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	close(fd);
}

TEST(no_such_task_esrch)
{
	int fd = memfd();
	pid_t pid = fork();

	ASSERT_LE(0, fd);
	if (pid == 0)
		_exit(0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	EXPECT_EQ(-1, sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(-1, sys_checkpoint(-5, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(ESRCH, errno);
	close(fd);
}

TEST(bad_descriptors_ebadf)
{
	int ro = open("/dev/null", O_RDONLY);
	int wo = open("/dev/null", O_WRONLY);

	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	/* Image fd not open for writing, log fd not open for writing. */
	EXPECT_EQ(-1, sys_checkpoint(getpid(), ro, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), wo, CHECKPOINT_SUBTREE, ro));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), wo, CHECKPOINT_SUBTREE, 12345));
	EXPECT_EQ(EBADF, errno);
	/* Restart needs a readable image. */
	EXPECT_EQ(-1, sys_restart(0, wo, 0, -1));
	EXPECT_EQ(EBADF, errno);
	close(ro);
	close(wo);
}

TEST(other_users_task_eperm)
{
	pid_t victim, pid;
	int status;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	victim = spawn_sleeper("ckpt-victim");
	ASSERT_LT(0, victim);
	pid = fork();
	if (pid == 0) {
		int fd = memfd();
		long r;

		if (fd < 0 || setgid(65534) || setuid(65534))
			_exit(2);
		r = sys_checkpoint(victim, fd, CHECKPOINT_SUBTREE, -1);
		/* Refused before anything is written. */
		_exit(r == -1 && errno == EPERM && lseek(fd, 0, SEEK_END) == 0 ? 0 : 1);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	/* The target was not harmed. */
	EXPECT_EQ(0, kill(victim, 0));
	reap(victim);
}

TEST(child_image_decodes)
{
	char path[] = "/tmp/ckpt-child-XXXXXX";
	char out[8192], needle[64], cg[128];
	pid_t child = spawn_sleeper("ckpt-child");
	int fd = mkstemp(path);
	int logfd = memfd();
	char log[4096];
	ssize_t n;
	long id;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, logfd);
	if (!cgroup2_available())
		SKIP(reap(child); return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg))) TH_LOG("freeze: %s", strerror(errno));
	id = sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, logfd);
	ASSERT_LT(0, id) TH_LOG("checkpoint: %s", strerror(errno));
	EXPECT_LT(0, lseek(fd, 0, SEEK_CUR));
	/* The target keeps running. */
	EXPECT_EQ(0, kill(child, 0));

	/* The log names the checkpoint. */
	lseek(logfd, 0, SEEK_SET);
	n = read(logfd, log, sizeof(log) - 1);
	ASSERT_LT(0, n);
	log[n] = '\0';
	snprintf(needle, sizeof(needle), "id %ld: done", id);
	EXPECT_NE(NULL, strstr(log, needle)) TH_LOG("log: %s", log);

	/* ckptinfo accepts the image and finds the child in it. */
	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out))) TH_LOG("%s", out);
	snprintf(needle, sizeof(needle), "\"pid\": %d,", child);
	EXPECT_NE(NULL, strstr(out, needle)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "\"comm\": \"ckpt-child\"")) TH_LOG("%s", out);
	snprintf(needle, sizeof(needle), "\"ckpt_id\": %ld,", id);
	EXPECT_NE(NULL, strstr(out, needle)) TH_LOG("%s", out);

	/* A valid image: a new child becomes the task. */
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(0, restart_fd(fd, NULL));

	/* The target thaws and runs on. */
	EXPECT_EQ(0, thaw_v2(cg));
	EXPECT_EQ(0, kill(child, 0));
	finish_target(child, cg, fd, path);
}

/*
 * A task that reserved 1 TiB and touched three pages of it: checkpoint
 * walks the page tables, not every page of the area (which under TCG
 * would not end), and the restarted task has the three pages back and
 * zeros elsewhere.
 */
TEST(sparse_reservation_survives_restart)
{
	char path[] = "/tmp/ckpt-sparse-XXXXXX", cg[128], proc[64], page[4096];
	unsigned long addr, len = 1UL << 40;
	int fd = mkstemp(path), mem;
	pid_t child, r = -1;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = checkpoint_target("ckpt-sparse", "sparse", &addr, sizeof(addr), fd,
				  cg, sizeof(cg));
	ASSERT_LT(0, child) TH_LOG("%s", strerror(errno));
	lseek(fd, 0, SEEK_SET);
	ASSERT_EQ(0, restart_fd(fd, &r));
	snprintf(proc, sizeof(proc), "/proc/%d/mem", r);
	mem = open(proc, O_RDONLY);
	ASSERT_LE(0, mem);
	ASSERT_EQ(1, pread(mem, page, 1, addr));
	EXPECT_EQ(0x11, page[0]);
	ASSERT_EQ(sizeof(page), pread(mem, page, sizeof(page), addr + len / 2));
	EXPECT_EQ(0x22, page[0]);
	EXPECT_EQ(0x22, page[sizeof(page) - 1]);
	ASSERT_EQ(1, pread(mem, page, 1, addr + len - 1));
	EXPECT_EQ(0x33, page[0]);
	/* Untouched pages read as zeros. */
	ASSERT_EQ(1, pread(mem, page, 1, addr + len / 4));
	EXPECT_EQ(0, page[0]);
	close(mem);
	reap(r);
	finish_target(child, cg, fd, path);
}

/* The first "@tool: progress: N bytes, M pages" line of @log, in @bytes and @pages. */
static int log_progress(const char *log, const char *tool, unsigned long *bytes,
			unsigned long *pages)
{
	static char buf[1 << 16];
	char want[64], *p;

	read_file(log, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s: progress: ", tool);
	p = strstr(buf, want);
	return p && sscanf(p + strlen(want), "%lu bytes, %lu pages", bytes, pages) == 2 ? 0 : -1;
}

/*
 * A task of 40 MiB: the kernel logs a progress line for each 32 MiB of
 * image, at checkpoint and restart; on a terminal the tools show them,
 * elsewhere they do not.
 */
TEST(progress_on_a_terminal)
{
	char img[] = "/tmp/ckpt-prog-XXXXXX", log[] = "/tmp/ckpt-prog-log-XXXXXX";
	char cmd[512], ready[5];
	static char out[1 << 16];
	unsigned long bytes = 0, pages = 0;
	pid_t child, root = 0;
	char *nl;

	ASSERT_LE(0, mkstemp(img));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	if (system("command -v script > /dev/null"))
		SKIP(return, "no script(1) to give the tools a terminal");
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	child = spawn_target_at(sleeper_path(), "ckpt-prog", "fill", "40", ready, sizeof(ready));
	ASSERT_LT(0, child);
	snprintf(cmd, sizeof(cmd),
		 "script -qec 'checkpoint %d -o %s -l %s --freeze --kill' /dev/null 2>&1",
		 child, img, log);
	EXPECT_EQ(0, run_capture(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "checkpoint: 32 MiB, ")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, " MiB/s")) TH_LOG("%s", out);
	EXPECT_EQ(child, waitpid(child, NULL, 0));
	ASSERT_EQ(0, log_progress(log, "checkpoint", &bytes, &pages));
	EXPECT_LE(32UL << 20, bytes);
	EXPECT_LT(bytes, 33UL << 20);
	/* Nearly all of it is the task's pages. */
	EXPECT_LE(8000, pages);
	EXPECT_GE(bytes >> 12, pages);

	/* Not on a terminal: nothing shown, the log as before. */
	EXPECT_EQ(0, truncate(log, 0));
	snprintf(cmd, sizeof(cmd), "restart -i %s -l %s -f 2>&1", img, log);
	EXPECT_EQ(0, run_capture(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "MiB/s")) TH_LOG("%s", out);
	root = atoi(out);
	EXPECT_EQ(child, root) TH_LOG("%s", out);
	EXPECT_EQ(0, log_progress(log, "restart", &bytes, &pages));
	EXPECT_LE(8000, pages);
	if (root > 0) {
		kill(root, SIGKILL);
		waitpid(root, NULL, 0);
	}

	snprintf(cmd, sizeof(cmd), "script -qec 'restart -i %s -f' /dev/null 2>&1", img);
	EXPECT_EQ(0, run_capture(cmd, out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "restart: 32 MiB, ")) TH_LOG("%s", out);
	/* The root's pid, on the line after the progress. */
	nl = strrchr(out, '\n');
	while (nl && nl > out && (nl[-1] == '\r' || nl[-1] == '\n'))
		nl--;
	while (nl && nl > out && nl[-1] != '\n')
		nl--;
	root = nl ? atoi(nl) : 0;
	EXPECT_EQ(child, root) TH_LOG("%s", out);
	if (root > 0) {
		kill(root, SIGKILL);
		waitpid(root, NULL, 0);
	}
	unlink(img);
	unlink(log);
}

TEST(unfrozen_task_ebusy)
{
	char path[] = "/tmp/ckpt-unfrozen-XXXXXX";
	char out[8192];
	pid_t child = spawn_sleeper("ckpt-running");
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EBUSY, errno);
	/* The image says why, and the target runs on unharmed. */
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "EBUSY objref 0: pid")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "task is not frozen")) TH_LOG("%s", out);
	EXPECT_EQ(0, kill(child, 0));
	close(fd);
	unlink(path);
	reap(child);
}

/*
 * A target set up by @setup(@arg) is refused with @err and an error record
 * saying @why, and runs on unharmed.
 */
static void check_refused_errno(struct __test_metadata *_metadata,
				void (*setup)(void *), void *arg, int err, const char *why)
{
	char path[] = "/tmp/ckpt-refused-XXXXXX";
	/* The error record comes last, after what was saved. */
	static char out[1 << 20];
	char cg[128];
	int fd = mkstemp(path);
	pid_t child;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = fork_target(-1, setup, arg);
	ASSERT_LT(0, child);
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg)));
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(err, errno);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, why))
		TH_LOG("%s", out + (strlen(out) > 4000 ? strlen(out) - 4000 : 0));
	EXPECT_EQ(0, thaw_v2(cg));
	EXPECT_EQ(0, waitpid(child, NULL, WNOHANG));
	finish_target(child, cg, fd, path);
}

/* check_refused_errno() with EOPNOTSUPP: something not supported (yet). */
static void check_refused(struct __test_metadata *_metadata,
			  void (*setup)(void *), void *arg, const char *why)
{
	check_refused_errno(_metadata, setup, arg, EOPNOTSUPP, why);
}

/* Holds an unlinked file of @arg MiB in /tmp. */
static void hold_unlinked(void *arg)
{
	char path[] = "/tmp/ckpt-unl-big-XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0 || ftruncate(fd, (long)arg << 20) || unlink(path))
		_exit(1);
}

static void *pause_thread(void *arg)
{
	for (;;)
		pause();
	return arg;
}

/* A thread, then a child that is the init of a new pid namespace. */
static void start_pidns_init(void *arg)
{
	pthread_t t;
	pid_t pid;

	if (pthread_create(&t, NULL, pause_thread, NULL) || unshare(CLONE_NEWPID))
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid == 0) {
		/* Not the target's pipe to the harness; gone with the target. */
		close(3);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;)
			pause();
	}
}

static int own_fs_ready[2];

static void *own_fs_thread(void *arg)
{
	if (unshare(CLONE_FS) || write(own_fs_ready[1], "u", 1) != 1)
		_exit(1);
	for (;;)
		pause();
	return arg;
}

/* A thread of the target with an fs of its own. */
static void start_own_fs_thread(void *arg)
{
	pthread_t t;
	char c;

	if (pipe(own_fs_ready) || pthread_create(&t, NULL, own_fs_thread, NULL) ||
	    read(own_fs_ready[0], &c, 1) != 1)
		_exit(1);
	close(own_fs_ready[0]);
	close(own_fs_ready[1]);
}

TEST(thread_with_own_fs_refused)
{
	check_refused(_metadata, start_own_fs_thread, NULL,
		      "a thread with a descriptor table or fs of its own (unshare())");
}

/* Restart would have to make its threads after it unshares: refused. */
TEST(threads_of_unshared_pid_namespace_refused)
{
	check_refused(_metadata, start_pidns_init, NULL,
		      "a process with threads that unshared its pid namespace");
}


/* A task checkpointing itself while it has another thread: refused. */
TEST(self_checkpoint_with_threads_refused)
{
	char path[] = "/tmp/ckpt-selfthr-XXXXXX", out[65536];
	int fd = mkstemp(path), status;
	pid_t child;

	ASSERT_LE(0, fd);
	child = fork();
	if (child == 0) {
		pthread_t t;

		if (pthread_create(&t, NULL, pause_thread, NULL))
			_exit(1);
		if (sys_checkpoint(0, fd, CHECKPOINT_SUBTREE, -1) != -1)
			_exit(2);
		_exit(errno == EOPNOTSUPP ? 0 : 3);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("status %#x", status);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "2 threads; a task checkpointing itself must have one"))
		TH_LOG("%s", out);
	close(fd);
	unlink(path);
}

TEST(unlinked_file_too_big_refused)
{
	check_refused_errno(_metadata, hold_unlinked, (void *)9L, EFBIG,
			    "9437184 bytes, more than the 8388608 saved");
}

/* Holds a memfd of @arg MiB. */
static void hold_memfd(void *arg)
{
	int fd = memfd_create("ckpt-big", 0);

	if (fd < 0 || ftruncate(fd, (long)arg << 20))
		_exit(1);
}

TEST(memfd_too_big_refused)
{
	check_refused_errno(_metadata, hold_memfd, (void *)9L, EFBIG,
			    "9437184 bytes, more than the 8388608 saved");
}

/* An epoll watching a socket, whose descriptor comes after the epoll's. */
static void watch_socket(void *arg)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep = epoll_create1(0), sv[2];

	(void)arg;
	if (ep < 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) ||
	    epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev))
		_exit(1);
}

TEST(epoll_watching_socket_refused)
{
	/* The watch names its descriptor and what the file is. */
	check_refused(_metadata, watch_socket, NULL, "socket not supported");
	check_refused(_metadata, watch_socket, NULL, ": watch on fd ");
}

static char vm_stack[65536] __attribute__((aligned(16)));

/*
 * Moves the target into the cgroup that freeze_v2() freezes, so that the
 * children it makes are frozen with it.
 */
static void join_freeze_cgroup(void)
{
	char cg[128];

	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-test-%d", getpid());
	if ((mkdir(cg, 0755) && errno != EEXIST) || write_str(cg, "cgroup.procs", "0"))
		_exit(1);
}

/* A child of a target setup, on vm_stack: off the target's pipe, waits. */
static int vm_pause(void *arg)
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(3);
	for (;;)
		pause();
	return 0;
}

/* Child A, and B that A made with CLONE_VM | CLONE_PARENT: A's sibling. */
static void start_vm_sibling(void *arg)
{
	pid_t a;

	join_freeze_cgroup();
	a = fork();
	if (a < 0)
		_exit(1);
	if (a == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (clone(vm_pause, vm_stack + sizeof(vm_stack),
			  CLONE_VM | CLONE_PARENT | SIGCHLD, NULL) < 0)
			_exit(1);
		vm_pause(arg);
	}
}

/* Restart gives a process the memory of its parent only: refused. */
TEST(memory_shared_with_sibling_refused)
{
	check_refused(_metadata, start_vm_sibling, NULL,
		      "its memory is shared with a process other than its parent");
}

/* A child sharing the target's memory and signal actions. */
static void start_sighand_child(void *arg)
{
	join_freeze_cgroup();
	if (clone(vm_pause, vm_stack + sizeof(vm_stack), CLONE_VM | CLONE_SIGHAND | SIGCHLD,
		  NULL) < 0)
		_exit(1);
}

TEST(signal_actions_shared_refused)
{
	check_refused(_metadata, start_sighand_child, NULL,
		      "its signal actions (CLONE_SIGHAND) are shared with another process");
}

TEST(memory_shared_outside_refused)
{
	/*
	 * A forked child shares the harness's MAP_SHARED|MAP_ANONYMOUS page,
	 * which would not come back shared with the harness.
	 */
	check_refused(_metadata, NULL, NULL, "memory areas are outside the image");
}

TEST(frozen_by_v1_freezer)
{
	char path[] = "/tmp/ckpt-v1-XXXXXX";
	char out[8192], needle[64], cg[128];
	pid_t child = spawn_sleeper("ckpt-v1");
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	if (freeze_v1(child, cg, sizeof(cg))) {
		reap(child);
		SKIP(return, "cannot use the v1 freezer: %s", strerror(errno));
	}
	EXPECT_LT(0, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out))) TH_LOG("%s", out);
	snprintf(needle, sizeof(needle), "\"pid\": %d,", child);
	EXPECT_NE(NULL, strstr(out, needle)) TH_LOG("%s", out);
	EXPECT_EQ(0, thaw_v1(cg));
	/* Thawed again, it may not be checkpointed any more. */
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EBUSY, errno);
	close(fd);
	unlink(path);
	reap(child);
	remove_v1(cg);
}

/* Runs ckptinfo --page: returns its exit status, the page in @buf. */
static int saved_page(const char *path, unsigned long addr, char *buf, size_t *len)
{
	char cmd[512];
	FILE *p;
	int status;

	snprintf(cmd, sizeof(cmd), "ckptinfo --page 0x%lx %s 2>/dev/null", addr, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	*len = fread(buf, 1, *len, p);
	status = pclose(p);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/*
 * Returns the JSON object of the vma record that contains [@lo, @hi), or
 * NULL (the kernel may have merged the area with a neighbour).
 */
static char *vma_json(char *json, unsigned long lo, unsigned long hi)
{
	char *p = json;

	while ((p = strstr(p, "\"type\": \"vma\""))) {
		char *obj = p, *close = strchr(p, '}');
		unsigned long start, end;
		char *f = strstr(p, "\"start\": ");

		p += 1;
		if (!f || !close || f > close ||
		    sscanf(f, "\"start\": %lu, \"end\": %lu,", &start, &end) != 2)
			continue;
		if (start <= lo && hi <= end) {
			*close = '\0';
			return obj;
		}
	}
	return NULL;
}

TEST(memory_is_captured)
{
	char path[] = "/tmp/ckpt-memory-XXXXXX";
	static char out[1 << 20];
	char page[8192], cg[128], *vma;
	long ps = sysconf(_SC_PAGESIZE);
	unsigned long addr[2];
	int fd = mkstemp(path), i;
	size_t len;
	pid_t child;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = checkpoint_target("ckpt-memory", "memory", addr, sizeof(addr), fd,
				  cg, sizeof(cg));
	ASSERT_LT(0, child) TH_LOG("%s", strerror(errno));

	/* The areas are in the image, with their protections. */
	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out))) TH_LOG("%.2000s", out);
	vma = vma_json(out, addr[0], addr[0] + 64 * ps);
	ASSERT_NE(NULL, vma);
	EXPECT_NE(NULL, strstr(vma, "\"prot\": \"rw-p\"")) TH_LOG("%s", vma);
	EXPECT_NE(NULL, strstr(vma, "\"kind\": \"anon\"")) TH_LOG("%s", vma);
	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out)));
	vma = vma_json(out, addr[1], addr[1] + 4 * ps);
	ASSERT_NE(NULL, vma);
	EXPECT_NE(NULL, strstr(vma, "\"prot\": \"r--p\"")) TH_LOG("%s", vma);

	/* Written pages are saved with their contents... */
	for (i = 0; i < 32; i += 5) {
		len = sizeof(page);
		ASSERT_EQ(0, saved_page(path, addr[0] + i * ps, page, &len)) TH_LOG("page %d", i);
		ASSERT_EQ(ps, len);
		EXPECT_EQ((char)(i * 7 + 1), page[0]);
		EXPECT_EQ((char)(i * 7 + 1), page[ps - 1]);
	}
	len = sizeof(page);
	ASSERT_EQ(0, saved_page(path, addr[1] + 3 * ps, page, &len));
	EXPECT_EQ((char)0xab, page[ps / 2]);
	/* ...and pages never touched are not. */
	for (i = 32; i < 64; i += 7) {
		len = sizeof(page);
		EXPECT_EQ(1, saved_page(path, addr[0] + i * ps, page, &len)) TH_LOG("page %d", i);
	}

	/* And restart rebuilds that memory. */
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(0, restart_fd(fd, NULL));
	finish_target(child, cg, fd, path);
}

TEST(registers_survive_restart)
{
	char path[] = "/tmp/ckpt-regs-XXXXXX", log[] = "/tmp/ckpt-regs-log-XXXXXX";
	static char out[1 << 20];
	char needle[64], buf[4096];
	unsigned long long want[] = {
		0x1122334455667788ULL, 0x0123456789abcdefULL,
		0x0f0e0d0c0b0a0908ULL, 0x7766554433221100ULL,
	};
	static const char * const names[] = { "r12", "r13", "r14", "r15" };
	char xmm[256];
	int i, j, len;
	size_t before;
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* The target sleeps 200 ms at a time, checking its registers after each. */
	child = spawn_logged("ckpt-regs", "regs", NULL, log);
	ASSERT_EQ(0, wait_log(log, 0, "+", 2, 20));
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));

	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out)));
	for (i = 0; i < 4; i++) {
		snprintf(needle, sizeof(needle), "\"%s\": %llu,", names[i], want[i]);
		EXPECT_NE(NULL, strstr(out, needle)) TH_LOG("%s not found", needle);
	}
	/* Stopped in nanosleep (35) or write (1); libc set up its TLS base. */
	EXPECT_TRUE(strstr(out, "\"orig_ax\": 35,") || strstr(out, "\"orig_ax\": 1,"));
	EXPECT_EQ(NULL, strstr(out, "\"fs_base\": 0,"));
	EXPECT_NE(NULL, strstr(out, "\"cs\": 51,")) TH_LOG("64-bit user code segment");
	/* The XSAVE area holds the SSE registers the target loaded. */
	EXPECT_NE(NULL, strstr(out, "\"type\": \"xstate\"")) TH_LOG("no xstate record");
	/* Byte j of xmm<i> is (i << 4) | j: "xmm": ["0001..0f", "1011..1f", ... */
	len = snprintf(xmm, sizeof(xmm), "\"xmm\": [");
	for (i = 0; i < 4; i++) {
		len += snprintf(xmm + len, sizeof(xmm) - len, "\"");
		for (j = 0; j < 16; j++)
			len += snprintf(xmm + len, sizeof(xmm) - len, "%02x", (i << 4) | j);
		len += snprintf(xmm + len, sizeof(xmm) - len, "\", ");
	}
	EXPECT_NE(NULL, strstr(out, xmm)) TH_LOG("%s not found", xmm);
	/* With AVX, the target loaded ymm0-3: the YMM component is in use. */
	if (__builtin_cpu_supports("avx")) {
		char *xf = strstr(out, "\"xfeatures\": ");

		ASSERT_NE(NULL, xf);
		EXPECT_TRUE(strtoull(xf + 13, NULL, 10) & 4) TH_LOG("no YMM state");
	}
	/* Frozen inside nanosleep: its restart block says how long is left. */
	if (strstr(out, "\"orig_ax\": 35,"))
		EXPECT_NE(NULL, strstr(out, "\"type\": \"restart_block\""));

	/* Restarted, it finds its registers (and ymm halves) intact after each sleep. */
	before = read_file(log, buf, sizeof(buf));
	child = restart_path(path);
	ASSERT_LT(0, child);
	EXPECT_EQ(0, wait_log(log, before, "+", 3, 20));
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strchr(buf, '!')) TH_LOG("log: %s", buf);
	EXPECT_EQ(0, kill(child, 0));
	reap(child);
	unlink(path);
	unlink(log);
}

/* Checks that the log holds "count 1" .. "count N" in order; returns N. */
static long counts_in_order(const char *log)
{
	static char buf[1 << 20];
	long want = 1, n;
	char *p = buf;

	read_file(log, buf, sizeof(buf));
	while ((p = strstr(p, "count "))) {
		n = strtol(p + 6, &p, 10);
		if (n != want)
			return -want;
		want++;
	}
	return want - 1;
}

TEST(counter_survives_restart)
{
	char path[] = "/tmp/ckpt-counter-XXXXXX", log[] = "/tmp/ckpt-counter-log-XXXXXX";
	char data[] = "/tmp/ckpt-counter-data-XXXXXX", needle[64], exe[4096];
	ssize_t n;
	static char buf[1 << 20];
	long ps = sysconf(_SC_PAGESIZE), before, after;
	char *f = malloc(2 * ps);
	int dfd = mkstemp(data);
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	ASSERT_LE(0, dfd);
	memset(f, 'F', 2 * ps);
	ASSERT_EQ(2 * ps, write(dfd, f, 2 * ps));
	close(dfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_logged("ckpt-counter", "counter", data, log);
	ASSERT_EQ(0, wait_log(log, 0, "verified", 1, 60)) {
		read_file(log, buf, sizeof(buf));
		TH_LOG("log: %.500s", buf);
	}
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	before = counts_in_order(log);
	ASSERT_LT(0, before);

	/* 64 MiB of anonymous memory went into the image. */
	ASSERT_LT(64 << 20, lseek(open(path, O_RDONLY), 0, SEEK_END));
	child = restart_path(path);
	ASSERT_LT(0, child);
	/* It counts on from where it was, appending at its file offset... */
	snprintf(needle, sizeof(needle), "verified %ld", (before / 25 + 1) * 25);
	EXPECT_EQ(0, wait_log(log, 0, needle, 1, 60)) {
		read_file(log, buf, sizeof(buf));
		TH_LOG("log: %.2000s", buf);
	}
	/* /proc/PID/exe is its program again, not the restart tool. */
	snprintf(needle, sizeof(needle), "/proc/%d/exe", child);
	n = readlink(needle, exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	EXPECT_NE(NULL, strstr(exe, "/ckpt_sleeper")) TH_LOG("exe: %s", exe);
	/*
	 * Its SIGUSR1 handler runs, and its pages, mapped by restart without
	 * a fault, are counted as its own, copied on write after a fork, and
	 * dropped by MADV_DONTNEED.
	 */
	EXPECT_EQ(0, kill(child, SIGUSR1));
	EXPECT_EQ(0, wait_log(log, 0, "anon ok", 1, 10)) {
		read_file(log, buf, sizeof(buf));
		TH_LOG("log: %.300s", strstr(buf, "got usr1") ?: buf);
	}
	reap(child);
	after = counts_in_order(log);
	EXPECT_LE((before / 25 + 1) * 25, after) TH_LOG("counts out of order at %ld", -after);
	/* ...and found its memory, mappings, stack and signal state intact. */
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strstr(buf, "CORRUPT")) TH_LOG("%s", strstr(buf, "CORRUPT"));
	unlink(path);
	unlink(log);
	unlink(data);
	free(f);
}

TEST(self_checkpoint_restarts_twice)
{
	char path[] = "/tmp/ckpt-self-XXXXXX", log[] = "/tmp/ckpt-self-log-XXXXXX";
	char buf[4096], cmd[512];
	int status, i;
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	/* checkpoint(2) of itself returns a positive id... */
	child = spawn_logged("ckpt-self", "self", path, log);
	ASSERT_EQ(child, waitpid(child, &status, 0));
	ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	read_file(log, buf, sizeof(buf));
	ASSERT_NE(NULL, strstr(buf, "checkpointed ")) TH_LOG("log: %s", buf);
	/* ...and 0 in each of two copies restarted by the restart tool. */
	for (i = 0; i < 2; i++) {
		snprintf(cmd, sizeof(cmd), "restart -i %s", path);
		status = system(cmd);
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 42)
			TH_LOG("restart exit %d", WEXITSTATUS(status));
	}
	/* Both copies wrote at the offset the log had at checkpoint: 0. */
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(0, strncmp(buf, "restarted 0\n", 12)) TH_LOG("log: %s", buf);
	unlink(path);
	unlink(log);
}

/* Checks that the log holds "N" lines 1*step, 2*step, ... in order; returns their count. */
static long multiples_in_order(const char *log, long step)
{
	static char buf[1 << 20];
	long want = step, n = 0;
	char *p = buf, *end;

	read_file(log, buf, sizeof(buf));
	while (*p) {
		long v = strtol(p, &end, 10);

		if (end == p || v != want)
			return -1;
		want += step;
		n++;
		p = end + (*end == '\n');
	}
	return n;
}

/*
 * Kills every task of the v2 cgroup @cg, where all of the caller's
 * children are, and reaps them and their orphans (it is a subreaper), so
 * that their pids are free; 0 once the cgroup is empty.
 */
static int empty_cgroup(const char *cg)
{
	if (kill_v2(cg))
		return -1;
	while (waitpid(-1, NULL, 0) > 0)
		;
	return wait_for(cg, "cgroup.events", "populated 0");
}

/*
 * Reaps the tasks of the killed cgroup @cg that this process is the parent
 * or subreaper of, once the cgroup is empty: until then their pids, which
 * a restart gives back, are taken.
 */
static int reap_killed(const char *cg)
{
	if (wait_for(cg, "cgroup.events", "populated 0"))
		return -1;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	return 0;
}

/*
 * Restarts the tree of the image at @path from a child that joins the v2
 * cgroup @cg first, so that the tree is killed with it; returns the pid of
 * its root, or minus the errno of restart(2).
 */
static pid_t restart_tree_in(const char *path, const char *cg)
{
	pid_t root = -ENOENT;
	int p[2];

	if (pipe(p))
		return -errno;
	if (fork() == 0) {
		close(p[0]);
		if (!write_str(cg, "cgroup.procs", "0")) {
			root = restart_tree_path(path);
			if (root < 0)
				root = -errno;
		}
		if (write(p[1], &root, sizeof(root)) != sizeof(root))
			_exit(1);
		close(p[1]);
		/* Its parent, until the cgroup is killed. */
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &root, sizeof(root)) != sizeof(root))
		root = -EPIPE;
	close(p[0]);
	return root;
}

/*
 * Runs @argv in a new v2 cgroup with its stdout on a new log, where it
 * prints multiples of @step, one per line; once it printed @lines, freezes
 * the cgroup, checkpoints it and kills all of it, restarts it (its whole
 * tree if @tree, else as one task), and checks that it prints @lines more,
 * in order. With @result, a file that the program writes last, the file
 * must be empty at the checkpoint and then come to hold @want; the file
 * @result.go appears after the checkpoint, before the kill.
 */
static void check_counting_program(struct __test_metadata *_metadata,
				   char *const argv[], long step, int lines, bool tree,
				   const char *result, const char *want)
{
	char path[] = "/tmp/ckpt-prog-XXXXXX", log[] = "/tmp/ckpt-prog-log-XXXXXX";
	static char buf[1 << 16];
	long before, after = 0, id;
	char cg[128];
	pid_t child;
	int i, fd, err;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* Orphans of the killed programs come here, to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-prog-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	child = fork();
	if (child == 0) {
		int out = open(log, O_WRONLY | O_TRUNC);

		/* Its descendants are born in the cgroup. */
		if (write_str(cg, "cgroup.procs", "0"))
			_exit(126);
		only_null_stdio(out);
		execv(argv[0], argv);
		_exit(127);
	}
	/* Whatever fails, none of it is left running. */
	if (!wait_log(log, 0, "\n", lines, 60) && !write_str(cg, "cgroup.freeze", "1") &&
	    !wait_for(cg, "cgroup.events", "frozen 1")) {
		fd = open(path, O_WRONLY | O_TRUNC);
		/* Caught before its end. */
		if (result)
			EXPECT_EQ(0, read_file(result, buf, sizeof(buf)));
		id = sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1);
		err = errno;
		close(fd);
		if (result) {
			snprintf(buf, sizeof(buf), "%s.go", result);
			close(open(buf, O_CREAT | O_WRONLY, 0600));
		}
	} else {
		id = -1;
		err = ETIMEDOUT;
	}
	ASSERT_EQ(0, kill_v2(cg));
	ASSERT_EQ(0, reap_killed(cg));
	ASSERT_EQ(0, thaw_v2(cg));
	ASSERT_LT(0, id) TH_LOG("%s", strerror(err));
	before = multiples_in_order(log, step);
	ASSERT_LT(0, before);
	child = tree ? restart_tree_in(path, cg) : restart_path(path);
	EXPECT_LT(0, child) TH_LOG("restart: %d", child);
	/* It counts on from where it was. */
	for (i = 0; child > 0 && i < 600; i++) {
		after = multiples_in_order(log, step);
		if (after < 0 || after >= before + lines)
			break;
		usleep(50 * 1000);
	}
	/* Its result, once it is done. */
	for (i = 0; result && child > 0 && i < 2400; i++) {
		if (read_file(result, buf, sizeof(buf)) >= strlen(want))
			break;
		usleep(50 * 1000);
	}
	if (result) {
		EXPECT_STREQ(want, buf);
		unlink(result);
		snprintf(buf, sizeof(buf), "%s.go", result);
		unlink(buf);
	}
	if (tree) {
		EXPECT_EQ(0, empty_cgroup(cg));
	} else if (child > 0) {
		reap(child);
	}
	remove_v2(cg);
	read_file(log, buf, sizeof(buf));
	EXPECT_LE(before + lines, after) TH_LOG("%ld lines before, log: %.300s", before, buf);
	unlink(path);
	unlink(log);
}

TEST(shell_loop_survives_restart)
{
	/* A dynamically linked shell counting with builtins only. */
	char *const argv[] = {
		"/bin/sh", "-c",
		"i=0; while :; do i=$((i+1)); [ $((i % 2000)) = 0 ] && echo $i; done",
		NULL
	};

	check_counting_program(_metadata, argv, 2000, 3, false, NULL, NULL);
}

/* A target waiting on a futex in @mode is restarted and woken. */
static void check_futex_wait(struct __test_metadata *_metadata, const char *mode)
{
	char path[] = "/tmp/ckpt-futex-XXXXXX", log[] = "/tmp/ckpt-futex-log-XXXXXX";
	char data[] = "/tmp/ckpt-futex-data-XXXXXX", buf[4096];
	long ps = sysconf(_SC_PAGESIZE);
	int dfd = mkstemp(data);
	uint32_t *word;
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ftruncate(dfd, ps));
	word = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, dfd, 0);
	ASSERT_NE(MAP_FAILED, word);
	close(dfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* The target sleeps in FUTEX_WAIT on a word of a shared file mapping. */
	child = spawn_logged("ckpt-futex", mode, data, log);
	ASSERT_EQ(0, wait_log(log, 0, "waiting", 1, 20));
	usleep(200 * 1000);
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	if (!strcmp(mode, "futex-timeout")) {
		static char out[1 << 20];

		/* A timed wait is saved as a restart block with the time left. */
		ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out)));
		EXPECT_NE(NULL, strstr(out, "\"kind\": \"futex_wait\"")) TH_LOG("no restart block");
	}
	child = restart_path(path);
	ASSERT_LT(0, child);
	/* Restarted, it waits again: a wake-up without the value changes nothing... */
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	usleep(300 * 1000);
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strstr(buf, "woken")) TH_LOG("log: %s", buf);
	/* ...and the real one wakes it. */
	__atomic_store_n(word, 1, __ATOMIC_SEQ_CST);
	syscall(SYS_futex, word, FUTEX_WAKE, 1, NULL, NULL, 0);
	EXPECT_EQ(0, wait_log(log, 0, "woken", 1, 10)) {
		read_file(log, buf, sizeof(buf));
		TH_LOG("log: %s", buf);
	}
	reap(child);
	munmap(word, ps);
	unlink(path);
	unlink(log);
	unlink(data);
}

TEST(futex_wait_resumes)
{
	check_futex_wait(_metadata, "futex");
}

TEST(futex_timed_wait_resumes)
{
	/* With a timeout, the wait is a restart block with the time left. */
	check_futex_wait(_metadata, "futex-timeout");
}

TEST(python_survives_restart)
{
	char *const argv[] = {
		"/usr/bin/python3", "-S", "-c",
		"import time\n"
		"i = 0\n"
		"while True:\n"
		"    i += 1\n"
		"    print(i, flush=True)\n"
		"    time.sleep(0.05)\n",
		NULL
	};

	if (access(argv[0], X_OK))
		SKIP(return, "no %s", argv[0]);
	check_counting_program(_metadata, argv, 1, 5, false, NULL, NULL);
}

/*
 * Python with four worker threads: the main thread prints the next number
 * once every worker has counted since the last one, so that the numbers
 * go on after restart only if every thread came back.
 */
TEST(python_threads_survive_restart)
{
	char *const argv[] = {
		"/usr/bin/python3", "-S", "-c",
		"import threading, time\n"
		"lock = threading.Lock()\n"
		"counts = [0] * 4\n"
		"def work(k):\n"
		"    while True:\n"
		"        with lock:\n"
		"            counts[k] += 1\n"
		"        time.sleep(0.01)\n"
		"for k in range(4):\n"
		"    threading.Thread(target=work, args=(k,), daemon=True).start()\n"
		"i = 0\n"
		"while True:\n"
		"    with lock:\n"
		"        last = list(counts)\n"
		"    while True:\n"
		"        time.sleep(0.02)\n"
		"        with lock:\n"
		"            if all(c > l for c, l in zip(counts, last)):\n"
		"                break\n"
		"    i += 1\n"
		"    print(i, flush=True)\n",
		NULL
	};

	if (access(argv[0], X_OK))
		SKIP(return, "no %s", argv[0]);
	check_counting_program(_metadata, argv, 1, 5, true, NULL, NULL);
}

/*
 * A shell waiting for its two background jobs, a sleep and a counting
 * subshell: the tree comes back and the counting goes on.
 */
TEST(shell_jobs_survive_restart)
{
	char *const argv[] = {
		"/bin/sh", "-c",
		"sleep 1000 & "
		"(i=0; while :; do i=$((i+1)); [ $((i % 2000)) = 0 ] && echo $i; done) & "
		"wait",
		NULL
	};

	check_counting_program(_metadata, argv, 2000, 3, true, NULL, NULL);
}

/*
 * A shell pipeline, seq into awk summing 2000000 numbers, caught in the
 * middle (seq blocked on the full pipe or writing, awk reading, or the
 * second half waiting for the checkpoint to be over): after restart, the
 * sum is exact, each number read once.
 */
TEST(pipeline_survives_restart)
{
	char sum[] = "/tmp/ckpt-sum-XXXXXX", script[512];
	char *const argv[] = { "/bin/sh", "-c", script, NULL };
	int fd = mkstemp(sum);

	ASSERT_LE(0, fd);
	close(fd);
	snprintf(script, sizeof(script),
		 "(seq 1000000; while [ ! -e %s.go ]; do sleep 0.1; done; seq 1000001 2000000) | "
		 "awk '{ s += $1 } NR %% 20000 == 0 { print NR; fflush() } "
		 "END { printf \"%%.0f\\n\", s > \"%s\" }'", sum, sum);
	check_counting_program(_metadata, argv, 20000, 5, true, sum, "2000001000000\n");
}

TEST(restart_beyond_privilege_eperm)
{
	char cg[128];
	long id;
	int fd, status;
	pid_t target, child;

	if (getuid() != 0)
		SKIP(return, "needs root to make a root image");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* An image of a task of root... */
	target = spawn_sleeper("ckpt-root");
	ASSERT_EQ(0, freeze_v2(target, cg, sizeof(cg)));
	ASSERT_LT(0, image_of(target, &fd, &id));
	thaw_v2(cg);
	reap(target);
	remove_v2(cg);
	/* ...that an unprivileged user may not restart: EPERM, and it lives on. */
	child = fork();
	if (child == 0) {
		if (setgid(65534) || setuid(65534))
			_exit(2);
		if (sys_restart(0, fd, 0, -1) != -1)
			_exit(3);
		_exit(errno == EPERM ? 0 : 4);
	}
	ASSERT_EQ(child, waitpid(child, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0)
		TH_LOG("status %d", WEXITSTATUS(status));
	close(fd);
}

TEST(missing_mapped_file_refused)
{
	char path[] = "/tmp/ckpt-gone-XXXXXX", log[] = "/tmp/ckpt-gone-log-XXXXXX";
	char data[] = "/tmp/ckpt-gone-data-XXXXXX";
	int dfd = mkstemp(data), fd;
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	ASSERT_LE(0, dfd);
	ASSERT_EQ(0, ftruncate(dfd, sysconf(_SC_PAGESIZE)));
	close(dfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* A target that maps a file no descriptor holds... */
	child = spawn_logged("ckpt-gone", "futex", data, log);
	ASSERT_EQ(0, wait_log(log, 0, "waiting", 1, 20));
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	/* ...whose file is gone at restart: ENOENT, before anything changed. */
	ASSERT_EQ(0, unlink(data));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ENOENT, restart_fd(fd, NULL));
	close(fd);
	unlink(path);
	unlink(log);
}

TEST(unsupported_fd_refused)
{
	char path[] = "/tmp/ckpt-sockfd-XXXXXX";
	char out[8192], cg[128];
	int fd = mkstemp(path), sv[2];
	pid_t child;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* A target whose stdout is a socket. */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	child = fork_target(sv[1], NULL, NULL);
	ASSERT_LT(0, child);
	close(sv[1]);
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg)));
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "EOPNOTSUPP objref 0: fd 1: socket not supported"))
		TH_LOG("%s", out);
	EXPECT_EQ(0, thaw_v2(cg));
	close(sv[0]);
	finish_target(child, cg, fd, path);
}

/*
 * A pipe with an end open outside the image cannot come back connected:
 * refused, and the target is unharmed, its buffered data unread.
 */
TEST(pipe_with_outside_end_refused)
{
	char path[] = "/tmp/ckpt-pipefd-XXXXXX", log[] = "/tmp/ckpt-pipefd-log-XXXXXX";
	char ready[5], out[65536], cg[128], link[64], buf[256];
	int fd = mkstemp(path), outside = -1, i;
	pid_t child;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target_at(sleeper_path(), "ckpt-pipefd", "pipes", log,
				ready, sizeof(ready));
	ASSERT_LT(0, child);
	/* A second reader of its first pipe, opened through /proc. */
	for (i = 3; i < 16 && outside < 0; i++) {
		char proc[64];
		ssize_t n;

		snprintf(proc, sizeof(proc), "/proc/%d/fd/%d", child, i);
		n = readlink(proc, link, sizeof(link) - 1);
		if (n > 5 && !strncmp(link, "pipe:", 5))
			outside = open(proc, O_RDONLY | O_NONBLOCK);
	}
	ASSERT_LE(0, outside);
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg)));
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "1 of its 3 open ends are outside the image"))
		TH_LOG("%s", out);
	EXPECT_EQ(0, thaw_v2(cg));
	/* It runs on, and finds all its data still there. */
	ASSERT_EQ(0, kill(child, SIGUSR1));
	EXPECT_EQ(0, wait_log(log, 0, "pipes ", 1, 30));
	read_file(log, buf, sizeof(buf));
	EXPECT_STREQ("pipes ok\n", buf);
	close(outside);
	unlink(log);
	finish_target(child, cg, fd, path);
}

/* Waits up to @secs seconds for @pid to sleep in a system call. */
static int wait_asleep(pid_t pid, int secs)
{
	char path[64], buf[512], *p;
	int i;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (i = 0; i < secs * 100; i++) {
		p = read_file(path, buf, sizeof(buf)) ? strrchr(buf, ')') : NULL;
		if (p && p[1] == ' ' && p[2] == 'S')
			return 0;
		usleep(10000);
	}
	return -1;
}

/*
 * Sends SIGUSR1 to @pid, a restarted ckpt_sleeper in @mode: it must check
 * itself and log "@mode ok" to @log.
 */
static void expect_mode_ok(struct __test_metadata *_metadata, const char *mode,
			   const char *log, pid_t pid)
{
	char buf[256], want[64];

	EXPECT_EQ(0, kill(pid, SIGUSR1));
	snprintf(want, sizeof(want), "%s ", mode);
	EXPECT_EQ(0, wait_log(log, 0, want, 1, 60));
	read_file(log, buf, sizeof(buf));
	snprintf(want, sizeof(want), "%s ok\n", mode);
	EXPECT_STREQ(want, buf);
}

/*
 * Runs ckpt_sleeper in @mode, its log at @log; checkpoints and kills it,
 * checks that ckptinfo shows each of the strings @shows (NULL-terminated),
 * restarts it and sends it SIGUSR1: it must log "@mode ok".
 */
static void check_mode_survives(struct __test_metadata *_metadata, const char *mode,
				const char *log, const char *const shows[])
{
	char path[] = "/tmp/ckpt-mode-XXXXXX";
	static char out[1 << 20];
	char ready[5];
	pid_t child;
	int i;

	ASSERT_LE(0, mkstemp(path));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target_at(sleeper_path(), "ckpt-mode", mode, log, ready, sizeof(ready));
	ASSERT_LT(0, child);
	/* Saved in the call it waits in, not on its way to it. */
	ASSERT_EQ(0, wait_asleep(child, 30));
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "", out, sizeof(out))) TH_LOG("%.4000s", out);
	for (i = 0; shows[i]; i++)
		EXPECT_NE(NULL, strstr(out, shows[i])) TH_LOG("show %d: %.4000s", i, out);
	child = restart_path(path);
	ASSERT_LT(0, child);
	expect_mode_ok(_metadata, mode, log, child);
	reap(child);
	unlink(path);
}

/*
 * Pipes with their data, size and O_NONBLOCK, a pipe whose writer is gone,
 * and eventfds with their counters: the restarted program checks them all.
 */
TEST(pipes_and_eventfds_survive_restart)
{
	char log[] = "/tmp/ckpt-pipes-log-XXXXXX";
	const char *const shows[] = { "size 131072 buffered 40960 bytes", "eventfd", NULL };

	ASSERT_LE(0, mkstemp(log));
	check_mode_survives(_metadata, "pipes", log, shows);
	unlink(log);
}

/*
 * Runs ckpt_sleeper in @mode, a tree, its log at @log, in a cgroup of its
 * own; checkpoints the tree and kills it, restarts it, @rounds times, and
 * sends its root SIGUSR1: it must log "@mode ok".
 */
static void check_tree_mode_rounds(struct __test_metadata *_metadata, const char *mode,
				   const char *log, int rounds)
{
	char path[] = "/tmp/ckpt-tmode-XXXXXX";
	char cg[128], ready[5];
	pid_t root;
	int fd, i;

	ASSERT_LE(0, mkstemp(path));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* Orphans of the killed tree come here, to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-tmode-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	root = spawn_target_in(cg, sleeper_path(), "ckpt-tmode", mode, log, ready,
			       sizeof(ready));
	EXPECT_LT(0, root);
	for (i = 0; i < rounds; i++) {
		/* A restored tree freezes as the original did. */
		EXPECT_EQ(0, write_str(cg, "cgroup.freeze", "1"));
		ASSERT_EQ(0, wait_for(cg, "cgroup.events", "frozen 1")) TH_LOG("round %d", i);
		fd = open(path, O_WRONLY | O_TRUNC);
		EXPECT_LT(0, sys_checkpoint(root, fd, CHECKPOINT_SUBTREE, -1))
			TH_LOG("round %d: %s", i, strerror(errno));
		close(fd);
		ASSERT_EQ(0, kill_v2(cg));
		ASSERT_EQ(0, reap_killed(cg));
		ASSERT_EQ(0, thaw_v2(cg));
		EXPECT_EQ(root, restart_tree_in(path, cg));
	}
	expect_mode_ok(_metadata, mode, log, root);
	EXPECT_EQ(0, empty_cgroup(cg));
	remove_v2(cg);
	unlink(path);
}

static void check_tree_mode_survives(struct __test_metadata *_metadata, const char *mode,
				     const char *log)
{
	check_tree_mode_rounds(_metadata, mode, log, 1);
}

/*
 * Children that share a descriptor table the root left, one that shares
 * the root's, and one that shares its fs: after restart, what each changes
 * the others see, and only they.
 */
TEST(shared_descriptors_and_fs_survive_restart)
{
	char log[] = "/tmp/ckpt-share-log-XXXXXX";

	ASSERT_LE(0, mkstemp(log));
	check_tree_mode_survives(_metadata, "share", log);
	unlink(log);
}

/*
 * A child that shares the root's memory (clone(CLONE_VM)), and a parent
 * blocked in vfork() for its child: after a restart, and after a
 * checkpoint and restart of the restarted tree, what the root writes its
 * child sees and the reverse, and the vfork() returns the child's pid only
 * once the child has exited.
 */
TEST(shared_memory_and_vfork_survive_restart)
{
	char log[] = "/tmp/ckpt-vm-log-XXXXXX";

	ASSERT_LE(0, mkstemp(log));
	check_tree_mode_rounds(_metadata, "vm", log, 2);
	unlink(log);
}

/*
 * A child blocked in read() on an empty pipe and one in a write() of 200 KiB
 * on a full pipe: after restart, the read returns what the root writes,
 * and the root reads every byte of the write once, in order.
 */
TEST(blocked_pipe_calls_survive_restart)
{
	char log[] = "/tmp/ckpt-pw-log-XXXXXX";

	ASSERT_LE(0, mkstemp(log));
	check_tree_mode_survives(_metadata, "pipe-wait", log);
	unlink(log);
}

/*
 * flock() locks, one through a file that a child shares, and POSIX locks
 * of two processes on byte ranges, read and write, one to the end of the
 * file: after restart another process sees each with its owner, and the
 * child's unlock of the shared file frees it for both.
 */
TEST(file_locks_survive_restart)
{
	char log[] = "/tmp/ckpt-locks-log-XXXXXX", f[PATH_MAX];
	int i;

	ASSERT_LE(0, mkstemp(log));
	check_tree_mode_survives(_metadata, "locks", log);
	for (i = 1; i <= 3; i++) {
		snprintf(f, sizeof(f), "%s.%d", log, i);
		unlink(f);
	}
	unlink(log);
}

/*
 * A parent and child sharing MAP_SHARED | MAP_ANONYMOUS memory and a memfd
 * mapped by both: after restart each sees the other's writes, before and
 * after the checkpoint, and the memfd keeps its contents, seals and name.
 */
TEST(shared_memory_survives_restart)
{
	char log[] = "/tmp/ckpt-shm-log-XXXXXX";

	ASSERT_LE(0, mkstemp(log));
	check_tree_mode_survives(_metadata, "shm", log);
	unlink(log);
}

/*
 * An inotify file watching a directory and, once, a file in it, with a
 * removed watch between them and two events unread: after restart it
 * holds the same events, the same wds and masks report new ones, and a
 * new watch gets the next wd.
 */
TEST(inotify_survives_restart)
{
	char log[] = "/tmp/ckpt-ino-log-XXXXXX", dir[64], file[80];
	const char *const shows[] = { "inotify", "watches 2 events 2", NULL };

	ASSERT_LE(0, mkstemp(log));
	check_mode_survives(_metadata, "inotify", log, shows);
	snprintf(dir, sizeof(dir), "%s.d", log);
	snprintf(file, sizeof(file), "%s/f", dir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/after", dir);
	unlink(file);
	snprintf(file, sizeof(file), "%s/before", dir);
	unlink(file);
	rmdir(dir);
	unlink(log);
}

/*
 * A file open under a name that was unlinked after a second link was
 * made, which the task holds open too: it comes back open through that
 * link, the same file, at its position.
 */
TEST(unlinked_name_with_another_link_survives_restart)
{
	char log[] = "/tmp/ckpt-hl-log-XXXXXX", path[80], show[96];
	const char *const shows[] = { show, NULL };

	ASSERT_LE(0, mkstemp(log));
	snprintf(show, sizeof(show), "pos 11 %s.d/b", log);
	check_mode_survives(_metadata, "hardlink", log, shows);
	snprintf(path, sizeof(path), "%s.d/b", log);
	unlink(path);
	snprintf(path, sizeof(path), "%s.d", log);
	rmdir(path);
	unlink(log);
}

/*
 * A memfd of 20 MiB and a bit, 12 MiB of shared anonymous memory and an
 * unlinked file of 9 MiB and a bit: refused (EFBIG) without
 * CHECKPOINT_BIG_FILES, saved with it, their contents beyond the first
 * 8 MiB in contents records; the restarted program finds every byte, the
 * seals, and the memfd still one memory with its mapping. A contents
 * record out of place is refused.
 */
TEST(big_files_survive_restart)
{
	char path[] = "/tmp/ckpt-big-img-XXXXXX", log[] = "/tmp/ckpt-big-log-XXXXXX";
	static char out[1 << 20];
	char ready[5], cg[128], *buf;
	size_t offs[256], nrec, len, r;
	uint32_t type;
	pid_t child;
	int fd;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target_at(sleeper_path(), "ckpt-big", "big-files", log, ready,
				sizeof(ready));
	ASSERT_LT(0, child);
	ASSERT_EQ(0, wait_asleep(child, 30));
	/* Without the flag: EFBIG, and the target runs on. */
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg)));
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EFBIG, errno);
	close(fd);
	EXPECT_EQ(0, thaw_v2(cg));
	remove_v2(cg);
	EXPECT_EQ(0, waitpid(child, NULL, WNOHANG));
	ASSERT_LT(0, checkpoint_flags_and_kill(child, path, CHECKPOINT_BIG_FILES))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "", out, sizeof(out))) TH_LOG("%.4000s", out);
	EXPECT_NE(NULL, strstr(out, "ckpt-big seals 0x6 mode 0o100777 size 20983865 bytes"))
		TH_LOG("%.4000s", out);
	EXPECT_NE(NULL, strstr(out, "contents")) TH_LOG("%.4000s", out);
	child = restart_path(path);
	ASSERT_LT(0, child);
	expect_mode_ok(_metadata, "big-files", log, child);
	reap(child);
	/* A contents record that skips a byte: EINVAL, before anything changes. */
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	buf = slurp(fd, &len);
	close(fd);
	ASSERT_NE(NULL, buf);
	nrec = record_offsets(buf, len, offs, 256);
	for (r = 0; r < nrec; r++) {
		memcpy(&type, buf + offs[r], 4);
		if (type == 407)
			break;
	}
	ASSERT_LT(r, nrec);
	/* Header 8, objref and length 8: the offset. */
	buf[offs[r] + 16] += 1;
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	free(buf);
	unlink(path);
	unlink(log);
}

/*
 * An event loop blocked in epoll_wait() over a signalfd and a timerfd, with
 * a second epoll over an eventfd, a pipe, a periodic timerfd and a closed
 * descriptor, watched by a third, and an absolute CLOCK_REALTIME timerfd:
 * after restart, SIGUSR1 wakes the loop through its signalfd, and it finds
 * each event once, each timer's setting, and every watch as it was.
 */
TEST(event_loop_survives_restart)
{
	char log[] = "/tmp/ckpt-events-log-XXXXXX";
	const char *const shows[] = {
		"signalfd", "mask 0xa00", "clock 1", "interval 50000000 ns",
		"settime flags 0o3", "epoll", "watches 4", NULL
	};

	ASSERT_LE(0, mkstemp(log));
	check_mode_survives(_metadata, "events", log, shows);
	unlink(log);
}

/*
 * A FIFO with 5000 bytes buffered, open for reading, writing and both,
 * comes back by its path with its data and flags.
 */
TEST(fifo_survives_restart)
{
	char log[] = "/tmp/ckpt-fifo-log-XXXXXX", fifo[64], show[96];
	const char *const shows[] = { show, NULL };

	ASSERT_LE(0, mkstemp(log));
	snprintf(fifo, sizeof(fifo), "%s.fifo", log);
	snprintf(show, sizeof(show), "buffered 5000 bytes %s", fifo);
	check_mode_survives(_metadata, "fifo", log, shows);
	unlink(fifo);
	unlink(log);
}

/*
 * An unlinked file of 1 MiB, open and mapped shared, and another only
 * mapped, are saved with their contents and come back unlinked, one file
 * with their mappings.
 */
TEST(unlinked_files_survive_restart)
{
	char log[] = "/tmp/ckpt-unl-log-XXXXXX";
	/* Each file, with its contents once, and the file open on it. */
	const char *const shows[] = {
		"mode 0o100600 /tmp size 1048576 bytes",
		"unlinked flags 0o100002 mode 0o100600 pos 12345 unlinked",
		NULL
	};

	ASSERT_LE(0, mkstemp(log));
	check_mode_survives(_metadata, "unlinked", log, shows);
	unlink(log);
}

/*
 * A checkpoint into a pipe writes the stream a checkpoint into a file
 * does: the same bytes after the header, for a task of 8 MiB whose pages
 * differ, through a pipe that fills many times. Restarted from it, the
 * task runs.
 */
TEST(checkpoint_into_pipe_is_the_file_stream)
{
	char path[] = "/tmp/ckpt-pipef-XXXXXX", piped[] = "/tmp/ckpt-pipep-XXXXXX";
	char cg[128], ready[5], buf[65536];
	size_t alen = 0, blen = 0, head;
	int fd, p[2], status = -1;
	pid_t target, drain, back;
	uint32_t rlen;
	char *a, *b;
	ssize_t n;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(piped));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	target = spawn_target_at(sleeper_path(), "ckpt-pipef", "fill", "8", ready, sizeof(ready));
	ASSERT_LT(0, target);
	ASSERT_EQ(0, freeze_v2(target, cg, sizeof(cg)));
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	EXPECT_LT(0, sys_checkpoint(target, fd, CHECKPOINT_SUBTREE, -1));
	close(fd);
	ASSERT_EQ(0, pipe(p));
	drain = fork();
	if (drain == 0) {
		fd = open(piped, O_WRONLY | O_TRUNC);
		close(p[1]);
		while ((n = read(p[0], buf, sizeof(buf))) > 0)
			if (fd < 0 || write(fd, buf, n) != n)
				_exit(1);
		_exit(n ? 1 : 0);
	}
	close(p[0]);
	EXPECT_LT(0, sys_checkpoint(target, p[1], CHECKPOINT_SUBTREE, -1))
		TH_LOG("%s", strerror(errno));
	close(p[1]);
	ASSERT_EQ(drain, waitpid(drain, &status, 0));
	EXPECT_EQ(0, status);
	kill(target, SIGKILL);
	thaw_v2(cg);
	reap(target);
	remove_v2(cg);

	a = slurp_path(path, &alen);
	b = slurp_path(piped, &blen);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	EXPECT_LT(8L << 20, alen);
	ASSERT_EQ(alen, blen);
	/* The header holds the checkpoint id and time; the rest is the same. */
	memcpy(&rlen, a + 4, 4);
	head = ((size_t)rlen + 7) & ~(size_t)7;
	ASSERT_GT(alen, head);
	EXPECT_EQ(0, memcmp(a + head, b + head, alen - head));
	free(a);
	free(b);
	back = restart_path(piped);
	EXPECT_LT(0, back);
	if (back > 0) {
		EXPECT_EQ(0, kill(back, 0));
		kill(back, SIGKILL);
		reap(back);
	}
	unlink(path);
	unlink(piped);
}

TEST(restart_stops_at_tail)
{
	char cg[128];
	int p[2], fd;
	size_t len;
	long id;
	char *buf, rest[8];
	pid_t target, writer;

	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	target = spawn_sleeper("ckpt-pipe");
	ASSERT_EQ(0, freeze_v2(target, cg, sizeof(cg)));
	ASSERT_LT(0, image_of(target, &fd, &id));
	buf = slurp(fd, &len);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(0, len % 8);
	close(fd);
	thaw_v2(cg);
	reap(target);
	remove_v2(cg);

	/* Restart reads a stream with no seek, and stops at the tail. */
	ASSERT_EQ(0, pipe(p));
	writer = fork();
	if (writer == 0) {
		close(p[0]);
		_exit(write(p[1], buf, len) == (ssize_t)len &&
		      write(p[1], "after", 5) == 5 ? 0 : 1);
	}
	close(p[1]);
	EXPECT_EQ(0, restart_fd(p[0], NULL));
	EXPECT_EQ(5, read(p[0], rest, sizeof(rest)));
	EXPECT_EQ(0, memcmp(rest, "after", 5));
	waitpid(writer, NULL, 0);
	close(p[0]);

	/* A file is read ahead, but its position too ends at the tail. */
	fd = memfd();
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)len, write(fd, buf, len));
	ASSERT_EQ(5, write(fd, "after", 5));
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(0, restart_fd(fd, NULL));
	EXPECT_EQ((off_t)len, lseek(fd, 0, SEEK_CUR));
	memset(rest, 0, sizeof(rest));
	EXPECT_EQ(5, read(fd, rest, sizeof(rest)));
	EXPECT_EQ(0, memcmp(rest, "after", 5));
	close(fd);
	free(buf);
}

/* The pids of the tasks of ckpt_sleeper's tree mode, from its "ready" lines. */
static int tree_pids(const char *log, pid_t *pids, int n)
{
	char buf[4096], *p = buf;
	int idx, pid, ppid, found = 0;

	read_file(log, buf, sizeof(buf));
	while ((p = strstr(p, "ready "))) {
		if (sscanf(p, "ready %d %d %d", &idx, &pid, &ppid) == 3 &&
		    idx >= 0 && idx < n) {
			pids[idx] = pid;
			found++;
		}
		p++;
	}
	return found;
}

/* Waits until none of the @n tasks @pids exists, reaping those it may. */
static int wait_gone(const pid_t *pids, int n, int secs)
{
	int i, t;

	for (t = 0; t < secs * 20; t++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		for (i = 0; i < n; i++)
			if (pids[i] > 0 && kill(pids[i], 0) == 0)
				break;
		if (i == n)
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}

/*
 * wait_gone(), then waits up to @secs seconds for the caller to have no
 * child left, reaping them: a tree's zombie, whose pid the log does not
 * give, holds it until it is reaped.
 */
static int wait_tree_gone(const pid_t *pids, int n, int secs)
{
	int t;

	if (wait_gone(pids, n, secs))
		return -1;
	for (t = 0; t < secs * 20; t++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return 0;
		usleep(50 * 1000);
	}
	return -1;
}

/* The offset of the last vma record of the first task of @img, or 0. */
static size_t root_last_vma(const char *img, size_t len)
{
	static size_t offs[1 << 14];
	size_t i, n = record_offsets(img, len, offs, 1 << 14), last = 0;
	uint32_t type;
	int tasks = 0;

	for (i = 0; i < n; i++) {
		memcpy(&type, img + offs[i], 4);
		if (type == 101 && ++tasks == 2)
			break;
		if (type == 202)
			last = offs[i];
	}
	return last;
}

/*
 * A tree of 10 processes, 4 levels deep, and a zombie, is checkpointed and
 * killed. Its restart is refused while one of its pids is in use, from an
 * image cut short, and from one whose root cannot map an area, leaving no
 * task behind each time; then it comes
 * back with its pids, parents, memory and a pipe between two of its tasks,
 * its zombie is reaped with its status, and a child that exits is reaped
 * by its parent.
 */
TEST(tree_survives_restart)
{
	char path[] = "/tmp/ckpt-tree-XXXXXX", log[] = "/tmp/ckpt-tree-log-XXXXXX";
	char rlog[] = "/tmp/ckpt-tree-rlog-XXXXXX";
	char ready[5], cg[128], buf[8192], out[65536];
	struct eclone_args ea = { .nr_pids = 1 };
	pid_t root, pids[10], holder;
	size_t len, vma;
	uint32_t word;
	int fd, lfd, i;
	char *img;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	lfd = mkstemp(rlog);
	ASSERT_LE(0, lfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* Orphans of the killed tree come here, to be reaped. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	root = spawn_target_at(sleeper_path(), "ckpt-tree", "tree", log, ready, sizeof(ready));
	ASSERT_LT(0, root);
	ASSERT_EQ(10, tree_pids(log, pids, 10));
	ASSERT_EQ(root, pids[0]);
	ASSERT_EQ(0, freeze_pids_v2(pids, 10, cg, sizeof(cg)));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	EXPECT_LT(0, sys_checkpoint(root, fd, CHECKPOINT_SUBTREE, -1)) TH_LOG("%s", strerror(errno));
	close(fd);
	ASSERT_EQ(0, kill_v2(cg));
	ASSERT_EQ(0, wait_tree_gone(pids, 10, 30));
	remove_v2(cg);
	ASSERT_EQ(0, run_ckptinfo(path, "", out, sizeof(out))) TH_LOG("%s", out);
	/* Its 10 processes and the root's zombie. */
	EXPECT_NE(NULL, strstr(out, "11 tasks")) TH_LOG("%s", out);

	/* Its pid 7 taken (by eclone): EBUSY, and none of it is left. */
	holder = sys_eclone(SIGCHLD, &ea, sizeof(ea), &pids[7]);
	if (holder == 0) {
		pause();
		_exit(0);
	}
	ASSERT_EQ(pids[7], holder) TH_LOG("eclone: %s", strerror(errno));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, sys_restart(0, fd, RESTART_TREE, lfd));
	EXPECT_EQ(EBUSY, errno);
	close(fd);
	read_file(rlog, buf, sizeof(buf));
	snprintf(out, sizeof(out), "pid %d: in use", pids[7]);
	EXPECT_NE(NULL, strstr(buf, out)) TH_LOG("%s", buf);
	kill(holder, SIGKILL);
	EXPECT_EQ(0, wait_tree_gone(pids, 10, 30));

	/* Cut short: the tasks restored before the cut are killed too. */
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	img = slurp(fd, &len);
	close(fd);
	ASSERT_NE(NULL, img);
	fd = memfd();
	ASSERT_EQ((ssize_t)(len * 3 / 4), write(fd, img, len * 3 / 4));
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(-1, sys_restart(0, fd, RESTART_TREE, lfd));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	EXPECT_EQ(0, wait_tree_gone(pids, 10, 30));

	/*
	 * The root's last area (its stack) ends past user space, even with
	 * 5-level paging: well formed, but it cannot be mapped (ENOMEM) once
	 * the root's memory is released. The tree goes all the same, and the
	 * log names the area.
	 */
	vma = root_last_vma(img, len);
	ASSERT_NE(0, vma);
	word = 0x01000000; /* the high half of its end */
	ASSERT_EQ(0, ftruncate(lfd, 0));
	lseek(lfd, 0, SEEK_SET);
	fd = memfd();
	ASSERT_EQ((ssize_t)len, write(fd, img, len));
	ASSERT_EQ(4, pwrite(fd, &word, 4, vma + 8 + 8 + 4));
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(-1, sys_restart(0, fd, RESTART_TREE, lfd));
	EXPECT_EQ(ENOMEM, errno);
	close(fd);
	read_file(rlog, buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, "cannot map (errno 12)")) TH_LOG("%s", buf);
	free(img);
	EXPECT_EQ(0, wait_tree_gone(pids, 10, 30));

	/* Now it comes back, as it was. */
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(root, sys_restart(0, fd, RESTART_TREE, lfd)) {
		read_file(rlog, buf, sizeof(buf));
		TH_LOG("%s: %s", strerror(errno), buf);
	}
	close(fd);
	/* The root is this process's child (the others check their parents). */
	snprintf(out, sizeof(out), "/proc/%d/status", root);
	read_file(out, buf, sizeof(buf));
	snprintf(out, sizeof(out), "PPid:\t%d\n", getpid());
	EXPECT_NE(NULL, strstr(buf, out)) TH_LOG("%s", buf);
	for (i = 0; i < 10; i++)
		EXPECT_EQ(0, kill(pids[i], SIGUSR1));
	EXPECT_EQ(0, wait_log(log, 0, "ok ", 10, 60));
	EXPECT_EQ(0, wait_log(log, 0, "reaped 7", 1, 30));
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strstr(buf, "FAIL")) TH_LOG("%s", buf);
	for (i = 0; i < 10; i++)
		kill(pids[i], SIGKILL);
	EXPECT_EQ(0, wait_tree_gone(pids, 10, 30));
	close(lfd);
	unlink(rlog);
	unlink(path);
	unlink(log);
}

/* The thread ids of @pid, in the order of /proc (increasing); how many. */
static int task_tids(pid_t pid, pid_t *tids, int max)
{
	char path[64];
	struct dirent *d;
	int n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)) && n < max)
		if (d->d_name[0] != '.')
			tids[n++] = atoi(d->d_name);
	closedir(dir);
	return n;
}

/*
 * A process of 9 threads, blocked in condition waits (one timed), a mutex,
 * a join, an hour's sleep and raw futex waits with values in registers, is
 * checkpointed and killed. It comes back with the same thread ids, and
 * each thread resumes its call and finds its registers and TLS.
 */
TEST(threads_survive_restart)
{
	char path[] = "/tmp/ckpt-thr-XXXXXX", log[] = "/tmp/ckpt-thr-log-XXXXXX";
	char rlog[] = "/tmp/ckpt-thr-rlog-XXXXXX";
	char ready[5], buf[8192], out[65536];
	pid_t root, tids[16], after[16];
	int fd, lfd, n, status;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	lfd = mkstemp(rlog);
	ASSERT_LE(0, lfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	root = spawn_target_at(sleeper_path(), "ckpt-threads", "threads", log, ready,
			       sizeof(ready));
	ASSERT_LT(0, root);
	n = task_tids(root, tids, 16);
	ASSERT_EQ(9, n);
	ASSERT_LT(0, checkpoint_and_kill(root, path)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "9 tasks")) TH_LOG("%s", out);

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(root, sys_restart(0, fd, RESTART_TREE, lfd)) {
		read_file(rlog, buf, sizeof(buf));
		TH_LOG("%s: %s", strerror(errno), buf);
	}
	close(fd);
	EXPECT_EQ(n, task_tids(root, after, 16));
	EXPECT_EQ(0, memcmp(tids, after, n * sizeof(pid_t)));
	EXPECT_EQ(0, kill(root, SIGUSR1));
	n = wait_log(log, 0, "threads ", 1, 20);
	EXPECT_EQ(0, n);
	if (n)
		kill(root, SIGKILL);
	read_file(log, buf, sizeof(buf));
	EXPECT_NE(NULL, strstr(buf, "threads ok 9")) TH_LOG("%s", buf);
	/* Every join returned: the main thread exits 0. */
	EXPECT_EQ(root, waitpid(root, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) TH_LOG("status %#x", status);
	close(lfd);
	unlink(rlog);
	unlink(path);
	unlink(log);
}

/*
 * Forks a parent that joins the v2 cgroup @cg and a new pid namespace,
 * whose child, the namespace's init, runs @argv with @in as its stdin and
 * stderr (if not -1) and @out (a pipe) as its stdout. The parent keeps @in,
 * reaps the init and exits; the cgroup is killed to end all of it.
 * Returns the init's pid.
 */
/*
 * Unmaps the shared mappings the caller inherited (the harness's page of
 * results), which a checkpoint would refuse as shared outside the image.
 */
static void unmap_shared(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	unsigned long a, b;
	char line[512], perm[5];

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %4s", &a, &b, perm) == 3 && perm[3] == 's')
			munmap((void *)a, b - a);
	if (f)
		fclose(f);
}

/*
 * The init of a container that shares its maker's memory (CLONE_VM): no
 * exec, which would leave it. It says "ready" on out[1], then holds no
 * descriptor, so that only its memory is shared with the outside.
 */
static int vm_init(void *arg)
{
	int *out = arg;

	if (write(out[1], "ready", 5) != 5 || syscall(SYS_close_range, 0, ~0U, 0))
		_exit(1);
	for (;;)
		pause();
	return 0;
}

static pid_t spawn_container_with(const char *cg, char *const argv[], int in, int out[2],
				  unsigned long share)
{
	pid_t init = -1;
	int q[2];

	if (pipe(q))
		return -1;
	if (fork() == 0) {
		close(out[0]);
		close(q[0]);
		if (write_str(cg, "cgroup.procs", "0") || unshare(CLONE_NEWPID))
			_exit(1);
		if (in >= 0 && (dup2(in, 0) < 0 || dup2(in, 2) < 0))
			_exit(1);
		if (share & CLONE_VM) {
			unmap_shared();
			init = clone(vm_init, vm_stack + sizeof(vm_stack), share | SIGCHLD, out);
		} else
			init = syscall(SYS_clone, share | SIGCHLD, NULL, NULL, NULL, NULL);
		if (init == 0) {
			/* Nothing else the runner left open. */
			if (dup2(out[1], 1) < 0 || syscall(SYS_close_range, 3, ~0U, 0))
				_exit(126);
			execv(argv[0], argv);
			_exit(127);
		}
		/* Only the container holds its stdout. */
		close(out[1]);
		if (write(q[1], &init, sizeof(init)) != sizeof(init))
			_exit(1);
		close(q[1]);
		waitpid(init, NULL, 0);
		_exit(0);
	}
	close(out[1]);
	close(q[1]);
	if (read(q[0], &init, sizeof(init)) != sizeof(init))
		init = -1;
	close(q[0]);
	return init;
}

/* A container whose init shares nothing with the task that made it. */
static pid_t spawn_container(const char *cg, char *const argv[], int in, int out[2])
{
	return spawn_container_with(cg, argv, in, out, 0);
}

/* Freezes the v2 cgroup @cg and checkpoints @pid with @flags into @path. */
static long checkpoint_frozen(const char *cg, pid_t pid, unsigned long flags,
			      const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long id;

	if (fd < 0 || write_str(cg, "cgroup.freeze", "1") ||
	    wait_for(cg, "cgroup.events", "frozen 1"))
		return -1;
	id = sys_checkpoint(pid, fd, flags, -1);
	close(fd);
	return id;
}

/*
 * Makes the v2 cgroup @cg (named after @name) and runs @argv there as the
 * init of a container (spawn_container()), until it writes "ready" on its
 * stdout; returns the init's pid, or -1.
 */
static pid_t start_container(char *cg, size_t len, const char *name, char *const argv[])
{
	char ready[5];
	int out[2];
	pid_t init;

	snprintf(cg, len, CG2_ROOT "/%s-%d", name, getpid());
	if (mkdir(cg, 0755) || pipe(out))
		return -1;
	init = spawn_container(cg, argv, -1, out);
	if (read(out[0], ready, sizeof(ready)) != sizeof(ready))
		init = -1;
	close(out[0]);
	return init;
}

/*
 * Checkpoints the container of @init in @cg into @path (as a container),
 * then kills all of it; returns the checkpoint id, or -1.
 */
static long checkpoint_container_and_kill(const char *cg, pid_t init, const char *path)
{
	long id = checkpoint_frozen(cg, init, 0, path);

	if (kill_v2(cg) || reap_killed(cg) || thaw_v2(cg))
		return -1;
	return id;
}

/*
 * The tree of tree_survives_restart as a container: its root is the init
 * of a pid namespace, checkpointed without CHECKPOINT_SUBTREE. It comes
 * back as the init of a new pid namespace, every task with its pid there,
 * and checks itself; the root passes SIGUSR1 on to all of them.
 */
TEST(container_survives_restart)
{
	char path[] = "/tmp/ckpt-cont-XXXXXX", log[] = "/tmp/ckpt-cont-log-XXXXXX";
	char *argv[] = { (char *)sleeper_path(), "ckpt-cont", "tree", log, NULL };
	char cg[128], buf[8192], want[64];
	pid_t init, root;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	init = start_container(cg, sizeof(cg), "ckpt-cont", argv);
	ASSERT_LT(0, init);
	EXPECT_LT(0, checkpoint_container_and_kill(cg, init, path)) TH_LOG("%s", strerror(errno));

	root = restart_tree_in(path, cg);
	EXPECT_LT(0, root) TH_LOG("restart: %s", strerror(-root));
	if (root > 0) {
		/* The init of a new pid namespace, pid 1 in it. */
		snprintf(buf, sizeof(buf), "/proc/%d/status", root);
		read_file(buf, buf, sizeof(buf));
		snprintf(want, sizeof(want), "NSpid:\t%d\t1\n", root);
		EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
		EXPECT_EQ(0, kill(root, SIGUSR1));
		EXPECT_EQ(0, wait_log(log, 0, "ok ", 10, 60));
		EXPECT_EQ(0, wait_log(log, 0, "reaped 7", 1, 30));
	}
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strstr(buf, "FAIL")) TH_LOG("%s", buf);
	EXPECT_EQ(0, empty_cgroup(cg));
	remove_v2(cg);
	unlink(path);
	unlink(log);
}

/*
 * Restarts the tree of the image in @buf, with word @off set to @v, in the
 * v2 cgroup @cg; returns the root's pid or minus the errno.
 */
static pid_t restart_tree_with_word(char *buf, size_t len, const char *cg, size_t off,
				    uint32_t v)
{
	char path[] = "/tmp/ckpt-word-XXXXXX";
	int fd = mkstemp(path);
	pid_t root = -EIO;

	if (fd < 0)
		return -errno;
	if (pwrite(fd, buf, len, 0) == (ssize_t)len && pwrite(fd, &v, 4, off) == 4)
		root = restart_tree_in(path, cg);
	close(fd);
	unlink(path);
	return root;
}

/* Orders pairs of pids by their first. */
static int pair_cmp(const void *a, const void *b)
{
	return ((const int *)a)[0] - ((const int *)b)[0];
}

/*
 * The process groups of the processes of a container in the v2 cgroup
 * @cg, as the container sees them: pairs of pids in its namespace (the
 * second level of /proc's), a process and its group's leader (0 if outside
 * the container), sorted; returns how many, at most @max.
 */
static int group_map(const char *cg, int (*pairs)[2], int max)
{
	int pids[64], cpids[64], pgrps[64], n = 0, i, j;
	char path[256], buf[4096], *l, *s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/cgroup.procs", cg);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (n < 64 && n < max && fscanf(f, "%d", &pids[n]) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/status", pids[n]);
		read_file(path, buf, sizeof(buf));
		l = strstr(buf, "NSpid:");
		if (!l || sscanf(l, "NSpid: %*d %d", &cpids[n]) != 1)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/stat", pids[n]);
		read_file(path, buf, sizeof(buf));
		s = strrchr(buf, ')');
		if (s && sscanf(s, ") %*c %*d %d", &pgrps[n]) == 1)
			n++;
	}
	fclose(f);
	for (i = 0; i < n; i++) {
		pairs[i][0] = cpids[i];
		pairs[i][1] = 0;
		for (j = 0; j < n; j++)
			if (pids[j] == pgrps[i])
				pairs[i][1] = cpids[j];
	}
	qsort(pairs, n, sizeof(pairs[0]), pair_cmp);
	return n;
}

/*
 * A container with pid namespaces nested in its own (ckpt_sleeper's nested
 * mode): one unshared, one made by clone(CLONE_NEWPID). It comes back with
 * its tasks' pids equal at every level from the container down, each
 * checking its own; the process that unshared still makes its children in
 * its namespace below.
 */
TEST(nested_pid_namespaces_survive_restart)
{
	char path[] = "/tmp/ckpt-nest-XXXXXX", log[] = "/tmp/ckpt-nest-log-XXXXXX";
	char *argv[] = { (char *)sleeper_path(), "ckpt-nest", "nested", log, NULL };
	char cg[128], buf[8192], *img, *rec;
	int gbefore[64][2] = { 0 }, gafter[64][2] = { 0 }, before, after, i;
	size_t len, at;
	uint32_t npids;
	pid_t init, root;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	init = start_container(cg, sizeof(cg), "ckpt-nest", argv);
	ASSERT_LT(0, init);
	before = group_map(cg, gbefore, 64);
	/* R, S, A, B, C, D, E, F: S leads A, B, C, D's group. */
	EXPECT_EQ(8, before);
	EXPECT_LT(0, checkpoint_container_and_kill(cg, init, path)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "", buf, sizeof(buf))) TH_LOG("%s", buf);
	EXPECT_NE(NULL, strstr(buf, "pidns")) TH_LOG("%s", buf);

	/*
	 * Hostile pidns records, refused before any task is made: A (task 2
	 * of the tree: R, S, A, E, B, D, F, C, B's zombie) did not unshare its
	 * namespace; D, pid 2 below, is the init of one; one pid too many.
	 */
	img = slurp_path(path, &len);
	ASSERT_NE(NULL, img);
	at = first_record(img, len, 108);
	ASSERT_NE(0, at);
	rec = img + at + 8;
	EXPECT_EQ(-EINVAL, restart_tree_with_word(img, len, cg, rec + 8 + 8 * 2 + 4 - img, 0));
	EXPECT_EQ(-EINVAL, restart_tree_with_word(img, len, cg, rec + 8 + 8 * 5 + 4 - img, 1));
	memcpy(&npids, rec + 4, 4);
	EXPECT_EQ(-EINVAL, restart_tree_with_word(img, len, cg, rec + 4 - img, npids + 1));
	free(img);

	root = restart_tree_in(path, cg);
	EXPECT_LT(0, root) TH_LOG("restart: %s", strerror(-root));
	if (root > 0) {
		/* Each process in its group, as the container sees them. */
		after = group_map(cg, gafter, 64);
		EXPECT_EQ(before, after);
		EXPECT_EQ(0, memcmp(gbefore, gafter, sizeof(gbefore)))
			for (i = 0; i < after; i++)
				TH_LOG("pid %d: group %d, was %d", gafter[i][0], gafter[i][1],
				       gbefore[i][1]);
		EXPECT_EQ(0, kill(root, SIGUSR1));
		EXPECT_EQ(0, wait_log(log, 0, "nested ok ", 8, 60));
	}
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strstr(buf, "FAIL")) TH_LOG("%s", buf);
	EXPECT_EQ(0, empty_cgroup(cg));
	remove_v2(cg);
	unlink(path);
	unlink(log);
}

/* The memory.current of the v2 cgroup @cg, or -1. */
static long memory_current(const char *cg)
{
	char path[256], buf[64];

	snprintf(path, sizeof(path), "%s/memory.current", cg);
	if (!read_file(path, buf, sizeof(buf)))
		return -1;
	return atol(buf);
}

/*
 * 50 workers forked from a parent with 8 MiB (ckpt_sleeper's cow mode), as
 * a container: the image holds the memory they share with the parent
 * once, and the restarted tree shares it again, within 1.1 times the
 * memory.current it had; each worker still sees its own page, none of the
 * parent's later writes, and the parent its own.
 */
TEST(cow_workers_share_memory_after_restart)
{
	char path[] = "/tmp/ckpt-cow-XXXXXX", log[] = "/tmp/ckpt-cow-log-XXXXXX";
	char *argv[] = { (char *)sleeper_path(), "ckpt-cow", "cow", log, NULL };
	char cg[128], buf[8192], ctl[256] = "", *img;
	size_t len, mm, cow;
	long before, after;
	struct stat st;
	pid_t init, root;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	read_file(CG2_ROOT "/cgroup.controllers", ctl, sizeof(ctl));
	if (!strstr(ctl, "memory"))
		SKIP(return, "no memory controller (CONFIG_MEMCG)");
	ASSERT_EQ(0, write_str(CG2_ROOT, "cgroup.subtree_control", "+memory"));
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	init = start_container(cg, sizeof(cg), "ckpt-cow", argv);
	ASSERT_LT(0, init);
	before = memory_current(cg);
	EXPECT_LT(0, checkpoint_container_and_kill(cg, init, path)) TH_LOG("%s", strerror(errno));
	/* The 8 MiB once, not once per worker. */
	ASSERT_EQ(0, stat(path, &st));
	EXPECT_GT(16L << 20, st.st_size) TH_LOG("image of %ld bytes", (long)st.st_size);

	/*
	 * Hostile: the root's mm (it has no parent to share with) says it
	 * inherits; a worker's first cow run grows past its area. Both
	 * refused with EINVAL, the half-built tree gone.
	 */
	img = slurp_path(path, &len);
	ASSERT_NE(NULL, img);
	mm = first_record(img, len, 201);
	cow = first_record(img, len, 204);
	ASSERT_NE(0, mm);
	ASSERT_NE(0, cow);
	EXPECT_EQ(-EINVAL, restart_tree_with_word(img, len, cg, mm + 8 + 108, 1));
	EXPECT_EQ(-EINVAL, restart_tree_with_word(img, len, cg, cow + 8 + 16, 1 << 30));
	free(img);
	ASSERT_EQ(0, empty_cgroup(cg));

	root = restart_tree_in(path, cg);
	EXPECT_LT(0, root) TH_LOG("restart: %s", strerror(-root));
	after = memory_current(cg);
	EXPECT_GE(before * 11, after * 10) TH_LOG("memory.current %ld before, %ld after",
						  before, after);
	if (root > 0) {
		EXPECT_EQ(0, kill(root, SIGUSR1));
		EXPECT_EQ(0, wait_log(log, 0, "cow ok ", 50, 60));
		EXPECT_EQ(0, wait_log(log, 0, "cow parent ok, reaped 50", 1, 60));
	}
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(NULL, strstr(buf, "FAIL")) TH_LOG("%s", buf);
	EXPECT_EQ(0, empty_cgroup(cg));
	remove_v2(cg);
	unlink(path);
	unlink(log);
}

/*
 * A container whose shell and its job share their stdin and stderr with a
 * task outside, a file of /tmp, linked or not (an object of the image
 * holds an unlinked file too, which the check must not take for the
 * task's): a leak, EBUSY with an error record naming the file; as a
 * subtree, it is saved.
 */
static void check_container_leak(struct __test_metadata *_metadata, bool unlinked)
{
	char path[] = "/tmp/ckpt-leak-XXXXXX", held[] = "/tmp/ckpt-leak-held-XXXXXX";
	char *argv[] = { "/bin/sh", "-c", "sleep 1000 & echo ready; wait", NULL };
	static char out[1 << 20];
	char cg[128], ready[6];
	int pipefd[2], in;
	pid_t init;

	ASSERT_LE(0, mkstemp(path));
	in = mkstemp(held);
	ASSERT_LE(0, in);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	if (unlinked)
		ASSERT_EQ(0, unlink(held));
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-leak-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, pipe(pipefd));
	init = spawn_container(cg, argv, in, pipefd);
	EXPECT_LT(0, init);
	EXPECT_EQ(6, read(pipefd[0], ready, 6));
	/* No end of its stdout pipe stays outside. */
	close(pipefd[0]);
	EXPECT_EQ(-1, checkpoint_frozen(cg, init, 0, path));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "references from outside the container")) TH_LOG("%s", out);
	EXPECT_LT(0, checkpoint_frozen(cg, init, CHECKPOINT_SUBTREE, path))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, empty_cgroup(cg));
	remove_v2(cg);
	close(in);
	if (!unlinked)
		unlink(held);
	unlink(path);
}

TEST(container_leak_ebusy)
{
	check_container_leak(_metadata, false);
}

TEST(container_leak_of_unlinked_file_ebusy)
{
	check_container_leak(_metadata, true);
}

/*
 * A container whose init shares what @share names with the task that made
 * it, outside: a leak, EBUSY with an error record naming the object
 * (@kind); as a subtree, it is saved. With CLONE_VM the init runs vm_init()
 * instead of the sleeper.
 */
static void check_container_shares(struct __test_metadata *_metadata, unsigned long share,
				   const char *kind)
{
	char path[] = "/tmp/ckpt-shleak-XXXXXX";
	char *argv[] = { (char *)sleeper_path(), "ckpt-shleak", NULL };
	static char out[1 << 20];
	char cg[128], ready[5];
	int pipefd[2];
	pid_t init;

	ASSERT_LE(0, mkstemp(path));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-shleak-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, pipe(pipefd));
	init = spawn_container_with(cg, argv, -1, pipefd, share);
	EXPECT_LT(0, init);
	EXPECT_EQ(5, read(pipefd[0], ready, 5));
	close(pipefd[0]);
	EXPECT_EQ(-1, checkpoint_frozen(cg, init, 0, path));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, kind)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "1 references from outside the container")) TH_LOG("%s", out);
	EXPECT_LT(0, checkpoint_frozen(cg, init, CHECKPOINT_SUBTREE, path))
		TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, empty_cgroup(cg));
	remove_v2(cg);
	unlink(path);
}

/* An init that shares its fs (CLONE_FS) with the task that made it. */
TEST(container_fs_leak_ebusy)
{
	check_container_shares(_metadata, CLONE_FS, "Fs objref");
}

/* An init made with CLONE_VM, sharing its maker's memory. */
TEST(container_mm_leak_ebusy)
{
	check_container_shares(_metadata, CLONE_VM, "Mm objref");
}

/*
 * The tree of tree_survives_restart, run from a copy of its program that
 * is gone at restart: the root cannot map it, and the restart fails with
 * ENOENT and a log line naming it, leaving none of the tree.
 */
TEST(tree_restart_fails_whole)
{
	char path[] = "/tmp/ckpt-treefail-XXXXXX", log[] = "/tmp/ckpt-treefail-log-XXXXXX";
	char rlog[] = "/tmp/ckpt-treefail-rlog-XXXXXX", bin[] = "/tmp/ckpt-treefail-bin-XXXXXX";
	char ready[5], cg[128], buf[8192], want[64];
	pid_t root, pids[10];
	int fd, lfd;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	lfd = mkstemp(rlog);
	ASSERT_LE(0, lfd);
	fd = mkstemp(bin);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(0, copy_file(sleeper_path(), bin, 0755));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	root = spawn_target_at(bin, "ckpt-tree", "tree", log, ready, sizeof(ready));
	ASSERT_LT(0, root);
	ASSERT_EQ(10, tree_pids(log, pids, 10));
	ASSERT_EQ(0, freeze_pids_v2(pids, 10, cg, sizeof(cg)));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ASSERT_LE(0, fd);
	EXPECT_LT(0, sys_checkpoint(root, fd, CHECKPOINT_SUBTREE, -1)) TH_LOG("%s", strerror(errno));
	close(fd);
	ASSERT_EQ(0, kill_v2(cg));
	ASSERT_EQ(0, wait_tree_gone(pids, 10, 30));
	remove_v2(cg);

	ASSERT_EQ(0, unlink(bin));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, sys_restart(0, fd, RESTART_TREE, lfd));
	EXPECT_EQ(ENOENT, errno);
	close(fd);
	read_file(rlog, buf, sizeof(buf));
	snprintf(want, sizeof(want), "pid %d: restart failed", root);
	EXPECT_NE(NULL, strstr(buf, want)) TH_LOG("%s", buf);
	EXPECT_EQ(0, wait_tree_gone(pids, 10, 30));
	close(lfd);
	unlink(rlog);
	unlink(path);
	unlink(log);
}

TEST(kernel_thread_error_record)
{
	char path[] = "/tmp/ckpt-kthread-XXXXXX";
	char out[8192];
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	/* pid 2 is kthreadd. */
	EXPECT_EQ(-1, sys_checkpoint(2, fd, CHECKPOINT_SUBTREE, -1));
	EXPECT_EQ(EINVAL, errno);
	/* The image ends with an error record that says why. */
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "kernel threads cannot be checkpointed")) TH_LOG("%s", out);
	/* Restart refuses an image that holds an error record. */
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(EINVAL, restart_fd(fd, NULL));
	close(fd);
	unlink(path);
}

static void take_ofd_lock(void *arg)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_len = 10 };
	int fd = open(arg, O_RDWR);

	if (fd < 0 || fcntl(fd, F_OFD_SETLK, &fl))
		_exit(1);
}

static void take_lease(void *arg)
{
	int fd = open(arg, O_RDONLY);

	if (fd < 0 || fcntl(fd, F_SETLEASE, F_RDLCK))
		_exit(1);
}

static void set_owner(void *arg)
{
	int fd = open(arg, O_RDWR);

	if (fd < 0 || fcntl(fd, F_SETOWN, getpid()))
		_exit(1);
}

static void watch_dir(void *arg)
{
	int fd = open("/tmp", O_RDONLY | O_DIRECTORY);

	(void)arg;
	if (fd < 0 || fcntl(fd, F_NOTIFY, DN_CREATE | DN_MULTISHOT))
		_exit(1);
}

/*
 * What a lock or owner restart cannot take again is refused, naming the
 * descriptor: an open file description lock, a lease, an F_SETOWN owner,
 * a dnotify watch.
 */
TEST(file_lock_kinds_refused)
{
	char lock[] = "/tmp/ckpt-lock-XXXXXX";
	int fd = mkstemp(lock);

	ASSERT_LE(0, fd);
	close(fd);
	check_refused(_metadata, take_ofd_lock, lock,
		      "fd 4: open file description locks are not supported");
	check_refused(_metadata, take_lease, lock, "fd 4: leases are not supported");
	check_refused(_metadata, set_owner, lock,
		      "fd 4: F_SETOWN owners and dnotify are not supported");
	check_refused(_metadata, watch_dir, NULL,
		      "fd 4: F_SETOWN owners and dnotify are not supported");
	unlink(lock);
}

TEST(image_as_log_einval)
{
	int fd = open("/tmp", O_TMPFILE | O_RDWR, 0600);
	pid_t child = spawn_sleeper("ckpt-samelog");

	ASSERT_LE(0, fd);
	ASSERT_LT(0, child);
	/* Log lines would be written into the image. */
	EXPECT_EQ(-1, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, fd));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, lseek(fd, 0, SEEK_END));
	EXPECT_EQ(-1, sys_restart(0, fd, 0, fd));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	reap(child);
}

/* Copies file @from to the new file @to with mode @mode. */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	int in = open(from, O_RDONLY), out = open(to, O_WRONLY | O_CREAT | O_TRUNC, mode);
	char buf[65536];
	ssize_t n;

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	return n < 0 ? -1 : chmod(to, mode);
}

TEST(exe_not_executable_not_restored)
{
	char exe[] = "/tmp/ckpt-exe-XXXXXX", path[] = "/tmp/ckpt-exe-img-XXXXXX";
	char proc[64], link[4096] = "", ready[5];
	pid_t child;
	int fd;

	ASSERT_LE(0, (fd = mkstemp(exe)));
	close(fd);
	ASSERT_LE(0, mkstemp(path));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, copy_file(sleeper_path(), exe, 0755));
	child = spawn_target_at(exe, "ckpt-exe", "", NULL, ready, sizeof(ready));
	ASSERT_LT(0, child);
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	/* The executable may no longer be executed... */
	ASSERT_EQ(0, chmod(exe, 0644));
	child = restart_path(path);
	ASSERT_LT(0, child);
	/* ...so it does not become /proc/PID/exe, and stays writable. */
	snprintf(proc, sizeof(proc), "/proc/%d/exe", child);
	EXPECT_LT(0, readlink(proc, link, sizeof(link) - 1));
	EXPECT_EQ(NULL, strstr(link, exe)) TH_LOG("exe %s", link);
	fd = open(exe, O_WRONLY);
	EXPECT_LE(0, fd) TH_LOG("%s", strerror(errno));
	close(fd);
	reap(child);
	unlink(exe);
	unlink(path);
}

/* Returns the number of bytes in pipe @fd. */
static int pipe_fill(int fd)
{
	int n = 0;

	return ioctl(fd, FIONREAD, &n) ? -1 : n;
}

TEST(target_killed_during_checkpoint)
{
	char path[] = "/tmp/ckpt-killed-XXXXXX", out[8192], cg[128];
	char buf[65536];
	int p[2], status, fd = mkstemp(path);
	pid_t target, ckpt;
	ssize_t n;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	target = spawn_sleeper("ckpt-killed");
	ASSERT_LT(0, target);
	ASSERT_EQ(0, freeze_v2(target, cg, sizeof(cg)));
	/* A checkpoint blocked on a full pipe... */
	ASSERT_EQ(0, pipe(p));
	ckpt = fork();
	if (ckpt == 0) {
		close(p[0]);
		_exit(sys_checkpoint(target, p[1], CHECKPOINT_SUBTREE, -1) < 0 ? errno : 0);
	}
	close(p[1]);
	/* The image is larger than the pipe: wait until it stops filling. */
	for (n = 0; n < 500; n++) {
		int fill = pipe_fill(p[0]);

		usleep(100000);
		if (fill > 0 && fill == pipe_fill(p[0]))
			break;
	}
	ASSERT_LT(0, pipe_fill(p[0]));
	/* ...while its target is killed, thawed and reaped. */
	EXPECT_EQ(0, kill(target, SIGKILL));
	EXPECT_EQ(0, thaw_v2(cg));
	EXPECT_EQ(target, waitpid(target, NULL, 0));
	/* It ends with a clean error, said in the image. */
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		ASSERT_EQ(n, write(fd, buf, n));
	ASSERT_EQ(ckpt, waitpid(ckpt, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_TRUE(WEXITSTATUS(status) == ESRCH || WEXITSTATUS(status) == EBUSY)
		TH_LOG("checkpoint: %s", strerror(WEXITSTATUS(status)));
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_TRUE(strstr(out, "exited during the checkpoint") ||
		    strstr(out, "thawed during the checkpoint")) TH_LOG("%s", out);
	close(p[0]);
	close(fd);
	unlink(path);
	remove_v2(cg);
}

TEST(cpu_limit_survives_restart)
{
	char path[] = "/tmp/ckpt-xcpu-XXXXXX", log[] = "/tmp/ckpt-xcpu-log-XXXXXX";
	char *const argv[] = {
		"/bin/sh", "-c",
		"ulimit -S -t 8; trap 'echo XCPU; exit 0' XCPU; i=0; "
		"while :; do i=$((i+1)); [ $((i % 2000)) = 0 ] && echo $i; done",
		NULL
	};
	static char buf[1 << 16];
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = fork();
	if (child == 0) {
		only_null_stdio(open(log, O_WRONLY | O_TRUNC));
		execv(argv[0], argv);
		_exit(127);
	}
	ASSERT_EQ(0, wait_log(log, 0, "\n", 1, 60));
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	read_file(log, buf, sizeof(buf));
	ASSERT_EQ(NULL, strstr(buf, "XCPU")) TH_LOG("limit reached before the checkpoint");
	/* The restored shell's soft limit of 8 s of CPU time is armed again. */
	child = restart_path(path);
	ASSERT_LT(0, child);
	EXPECT_EQ(0, wait_log(log, 0, "XCPU", 1, 180));
	reap(child);
	unlink(path);
	unlink(log);
}

/* Returns true if /proc/@pid/maps mentions @what. */
static int maps_show(pid_t pid, const char *what)
{
	static char buf[1 << 16];
	char proc[64];

	snprintf(proc, sizeof(proc), "/proc/%d/maps", pid);
	read_file(proc, buf, sizeof(buf));
	return strstr(buf, what) != NULL;
}

/*
 * Feeds the image of a sleeper to a restart through a pipe, all but its
 * tail record; once the restart is past its point of no return (the image's
 * memory is mapped), sends it @sig (SIGSTOP and SIGCONT, then SIGWINCH and a
 * cgroup freeze, for 0), then the tail. Returns the restarting pid, with
 * its log in @logfd and the cgroup it was moved to in @cg.
 */
static pid_t restart_signalled(struct __test_metadata *_metadata, int sig, int logfd,
			       char *cg, size_t cglen)
{
	size_t offs[4096], nrec, len, i;
	int p[2], fd;
	long id;
	char *buf, c;
	pid_t target, r;

	target = spawn_sleeper("ckpt-phase2");
	if (target < 0 || freeze_v2(target, cg, cglen) || image_of(target, &fd, &id) <= 0)
		return -1;
	buf = slurp(fd, &len);
	close(fd);
	thaw_v2(cg);
	reap(target);
	remove_v2(cg);
	nrec = record_offsets(buf, len, offs, 4096);
	if (!buf || nrec < 2 || nrec == 4096)
		return -1;
	if (pipe(p))
		return -1;
	r = fork();
	if (r == 0) {
		close(p[1]);
		sys_restart(0, p[0], 0, logfd);
		_exit(100);
	}
	close(p[0]);
	/* Everything but the tail: restart then waits in phase two. */
	if (fork() == 0)
		_exit(write(p[1], buf, offs[nrec - 1]) == (ssize_t)offs[nrec - 1] ? 0 : 1);
	for (i = 0; i < 2000 && !maps_show(r, "ckpt_sleeper"); i++)
		usleep(10000);
	if (!maps_show(r, "ckpt_sleeper"))
		return -1;
	wait(NULL);
	if (sig) {
		kill(r, sig);
	} else {
		char val[32];

		kill(r, SIGSTOP);
		kill(r, SIGCONT);
		kill(r, SIGWINCH);
		/* The freeze takes effect once the restored task runs. */
		snprintf(cg, cglen, CG2_ROOT "/ckpt-test-%d", r);
		snprintf(val, sizeof(val), "%d", r);
		if ((mkdir(cg, 0755) && errno != EEXIST) ||
		    write_str(cg, "cgroup.procs", val) ||
		    write_str(cg, "cgroup.freeze", "1"))
			return -1;
	}
	/* A restart killed may have closed the pipe before the tail: EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	c = write(p[1], buf + offs[nrec - 1], len - offs[nrec - 1]) < 0 &&
	    !(sig == SIGKILL && errno == EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);
	free(buf);
	return c ? -1 : r;
}

TEST(phase_two_waits_for_signals)
{
	char cg[128], comm[64], proc[64];
	int status;
	pid_t r;

	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	r = restart_signalled(_metadata, 0, -1, cg, sizeof(cg));
	ASSERT_LT(0, r);
	/* The restored task freezes as it returns to user space... */
	EXPECT_EQ(0, wait_for(cg, "cgroup.events", "frozen 1"));
	EXPECT_EQ(0, waitpid(r, &status, WNOHANG));
	EXPECT_EQ(0, thaw_v2(cg));
	/* ...and runs on as the task of the image. */
	EXPECT_EQ(0, waitpid(r, &status, WNOHANG));
	snprintf(proc, sizeof(proc), "/proc/%d/comm", r);
	read_file(proc, comm, sizeof(comm));
	EXPECT_STREQ("ckpt-phase2\n", comm);
	reap(r);
	remove_v2(cg);
}

TEST(phase_two_ends_on_sigkill)
{
	char cg[128], log[4096];
	int status, logfd = memfd();
	pid_t r;

	ASSERT_LE(0, logfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	r = restart_signalled(_metadata, SIGKILL, logfd, cg, sizeof(cg));
	ASSERT_LT(0, r);
	ASSERT_EQ(r, waitpid(r, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	memset(log, 0, sizeof(log));
	EXPECT_LT(0, pread(logfd, log, sizeof(log) - 1, 0));
	/* It was past the point of no return (a fatal signal stops the log). */
	EXPECT_NE(NULL, strstr(log, "only SIGKILL ends the restart now")) TH_LOG("%s", log);
	close(logfd);
}

/*
 * A restart of a 128 MiB task from a file, killed once its areas are
 * mapped, while it (and its helper) read its pages at their offsets, or
 * later: it ends, killed, whichever it was doing. The run's kmemleak check
 * covers what it held.
 */
TEST(restart_killed_while_filling_pages)
{
	char cg[128], ready[5], log[8192];
	int fd = memfd(), logfd = memfd(), status;
	pid_t child, r;

	ASSERT_LE(0, fd);
	ASSERT_LE(0, logfd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target_at(sleeper_path(), "ckpt-fillkill", "fill", "128", ready,
				sizeof(ready));
	ASSERT_LT(0, child);
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg)));
	ASSERT_LT(0, sys_checkpoint(child, fd, CHECKPOINT_SUBTREE, -1)) TH_LOG("%s", strerror(errno));
	reap(child);
	thaw_v2(cg);
	remove_v2(cg);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	r = fork();
	if (r == 0) {
		sys_restart(0, fd, 0, logfd);
		_exit(1);
	}
	ASSERT_LT(0, r);
	/* Its areas are mapped: the pages come next. */
	do {
		memset(log, 0, sizeof(log));
		if (pread(logfd, log, sizeof(log) - 1, 0) > 0 && strstr(log, "memory areas"))
			break;
		usleep(1000);
	} while (!waitpid(r, &status, WNOHANG));
	EXPECT_NE(NULL, strstr(log, "memory areas")) TH_LOG("%s", log);
	EXPECT_EQ(0, kill(r, SIGKILL));
	ASSERT_EQ(r, waitpid(r, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) TH_LOG("%#x", status);
	memset(log, 0, sizeof(log));
	EXPECT_LT(0, pread(logfd, log, sizeof(log) - 1, 0));
	TH_LOG("killed %s", strstr(log, "restored (") ? "once restored" : "while restoring");
	close(fd);
	close(logfd);
}

/* Reads field @key of /proc/@pid/status into @val. */
static int status_field(pid_t pid, const char *key, char *val, size_t len)
{
	char path[64], buf[8192], *p, *e;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	read_file(path, buf, sizeof(buf));
	p = strstr(buf, key);
	if (!p)
		return -1;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	e = strchr(p, '\n');
	snprintf(val, len, "%.*s", e ? (int)(e - p) : (int)strlen(p), p);
	return 0;
}

/*
 * The image of ckpt_sleeper in @mode with argument @arg (NULL for none), in
 * a new memfd at offset 0.
 */
static int image_of_mode(const char *mode, const char *arg)
{
	char cg[128], ready[5], bin[] = "/tmp/ckpt-sleeper-XXXXXX";
	long id;
	int fd = mkstemp(bin);
	pid_t child;

	/* A copy that any user may open, as restart reopens it as the task's user. */
	if (fd < 0)
		return -1;
	close(fd);
	fd = -1;
	if (copy_file(sleeper_path(), bin, 0755))
		return -1;
	child = spawn_target_at(bin, "ckpt-cred", mode, arg, ready, sizeof(ready));
	if (child < 0)
		return -1;
	if (!freeze_v2(child, cg, sizeof(cg)) && image_of(child, &fd, &id) <= 0)
		fd = -1;
	thaw_v2(cg);
	reap(child);
	remove_v2(cg);
	return fd;
}

/* restart(2) of @fd by uid and gid 65534 without groups; returns its errno. */
static int restart_as_nobody(int fd)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(200);
		sys_restart(0, fd, 0, -1);
		_exit(errno);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Returns the effective uid of @pid, or -1. */
static long euid_of(pid_t pid)
{
	char val[256];

	if (status_field(pid, "Uid:", val, sizeof(val)))
		return -1;
	return strtol(strchr(val, '\t') ? strchr(val, '\t') + 1 : val, NULL, 10);
}

/*
 * A checkpoint blocked on a full pipe while its target execs a setuid-root
 * program: each task's access is checked again, under its exec lock, when
 * its state is read, so the checkpoint is refused rather than saving root's
 * task.
 */
TEST(exec_during_checkpoint_eperm)
{
	char suid[] = "/tmp/ckpt-suid-XXXXXX", img[] = "/tmp/ckpt-suid-img-XXXXXX";
	char cg[128], ready[5], junk[4096], val[32], path[160], events[256];
	int p[2], status, fd, i, n;
	pid_t target, ckpt;

	if (geteuid() != 0)
		SKIP(return, "needs root to make a setuid-root program");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_LE(0, (fd = mkstemp(suid)));
	close(fd);
	ASSERT_EQ(0, copy_file(sleeper_path(), suid, 0755));
	ASSERT_EQ(0, chmod(suid, 04755));
	ASSERT_LE(0, (fd = mkstemp(img)));
	/* A task of uid 65534, which will exec a setuid-root program... */
	target = spawn_target_at(sleeper_path(), "ckpt-suid", "exec-on-usr1", suid,
				 ready, sizeof(ready));
	ASSERT_LT(0, target);
	/* ...checkpointed by uid 65534 into a full pipe, where it blocks. */
	ASSERT_EQ(0, pipe(p));
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	memset(junk, 'j', sizeof(junk));
	while (write(p[1], junk, sizeof(junk)) > 0)
		;
	fcntl(p[1], F_SETFL, 0);
	ckpt = fork();
	if (ckpt == 0) {
		close(p[0]);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(200);
		_exit(sys_checkpoint(target, p[1], CHECKPOINT_SUBTREE, -1) < 0 ? errno : 0);
	}
	close(p[1]);
	usleep(200000);
	/* Meanwhile the target execs the setuid program and is frozen. */
	ASSERT_EQ(0, kill(target, SIGUSR1));
	for (i = 0; i < 30 && euid_of(target) != 0; i++)
		usleep(100000);
	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-test-%d", target);
	snprintf(val, sizeof(val), "%d", target);
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, write_str(cg, "cgroup.procs", val));
	ASSERT_EQ(0, write_str(cg, "cgroup.freeze", "1"));
	/* Frozen once its exec is done: give it 3 s at most. */
	snprintf(path, sizeof(path), "%s/cgroup.events", cg);
	for (i = 0; i < 30; i++) {
		read_file(path, events, sizeof(events));
		if (strstr(events, "frozen 1"))
			break;
		usleep(100000);
	}
	/* The checkpoint goes on: it must not save root's task. */
	while ((n = read(p[0], junk, sizeof(junk))) > 0)
		ASSERT_EQ(n, write(fd, junk, n));
	ASSERT_EQ(ckpt, waitpid(ckpt, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(EPERM, WEXITSTATUS(status)) TH_LOG("checkpoint: %s", strerror(WEXITSTATUS(status)));
	close(p[0]);
	close(fd);
	EXPECT_EQ(0, thaw_v2(cg));
	/* The exec completed (as root), unhindered. */
	for (i = 0; i < 50 && euid_of(target) != 0; i++)
		usleep(100000);
	if (euid_of(target) != 0) {
		reap(target);
		remove_v2(cg);
		SKIP(return, "setuid programs are not honoured in %s", suid);
	}
	reap(target);
	remove_v2(cg);
	unlink(suid);
	unlink(img);
}

TEST(restored_credentials_are_the_images)
{
	char val[256];
	pid_t r = -1;
	int fd;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	fd = image_of_mode("nobody", NULL);
	ASSERT_LE(0, fd);
	/* Root restores it: the task has the image's ids, groups and caps. */
	ASSERT_EQ(0, restart_fd(fd, &r));
	ASSERT_EQ(0, status_field(r, "Uid:", val, sizeof(val)));
	EXPECT_STREQ("65534\t65534\t65534\t65534", val);
	ASSERT_EQ(0, status_field(r, "Gid:", val, sizeof(val)));
	EXPECT_STREQ("65534\t65534\t65534\t65534", val);
	ASSERT_EQ(0, status_field(r, "Groups:", val, sizeof(val)));
	EXPECT_STREQ("7 8 ", val);
	ASSERT_EQ(0, status_field(r, "CapPrm:", val, sizeof(val)));
	EXPECT_STREQ("0000000000000000", val);
	ASSERT_EQ(0, status_field(r, "CapEff:", val, sizeof(val)));
	EXPECT_STREQ("0000000000000000", val);
	reap(r);
	close(fd);
}

/*
 * A user without CAP_CHECKPOINT_RESTORE may not choose pids: RESTART_TREE
 * is refused (EPERM), and the restart tool restores a one-task image with
 * a new pid instead.
 */
TEST(unprivileged_restart_new_pid)
{
	char out[32] = "", val[256];
	int fd, p[2], status;
	pid_t tool, r;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	fd = image_of_mode("nobody-plain", NULL);
	ASSERT_LE(0, fd);
	tool = fork();
	if (tool == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(200);
		_exit(sys_restart(0, fd, RESTART_TREE, -1) < 0 ? errno : 0);
	}
	ASSERT_EQ(tool, waitpid(tool, &status, 0));
	EXPECT_EQ(EPERM, WEXITSTATUS(status));
	lseek(fd, 0, SEEK_SET);
	ASSERT_EQ(0, pipe(p));
	tool = fork();
	if (tool == 0) {
		dup2(fd, 0);
		dup2(p[1], 1);
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(200);
		execlp("restart", "restart", "--detach", NULL);
		_exit(127);
	}
	close(p[1]);
	EXPECT_LT(0, read(p[0], out, sizeof(out) - 1));
	close(p[0]);
	ASSERT_EQ(tool, waitpid(tool, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status));
	r = atoi(out);
	ASSERT_LT(0, r);
	ASSERT_EQ(0, status_field(r, "Uid:", val, sizeof(val)));
	EXPECT_STREQ("65534\t65534\t65534\t65534", val);
	kill(r, SIGKILL);
	close(fd);
}

TEST(lower_oom_score_adj_needs_cap_sys_resource)
{
	char proc[64], val[64];
	pid_t r = -1;
	int fd;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	fd = image_of_mode("nobody-oom", NULL);
	ASSERT_LE(0, fd);
	/*
	 * uid 65534 may take the image's credentials, but not its
	 * oom_score_adj below its own minimum: EACCES, as writing
	 * /proc/self/oom_score_adj gives it, before it changes.
	 */
	EXPECT_EQ(EACCES, restart_as_nobody(fd));
	/* Root, with CAP_SYS_RESOURCE, restores it. */
	lseek(fd, 0, SEEK_SET);
	ASSERT_EQ(0, restart_fd(fd, &r));
	snprintf(proc, sizeof(proc), "/proc/%d/oom_score_adj", r);
	read_file(proc, val, sizeof(val));
	EXPECT_STREQ("-500\n", val);
	reap(r);
	close(fd);
}

TEST(restart_beyond_caller_groups_and_caps_eperm)
{
	char val[256];
	pid_t r = -1;
	int fd;

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* uid 65534 with groups 7, 8 and root's permitted capabilities. */
	fd = image_of_mode("nobody-keepcaps", NULL);
	ASSERT_LE(0, fd);
	/* Its own uid may not take the groups and capabilities... */
	EXPECT_EQ(EPERM, restart_as_nobody(fd));
	/* ...root may, and the task has them. */
	lseek(fd, 0, SEEK_SET);
	ASSERT_EQ(0, restart_fd(fd, &r));
	ASSERT_EQ(0, status_field(r, "CapPrm:", val, sizeof(val)));
	EXPECT_STRNE("0000000000000000", val);
	ASSERT_EQ(0, status_field(r, "Groups:", val, sizeof(val)));
	EXPECT_STREQ("7 8 ", val);
	reap(r);
	close(fd);
}

/* The robust futex list head of @pid (get_robust_list()). */
static unsigned long robust_list_of(pid_t pid)
{
	void *head = NULL;
	size_t len = 0;

	if (syscall(SYS_get_robust_list, pid, &head, &len))
		return 0;
	return (unsigned long)head;
}

TEST(task_settings_survive_restart)
{
	char path[] = "/tmp/ckpt-settings-XXXXXX", ready[5], val[256], proc[64];
	unsigned long robust;
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target("ckpt-settings", "settings", ready, sizeof(ready));
	ASSERT_LT(0, child);
	robust = robust_list_of(child);
	ASSERT_NE(0, robust);
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	child = restart_path(path);
	ASSERT_LT(0, child);
	snprintf(proc, sizeof(proc), "/proc/%d/oom_score_adj", child);
	read_file(proc, val, sizeof(val));
	EXPECT_STREQ("400\n", val);
	ASSERT_EQ(0, status_field(child, "NoNewPrivs:", val, sizeof(val)));
	EXPECT_STREQ("1", val);
	ASSERT_EQ(0, status_field(child, "VmLck:", val, sizeof(val)));
	EXPECT_EQ(4 * sysconf(_SC_PAGESIZE) / 1024, atol(val)) TH_LOG("VmLck: %s", val);
	EXPECT_EQ(robust, robust_list_of(child));
	reap(child);
	unlink(path);
}

TEST(pending_signals_and_timer_survive_restart)
{
	char path[] = "/tmp/ckpt-pending-XXXXXX", log[] = "/tmp/ckpt-pending-log-XXXXXX";
	char ready[5], buf[4096], out[8192];
	pid_t child;

	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target_at(sleeper_path(), "ckpt-pending", "pending", log,
				ready, sizeof(ready));
	ASSERT_LT(0, child);
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	read_file(log, buf, sizeof(buf));
	ASSERT_STREQ("", buf) TH_LOG("the timer fired before the checkpoint");
	/* The image holds both signals and the timer... */
	ASSERT_EQ(0, run_ckptinfo(path, "", out, sizeof(out))) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "pending [12 34s]")) TH_LOG("%s", out);
	/* ...which fires after restart; then both signals arrive, with the value. */
	child = restart_path(path);
	ASSERT_LT(0, child);
	EXPECT_EQ(0, wait_log(log, 0, "usr2\n", 1, 60));
	EXPECT_EQ(0, wait_log(log, 0, "rt 77\n", 1, 10));
	read_file(log, buf, sizeof(buf));
	EXPECT_EQ(0, strncmp(buf, "alarm\nwoke\n", 11)) TH_LOG("log: %s", buf);
	reap(child);
	unlink(path);
	unlink(log);
}

/*
 * POSIX timers with their ids, clocks, sigevents and settings, one with its
 * signal pending, and ITIMER_VIRTUAL and ITIMER_PROF: the restarted
 * program finds each timer by its id and as it was, gets the pending
 * signal once when it unblocks it, then the timer's next ones, and
 * SIGPROF after 200 ms of CPU time.
 */
TEST(timers_survive_restart)
{
	char log[] = "/tmp/ckpt-timers-log-XXXXXX";
	const char *const shows[] = {
		"virtual every 100000000000 ns", "prof every 0 ns",
		"posix 0 clock 1 notify 0 signal 35 value 0x1234 every 50000000 ns",
		"pending 0 overruns", "posix 3 clock 7", "posix 4 clock 2 notify 4",
		"ns (CLOCK_REALTIME)", NULL
	};

	ASSERT_LE(0, mkstemp(log));
	check_mode_survives(_metadata, "timers", log, shows);
	unlink(log);
}

/* A POSIX timer on the CPU clock of the calling thread. */
static void start_thread_timer(void *arg)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	timer_t t;

	if (timer_create(CLOCK_THREAD_CPUTIME_ID, &sev, &t))
		_exit(1);
}

/* A timer that restart could not give back as it was: refused, the task runs on. */
TEST(thread_timers_refused)
{
	check_refused(_metadata, start_thread_timer, NULL,
		      "POSIX timer 0 on clock -2, a thread's or another process's CPU clock; not supported");
}

/* Offset of the @n-th timer record of @kind in @buf, or 0. */
static size_t timer_record(const char *buf, const size_t *offs, size_t nrec,
			   uint32_t kind, int n)
{
	uint32_t type, k;
	size_t r;

	for (r = 0; r < nrec; r++) {
		memcpy(&type, buf + offs[r], 4);
		memcpy(&k, buf + offs[r] + 8, 4);
		if (type == 106 && k == kind && n-- == 0)
			return offs[r];
	}
	return 0;
}

/* Sets the 32-bit word at @off of @buf to @v, restarts @buf, and restores the word. */
static int restart_with_word(char *buf, size_t len, size_t off, uint32_t v)
{
	uint32_t saved;
	int err;

	memcpy(&saved, buf + off, 4);
	memcpy(buf + off, &v, 4);
	err = restart_buf(buf, len);
	memcpy(buf + off, &saved, 4);
	return err;
}

/*
 * Images of the timers mode whose timers break the rules, each refused
 * cleanly with EINVAL: two timers with one id, a thread's CPU clock, a
 * timer that signals a thread the image does not have, a time beyond
 * what ktime_t holds, and ITIMER_PROF given a signal.
 */
TEST(hostile_timers)
{
	char log[] = "/tmp/ckpt-htimer-log-XXXXXX";
	size_t offs[256], nrec, len, first, second, cpu, prof;
	uint64_t big = 1ULL << 62, saved;
	uint32_t id;
	char *buf;
	int fd;

	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	fd = image_of_mode("timers", log);
	ASSERT_LE(0, fd);
	buf = slurp(fd, &len);
	ASSERT_NE(NULL, buf);
	nrec = record_offsets(buf, len, offs, 256);
	ASSERT_EQ(0, restart_buf(buf, len));
	/* Header 8, then kind, id, clock, notify, signo, tid at 8 + 20. */
	first = timer_record(buf, offs, nrec, 3, 0);
	second = timer_record(buf, offs, nrec, 3, 1);
	cpu = timer_record(buf, offs, nrec, 3, 3);
	prof = timer_record(buf, offs, nrec, 2, 0);
	ASSERT_NE(0, first);
	ASSERT_NE(0, second);
	ASSERT_NE(0, cpu);
	ASSERT_NE(0, prof);
	memcpy(&id, buf + first + 12, 4);
	EXPECT_EQ(EINVAL, restart_with_word(buf, len, second + 12, id));
	EXPECT_EQ(EINVAL, restart_with_word(buf, len, cpu + 16, 3));
	EXPECT_EQ(EINVAL, restart_with_word(buf, len, cpu + 28, 1));
	EXPECT_EQ(EINVAL, restart_with_word(buf, len, prof + 24, 10));
	memcpy(&saved, buf + first + 56, 8);
	memcpy(buf + first + 56, &big, 8);
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	memcpy(buf + first + 56, &saved, 8);
	EXPECT_EQ(0, restart_buf(buf, len));
	free(buf);
	close(fd);
	unlink(log);
}

TEST(cwd_survives_restart)
{
	char dir[] = "/tmp/ckpt-cwd-XXXXXX", path[] = "/tmp/ckpt-cwd-img-XXXXXX";
	char ready[5], proc[64], link[4096] = "";
	pid_t child;
	int fd;

	ASSERT_NE(NULL, mkdtemp(dir));
	ASSERT_LE(0, mkstemp(path));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = spawn_target_at(sleeper_path(), "ckpt-cwd", "cwd", dir, ready, sizeof(ready));
	ASSERT_LT(0, child);
	ASSERT_LT(0, checkpoint_and_kill(child, path)) TH_LOG("%s", strerror(errno));
	child = restart_path(path);
	ASSERT_LT(0, child);
	snprintf(proc, sizeof(proc), "/proc/%d/cwd", child);
	EXPECT_LT(0, readlink(proc, link, sizeof(link) - 1));
	EXPECT_STREQ(dir, link);
	reap(child);
	/* Without its directory, the image is refused before anything changes. */
	ASSERT_EQ(0, rmdir(dir));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(ENOENT, restart_fd(fd, NULL));
	close(fd);
	unlink(path);
}

TEST(files_reopened_as_the_images_user)
{
	char file[] = "/tmp/ckpt-rootfile-XXXXXX", buf[8] = "";
	int fd, f = mkstemp(file);

	if (geteuid() != 0)
		SKIP(return, "needs root to switch users");
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_LE(0, f);
	ASSERT_EQ(4, write(f, "root", 4));
	close(f);
	ASSERT_EQ(0, chmod(file, 0644));
	/* uid 65534 holding root's file open for writing, from before it dropped root. */
	fd = image_of_mode("nobody", file);
	ASSERT_LE(0, fd);
	/* Even root may not reopen it for uid 65534: EACCES, caller unharmed. */
	EXPECT_EQ(EACCES, restart_fd(fd, NULL));
	f = open(file, O_RDONLY);
	ASSERT_EQ(4, read(f, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "root", 4));
	close(f);
	close(fd);
	unlink(file);
}

/* A tree image: the 9-thread process of threads_survive_restart. */
FIXTURE(tree_image)
{
	char log[32];
	char *buf;
	size_t len;
	pid_t tids[16];
	int ntids;
	size_t offs[256];
	size_t nrec;
};

FIXTURE_SETUP(tree_image)
{
	char path[] = "/tmp/ckpt-hostile-XXXXXX";
	char ready[5];
	pid_t root;
	int fd;

	self->buf = NULL;
	/* The target's log, which the image reopens. */
	snprintf(self->log, sizeof(self->log), "/tmp/ckpt-hostile-log-XXXXXX");
	ASSERT_LE(0, mkstemp(path));
	ASSERT_LE(0, mkstemp(self->log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1));
	root = spawn_target_at(sleeper_path(), "ckpt-hostile", "threads", self->log, ready,
			       sizeof(ready));
	ASSERT_LT(0, root);
	self->ntids = task_tids(root, self->tids, 16);
	ASSERT_EQ(9, self->ntids);
	ASSERT_LT(0, checkpoint_and_kill(root, path)) TH_LOG("%s", strerror(errno));
	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	self->buf = slurp(fd, &self->len);
	close(fd);
	ASSERT_NE(NULL, self->buf);
	self->nrec = record_offsets(self->buf, self->len, self->offs, 256);
	ASSERT_LT(20, self->nrec);
	unlink(path);
}

FIXTURE_TEARDOWN(tree_image)
{
	free(self->buf);
	unlink(self->log);
}

/*
 * Restarts the tree of @len bytes of @buf, logging to @logfd; kills any
 * tree that comes back. Returns its root's pid, or minus the errno.
 */
static pid_t restart_tree_buf(const char *buf, size_t len, int logfd)
{
	int fd = memfd();
	pid_t root = -EIO;

	if (fd >= 0 && write(fd, buf, len) == (ssize_t)len) {
		lseek(fd, 0, SEEK_SET);
		root = sys_restart(0, fd, RESTART_TREE, logfd);
		if (root < 0)
			root = -errno;
	}
	if (fd >= 0)
		close(fd);
	if (root > 0)
		kill(root, SIGKILL);
	return root;
}

/*
 * Cut at every record boundary, and with the first payload byte of every
 * record flipped, the image of a threaded process never brings back a
 * part of it: each restart fails and leaves none of its threads, or (a
 * flip in a value such as a register) restores all of it, which is then
 * killed. The kernel log and kmemleak are checked at the end of the run.
 */
TEST_F_TIMEOUT(tree_image, cut_and_flipped, 900)
{
	char rlog[] = "/tmp/ckpt-hostile-rlog-XXXXXX", out[4096];
	char *copy = malloc(self->len);
	int lfd = mkstemp(rlog);
	size_t i, cut;
	pid_t root;

	ASSERT_NE(NULL, copy);
	ASSERT_LE(0, lfd);
	for (i = 1; i < self->nrec; i++) {
		/* A cut image is never restored, not even in part. */
		cut = self->offs[i];
		root = restart_tree_buf(self->buf, cut, -1);
		EXPECT_GT(0, root) TH_LOG("cut at %zu", cut);
		EXPECT_EQ(0, wait_gone(self->tids, self->ntids, 30)) TH_LOG("cut at %zu", cut);
		memcpy(copy, self->buf, self->len);
		copy[self->offs[i - 1] + 8] ^= 0x5a;
		restart_tree_buf(copy, self->len, -1);
		EXPECT_EQ(0, wait_gone(self->tids, self->ntids, 30))
			TH_LOG("flip in the record at %zu", self->offs[i - 1]);
	}
	/* The whole image still restores. */
	root = restart_tree_buf(self->buf, self->len, lfd);
	read_file(rlog, out, sizeof(out));
	EXPECT_EQ(self->tids[0], root) TH_LOG("%s", out);
	EXPECT_EQ(0, wait_gone(self->tids, self->ntids, 30));
	close(lfd);
	unlink(rlog);
	free(copy);
}

/*
 * The leader of the threads, made a zombie in the image: its threads could
 * never be created, and would wait for it forever. Refused with EINVAL,
 * leaving nothing.
 */
TEST_F(tree_image, zombie_leader_of_threads)
{
	char *copy = malloc(self->len);
	uint32_t type, flags;
	size_t i;

	ASSERT_NE(NULL, copy);
	memcpy(copy, self->buf, self->len);
	for (i = 0; i < self->nrec; i++) {
		memcpy(&type, copy + self->offs[i], 4);
		if (type == 101)
			break;
	}
	ASSERT_LT(i, self->nrec);
	/* The task record's flags, at payload offset 36: ZOMBIE (2). */
	memcpy(&flags, copy + self->offs[i] + 8 + 36, 4);
	flags |= 2;
	memcpy(copy + self->offs[i] + 8 + 36, &flags, 4);
	EXPECT_EQ(-EINVAL, restart_tree_buf(copy, self->len, -1));
	EXPECT_EQ(0, wait_gone(self->tids, self->ntids, 30));
	free(copy);
}

/*
 * Offset of the first file record of kind @kind in @buf whose first data
 * word (an epoll's watch count) is @word, any if -1; or 0.
 */
static size_t file_record(const char *buf, const size_t *offs, size_t nrec,
			  uint32_t kind, int64_t word)
{
	uint32_t type, k, w;
	size_t r;

	for (r = 0; r < nrec; r++) {
		memcpy(&type, buf + offs[r], 4);
		memcpy(&k, buf + offs[r] + 12, 4);
		memcpy(&w, buf + offs[r] + 40, 4);
		if (type == 401 && k == kind && (word < 0 || w == word))
			return offs[r];
	}
	return 0;
}

/*
 * Images of the event loop whose event files break the rules, each refused
 * cleanly: an epoll watch on a file the image never defined; an exclusive
 * watch on another epoll, which epoll_ctl() refuses; a timerfd on a clock
 * a timerfd cannot have; a time beyond a timespec.
 */
TEST(hostile_event_files)
{
	char log[] = "/tmp/ckpt-hev-log-XXXXXX";
	size_t offs[256], nrec, len, ep, tfd;
	uint32_t v, saved;
	uint64_t big = 1ULL << 63;
	char *buf;
	int fd;

	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	fd = image_of_mode("events", log);
	ASSERT_LE(0, fd);
	buf = slurp(fd, &len);
	ASSERT_NE(NULL, buf);
	nrec = record_offsets(buf, len, offs, 256);
	ASSERT_EQ(0, restart_buf(buf, len));
	/* The epoll with one watch, on another epoll. */
	ep = file_record(buf, offs, nrec, 10, 1);
	tfd = file_record(buf, offs, nrec, 9, -1);
	ASSERT_NE(0, ep);
	ASSERT_NE(0, tfd);
	/* Header 8, common fields 32, count and reserved 8, then the watch. */
	memcpy(&saved, buf + ep + 48, 4);
	v = 0x7fff0000;
	memcpy(buf + ep + 48, &v, 4);
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	memcpy(buf + ep + 48, &saved, 4);
	memcpy(&saved, buf + ep + 48 + 8, 4);
	v = saved | EPOLLEXCLUSIVE;
	memcpy(buf + ep + 48 + 8, &v, 4);
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	memcpy(buf + ep + 48 + 8, &saved, 4);
	/* The timerfd's clock: CLOCK_PROCESS_CPUTIME_ID. */
	memcpy(&saved, buf + tfd + 40, 4);
	v = 2;
	memcpy(buf + tfd + 40, &v, 4);
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	memcpy(buf + tfd + 40, &saved, 4);
	/* Its value: 2^63 ns. */
	memcpy(buf + tfd + 48, &big, 8);
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	free(buf);
	close(fd);
	unlink(log);
}

/*
 * Images of the inotify mode whose watches and events break the rules: a
 * path that is not there (ENOENT), an event without a mask and a wd taken
 * twice (EINVAL), refused cleanly.
 */
TEST(hostile_inotify)
{
	char log[] = "/tmp/ckpt-hino-log-XXXXXX", dir[64], path[80];
	size_t offs[256], nrec, len, ino, ev;
	uint32_t mask;
	char *buf;
	int fd;

	ASSERT_LE(0, mkstemp(log));
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	fd = image_of_mode("inotify", log);
	ASSERT_LE(0, fd);
	buf = slurp(fd, &len);
	ASSERT_NE(NULL, buf);
	nrec = record_offsets(buf, len, offs, 256);
	ASSERT_EQ(0, restart_buf(buf, len));
	ino = file_record(buf, offs, nrec, 12, 2);
	ASSERT_NE(0, ino);
	/* Header 8, common fields 32, count and reserved 8: the first watch. */
	snprintf(dir, sizeof(dir), "%s.d", log);
	snprintf(path, sizeof(path), "%s/f", dir);
	/* Its path, "/tmp/ckpt-hino-log-XXXXXX.d", made ".e", which is not there. */
	ASSERT_EQ('d', buf[ino + 48 + 12 + strlen(dir) - 1]);
	buf[ino + 48 + 12 + strlen(dir) - 1] = 'e';
	EXPECT_EQ(ENOENT, restart_buf(buf, len));
	buf[ino + 48 + 12 + strlen(dir) - 1] = 'd';
	/* The first event's mask (after two watches, on dir and dir/f): 0. */
	ev = ino + 48 + 12 + strlen(dir) + 12 + strlen(dir) + 2;
	memcpy(&mask, buf + ev + 4, 4);
	ASSERT_EQ(IN_IGNORED, mask);
	memset(buf + ev + 4, 0, 4);
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	memcpy(buf + ev + 4, &mask, 4);
	/* The second watch's wd, 3, made the first's, 1. */
	buf[ino + 48 + 12 + strlen(dir) + 0] = 1;
	EXPECT_EQ(EINVAL, restart_buf(buf, len));
	free(buf);
	close(fd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/before", dir);
	unlink(path);
	rmdir(dir);
	unlink(log);
}

FIXTURE(image)
{
	char *buf;
	size_t len;
	pid_t child;
	char cg[128];
	size_t offs[MAX_RECORDS_CORRUPTED];
	size_t nrec;
};

FIXTURE_SETUP(image)
{
	int fd;
	long id;
	ssize_t len;

	self->child = spawn_sleeper("ckpt-image");
	self->cg[0] = '\0';
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	ASSERT_EQ(0, freeze_v2(self->child, self->cg, sizeof(self->cg)));
	len = image_of(self->child, &fd, &id);
	ASSERT_LT(0, len);
	self->buf = slurp(fd, &self->len);
	ASSERT_NE(NULL, self->buf);
	close(fd);
	self->nrec = record_offsets(self->buf, self->len, self->offs,
				    MAX_RECORDS_CORRUPTED);
	ASSERT_LT(4, self->nrec);
	/* The pristine image is valid. */
	ASSERT_EQ(0, restart_buf(self->buf, self->len));
}

FIXTURE_TEARDOWN(image)
{
	free(self->buf);
	reap(self->child);
	if (self->cg[0])
		remove_v2(self->cg);
}

TEST_F(image, empty)
{
	EXPECT_EQ(EINVAL, restart_buf(self->buf, 0));
}

TEST_F_TIMEOUT(image, truncated, 600)
{
	size_t cut, i;
	int d;

	/* Every cut in the first records, and around every record boundary. */
	for (cut = 1; cut < self->len && cut < 1024; cut++)
		ASSERT_TRUE(refused(restart_buf(self->buf, cut))) TH_LOG("cut at %zu", cut);
	for (i = 1; i < self->nrec; i++)
		for (d = -9; d <= 9; d++)
			ASSERT_TRUE(refused(restart_buf(self->buf, self->offs[i] + d)))
				TH_LOG("cut at %zu", self->offs[i] + d);
	ASSERT_TRUE(refused(restart_buf(self->buf, self->len - 1)));
	ASSERT_TRUE(refused(restart_buf(self->buf, self->len - 8)));
}

TEST_F(image, wrong_magic)
{
	self->buf[8] ^= 0xff;
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, wrong_version)
{
	uint32_t v = 1;

	memcpy(self->buf + 16, &v, sizeof(v));
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, other_architecture)
{
	uint32_t arch = 3;	/* s390x */

	memcpy(self->buf + 8 + 16, &arch, sizeof(arch));
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, xfeatures_the_cpu_lacks)
{
	uint32_t type;
	size_t r;

	/* Claim AMX tile state (components 17 and 18) in the XSAVE header. */
	for (r = 0; r < self->nrec; r++) {
		memcpy(&type, self->buf + self->offs[r], sizeof(type));
		if (type == 302)
			break;
	}
	ASSERT_LT(r, self->nrec);
	/* Record header 8, size and reserved 8, then XSTATE_BV at 512. */
	self->buf[self->offs[r] + 16 + 512 + 2] |= 0x06;
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

/* Offset of the XSAVE area of the image's xstate record. */
static size_t xsave_area(const char *buf, const size_t *offs, size_t nrec)
{
	uint32_t type;
	size_t r;

	for (r = 0; r < nrec; r++) {
		memcpy(&type, buf + offs[r], sizeof(type));
		if (type == 302)
			return offs[r] + 16;
	}
	return 0;
}

TEST_F(image, hostile_cpu_record)
{
	uint64_t kernel_base = 0xffff888000000000ull, user32_cs = 0x23, saved;
	uint32_t type;
	size_t r, fs, cs;

	for (r = 0; r < self->nrec; r++) {
		memcpy(&type, self->buf + self->offs[r], sizeof(type));
		if (type == 301)
			break;
	}
	ASSERT_LT(r, self->nrec);
	/* Registers in the order of struct pt_regs: cs is 17th, fs_base 21st. */
	fs = self->offs[r] + 8 + 21 * 8;
	cs = self->offs[r] + 8 + 17 * 8;
	memcpy(&saved, self->buf + fs, 8);
	memcpy(self->buf + fs, &kernel_base, 8);
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
	memcpy(self->buf + fs, &saved, 8);
	memcpy(self->buf + cs, &user32_cs, 8);
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, xstate_reserved_mxcsr_bits)
{
	size_t a = xsave_area(self->buf, self->offs, self->nrec);

	ASSERT_NE(0, a);
	/* SSE state in use, with bit 31 of MXCSR (reserved) set. */
	self->buf[a + 512] |= 0x02;
	self->buf[a + 24 + 3] |= 0x80;
	/* Refused before the caller changes, not killed after. */
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, xstate_reserved_header)
{
	size_t a = xsave_area(self->buf, self->offs, self->nrec);

	ASSERT_NE(0, a);
	/* A compacted area (XCOMP_BV), then a reserved header byte. */
	self->buf[a + 512 + 8] = 1;
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
	self->buf[a + 512 + 8] = 0;
	self->buf[a + 512 + 40] = 1;
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

/*
 * The read end of a pipe that a child (*@writer) fills with the header of
 * the image @buf, then 70000 copies of its cred record with new objrefs;
 * or -1.
 */
static int cred_flood(char *buf, const size_t *offs, size_t nrec, pid_t *writer)
{
	size_t rec, i;
	uint32_t type, len;
	char *cred = NULL;
	int p[2];

	for (i = 0; i < nrec; i++) {
		memcpy(&type, buf + offs[i], 4);
		if (type == 111)
			cred = buf + offs[i];
	}
	if (!cred || pipe(p))
		return -1;
	memcpy(&len, cred + 4, 4);
	rec = (len + 7) & ~7u;
	*writer = fork();
	if (*writer == 0) {
		close(p[0]);
		if (write(p[1], buf, offs[1]) != (ssize_t)offs[1])
			_exit(1);
		for (i = 0; i < 70000; i++) {
			int32_t objref = 1000 + i;

			memcpy(cred + 8, &objref, 4);
			if (write(p[1], cred, rec) != (ssize_t)rec)
				_exit(0);
		}
		_exit(0);
	}
	close(p[1]);
	return *writer > 0 ? p[0] : -1;
}

TEST_F_TIMEOUT(image, flood_of_shared_objects, 300)
{
	pid_t writer;
	int fd, err;

	fd = cred_flood(self->buf, self->offs, self->nrec, &writer);
	ASSERT_LE(0, fd);
	/* The kernel holds at most 65536 objects: E2BIG, not all of memory. */
	err = restart_fd(fd, NULL);
	EXPECT_EQ(E2BIG, err);
	close(fd);
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
}

/* A counter of the flat-keyed file @file of @dir ("@key N" lines), or -1. */
static long keyed(const char *dir, const char *file, const char *key)
{
	static char buf[1 << 16];
	char path[256], *p;
	size_t klen = strlen(key);

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	read_file(path, buf, sizeof(buf));
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, klen) && p[klen] == ' ')
			return atol(p + klen + 1);
	return -1;
}

/* The number in file @file of cgroup @cg, or -1. */
static long cg_number(const char *cg, const char *file)
{
	char path[256], buf[64] = "";

	snprintf(path, sizeof(path), "%s/%s", cg, file);
	return read_file(path, buf, sizeof(buf)) ? atol(buf) : -1;
}

/*
 * The flood of cred records again, restarted in a cgroup whose memory.max
 * (8 MiB) is below what 65536 credentials take: what the image makes the
 * kernel hold is charged to the restart's cgroup, so the flood fails
 * there (ENOMEM, or the cgroup's own OOM kill of the restart), nothing
 * outside it is killed, and the cgroup's charge falls back once the
 * restart is gone.
 */
TEST_F_TIMEOUT(image, flood_in_memory_cgroup, 300)
{
	char cg[128], ctl[256] = "";
	long kills, peak, after;
	int fd, status, err, i;
	pid_t writer, runner;

	read_file(CG2_ROOT "/cgroup.controllers", ctl, sizeof(ctl));
	if (!strstr(ctl, "memory"))
		SKIP(return, "no memory controller (CONFIG_MEMCG)");
	ASSERT_EQ(0, write_str(CG2_ROOT, "cgroup.subtree_control", "+memory"));
	snprintf(cg, sizeof(cg), CG2_ROOT "/ckpt-memflood-%d", getpid());
	ASSERT_EQ(0, mkdir(cg, 0755));
	ASSERT_EQ(0, write_str(cg, "memory.max", "8388608"));
	/* -1 without CONFIG_VM_EVENT_COUNTERS. */
	kills = keyed("/proc", "vmstat", "oom_kill");
	fd = cred_flood(self->buf, self->offs, self->nrec, &writer);
	ASSERT_LE(0, fd);
	runner = fork();
	if (runner == 0) {
		if (write_str(cg, "cgroup.procs", "0"))
			_exit(2);
		err = restart_fd(fd, NULL);
		_exit(err == ENOMEM ? 0 : err == -SIGKILL ? 1 : 3);
	}
	close(fd);
	ASSERT_EQ(runner, waitpid(runner, &status, 0));
	kill(writer, SIGKILL);
	waitpid(writer, NULL, 0);
	/* Refused in the cgroup: ENOMEM, or killed there; never E2BIG. */
	EXPECT_TRUE((WIFEXITED(status) && WEXITSTATUS(status) <= 1) ||
		    (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL))
		TH_LOG("runner status %#x", status);
	/* Every OOM kill since was the cgroup's. */
	if (kills >= 0)
		EXPECT_EQ(keyed("/proc", "vmstat", "oom_kill") - kills,
			  keyed(cg, "memory.events", "oom_kill"));
	EXPECT_LT(0, keyed(cg, "memory.events", "max"));
	/*
	 * The restart itself may outlive a runner that the cgroup's OOM
	 * killer chose first: it fails once the pipe ends.
	 */
	ASSERT_EQ(0, kill_v2(cg));
	ASSERT_EQ(0, wait_for(cg, "cgroup.events", "populated 0"));
	/* The flood was charged to the cgroup, and went with the restart. */
	peak = cg_number(cg, "memory.peak");
	EXPECT_LT(4 << 20, peak);
	for (i = 0; i < 200 && (after = cg_number(cg, "memory.current")) > (1 << 20); i++)
		usleep(50 * 1000);
	EXPECT_GT(1 << 20, after) TH_LOG("%ld bytes still charged, %ld at the peak", after, peak);
	EXPECT_EQ(0, rmdir(cg));
}

TEST_F_TIMEOUT(image, oversized_lengths, 600)
{
	uint32_t lens[] = { 0, 7, 4096, 1 << 24, (1u << 24) + 1, 0xffffffff };
	size_t r, i;

	/* Every record's length field, enlarged or shrunk. */
	for (r = 0; r < self->nrec; r++) {
		char *len = self->buf + self->offs[r] + 4;
		uint32_t saved;

		memcpy(&saved, len, 4);
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			memcpy(len, &lens[i], 4);
			EXPECT_TRUE(refused(restart_buf(self->buf, self->len)))
				TH_LOG("record at %zu, length %u", self->offs[r], lens[i]);
		}
		memcpy(len, &saved, 4);
	}
}

TEST_F_TIMEOUT(image, bit_flips, 600)
{
	size_t r, byte, tried = 0;
	int bit, refusals = 0;

	/*
	 * In the first 16 records (up to the first memory areas): every bit of
	 * every record header, and one bit of each of the first 64 bytes of
	 * every payload (page contents carry no checksum: a flip
	 * there is another valid image). A flip in a name or a number may give
	 * another valid image too, whose task may then die of it; every result
	 * is a refusal or a restarted task, and flips in record headers and
	 * magics are always refused.
	 */
	for (r = 0; r < self->nrec && r < 16; r++) {
		size_t start = self->offs[r];
		size_t end = r + 1 < self->nrec ? self->offs[r + 1] : self->len;

		if (end > start + 8 + 64)
			end = start + 8 + 64;
		for (byte = start; byte < end; byte++) {
			for (bit = 0; bit < 8; bit++) {
				int err, header = byte < start + 8 || byte < 16 ||
						  byte >= self->len - 16;

				if (!header && bit != 6)
					continue;
				self->buf[byte] ^= 1 << bit;
				err = restart_buf(self->buf, self->len);
				self->buf[byte] ^= 1 << bit;
				/* A restarted task may die of its changed state. */
				ASSERT_TRUE(refused(err) || (err <= 0 && err > -64))
					TH_LOG("byte %zu bit %d: %d", byte, bit, err);
				if (header)
					ASSERT_TRUE(refused(err))
						TH_LOG("byte %zu bit %d", byte, bit);
				refusals += refused(err);
				tried++;
			}
		}
	}
	EXPECT_LT(tried / 4, refusals);
}

/*
 * Every two neighbouring records of the task before its memory areas,
 * swapped: restart reads a task's records in the order checkpoint writes
 * them, and refuses any other before the caller changes. Shared objects
 * (cred, file) may come anywhere before their users and are left alone.
 */
TEST_F(image, records_out_of_order)
{
	char *copy = malloc(self->len);
	uint32_t t1, t2;
	size_t r, a, b, tried = 0;

	ASSERT_NE(NULL, copy);
	for (r = 0; r + 2 < self->nrec; r++) {
		memcpy(&t1, self->buf + self->offs[r], 4);
		memcpy(&t2, self->buf + self->offs[r + 1], 4);
		if (t1 == 202 || t2 == 202)
			break;
		if (t1 == 111 || t1 == 401 || t2 == 111 || t2 == 401)
			continue;
		a = self->offs[r + 1] - self->offs[r];
		b = self->offs[r + 2] - self->offs[r + 1];
		memcpy(copy, self->buf, self->len);
		memcpy(copy + self->offs[r], self->buf + self->offs[r + 1], b);
		memcpy(copy + self->offs[r] + b, self->buf + self->offs[r], a);
		EXPECT_EQ(EINVAL, restart_buf(copy, self->len))
			TH_LOG("records of types %u and %u swapped", t1, t2);
		tried++;
	}
	/* task and cpu, cpu and xstate, xstate and signals, signals and fs... */
	EXPECT_LE(4, tried);
	free(copy);
}

TEST_F(image, garbage_after_tail_not_read)
{
	memcpy(self->buf + self->len, "junk", 4);
	EXPECT_EQ(0, restart_buf(self->buf, self->len + 4));
}

TEST_HARNESS_MAIN
