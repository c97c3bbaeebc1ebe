// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: open files, descriptors, the image stream, and
 * root and working directories (sys/file.rs).
 */

#include <linux/checkpoint.h>
#include <linux/bvec.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/fs_struct.h>
#include <linux/mm.h>
#include <linux/mount.h>
#include <linux/namei.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uio.h>

/*
 * Returns the file of the first descriptor of @task at or above *@fd, with a
 * reference, and sets *@fd and *@cloexec; NULL when there is none left.
 */
struct file *ckpt_next_fd(struct task_struct *task, unsigned int *fd,
			  bool *cloexec)
{
	struct files_struct *files;
	struct file *file;

	rcu_read_lock();
	file = task_lookup_next_fdget_rcu(task, fd);
	rcu_read_unlock();
	if (!file)
		return NULL;
	*cloexec = false;
	task_lock(task);
	files = task->files;
	if (files) {
		spin_lock(&files->file_lock);
		*cloexec = close_on_exec(*fd, files);
		spin_unlock(&files->file_lock);
	}
	task_unlock(task);
	return file;
}

/*
 * The path of @file as user space sees it: for the backing file that an
 * overlayfs mapping holds, the overlay path (as /proc/PID/maps shows). A
 * file whose name was unlinked while its inode keeps another link is
 * named by that link, if the dcache knows it: reopened through it, it is
 * the same file again. Otherwise its path ends in " (deleted)".
 */
char *ckpt_file_path(struct file *file, char *buf, int len)
{
	const struct path *path = file_user_path(file);
	struct path other;
	char *p;

	if (!d_unlinked(path->dentry) || !d_inode(path->dentry)->i_nlink)
		return d_path(path, buf, len);
	other.dentry = d_find_alias(d_inode(path->dentry));
	if (!other.dentry)
		return d_path(path, buf, len);
	if (is_subdir(other.dentry, path->mnt->mnt_root))
		other.mnt = mntget(path->mnt);
	else
		other.mnt = mount_of_dentry(other.dentry);
	if (!other.mnt) {
		dput(other.dentry);
		return d_path(path, buf, len);
	}
	p = d_path(&other, buf, len);
	path_put(&other);
	return p;
}

/* What an image records of an open file. */
void ckpt_file_info(struct file *file, unsigned int *flags, s64 *pos,
		    unsigned int *mode, unsigned int *rdev)
{
	struct inode *inode = file_inode(file);

	*flags = file->f_flags;
	*pos = file->f_pos;
	*mode = inode->i_mode;
	*rdev = S_ISCHR(inode->i_mode) ? new_encode_dev(inode->i_rdev) : 0;
}

u64 ckpt_file_count(struct file *file)
{
	return file_count(file);
}

/*
 * Opens @path as a restarted file, at position @pos, with the credentials
 * @cred of the task being restored (the caller's if NULL): a restart never
 * opens what the image's user could not.
 */
struct file *ckpt_open_file(const char *path, unsigned int flags, s64 pos,
			    const struct cred *cred)
{
	const struct cred *saved = NULL;
	struct file *file;
	loff_t off;

	flags &= ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | __FMODE_EXEC);
	if (cred)
		saved = override_creds(cred);
	file = filp_open(path, flags, 0);
	if (saved)
		revert_creds(saved);
	if (IS_ERR(file) || !pos)
		return file;
	off = vfs_llseek(file, pos, SEEK_SET);
	if (off != pos) {
		fput(file);
		return ERR_PTR(off < 0 ? off : -EINVAL);
	}
	return file;
}

/* Unlinked files (files/unlinked.rs). */

/* Whether @file's last name is gone (the overlay's, for a backing file). */
bool ckpt_file_unlinked(struct file *file)
{
	return !file_inode(file)->i_nlink &&
	       d_unlinked(file_user_path(file)->dentry);
}

u64 ckpt_file_size(struct file *file)
{
	return i_size_read(file_inode(file));
}

/* Whether @path is under the caller's root. */
bool ckpt_path_reachable(const struct path *path)
{
	struct path root;
	bool under;

	get_fs_root(current->fs, &root);
	under = path_is_under(path, &root);
	path_put(&root);
	return under;
}

/*
 * The path of the directory that held @file, an unlinked file, in @buf:
 * -EOPNOTSUPP if it is gone too, or is not reachable from the caller's
 * root (an internal mount: memfds and shared memory).
 */
