// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart system calls: thin C entry points into the Rust core
 * (rust/checkpoint/lib.rs), so that SYSCALL_DEFINE keeps its ABI stubs,
 * argument sign-extension and tracing metadata.
 *
 * The glue the core needs where kernel internals are macros, inlines or
 * locking rules best kept in C is in sys/, one file per class, beside the
 * Rust module (sys/<class>.rs) that wraps it.
 */

#include <linux/checkpoint.h>
#include <linux/syscalls.h>

SYSCALL_DEFINE4(checkpoint, pid_t, pid, int, fd, unsigned long, flags,
		int, logfd)
{
	return ckpt_sys_checkpoint(pid, fd, flags, logfd);
}

SYSCALL_DEFINE4(restart, pid_t, pid, int, fd, unsigned long, flags,
		int, logfd)
{
	return ckpt_sys_restart(pid, fd, flags, logfd);
}
