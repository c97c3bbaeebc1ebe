// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of checkpoint(2) and restart(2): argument and permission checks, the
 * freezer rules, the image of a child as decoded by ckptinfo, and refusal of
 * corrupted images.
 *
 * ckptinfo (tools/checkpoint) must be on PATH.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "checkpoint.h"
#include "freezer.h"

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
 * harness) named @comm in @mode; its first output goes to @out (@len bytes).
 */
static pid_t spawn_target(const char *comm, const char *mode, void *out, size_t len)
{
	int p[2];
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(sleeper_path(), "ckpt_sleeper", comm, mode, NULL);
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

/* A task that sleeps until killed, with a known name. */
static pid_t spawn_sleeper(const char *comm)
{
	char ready[5];

	return spawn_target(comm, "", ready, sizeof(ready));
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
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
	*id = sys_checkpoint(pid, fd, 0, -1);
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

/* ckpt_sleeper checkpoints itself into a pipe that this process reads. */
static char *self_image_via_pipe(size_t *len)
{
	int p[2], out = memfd(), status;
	char chunk[65536], *buf;
	ssize_t n;
	pid_t pid;

	if (out < 0 || pipe(p))
		return NULL;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		execl(sleeper_path(), "ckpt_sleeper", "ckpt-self", "self", NULL);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], chunk, sizeof(chunk))) > 0)
		if (write(out, chunk, n) != n)
			return NULL;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return NULL;
	buf = slurp(out, len);
	close(out);
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

/* restart(2) of @len bytes of @buf; returns 0 or the errno. */
static int restart_buf(const void *buf, size_t len)
{
	int fd = memfd();
	int err = 0;

	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		return -1;
	lseek(fd, 0, SEEK_SET);
	if (sys_restart(0, fd, 0, -1) < 0)
		err = errno;
	close(fd);
	return err;
}

/* Runs ckptinfo with @args on @path; returns its exit status, output in @out. */
static int run_ckptinfo(const char *path, const char *arg, char *out, size_t outlen)
{
	char cmd[512];
	FILE *p;
	size_t n;
	int status;

	snprintf(cmd, sizeof(cmd), "ckptinfo %s %s 2>&1", arg, path);
	p = popen(cmd, "r");
	if (!p)
		return -1;
	n = fread(out, 1, outlen - 1, p);
	out[n] = '\0';
	status = pclose(p);
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
	if (freeze_v2(child, cg, cglen) || sys_checkpoint(child, fd, 0, -1) <= 0) {
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
	EXPECT_EQ(-1, sys_checkpoint(getpid(), -1, 0, -1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, sys_restart(0, -1, 0, -1));
	EXPECT_EQ(EBADF, errno);
}

TEST(bad_flags_einval)
{
	int fd = memfd();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), fd, 1, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), fd, 1UL << 63, -1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, sys_restart(0, fd, 4, -1));
	EXPECT_EQ(EINVAL, errno);
	/* Only restart into the caller (pid 0) exists for now. */
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
	EXPECT_EQ(-1, sys_checkpoint(pid, fd, 0, -1));
	EXPECT_EQ(ESRCH, errno);
	EXPECT_EQ(-1, sys_checkpoint(-5, fd, 0, -1));
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
	EXPECT_EQ(-1, sys_checkpoint(getpid(), ro, 0, -1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), wo, 0, ro));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(-1, sys_checkpoint(getpid(), wo, 0, 12345));
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
		r = sys_checkpoint(victim, fd, 0, -1);
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
	id = sys_checkpoint(child, fd, 0, logfd);
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

	/* A valid image: restart validates it all, then says task restore is missing. */
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(-1, sys_restart(0, fd, 0, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);

	/* The target thaws and runs on. */
	EXPECT_EQ(0, thaw_v2(cg));
	EXPECT_EQ(0, kill(child, 0));
	finish_target(child, cg, fd, path);
}

TEST(unfrozen_task_ebusy)
{
	char path[] = "/tmp/ckpt-unfrozen-XXXXXX";
	char out[8192];
	pid_t child = spawn_sleeper("ckpt-running");
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, sys_checkpoint(child, fd, 0, -1));
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

