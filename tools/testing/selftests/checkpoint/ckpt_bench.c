// SPDX-License-Identifier: GPL-2.0
/*
 * Benchmark of checkpoint(2)/restart(2) against CRIU, in one boot.
 *
 *   ckpt_bench OUT [trees]
 *
 * For tasks with 1, 64, 256 MiB and 1 GiB of touched anonymous memory, times:
 * this project's checkpoint (freeze + checkpoint(2) into a pipe drained to
 * /dev/null, and into a tmpfs file) and restart (restart(2) of that file,
 * until the task is back, stopped before its first instruction); CRIU's
 * `criu dump` and `criu restore -d` of the same task (if criu is on PATH);
 * and in-guest memcpy bandwidth. Then, for trees of 1, 10 and 100
 * processes of 1 MiB each, a process of 16 threads of 1 MiB each, and 50
 * workers forked from a parent with 8 MiB that they share, in a cgroup of
 * their own: checkpoint(2) of the tree into a file and
 * restart(2) with RESTART_TREE (until every task is back, stopped),
 * against `criu dump` and `criu restore -d` of the same tree. A task that
 * reserved 64 GiB and wrote 1 MiB of it (a page every 256 MiB) is
 * measured as the 1 MiB task is. Each figure is the best of 3 runs. Prints a table and writes it
 * to OUT. With "trees", only the trees are measured; with "pipe", only
 * our checkpoints of the 256 MiB task into a pipe and a file.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"
#include "freezer.h"

#define RUNS 3

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static const char *sleeper;

/* A target in @mode (fill, fill-shared) with @mib MiB, ready when this returns. */
static pid_t spawn_mode(const char *mode, int mib)
{
	char arg[16], ready[5];
	int p[2];
	pid_t pid;

	snprintf(arg, sizeof(arg), "%d", mib);
	if (pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		setsid();
		execl(sleeper, "ckpt_sleeper", "ckpt-bench", mode, arg, NULL);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], ready, sizeof(ready)) != sizeof(ready))
		pid = -1;
	close(p[0]);
	return pid;
}

