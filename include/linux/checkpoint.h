/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Checkpoint/restart: the interface between the C glue and the Rust core
 * (rust/checkpoint). See Documentation/checkpoint/.
 */
#ifndef _LINUX_CHECKPOINT_H
#define _LINUX_CHECKPOINT_H

#include <linux/eventfd.h>	/* eventfd_get_state(), eventfd_file_create() */
#include <linux/fs.h>		/* for the inlines of eventpoll.h */
#include <linux/uaccess.h>	/* for the inlines of eventpoll.h */
#include <linux/eventpoll.h>	/* eventpoll_next_watch(), epoll_ctl_file() */
#include <linux/filelock.h>	/* vfs_flock() */
#include <linux/fcntl.h>	/* F_GET_SEALS, F_ADD_SEALS */
#include <linux/memfd.h>	/* memfd_fcntl() */
#include <uapi/linux/memfd.h>	/* MFD_* */
#include <linux/sched/task.h>	/* kernel_clone(), for eclone(2) */
#include <linux/pid_namespace.h>	/* MAX_PID_NS_LEVEL */
#include <linux/signalfd.h>	/* signalfd_get_mask(), signalfd_file_create() */
#include <linux/timerfd.h>	/* timerfd_get_state(), timerfd_file_create() */
#include <linux/time64.h>	/* struct itimerspec64, for timerfds */
#include <linux/types.h>
#include <uapi/linux/checkpoint.h>

/* Rust core: the bodies of checkpoint(2), restart(2) and eclone(2). */
long ckpt_sys_checkpoint(pid_t pid, int fd, unsigned long flags, int logfd);
long ckpt_sys_restart(pid_t pid, int fd, unsigned long flags, int logfd);
long ckpt_sys_eclone(unsigned int flags_low,
		     const struct eclone_args __user *uargs, size_t size,
		     const pid_t __user *pids);

/* C glue for the Rust core (rust/checkpoint/sys/<class>.c). */
struct file;
struct inode;
struct mm_struct;
struct page;
struct pid_namespace;
struct pipe_inode_info;
struct task_struct;
struct vm_area_struct;

/* An interrupted system call, as a restart block record holds it. */
enum { CKPT_RESTART_NANOSLEEP = 1, CKPT_RESTART_FUTEX = 2 };

struct ckpt_restart_block {
	u32 kind;
	s32 clockid;
	u64 remaining;		/* ns left at checkpoint */
	u64 addr;		/* rmtp, or the futex word */
	u32 rmtp_type;
	u32 val;		/* futex */
	u32 bitset;		/* futex */
	u32 shared;		/* futex */
};

/* Signal state and per-task settings, as a signals record holds them. */
struct ckpt_signals {
	u64 blocked;
	u64 ss_sp;
	u64 ss_size;
	u32 ss_flags;
	u32 umask;
	u64 rseq;
	u32 rseq_len;
	u32 rseq_sig;
	u64 rlim[16][2];
	u64 action[64][4];	/* handler, flags, restorer, mask */
	u64 itimer_real[2];	/* ns left (0: disarmed), interval */
};

/* A pending signal, as a signals record holds it. */
struct ckpt_pending {
	u32 signo;
	u32 flags;		/* CKPT_PENDING_SHARED */
	u8 info[48];		/* struct kernel_siginfo */
};

#define CKPT_PENDING_SHARED	1

/* An interval timer of a thread group, as a timer record holds it. */
enum {
	CKPT_TIMER_VIRTUAL = 1,	/* ITIMER_VIRTUAL */
	CKPT_TIMER_PROF = 2,	/* ITIMER_PROF */
	CKPT_TIMER_POSIX = 3,	/* timer_create() */
};

struct ckpt_timer {
	u32 kind;
	s32 id;
	s32 clock;
	u32 notify;		/* sigev_notify */
	u32 signo;
	s32 tid;		/* SIGEV_THREAD_ID */
	u32 flags;		/* CKPT_TIMER_ABSTIME, CKPT_TIMER_PENDING */
	s32 overrun;		/* timer_getoverrun() */
	s32 pending_overrun;	/* of its queued signal */
	u64 value;		/* sigev_value */
	u64 expiry;		/* ns left (0: disarmed) */
	u64 interval;		/* ns */
};

