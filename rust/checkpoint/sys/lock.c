// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: locks on open files, flock() and POSIX
 * (sys/lock.rs).
 */

#include <linux/checkpoint.h>
#include <linux/fcntl.h>
#include <linux/filelock.h>
#include <linux/fs.h>
#include <linux/sched/task.h>

/* Copies @flc, a lock of @kind on a file, into @out. */
static void ckpt_copy_lock(struct file_lock_core *flc, u32 kind,
			   struct ckpt_lock *out)
{
	out->flags = kind;
	out->write = flc->flc_type == F_WRLCK;
	out->start = 0;
	out->end = OFFSET_MAX;
	if (kind != FL_LEASE) {
		struct file_lock *fl = container_of(flc, struct file_lock, c);

		out->start = fl->fl_start;
		out->end = fl->fl_end;
	}
}

/*
 * The locks held through @file: its flock() locks, OFD locks and leases,
 * and, if @task is not NULL, the POSIX locks of @task's descriptor table
 * taken through it. Copies the first @max into @out; returns how many
 * there are.
 */
int ckpt_file_locks(struct file *file, struct task_struct *task,
		    struct ckpt_lock *out, unsigned int max)
{
	struct file_lock_context *ctx = locks_inode_context(file_inode(file));
	struct file_lock_core *flc;
	fl_owner_t owner = NULL;
	unsigned int n = 0;

	if (!ctx)
		return 0;
	if (task) {
		task_lock(task);
		owner = task->files;
		task_unlock(task);
	}
	spin_lock(&ctx->flc_lock);
	list_for_each_entry(flc, &ctx->flc_flock, flc_list)
		if (flc->flc_file == file && n++ < max)
			ckpt_copy_lock(flc, FL_FLOCK, &out[n - 1]);
	list_for_each_entry(flc, &ctx->flc_lease, flc_list)
		if (flc->flc_file == file && n++ < max)
			ckpt_copy_lock(flc, FL_LEASE, &out[n - 1]);
	list_for_each_entry(flc, &ctx->flc_posix, flc_list) {
		u32 kind = flc->flc_flags & FL_OFDLCK ? FL_OFDLCK : FL_POSIX;

		if (flc->flc_file != file)
			continue;
		if (kind == FL_POSIX && (!owner || flc->flc_owner != owner))
			continue;
		if (n++ < max)
			ckpt_copy_lock(flc, kind, &out[n - 1]);
	}
	spin_unlock(&ctx->flc_lock);
	return n;
}

/* Whether @file has an owner for SIGIO (F_SETOWN, or dnotify's). */
bool ckpt_file_has_owner(struct file *file)
{
	struct fown_struct *fown = file_f_owner(file);
	bool owned;

	if (!fown)
		return false;
	read_lock_irq(&fown->lock);
	owned = fown->pid != NULL;
	read_unlock_irq(&fown->lock);
	return owned;
}

/* Makes @fl a POSIX lock of the caller's descriptor table on @file. */
static void ckpt_posix_make_lock(struct file_lock *fl, struct file *file,
				 bool write, u64 start, u64 end)
{
	locks_init_lock(fl);
	fl->c.flc_flags = FL_POSIX;
	fl->c.flc_owner = current->files;
	fl->c.flc_pid = current->tgid;
	fl->c.flc_file = file;
	fl->c.flc_type = write ? F_WRLCK : F_RDLCK;
	fl->fl_start = start;
	fl->fl_end = end;
}

/*
 * Whether the caller could take a POSIX lock on @file, as F_GETLK says:
 * 0, or -EAGAIN if another owner holds a lock in the way.
 */
int ckpt_posix_test_lock(struct file *file, bool write, u64 start, u64 end)
{
	struct file_lock fl;
	int err;

	ckpt_posix_make_lock(&fl, file, write, start, end);
	err = vfs_test_lock(file, &fl);
	if (!err && fl.c.flc_type != F_UNLCK)
		err = -EAGAIN;
	locks_release_private(&fl);
	return err;
}

/*
 * Takes a POSIX lock on @file, open in the caller as @fd, as
 * fcntl(F_SETLK) does.
 */
int ckpt_posix_lock(unsigned int fd, struct file *file, bool write, u64 start,
		    u64 end)
{
	struct flock flock = {
		.l_type = write ? F_WRLCK : F_RDLCK,
		.l_whence = SEEK_SET,
		.l_start = start,
		/* Zero: to the end of the file, however far it grows. */
		.l_len = end == OFFSET_MAX ? 0 : end - start + 1,
	};

	return fcntl_setlk(fd, file, F_SETLK, &flock);
}
