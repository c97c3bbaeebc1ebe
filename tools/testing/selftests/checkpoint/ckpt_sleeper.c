// SPDX-License-Identifier: GPL-2.0
/*
 * A target for the checkpoint tests, started with exec so that it has a
 * fresh address space (the test harness shares memory with its children).
 *
 *   ckpt_sleeper NAME          set its name, say "ready" on stdout, pause
 *   ckpt_sleeper NAME memory   also fill memory with a known pattern and
 *                              write the addresses of two areas on stdout
 *   ckpt_sleeper NAME self     checkpoint itself to stdout, then exit
 *   ckpt_sleeper NAME regs     load known values into r12-r15 and xmm0-xmm3,
 *                              say "ready" and pause, all without touching
 *                              them again
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "checkpoint.h"

int main(int argc, char **argv)
{
	long ps = sysconf(_SC_PAGESIZE);
	const char *mode = argc > 2 ? argv[2] : "";

	if (argc > 1)
		prctl(PR_SET_NAME, argv[1]);
	if (!strcmp(mode, "self"))
		return sys_checkpoint(0, 1, 0, -1) > 0 ? 0 : 1;
#ifdef __x86_64__
	if (!strcmp(mode, "regs")) {
		static const char ready[] = "ready";
		static unsigned char xmm[4][16];
		int i, j;

		/* Byte j of xmm<i> is (i << 4) | j. */
		for (i = 0; i < 4; i++)
			for (j = 0; j < 16; j++)
				xmm[i][j] = (i << 4) | j;
		/* Say ready only once the registers hold their values. */
		asm volatile("movdqu 0(%[x]), %%xmm0\n\t"
			     "movdqu 16(%[x]), %%xmm1\n\t"
			     "movdqu 32(%[x]), %%xmm2\n\t"
			     "movdqu 48(%[x]), %%xmm3\n\t"
			     "movabs $0x1122334455667788, %%r12\n\t"
			     "movabs $0x0123456789abcdef, %%r13\n\t"
			     "movabs $0x0f0e0d0c0b0a0908, %%r14\n\t"
			     "movabs $0x7766554433221100, %%r15\n\t"
			     "mov $1, %%eax\n\t"	/* write(1, ready, 5) */
			     "mov $1, %%edi\n\t"
			     "mov $5, %%edx\n\t"
			     "syscall\n\t"
			     "1: mov $34, %%eax\n\t"	/* pause() */
			     "syscall\n\t"
			     "jmp 1b\n\t"
			     : : "S"(ready), [x] "r"(xmm)
			     : "rax", "rcx", "rdx", "rdi", "r11", "r12", "r13",
			       "r14", "r15", "xmm0", "xmm1", "xmm2", "xmm3",
			       "memory");
	}
#endif
	if (!strcmp(mode, "memory")) {
		char *a = mmap(NULL, 64 * ps, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		char *ro = mmap(NULL, 4 * ps, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		unsigned long addr[2] = { (unsigned long)a, (unsigned long)ro };
		int i;

		if (a == MAP_FAILED || ro == MAP_FAILED)
			return 1;
		/* Pages 0..31 hold a pattern; 32..63 are never touched. */
		for (i = 0; i < 32; i++)
			memset(a + i * ps, i * 7 + 1, ps);
		memset(ro, 0xab, 4 * ps);
		mprotect(ro, 4 * ps, PROT_READ);
		if (write(1, addr, sizeof(addr)) != sizeof(addr))
			return 1;
	} else if (write(1, "ready", 5) != 5) {
		return 1;
	}
	for (;;)
		pause();
}
