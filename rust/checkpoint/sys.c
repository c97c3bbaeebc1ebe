// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart system calls: thin C entry points into the Rust core
 * (rust/checkpoint/lib.rs), so that SYSCALL_DEFINE keeps its ABI stubs,
 * argument sign-extension and tracing metadata; and the glue the core needs
 * where kernel internals are macros, inlines or locking rules best kept in C.
 */

#include <linux/checkpoint.h>
#include <linux/cred.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/filelock.h>
#include <linux/bvec.h>
#include <linux/fs.h>
#include <linux/uio.h>
#include <linux/futex.h>
#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/oom.h>
#include <linux/posix-timers.h>
#include <linux/restart_block.h>
#include <linux/resource.h>
#include <linux/rseq.h>
#include <linux/fs_struct.h>
#include <linux/sched/task.h>
#include <linux/sched/task_stack.h>
#include <linux/rwsem.h>
#include <linux/sched/signal.h>
#include <linux/security.h>
#include <linux/securebits.h>
#include <linux/string.h>
#include <linux/syscalls.h>
#include <linux/utsname.h>

SYSCALL_DEFINE4(checkpoint, pid_t, pid, int, fd, unsigned long, flags,
		int, logfd)
{
	return ckpt_sys_checkpoint(pid, fd, flags, logfd);
}

SYSCALL_DEFINE4(restart, pid_t, pid, int, fd, unsigned long, flags,
		int, logfd)
{
	return ckpt_sys_restart(pid, fd, flags, logfd);
}

/* Copies the fields of the caller's utsname that an image header records. */
void ckpt_read_utsname(char *release, char *version, char *machine)
{
	down_read(&uts_sem);
	strscpy(release, utsname()->release, __NEW_UTS_LEN + 1);
	strscpy(version, utsname()->version, __NEW_UTS_LEN + 1);
	strscpy(machine, utsname()->machine, __NEW_UTS_LEN + 1);
	up_read(&uts_sem);
}

/* Files. */

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
 * overlayfs mapping holds, the overlay path (as /proc/PID/maps shows).
 */
