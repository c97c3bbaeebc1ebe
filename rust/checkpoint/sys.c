// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart system calls: thin C entry points into the Rust core
 * (rust/checkpoint/lib.rs), so that SYSCALL_DEFINE keeps its ABI stubs,
 * argument sign-extension and tracing metadata.
 */

#include <linux/checkpoint.h>
#include <linux/rwsem.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/utsname.h>

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

/* Copies the fields of the caller's utsname that an image header records. */
void ckpt_read_utsname(char *release, char *version, char *machine)
{
	down_read(&uts_sem);
	strscpy(release, utsname()->release, __NEW_UTS_LEN + 1);
	strscpy(version, utsname()->version, __NEW_UTS_LEN + 1);
	strscpy(machine, utsname()->machine, __NEW_UTS_LEN + 1);
	up_read(&uts_sem);
}