#define CKPT_TIMER_ABSTIME	1	/* absolute CLOCK_REALTIME */
#define CKPT_TIMER_PENDING	2	/* its signal is queued */

/* Credentials, as a cred record holds them (ids in the caller's namespace). */
struct ckpt_cred {
	u32 uids[4];		/* real, effective, saved, fs */
	u32 gids[4];
	u32 securebits;
	u32 ngroups;
	u64 caps[5];		/* inheritable, permitted, effective, bounding, ambient */
};

/* Privileges a cred record takes beyond the caller's (ckpt_prepare_cred()). */
#define CKPT_NEED_SETUID	(1U << 0)	/* ids: CAP_SETUID */
#define CKPT_NEED_SETGID	(1U << 1)	/* ids: CAP_SETGID */
#define CKPT_NEED_SETGROUPS	(1U << 2)	/* groups: may_setgroups() */
#define CKPT_NEED_SETPCAP	(1U << 3)	/* bounding set, securebits */

/* Per-task settings, as a task record holds them. */
struct ckpt_task_settings {
	s32 oom_score_adj;
	u32 no_new_privs;
	u64 robust_list;
	u64 robust_list_len;
	u64 clear_child_tid;
};

struct cred;

void ckpt_read_utsname(char *release, char *version, char *machine);
struct file *ckpt_next_fd(struct task_struct *task, unsigned int *fd,
			  bool *cloexec);
char *ckpt_file_path(struct file *file, char *buf, int len);
void ckpt_file_info(struct file *file, unsigned int *flags, s64 *pos,
		    unsigned int *mode, unsigned int *rdev);
struct file *ckpt_open_file(const char *path, unsigned int flags, s64 pos,
			    const struct cred *cred);
int ckpt_write_pages(struct file *file, const void *head, size_t head_len,
		     struct page **pages, unsigned int n);
int ckpt_read_pages(struct file *file, struct page **pages, unsigned int n,
		    bool hold);
int ckpt_read_pages_at(struct file *file, struct page **pages, unsigned int n,
		       s64 pos, bool hold);
bool ckpt_file_preadable(struct file *file);
int ckpt_file_skip(struct file *file, s64 len, s64 *pos);
u64 ckpt_file_count(struct file *file);
bool ckpt_vma_anon_shmem(struct vm_area_struct *vma);
bool ckpt_file_unlinked(struct file *file);
u64 ckpt_file_size(struct file *file);
char *ckpt_file_dir_path(struct file *file, char *buf, int len);
int ckpt_file_read_at(struct file *file, void *buf, size_t len, s64 pos);
int ckpt_file_write_at(struct file *file, const void *buf, size_t len, s64 pos);
bool ckpt_path_reachable(const struct path *path);
bool ckpt_file_internal_shmem(struct file *file);
int ckpt_file_name(struct file *file, char *buf, int len);
unsigned long ckpt_shmem_mapped(struct file *file);
struct file *ckpt_new_shmem(const char *memfd_name, unsigned int flags,
			    const void *data, size_t len, loff_t size);
struct file *ckpt_new_unlinked(const char *dir, umode_t mode, const void *data,
			       size_t len, const struct cred *cred);
struct inode *ckpt_file_inode(struct file *file);
struct file *ckpt_reopen_file(struct file *file, unsigned int flags, s64 pos,
			      const struct cred *cred);
/* A lock on a file (sys/lock.c): FL_FLOCK, FL_POSIX, FL_OFDLCK or FL_LEASE. */
struct ckpt_lock {
	u64 start;
	u64 end;
	u32 flags;
	bool write;
};

int ckpt_file_locks(struct file *file, struct task_struct *task,
		    struct ckpt_lock *out, unsigned int max);
bool ckpt_file_has_owner(struct file *file);
int ckpt_posix_test_lock(struct file *file, bool write, u64 start, u64 end);
int ckpt_posix_lock(unsigned int fd, struct file *file, bool write, u64 start,
		    u64 end);
