// SPDX-License-Identifier: GPL-2.0
/*
 * A target for the checkpoint tests, started with exec so that it has a
 * fresh address space (the test harness shares memory with its children).
 * Standard input and error are /dev/null and no other descriptor is open,
 * so that every descriptor is of a kind checkpoint supports.
 *
 *   ckpt_sleeper NAME          set its name, say "ready" on stdout, pause
 *   ckpt_sleeper NAME memory   also fill memory with a known pattern and
 *                              write the addresses of two areas on stdout
 *   ckpt_sleeper NAME regs     load known values into r12-r15 and xmm0-xmm3
 *                              (ymm0-ymm3 with AVX), then loop: sleep 200 ms
 *                              (nanosleep), check the registers, write "+"
 *                              (or "!" and exit 3)
 *   ckpt_sleeper NAME counter FILE
 *                              count, one "count N" line on stdout every
 *                              20 ms, with 64 MiB of patterned memory, a
 *                              read-only area, private and shared mappings
 *                              of FILE and a deep stack, all checked every
 *                              25 counts ("verified N", or "CORRUPT ..."),
 *                              with a SIGUSR1 handler ("got usr1 N", then
 *                              "anon ok N" once the anonymous memory
 *                              passed check_anon()), an
 *                              ignored SIGPIPE, SIGUSR2 blocked, an
 *                              alternate stack, RLIMIT_NOFILE 123/456 and
 *                              umask 027, also checked
 *   ckpt_sleeper NAME fill MIB write to MIB MiB of anonymous memory, say
 *                              "ready", pause (the benchmark's target)
 *   ckpt_sleeper NAME fill-shared MIB
 *                              a memfd of MIB MiB, mapped shared and
 *                              written, and a pipe with a full buffer;
 *                              say "ready", pause (the benchmark's
 *                              shared memory)
 *   ckpt_sleeper NAME fill-sparse GIB
 *                              reserve GIB GiB (MAP_NORESERVE) and write 1
 *                              MiB of it, a page every GIB MiB; say
 *                              "ready", pause (the benchmark's sparse task)
 *   ckpt_sleeper NAME fill-tree N
 *                              a tree of N processes (the root and N - 1
 *                              children), 1 MiB of written memory each;
 *                              "ready" once all are, then pause (the
 *                              benchmark's trees)
 *   ckpt_sleeper NAME fill-threads N
 *                              a process of N threads, 1 MiB of written
 *                              memory each; "ready" once all are, then
 *                              pause (the benchmark's threads)
 *   ckpt_sleeper NAME futex FILE
 *                              wait (FUTEX_WAIT, no timeout) on the first
 *                              word of FILE, mapped shared, until it is 1;
 *                              write "waiting" before and "woken" after
 *   ckpt_sleeper NAME futex-timeout FILE
 *                              the same with a timeout of an hour
 *   ckpt_sleeper NAME pipes LOG
 *                              hold a 128 KiB pipe with 40 KiB buffered
 *                              (write end O_NONBLOCK), the read end of a
 *                              pipe holding "bye" whose write end is
 *                              closed, a semaphore eventfd at 5
 *                              (EFD_NONBLOCK) and an eventfd at 2^40; on
 *                              SIGUSR1, check them all and write "pipes ok"
 *                              (or "pipes FAIL N") to LOG
 *   ckpt_sleeper NAME tree LOG
 *                              a tree of 10 processes, 4 levels deep, each
 *                              with 16 pages of its own pattern, one a
 *                              session leader, three with groups of their
 *                              own and one in another's group; the root
 *                              reads a pipe that its third child wrote to;
 *                              the root also has a zombie child, which
 *                              exited 9; each logs "ready I PID PPID" to
 *                              LOG, then on SIGUSR1 checks its pid, parent
 *                              (but the root's), session, group and memory
 *                              (and the root reaps its zombie; as the init
 *                              of a pid namespace, it first sends SIGUSR1
 *                              to every other task of it) and
 *                              logs "ok I" (or "FAIL I N"); task 5 then exits
 *                              7, and its parent logs "reaped 7"
 *   ckpt_sleeper NAME fifo LOG
 *                              make a FIFO at LOG.fifo and hold it open for
 *                              reading (O_NONBLOCK), writing and both, with
 *                              5000 bytes buffered; on SIGUSR1, check them
 *                              and write "fifo ok" (or "fifo FAIL N") to LOG
 *   ckpt_sleeper NAME unlinked LOG
 *                              hold an unlinked file of 1 MiB in /tmp, open
 *                              at 12345 and mapped shared, changed through
 *                              the mapping, and another only mapped; on
 *                              SIGUSR1, check both and that the first is
 *                              still unlinked and one file with its
 *                              mapping, and write "unlinked ok" (or
 *                              "unlinked FAIL N") to LOG
 *   ckpt_sleeper NAME threads LOG
 *                              a process of 9 threads, each with its own
 *                              TLS: two wait on a condition variable, one
 *                              with a timeout of an hour; one waits for a
 *                              mutex the main thread holds; one joins
 *                              another, which sleeps for an hour; two wait
 *                              in raw futex calls with values of their own
 *                              in r12-r15, xmm0 and xmm1 (x86-64); once
 *                              all are blocked, say "ready" on stdout. On
 *                              SIGUSR1, the main thread wakes each, the
 *                              sleeper by a signal that must find an hour
 *                              nearly left; it joins them, logs "threads
 *                              ok N" (N threads checked) or "threads FAIL
 *                              I R" to LOG, and exits 0
 *   ckpt_sleeper NAME pipe-wait LOG
 *                              a child blocked in read() on an empty pipe,
 *                              and one in a write() of 200 KiB on a full
 *                              pipe; once both are, say "ready". On
 *                              SIGUSR1, wake the reader with "wake!", read
 *                              all of the writer's bytes and check them,
 *                              reap both (each exits 0 if its call did what
 *                              it should) and write "pipe-wait ok" (or
 *                              "pipe-wait FAIL N") to LOG
 *   ckpt_sleeper NAME locks LOG
 *                              hold locks on LOG.1, LOG.2 and LOG.3: an
 *                              exclusive flock() on LOG.1 through a file a
 *                              child shares; POSIX locks on LOG.2: a write
 *                              lock on bytes 0-99, a read lock on 200-299
 *                              and a write lock from 1000 to the end, and
 *                              the child's read lock on 500-599; the
 *                              child's shared flock() on LOG.3. Once set,
 *                              say "ready". On SIGUSR1, a new process
 *                              checks that it sees each lock with its
 *                              owner; then the child unlocks LOG.1, which
 *                              frees it for all, and exits; write "locks
 *                              ok" (or "locks FAIL N") to LOG
 *   ckpt_sleeper NAME shm LOG
 *                              a parent and child sharing 2 pages of
 *                              MAP_SHARED | MAP_ANONYMOUS memory and a
 *                              memfd "ckpt-shm" of 3 pages, sealed against
 *                              shrinking and growing, which both map
 *                              shared and hold open; each wrote its mark
 *                              into both before "ready". On SIGUSR1, each
 *                              adds 1000 to a counter in both with atomics;
 *                              the parent checks the sums, the marks, the
 *                              memfd's contents through its descriptor, its
 *                              seals and its name, and writes "shm ok" (or
 *                              "shm FAIL N") to LOG
 *   ckpt_sleeper NAME events LOG
 *                              an event loop blocked in epoll_wait() on a
 *                              signalfd for SIGUSR1 and an hour-long
 *                              timerfd; a second epoll, not waited on,
 *                              watches an eventfd at 3, a pipe holding
 *                              "hello" (edge-triggered), a 50 ms periodic
 *                              timerfd and a descriptor since closed; a
 *                              third watches the second; an absolute
 *                              CLOCK_REALTIME timerfd two hours ahead with
 *                              TFD_TIMER_CANCEL_ON_SET. Once SIGUSR1 wakes
 *                              the loop, it checks every source (each
 *                              event once, the timers' settings, the
 *                              watches of each epoll as fdinfo shows them)
 *                              and writes "events ok" (or "events FAIL N")
 *                              to LOG
 *   ckpt_sleeper NAME share LOG
 *                              children A and B share a descriptor table
 *                              that the root left (unshare()), F shares
 *                              the root's (CLONE_FILES), S its cwd and
 *                              umask (CLONE_FS); on SIGUSR1, F opens fd
 *                              50, S moves to /var/tmp with umask 033, A
 *                              opens fd 60: the root must see the first
 *                              two and not the third, B the third; then
 *                              "share ok" (or "share FAIL N") to LOG
 *   ckpt_sleeper NAME vm LOG
 *                              child C shares the root's memory
 *                              (clone(CLONE_VM)); child P waits in vfork()
 *                              for V. On SIGUSR1, C must see a number the
 *                              root writes and the root C's answer; V then
 *                              exits 7, and P's vfork() must return V's pid
 *                              only after that; "vm ok" (or "vm FAIL N")
 *                              to LOG
 *   ckpt_sleeper NAME self IMAGE
 *                              checkpoint itself into IMAGE; write
 *                              "checkpointed ID" and exit 0, or, once
 *                              restarted from IMAGE, "restarted" and exit 42
 *
 * In the modes that print once (empty, memory and fill), stdout becomes /dev/null
 * after that.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <linux/futex.h>
#include <time.h>
#include <unistd.h>

#include "checkpoint.h"

#define COUNTER_MEM (64UL << 20)
#define DEPTH 1000

static long ps;
static uint64_t *big;
static char *ro, *priv, *shared;
static char *frames[DEPTH];
static unsigned long count;
static volatile sig_atomic_t got_usr1;
static char altstack[64 * 1024];

static void on_usr1(int sig)
{
	got_usr1 = 1;
}

/* Signal state and settings that the counter checks. */
static void set_signals(void)
{
	struct sigaction sa = { .sa_handler = on_usr1, .sa_flags = SA_RESTART };
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };
	struct rlimit rl = { 123, 456 };
	sigset_t set;

	sigaction(SIGUSR1, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigaltstack(&ss, NULL);
	setrlimit(RLIMIT_NOFILE, &rl);
	umask(027);
}

static const char *check_signals(void)
{
	struct sigaction sa;
	struct rlimit rl;
	stack_t ss;
	sigset_t set;
	mode_t m;

	sigaction(SIGUSR1, NULL, &sa);
	if (sa.sa_handler != on_usr1 || !(sa.sa_flags & SA_RESTART))
		return "SIGUSR1 handler";
	sigaction(SIGPIPE, NULL, &sa);
	if (sa.sa_handler != SIG_IGN)
		return "ignored SIGPIPE";
	sigprocmask(SIG_BLOCK, NULL, &set);
	if (!sigismember(&set, SIGUSR2) || sigismember(&set, SIGUSR1))
		return "blocked mask";
	sigaltstack(NULL, &ss);
	if (ss.ss_sp != altstack || ss.ss_size != sizeof(altstack))
		return "sigaltstack";
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur != 123 || rl.rlim_max != 456)
		return "RLIMIT_NOFILE";
	m = umask(0);
	umask(m);
	if (m != 027)
		return "umask";
	return NULL;
}

static void say(const char *fmt, unsigned long v)
{
	char line[64];
	int n = snprintf(line, sizeof(line), fmt, v);

	if (write(1, line, n) != n)
		exit(4);
}

static uint64_t pattern(uint64_t i)
{
	return i * 0x9e3779b97f4a7c15ULL ^ 0x5555aaaa5555aaaaULL;
}

static const char *check_all(void)
{
	uint64_t i;
	int d, j;

	for (i = 0; i < COUNTER_MEM / 8; i++)
		if (big[i] != pattern(i))
			return "anonymous memory";
	for (i = 0; i < 4 * ps; i++)
		if (ro[i] != (char)0xab)
			return "read-only area";
	if (priv[0] != 'P' || priv[ps] != 'F')
		return "private file mapping";
	if (shared[0] != 'S' || shared[ps] != 'F')
		return "shared file mapping";
	for (d = 0; d < DEPTH; d++)
		for (j = 0; j < 64; j++)
			if (frames[d][j] != (char)(d + j))
				return "stack";
	return check_signals();
}

/*
 * The line of /proc/self/status that starts with @key, read into @buf (of
 * @len bytes): its value, after the key, up to the end of the line; NULL
 * if there is none.
 */
static char *status_line(const char *key, char *buf, size_t len)
{
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, len - 1);
	char *line, *end;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	line = strstr(buf, key);
	end = line ? strchr(line, '\n') : NULL;
	if (!end)
		return NULL;
	*end = '\0';
	return line + strlen(key);
}

/* The kB of the "RssAnon:" line of /proc/self/status, or -1. */
static long rss_anon_kb(void)
{
	char buf[4096], *v = status_line("RssAnon:", buf, sizeof(buf));

	return v ? strtol(v, NULL, 10) : -1;
}

/*
 * The anonymous memory behaves as memory faulted in would: it is counted
 * as the process's, a forked child's writes stay its own, and a page
 * dropped with MADV_DONTNEED reads back as zeroes.
 */