TEST(shared_anonymous_memory_refused)
{
	char path[] = "/tmp/ckpt-shared-XXXXXX";
	char out[8192], cg[128];
	int fd = mkstemp(path);
	pid_t child;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	/* A forked child shares the harness's MAP_SHARED|MAP_ANONYMOUS page. */
	child = fork();
	if (child == 0) {
		for (;;)
			pause();
	}
	ASSERT_EQ(0, freeze_v2(child, cg, sizeof(cg)));
	EXPECT_EQ(-1, sys_checkpoint(child, fd, 0, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "EOPNOTSUPP objref 0: memory area")) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "not supported")) TH_LOG("%s", out);
	EXPECT_EQ(0, thaw_v2(cg));
	finish_target(child, cg, fd, path);
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
	EXPECT_LT(0, sys_checkpoint(child, fd, 0, -1)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out))) TH_LOG("%s", out);
	snprintf(needle, sizeof(needle), "\"pid\": %d,", child);
	EXPECT_NE(NULL, strstr(out, needle)) TH_LOG("%s", out);
	EXPECT_EQ(0, thaw_v1(cg));
	/* Thawed again, it may not be checkpointed any more. */
	EXPECT_EQ(-1, sys_checkpoint(child, fd, 0, -1));
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

	/* Restart validates the memory records too. */
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(-1, sys_restart(0, fd, 0, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	finish_target(child, cg, fd, path);
}

TEST(registers_are_captured)
{
	char path[] = "/tmp/ckpt-regs-XXXXXX";
	static char out[1 << 20];
	char needle[64], ready[5], cg[128];
	unsigned long long want[] = {
		0x1122334455667788ULL, 0x0123456789abcdefULL,
		0x0f0e0d0c0b0a0908ULL, 0x7766554433221100ULL,
	};
	static const char * const names[] = { "r12", "r13", "r14", "r15" };
	char xmm[256];
	int fd = mkstemp(path), i, j, len;
	pid_t child;

	ASSERT_LE(0, fd);
	if (!cgroup2_available())
		SKIP(return, "no cgroup v2 hierarchy at " CG2_ROOT);
	child = checkpoint_target("ckpt-regs", "regs", ready, sizeof(ready), fd, cg,
				  sizeof(cg));
	ASSERT_LT(0, child) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, run_ckptinfo(path, "--json", out, sizeof(out)));
	for (i = 0; i < 4; i++) {
		snprintf(needle, sizeof(needle), "\"%s\": %llu,", names[i], want[i]);
		EXPECT_NE(NULL, strstr(out, needle)) TH_LOG("%s not found", needle);
	}
	/* Stopped in write (1) or pause (34); libc set up its TLS base. */
	EXPECT_TRUE(strstr(out, "\"orig_ax\": 34,") || strstr(out, "\"orig_ax\": 1,"));
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
	finish_target(child, cg, fd, path);
}

