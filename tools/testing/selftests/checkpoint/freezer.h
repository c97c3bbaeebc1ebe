/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Freezing test tasks with the cgroup v2 freezer (cgroup.freeze) and the
 * cgroup v1 freezer (freezer.state).
 */
#ifndef _SELFTESTS_CHECKPOINT_FREEZER_H
#define _SELFTESTS_CHECKPOINT_FREEZER_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define CG2_ROOT "/sys/fs/cgroup"

static inline int write_str(const char *dir, const char *file, const char *val)
{
	char path[256];
	int fd, ret;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -1;
	ret = write(fd, val, strlen(val)) == (ssize_t)strlen(val) ? 0 : -1;
	close(fd);
	return ret;
}

/* Polls @dir/@file until it contains @want, for up to 20 s. */
static inline int wait_for(const char *dir, const char *file, const char *want)
{
	char path[256], buf[512];
	int i;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	for (i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY);
		ssize_t n;

		if (fd < 0)
			return -1;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			if (strstr(buf, want))
				return 0;
		}
		usleep(10000);
	}
	errno = ETIMEDOUT;
	return -1;
}

static inline int cgroup2_available(void)
{
	return access(CG2_ROOT "/cgroup.procs", W_OK) == 0;
}

/* Moves @pid into a new v2 cgroup @dir and freezes it. */
static inline int freeze_v2(pid_t pid, char *dir, size_t len)
{
	char val[32];

	snprintf(dir, len, CG2_ROOT "/ckpt-test-%d", pid);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	snprintf(val, sizeof(val), "%d", pid);
	if (write_str(dir, "cgroup.procs", val) ||
	    write_str(dir, "cgroup.freeze", "1"))
		return -1;
	return wait_for(dir, "cgroup.events", "frozen 1");
}

/* Moves the @n tasks @pids into a new v2 cgroup @dir and freezes them. */
static inline int freeze_pids_v2(const pid_t *pids, int n, char *dir, size_t len)
{
	char val[32];
	int i;

	snprintf(dir, len, CG2_ROOT "/ckpt-test-%d", pids[0]);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	for (i = 0; i < n; i++) {
		snprintf(val, sizeof(val), "%d", pids[i]);
		if (write_str(dir, "cgroup.procs", val))
			return -1;
	}
	if (write_str(dir, "cgroup.freeze", "1"))
		return -1;
	return wait_for(dir, "cgroup.events", "frozen 1");
}

/* Kills every task of the v2 cgroup @dir. */
static inline int kill_v2(const char *dir)
{
	return write_str(dir, "cgroup.kill", "1");
}

static inline int thaw_v2(const char *dir)
{
	if (write_str(dir, "cgroup.freeze", "0"))
		return -1;
	return wait_for(dir, "cgroup.events", "frozen 0");
}

/* Removes a v2 cgroup once its tasks are gone. */
static inline void remove_v2(const char *dir)
{
	int i;

	for (i = 0; i < 100 && rmdir(dir) && errno == EBUSY; i++)
		usleep(10000);
}

#define V1_MOUNT "/tmp/ckpt-v1-freezer"

/* Mounts the v1 freezer and freezes @pid in a new cgroup @dir. */
static inline int freeze_v1(pid_t pid, char *dir, size_t len)
{
	char val[32];

	mkdir(V1_MOUNT, 0755);
	if (mount("freezer", V1_MOUNT, "cgroup", 0, "freezer") && errno != EBUSY)
		return -1;
	snprintf(dir, len, V1_MOUNT "/ckpt-test-%d", pid);
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -1;
	snprintf(val, sizeof(val), "%d", pid);
	if (write_str(dir, "tasks", val) ||
	    write_str(dir, "freezer.state", "FROZEN"))
		return -1;
	return wait_for(dir, "freezer.state", "FROZEN");
}

static inline int thaw_v1(const char *dir)
{
	if (write_str(dir, "freezer.state", "THAWED"))
		return -1;
	return wait_for(dir, "freezer.state", "THAWED");
}

static inline void remove_v1(const char *dir)
{
	int i;

	for (i = 0; i < 100 && rmdir(dir) && errno == EBUSY; i++)
		usleep(10000);
	umount(V1_MOUNT);
}

#endif /* _SELFTESTS_CHECKPOINT_FREEZER_H */
