// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: the system an image is taken on
 * (sys/uts.rs).
 */

#include <linux/checkpoint.h>
#include <linux/rwsem.h>
#include <linux/string.h>
#include <linux/utsname.h>

/* Copies the fields of the caller's utsname that an image header records. */
void ckpt_read_utsname(char *release, char *version, char *machine)
{
	down_read(&uts_sem);
	strscpy(release, utsname()->release, __NEW_UTS_LEN + 1);
	strscpy(version, utsname()->version, __NEW_UTS_LEN + 1);
	strscpy(machine, utsname()->machine, __NEW_UTS_LEN + 1);
	up_read(&uts_sem);
}
