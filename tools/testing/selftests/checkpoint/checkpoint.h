/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SELFTESTS_CHECKPOINT_H
#define _SELFTESTS_CHECKPOINT_H

#include <linux/types.h>
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
#ifndef __NR_eclone
#define __NR_eclone 465
#endif

#ifndef CHECKPOINT_SUBTREE
/* include/uapi/linux/checkpoint.h */
#define CHECKPOINT_SUBTREE	0x1
#define CHECKPOINT_BIG_FILES	0x2
#define RESTART_FROZEN		0x1
#define RESTART_TREE		0x2
#endif

#ifndef ECLONE_ARGS_SIZE_VER0
/* include/uapi/linux/checkpoint.h, for builds without installed headers. */
struct eclone_args {
	__u64 clone_flags_high;
	__u64 child_stack;
	__u64 child_stack_size;
	__u64 parent_tid_ptr;
	__u64 child_tid_ptr;
	__u32 nr_pids;
	__u32 reserved0;
	__u64 tls;
};
#define ECLONE_ARGS_SIZE_VER0 56
#endif

static inline long sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd)
{
	return syscall(__NR_checkpoint, pid, fd, flags, logfd);
}

static inline long sys_restart(pid_t pid, int fd, unsigned long flags, int logfd)
{
	return syscall(__NR_restart, pid, fd, flags, logfd);
}

/* Returns the child's pid in the parent, 0 in the child, as fork() does. */
static inline pid_t sys_eclone(unsigned int flags_low, struct eclone_args *args,
			       size_t size, const pid_t *pids)
{
	return syscall(__NR_eclone, flags_low, args, size, pids);
}

#endif /* _SELFTESTS_CHECKPOINT_H */
