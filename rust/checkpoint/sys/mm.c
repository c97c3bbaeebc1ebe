// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: memory descriptors (sys/mm.rs).
 */

#include <linux/checkpoint.h>
#include <linux/binfmts.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pagewalk.h>
#include <linux/sched/mm.h>
#include <linux/security.h>

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

static int ckpt_populated_pmd(pmd_t *pmd, unsigned long addr,
			      unsigned long next, struct mm_walk *walk)
{
	unsigned long *found = walk->private;
	pmd_t val = pmdp_get_lockless(pmd);
	spinlock_t *ptl;
	pte_t *start, *pte;

	/* The page table is read here: never split a huge page. */
	walk->action = ACTION_CONTINUE;
	if (pmd_none(val))
		return 0;
	if (!pmd_present(val) || pmd_leaf(val)) {
		*found = addr;
		return 1;
	}
	start = pte = pte_offset_map_lock(walk->mm, pmd, addr, &ptl);
	if (!pte) {
		walk->action = ACTION_AGAIN;
		return 0;
	}
	for (; addr < next; pte++, addr += PAGE_SIZE) {
		if (!pte_none(ptep_get(pte))) {
			*found = addr;
			break;
		}
	}
	pte_unmap_unlock(start, ptl);
	return addr < next;
}

static const struct mm_walk_ops ckpt_populated_ops = {
	.pmd_entry = ckpt_populated_pmd,
	.walk_lock = PGWALK_RDLOCK,
};

/*
 * The first page at or above @start and below @end that has a page table
 * entry (present, swapped or migrating), or @end. The walk skips empty
 * page tables whole, so that an area reserved but barely touched costs
 * what is touched. Called with the mmap lock of @mm held for reading.
 */
unsigned long ckpt_next_populated(struct mm_struct *mm, unsigned long start,
				  unsigned long end)
{
	unsigned long found = end;

	walk_page_range(mm, start, end, &ckpt_populated_ops, &found);
	return found;
}

/*
 * Whether @vma is shared anonymous memory (or a memfd's): shmem mapped with
 * the anonymous ops, from the internal mount. An unlinked tmpfs file is
 * mapped with the same ops (shmem_mmap()), but lives on a mount the caller
 * can reach: it is a file mapping.
 */
bool ckpt_vma_anon_shmem(struct vm_area_struct *vma)
{
	return vma_is_anon_shmem(vma) &&
	       (!vma->vm_file || ckpt_file_internal_shmem(vma->vm_file));
}