char *ckpt_file_path(struct file *file, char *buf, int len)
{
	return d_path(file_user_path(file), buf, len);
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

/*
 * Whether @task holds a lock on @file: a flock or lease taken through it,
 * or a POSIX lock owned by @task's descriptor table.
 */
bool ckpt_file_locked(struct file *file, struct task_struct *task)
{
	struct file_lock_context *ctx = locks_inode_context(file_inode(file));
	struct file_lock_core *flc;
	fl_owner_t owner;
	bool locked = false;

	if (!ctx)
		return false;
	task_lock(task);
	owner = task->files;
	task_unlock(task);
	spin_lock(&ctx->flc_lock);
	list_for_each_entry(flc, &ctx->flc_flock, flc_list)
		locked |= flc->flc_file == file;
	list_for_each_entry(flc, &ctx->flc_lease, flc_list)
		locked |= flc->flc_file == file;
	list_for_each_entry(flc, &ctx->flc_posix, flc_list)
		locked |= owner && flc->flc_owner == owner;
	spin_unlock(&ctx->flc_lock);
	return locked;
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

/*
 * Moves @n whole pages between @file at its position and @pages, as write(2)
 * (@dir ITER_SOURCE) or read(2) (ITER_DEST) would, with one call for all of
 * them rather than one per page.
 */
static int ckpt_pages_io(struct file *file, struct page **pages,
			 unsigned int n, unsigned int dir, bool hold)
{
	loff_t *ppos = (file->f_mode & FMODE_STREAM) ? NULL : &file->f_pos;
	struct bio_vec bv[64];
	struct iov_iter iter;
	unsigned int i;
	size_t left;
	ssize_t ret;

	if (n > ARRAY_SIZE(bv))
		return -EINVAL;
	for (i = 0; i < n; i++)
		bvec_set_page(&bv[i], pages[i], PAGE_SIZE, 0);
	left = (size_t)n * PAGE_SIZE;
	iov_iter_bvec(&iter, dir, bv, n, left);
	while (left) {
		if (dir == ITER_SOURCE)
			ret = vfs_iter_write(file, &iter, ppos, 0);
		else
			ret = vfs_iter_read(file, &iter, ppos, 0);
		if ((ret == -ERESTARTSYS || ret == -EINTR) && hold &&
		    ckpt_defer_signal())
			continue;
		if (ret < 0)
			return ret;
		if (!ret)
			return dir == ITER_SOURCE ? -EIO : -ENODATA;
		if (ret > left)
			return -EIO;
		left -= ret;
		/* Not every ->write_iter() advances the caller's iterator. */
		if (iov_iter_count(&iter) > left)
			iov_iter_advance(&iter, iov_iter_count(&iter) - left);
		if (fatal_signal_pending(current))
			return -EINTR;
	}
	return 0;
}

/* Writes @n whole pages to @file at its position. */
int ckpt_write_pages(struct file *file, struct page **pages, unsigned int n)
{
	return ckpt_pages_io(file, pages, n, ITER_SOURCE, false);
}

/*
 * Reads @n whole pages from @file at its position; -ENODATA at its end.
 * With @hold, only a fatal signal interrupts the read (ckpt_defer_signal()).
 */
int ckpt_read_pages(struct file *file, struct page **pages, unsigned int n,
		    bool hold)
{
	unsigned int i;
	int ret = ckpt_pages_io(file, pages, n, ITER_DEST, hold);

	/* Written behind the page tables' back, as access_remote_vm() does. */
	for (i = 0; !ret && i < n; i++)
		set_page_dirty_lock(pages[i]);
	return ret;
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

/* Credentials. */

/* Number of supplementary groups of @cred. */
unsigned int ckpt_cred_ngroups(const struct cred *cred)
{
	return cred->group_info->ngroups;
}

/*
 * What a cred record saves of @cred, ids as seen from the caller's user
 * namespace; @groups has room for ckpt_cred_ngroups() ids.
 */
void ckpt_get_cred(const struct cred *cred, struct ckpt_cred *c, u32 *groups)
{
	struct user_namespace *ns = current_user_ns();
	const struct group_info *gi = cred->group_info;
	int i;

	c->uids[0] = from_kuid_munged(ns, cred->uid);
	c->uids[1] = from_kuid_munged(ns, cred->euid);
	c->uids[2] = from_kuid_munged(ns, cred->suid);
	c->uids[3] = from_kuid_munged(ns, cred->fsuid);
	c->gids[0] = from_kgid_munged(ns, cred->gid);
	c->gids[1] = from_kgid_munged(ns, cred->egid);
	c->gids[2] = from_kgid_munged(ns, cred->sgid);
	c->gids[3] = from_kgid_munged(ns, cred->fsgid);
	c->securebits = cred->securebits;
	c->caps[0] = cred->cap_inheritable.val;
	c->caps[1] = cred->cap_permitted.val;
	c->caps[2] = cred->cap_effective.val;
	c->caps[3] = cred->cap_bset.val;
	c->caps[4] = cred->cap_ambient.val;
	c->ngroups = gi->ngroups;
	for (i = 0; i < gi->ngroups; i++)
		groups[i] = from_kgid_munged(ns, gi->gid[i]);
}

/* Whether setresuid() would let the caller take @id without CAP_SETUID. */
static bool ckpt_uid_kept(kuid_t id, const struct cred *old, bool fs)
{
	return uid_eq(id, old->uid) || uid_eq(id, old->euid) ||
	       uid_eq(id, old->suid) || (fs && uid_eq(id, old->fsuid));
}

static bool ckpt_gid_kept(kgid_t id, const struct cred *old, bool fs)
{
	return gid_eq(id, old->gid) || gid_eq(id, old->egid) ||
	       gid_eq(id, old->sgid) || (fs && gid_eq(id, old->fsgid));
}

static bool ckpt_groups_equal(const struct group_info *a,
			      const struct group_info *b)
{
	return a->ngroups == b->ngroups &&
	       !memcmp(a->gid, b->gid, a->ngroups * sizeof(kgid_t));
}

/* The ids of @c into @new, checked as setres[ug]id() and setfs[ug]id() do. */
static int ckpt_prepare_ids(struct cred *new, const struct ckpt_cred *c,
			    const struct cred *old)
{
	struct user_namespace *ns = current_user_ns();
	bool uid_new = false, gid_new = false;
	kuid_t u[4];
	kgid_t g[4];
	int i;

	for (i = 0; i < 4; i++) {
		u[i] = make_kuid(ns, c->uids[i]);
		g[i] = make_kgid(ns, c->gids[i]);
		if (!uid_valid(u[i]) || !gid_valid(g[i]))
			return -EINVAL;
		uid_new |= !ckpt_uid_kept(u[i], old, i == 3);
		gid_new |= !ckpt_gid_kept(g[i], old, i == 3);
	}
	if ((uid_new && !ns_capable_setid(old->user_ns, CAP_SETUID)) ||
	    (gid_new && !ns_capable_setid(old->user_ns, CAP_SETGID)))
		return -EPERM;
	new->uid = u[0];
	new->euid = u[1];
	new->suid = u[2];
	new->fsuid = u[3];
	new->gid = g[0];
	new->egid = g[1];
	new->sgid = g[2];
	new->fsgid = g[3];
	return 0;
}

/* The groups of @c into @new, checked as setgroups() does. */
static int ckpt_prepare_groups(struct cred *new, const struct ckpt_cred *c,
			       const u32 *groups, const struct cred *old)
{
	struct user_namespace *ns = current_user_ns();
	struct group_info *gi = groups_alloc(c->ngroups);
	int i, ret = 0;

	if (!gi)
		return -ENOMEM;
	for (i = 0; i < c->ngroups; i++) {
		gi->gid[i] = make_kgid(ns, groups[i]);
		if (!gid_valid(gi->gid[i]))
			ret = -EINVAL;
	}
	groups_sort(gi);
	if (!ret && !ckpt_groups_equal(gi, old->group_info) &&
	    !may_setgroups())
		ret = -EPERM;
	if (!ret)
		set_groups(new, gi);
	put_group_info(gi);
	return ret;
}

/*
 * Capabilities and securebits of @c into @new, within what the caller
 * could set with capset() (the LSM hook checks it), PR_CAPBSET_DROP,
 * PR_CAP_AMBIENT_RAISE and PR_SET_SECUREBITS.
 */
static int ckpt_prepare_caps(struct cred *new, const struct ckpt_cred *c,
			     const struct cred *old)
{
	kernel_cap_t inh = { c->caps[0] }, prm = { c->caps[1] };
	kernel_cap_t eff = { c->caps[2] }, bset = { c->caps[3] };
	kernel_cap_t amb = { c->caps[4] };
	unsigned int osb = old->securebits, sb = c->securebits;
	int i, ret;

	for (i = 0; i < ARRAY_SIZE(c->caps); i++)
		if (c->caps[i] & ~CAP_VALID_MASK)
			return -EINVAL;
	ret = security_capset(new, old, &eff, &inh, &prm);
	if (ret)
		return ret;
	if (!cap_issubset(bset, old->cap_bset) ||
	    (!cap_issubset(old->cap_bset, bset) &&
	     !ns_capable(current_user_ns(), CAP_SETPCAP)))
		return -EPERM;
	new->cap_bset = bset;
	if (!cap_issubset(amb, cap_intersect(prm, inh)))
		return -EPERM;
	if (!cap_issubset(amb, old->cap_ambient) &&
	    issecure_mask(SECURE_NO_CAP_AMBIENT_RAISE) & osb)
		return -EPERM;
	new->cap_ambient = amb;
	if (sb != osb &&
	    ((((osb & SECURE_ALL_LOCKS) >> 1) & (osb ^ sb)) ||
	     (osb & SECURE_ALL_LOCKS & ~sb) ||
	     (sb & ~(SECURE_ALL_LOCKS | SECURE_ALL_BITS)) ||
	     !ns_capable(current_user_ns(), CAP_SETPCAP)))
		return -EPERM;
	new->securebits = sb;
	return 0;
}

/*
 * Builds the credentials of a cred record: the caller's, with the record's
 * ids (from the caller's user namespace), groups, capabilities and
 * securebits. Each must be one the caller could take with the system calls
 * that set it (-EPERM otherwise); unmapped ids give -EINVAL. Files of the
 * image are reopened with them; ckpt_commit_cred() makes them the caller's.
 */
struct cred *ckpt_prepare_cred(const struct ckpt_cred *c, const u32 *groups)
{
	const struct cred *old = current_cred();
	struct cred *new = prepare_creds();
	int ret;

	if (!new)
		return ERR_PTR(-ENOMEM);
	ret = ckpt_prepare_ids(new, c, old);
	if (!ret)
		ret = ckpt_prepare_groups(new, c, groups, old);
	if (!ret)
		ret = ckpt_prepare_caps(new, c, old);
	if (ret) {
		abort_creds(new);
		return ERR_PTR(ret);
	}
	return new;
}

/*
 * Makes the caller's credentials those built by ckpt_prepare_cred(). Groups
 * and ids go through setgroups(), setresgid(), setfsgid(), setresuid() and
 * setfsuid() themselves, so that the user_struct, ucounts, RLIMIT_NPROC
 * accounting and LSM hooks follow as for those calls; then capabilities and
 * securebits, checked against the caller's when they were built.
 */
int ckpt_commit_cred(const struct cred *c)
{
	struct user_namespace *ns = current_user_ns();
	struct cred *new;
	int ret = 0;

	if (!ckpt_groups_equal(c->group_info, current_cred()->group_info))
		ret = may_setgroups() ? set_current_groups(c->group_info) :
					-EPERM;
	if (!ret)
		ret = __sys_setresgid(from_kgid(ns, c->gid),
				      from_kgid(ns, c->egid),
				      from_kgid(ns, c->sgid));
	if (!ret) {
		__sys_setfsgid(from_kgid(ns, c->fsgid));
		ret = __sys_setresuid(from_kuid(ns, c->uid),
				      from_kuid(ns, c->euid),
				      from_kuid(ns, c->suid));
	}
	if (!ret)
		__sys_setfsuid(from_kuid(ns, c->fsuid));
	if (ret)
		return ret;
	if (!uid_eq(current_fsuid(), c->fsuid) ||
	    !gid_eq(current_fsgid(), c->fsgid))
		return -EPERM;

	new = prepare_creds();
	if (!new)
		return -ENOMEM;
	new->cap_inheritable = c->cap_inheritable;
	new->cap_permitted = c->cap_permitted;
	new->cap_effective = c->cap_effective;
	new->cap_bset = c->cap_bset;
	new->cap_ambient = c->cap_ambient;
	new->securebits = c->securebits;
	return commit_creds(new);
}

/* Memory. */

/*
 * Sets the layout fields and saved auxiliary vector of the caller's mm, with
 * the checks of prctl(PR_SET_MM_MAP).
 */
int ckpt_mm_set_layout(const u64 *l, const u64 *auxv, unsigned int words)
{
	struct mm_struct *mm = current->mm;
	unsigned int i;

	for (i = 0; i < 11; i++)
		if (l[i] >= TASK_SIZE || l[i] < mmap_min_addr)
			return -EINVAL;
	if (l[0] >= l[1] || l[2] > l[3] || l[4] > l[5] || l[7] > l[8] ||
	    l[9] > l[10])
		return -EINVAL;
	if (check_data_rlimit(rlimit(RLIMIT_DATA), l[5], l[4], l[3], l[2]))
		return -EINVAL;
	if (words > ARRAY_SIZE(mm->saved_auxv) - 2)
		return -EINVAL;

	mmap_read_lock(mm);
	spin_lock(&mm->arg_lock);
	mm->start_code = l[0];
	mm->end_code = l[1];
	mm->start_data = l[2];
	mm->end_data = l[3];
	mm->start_brk = l[4];
	mm->brk = l[5];
	mm->start_stack = l[6];
	mm->arg_start = l[7];
	mm->arg_end = l[8];
	mm->env_start = l[9];
	mm->env_end = l[10];
	spin_unlock(&mm->arg_lock);
	memset(mm->saved_auxv, 0, sizeof(mm->saved_auxv));
	for (i = 0; i < words; i++)
		mm->saved_auxv[i] = auxv[i];
	mmap_read_unlock(mm);
	return 0;
}

/*
 * Makes @file the executable of the caller's mm, with the checks of
 * prctl(PR_SET_MM_MAP) with an exe_fd: CAP_CHECKPOINT_RESTORE (a task could
 * pose as any program), and a regular file the caller may execute, not on
 * a noexec mount (replace_mm_exe_file() denies writes to it).
 */
int ckpt_set_exe_file(struct file *file)
{
	struct inode *inode = file_inode(file);
	int err;

	if (!checkpoint_restore_ns_capable(current_user_ns()))
		return -EPERM;
	if (!S_ISREG(inode->i_mode) || path_noexec(&file->f_path))
		return -EACCES;
	err = file_permission(file, MAY_EXEC);
	if (err)
		return err;
	return replace_mm_exe_file(current->mm, file);
}

/* Tasks. */

/*
 * Pins @task for the whole of its checkpoint: its exec_update_lock, read,
 * as /proc/PID/mem and ptrace_attach() take it, so that it cannot exec
 * (and take new credentials or memory) until the image is written; and its
 * kernel stack, where its user registers live, even if it dies meanwhile.
 * ptrace attach access is checked under the lock, so it holds throughout.
 * Returns 0, -EINTR (fatal signal), -EPERM or -ESRCH.
 */
int ckpt_task_pin(struct task_struct *task)
{
	int ret = down_read_killable(&task->signal->exec_update_lock);

	if (ret)
		return ret;
	if (!ptrace_may_access(task, PTRACE_MODE_ATTACH_REALCREDS))
		ret = -EPERM;
	else if (!try_get_task_stack(task))
		ret = -ESRCH;
	if (ret)
		up_read(&task->signal->exec_update_lock);
	return ret;
}

void ckpt_task_unpin(struct task_struct *task)
{
	put_task_stack(task);
	up_read(&task->signal->exec_update_lock);
}

/* Per-task settings, as a task record holds them. */
void ckpt_get_task_settings(struct task_struct *task, struct ckpt_task_settings *t)
{
	memset(t, 0, sizeof(*t));
	t->oom_score_adj = READ_ONCE(task->signal->oom_score_adj);
	t->no_new_privs = task_no_new_privs(task);
#ifdef CONFIG_FUTEX
	t->robust_list = (unsigned long)task->robust_list;
	t->robust_list_len = task->robust_list ? sizeof(struct robust_list_head) : 0;
#endif
}

/*
 * Checks that the caller may take settings @t: an oom_score_adj below its
 * minimum needs CAP_SYS_RESOURCE, as for /proc/PID/oom_score_adj; a robust
 * list as set_robust_list() accepts it.
 */
int ckpt_check_task_settings(const struct ckpt_task_settings *t)
{
	if (t->oom_score_adj < OOM_SCORE_ADJ_MIN ||
	    t->oom_score_adj > OOM_SCORE_ADJ_MAX)
		return -EINVAL;
	if (t->oom_score_adj < current->signal->oom_score_adj_min &&
	    !capable(CAP_SYS_RESOURCE))
		return -EACCES;
	if (t->robust_list &&
	    (t->robust_list_len != sizeof(struct robust_list_head) ||
	     t->robust_list >= TASK_SIZE))
		return -EINVAL;
	return 0;
}

/* Sets the caller's settings (checked first). no_new_privs is only ever set. */
int ckpt_set_task_settings(const struct ckpt_task_settings *t)
{
	int ret = ckpt_check_task_settings(t);

	if (ret)
		return ret;
	WRITE_ONCE(current->signal->oom_score_adj, t->oom_score_adj);
	if (t->no_new_privs)
		task_set_no_new_privs(current);
#ifdef CONFIG_FUTEX
	current->robust_list =
		(struct robust_list_head __user *)(unsigned long)t->robust_list;
#endif
	return 0;
}

/* What checkpoint cannot save yet: other threads, children, an exit. */
void ckpt_task_shape(struct task_struct *task, int *threads, bool *children,
		     bool *exiting)
{
	*threads = get_nr_threads(task);
	read_lock(&tasklist_lock);
	*children = !list_empty(&task->children);
	read_unlock(&tasklist_lock);
	*exiting = task->flags & PF_EXITING;
}

void ckpt_set_comm(const char *comm)
{
	__set_task_comm(current, comm, false);
}

/* Kills the caller, whose restart failed once its old memory was gone. */
void ckpt_kill_self(void)
{
	force_sig(SIGKILL);
}

/*
 * Resets the caller's signal state to that of a new program (default
 * actions, no alternate stack, nothing blocked) and forgets its rseq area,
 * robust futex list and clear_child_tid: handlers and addresses of the
 * restart tool must not survive into the restored task.
 */
void ckpt_reset_signals(void)
{
	sigset_t none;

	flush_signal_handlers(current, 1);
	current->sas_ss_sp = 0;
	current->sas_ss_size = 0;
	current->sas_ss_flags = SS_DISABLE;
	sigemptyset(&none);
	set_current_blocked(&none);

	/* User addresses the restart tool registered mean nothing now. */
	current->clear_child_tid = NULL;
	current->robust_list = NULL;
#ifdef CONFIG_RSEQ
	current->rseq = NULL;
	current->rseq_len = 0;
	current->rseq_sig = 0;
	current->rseq_event_mask = 0;
#endif
}

static int ckpt_get_timers(struct task_struct *task, struct ckpt_signals *s);

/*
 * Reads the signal state and settings of @task (stopped, or current).
 * -EOPNOTSUPP for timers that restart cannot restore yet: POSIX timers,
 * ITIMER_VIRTUAL and ITIMER_PROF.
 */
int ckpt_get_signals(struct task_struct *task, struct ckpt_signals *s)
{
	unsigned long flags;
	int i, ret = -ESRCH;

	memset(s, 0, sizeof(*s));
	s->blocked = task->blocked.sig[0];
	s->ss_sp = task->sas_ss_sp;
	s->ss_size = task->sas_ss_size;
	/* SS_ONSTACK as a mode means the same as 0. */
	s->ss_flags = task->sas_ss_size ? task->sas_ss_flags & ~SS_ONSTACK :
					  SS_DISABLE;
#ifdef CONFIG_RSEQ
	s->rseq = (unsigned long)task->rseq;
	s->rseq_len = task->rseq_len;
	s->rseq_sig = task->rseq_sig;
#endif
	task_lock(task);
	if (task->fs)
		s->umask = task->fs->umask;
	task_unlock(task);
	task_lock(task->group_leader);
	for (i = 0; i < RLIM_NLIMITS; i++) {
		s->rlim[i][0] = task->signal->rlim[i].rlim_cur;
		s->rlim[i][1] = task->signal->rlim[i].rlim_max;
	}
	task_unlock(task->group_leader);
	if (lock_task_sighand(task, &flags)) {
		for (i = 0; i < _NSIG; i++) {
			struct sigaction *sa = &task->sighand->action[i].sa;

			s->action[i][0] = (unsigned long)sa->sa_handler;
			s->action[i][1] = sa->sa_flags;
#ifdef __ARCH_HAS_SA_RESTORER
			s->action[i][2] = (unsigned long)sa->sa_restorer;
#endif
			s->action[i][3] = sa->sa_mask.sig[0];
		}
		ret = ckpt_get_timers(task, s);
		unlock_task_sighand(task, &flags);
	}
	return ret;
}

/* Reads ITIMER_REAL; the other timers must be disarmed. Under siglock. */
static int ckpt_get_timers(struct task_struct *task, struct ckpt_signals *s)
{
	struct signal_struct *sig = task->signal;
	struct hrtimer *timer = &sig->real_timer;

#ifdef CONFIG_POSIX_TIMERS
	if (!hlist_empty(&sig->posix_timers) ||
	    sig->it[CPUCLOCK_PROF].expires || sig->it[CPUCLOCK_VIRT].expires)
		return -EOPNOTSUPP;
#endif
	if (hrtimer_active(timer)) {
		ktime_t rem = hrtimer_get_remaining(timer);

		/* About to fire: keep it armed, as getitimer() does. */
		s->itimer_real[0] = rem > 0 ? rem : NSEC_PER_USEC;
		s->itimer_real[1] = sig->it_real_incr;
	}
	return 0;
}

/* Collects the signals of @pending into @p (at most @max); returns the count. */
static int ckpt_collect_pending(struct sigpending *pending, u32 flags,
				struct ckpt_pending *p, int n, int max)
{
	struct sigqueue *q;
	sigset_t queued;
	int sig;

	BUILD_BUG_ON(sizeof(q->info) != sizeof(p->info));
	sigemptyset(&queued);
	list_for_each_entry(q, &pending->list, list) {
		sig = q->info.si_signo;
		if (sig_kernel_only(sig))
			continue;
		if (n >= max)
			return -E2BIG;
		p[n].signo = sig;
		p[n].flags = flags;
		memcpy(p[n].info, &q->info, sizeof(p[n].info));
		sigaddset(&queued, sig);
		n++;
	}
	/* Pending without a queue entry: sent by the kernel, or coalesced. */
	for (sig = 1; sig <= _NSIG; sig++) {
		kernel_siginfo_t info;

		if (!sigismember(&pending->signal, sig) ||
		    sigismember(&queued, sig) || sig_kernel_only(sig))
			continue;
		if (n >= max)
			return -E2BIG;
		clear_siginfo(&info);
		info.si_signo = sig;
		info.si_code = SI_KERNEL;
		p[n].signo = sig;
		p[n].flags = flags;
		memcpy(p[n].info, &info, sizeof(p[n].info));
		n++;
	}
	return n;
}

/*
 * Copies the pending signals of @task (stopped, or current), its own then
 * its thread group's, into @p; returns how many, or -E2BIG beyond @max.
 * SIGKILL and SIGSTOP are left out: a task they are pending for is dying
 * or stopping, not resuming.
 */
int ckpt_get_pending(struct task_struct *task, struct ckpt_pending *p,
		     unsigned int max)
{
	unsigned long flags;
	int n;

	if (!lock_task_sighand(task, &flags))
		return -ESRCH;
	n = ckpt_collect_pending(&task->pending, 0, p, 0, max);
	if (n >= 0)
		n = ckpt_collect_pending(&task->signal->shared_pending,
					 CKPT_PENDING_SHARED, p, n, max);
	unlock_task_sighand(task, &flags);
	return n;
}

/*
 * Queues a pending signal of an image to the caller, as rt_sigqueueinfo()
 * or rt_tgsigqueueinfo() to itself would, with its siginfo: it stays
 * pending until the restored task unblocks or handles it.
 */
int ckpt_queue_pending(const struct ckpt_pending *p)
{
	kernel_siginfo_t info;

	if (!valid_signal(p->signo) || !p->signo || sig_kernel_only(p->signo))
		return -EINVAL;
	memcpy(&info, p->info, sizeof(p->info));
	if (info.si_signo != p->signo)
		return -EINVAL;
	return do_send_sig_info(p->signo, &info, current,
				p->flags & CKPT_PENDING_SHARED ? PIDTYPE_TGID :
								 PIDTYPE_PID);
}

/*
 * Checks what ckpt_set_signals() will do, before restart changes anything:
 * raising a hard limit needs CAP_SYS_RESOURCE, as for setrlimit().
 */
int ckpt_check_signals(const struct ckpt_signals *s)
{
	struct rlimit *rlim = current->signal->rlim;
	int i;

	for (i = 0; i < RLIM_NLIMITS; i++) {
		if (s->rlim[i][0] > s->rlim[i][1])
			return -EINVAL;
		if (s->rlim[i][1] > rlim[i].rlim_max &&
		    !capable(CAP_SYS_RESOURCE))
			return -EPERM;
	}
	if (s->rlim[RLIMIT_NOFILE][1] != RLIM_INFINITY &&
	    s->rlim[RLIMIT_NOFILE][1] > sysctl_nr_open)
		return -EPERM;
	if (!(s->ss_flags & SS_DISABLE) && s->ss_size < MINSIGSTKSZ)
		return -ENOMEM;
	if (s->rseq && (!IS_ALIGNED(s->rseq, 32) || s->rseq_len < 32 ||
			s->rseq >= TASK_SIZE))
		return -EINVAL;
	if (s->itimer_real[0] > KTIME_MAX / 2 ||
	    s->itimer_real[1] > KTIME_MAX / 2)
		return -EINVAL;
	return 0;
}

/* Sets the caller's signal state and settings (checked first). */
int ckpt_set_signals(const struct ckpt_signals *s)
{
	struct rlimit *rlim = current->signal->rlim;
	sigset_t blocked;
	int i, ret;

	ret = ckpt_check_signals(s);
	if (ret)
		return ret;
	for (i = 0; i < RLIM_NLIMITS; i++) {
		struct rlimit new = { s->rlim[i][0], s->rlim[i][1] };

		ret = security_task_setrlimit(current, i, &new);
		if (ret)
			return ret;
		task_lock(current->group_leader);
		rlim[i] = new;
		task_unlock(current->group_leader);
		/* As do_prlimit(): arm the CPU time limit. */
		if (i == RLIMIT_CPU && new.rlim_cur != RLIM_INFINITY &&
		    IS_ENABLED(CONFIG_POSIX_TIMERS))
			update_rlimit_cpu(current, new.rlim_cur);
	}
	for (i = 1; i <= _NSIG; i++) {
		struct k_sigaction ka = {};

		if (i == SIGKILL || i == SIGSTOP)
			continue;
		ka.sa.sa_handler = (__sighandler_t)(unsigned long)s->action[i - 1][0];
		ka.sa.sa_flags = s->action[i - 1][1];
#ifdef __ARCH_HAS_SA_RESTORER
		ka.sa.sa_restorer = (__sigrestore_t)(unsigned long)s->action[i - 1][2];
#endif
		ka.sa.sa_mask.sig[0] = s->action[i - 1][3];
		ret = do_sigaction(i, &ka, NULL);
		if (ret)
			return ret;
	}
	if (s->ss_flags & SS_DISABLE) {
		current->sas_ss_sp = 0;
		current->sas_ss_size = 0;
		current->sas_ss_flags = SS_DISABLE;
	} else {
		current->sas_ss_sp = s->ss_sp;
		current->sas_ss_size = s->ss_size;
		current->sas_ss_flags = s->ss_flags;
	}
	blocked.sig[0] = s->blocked;
	set_current_blocked(&blocked);
	xchg(&current->fs->umask, s->umask & 0777);
#ifdef CONFIG_POSIX_TIMERS
	{
		struct itimerspec64 it = {
			.it_value = ns_to_timespec64(s->itimer_real[0]),
			.it_interval = ns_to_timespec64(s->itimer_real[1]),
		};

		ret = do_setitimer(ITIMER_REAL, &it, NULL);
		if (ret)
			return ret;
	}
#endif
#ifdef CONFIG_RSEQ
	current->rseq = (struct rseq __user *)(unsigned long)s->rseq;
	current->rseq_len = s->rseq_len;
	current->rseq_sig = s->rseq_sig;
	if (s->rseq)
		rseq_set_notify_resume(current);
#endif
	return 0;
}

/*
 * Past the point of no return, only SIGKILL may end a restart. Every other
 * signal is blocked until the restored mask is set, and stays pending for
 * the restored task's own handlers.
 */
void ckpt_hold_signals(void)
{
	sigset_t all;

	sigfillset(&all);
	sigdelsetmask(&all, sigmask(SIGKILL) | sigmask(SIGSTOP));
	set_current_blocked(&all);
}

/*
 * A read of the image was interrupted past the point of no return: by a
 * stop, a freeze, or a fatal signal. Returns false for a fatal signal;
 * otherwise forgets the wake-up so that the read can go on, and the stop
 * or freeze happens when the restored task returns to user space
 * (ckpt_resume_signals()).
 */
bool ckpt_defer_signal(void)
{
	if (fatal_signal_pending(current))
		return false;
	clear_thread_flag(TIF_SIGPENDING);
	return true;
}

/* Makes the return to user space handle what ckpt_defer_signal() put off. */
void ckpt_resume_signals(void)
{
	set_thread_flag(TIF_SIGPENDING);
}

bool ckpt_fatal_signal_pending(void)
{
	return fatal_signal_pending(current);
}

u64 ckpt_nofile_limit(void)
{
	return rlimit(RLIMIT_NOFILE);
}

/* Stops the restored caller before it runs (RESTART_FROZEN). */
void ckpt_stop_self(void)
{
	send_sig(SIGSTOP, current, 1);
}

/*
 * Makes the caller's return to user space go through the restart of
 * interrupted system calls (arch_do_signal_or_restart()).
 */
void ckpt_notify_restart(void)
{
	set_notify_signal(current);
}

/* Interrupted system calls: the restart block of a sleep. */

static ktime_t ckpt_clock_now(clockid_t clock)
{
	switch (clock) {
	case CLOCK_REALTIME:
		return ktime_get_real();
	case CLOCK_BOOTTIME:
		return ktime_get_boottime();
	case CLOCK_TAI:
		return ktime_get_clocktai();
	default:
		return ktime_get();
	}
}

static u64 ckpt_time_left(ktime_t expires, clockid_t clock)
{
	ktime_t left = ktime_sub(expires, ckpt_clock_now(clock));

	return left > 0 ? left : 0;
}

/*
 * Reads the restart block of a stopped @task whose system call returned
 * -ERESTART_RESTARTBLOCK: a sleep or a futex wait with a timeout, with the
 * time left. -EOPNOTSUPP for another kind of restart block.
 */
int ckpt_get_restart_block(struct task_struct *task,
			   struct ckpt_restart_block *r)
{
	struct restart_block *rb = &task->restart_block;
	struct futex_wait_block w;

	memset(r, 0, sizeof(*r));
	if (rb->fn == hrtimer_nanosleep_restart) {
		r->kind = CKPT_RESTART_NANOSLEEP;
		r->clockid = rb->nanosleep.clockid;
		r->rmtp_type = rb->nanosleep.type;
		r->addr = rb->nanosleep.type == TT_NATIVE ?
			  (unsigned long)rb->nanosleep.rmtp : 0;
		r->remaining = ckpt_time_left(rb->nanosleep.expires,
					      rb->nanosleep.clockid);
		return 0;
	}
	if (futex_wait_restart_get(rb, &w))
		return -EOPNOTSUPP;
	r->kind = CKPT_RESTART_FUTEX;
	r->clockid = w.clockid;
	r->addr = (unsigned long)w.uaddr;
	r->val = w.val;
	r->bitset = w.bitset;
	r->shared = w.shared;
	r->remaining = ckpt_time_left(w.abs_time, w.clockid);
	return 0;
}

/* Sets the caller's restart block to resume @r for the time it had left. */
int ckpt_set_restart_block(const struct ckpt_restart_block *r)
{
	struct restart_block *rb = &current->restart_block;
	struct futex_wait_block w;

	if (r->remaining > KTIME_MAX / 2)
		return -EINVAL;
	switch (r->kind) {
	case CKPT_RESTART_NANOSLEEP:
		if (r->rmtp_type == TT_COMPAT)
			return -EINVAL;
		switch (r->clockid) {
		case CLOCK_REALTIME:
		case CLOCK_MONOTONIC:
		case CLOCK_BOOTTIME:
		case CLOCK_TAI:
			break;
		default:
			return -EINVAL;
		}
		rb->nanosleep.clockid = r->clockid;
		rb->nanosleep.expires = ktime_add_ns(ckpt_clock_now(r->clockid),
						     r->remaining);
		rb->nanosleep.type = r->rmtp_type;
		rb->nanosleep.rmtp = r->rmtp_type == TT_NATIVE ?
			(struct __kernel_timespec __user *)r->addr : NULL;
		set_restart_fn(rb, hrtimer_nanosleep_restart);
		return 0;
	case CKPT_RESTART_FUTEX:
		w.uaddr = (u32 __user *)r->addr;
		w.val = r->val;
		w.bitset = r->bitset;
		w.shared = r->shared;
		w.clockid = r->clockid;
		w.abs_time = ktime_add_ns(ckpt_clock_now(r->clockid),
					  r->remaining);
		return futex_wait_restart_set(rb, &w);
	}
	return -EINVAL;
}

/*
 * Restart rebuilds the caller: it must not share its memory or files with
 * another task. Temporary users of the mm (a reader of /proc/PID/maps) do
 * not count.
 */
bool ckpt_current_is_alone(void)
{
	return current_is_single_threaded() &&
	       atomic_read(&current->files->count) == 1 &&
	       current->fs->users == 1;
}
