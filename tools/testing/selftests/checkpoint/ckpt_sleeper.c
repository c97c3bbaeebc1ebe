// SPDX-License-Identifier: GPL-2.0
/*
 * A target for the checkpoint tests, started with exec so that it has a
 * fresh address space (the test harness shares memory with its children).
 *
 *   ckpt_sleeper NAME          set its name, say "ready" on stdout, pause
 *   ckpt_sleeper NAME memory   also fill memory with a known pattern and
 *                              write the addresses of two areas on stdout
 *   ckpt_sleeper NAME self     checkpoint itself to stdout, then exit
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
