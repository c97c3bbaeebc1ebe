// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: inotify files (sys/event.rs). The other event
 * files need none: their own functions take and give what Rust holds.
 * An inotify watch names an inode, which checkpoint names by a path and
 * restart looks up again as the task being restored; the events it holds
 * are copied as read() gives them.
 */

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/dcache.h>
#include <linux/fs.h>
#include <linux/inotify.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/path.h>

bool ckpt_file_is_inotify(struct file *file)
{
	return is_file_inotify(file);
}

/*
 * Copies the events @file, an inotify file, holds unread into @buf, as
 * read() would give them, without taking them; returns their length, or
 * -E2BIG beyond @len.
 */
ssize_t ckpt_inotify_events(struct file *file, void *buf, size_t len)
{
	return inotify_get_events(file, buf, len);
}

/* Queues on @file, an inotify file, an event of @name_len bytes of @name. */
int ckpt_inotify_queue(struct file *file, int wd, u32 mask, u32 cookie,
		       const char *name, size_t name_len)
{
	return inotify_queue_event(file, wd, mask, cookie, name, name_len);
}

/*
 * Reads the watch of inotify file @file with the smallest wd at least
 * *@wd: its wd and mask, and in @buf the path of its inode, which it
 * returns. NULL after the last watch; -EOPNOTSUPP if the inode has no name
 * (unlinked) or none in reach of the caller's root.
 */
char *ckpt_inotify_next_watch(struct file *file, int *wd, u32 *mask,
			      char *buf, int len)
{
	struct inode *inode = inotify_next_watch(file, wd, mask);
	struct path path;
	char *p;

	if (IS_ERR_OR_NULL(inode))
		return ERR_CAST(inode);
	path.dentry = d_find_alias(inode);
	iput(inode);
	if (!path.dentry)
		return ERR_PTR(-EOPNOTSUPP);
	path.mnt = mount_of_dentry(path.dentry);
	if (!path.mnt) {
		dput(path.dentry);
		return ERR_PTR(-EOPNOTSUPP);
	}
	if (ckpt_path_reachable(&path))
		p = d_path(&path, buf, len);
	else
		p = ERR_PTR(-EOPNOTSUPP);
	path_put(&path);
	return p;
}

/* A new inotify file, O_NONBLOCK if @nonblock. */
struct file *ckpt_inotify_create(bool nonblock)
{
	return inotify_file_create(nonblock ? IN_NONBLOCK : 0);
}

/*
 * Adds to inotify file @file a watch with @mask and @wd on the inode at
 * @name (its last component not followed: it names the inode itself),
 * looked up and checked as the task with credentials @cred, as
 * inotify_add_watch() would.
 */
int ckpt_inotify_add_watch(struct file *file, const char *name, u32 mask,
			   int wd, const struct cred *cred)
{
	const struct cred *old = override_creds(cred);
	struct path path;
	int ret;

	ret = kern_path(name, 0, &path);
	if (!ret) {
		ret = inotify_add_watch_path(file, &path, mask, wd);
		path_put(&path);
	}
	revert_creds(old);
	return ret;
}
