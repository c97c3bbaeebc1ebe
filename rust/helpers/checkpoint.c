// SPDX-License-Identifier: GPL-2.0

#include <linux/cgroup.h>
#include <linux/cred.h>
#include <linux/freezer.h>
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pid.h>
#include <linux/sched.h>

const struct cred *rust_helper_get_cred(const struct cred *cred)
{
	return get_cred(cred);
}

void rust_helper_put_cred(const struct cred *cred)
{
	put_cred(cred);
}

struct user_namespace *rust_helper_current_user_ns(void)
{
	return current_user_ns();
}

struct file *rust_helper_get_file(struct file *f)
{
	return get_file(f);
}

pid_t rust_helper_task_ppid_nr_ns(const struct task_struct *tsk,
				  struct pid_namespace *ns)
{
	return task_ppid_nr_ns(tsk, ns);
}

bool rust_helper_frozen(struct task_struct *p)
{
	return frozen(p);
}

bool rust_helper_cgroup_task_frozen(struct task_struct *task)
{
	return cgroup_task_frozen(task);
}

void rust_helper_mmap_read_lock(struct mm_struct *mm)
{
	mmap_read_lock(mm);
}

void rust_helper_mmap_read_unlock(struct mm_struct *mm)
{
	mmap_read_unlock(mm);
}

void rust_helper_put_page(struct page *page)
{
	put_page(page);
}

bool rust_helper_PageAnon(const struct page *page)
{
	return PageAnon(page);
}

#ifdef CONFIG_X86_64
#include <asm/fsgsbase.h>
#include <asm/processor.h>

struct pt_regs *rust_helper_task_pt_regs(struct task_struct *task)
{
	return task_pt_regs(task);
}

unsigned long rust_helper_x86_fsbase_read_task(struct task_struct *task)
{
	return x86_fsbase_read_task(task);
}

unsigned long rust_helper_x86_gsbase_read_task(struct task_struct *task)
{
	return x86_gsbase_read_task(task);
}
#endif