static const char *check_anon(void)
{
	uint64_t last = COUNTER_MEM / 8 - 1, *page = big + 5 * ps / 8;
	int status;
	size_t i;
	pid_t pid;

	if (rss_anon_kb() < (long)(COUNTER_MEM >> 10))
		return "RssAnon";
	pid = fork();
	if (pid == 0) {
		big[0] = ~pattern(0);
		big[last] = ~pattern(last);
		_exit(big[0] != ~pattern(0) || big[last] != ~pattern(last));
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		return "forked child";
	if (big[0] != pattern(0) || big[last] != pattern(last))
		return "copy on write";
	if (madvise(page, ps, MADV_DONTNEED))
		return "MADV_DONTNEED";
	for (i = 0; i < ps / 8; i++)
		if (page[i])
			return "page dropped with MADV_DONTNEED";
	for (i = 0; i < ps / 8; i++)
		page[i] = pattern(5 * ps / 8 + i);
	return NULL;
}

/* Says what @bad names is corrupt, if anything, and exits 2. */
static void exit_if_corrupt(const char *bad)
{
	if (!bad)
		return;
	say("CORRUPT %lu ", count);
	if (write(1, bad, strlen(bad)) < 0)
		exit(4);
	exit(2);
}

static void count_forever(void)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	for (;;) {
		count++;
		say("count %lu\n", count);
		if (got_usr1 == 1) {
			got_usr1 = 2;
			say("got usr1 %lu\n", count);
			exit_if_corrupt(check_anon());
			say("anon ok %lu\n", count);
		}
		if (count % 25 == 0) {
			exit_if_corrupt(check_all());
			say("verified %lu\n", count);
		}
		nanosleep(&ts, NULL);
	}
}

/*
 * Recurses DEPTH frames deep, each with a patterned local, then counts.
 * It never returns (count_forever() does not), which GCC calls infinite
 * recursion.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Winfinite-recursion"
static void __attribute__((noinline)) deep(int d)
{
	volatile char local[64];
	int j;

	for (j = 0; j < 64; j++)
		local[j] = (char)(d + j);
	frames[d] = (char *)local;
	if (d + 1 < DEPTH)
		deep(d + 1);
	else
		count_forever();
	/* Keep the frame live. */
	if (local[0] != (char)d)
		exit(5);
}
#pragma GCC diagnostic pop

static int counter(const char *file)
{
	int fd = open(file, O_RDWR);
	uint64_t i;

	big = mmap(NULL, COUNTER_MEM, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fd < 0 || big == MAP_FAILED || ro == MAP_FAILED)
		return 1;
	/* FILE holds two pages of 'F'. */
	priv = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	shared = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		return 1;
	for (i = 0; i < COUNTER_MEM / 8; i++)
		big[i] = pattern(i);
	memset(ro, 0xab, 4 * ps);
	mprotect(ro, 4 * ps, PROT_READ);
	priv[0] = 'P';
	shared[0] = 'S';
	set_signals();
	deep(0);
	return 1;
}

static int futex_wait_file(const char *file, int timeout)
{
	struct timespec hour = { 3600, 0 };
	int fd = open(file, O_RDWR);
	uint32_t *word;

	if (fd < 0)
		return 1;
	word = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (word == MAP_FAILED)
		return 1;
	say("waiting %lu\n", 0);
	while (__atomic_load_n(word, __ATOMIC_SEQ_CST) != 1)
		syscall(SYS_futex, word, FUTEX_WAIT, 0, timeout ? &hour : NULL,
			NULL, 0);
	say("woken %lu\n", 1);
	for (;;)
		pause();
}

static int self(const char *image)
{
	int fd = open(image, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	long id;

	if (fd < 0)
		return 1;
	id = sys_checkpoint(0, fd, CHECKPOINT_SUBTREE, -1);
	if (id > 0) {
		say("checkpointed %lu\n", id);
		return 0;
	}
	if (id == 0) {
		say("restarted %lu\n", 0);
		return 42;
	}
	say("error %lu\n", 0);
	return 1;
}

#ifdef __x86_64__
static void regs(void)
{
	/* One block, so that the asm needs a single register for all of it. */
	static struct {
		unsigned char xmm[4][16];	/* 0 */
		unsigned char ymm[4][32];	/* 64 */
		struct timespec ts;		/* 192 */
		char ok[8];			/* 208 */
		char bad[8];			/* 216 */
		long avx;			/* 224 */
	} r = { .ts = { 0, 200 * 1000 * 1000 }, .ok = "+", .bad = "!" };
	int i, j;

	_Static_assert(offsetof(typeof(r), avx) == 224, "asm offsets");
	r.avx = __builtin_cpu_supports("avx");
	/*
	 * Byte j of xmm<i> is (i << 4) | j; with AVX, the upper half of
	 * ymm<i> holds the complement of the lower one.
	 */
	for (i = 0; i < 4; i++)
		for (j = 0; j < 16; j++) {
			r.xmm[i][j] = (i << 4) | j;
			r.ymm[i][j] = r.xmm[i][j];
			r.ymm[i][16 + j] = ~r.xmm[i][j];
		}
#define CHECK_XMM(n, off)					\
		"movdqu " #off "(%[r]), %%xmm4\n\t"		\
		"pcmpeqb %%xmm" #n ", %%xmm4\n\t"		\
		"pmovmskb %%xmm4, %%eax\n\t"			\
		"cmp $0xffff, %%eax\n\t"			\
		"jne 2f\n\t"
#define CHECK_YMM_HIGH(n, off)					\
		"vextractf128 $1, %%ymm" #n ", %%xmm5\n\t"	\
		"movdqu " #off "(%[r]), %%xmm4\n\t"		\
		"pcmpeqb %%xmm5, %%xmm4\n\t"			\
		"pmovmskb %%xmm4, %%eax\n\t"			\
		"cmp $0xffff, %%eax\n\t"			\
		"jne 2f\n\t"
	asm volatile("cmpq $0, 224(%[r])\n\t"
		     "je 4f\n\t"
		     "vmovdqu 64(%[r]), %%ymm0\n\t"
		     "vmovdqu 96(%[r]), %%ymm1\n\t"
		     "vmovdqu 128(%[r]), %%ymm2\n\t"
		     "vmovdqu 160(%[r]), %%ymm3\n\t"
		     /* Legacy SSE loads keep the upper halves. */
		     "4: movdqu 0(%[r]), %%xmm0\n\t"
		     "movdqu 16(%[r]), %%xmm1\n\t"
		     "movdqu 32(%[r]), %%xmm2\n\t"
		     "movdqu 48(%[r]), %%xmm3\n\t"
		     "movabs $0x1122334455667788, %%r12\n\t"
		     "movabs $0x0123456789abcdef, %%r13\n\t"
		     "movabs $0x0f0e0d0c0b0a0908, %%r14\n\t"
		     "movabs $0x7766554433221100, %%r15\n\t"
		     "1: mov $35, %%eax\n\t"		/* nanosleep(ts, NULL) */
		     "lea 192(%[r]), %%rdi\n\t"
		     "xor %%esi, %%esi\n\t"
		     "syscall\n\t"
		     "movabs $0x1122334455667788, %%rax\n\t"
		     "cmp %%rax, %%r12\n\t"
		     "jne 2f\n\t"
		     "movabs $0x0123456789abcdef, %%rax\n\t"
		     "cmp %%rax, %%r13\n\t"
		     "jne 2f\n\t"
		     "movabs $0x0f0e0d0c0b0a0908, %%rax\n\t"
		     "cmp %%rax, %%r14\n\t"
		     "jne 2f\n\t"
		     "movabs $0x7766554433221100, %%rax\n\t"
		     "cmp %%rax, %%r15\n\t"
		     "jne 2f\n\t"
		     CHECK_XMM(0, 0)
		     CHECK_XMM(1, 16)
		     CHECK_XMM(2, 32)
		     CHECK_XMM(3, 48)
		     "cmpq $0, 224(%[r])\n\t"
		     "je 3f\n\t"
		     CHECK_YMM_HIGH(0, 80)
		     CHECK_YMM_HIGH(1, 112)
		     CHECK_YMM_HIGH(2, 144)
		     CHECK_YMM_HIGH(3, 176)
		     "3: mov $1, %%eax\n\t"		/* write(1, "+", 1) */
		     "mov $1, %%edi\n\t"
		     "lea 208(%[r]), %%rsi\n\t"
		     "mov $1, %%edx\n\t"
		     "syscall\n\t"
		     "jmp 1b\n\t"
		     "2: mov $1, %%eax\n\t"		/* write(1, "!", 1) */
		     "mov $1, %%edi\n\t"
		     "lea 216(%[r]), %%rsi\n\t"
		     "mov $1, %%edx\n\t"
		     "syscall\n\t"
		     "mov $231, %%eax\n\t"		/* exit_group(3) */
		     "mov $3, %%edi\n\t"
		     "syscall\n\t"
		     : : [r] "r"(&r)
		     : "rax", "rcx", "rdx", "rdi", "rsi", "r11", "r12", "r13",
		       "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4",
		       "xmm5", "memory");
#undef CHECK_XMM
#undef CHECK_YMM_HIGH
}
#endif

static void quiet_stdout(void)
{
	int null = open("/dev/null", O_RDWR);

	dup2(null, 1);
	close(null);
}

static int pending_log = -1;

static void note(const char *s)
{
	if (write(pending_log, s, strlen(s)) < 0)
		_exit(3);
}

static void on_alarm(int sig)
{
	note("alarm\n");
}

static void on_usr2(int sig)
{
	note("usr2\n");
}

static void on_rt(int sig, siginfo_t *si, void *uc)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "rt %d\n", si->si_value.sival_int);
	note(buf);
}

/*
 * Signals a restart must bring back: SIGUSR2 pending for the thread and
 * SIGRTMIN with value 77 for the process, both blocked, and ITIMER_REAL
 * due in 10 s. When the timer fires, the signals are unblocked; each
 * handler logs to @log.
 */
static int pending(const char *log)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { 10, 0 } };
	union sigval v = { .sival_int = 77 };
	sigset_t set;

	pending_log = open(log, O_WRONLY | O_APPEND);
	if (pending_log < 0)
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGRTMIN);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = on_usr2;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_sigaction = on_rt;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN, &sa, NULL);
	if (raise(SIGUSR2) || sigqueue(getpid(), SIGRTMIN, v) ||
	    setitimer(ITIMER_REAL, &it, NULL))
		return 1;
	if (write(1, "ready", 5) != 5)
		return 1;
	quiet_stdout();
	pause();
	note("woke\n");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	for (;;)
		pause();
}

#define PIPE_DATA (40 << 10)

/* Says "ready" on stdout, then waits for SIGUSR1, with stdout on /dev/null. */
static int await_usr1(void)
{
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (write(1, "ready", 5) != 5)
		return -1;
	quiet_stdout();
	return sigwait(&set, &sig);
}

/* Logs "@mode ok", or "@mode FAIL @r" if @r is not 0, and waits to be killed. */
static void report(const char *mode, int r)
{
	char msg[64];

	if (r)
		snprintf(msg, sizeof(msg), "%s FAIL %d\n", mode, r);
	else
		snprintf(msg, sizeof(msg), "%s ok\n", mode);
	note(msg);
	for (;;)
		pause();
}

/* Timers mode: the ids of its POSIX timers, as the kernel gave them. */
enum { T_TICK, T_GONE, T_ABS, T_BOOT, T_CPU, T_COUNT };
static int tid_of[T_COUNT];
static volatile sig_atomic_t ticks, tick_value_ok = 1, profs;

static void on_tick(int sig, siginfo_t *si, void *uc)
{
	if (si->si_code != SI_TIMER || si->si_value.sival_int != 0x1234 ||
	    si->si_timerid != tid_of[T_TICK])
		tick_value_ok = 0;
	ticks++;
}

static void on_prof(int sig)
{
	profs++;
}

static int new_timer(clockid_t clock, int notify, int signo, int value)
{
	struct sigevent sev = { .sigev_notify = notify, .sigev_signo = signo };
	int id;

	sev.sigev_value.sival_int = value;
	if (notify & SIGEV_THREAD_ID)
		sev._sigev_un._tid = syscall(SYS_gettid);
	if (syscall(SYS_timer_create, clock, &sev, &id))
		return -1;
	return id;
}

static int set_timer(int id, int flags, time_t sec, long nsec, long every_ns)
{
	struct itimerspec it = {
		.it_value = { sec, nsec },
		.it_interval = { 0, every_ns },
	};

	return syscall(SYS_timer_settime, id, flags, &it, NULL);
}

/* Seconds left on timer @id, or -1. */
static double timer_left(int id, long *every_ns)
{
	struct itimerspec it;

	if (syscall(SYS_timer_gettime, id, &it))
		return -1;
	*every_ns = it.it_interval.tv_sec * 1000000000L + it.it_interval.tv_nsec;
	return it.it_value.tv_sec + it.it_value.tv_nsec / 1e9;
}

#define TICK_NS 50000000L

/*
 * The checks of timers mode, after restart: 0, or the number of the one
 * that failed.
 */