void ckpt_close_all_fds(void);
int ckpt_install_fd(unsigned int fd, struct file *file, bool cloexec);
struct pipe_inode_info *ckpt_pipe_of(struct file *file);
struct pipe_inode_info *ckpt_fifo_of(struct file *file);
struct file *ckpt_open_fifo(const char *path, unsigned int size,
			    const void *data, size_t len,
			    const struct cred *cred);
long ckpt_pipe_peek(struct file *file, void *buf, size_t max,
		    unsigned int *size, unsigned int *ends);
int ckpt_pipe_create(struct file **files, unsigned int size, const void *data,
		     size_t len);
void ckpt_file_set_nonblock(struct file *file, bool nonblock);
int ckpt_get_fs(struct task_struct *task, char *root, char *cwd, int len,
		char **rootp, char **cwdp);
int ckpt_may_enter(struct file *dir, const struct cred *cred, bool root);
void ckpt_set_fs(struct file *root, struct file *cwd);
struct files_struct *ckpt_task_files(struct task_struct *task);
void ckpt_hold_files(struct files_struct *files);
void ckpt_put_files(struct files_struct *files);
int ckpt_files_refs(struct files_struct *files);
void ckpt_share_files(struct files_struct *files);
struct fs_struct *ckpt_task_fs(struct task_struct *task);
void ckpt_hold_fs(struct fs_struct *fs);
void ckpt_put_fs(struct fs_struct *fs);
int ckpt_fs_users(struct fs_struct *fs);
void ckpt_share_fs(struct fs_struct *fs);
unsigned int ckpt_cred_ngroups(const struct cred *cred);
void ckpt_get_cred(const struct cred *cred, struct ckpt_cred *c, u32 *groups);
void ckpt_get_caller_cred(struct ckpt_cred *c, u32 *groups);
unsigned int ckpt_caller_ngroups(void);
struct cred *ckpt_prepare_cred(const struct ckpt_cred *c, const u32 *groups,
			       u32 needs);
int ckpt_commit_cred(const struct cred *c);
int ckpt_set_exe_file(struct file *file);
unsigned long ckpt_next_populated(struct mm_struct *mm, unsigned long start,
				  unsigned long end);
void ckpt_mmget(struct mm_struct *mm);
int ckpt_mm_users(struct mm_struct *mm);
int ckpt_new_anon_pages(struct mm_struct *mm, unsigned long addr,
			struct page **pages, unsigned int n);
int ckpt_map_new_pages(struct mm_struct *mm, unsigned long addr,
		       struct page **pages, unsigned int n);
int ckpt_mm_set_layout(const u64 *layout, const u64 *auxv, unsigned int words);
void ckpt_set_comm(const char *comm);
int ckpt_task_pin(struct task_struct *task);
void ckpt_get_task_settings(struct task_struct *task, struct ckpt_task_settings *t);
int ckpt_oom_score_adj_min(void);
int ckpt_set_task_settings(const struct ckpt_task_settings *t);
void ckpt_task_unpin(struct task_struct *task);

/* What ckpt_task_sharing() finds shared, or not shared. */
#define CKPT_SHARES_FILES	1
#define CKPT_SHARES_FS		2
#define CKPT_SHARES_MM		4
#define CKPT_OWN_FILES		8
#define CKPT_OWN_FS		16
#define CKPT_SHARES_SIGHAND	32

unsigned int ckpt_task_sharing(struct task_struct *task);
int ckpt_collect_tree(struct task_struct *root, struct task_struct **out,
		      unsigned int max);
void ckpt_task_groups(struct task_struct *task, struct pid_namespace *ns,
		      pid_t *pgid, pid_t *sid);
struct pid_namespace *ckpt_task_pid_ns(struct task_struct *task);

/* Where a task is among nested pid namespaces: ckpt_task_nested_pids(). */
struct ckpt_nested_pids {
	pid_t init;
	int children;
	pid_t children_init;
	pid_t pids[MAX_PID_NS_LEVEL];
};

int ckpt_task_nested_pids(struct task_struct *task, struct pid_namespace *ns,
			  struct pid_namespace *names,
			  struct ckpt_nested_pids *p, unsigned int max);