char *ckpt_file_dir_path(struct file *file, char *buf, int len)
{
	const struct path *path = file_user_path(file);
	struct path dir = { .mnt = path->mnt };
	char *p;

	dir.dentry = dget_parent(path->dentry);
	if (d_unlinked(dir.dentry) || !ckpt_path_reachable(&dir))
		p = ERR_PTR(-EOPNOTSUPP);
	else
		p = d_path(&dir, buf, len);
	dput(dir.dentry);
	return p;
}

/* Moves @len bytes between @buf and @file at @pos, as pread() or pwrite(). */
static int ckpt_file_rw_at(struct file *file, void *buf, size_t len, s64 pos,
			   bool write)
{
	loff_t off = pos;
	size_t done = 0;

	while (done < len) {
		ssize_t n = write ?
			kernel_write(file, buf + done, len - done, &off) :
			kernel_read(file, buf + done, len - done, &off);

		if (n < 0)
			return n;
		if (!n)
			return -EIO;
		done += n;
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/*
 * Reads @len bytes of @file from @pos, as pread(2) would (-EBADF if it is
 * not open for reading); -EIO if the file ends first.
 */
int ckpt_file_read_at(struct file *file, void *buf, size_t len, s64 pos)
{
	return ckpt_file_rw_at(file, buf, len, pos, false);
}

/* Writes the @len bytes at @buf into @file at @pos, as pwrite() would. */
int ckpt_file_write_at(struct file *file, const void *buf, size_t len, s64 pos)
{
	return ckpt_file_rw_at(file, (void *)buf, len, pos, true);
}

/*
 * Makes a file with no name in directory @dir (O_TMPFILE, as the caller with
 * @cred) of mode @mode holding the @len bytes of @data. Returns it, open for
 * reading and writing, or an error pointer.
 */
struct file *ckpt_new_unlinked(const char *dir, umode_t mode, const void *data,
			       size_t len, const struct cred *cred)
{
	const struct cred *saved = override_creds(cred);
	struct file *file;
	loff_t off = 0;

	file = filp_open(dir, O_TMPFILE | O_RDWR | O_LARGEFILE, mode & 07777);
	revert_creds(saved);
	while (!IS_ERR(file) && off < len) {
		ssize_t n = kernel_write(file, data + off, len - off, &off);

		if (n <= 0 || fatal_signal_pending(current)) {
			fput(file);
			file = ERR_PTR(n < 0 ? n : -EIO);
		}
	}
	return file;
}

/* The inode of @file, as its user sees it (the overlay's). */
struct inode *ckpt_file_inode(struct file *file)
{
	return d_inode(file_user_path(file)->dentry);
}

/* Opens @file's path again with @flags at @pos, as the caller with @cred. */
struct file *ckpt_reopen_file(struct file *file, unsigned int flags, s64 pos,
			      const struct cred *cred)
{
	struct file *new;
	loff_t off;

	flags &= ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY | __FMODE_EXEC |
		   O_TMPFILE);
	new = dentry_open(&file->f_path, flags, cred);
	if (IS_ERR(new) || !pos)
		return new;
	off = vfs_llseek(new, pos, SEEK_SET);
	if (off != pos) {
		fput(new);
		return ERR_PTR(off < 0 ? off : -EINVAL);
	}
	return new;
}

/*
 * Moves @n whole pages between @file and @pages, as write(2) (@dir
 * ITER_SOURCE) or read(2) (ITER_DEST) would at its position, or pread(2)
 * at *@at, with one call for all of them rather than one per page; a write
 * starts with the @head_len bytes at @head.
 */
static int ckpt_pages_io(struct file *file, const void *head, size_t head_len,
			 struct page **pages, unsigned int n, unsigned int dir,
			 bool hold, loff_t *at)
{
	loff_t *ppos = at ? at : (file->f_mode & FMODE_STREAM) ? NULL : &file->f_pos;
	struct bio_vec *bv;
	struct iov_iter iter;
	unsigned int i, nr;
	size_t left;
	ssize_t ret = 0;

	/* A batch of GUP_BATCH vectors is too big for the stack. */
	if (n > 64 || head_len > PAGE_SIZE || (head_len && dir != ITER_SOURCE))
		return -EINVAL;
	if (!n && !head_len)
		return 0;
	nr = n + !!head_len;
	/* The head is copied after the vectors: the caller's may be on a stack. */
	bv = kmalloc(nr * sizeof(*bv) + head_len, GFP_KERNEL_ACCOUNT);
	if (!bv)
		return -ENOMEM;
	if (head_len)
		bvec_set_virt(&bv[0], memcpy(bv + nr, head, head_len), head_len);
	for (i = 0; i < n; i++)
		bvec_set_page(&bv[nr - n + i], pages[i], PAGE_SIZE, 0);
	left = (size_t)n * PAGE_SIZE + head_len;
	iov_iter_bvec(&iter, dir, bv, nr, left);
	while (left) {
		if (dir == ITER_SOURCE)
			ret = vfs_iter_write(file, &iter, ppos, 0);
		else
			ret = vfs_iter_read(file, &iter, ppos, 0);
		if ((ret == -ERESTARTSYS || ret == -EINTR) && hold &&
		    ckpt_defer_signal())
			continue;
		if (ret < 0)
			break;
		if (!ret) {
			ret = dir == ITER_SOURCE ? -EIO : -ENODATA;
			break;
		}
		if (ret > left) {
			ret = -EIO;
			break;
		}
		left -= ret;
		ret = 0;
		/* Not every ->write_iter() advances the caller's iterator. */
		if (iov_iter_count(&iter) > left)
			iov_iter_advance(&iter, iov_iter_count(&iter) - left);
		if (fatal_signal_pending(current)) {
			ret = -EINTR;
			break;
		}
	}
	kfree(bv);
	return ret;
}

/*
 * Writes the @head_len bytes at @head, then @n whole pages, to @file at
 * its position, in one write: a reader of a pipe is woken once for both.
 */
int ckpt_write_pages(struct file *file, const void *head, size_t head_len,
		     struct page **pages, unsigned int n)
{
	return ckpt_pages_io(file, head, head_len, pages, n, ITER_SOURCE, false,
			     NULL);
}

/*
 * Reads @n whole pages from @file at its position; -ENODATA at its end.
 * With @hold, only a fatal signal interrupts the read (ckpt_defer_signal()).
 */
static int ckpt_read_pages_to(struct file *file, struct page **pages,
			      unsigned int n, bool hold, loff_t *at)
{
	unsigned int i;
	int ret = ckpt_pages_io(file, NULL, 0, pages, n, ITER_DEST, hold, at);

	/*
	 * Written behind the page tables' back, as access_remote_vm() does;
	 * pages not mapped yet (ckpt_new_anon_pages()) are mapped dirty.
	 */
	for (i = 0; !ret && i < n; i++)
		if (page_mapped(pages[i]))
			set_page_dirty_lock(pages[i]);
	return ret;
}

int ckpt_read_pages(struct file *file, struct page **pages, unsigned int n,
		    bool hold)
{
	return ckpt_read_pages_to(file, pages, n, hold, NULL);
}

/* ckpt_read_pages() at @pos, as pread(2): the position is left alone. */
int ckpt_read_pages_at(struct file *file, struct page **pages, unsigned int n,
		       s64 pos, bool hold)
{
	loff_t at = pos;

	return ckpt_read_pages_to(file, pages, n, hold, &at);
}

/* Whether @file can be read at any offset (pread(2)) as well as in turn. */
bool ckpt_file_preadable(struct file *file)
{
	fmode_t need = FMODE_READ | FMODE_PREAD | FMODE_LSEEK;

	return (file->f_mode & need) == need && !(file->f_mode & FMODE_STREAM);
}

/*
 * Moves the position of @file (ckpt_file_preadable()) @len bytes on, past
 * data that is read later at its offset, which goes in *@pos.
 */
int ckpt_file_skip(struct file *file, s64 len, s64 *pos)
{
	loff_t r = vfs_llseek(file, len, SEEK_CUR);

	if (r < 0)
		return r;
	*pos = r - len;
	return 0;
}

/* Closes every descriptor of the caller. */
void ckpt_close_all_fds(void)
{
	__close_range(0, ~0U, 0);
}

/* Installs @file at descriptor @fd of the caller. */
int ckpt_install_fd(unsigned int fd, struct file *file, bool cloexec)
{
	return replace_fd(fd, file, cloexec ? O_CLOEXEC : 0);
}

/* Root and working directories. */

/*
 * Puts the root and working directories of @task, as paths from the
 * caller's root, in @root and @cwd (@len bytes each); *@rootp and *@cwdp
 * point to them.
 */
int ckpt_get_fs(struct task_struct *task, char *root, char *cwd, int len,
		char **rootp, char **cwdp)
{
	struct path r, c;

	task_lock(task);
	if (!task->fs) {
		task_unlock(task);
		return -ESRCH;
	}
	get_fs_root(task->fs, &r);
	get_fs_pwd(task->fs, &c);
	task_unlock(task);
	*rootp = d_path(&r, root, len);
	*cwdp = d_path(&c, cwd, len);
	path_put(&r);
	path_put(&c);
	if (IS_ERR(*rootp))
		return PTR_ERR(*rootp);
	return PTR_ERR_OR_ZERO(*cwdp);
}

/*
 * Checks that a task with credentials @cred could chdir() (@root false) or
 * chroot() (@root true) to @dir: search permission, and CAP_SYS_CHROOT in
 * the caller's user namespace to change the root.
 */
int ckpt_may_enter(struct file *dir, const struct cred *cred, bool root)
{
	const struct cred *saved;
	int ret;

	if (!S_ISDIR(file_inode(dir)->i_mode))
		return -ENOTDIR;
	saved = override_creds(cred);
	ret = path_permission(&dir->f_path, MAY_EXEC | MAY_CHDIR);
	if (!ret && root && !ns_capable(current_user_ns(), CAP_SYS_CHROOT))
		ret = -EPERM;
	revert_creds(saved);
	return ret;
}

/* Sets the caller's root (if @root) and working directory (checked first). */
void ckpt_set_fs(struct file *root, struct file *cwd)
{
	if (root)
		set_fs_root(current->fs, &root->f_path);
	set_fs_pwd(current->fs, &cwd->f_path);
}

/*
 * Descriptor tables and fs shared between processes (clone() with
 * CLONE_FILES or CLONE_FS). A reference on a descriptor table is a count,
 * as copy_files() takes; on an fs, one more user, as copy_fs() adds.
 */

/* Returns @task's descriptor table, referenced, or NULL if it exited. */
struct files_struct *ckpt_task_files(struct task_struct *task)
{
	struct files_struct *files;

	task_lock(task);
	files = task->files;
	if (files)
		ckpt_hold_files(files);
	task_unlock(task);
	return files;
}

void ckpt_hold_files(struct files_struct *files)
{
	atomic_inc(&files->count);
}

void ckpt_put_files(struct files_struct *files)
{
	put_files_struct(files);
}

/* The references on @files: the tasks that use it, and other holders. */
int ckpt_files_refs(struct files_struct *files)
{
	return atomic_read(&files->count);
}

/* The caller uses @files from now on, as if clone(CLONE_FILES) made it. */
void ckpt_share_files(struct files_struct *files)
{
	struct files_struct *old;

	ckpt_hold_files(files);
	task_lock(current);
	old = current->files;
	current->files = files;
	task_unlock(current);
	put_files_struct(old);
}

/* Returns @task's fs, with one more user, or NULL if it exited. */
struct fs_struct *ckpt_task_fs(struct task_struct *task)
{
	struct fs_struct *fs;

	task_lock(task);
	fs = task->fs;
	if (fs)
		ckpt_hold_fs(fs);
	task_unlock(task);
	return fs;
}

void ckpt_hold_fs(struct fs_struct *fs)
{
	spin_lock(&fs->lock);
	fs->users++;
	spin_unlock(&fs->lock);
}

/* Drops a user of @fs, as exit_fs() does. */
void ckpt_put_fs(struct fs_struct *fs)
{
	bool last;

	spin_lock(&fs->lock);
	last = !--fs->users;
	spin_unlock(&fs->lock);
	if (last)
		free_fs_struct(fs);
}

/* The users of @fs: the tasks that use it, and other holders. */
int ckpt_fs_users(struct fs_struct *fs)
{
	return READ_ONCE(fs->users);
}

/* The caller uses @fs from now on, as if clone(CLONE_FS) made it. */
void ckpt_share_fs(struct fs_struct *fs)
{
	struct fs_struct *old;

	ckpt_hold_fs(fs);
	task_lock(current);
	old = current->fs;
	current->fs = fs;
	task_unlock(current);
	ckpt_put_fs(old);
}