static int check_timers(sigset_t *blocked, time_t abs_at)
{
	struct itimerval virt, prof;
	struct timespec now, t0;
	long every;
	double left;
	int i;

	/* Each id is the same timer, the deleted one is still gone. */
	left = timer_left(tid_of[T_TICK], &every);
	if (left < 0 || left > 0.05 || every != TICK_NS)
		return 1;
	if (timer_left(tid_of[T_GONE], &every) >= 0 || errno != EINVAL)
		return 2;
	clock_gettime(CLOCK_REALTIME, &now);
	left = timer_left(tid_of[T_ABS], &every);
	left += now.tv_sec + now.tv_nsec / 1e9 - abs_at;
	if (left < -0.01 || left > 0.01 || every)
		return 3;
	left = timer_left(tid_of[T_BOOT], &every);
	if (left < 3600 - 120 || left > 3600 || every)
		return 4;
	left = timer_left(tid_of[T_CPU], &every);
	if (left < 3600 - 60 || left > 3600 || every)
		return 5;
	if (getitimer(ITIMER_VIRTUAL, &virt) || getitimer(ITIMER_PROF, &prof))
		return 6;
	if (virt.it_value.tv_sec < 90 || virt.it_value.tv_sec > 100 ||
	    virt.it_interval.tv_sec != 100 || !prof.it_value.tv_usec ||
	    prof.it_interval.tv_sec || prof.it_interval.tv_usec)
		return 7;
	/* The tick's signal was pending: it arrives once unblocked... */
	if (ticks)
		return 8;
	sigprocmask(SIG_UNBLOCK, blocked, NULL);
	if (ticks != 1 || !tick_value_ok)
		return 9;
	/* ...and the timer goes on ticking, every 50 ms. */
	for (i = 0; i < 200 && ticks < 4; i++)
		usleep(TICK_NS / 1000);
	if (ticks < 4 || !tick_value_ok)
		return 10;
	/* ITIMER_PROF fires after 200 ms of CPU time. */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!profs) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 30)
			return 11;
	}
	return 0;
}

/*
 * POSIX timers and the CPU interval timers (timers mode): a 50 ms
 * periodic timer whose signal SIGRTMIN+1 (value 0x1234) is blocked and
 * pending, a deleted timer between others, an absolute CLOCK_REALTIME
 * timer two hours ahead (SIGEV_NONE), an hour on CLOCK_BOOTTIME, an hour
 * of process CPU time signalling the thread itself, ITIMER_VIRTUAL at
 * 100 s every 100 s and ITIMER_PROF at 200 ms. On SIGUSR1, checks them
 * (timers_check()) and logs "timers ok" to @log.
 */
static int timers_mode(const char *log)
{
	struct sigaction sa = { .sa_sigaction = on_tick, .sa_flags = SA_SIGINFO };
	struct itimerval virt = { { 100, 0 }, { 100, 0 } }, prof = { { 0, 0 }, { 0, 200000 } };
	struct timespec now;
	sigset_t blocked, pend;
	time_t abs_at;
	int i;

	pending_log = open(log, O_WRONLY | O_APPEND);
	sigemptyset(&blocked);
	sigaddset(&blocked, SIGRTMIN + 1);
	sigprocmask(SIG_BLOCK, &blocked, NULL);
	sigaction(SIGRTMIN + 1, &sa, NULL);
	signal(SIGPROF, on_prof);
	tid_of[T_TICK] = new_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGRTMIN + 1, 0x1234);
	tid_of[T_GONE] = new_timer(CLOCK_MONOTONIC, SIGEV_NONE, 0, 0);
	tid_of[T_ABS] = new_timer(CLOCK_REALTIME, SIGEV_NONE, 0, 0);
	tid_of[T_BOOT] = new_timer(CLOCK_BOOTTIME, SIGEV_SIGNAL, SIGUSR2, 7);
	tid_of[T_CPU] = new_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_THREAD_ID | SIGEV_SIGNAL,
				  SIGUSR2, 8);
	for (i = 0; i < T_COUNT; i++)
		if (pending_log < 0 || tid_of[i] < 0)
			return 1;
	clock_gettime(CLOCK_REALTIME, &now);
	abs_at = now.tv_sec + 7200;
	if (syscall(SYS_timer_delete, tid_of[T_GONE]) ||
	    set_timer(tid_of[T_ABS], TIMER_ABSTIME, abs_at, 0, 0) ||
	    set_timer(tid_of[T_BOOT], 0, 3600, 0, 0) ||
	    set_timer(tid_of[T_CPU], 0, 3600, 0, 0) ||
	    setitimer(ITIMER_VIRTUAL, &virt, NULL) || setitimer(ITIMER_PROF, &prof, NULL) ||
	    set_timer(tid_of[T_TICK], 0, 0, TICK_NS, TICK_NS))
		return 1;
	/* Saved with its signal pending. */
	for (i = 0; i < 500; i++) {
		sigpending(&pend);
		if (sigismember(&pend, SIGRTMIN + 1))
			break;
		usleep(10000);
	}
	if (i == 500 || await_usr1())
		return 1;
	report("timers", check_timers(&blocked, abs_at));
	return 1;
}

static unsigned char pipe_byte(size_t i)
{
	return (i * 7 + i / 4096) & 0xff;
}

/* The checks of pipes mode, after restart: 0, or the number of the one that failed. */
static int check_pipes(int a[2], int b, int sem, int big)
{
	static unsigned char buf[PIPE_DATA + 1];
	uint64_t v;
	size_t i, got = 0;
	ssize_t n;
	int k;

	if (fcntl(a[1], F_GETPIPE_SZ) != 128 << 10)
		return 1;
	if (!(fcntl(a[1], F_GETFL) & O_NONBLOCK) || (fcntl(a[0], F_GETFL) & O_NONBLOCK))
		return 2;
	while (got < PIPE_DATA) {
		n = read(a[0], buf + got, PIPE_DATA - got);
		if (n <= 0)
			return 3;
		got += n;
	}
	for (i = 0; i < PIPE_DATA; i++)
		if (buf[i] != pipe_byte(i))
			return 4;
	/* Empty now, and still connected: a write comes back. */
	if (ioctl(a[0], FIONREAD, &k) || k != 0)
		return 5;
	if (write(a[1], "x", 1) != 1 || read(a[0], buf, 2) != 1 || buf[0] != 'x')
		return 6;
	/* The other pipe: its data, then end of file. */
	if (read(b, buf, 8) != 3 || memcmp(buf, "bye", 3) || read(b, buf, 8) != 0)
		return 7;
	for (k = 0; k < 5; k++)
		if (read(sem, &v, 8) != 8 || v != 1)
			return 8;
	if (read(sem, &v, 8) != -1 || errno != EAGAIN)
		return 9;
	if (read(big, &v, 8) != 8 || v != 1ULL << 40)
		return 10;
	return 0;
}

static int hold_pipes(const char *log)
{
	static unsigned char data[PIPE_DATA];
	int a[2], b[2], sem, big;
	uint64_t v = 1ULL << 40;
	size_t i;

	pending_log = open(log, O_WRONLY | O_APPEND);
	for (i = 0; i < PIPE_DATA; i++)
		data[i] = pipe_byte(i);
	if (pending_log < 0 || pipe(a) || pipe(b) ||
	    fcntl(a[1], F_SETPIPE_SZ, 128 << 10) != 128 << 10 ||
	    write(a[1], data, PIPE_DATA) != PIPE_DATA ||
	    fcntl(a[1], F_SETFL, O_NONBLOCK) ||
	    write(b[1], "bye", 3) != 3 || close(b[1]))
		return 1;
	sem = eventfd(5, EFD_SEMAPHORE | EFD_NONBLOCK);
	big = eventfd(0, 0);
	if (sem < 0 || big < 0 || write(big, &v, 8) != 8 || await_usr1())
		return 1;
	report("pipes", check_pipes(a, b[0], sem, big));
	return 1;
}

/* A POSIX lock of @type on @len bytes of @fd from @start (0: to the end). */
static int posix_lock(int fd, int type, off_t start, off_t len)
{
	struct flock fl = {
		.l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = len
	};

	return fcntl(fd, F_SETLK, &fl);
}

/* Whether F_GETLK on @fd for a @type lock at @start sees @want held by @pid. */
static int sees_lock(int fd, int type, off_t start, int want, pid_t pid)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start, .l_len = 1 };

	if (fcntl(fd, F_GETLK, &fl))
		return 0;
	return fl.l_type == want && (want == F_UNLCK || fl.l_pid == pid);
}

/* The checks of locks mode, by a new process: 0, or the one that failed. */
static int check_locks(const char *log, pid_t root, pid_t child, int ex_free)
{
	char path[PATH_MAX];
	int f1, f2, f3;

	snprintf(path, sizeof(path), "%s.1", log);
	f1 = open(path, O_RDWR);
	snprintf(path, sizeof(path), "%s.2", log);
	f2 = open(path, O_RDWR);
	snprintf(path, sizeof(path), "%s.3", log);
	f3 = open(path, O_RDWR);
	if (f1 < 0 || f2 < 0 || f3 < 0)
		return 1;
	if (ex_free)
		return flock(f1, LOCK_EX | LOCK_NB) ? 2 : 0;
	if (!flock(f1, LOCK_SH | LOCK_NB) || errno != EWOULDBLOCK)
		return 3;
	if (!sees_lock(f2, F_RDLCK, 50, F_WRLCK, root) ||
	    !sees_lock(f2, F_WRLCK, 250, F_RDLCK, root) ||
	    !sees_lock(f2, F_RDLCK, 250, F_UNLCK, 0) ||
	    !sees_lock(f2, F_RDLCK, 150, F_UNLCK, 0) ||
	    !sees_lock(f2, F_WRLCK, 550, F_RDLCK, child) ||
	    !sees_lock(f2, F_RDLCK, 1 << 30, F_WRLCK, root))
		return 4;
	if (!flock(f3, LOCK_EX | LOCK_NB) || errno != EWOULDBLOCK)
		return 5;
	if (flock(f3, LOCK_SH | LOCK_NB))
		return 6;
	return 0;
}

/* Runs check_locks() in a new process; returns its result. */
static int check_locks_apart(const char *log, pid_t root, pid_t child, int ex_free)
{
	int st;
	pid_t pid = fork();

	if (pid == 0)
		_exit(check_locks(log, root, child, ex_free));
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return 100;
	return WEXITSTATUS(st);
}

static int hold_locks(const char *log)
{
	char path[PATH_MAX], c;
	int f1, f2, go[2], rdy[2], st, r;
	pid_t child;

	pending_log = open(log, O_WRONLY | O_APPEND);
	snprintf(path, sizeof(path), "%s.1", log);
	f1 = open(path, O_RDWR | O_CREAT, 0600);
	snprintf(path, sizeof(path), "%s.2", log);
	f2 = open(path, O_RDWR | O_CREAT, 0600);
	if (pending_log < 0 || f1 < 0 || f2 < 0 || pipe(go) || pipe(rdy) || flock(f1, LOCK_EX) ||
	    posix_lock(f2, F_WRLCK, 0, 100) || posix_lock(f2, F_RDLCK, 200, 100) ||
	    posix_lock(f2, F_WRLCK, 1000, 0))
		return 1;
	child = fork();
	if (child == 0) {
		int c2, f3;

		snprintf(path, sizeof(path), "%s.2", log);
		c2 = open(path, O_RDONLY);
		snprintf(path, sizeof(path), "%s.3", log);
		f3 = open(path, O_RDWR | O_CREAT, 0600);
		close(go[1]);
		close(rdy[0]);
		if (c2 < 0 || f3 < 0 || posix_lock(c2, F_RDLCK, 500, 100) || flock(f3, LOCK_SH) ||
		    close(rdy[1]))
			_exit(1);
		/* Unlock the shared file when told, for both. */
		if (read(go[0], &c, 1) != 1 || flock(f1, LOCK_UN))
			_exit(2);
		_exit(0);
	}
	close(go[0]);
	close(rdy[1]);
	/* The child's locks are set once it closes its end. */
	if (child < 0 || read(rdy[0], &c, 1) != 0)
		return 1;
	close(rdy[0]);
	if (await_usr1())
		return 1;
	r = check_locks_apart(log, getpid(), child, 0);
	if (!r && write(go[1], "u", 1) != 1)
		r = 7;
	if (!r && (waitpid(child, &st, 0) != child || st != 0))
		r = 8;
	if (!r && check_locks_apart(log, getpid(), child, 1))
		r = 9;
	report("locks", r);
	return 1;
}

#define SHM_ADDS 1000

/* Adds SHM_ADDS to *@a and to *@b, one at a time, atomically. */
static void shm_adds(long *a, long *b)
{
	int i;

	for (i = 0; i < SHM_ADDS; i++) {
		__atomic_add_fetch(a, 1, __ATOMIC_SEQ_CST);
		__atomic_add_fetch(b, 1, __ATOMIC_SEQ_CST);
	}
}

