/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SELFTESTS_CHECKPOINT_H
#define _SELFTESTS_CHECKPOINT_H

#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

/*
 * System calls added since Linux 5.1 have one number on every architecture
 * of the unified table; alpha is the exception.
 */
#ifdef __alpha__
#error "checkpoint/restart: no system call numbers for alpha"
#endif
#ifndef __NR_checkpoint
#define __NR_checkpoint 463
#endif
#ifndef __NR_restart
#define __NR_restart 464
#endif

static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd)
{
	return syscall(__NR_checkpoint, pid, fd, flags, logfd);
}

static inline long sys_restart(pid_t pid, int fd, unsigned long flags, int logfd)
{
	return syscall(__NR_restart, pid, fd, flags, logfd);
}

#endif /* _SELFTESTS_CHECKPOINT_H */
