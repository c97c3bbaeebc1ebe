/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restart: the interface between the C glue and the Rust core
 * (rust/checkpoint). See Documentation/checkpoint/.
 */
#ifndef _LINUX_CHECKPOINT_H
#define _LINUX_CHECKPOINT_H

#include <linux/types.h>
#include <uapi/linux/checkpoint.h>

/* Rust core: the bodies of checkpoint(2) and restart(2). */
long ckpt_sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd);
long ckpt_sys_restart(pid_t pid, int fd, unsigned long flags, int logfd);

/* C glue for the Rust core. */
void ckpt_read_utsname(char *release, char *version, char *machine);

/* Rust tests run by the KUnit suite (rust/checkpoint/kunit.c). */
int ckpt_kunit_objhash(void);
int ckpt_kunit_deferqueue(void);

#endif /* _LINUX_CHECKPOINT_H */
