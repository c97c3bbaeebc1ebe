/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Checkpoint/restart: flags of checkpoint(2) and restart(2), and the
 * arguments of eclone(2).
 *
 * The image format itself is defined in rust/checkpoint/format and
 * documented in Documentation/checkpoint/format.rst.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

#include <linux/types.h>

/*
 * checkpoint(2): the task is not the init of a pid namespace; save it and
 * its descendants as a subtree, without checking that what they use is
 * used by no task outside it.
 */
#define CHECKPOINT_SUBTREE	0x1
/*
 * checkpoint(2): save unlinked files and shared memory (memfds, shared
 * anonymous memory) of any size; without it, those above 8 MiB are
 * refused with EFBIG.
 */
#define CHECKPOINT_BIG_FILES	0x2

/* restart(2): stop the restored tasks (SIGSTOP) before they run. */
#define RESTART_FROZEN		0x1
/*
 * restart(2): rebuild the image's process tree as descendants of the
 * caller, with their pids, and return the pid of its root; without it, the
 * caller becomes the image's one task.
 */
#define RESTART_TREE		0x2

/* Any other set bit makes the call fail with EINVAL. */
#define CHECKPOINT_FLAGS_MASK	0x3
#define RESTART_FLAGS_MASK	0x3

/*
 * eclone(2): clone(2) with chosen pids.
 *
 *	pid_t eclone(unsigned int flags_low, struct eclone_args *args,
 *		     size_t size, pid_t *pids);
 *
 * @flags_low is clone(2)'s flags word, exit signal in its low byte.
 * @pids holds @nr_pids pids, from the outermost pid namespace asked for down
 * to the child's own; levels above those get any free pid. With
 * CLONE_NEWPID the child is pid 1 of its new namespace, and @pids name its
 * pids in the caller's namespace and the levels above it. (The name
 * struct clone_args, linux-cr's, is clone3(2)'s since Linux 5.3.)
 */
struct eclone_args {
	__aligned_u64 clone_flags_high;	/* clone flags above bit 31 */
	__aligned_u64 child_stack;	/* lowest byte of the stack, or 0 */
	__aligned_u64 child_stack_size;	/* its size; 0 without a stack */
	__aligned_u64 parent_tid_ptr;	/* CLONE_PARENT_SETTID, CLONE_PIDFD */
	__aligned_u64 child_tid_ptr;	/* CLONE_CHILD_{SET,CLEAR}TID */
	__u32 nr_pids;			/* entries of @pids, 0 for any pids */
	__u32 reserved0;		/* must be 0 */
	__aligned_u64 tls;		/* CLONE_SETTLS */
};

#define ECLONE_ARGS_SIZE_VER0	56	/* sizeof first published struct */

#endif /* _UAPI_LINUX_CHECKPOINT_H */