TEST(self_and_pipe_stream)
{
	int p[2];
	size_t len;
	long id;
	char *buf, rest[8];
	pid_t writer;

	/* A task checkpoints itself into a pipe: a stream, with no seek. */
	buf = self_image_via_pipe(&len);
	ASSERT_NE(NULL, buf);
	EXPECT_EQ(0, len % 8);
	EXPECT_EQ(EOPNOTSUPP, restart_buf(buf, len));
	(void)id;

	/* Restart reads from a pipe, and stops at the tail. */
	ASSERT_EQ(0, pipe(p));
	writer = fork();
	if (writer == 0) {
		close(p[0]);
		_exit(write(p[1], buf, len) == (ssize_t)len &&
		      write(p[1], "after", 5) == 5 ? 0 : 1);
	}
	close(p[1]);
	EXPECT_EQ(-1, sys_restart(0, p[0], 0, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(5, read(p[0], rest, sizeof(rest)));
	EXPECT_EQ(0, memcmp(rest, "after", 5));
	waitpid(writer, NULL, 0);
	close(p[0]);
	free(buf);
}

TEST(kernel_thread_error_record)
{
	char path[] = "/tmp/ckpt-kthread-XXXXXX";
	char out[8192];
	int fd = mkstemp(path);

	ASSERT_LE(0, fd);
	/* pid 2 is kthreadd. */
	EXPECT_EQ(-1, sys_checkpoint(2, fd, 0, -1));
	EXPECT_EQ(EINVAL, errno);
	/* The image ends with an error record that says why. */
	EXPECT_NE(0, run_ckptinfo(path, "", out, sizeof(out)));
	EXPECT_NE(NULL, strstr(out, "kernel threads cannot be checkpointed")) TH_LOG("%s", out);
	/* Restart refuses an image that holds an error record. */
	lseek(fd, 0, SEEK_SET);
	EXPECT_EQ(-1, sys_restart(0, fd, 0, -1));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
	unlink(path);
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
	ASSERT_EQ(EOPNOTSUPP, restart_buf(self->buf, self->len));
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

TEST_F(image, truncated)
{
	size_t cut, i;
	int d;

	/* Every cut in the first records, and around every record boundary. */
	for (cut = 1; cut < self->len && cut < 1024; cut++)
		ASSERT_EQ(EINVAL, restart_buf(self->buf, cut)) TH_LOG("cut at %zu", cut);
	for (i = 1; i < self->nrec; i++)
		for (d = -9; d <= 9; d++)
			ASSERT_EQ(EINVAL, restart_buf(self->buf, self->offs[i] + d))
				TH_LOG("cut at %zu", self->offs[i] + d);
	ASSERT_EQ(EINVAL, restart_buf(self->buf, self->len - 1));
	ASSERT_EQ(EINVAL, restart_buf(self->buf, self->len - 8));
}

TEST_F(image, wrong_magic)
{
	self->buf[8] ^= 0xff;
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, wrong_version)
{
	uint32_t v = 2;

	memcpy(self->buf + 16, &v, sizeof(v));
	EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len));
}

TEST_F(image, oversized_lengths)
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
			EXPECT_EQ(EINVAL, restart_buf(self->buf, self->len))
				TH_LOG("record at %zu, length %u", self->offs[r], lens[i]);
		}
		memcpy(len, &saved, 4);
	}
}

TEST_F(image, bit_flips)
{
	size_t r, byte, tried = 0;
	int bit, refused = 0;

	/*
	 * Every bit of every record header and of the first 64 bytes of every
	 * payload (page contents carry no checksum: a flip there is another
	 * valid image). A flip in a name or a number may give another valid
	 * image too; every result is a clean EINVAL or a valid image, and flips
	 * in record headers and magics are always refused.
	 */
	for (r = 0; r < self->nrec; r++) {
		size_t start = self->offs[r];
		size_t end = r + 1 < self->nrec ? self->offs[r + 1] : self->len;

		if (end > start + 8 + 64)
			end = start + 8 + 64;
		for (byte = start; byte < end; byte++) {
			for (bit = 0; bit < 8; bit++) {
				int err;

				self->buf[byte] ^= 1 << bit;
				err = restart_buf(self->buf, self->len);
				self->buf[byte] ^= 1 << bit;
				ASSERT_TRUE(err == EINVAL || err == EOPNOTSUPP)
					TH_LOG("byte %zu bit %d: %s", byte, bit,
					       strerror(err));
				if (byte < start + 8 || byte < 16 ||
				    byte >= self->len - 16)
					ASSERT_EQ(EINVAL, err)
						TH_LOG("byte %zu bit %d", byte, bit);
				refused += err == EINVAL;
				tried++;
			}
		}
	}
	EXPECT_LT(tried / 4, refused);
}

TEST_F(image, garbage_after_tail_not_read)
{
	memcpy(self->buf + self->len, "junk", 4);
	EXPECT_EQ(EOPNOTSUPP, restart_buf(self->buf, self->len + 4));
}

TEST_HARNESS_MAIN