/* The checks of shm mode once both added: 0, or the one that failed. */
static int check_shm(int mfd, long *anon, long *mem, unsigned int seals)
{
	char path[64], link[128], *page = malloc(ps);
	ssize_t n;
	long v, i;

	if (anon[0] != 5 + 2 * SHM_ADDS || mem[0] != 7 + 2 * SHM_ADDS)
		return 4;
	/* The descriptor and the mapping share the memfd. */
	if (pread(mfd, &v, sizeof(v), 0) != sizeof(v) || v != mem[0])
		return 5;
	if (!page || pread(mfd, page, ps, ps) != ps || lseek(mfd, 0, SEEK_END) != 3 * ps)
		return 6;
	for (i = 0; i < ps; i++)
		if (page[i] != 0x3c)
			return 6;
	/* Its seals hold. */
	if (fcntl(mfd, F_GET_SEALS) != (int)seals || !ftruncate(mfd, ps) || errno != EPERM)
		return 7;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return 8;
	link[n] = 0;
	if (strcmp(link, "/memfd:ckpt-shm (deleted)"))
		return 8;
	free(page);
	return 0;
}

static int shm_mode(const char *log)
{
	unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW;
	int mfd, go[2], rdy[2], st, r = 0;
	long *anon, *mem;
	pid_t child;
	char c;

	pending_log = open(log, O_WRONLY | O_APPEND);
	anon = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	mfd = memfd_create("ckpt-shm", MFD_ALLOW_SEALING);
	if (pending_log < 0 || anon == MAP_FAILED || mfd < 0 || ftruncate(mfd, 3 * ps) ||
	    pipe(go) || pipe(rdy))
		return 1;
	mem = mmap(NULL, 3 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (mem == MAP_FAILED || fcntl(mfd, F_ADD_SEALS, seals))
		return 1;
	anon[0] = 5;
	mem[0] = 7;
	memset((char *)mem + ps, 0x3c, ps);
	child = fork();
	if (child == 0) {
		close(go[1]);
		close(rdy[0]);
		/* The child's marks, before the checkpoint. */
		anon[1] = 0x55;
		mem[1] = 0x66;
		close(rdy[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		shm_adds(anon, mem);
		_exit(0);
	}
	close(go[0]);
	close(rdy[1]);
	if (child < 0 || read(rdy[0], &c, 1) != 0 || await_usr1())
		return 1;
	if (anon[1] != 0x55 || mem[1] != 0x66)
		r = 1;
	if (!r && write(go[1], "g", 1) != 1)
		r = 2;
	if (!r)
		shm_adds(anon, mem);
	if (!r && (waitpid(child, &st, 0) != child || st != 0))
		r = 3;
	if (!r)
		r = check_shm(mfd, anon, mem, seals);
	report("shm", r);
	return 1;
}

static size_t read_file_into(const char *path, char *buf, size_t size);

/* The wd and mask of each "inotify wd:" line of /proc/self/fdinfo/@fd, into @out. */
static void inotify_infos(int fd, char *out, size_t len)
{
	char path[64], buf[4096], *p, *end;
	size_t n = 0;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	read_file_into(path, buf, sizeof(buf));
	out[0] = 0;
	for (p = strstr(buf, "inotify wd:"); p; p = strstr(end, "inotify wd:")) {
		char *mask = strstr(p, "mask:");

		end = strchr(p, '\n');
		if (!end || !mask || mask > end)
			break;
		/* wd and mask, not the inode number (another after a reboot). */
		p += strlen("inotify ");
		n += snprintf(out + n, len - n, "%.*s %.*s;", (int)(strchr(p, ' ') - p), p,
			      (int)(strchr(mask, ' ') - mask), mask);
		if (n >= len)
			break;
	}
}

/*
 * Reads the next event of inotify file @fd into @ev (and its name), or
 * fails. A read() takes whole events: they are kept until used.
 */
static int next_event(int fd, struct inotify_event *ev, char *name, size_t len)
{
	static char buf[4096] __attribute__((aligned(8)));
	static size_t at, end;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	struct inotify_event *e;
	ssize_t n;

	if (at == end) {
		if (poll(&pfd, 1, 5000) != 1)
			return -1;
		n = read(fd, buf, sizeof(buf));
		if (n < (ssize_t)sizeof(*e))
			return -1;
		at = 0;
		end = n;
	}
	e = (struct inotify_event *)(buf + at);
	at += sizeof(*e) + e->len;
	if (at > end)
		return -1;
	*ev = *e;
	snprintf(name, len, "%s", e->len ? e->name : "");
	return 0;
}

/*
 * The checks of inotify mode after restart: 0, or the one that failed.
 * @dir is watched as wd 1, @dir/f as wd 3, once; wd 2 was removed.
 */
static int check_inotify(int fd, const char *dir, const char *before)
{
	char path[4200], info[1024], name[256];
	struct inotify_event ev;
	int f, wd;

	/* The same watches, masks and flags, and the file's flags... */
	inotify_infos(fd, info, sizeof(info));
	if (strcmp(info, before))
		return 1;
	if (!(fcntl(fd, F_GETFL) & O_NONBLOCK) || !(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		return 2;
	/* ...the events it held, in order, and no more. */
	if (next_event(fd, &ev, name, sizeof(name)) || ev.wd != 2 || ev.mask != IN_IGNORED ||
	    next_event(fd, &ev, name, sizeof(name)) || ev.wd != 1 || ev.mask != IN_CREATE ||
	    strcmp(name, "before") || read(fd, path, sizeof(path)) != -1 || errno != EAGAIN)
		return 8;
	/* The directory's watch reports a file made now... */
	snprintf(path, sizeof(path), "%s/after", dir);
	f = open(path, O_CREAT | O_WRONLY, 0600);
	if (f < 0 || next_event(fd, &ev, name, sizeof(name)) || ev.wd != 1 ||
	    ev.mask != IN_CREATE || strcmp(name, "after"))
		return 3;
	close(f);
	/* ...the file's one-shot watch a write, once, then IN_IGNORED... */
	snprintf(path, sizeof(path), "%s/f", dir);
	f = open(path, O_WRONLY | O_APPEND);
	if (f < 0 || write(f, "x", 1) != 1 || write(f, "y", 1) != 1)
		return 4;
	close(f);
	if (next_event(fd, &ev, name, sizeof(name)) || ev.wd != 3 || ev.mask != IN_MODIFY)
		return 5;
	if (next_event(fd, &ev, name, sizeof(name)) || ev.wd != 3 || ev.mask != IN_IGNORED)
		return 6;
	/* ...and a new watch gets a wd after them all, as before. */
	wd = inotify_add_watch(fd, path, IN_ATTRIB);
	if (wd != 4)
		return 7;
	return 0;
}

/*
 * Inotify mode: an inotify file (IN_NONBLOCK | IN_CLOEXEC) watching the
 * directory @log.d (wd 1: creations, deletions, moves in) and the file f
 * in it (wd 3: a one-shot IN_MODIFY), wd 2 removed, two events unread. On
 * SIGUSR1, checks it (check_inotify()) and logs "inotify ok" to @log.
 */
static int inotify_mode(const char *log)
{
	char dir[4096], path[4200], before[1024];
	int fd, f;

	pending_log = open(log, O_WRONLY | O_APPEND);
	snprintf(dir, sizeof(dir), "%s.d", log);
	fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pending_log < 0 || fd < 0 || mkdir(dir, 0700))
		return 1;
	snprintf(path, sizeof(path), "%s/f", dir);
	f = open(path, O_CREAT | O_WRONLY, 0600);
	if (f < 0 || close(f))
		return 1;
	if (inotify_add_watch(fd, dir, IN_CREATE | IN_DELETE | IN_MOVED_TO) != 1 ||
	    inotify_add_watch(fd, path, IN_CLOSE_WRITE) != 2 ||
	    inotify_rm_watch(fd, 2) ||
	    inotify_add_watch(fd, path, IN_MODIFY | IN_ONESHOT) != 3)
		return 1;
	/* Two events held unread: wd 2's IN_IGNORED, and IN_CREATE "before". */
	snprintf(path, sizeof(path), "%s/before", dir);
	f = open(path, O_CREAT | O_WRONLY, 0600);
	if (f < 0 || close(f))
		return 1;
	inotify_infos(fd, before, sizeof(before));
	if (!strstr(before, "wd:3 mask:80000002;") || await_usr1())
		return 1;
	report("inotify", check_inotify(fd, dir, before));
	return 1;
}

/*
 * Hard-link mode: a file opened as @log.d/a, linked as @log.d/b and opened
 * as b too, then unlinked as a, written through the first descriptor. On
 * SIGUSR1, checks that it is still b's file, and logs "hardlink ok" to
 * @log.
 */
static int hardlink_mode(const char *log)
{
	char dir[4096], a[4200], b[4200], buf[32] = "";
	struct stat fs, bs;
	int fd, r = 0, f;

	pending_log = open(log, O_WRONLY | O_APPEND);
	snprintf(dir, sizeof(dir), "%s.d", log);
	snprintf(a, sizeof(a), "%s/a", dir);
	snprintf(b, sizeof(b), "%s/b", dir);
	if (pending_log < 0 || mkdir(dir, 0700))
		return 1;
	fd = open(a, O_CREAT | O_RDWR, 0600);
	if (fd < 0 || write(fd, "hello", 5) != 5 || link(a, b) || open(b, O_RDONLY) < 0 ||
	    unlink(a) || write(fd, " world", 6) != 6 || await_usr1())
		return 1;
	/* The same inode as b, its one link, with what was written, at 11. */
	if (fstat(fd, &fs) || stat(b, &bs) || fs.st_ino != bs.st_ino || fs.st_nlink != 1)
		r = 1;
	else if (pread(fd, buf, sizeof(buf), 0) != 11 || memcmp(buf, "hello world", 11) ||
		 lseek(fd, 0, SEEK_CUR) != 11)
		r = 2;
	/* A write through it shows through b. */
	else if (write(fd, "!", 1) != 1 || (f = open(b, O_RDONLY)) < 0 ||
		 pread(f, buf, sizeof(buf), 0) != 12 || buf[11] != '!')
		r = 3;
	report("hardlink", r);
	return 1;
}

/* Big-files mode: sizes that are not multiples of a contents record. */
#define BIG_MEMFD ((20 << 20) + 12345)
#define BIG_ANON (12 << 20)
#define BIG_UNLINKED ((9 << 20) + 77)

static unsigned char big_byte(size_t i, int salt)
{
	return (i * 131 + i / 4096 + salt) & 0xff;
}

static void big_fill(unsigned char *p, size_t len, int salt)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = big_byte(i, salt);
}

/* 0 if the @len bytes at @p are those of big_fill(), else 1. */
static int big_check(const unsigned char *p, size_t len, int salt)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != big_byte(i, salt))
			return 1;
	return 0;
}

/* The checks of big-files mode, after restart: 0, or the one that failed. */
static int check_big(int mfd, unsigned char *mem, unsigned char *anon, int ufd)
{
	static unsigned char buf[BIG_UNLINKED];
	unsigned int seals = F_SEAL_SHRINK | F_SEAL_GROW;
	struct stat st;
	char c = 0;

	if (big_check(mem, BIG_MEMFD, 1))
		return 1;
	if (big_check(anon, BIG_ANON, 2))
		return 2;
	if (fstat(mfd, &st) || st.st_size != BIG_MEMFD || fcntl(mfd, F_GET_SEALS) != seals)
		return 3;
	/* Still one memory: a write through the mapping shows through the fd. */
	mem[BIG_MEMFD - 1] ^= 0xff;
	if (pread(mfd, &c, 1, BIG_MEMFD - 1) != 1 || (unsigned char)c != mem[BIG_MEMFD - 1])
		return 4;
	if (fstat(ufd, &st) || st.st_size != BIG_UNLINKED || st.st_nlink != 0)
		return 5;
	if (pread(ufd, buf, BIG_UNLINKED, 0) != BIG_UNLINKED || big_check(buf, BIG_UNLINKED, 3))
		return 6;
	return 0;
}

/*
 * Big-files mode: a sealed memfd of 20 MiB and a bit, mapped shared, 12 MiB
 * of shared anonymous memory, and an unlinked file of 9 MiB and a bit in
 * /tmp, open for reading and writing, each with its own pattern. On
 * SIGUSR1, checks them (check_big()) and logs "big-files ok" to @log.
 */
static int big_files_mode(const char *log)
{
	static unsigned char buf[BIG_UNLINKED];
	char path[] = "/tmp/ckpt-big-XXXXXX";
	unsigned char *mem, *anon;
	int mfd, ufd;

	pending_log = open(log, O_WRONLY | O_APPEND);
	mfd = memfd_create("ckpt-big", MFD_ALLOW_SEALING);
	ufd = mkstemp(path);
	if (pending_log < 0 || mfd < 0 || ufd < 0 || ftruncate(mfd, BIG_MEMFD) || unlink(path))
		return 1;
	mem = mmap(NULL, BIG_MEMFD, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	anon = mmap(NULL, BIG_ANON, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED || anon == MAP_FAILED ||
	    fcntl(mfd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW))
		return 1;
	big_fill(mem, BIG_MEMFD, 1);
	big_fill(anon, BIG_ANON, 2);
	big_fill(buf, BIG_UNLINKED, 3);
	if (write(ufd, buf, BIG_UNLINKED) != BIG_UNLINKED)
		return 1;
	memset(buf, 0, sizeof(buf));
	if (await_usr1())
		return 1;
	report("big-files", check_big(mfd, mem, anon, ufd));
	return 1;
}

#define EV_PERIOD_NS (50 * 1000 * 1000)
#define EV_INFO 1024

/* The files of events mode. */
struct events {
	int ep, ep2, ep3, sfd, hour, tick, abs, efd, p[2];
	time_t abs_at;
	char info[6][EV_INFO];
};

/* Reads at most @size - 1 bytes of @path into @buf, NUL-terminated. */
static size_t read_file_into(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return 0;
	buf[n] = 0;
	return n;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * What /proc/self/fdinfo shows of @fd that restart must keep, into @out:
 * the watches of an epoll without the target's position and inode (in
 * sorted order: the epoll orders them by address), a timerfd's clock,
 * flags and period, a signalfd's mask.
 */
static int fdinfo_kept(int fd, char *out)
{
	static const char *const keys[] = {
		"tfd:", "clockid:", "settime flags:", "it_interval:", "sigmask:"
	};
	char path[64], buf[4096], *lines[64], *l, *save = NULL, *cut;
	size_t n = 0, i, k;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	if (!read_file_into(path, buf, sizeof(buf)))
		return -1;
	for (l = strtok_r(buf, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save)) {
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (!strncmp(l, keys[k], strlen(keys[k])))
				break;
		if (k == sizeof(keys) / sizeof(keys[0]))
			continue;
		cut = strstr(l, " pos:");
		if (cut)
			*cut = 0;
		lines[n++] = l;
	}
	qsort(lines, n, sizeof(lines[0]), cmp_lines);
	out[0] = 0;
	for (i = 0; i < n; i++) {
		strncat(out, lines[i], EV_INFO - strlen(out) - 2);
		strcat(out, "\n");
	}
	return n ? 0 : -1;
}

static int ev_watch(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* What fdinfo shows of each epoll, timerfd and signalfd of @e, into @info. */
static int ev_infos(const struct events *e, char (*info)[EV_INFO])
{
	int fds[6] = { e->ep, e->ep2, e->ep3, e->sfd, e->tick, e->abs };
	int i;

	for (i = 0; i < 6; i++)
		if (fdinfo_kept(fds[i], info[i]))
			return -1;
	return 0;
}

/* Waits up to @ms for events of @ep; returns the set of their data (bits). */
static uint64_t ev_ready(int ep, int ms)
{
	struct epoll_event ev[8];
	uint64_t got = 0;
	int i, n = epoll_wait(ep, ev, 8, ms);

	for (i = 0; i < n; i++)
		got |= 1ULL << (ev[i].data.u64 & 63);
	return got;
}

static int64_t ts_ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000LL + t->tv_nsec;
}

/* The checks of events mode, after the loop woke with @n events @ev. */
static int check_events(struct events *e, int n, struct epoll_event *ev)
{
	static char info[6][EV_INFO];
	struct signalfd_siginfo si;
	struct itimerspec it;
	struct timespec now;
	uint64_t v, got;
	char buf[8];
	int i;

	if (n != 1 || ev->data.u64 != 1)
		return 1;
	if (read(e->sfd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		return 2;
	if (read(e->sfd, &si, sizeof(si)) != -1 || errno != EAGAIN)
		return 3;
	if (ev_infos(e, info))
		return 4;
	for (i = 0; i < 6; i++)
		if (strcmp(info[i], e->info[i]))
			return 5 + i;
	if (ev_ready(e->ep3, 0) != 1ULL << 20)
		return 10;
	got = ev_ready(e->ep2, 0);
	if ((got & 0x2c00) != 0x2c00) /* 10, 11 and 13 */
		return 11;
	if (read(e->efd, &v, 8) != 8 || v != 3)
		return 12;
	if (read(e->efd, &v, 8) != -1 || errno != EAGAIN)
		return 13;
	if (read(e->p[0], buf, sizeof(buf)) != 5 || memcmp(buf, "hello", 5))
		return 14;
	if (read(e->p[0], buf, sizeof(buf)) != -1 || errno != EAGAIN)
		return 15;
	if (timerfd_gettime(e->tick, &it) || ts_ns(&it.it_interval) != EV_PERIOD_NS)
		return 16;
	/*
	 * The periodic timer still fires, and its watch says so (the watch
	 * on the eventfd for writing is always ready: wait on the timer).
	 */
	if (!(got & 1ULL << 12)) {
		struct pollfd p = { .fd = e->tick, .events = POLLIN };

		if (poll(&p, 1, 10000) != 1)
			return 17;
		got |= ev_ready(e->ep2, 0);
	}
	if (!(got & 1ULL << 12) || read(e->tick, &v, 8) != 8 || v < 1)
		return 17;
	/* The edge of the pipe was reported once. */
	if (ev_ready(e->ep2, 0) & 1ULL << 11)
		return 18;
	/* The hour-long timer kept what it had left, less the checkpoint. */
	if (timerfd_gettime(e->hour, &it) || it.it_value.tv_sec < 3000 ||
	    it.it_value.tv_sec >= 3600)
		return 19;
	/* The absolute timer kept its expiry. */
	if (timerfd_gettime(e->abs, &it) || clock_gettime(CLOCK_REALTIME, &now))
		return 20;
	if (llabs(ts_ns(&now) + ts_ns(&it.it_value) - e->abs_at * 1000000000LL) >
	    2000000000LL)
		return 21;
	return 0;
}

static int event_loop(const char *log)
{
	static struct events e;
	struct itimerspec it = { 0 };
	struct epoll_event ev;
	struct timespec now;
	sigset_t set;
	int fd, n;

	pending_log = open(log, O_WRONLY | O_APPEND);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	e.sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	e.hour = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	e.tick = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	e.abs = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	e.efd = eventfd(3, EFD_NONBLOCK);
	e.ep = epoll_create1(0);
	e.ep2 = epoll_create1(EPOLL_CLOEXEC);
	e.ep3 = epoll_create1(0);
	if (pending_log < 0 || e.sfd < 0 || e.hour < 0 || e.tick < 0 || e.abs < 0 ||
	    e.efd < 0 || e.ep < 0 || e.ep2 < 0 || e.ep3 < 0 ||
	    pipe2(e.p, O_NONBLOCK) || write(e.p[1], "hello", 5) != 5)
		return 1;
	it.it_value.tv_sec = 3600;
	if (timerfd_settime(e.hour, 0, &it, NULL))
		return 1;
	it.it_value.tv_sec = 0;
	it.it_value.tv_nsec = it.it_interval.tv_nsec = EV_PERIOD_NS;
	if (timerfd_settime(e.tick, 0, &it, NULL) || clock_gettime(CLOCK_REALTIME, &now))
		return 1;
	e.abs_at = now.tv_sec + 7200;
	it.it_value.tv_sec = e.abs_at;
	it.it_value.tv_nsec = it.it_interval.tv_nsec = 0;
	if (timerfd_settime(e.abs, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &it, NULL))
		return 1;
	fd = dup(e.efd);
	if (fd < 0 || ev_watch(e.ep, e.sfd, EPOLLIN, 1) || ev_watch(e.ep, e.hour, EPOLLIN, 2) ||
	    ev_watch(e.ep2, e.efd, EPOLLIN, 10) ||
	    ev_watch(e.ep2, e.p[0], EPOLLIN | EPOLLET, 11) ||
	    ev_watch(e.ep2, e.tick, EPOLLIN, 12) || ev_watch(e.ep2, fd, EPOLLOUT, 13) ||
	    close(fd) || ev_watch(e.ep3, e.ep2, EPOLLIN, 20))
		return 1;
	if (ev_infos(&e, e.info) || write(1, "ready", 5) != 5)
		return 1;
	quiet_stdout();
	/* As after SIGSTOP, a frozen epoll_wait() may fail with EINTR. */
	do
		n = epoll_wait(e.ep, &ev, 1, -1);
	while (n < 0 && errno == EINTR);
	report("events", check_events(&e, n, &ev));
	return 1;
}

#define PW_LEN (200 << 10)

/* Returns true if @pid sleeps in a system call. */
static int in_state(pid_t pid, char state)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (!read_file_into(path, buf, sizeof(buf)))
		return 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' && p[2] == state;
}

static int asleep(pid_t pid)
{
	return in_state(pid, 'S');
}

/* The reader of pipe-wait mode: blocks in read() on an empty pipe. */
static void pw_reader(int p1[2], int p2[2])
{
	char c[8];

	close(p1[1]);
	close(p2[0]);
	close(p2[1]);
	_exit(read(p1[0], c, sizeof(c)) == 5 && !memcmp(c, "wake!", 5) ? 0 : 1);
}

/* The writer of pipe-wait mode: blocks in write() on a full pipe. */
static void pw_writer(int p1[2], int p2[2], unsigned char *buf)
{
	size_t i, done;
	ssize_t n;

	close(p1[0]);
	close(p1[1]);
	close(p2[0]);
	for (i = 0; i < PW_LEN; i++)
		buf[i] = pipe_byte(i);
	/* A stop cuts a write short, as a signal does: write the rest. */
	for (done = 0; done < PW_LEN; done += n) {
		n = write(p2[1], buf + done, PW_LEN - done);
		if (n <= 0)
			_exit(1);
	}
	_exit(0);
}

static int pipe_wait(const char *log)
{
	static unsigned char buf[PW_LEN];
	int p1[2], p2[2], st, k = 0, r = 0;
	size_t got = 0, i;
	pid_t a, b;
	ssize_t n;

	pending_log = open(log, O_WRONLY | O_APPEND);
	if (pending_log < 0 || pipe(p1) || pipe(p2))
		return 1;
	a = fork();
	if (a == 0)
		pw_reader(p1, p2);
	b = fork();
	if (b == 0)
		pw_writer(p1, p2, buf);
	close(p1[0]);
	close(p2[1]);
	/* Both blocked: the reader asleep, the pipe full and its writer asleep. */
	while (a > 0 && b > 0 &&
	       (!asleep(a) || ioctl(p2[0], FIONREAD, &k) || k < 65536 || !asleep(b)))
		usleep(10000);
	if (a < 0 || b < 0 || await_usr1())
		return 1;
	if (write(p1[1], "wake!", 5) != 5)
		r = 1;
	while (!r && got < PW_LEN) {
		n = read(p2[0], buf + got, PW_LEN - got);
		if (n <= 0)
			r = 2;
		else
			got += n;
	}
	for (i = 0; !r && i < PW_LEN; i++)
		if (buf[i] != pipe_byte(i))
			r = 3;
	/* Nothing more: end of file once the writer is gone. */
	if (!r && read(p2[0], buf, 1) != 0)
		r = 4;
	if (!r && (waitpid(a, &st, 0) != a || st != 0))
		r = 5;
	if (!r && (waitpid(b, &st, 0) != b || st != 0))
		r = 6;
	report("pipe-wait", r);
	return 1;
}

/* A child of share mode: created with @flags, waits for SIGUSR1, then acts. */
enum { SHARE_A, SHARE_B, SHARE_F, SHARE_S, SHARE_N };

static pid_t share_child(unsigned long flags, int role)
{
	long pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	sigset_t set;
	int sig;

	if (pid)
		return pid;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (sigwait(&set, &sig))
		_exit(10);
	switch (role) {
	case SHARE_A:
		_exit(dup2(0, 60) == 60 ? 0 : 11);
	case SHARE_B:
		/* A's descriptor, and not the one the root opened alone. */
		_exit(fcntl(60, F_GETFD) < 0 ? 12 : fcntl(41, F_GETFD) >= 0 ? 13 : 0);
	case SHARE_F:
		_exit(dup2(0, 50) == 50 ? 0 : 14);
	default:
		umask(033);
		_exit(chdir("/var/tmp") ? 15 : 0);
	}
}

/* Sends SIGUSR1 to @pid and returns its exit status, or -1. */
static int share_run(pid_t pid)
{
	int st;

	if (kill(pid, SIGUSR1) || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static int share_mode(const char *log)
{
	pid_t kid[SHARE_N];
	char cwd[64];
	sigset_t set;
	int i, r = 0;

	pending_log = open(log, O_WRONLY | O_APPEND);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (pending_log < 0 || sigprocmask(SIG_BLOCK, &set, NULL) || chdir("/tmp"))
		return 1;
	umask(022);
	kid[SHARE_A] = share_child(CLONE_FILES, SHARE_A);
	kid[SHARE_B] = share_child(CLONE_FILES, SHARE_B);
	/* A and B keep the table; the root has a copy, with fd 41. */
	if (unshare(CLONE_FILES) || dup2(0, 41) != 41)
		return 1;
	kid[SHARE_F] = share_child(CLONE_FILES, SHARE_F);
	kid[SHARE_S] = share_child(CLONE_FS, SHARE_S);
	for (i = 0; i < SHARE_N; i++) {
		if (kid[i] < 0)
			return 1;
		while (!asleep(kid[i]))
			usleep(10000);
	}
	if (await_usr1())
		return 1;
	if (share_run(kid[SHARE_F]) != 0 || fcntl(50, F_GETFD) < 0)
		r = 1;
	if (!r && (share_run(kid[SHARE_S]) != 0 || !getcwd(cwd, sizeof(cwd)) ||
		   strcmp(cwd, "/var/tmp") || umask(0) != 033))
		r = 2;
	if (!r && (share_run(kid[SHARE_A]) != 0 || fcntl(60, F_GETFD) >= 0))
		r = 3;
	i = r ? 0 : share_run(kid[SHARE_B]);
	if (i)
		r = 100 + i;
	if (!r && fcntl(41, F_GETFD) < 0)
		r = 4;
	report("share", r);
	return 1;
}

/*
 * vm mode: C shares the root's memory (clone(CLONE_VM)); P is a fork()ed
 * child blocked in vfork() for V, which shares P's memory until it exits.
 */
static volatile int vm_started, vm_msg, vm_reply;
static volatile pid_t vf_pid;
static volatile int vf_done;
static char vm_stack[65536] __attribute__((aligned(16)));

static int vm_child(void *arg)
{
	sigset_t set;
	int sig;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	vm_started = 1;
	if (sigwait(&set, &sig))
		_exit(10);
	/* What the root wrote after the restart, and what it reads back. */
	vm_reply = vm_msg * 2 + 1;
	_exit(vm_msg ? 0 : 11);
}

/* P: returns 0 if vfork() returned V's pid once V exited with 7. */
static int vfork_parent(int fd)
{
	sigset_t set;
	pid_t v;
	int st, sig;

	v = vfork();
	if (v == 0) {
		vf_pid = getpid();
		if (write(fd, (const void *)&vf_pid, sizeof(vf_pid)) != sizeof(vf_pid))
			_exit(20);
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		if (sigwait(&set, &sig))
			_exit(21);
		vf_done = 1;
		_exit(7);
	}
	if (v < 0)
		return 1;
	if (v != vf_pid)
		return 2;
	/* It ran again only once its child was gone. */
	if (!vf_done)
		return 3;
	if (waitpid(v, &st, 0) != v || !WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return 4;
	return 0;
}

static int vm_mode(const char *log)
{
	pid_t c, p, v;
	sigset_t set;
	int fds[2], st, r = 0, msg;

	pending_log = open(log, O_WRONLY | O_APPEND);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (pending_log < 0 || sigprocmask(SIG_BLOCK, &set, NULL) || pipe(fds))
		return 1;
	c = clone(vm_child, vm_stack + sizeof(vm_stack), CLONE_VM | SIGCHLD, NULL);
	p = c < 0 ? -1 : fork();
	if (p == 0)
		_exit(vfork_parent(fds[1]));
	if (p < 0 || read(fds[0], &v, sizeof(v)) != sizeof(v))
		return 1;
	/* C and V wait for SIGUSR1, P in vfork(). */
	while (!vm_started || !asleep(c) || !asleep(v) || !in_state(p, 'D'))
		usleep(10000);
	if (await_usr1())
		return 1;
	/* Not in the image: only memory shared since the restart shows it. */
	msg = (getpid() ^ (int)time(NULL)) | 1;
	vm_msg = msg;
	if (kill(c, SIGUSR1) || waitpid(c, &st, 0) != c || !WIFEXITED(st))
		r = 1;
	else if (WEXITSTATUS(st))
		r = 100 + WEXITSTATUS(st);
	else if (vm_reply != msg * 2 + 1)
		r = 2;
	if (!r && (kill(v, SIGUSR1) || waitpid(p, &st, 0) != p || !WIFEXITED(st)))
		r = 3;
	else if (!r && WEXITSTATUS(st))
		r = 200 + WEXITSTATUS(st);
	report("vm", r);
	return 1;
}

/* Touches @mib MiB of new anonymous memory. */
static int touch_mib(size_t mib)
{
	char *m = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		return -1;
	memset(m, 0x5a, mib << 20);
	return 0;
}

/*
 * A tree of @n processes, the root and @n - 1 children, each with 1 MiB of
 * touched memory: "ready" once all are, then pause (the benchmark's).
 */
static int fill_ready[2];

static void *fill_thread(void *arg)
{
	(void)arg;
	if (touch_mib(1) || write(fill_ready[1], "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
	return NULL;
}

static int fill_threads(int n)
{
	pthread_t t;
	char c;
	int i;

	if (n < 1 || pipe(fill_ready))
		return 1;
	for (i = 1; i < n; i++)
		if (pthread_create(&t, NULL, fill_thread, NULL))
			return 1;
	if (touch_mib(1))
		return 1;
	for (i = 1; i < n; i++)
		if (read(fill_ready[0], &c, 1) != 1)
			return 1;
	if (write(1, "ready", 5) != 5)
		return 1;
	quiet_stdout();
	for (;;)
		pause();
}

static int fill_tree(int n)
{
	int ready[2], i;
	char c;

	if (n < 1 || pipe(ready))
		return 1;
	for (i = 1; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0) {
			close(ready[0]);
			quiet_stdout();
			if (touch_mib(1) || write(ready[1], "r", 1) != 1)
				_exit(1);
			close(ready[1]);
			for (;;)
				pause();
		}
	}
	close(ready[1]);
	if (touch_mib(1))
		return 1;
	for (i = 1; i < n; i++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	close(ready[0]);
	if (write(1, "ready", 5) != 5)
		return 1;
	quiet_stdout();
	for (;;)
		pause();
}

#define FIFO_DATA 5000

/* The checks of fifo mode, after restart: 0, or the number of the one that failed. */
static int check_fifo(const char *path, int rd, int wr, int rw)
{
	static unsigned char back[FIFO_DATA + 1];
	char link[64], target[256];
	ssize_t n;
	size_t i;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", rd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 1;
	target[n] = '\0';
	if (strcmp(target, path))
		return 2;
	if (!(fcntl(rd, F_GETFL) & O_NONBLOCK) || (fcntl(wr, F_GETFL) & O_NONBLOCK) ||
	    (fcntl(rw, F_GETFL) & O_ACCMODE) != O_RDWR)
		return 3;
	/* What was buffered, once, in order. */
	if (read(rd, back, FIFO_DATA + 1) != FIFO_DATA)
		return 4;
	for (i = 0; i < FIFO_DATA; i++)
		if (back[i] != pipe_byte(i))
			return 5;
	if (read(rd, back, 1) != -1 || errno != EAGAIN)
		return 6;
	/* And it is one FIFO still. */
	if (write(wr, "more", 4) != 4 || read(rw, back, 4) != 4 || memcmp(back, "more", 4))
		return 7;
	return 0;
}

/*
 * A FIFO at LOG.fifo, open for reading (O_NONBLOCK), for writing and for
 * both, with FIFO_DATA bytes buffered. On SIGUSR1, checks them.
 */
static int fifo_mode(const char *log)
{
	static unsigned char data[FIFO_DATA];
	int rd, wr, rw;
	char path[256];
	size_t i;

	pending_log = open(log, O_WRONLY | O_APPEND);
	snprintf(path, sizeof(path), "%s.fifo", log);
	for (i = 0; i < FIFO_DATA; i++)
		data[i] = pipe_byte(i);
	if (pending_log < 0 || mkfifo(path, 0600))
		return 1;
	rd = open(path, O_RDONLY | O_NONBLOCK);
	wr = open(path, O_WRONLY);
	rw = open(path, O_RDWR);
	if (rd < 0 || wr < 0 || rw < 0 || write(wr, data, FIFO_DATA) != FIFO_DATA ||
	    await_usr1())
		return 1;
	report("fifo", check_fifo(path, rd, wr, rw));
	return 1;
}

#define UNL_LEN (1 << 20)
#define UNL_POS 12345

static unsigned char unl_byte(size_t i, int which)
{
	return (i * 13 + i / 4096 + which * 101) & 0xff;
}

/* Makes a file in /tmp of UNL_LEN bytes of pattern @which, and unlinks it. */
static int unl_file(int which)
{
	char path[] = "/tmp/ckpt-unlinked-XXXXXX";
	static unsigned char data[UNL_LEN];
	int fd = mkstemp(path);
	size_t i;

	for (i = 0; i < UNL_LEN; i++)
		data[i] = unl_byte(i, which);
	if (fd < 0 || write(fd, data, UNL_LEN) != UNL_LEN || unlink(path))
		return -1;
	return fd;
}

/* The checks of unlinked mode, after restart: 0, or the number of the one that failed. */
static int check_unlinked(int fd, unsigned char *shared, unsigned char *only)
{
	static unsigned char back[UNL_LEN];
	char link[64], target[256];
	struct stat st;
	ssize_t n;
	size_t i;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0)
		return 1;
	target[n] = '\0';
	if (fstat(fd, &st) || st.st_nlink || !strstr(target, "(deleted)"))
		return 2;
	if (lseek(fd, 0, SEEK_CUR) != UNL_POS)
		return 3;
	/* Its contents, as written, and as changed through the mapping. */
	if (pread(fd, back, UNL_LEN, 0) != UNL_LEN)
		return 4;
	for (i = 0; i < UNL_LEN; i++)
		if (back[i] != (i % 65536 == 7 ? 0xee : unl_byte(i, 0)))
			return 5;
	if (memcmp(back, shared, UNL_LEN))
		return 6;
	/* The mapping and the descriptor are one file still. */
	shared[99] = 0x42;
	if (pread(fd, back, 1, 99) != 1 || back[0] != 0x42)
		return 7;
	/* The file only mapped, with no descriptor. */
	for (i = 0; i < UNL_LEN; i++)
		if (only[i] != unl_byte(i, 1))
			return 8;
	return 0;
}

/*
 * An unlinked file of 1 MiB, open at UNL_POS and mapped shared, changed
 * through the mapping; another only mapped. On SIGUSR1, checks them.
 */
static int unlinked_mode(const char *log)
{
	unsigned char *shared, *only;
	int fd, other;
	size_t i;

	pending_log = open(log, O_WRONLY | O_APPEND);
	fd = unl_file(0);
	other = unl_file(1);
	if (pending_log < 0 || fd < 0 || other < 0)
		return 1;
	shared = mmap(NULL, UNL_LEN, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	only = mmap(NULL, UNL_LEN, PROT_READ, MAP_SHARED, other, 0);
	if (shared == MAP_FAILED || only == MAP_FAILED || close(other) ||
	    lseek(fd, UNL_POS, SEEK_SET) != UNL_POS)
		return 1;
	for (i = 7; i < UNL_LEN; i += 65536)
		shared[i] = 0xee;
	if (await_usr1())
		return 1;
	report("unlinked", check_unlinked(fd, shared, only));
	return 1;
}

#define TREE_N 10

/* The parent of each task of tree mode: the root, A B C, A1 A2, B1 B2 B3, A11. */
static const int tree_parent[TREE_N] = { -1, 0, 0, 0, 1, 1, 2, 2, 2, 4 };

static unsigned char *tree_mem;
static pid_t tree_pid, tree_ppid, tree_pgid, tree_sid, tree_join, tree_zombie;
static int tree_pipe[2], tree_ready[2];

static unsigned char tree_byte(int idx, size_t i)
{
	return (idx * 31 + i * 7 + i / 4096) & 0xff;
}

static void tree_log(const char *fmt, int a, int b, int c)
{
	char buf[64];

	snprintf(buf, sizeof(buf), fmt, a, b, c);
	note(buf);
}

/* Task @idx of tree mode: makes its children, then waits for SIGUSR1. */
static void tree_node(int idx)
{
	pid_t a2 = 0, pid;
	size_t i, len = 16 * ps;
	int j, r = 0, status, sig;
	sigset_t set;
	char msg[8];

again:
	if (idx)
		quiet_stdout();
	/*
	 * Sessions and groups: B (2) leads a session, A (1) and B1 (6)
	 * their own groups, and B2 (7) joins B1's.
	 */
	if ((idx == 2 && setsid() < 0) || ((idx == 1 || idx == 6) && setpgid(0, 0)) ||
	    (idx == 7 && setpgid(0, tree_join)))
		_exit(1);
	tree_pid = getpid();
	tree_ppid = getppid();
	tree_pgid = getpgid(0);
	tree_sid = getsid(0);
	tree_mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (tree_mem == MAP_FAILED)
		_exit(1);
	for (i = 0; i < len; i++)
		tree_mem[i] = tree_byte(idx, i);
	for (j = idx + 1; j < TREE_N; j++) {
		if (tree_parent[j] != idx)
			continue;
		pid = fork();
		if (pid < 0)
			_exit(1);
		if (pid == 0) {
			/* The child is task j, from the start. */
			munmap(tree_mem, len);
			idx = j;
			a2 = 0;
			goto again;
		}
		if (j == 5)
			a2 = pid;
		/* B1's group exists before B2 joins it, as a shell makes sure. */
		if (j == 6 && setpgid(pid, pid))
			_exit(1);
		if (j == 6)
			tree_join = pid;
	}
	/* The root reads what its child C (3) wrote; no one else holds the pipe. */
	if (idx == 3 && write(tree_pipe[1], "from C", 6) != 6)
		_exit(1);
	if (idx != 0)
		close(tree_pipe[0]);
	if (idx != 3)
		close(tree_pipe[1]);
	tree_log("ready %d %d %d\n", idx, tree_pid, tree_ppid);
	if (idx == 0) {
		char c[TREE_N];
		size_t got = 0;
		siginfo_t si;
		ssize_t n;

		/* A child that exits 9 and that it does not reap. */
		tree_zombie = fork();
		if (tree_zombie == 0)
			_exit(9);
		if (tree_zombie < 0 || waitid(P_PID, tree_zombie, &si, WEXITED | WNOWAIT))
			_exit(1);
		close(tree_ready[1]);
		while (got < TREE_N - 1 && (n = read(tree_ready[0], c, sizeof(c))) > 0)
			got += n;
		close(tree_ready[0]);
		if (got != TREE_N - 1 || write(1, "ready", 5) != 5)
			_exit(1);
		quiet_stdout();
	} else {
		close(tree_ready[0]);
		if (write(tree_ready[1], "r", 1) != 1)
			_exit(1);
		close(tree_ready[1]);
	}
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigwait(&set, &sig);
	/* The init of a pid namespace passes it on to all the others. */
	if (idx == 0 && getpid() == 1)
		kill(-1, SIGUSR1);
	/* The root's parent is outside the tree: whoever restarted it. */
	if (getpid() != tree_pid)
		r = 1;
	else if (idx && getppid() != tree_ppid)
		r = 2;
	else if (getpgid(0) != tree_pgid || getsid(0) != tree_sid)
		r = 5;
	for (i = 0; !r && i < len; i++)
		if (tree_mem[i] != tree_byte(idx, i))
			r = 3;
	/* Its zombie is one already, with its status. */
	if (!r && idx == 0 && (waitpid(tree_zombie, &status, WNOHANG) != tree_zombie ||
			       !WIFEXITED(status) || WEXITSTATUS(status) != 9))
		r = 6;
	if (!r && idx == 0 && (read(tree_pipe[0], msg, sizeof(msg)) != 6 ||
			       memcmp(msg, "from C", 6)))
		r = 4;
	if (r)
		tree_log("FAIL %d %d%c", idx, r, '\n');
	else
		tree_log("ok %d%c%c", idx, '\n', 0);
	if (idx == 5)
		_exit(7);
	if (idx == 1 && waitpid(a2, &status, 0) == a2 && WIFEXITED(status))
		tree_log("reaped %d%c%c", WEXITSTATUS(status), '\n', 0);
	for (;;)
		pause();
}

static int tree(const char *log)
{
	sigset_t set;

	pending_log = open(log, O_WRONLY | O_APPEND);
	if (pending_log < 0 || pipe(tree_pipe) || pipe(tree_ready))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	tree_node(0);
	return 1;
}

/*
 * nested mode, as the init R of a pid namespace: R makes S, which leads a
 * process group, and A in that group; A unshares a pid namespace N1 and
 * makes B, its init, then D there; B makes C, and a child that exits 5 and
 * that it reaps only after SIGUSR1. All of them are in S's group, which
 * those in N1 cannot see. R makes E, the init of another, N2, with
 * clone(CLONE_NEWPID); E makes F. Each keeps its pids below the outermost
 * level, and checks them after SIGUSR1; A then makes G, which must be in
 * N1.
 */
#define NEST_N 8

static char nest_pids[128];
static int nest_ready[2];
static pid_t nest_group;

/* The pids of the caller from the second level of /proc down, in @out. */
static int nest_read_pids(char *out, size_t len)
{
	char buf[4096], *v = status_line("NSpid:\t", buf, sizeof(buf));
	char *tab = v ? strchr(v, '\t') : NULL;

	if (!tab)
		return -1;
	snprintf(out, len, "%s", tab + 1);
	return 0;
}

/* How many levels the caller's pid has. */
static int nest_levels(void)
{
	char p[128];
	int n = 1;
	char *c;

	if (nest_read_pids(p, sizeof(p)))
		return -1;
	for (c = p; *c; c++)
		n += *c == '\t';
	return n + 1;
}

static void nest_node(char id);

/* Forks task @id (with @flags for clone()); returns its pid. */
static pid_t nest_fork(char id, unsigned long flags)
{
	pid_t pid = syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);

	if (pid < 0)
		_exit(1);
	if (pid == 0)
		nest_node(id);
	return pid;
}

static void nest_node(char id)
{
	pid_t kid = 0, zombie = 0, ppid = getppid(), pid = getpid();
	char msg[64], now[128];
	int sig, status, r = 0, levels;
	sigset_t set;

	if (nest_read_pids(nest_pids, sizeof(nest_pids)))
		_exit(1);
	if (id == 'R') {
		nest_group = nest_fork('S', 0);
		if (setpgid(nest_group, nest_group))
			_exit(1);
		nest_fork('A', 0);
		nest_fork('E', CLONE_NEWPID);
	} else if (id == 'S') {
		if (setpgid(0, 0))
			_exit(1);
	} else if (id == 'A') {
		if (setpgid(0, nest_group) || unshare(CLONE_NEWPID))
			_exit(1);
		kid = nest_fork('B', 0);
		nest_fork('D', 0);
	} else if (id == 'B') {
		siginfo_t si;

		kid = nest_fork('C', 0);
		/* A zombie in N1, with its status. */
		zombie = fork();
		if (zombie == 0)
			_exit(5);
		if (zombie < 0 || waitid(P_PID, zombie, &si, WEXITED | WNOWAIT))
			_exit(1);
	} else if (id == 'E') {
		kid = nest_fork('F', 0);
	}
	levels = nest_levels();
	if (id == 'R') {
		char c[NEST_N];
		size_t got = 0;
		ssize_t n;

		close(nest_ready[1]);
		while (got < NEST_N - 1 && (n = read(nest_ready[0], c, sizeof(c))) > 0)
			got += n;
		if (got != NEST_N - 1 || write(1, "ready", 5) != 5)
			_exit(1);
		quiet_stdout();
	} else {
		quiet_stdout();
		if (write(nest_ready[1], &id, 1) != 1)
			_exit(1);
	}
	close(nest_ready[0]);
	close(nest_ready[1]);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigwait(&set, &sig);
	if (id == 'R')
		kill(-1, SIGUSR1);
	/* The same pids at every level from the container down. */
	if (nest_read_pids(now, sizeof(now)) || strcmp(now, nest_pids))
		r = 1;
	else if (getpid() != pid || getppid() != ppid)
		r = 2;
	/* Its child, by the pid it had, in its namespace. */
	else if (kid && kill(kid, 0))
		r = 3;
	else if (nest_levels() != levels)
		r = 4;
	else if (zombie && (waitpid(zombie, &status, WNOHANG) != zombie || !WIFEXITED(status) ||
			    WEXITSTATUS(status) != 5))
		r = 6;
	/* Its children are still made in the namespace it unshared. */
	if (!r && id == 'A') {
		pid_t g = fork();

		if (g == 0)
			_exit(nest_levels());
		if (g < 0 || waitpid(g, &status, 0) != g || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != levels + 1)
			r = 5;
	}
	snprintf(msg, sizeof(msg), r ? "nested FAIL %c %d\n" : "nested ok %c\n", id, r);
	note(msg);
	for (;;)
		pause();
}

static int nested_mode(const char *log)
{
	sigset_t set;

	pending_log = open(log, O_WRONLY | O_APPEND);
	if (pending_log < 0 || pipe(nest_ready))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	nest_node('R');
	return 1;
}

/*
 * cow mode: a parent with COW_MIB MiB of memory forks COW_WORKERS workers,
 * which share it copy-on-write; each writes one page of its own. Some
 * pages are left empty until after the forks, when the parent writes
 * them, and page 0: the workers must not see those writes. On SIGUSR1
 * each checks what it sees and logs it; the parent reaps the workers.
 */
#define COW_WORKERS 50
#define COW_MIB 8
#define COW_LATE 64

/* Whether byte @i of the cow area is in a page written after the forks. */
static int cow_late(size_t i)
{
	size_t page = i / ps, pages = ((size_t)COW_MIB << 20) / ps;

	return (page >= pages / 2 && page < pages / 2 + COW_LATE) || page == pages - 1;
}

static unsigned char cow_byte(size_t i)
{
	return (i * 13 + i / 4096) & 0xff;
}

/* Whether worker @w (-1: the parent) sees its memory as it should. */
static int cow_ok(const unsigned char *mem, int w)
{
	size_t i, len = (size_t)COW_MIB << 20;

	for (i = 0; i < len; i++) {
		unsigned char want = cow_byte(i);

		if (cow_late(i))
			want = w < 0 ? 0x5a : 0;
		else if (i == 0 && w < 0)
			want = 0xee;
		else if (w >= 0 && i == (size_t)(w + 1) * ps)
			want = 0xff - w;
		if (mem[i] != want)
			return 0;
	}
	return 1;
}

static int cow_mode(const char *log)
{
	size_t i, len = (size_t)COW_MIB << 20;
	pid_t kids[COW_WORKERS];
	int ready[2], w, sig, status, reaped = 0;
	unsigned char *mem;
	char c, msg[64];
	sigset_t set;

	pending_log = open(log, O_WRONLY | O_APPEND);
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pending_log < 0 || mem == MAP_FAILED || pipe(ready))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	for (i = 0; i < len; i++)
		if (!cow_late(i))
			mem[i] = cow_byte(i);
	for (w = 0; w < COW_WORKERS; w++) {
		kids[w] = fork();
		if (kids[w] < 0)
			return 1;
		if (kids[w] > 0)
			continue;
		/* One page of its own; it shares the rest with the parent. */
		mem[(w + 1) * ps] = 0xff - w;
		quiet_stdout();
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		close(ready[1]);
		sigwait(&set, &sig);
		snprintf(msg, sizeof(msg), cow_ok(mem, w) ? "cow ok %d\n" : "cow FAIL %d\n", w);
		note(msg);
		_exit(0);
	}
	close(ready[1]);
	for (w = 0; w < COW_WORKERS; w++)
		if (read(ready[0], &c, 1) != 1)
			return 1;
	close(ready[0]);
	/* Pages that only the parent has. */
	for (i = 0; i < len; i++)
		if (cow_late(i))
			mem[i] = 0x5a;
	mem[0] = 0xee;
	if (write(1, "ready", 5) != 5)
		return 1;
	quiet_stdout();
	sigwait(&set, &sig);
	for (w = 0; w < COW_WORKERS; w++)
		kill(kids[w], SIGUSR1);
	for (w = 0; w < COW_WORKERS; w++)
		if (waitpid(kids[w], &status, 0) == kids[w] && WIFEXITED(status) &&
		    !WEXITSTATUS(status))
			reaped++;
	snprintf(msg, sizeof(msg), cow_ok(mem, -1) ? "cow parent ok, reaped %d\n" :
			 "cow parent FAIL, reaped %d\n", reaped);
	note(msg);
	for (;;)
		pause();
}

#define THR_N 8

static pthread_t thr[THR_N];
static pid_t thr_tid[THR_N];
static pthread_mutex_t thr_held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t thr_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t thr_cond = PTHREAD_COND_INITIALIZER;
static int thr_go;
static int thr_futex;
static __thread long thr_tls[64];

static void thr_fill(long id)
{
	int i;

	for (i = 0; i < 64; i++)
		thr_tls[i] = id * 1000 + i;
}

static int thr_tls_ok(long id)
{
	int i;

	for (i = 0; i < 64; i++)
		if (thr_tls[i] != id * 1000 + i)
			return 0;
	return 1;
}

static void on_usr2_quiet(int sig)
{
}

/*
 * Waits in raw futex calls until thr_futex is set, with r12-r15, xmm0 and
 * xmm1 holding values of thread @id; returns whether they survived.
 */
static int thr_regs(long id)
{
#ifdef __x86_64__
	struct {
		unsigned char x[2][16];		/* 0 */
		long id;			/* 32 */
		int *f;				/* 40 */
		long bad;			/* 48 */
	} st = { .id = id << 32, .f = &thr_futex };
	int i;

	_Static_assert(offsetof(typeof(st), bad) == 48, "asm offsets");
	for (i = 0; i < 32; i++)
		st.x[i / 16][i % 16] = id * 32 + i;
	asm volatile("movdqu 0(%[s]), %%xmm0\n\t"
		     "movdqu 16(%[s]), %%xmm1\n\t"
		     "mov 32(%[s]), %%r12\n\t"
		     "lea 1(%%r12), %%r13\n\t"
		     "lea 2(%%r12), %%r14\n\t"
		     "lea 3(%%r12), %%r15\n\t"
		     "1: mov $202, %%eax\n\t"		/* futex(f, FUTEX_WAIT_PRIVATE, 0) */
		     "mov 40(%[s]), %%rdi\n\t"
		     "mov $128, %%esi\n\t"
		     "xor %%edx, %%edx\n\t"
		     "xor %%r10d, %%r10d\n\t"
		     "syscall\n\t"
		     "mov 40(%[s]), %%rdi\n\t"
		     "cmpl $0, (%%rdi)\n\t"
		     "je 1b\n\t"
		     "mov 32(%[s]), %%rax\n\t"
		     "cmp %%rax, %%r12\n\t"
		     "jne 2f\n\t"
		     "inc %%rax\n\t"
		     "cmp %%rax, %%r13\n\t"
		     "jne 2f\n\t"
		     "inc %%rax\n\t"
		     "cmp %%rax, %%r14\n\t"
		     "jne 2f\n\t"
		     "inc %%rax\n\t"
		     "cmp %%rax, %%r15\n\t"
		     "jne 2f\n\t"
		     "movdqu 0(%[s]), %%xmm2\n\t"
		     "pcmpeqb %%xmm0, %%xmm2\n\t"
		     "pmovmskb %%xmm2, %%eax\n\t"
		     "cmp $0xffff, %%eax\n\t"
		     "jne 2f\n\t"
		     "movdqu 16(%[s]), %%xmm2\n\t"
		     "pcmpeqb %%xmm1, %%xmm2\n\t"
		     "pmovmskb %%xmm2, %%eax\n\t"
		     "cmp $0xffff, %%eax\n\t"
		     "je 3f\n\t"
		     "2: movq $1, 48(%[s])\n\t"
		     "3:\n\t"
		     : : [s] "r"(&st)
		     : "rax", "rcx", "rdx", "rsi", "rdi", "r10", "r11", "r12",
		       "r13", "r14", "r15", "xmm0", "xmm1", "xmm2", "memory", "cc");
	return !st.bad;
#else
	while (!__atomic_load_n(&thr_futex, __ATOMIC_ACQUIRE))
		syscall(SYS_futex, &thr_futex, FUTEX_WAIT_PRIVATE, 0, NULL);
	return 1;
#endif
}

/* Thread @arg of threads mode; returns 0 if all it checked held, else why. */
static void *thr_main(void *arg)
{
	long id = (long)arg, r = 0;
	struct timespec ts, rem = { 0, 0 };
	void *joined;

	__atomic_store_n(&thr_tid[id], gettid(), __ATOMIC_RELEASE);
	thr_fill(id + 1);
	switch (id) {
	case 0:
	case 1:
	case 7:
		pthread_mutex_lock(&thr_lock);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 3600;
		while (!thr_go && !r)
			r = id == 7 ? pthread_cond_timedwait(&thr_cond, &thr_lock, &ts) :
				      pthread_cond_wait(&thr_cond, &thr_lock);
		pthread_mutex_unlock(&thr_lock);
		break;
	case 2:
		pthread_mutex_lock(&thr_held);
		pthread_mutex_unlock(&thr_held);
		break;
	case 3:
		/* Joins the sleeper (made before it), whose result is its own. */
		if (pthread_join(thr[4], &joined) || joined)
			r = 30 + (long)joined;
		break;
	case 4:
		ts.tv_sec = 3600;
		ts.tv_nsec = 0;
		/* Woken by SIGUSR2 after restart, with most of the hour left. */
		if (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &rem) != EINTR)
			r = 1;
		else if (rem.tv_sec < 3000)
			r = 2;
		break;
	case 5:
	case 6:
		if (!thr_regs(id))
			r = 1;
		break;
	}
	if (!r && !thr_tls_ok(id + 1))
		r = 10;
	return (void *)r;
}

/* The system call that thread @tid of this process is in, or -1. */
static long thr_syscall(pid_t tid)
{
	char path[64], buf[64];
	long nr = -1;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", tid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n > 0) {
		buf[n] = '\0';
		nr = strtol(buf, NULL, 10);
	}
	return nr;
}

static int thread_pool(const char *log)
{
	struct sigaction sa = { .sa_handler = on_usr2_quiet };
	char msg[64];
	sigset_t set;
	long i, r;
	void *res;
	int sig, waiting;

	pending_log = open(log, O_WRONLY | O_APPEND);
	if (pending_log < 0 || sigaction(SIGUSR2, &sa, NULL))
		return 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	thr_fill(0);
	pthread_mutex_lock(&thr_held);
	for (i = 0; i < THR_N; i++) {
		/* Thread 3 joins thread 4: 4 exists first. */
		long t = i == 3 ? 4 : i == 4 ? 3 : i;

		if (pthread_create(&thr[t], NULL, thr_main, (void *)t))
			return 1;
	}
	/* Ready once every thread sleeps in futex() or clock_nanosleep(). */
	do {
		usleep(10 * 1000);
		for (i = 0, waiting = 0; i < THR_N; i++) {
			pid_t tid = __atomic_load_n(&thr_tid[i], __ATOMIC_ACQUIRE);
			long nr = tid ? thr_syscall(tid) : -1;

			waiting += nr == SYS_futex || nr == SYS_clock_nanosleep;
		}
	} while (waiting < THR_N);
	if (write(1, "ready", 5) != 5)
		return 1;
	quiet_stdout();
	sigwait(&set, &sig);

	pthread_mutex_lock(&thr_lock);
	thr_go = 1;
	pthread_cond_broadcast(&thr_cond);
	pthread_mutex_unlock(&thr_lock);
	pthread_mutex_unlock(&thr_held);
	__atomic_store_n(&thr_futex, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &thr_futex, FUTEX_WAKE_PRIVATE, THR_N, NULL);
	pthread_kill(thr[4], SIGUSR2);
	r = thr_tls_ok(0) ? 0 : 10;
	for (i = 0; i < THR_N && !r; i++) {
		if (i == 4)
			continue;
		if (pthread_join(thr[i], &res))
			r = 20;
		else
			r = (long)res;
	}
	if (r)
		snprintf(msg, sizeof(msg), "threads FAIL %ld %ld\n", i - 1, r);
	else
		snprintf(msg, sizeof(msg), "threads ok %d\n", THR_N + 1);
	note(msg);
	return 0;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[2] : "";
	int null = open("/dev/null", O_RDWR);

	ps = sysconf(_SC_PAGESIZE);
	dup2(null, 0);
	dup2(null, 2);
	syscall(SYS_close_range, 3, ~0U, 0);
	if (argc > 1)
		prctl(PR_SET_NAME, argv[1]);
	if (!strcmp(mode, "self") && argc > 3)
		return self(argv[3]);
	if (!strcmp(mode, "counter") && argc > 3)
		return counter(argv[3]);
	if (!strcmp(mode, "pending") && argc > 3)
		return pending(argv[3]);
	if (!strcmp(mode, "pipes") && argc > 3)
		return hold_pipes(argv[3]);
	if (!strcmp(mode, "tree") && argc > 3)
		return tree(argv[3]);
	if (!strcmp(mode, "fill-tree") && argc > 3)
		return fill_tree(atoi(argv[3]));
	if (!strcmp(mode, "fill-threads") && argc > 3)
		return fill_threads(atoi(argv[3]));
	if (!strcmp(mode, "fifo") && argc > 3)
		return fifo_mode(argv[3]);
	if (!strcmp(mode, "unlinked") && argc > 3)
		return unlinked_mode(argv[3]);
	if (!strcmp(mode, "threads") && argc > 3)
		return thread_pool(argv[3]);
	if (!strcmp(mode, "pipe-wait") && argc > 3)
		return pipe_wait(argv[3]);
	if (!strcmp(mode, "locks") && argc > 3)
		return hold_locks(argv[3]);
	if (!strcmp(mode, "shm") && argc > 3)
		return shm_mode(argv[3]);
	if (!strcmp(mode, "events") && argc > 3)
		return event_loop(argv[3]);
	if (!strcmp(mode, "timers") && argc > 3)
		return timers_mode(argv[3]);
	if (!strcmp(mode, "big-files") && argc > 3)
		return big_files_mode(argv[3]);
	if (!strcmp(mode, "inotify") && argc > 3)
		return inotify_mode(argv[3]);
	if (!strcmp(mode, "hardlink") && argc > 3)
		return hardlink_mode(argv[3]);
	if (!strcmp(mode, "share") && argc > 3)
		return share_mode(argv[3]);
	if (!strcmp(mode, "vm") && argc > 3)
		return vm_mode(argv[3]);
	if (!strcmp(mode, "nested") && argc > 3)
		return nested_mode(argv[3]);
	if (!strcmp(mode, "cow") && argc > 3)
		return cow_mode(argv[3]);
	/*
	 * As uid 65534: wait for SIGUSR1, then exec argv[3] (a setuid-root
	 * copy of this program).
	 */
	if (!strcmp(mode, "exec-on-usr1") && argc > 3) {
		sigset_t set;
		int sig;

		/* Dumpable again, so that uid 65534 may checkpoint it. */
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534) ||
		    prctl(PR_SET_DUMPABLE, 1))
			return 1;
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		if (write(1, "ready", 5) != 5)
			return 1;
		quiet_stdout();
		sigwait(&set, &sig);
		execl(argv[3], "ckpt_sleeper", "ckpt-suid", "", NULL);
		return 1;
	}
	if (!strcmp(mode, "futex") && argc > 3)
		return futex_wait_file(argv[3], 0);
	if (!strcmp(mode, "futex-timeout") && argc > 3)
		return futex_wait_file(argv[3], 1);
	if (!strcmp(mode, "fill") && argc > 3) {
		size_t n = strtoul(argv[3], NULL, 0) << 20;
		char *m = mmap(NULL, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		size_t i;

		if (m == MAP_FAILED)
			return 1;
		memset(m, 0x5a, n);
		/* Each page its own: an image with pages out of order differs. */
		for (i = 0; i < n; i += ps)
			memcpy(m + i, &i, sizeof(i));
	}
	/* The benchmark's sparse task: 256 pages spread over argv[3] GiB. */
	if (!strcmp(mode, "fill-sparse") && argc > 3) {
		size_t n = strtoul(argv[3], NULL, 0) << 30;
		char *m = mmap(NULL, n, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		size_t i;

		if (m == MAP_FAILED)
			return 1;
		for (i = 0; i < 256; i++)
			memset(m + i * (n / 256), 0x5a, ps);
	}
	/* The benchmark's shared memory: a memfd of argv[3] MiB, mapped, and a full pipe. */
	if (!strcmp(mode, "fill-shared") && argc > 3) {
		size_t n = strtoul(argv[3], NULL, 0) << 20;
		int fd = memfd_create("ckpt-bench", 0), p[2];
		char *m;

		if (fd < 0 || ftruncate(fd, n) || pipe2(p, O_NONBLOCK))
			return 1;
		m = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED)
			return 1;
		memset(m, 0x5a, n);
		while (write(p[1], m, 4096) > 0)
			;
	}
	/*
	 * A task of uid and gid 65534 with groups 7 and 8, with root's
	 * permitted capabilities for nobody-keepcaps, holding file argv[3]
	 * open for writing if given (opened as root), in /. nobody-oom has no
	 * groups, and an oom_score_adj of -500 that root gave it; nobody-plain
	 * no groups.
	 */
	if (!strncmp(mode, "nobody", 6)) {
		gid_t groups[] = { 7, 8 };
		int ngroups = 2;

		if (!strcmp(mode, "nobody-oom")) {
			int fd = open("/proc/self/oom_score_adj", O_WRONLY);

			if (fd < 0 || write(fd, "-500", 4) != 4)
				return 1;
			close(fd);
			ngroups = 0;
		}

		if (!strcmp(mode, "nobody-plain"))
			ngroups = 0;
		if (argc > 3 && open(argv[3], O_RDWR) < 0)
			return 1;
		/* A directory uid 65534 may enter, as restart checks. */
		if (chdir("/"))
			return 1;
		if (!strcmp(mode, "nobody-keepcaps") && prctl(PR_SET_KEEPCAPS, 1))
			return 1;
		if (setgroups(ngroups, groups) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			return 1;
	}
	if (!strcmp(mode, "cwd") && (argc < 4 || chdir(argv[3])))
		return 1;
	/*
	 * Settings a restart must bring back: oom_score_adj, no_new_privs,
	 * and 4 locked pages.
	 */
	if (!strcmp(mode, "settings")) {
		int fd = open("/proc/self/oom_score_adj", O_WRONLY);
		char *m = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (fd < 0 || write(fd, "400", 3) != 3 ||
		    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
		    m == MAP_FAILED || mlock(m, 4 * ps))
			return 1;
		close(fd);
	}
#ifdef __x86_64__
	if (!strcmp(mode, "regs"))
		regs();
#endif
	if (!strcmp(mode, "memory")) {
		char *a = mmap(NULL, 64 * ps, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *r = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned long addr[2] = { (unsigned long)a, (unsigned long)r };
		int i;

		if (a == MAP_FAILED || r == MAP_FAILED)
			return 1;
		/* Pages 0..31 hold a pattern; 32..63 are never touched. */
		for (i = 0; i < 32; i++)
			memset(a + i * ps, i * 7 + 1, ps);
		memset(r, 0xab, 4 * ps);
		mprotect(r, 4 * ps, PROT_READ);
		if (write(1, addr, sizeof(addr)) != sizeof(addr))
			return 1;
	} else if (!strcmp(mode, "sparse")) {
		/* 1 TiB reserved; a byte, a page and a byte touched. */
		size_t len = 1UL << 40;
		char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		unsigned long addr = (unsigned long)a;

		if (a == MAP_FAILED)
			return 1;
		a[0] = 0x11;
		memset(a + len / 2, 0x22, ps);
		a[len - 1] = 0x33;
		if (write(1, &addr, sizeof(addr)) != sizeof(addr))
			return 1;
	} else if (write(1, "ready", 5) != 5) {
		return 1;
	}
	quiet_stdout();
	for (;;)
		pause();
}