/* A target with @mib MiB of touched private memory. */
static pid_t spawn(int mib)
{
	return spawn_mode("fill", mib);
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static double memcpy_bw(void)
{
	size_t n = 256UL << 20;
	char *a = malloc(n), *b = malloc(n);
	double best = 1e9;
	int i;

	memset(a, 1, n);
	memset(b, 2, n);
	for (i = 0; i < RUNS; i++) {
		double t = now();

		memcpy(b, a, n);
		t = now() - t;
		if (t < best)
			best = t;
	}
	free(a);
	free(b);
	return n / best;
}

/*
 * Freezes, checkpoints @pid into @fd (with @flags besides
 * CHECKPOINT_SUBTREE) and kills it; returns seconds or -1.
 */
static double ours_checkpoint_flags(pid_t pid, int fd, unsigned long flags)
{
	char cg[128];
	double t = now();
	long id;

	if (freeze_v2(pid, cg, sizeof(cg)))
		return -1;
	id = sys_checkpoint(pid, fd, CHECKPOINT_SUBTREE | flags, -1);
	t = now() - t;
	reap(pid);
	thaw_v2(cg);
	remove_v2(cg);
	return id > 0 ? t : -1;
}

static double ours_checkpoint(pid_t pid, int fd)
{
	return ours_checkpoint_flags(pid, fd, 0);
}

/* A target in @mode with @n, checkpointed into @path with @flags. */
static double ours_mode_checkpoint(const char *mode, int n, const char *path,
				   unsigned long flags)
{
	pid_t pid = spawn_mode(mode, n);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	double t;

	if (pid < 0 || fd < 0)
		return -1;
	t = ours_checkpoint_flags(pid, fd, flags);
	close(fd);
	return t;
}

/* Checkpoint into a pipe that a child drains to /dev/null. */
static double ours_checkpoint_pipe(int mib)
{
	pid_t pid = spawn(mib), drain;
	int p[2];
	double t;

	if (pid < 0 || pipe(p))
		return -1;
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	drain = fork();
	if (drain == 0) {
		static char buf[1 << 20];

		close(p[1]);
		while (read(p[0], buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	t = ours_checkpoint(pid, p[1]);
	close(p[1]);
	waitpid(drain, NULL, 0);
	return t;
}

static double ours_checkpoint_file(int mib, const char *path)
{
	pid_t pid = spawn(mib);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	double t;

	if (pid < 0 || fd < 0)
		return -1;
	t = ours_checkpoint(pid, fd);
	close(fd);
	return t;
}

/* Restarts @path until the task is back (stopped before it runs). */
static double ours_restart(const char *path)
{
	int fd = open(path, O_RDONLY), status;
	double t = now();
	pid_t pid;

	if (fd < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		sys_restart(0, fd, RESTART_FROZEN, -1);
		_exit(1);
	}
	if (waitpid(pid, &status, WUNTRACED) != pid || !WIFSTOPPED(status)) {
		close(fd);
		return -1;
	}
	t = now() - t;
	close(fd);
	reap(pid);
	return t;
}

#define TREE_CG CG2_ROOT "/ckpt-bench-tree"

/*
 * A tree of @n tasks of 1 MiB each, born in TREE_CG: ckpt_sleeper in @mode,
 * fill-tree (processes) or fill-threads (threads); or cow, 50 workers
 * forked from a parent with 8 MiB, which they share; returns its root.
 */
static pid_t spawn_tree(const char *mode, int n)
{
	char arg[16], ready[5];
	int p[2];
	pid_t pid;

	/* The cow tree has its size built in, and a log. */
	snprintf(arg, sizeof(arg), strcmp(mode, "cow") ? "%d" : "/dev/null", n);
	if ((mkdir(TREE_CG, 0755) && errno != EEXIST) || pipe(p))
		return -1;
	pid = fork();
	if (pid == 0) {
		if (write_str(TREE_CG, "cgroup.procs", "0"))
			_exit(126);
		dup2(p[1], 1);
		close(p[0]);
		setsid();
		execl(sleeper, "ckpt_sleeper", "ckpt-bench", mode, arg, NULL);
		_exit(127);
	}
	close(p[1]);
	if (read(p[0], ready, sizeof(ready)) != sizeof(ready))
		pid = -1;
	close(p[0]);
	return pid;
}

/*
 * Kills everything in TREE_CG and reaps it (this benchmark is their
 * subreaper), so that their pids are free again.
 */
static void kill_tree(void)
{
	kill_v2(TREE_CG);
	while (waitpid(-1, NULL, 0) > 0)
		;
	wait_for(TREE_CG, "cgroup.events", "populated 0");
	thaw_v2(TREE_CG);
}

/* Freezes the tree of @mode and @n and checkpoints it into @path; seconds or -1. */
static double ours_tree_checkpoint(const char *mode, int n, const char *path)
{
	pid_t root = spawn_tree(mode, n);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	double t = now();
	long id = -1;

	if (root > 0 && fd >= 0 && !write_str(TREE_CG, "cgroup.freeze", "1") &&
	    !wait_for(TREE_CG, "cgroup.events", "frozen 1"))
		id = sys_checkpoint(root, fd, CHECKPOINT_SUBTREE, -1);
	t = now() - t;
	if (fd >= 0)
		close(fd);
	kill_tree();
	return id > 0 ? t : -1;
}

/* restart(2) of the tree at @path, from a child in TREE_CG; seconds or -1. */
static double ours_tree_restart(const char *path)
{
	double t = -1;
	int p[2];

	if (pipe(p))
		return -1;
	if (fork() == 0) {
		int fd = open(path, O_RDONLY);

		close(p[0]);
		if (fd >= 0 && !write_str(TREE_CG, "cgroup.procs", "0")) {
			t = now();
			if (sys_restart(0, fd, RESTART_TREE | RESTART_FROZEN, -1) > 0)
				t = now() - t;
			else
				t = -1;
		}
		if (write(p[1], &t, sizeof(t)) != sizeof(t))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	if (read(p[0], &t, sizeof(t)) != sizeof(t))
		t = -1;
	close(p[0]);
	kill_tree();
	return t;
}

static int criu_available(void)
{
	return system("criu --version >/dev/null 2>&1") == 0;
}

static double run(const char *cmd)
{
	double t = now();

	if (system(cmd) != 0)
		return -1;
	return now() - t;
}

static double criu_dump_mode(const char *mode, int mib, const char *dir)
{
	char cmd[512];
	pid_t pid = spawn_mode(mode, mib);
	double t;

	if (pid < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
	if (system(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "criu dump -t %d -D %s -o dump.log >/dev/null 2>&1", pid, dir);
	t = run(cmd);
	waitpid(pid, NULL, 0);
	return t;
}

static double criu_dump(int mib, const char *dir)
{
	return criu_dump_mode("fill", mib, dir);
}

static double criu_restore(const char *dir)
{
	char cmd[512], pidfile[256];
	double t;
	FILE *f;
	int pid;

	snprintf(pidfile, sizeof(pidfile), "%s/restored.pid", dir);
	snprintf(cmd, sizeof(cmd),
		 "criu restore -d -D %s -o restore.log --pidfile %s >/dev/null 2>&1",
		 dir, pidfile);
	t = run(cmd);
	f = fopen(pidfile, "r");
	if (f && fscanf(f, "%d", &pid) == 1)
		kill(pid, SIGKILL);
	if (f)
		fclose(f);
	return t;
}

static double criu_tree_dump(const char *mode, int n, const char *dir)
{
	char cmd[512];
	pid_t root = spawn_tree(mode, n);
	double t;

	if (root < 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s", dir, dir);
	if (system(cmd))
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "criu dump -t %d -D %s -o dump.log >/dev/null 2>&1", root, dir);
	t = run(cmd);
	kill_tree();
	return t;
}

/* criu restore -d of the tree in @dir, from a shell in TREE_CG. */
static double criu_tree_restore(const char *dir)
{
	char cmd[512];
	double t;

	snprintf(cmd, sizeof(cmd),
		 "echo 0 > %s/cgroup.procs && criu restore -d -D %s -o restore.log >/dev/null 2>&1",
		 TREE_CG, dir);
	t = run(cmd);
	kill_tree();
	return t;
}

/*
 * The migration shape on one machine: `checkpoint -o - | restart -i -`,
 * the task of @mib MiB frozen, saved, killed and back (stopped) in a new
 * pid namespace, where its pid is free. Returns seconds or -1.
 */
static double ours_migrate(int mib)
{
	char cmd[256], out[32] = "";
	pid_t pid = spawn(mib), root;
	double t;
	FILE *p;

	if (pid < 0)
		return -1;
	snprintf(cmd, sizeof(cmd),
		 "checkpoint %d -o - --freeze --kill 2>/dev/null | restart -i - --pidns --frozen",
		 pid);
	t = now();
	p = popen(cmd, "r");
	if (!p) {
		reap(pid);
		return -1;
	}
	if (!fgets(out, sizeof(out), p))
		out[0] = '\0';
	t = pclose(p) == 0 ? now() - t : -1;
	waitpid(pid, NULL, 0);
	/* Its pid namespace's init ends with it. */
	root = atoi(out);
	if (root > 0)
		kill(root, SIGKILL);
	return root > 0 ? t : -1;
}

static double best(double a, double b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static void fmt_time(char *buf, size_t n, double t)
{
	if (t < 0)
		snprintf(buf, n, "%10s", "failed");
	else
		snprintf(buf, n, "%8.1fms", t * 1e3);
}

/* The output file, besides standard output. */
static FILE *out_file;

/* Prints a line on standard output and into the output file, if any. */
static void __attribute__((format(printf, 1, 2))) emit(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fputs(line, stdout);
	if (out_file)
		fputs(line, out_file);
}

/* An operation, our best time and criu's (-1: failed or not run). */
struct row {
	const char *op;
	double ours, theirs;
};

/*
 * Prints the @n rows of operations on @mib MiB, the first labelled @label:
 * times, our throughput, the ratio to criu and to memcpy bandwidth @bw.
 */
static void emit_memory_rows(const char *label, int mib, double bw,
			     const struct row *rows, int n)
{
	int k;

	for (k = 0; k < n; k++) {
		char o[32], c[32], vs[16] = "-", vm[16] = "-";
		double mibs = rows[k].ours > 0 ? mib / rows[k].ours : 0;

		fmt_time(o, sizeof(o), rows[k].ours);
		fmt_time(c, sizeof(c), rows[k].theirs);
		if (rows[k].ours > 0 && rows[k].theirs > 0)
			snprintf(vs, sizeof(vs), "%.1fx", rows[k].theirs / rows[k].ours);
		if (rows[k].ours > 0)
			snprintf(vm, sizeof(vm), "%.2f", mibs * (1 << 20) / bw);
		emit("%-8s %-26s %10s %10s %12.0f %8s %8s\n", k ? "" : label,
		     rows[k].op, o, c, mibs, vs, vm);
	}
}

int main(int argc, char **argv)
{
	static const int sizes[] = { 1, 64, 256, 1024 };
	char path[4096], *slash, img[] = "/tmp/ckpt-bench.img", dir[] = "/tmp/ckpt-bench-criu";
	double bw = memcpy_bw();
	int criu = criu_available(), trees_only = argc > 2 && !strcmp(argv[2], "trees"), i, r;
	int pipe_only = argc > 2 && !strcmp(argv[2], "pipe");
	ssize_t n;

	out_file = argc > 1 ? fopen(argv[1], "w") : NULL;
	n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	if (n <= 0)
		return 1;
	path[n] = '\0';
	slash = strrchr(path, '/');
	snprintf(slash ? slash + 1 : path, 32, "ckpt_sleeper");
	sleeper = path;
	if (!cgroup2_available()) {
		fprintf(stderr, "ckpt_bench: no cgroup v2 hierarchy\n");
		return 1;
	}

	emit("memcpy bandwidth in the guest: %.0f MiB/s (256 MiB, best of %d)\n",
	     bw / (1 << 20), RUNS);
	emit("criu: %s\n\n", criu ? "found" : "not found (its columns are empty)");
	emit("%-8s %-26s %10s %10s %12s %8s %8s\n", "memory", "operation", "ours",
	     "criu", "ours MiB/s", "vs criu", "vs memcpy");
	/* "pipe": the checkpoints of the 256 MiB task alone, ours. */
	for (r = 0; pipe_only && r < RUNS; r++)
		emit("256 MiB into a pipe %.1f ms, into a file %.1f ms\n",
		     ours_checkpoint_pipe(256) * 1e3,
		     ours_checkpoint_file(256, img) * 1e3);
	if (pipe_only)
		return 0;
	for (i = 0; i < 4 && !trees_only; i++) {
		int mib = sizes[i];
		double cp = -1, cf = -1, rs = -1, cd = -1, cr = -1;

		for (r = 0; r < RUNS; r++) {
			cp = best(cp, ours_checkpoint_pipe(mib));
			cf = best(cf, ours_checkpoint_file(mib, img));
			rs = best(rs, ours_restart(img));
			if (criu) {
				cd = best(cd, criu_dump(mib, dir));
				cr = best(cr, criu_restore(dir));
			}
		}
		unlink(img);
		{
			const struct row rows[] = {
				{ "checkpoint into a pipe", cp, cd },
				{ "checkpoint into a file", cf, cd },
				{ "restart from a file", rs, cr },
			};
			char label[16];

			if (mib >= 1024)
				snprintf(label, sizeof(label), "%d GiB", mib >> 10);
			else
				snprintf(label, sizeof(label), "%d MiB", mib);
			emit_memory_rows(label, mib, bw, rows, 3);
		}
	}
	if (!trees_only) {
		double cf = -1, rs = -1, cd = -1, cr = -1;
		const int mib = 256;

		for (r = 0; r < RUNS; r++) {
			cf = best(cf, ours_mode_checkpoint("fill-shared", mib, img,
							   CHECKPOINT_BIG_FILES));
			rs = best(rs, ours_restart(img));
			if (criu) {
				cd = best(cd, criu_dump_mode("fill-shared", mib, dir));
				cr = best(cr, criu_restore(dir));
			}
		}
		unlink(img);
		{
			const struct row rows[] = {
				{ "checkpoint into a file", cf, cd },
				{ "restart from a file", rs, cr },
			};

			emit_memory_rows("memfd", mib, bw, rows, 2);
		}
	}
	if (!trees_only) {
		double ours = -1, theirs = -1;
		const int mib = 256;

		for (r = 0; r < RUNS; r++) {
			ours = best(ours, ours_migrate(mib));
			if (criu) {
				double d = criu_dump(mib, dir), c = d < 0 ? -1 : criu_restore(dir);

				theirs = best(theirs, c < 0 ? -1 : d + c);
			}
		}
		{
			const struct row rows[] = {
				{ "checkpoint | restart", ours, theirs },
			};

			emit_memory_rows("migrate", mib, bw, rows, 1);
		}
	}
	if (!trees_only) {
		double cf = -1, rs = -1, cd = -1, cr = -1;
		const int gib = 64;

		for (r = 0; r < RUNS; r++) {
			cf = best(cf, ours_mode_checkpoint("fill-sparse", gib, img, 0));
			rs = best(rs, ours_restart(img));
			if (criu) {
				cd = best(cd, criu_dump_mode("fill-sparse", gib, dir));
				cr = best(cr, criu_restore(dir));
			}
		}
		unlink(img);
		{
			const struct row rows[] = {
				{ "checkpoint into a file", cf, cd },
				{ "restart from a file", rs, cr },
			};

			emit_memory_rows("sparse", 1, bw, rows, 2);
		}
	}
	emit("\n%-8s %-26s %10s %10s %12s %8s\n", "tree", "operation", "ours", "criu",
	     "ours/task", "vs criu");
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	for (i = 0; i < 5; i++) {
		static const struct { const char *mode, *name; int n; } trees[] = {
			{ "fill-tree", "procs", 1 },
			{ "fill-tree", "procs", 10 },
			{ "fill-tree", "procs", 100 },
			{ "fill-threads", "threads", 16 },
			{ "cow", "cow", 51 },
		};
		int nt = trees[i].n;
		double cp = -1, rs = -1, cd = -1, cr = -1;

		for (r = 0; r < RUNS; r++) {
			cp = best(cp, ours_tree_checkpoint(trees[i].mode, nt, img));
			rs = best(rs, ours_tree_restart(img));
			if (criu) {
				cd = best(cd, criu_tree_dump(trees[i].mode, nt, dir));
				cr = best(cr, criu_tree_restore(dir));
			}
		}
		unlink(img);
		{
			const struct row rows[] = {
				{ "checkpoint into a file", cp, cd },
				{ "restart from a file", rs, cr },
			};
			char name[32];
			int k;

			snprintf(name, sizeof(name), "%d %s", nt, trees[i].name);
			for (k = 0; k < 2; k++) {
				char o[32], c[32], per[32], vs[16] = "-";

				fmt_time(o, sizeof(o), rows[k].ours);
				fmt_time(c, sizeof(c), rows[k].theirs);
				fmt_time(per, sizeof(per), rows[k].ours > 0 ? rows[k].ours / nt : -1);
				if (rows[k].ours > 0 && rows[k].theirs > 0)
					snprintf(vs, sizeof(vs), "%.1fx",
						 rows[k].theirs / rows[k].ours);
				emit("%-8s %-26s %10s %10s %12s %8s\n", k ? "" : name,
				     rows[k].op, o, c, per, vs);
			}
		}
	}
	rmdir(TREE_CG);
	emit("\nmemfd: 256 MiB of a memfd, mapped shared and written, and a pipe with\n"
	     "a full buffer (ours with CHECKPOINT_BIG_FILES). sparse: 64 GiB reserved\n"
	     "(MAP_NORESERVE), 1 MiB of it written, a page every 256 MiB: compare\n"
	     "with the 1 MiB task. migrate: `checkpoint -o - | restart -i -` of the\n"
	     "256 MiB task (the tools, restart into a new pid namespace), against\n"
	     "criu dump then criu restore. 51 cow: 50 workers forked from a parent\n"
	     "with 8 MiB, which they share copy-on-write.\n");
	emit("'vs criu': criu time / our time (higher is better, criu dump is\n"
	     "compared with both of our checkpoints); 'vs memcpy': our throughput /\n"
	     "memcpy bandwidth. Ours includes the cgroup freeze; criu's includes\n"
	     "starting criu.\n");
	if (out_file)
		fclose(out_file);
	return 0;
}
