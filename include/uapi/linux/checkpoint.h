/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Checkpoint/restart: flags of checkpoint(2) and restart(2).
 *
 * The image format itself is defined in rust/checkpoint/format and
 * documented in Documentation/checkpoint/format.rst.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

/* restart(2): stop the restored task (SIGSTOP) before it runs. */
#define RESTART_FROZEN		0x1

/* Any other set bit makes the call fail with EINVAL. */
#define CHECKPOINT_FLAGS_MASK	0x0
#define RESTART_FLAGS_MASK	0x1

#endif /* _UAPI_LINUX_CHECKPOINT_H */
