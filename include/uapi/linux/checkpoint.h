/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Checkpoint/restart: flags of checkpoint(2) and restart(2).
 *
 * The image format itself is defined in rust/checkpoint/format and
 * documented in Documentation/checkpoint/format.rst.
 */
#ifndef _UAPI_LINUX_CHECKPOINT_H
#define _UAPI_LINUX_CHECKPOINT_H

/* No flags are defined yet: any set bit makes the call fail with EINVAL. */
#define CHECKPOINT_FLAGS_MASK	0x0
#define RESTART_FLAGS_MASK	0x0

#endif /* _UAPI_LINUX_CHECKPOINT_H */
