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

#define IMAGE_MAX (1 << 16)

/* A child that sleeps until killed, with a known name. */
static pid_t spawn_sleeper(const char *comm)
{
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_NAME, comm);
		for (;;)
			pause();
	}
	/* Let it set its name. */
	usleep(50000);
	return pid;
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
	close(fd);
	unlink(path);
	reap(child);
	remove_v2(cg);
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

TEST(self_and_pipe_stream)
{
	int p[2];
	char buf[IMAGE_MAX];
	long id;
	ssize_t n;

	/* The image is a stream: a pipe works, with no seek. */
	ASSERT_EQ(0, pipe(p));
	id = sys_checkpoint(0, p[1], 0, -1);
	ASSERT_LT(0, id) TH_LOG("checkpoint: %s", strerror(errno));
	close(p[1]);
	n = read(p[0], buf, sizeof(buf));
	ASSERT_LT(0, n);
	EXPECT_EQ(0, n % 8);
	close(p[0]);
	EXPECT_EQ(EOPNOTSUPP, restart_buf(buf, n));

	/* Restart reads from a pipe, and stops at the tail. */
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(n, write(p[1], buf, n));
	ASSERT_EQ(5, write(p[1], "after", 5));
	EXPECT_EQ(-1, sys_restart(0, p[0], 0, -1));
	EXPECT_EQ(EOPNOTSUPP, errno);
	EXPECT_EQ(5, read(p[0], buf, sizeof(buf)));
	close(p[0]);
	close(p[1]);
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
	char buf[IMAGE_MAX];
	size_t len;
	pid_t child;
	char cg[128];
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
	ASSERT_EQ(len, read(fd, self->buf, len));
	self->len = len;
	close(fd);
	/* The pristine image is valid. */
	ASSERT_EQ(EOPNOTSUPP, restart_buf(self->buf, self->len));
}

FIXTURE_TEARDOWN(image)
{
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
	size_t cut;

	for (cut = 1; cut < self->len; cut++)
		ASSERT_EQ(EINVAL, restart_buf(self->buf, cut)) TH_LOG("cut at %zu", cut);
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
	size_t off, i;

	/* Every record's length field, enlarged or shrunk. */
	for (off = 0; off < self->len;) {
		uint32_t len, padded;

		memcpy(&len, self->buf + off + 4, 4);
		padded = (len + 7) & ~7u;
		for (i = 0; i < ARRAY_SIZE(lens); i++) {
			char copy[IMAGE_MAX];

			memcpy(copy, self->buf, self->len);
			memcpy(copy + off + 4, &lens[i], 4);
			EXPECT_EQ(EINVAL, restart_buf(copy, self->len))
				TH_LOG("record at %zu, length %u", off, lens[i]);
		}
		off += padded;
	}
}

TEST_F(image, bit_flips)
{
	size_t byte;
	int bit, refused = 0;

	/*
	 * A flip in a name or a number may give another valid image; every
	 * result is a clean EINVAL or a valid image, and flips in record
	 * headers and magics are always refused.
	 */
	for (byte = 0; byte < self->len; byte++) {
		for (bit = 0; bit < 8; bit++) {
			int err;

			self->buf[byte] ^= 1 << bit;
			err = restart_buf(self->buf, self->len);
			self->buf[byte] ^= 1 << bit;
			ASSERT_TRUE(err == EINVAL || err == EOPNOTSUPP)
				TH_LOG("byte %zu bit %d: %s", byte, bit, strerror(err));
			if (byte < 16 || byte >= self->len - 16)
				ASSERT_EQ(EINVAL, err) TH_LOG("byte %zu bit %d", byte, bit);
			refused += err == EINVAL;
		}
	}
	EXPECT_LT(self->len * 2, refused);
}

TEST_F(image, garbage_after_tail_not_read)
{
	memcpy(self->buf + self->len, "junk", 4);
	EXPECT_EQ(EOPNOTSUPP, restart_buf(self->buf, self->len + 4));
}

TEST_HARNESS_MAIN
