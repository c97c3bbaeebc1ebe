// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart system calls (and eclone(2), which restart uses to
 * rebuild a process tree): thin C entry points into the Rust core
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

SYSCALL_DEFINE4(eclone, unsigned int, flags_low,
		const struct eclone_args __user *, uargs, size_t, size,
		const pid_t __user *, pids)
{
	return ckpt_sys_eclone(flags_low, uargs, size, pids);
}