pid_t ckpt_pid_from_above(pid_t nr, unsigned int up);
struct pid_namespace *ckpt_pid_ns_above(unsigned int up);
int ckpt_unshare_pid_ns(void);
bool ckpt_task_is_ns_init(struct task_struct *task);
bool ckpt_task_is_zombie(struct task_struct *task);
void ckpt_kill_task(struct task_struct *task);
int ckpt_setsid(void);
int ckpt_setpgid(pid_t pgid);
pid_t ckpt_spawn_child(const pid_t *set_tid, size_t n, u64 flags,
		       int exit_signal, void (*run)(void *arg), void *arg);
void ckpt_task_exit(struct task_struct *task, int *exit_signal, u32 *status);
int ckpt_task_vforked(struct task_struct *child);
struct ckpt_vfork;
struct ckpt_vfork *ckpt_vfork_arm(pid_t pid);
void ckpt_vfork_wait(struct ckpt_vfork *v);
void ckpt_vfork_release(struct ckpt_vfork *v);
bool ckpt_task_may_attach(struct task_struct *task);
void __noreturn ckpt_exit_zombie(u32 status);
int ckpt_wait_child_exit(pid_t pid);
void ckpt_forget_signal(int sig);
int ckpt_copy_eclone_args(struct eclone_args *args,
			  const struct eclone_args __user *uargs, size_t size);
void ckpt_task_shape(struct task_struct *task, int *threads, bool *children,
		     bool *exiting);
void ckpt_kill_self(void);
void ckpt_stop_self(void);
void ckpt_reset_signals(bool group);
int ckpt_get_signals(struct task_struct *task, struct ckpt_signals *s);
int ckpt_get_pending(struct task_struct *task, struct ckpt_pending *p,
		     unsigned int max);
int ckpt_queue_pending(const struct ckpt_pending *p);
void ckpt_get_rlimits(u64 (*rlim)[2]);
unsigned int ckpt_nr_open(void);
int ckpt_set_signals(const struct ckpt_signals *s, bool group);
void ckpt_notify_restart(void);
s64 ckpt_clock_ns(clockid_t clock);
void ckpt_hold_signals(void);
bool ckpt_defer_signal(void);
void ckpt_resume_signals(void);
bool ckpt_fatal_signal_pending(void);
u64 ckpt_nofile_limit(void);
bool ckpt_current_is_alone(void);
bool ckpt_file_is_inotify(struct file *file);
ssize_t ckpt_inotify_events(struct file *file, void *buf, size_t len);
int ckpt_inotify_queue(struct file *file, int wd, u32 mask, u32 cookie,
		       const char *name, size_t name_len);
char *ckpt_inotify_next_watch(struct file *file, int *wd, u32 *mask,
			      char *buf, int len);
struct file *ckpt_inotify_create(bool nonblock);
int ckpt_inotify_add_watch(struct file *file, const char *name, u32 mask,
			   int wd, const struct cred *cred);
int ckpt_get_timer_ids(struct task_struct *task, s32 *ids, unsigned int max);
int ckpt_get_timer(struct task_struct *task, struct pid_namespace *ns,
		   struct ckpt_timer *t);
int ckpt_set_timer(const struct ckpt_timer *t);
int ckpt_get_restart_block(struct task_struct *task,
			   struct ckpt_restart_block *r);
int ckpt_set_restart_block(const struct ckpt_restart_block *r);

/* Arch glue (arch/x86/kernel/checkpoint.c). */
unsigned long ckpt_task_size(void);
u64 ckpt_xstate_features(void);
unsigned int ckpt_xstate_size(void);
int ckpt_xstate_get(struct task_struct *task, void *buf, unsigned int size);
int ckpt_xstate_check(const void *buf, unsigned int size);
int ckpt_xstate_set(const void *buf, unsigned int size);
int ckpt_check_regs(const u64 *regs);
int ckpt_set_regs(const u64 *regs);
int ckpt_map_vdso(unsigned long vvar_start, unsigned long vvar_len,
		  unsigned long vdso_len);

/* Rust tests run by the KUnit suite (rust/checkpoint/kunit.c). */
int ckpt_kunit_objhash(void);
int ckpt_kunit_objhash_fetch(void);
int ckpt_kunit_cred_needs(void);
int ckpt_kunit_deferqueue(void);

#endif /* _LINUX_CHECKPOINT_H */
