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
#include <linux/rmap.h>
#include <linux/sched/mm.h>
#include <linux/security.h>
#include <linux/userfaultfd_k.h>

/* mmget() and the count of users, inlines, for the Rust Mm. */
void ckpt_mmget(struct mm_struct *mm)
{
	mmget(mm);
}

int ckpt_mm_users(struct mm_struct *mm)
{
	return atomic_read(&mm->mm_users);
}

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

/*
 * The area of @mm that holds the @n pages from @addr, if they may be
 * filled as new pages: private anonymous memory that no userfaultfd
 * handles. Called with the mmap lock of @mm held.
 */
static struct vm_area_struct *ckpt_new_pages_area(struct mm_struct *mm,
						  unsigned long addr,
						  unsigned int n)
{
	struct vm_area_struct *vma = vma_lookup(mm, addr);

	if (!vma || n > (vma->vm_end - addr) >> PAGE_SHIFT)
		return NULL;
	if (!vma_is_anonymous(vma) || (vma->vm_flags & VM_SHARED) ||
	    userfaultfd_armed(vma))
		return NULL;
	return vma;
}

/*
 * Allocates the @n pages of @mm from @addr, to be filled and then mapped
 * with ckpt_map_new_pages(): charged as a fault charges them, but not
 * zeroed, since every byte is written before they are mapped. Returns
 * -EAGAIN when they must be filled in place instead (one is populated, or
 * the area is not private anonymous memory). Called with the mmap lock
 * of @mm held for reading.
 */
int ckpt_new_anon_pages(struct mm_struct *mm, unsigned long addr,
			struct page **pages, unsigned int n)
{
	unsigned long end = addr + ((unsigned long)n << PAGE_SHIFT);
	struct vm_area_struct *vma = ckpt_new_pages_area(mm, addr, n);
	unsigned int i;

	if (!vma || ckpt_next_populated(mm, addr, end) != end)
		return -EAGAIN;
	for (i = 0; i < n; i++) {
		struct folio *folio;

		folio = vma_alloc_folio(GFP_HIGHUSER_MOVABLE, 0, vma,
					addr + ((unsigned long)i << PAGE_SHIFT),
					false);
		if (folio && mem_cgroup_charge(folio, mm, GFP_KERNEL)) {
			folio_put(folio);
			folio = NULL;
		}
		if (!folio) {
			while (i--)
				put_page(pages[i]);
			return -ENOMEM;
		}
		pages[i] = &folio->page;
	}
	return 0;
}

/* The page table of @mm for @addr, made if there is none. */
static pmd_t *ckpt_alloc_pmd(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;

	p4d = p4d_alloc(mm, pgd, addr);
	pud = p4d ? pud_alloc(mm, p4d, addr) : NULL;
	pmd = pud ? pmd_alloc(mm, pud, addr) : NULL;
	if (!pmd || pmd_trans_huge(*pmd) || pmd_devmap(*pmd))
		return NULL;
	if (pmd_none(*pmd) && __pte_alloc(mm, pmd))
		return NULL;
	return pmd;
}

/*
 * Copies @page into the page of @mm at @addr, made present and private to
 * it, as a write by ptrace would: for a page that was populated since
 * ckpt_new_anon_pages() looked.
 */
static int ckpt_copy_to_user_page(struct mm_struct *mm, unsigned long addr,
				  struct page *page)
{
	struct page *dst;
	long got;

	got = get_user_pages_remote(mm, addr, 1, FOLL_FORCE | FOLL_WRITE, &dst,
				    NULL);
	if (got != 1)
		return got < 0 ? got : -EFAULT;
	copy_highpage(dst, page);
	set_page_dirty_lock(dst);
	put_page(dst);
	return 0;
}

/*
 * Maps the @n pages from ckpt_new_anon_pages(), now filled, at @addr in
 * @mm, as userfaultfd's UFFDIO_COPY maps its pages. Takes over their
 * references, whatever the result. Called with the mmap lock of @mm held
 * for reading.
 */
int ckpt_map_new_pages(struct mm_struct *mm, unsigned long addr,
		       struct page **pages, unsigned int n)
{
	struct vm_area_struct *vma = ckpt_new_pages_area(mm, addr, n);
	uffd_flags_t flags = uffd_flags_set_mode(0, MFILL_ATOMIC_COPY);
	unsigned int i = 0;
	pmd_t *pmd = NULL;
	int ret = -EFAULT;

	if (!vma)
		goto out;
	ret = -ENOMEM;
	if (anon_vma_prepare(vma))
		goto out;
	for (; i < n; i++) {
		unsigned long a = addr + ((unsigned long)i << PAGE_SHIFT);
		struct folio *folio = page_folio(pages[i]);

		if (!pmd || !(a & ~PMD_MASK))
			pmd = ckpt_alloc_pmd(mm, a);
		if (!pmd)
			break;
		flush_dcache_folio(folio);
		/* The page's contents are seen before its page table entry. */
		__folio_mark_uptodate(folio);
		ret = mfill_atomic_install_pte(pmd, vma, a, pages[i], true, flags);
		if (!ret)
			continue;
		if (ret == -EEXIST || ret == -EAGAIN)
			ret = ckpt_copy_to_user_page(mm, a, pages[i]);
		put_page(pages[i]);
		if (ret) {
			i++;
			goto out;
		}
	}
	if (i == n)
		return 0;
	ret = -ENOMEM;
out:
	for (; i < n; i++)
		put_page(pages[i]);
	return ret;
}
