// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: shared memory of the kernel's internal mount,
 * memfds and shared anonymous memory (sys/shmem.rs).
 */

#include <linux/checkpoint.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/memfd.h>
#include <linux/mm.h>
#include <linux/shmem_fs.h>

/*
 * Whether @file is shmem that the caller cannot reach by a path: a memfd,
 * or shared anonymous memory. An unlinked tmpfs file is shmem too, but
 * lives on a mount the caller can reach.
 */
bool ckpt_file_internal_shmem(struct file *file)
{
	return shmem_file(file) && !ckpt_path_reachable(file_user_path(file));
}

/* Writes the name of @file's dentry into @buf; returns its length. */
int ckpt_file_name(struct file *file, char *buf, int len)
{
	return snprintf(buf, len, "%pd", file->f_path.dentry);
}

/* The memory areas that map @file's inode, in any mm. */
unsigned long ckpt_shmem_mapped(struct file *file)
{
	struct address_space *mapping = file->f_mapping;
	struct vm_area_struct *vma;
	unsigned long n = 0;

	i_mmap_lock_read(mapping);
	vma_interval_tree_foreach(vma, &mapping->i_mmap, 0, ULONG_MAX)
		n++;
	i_mmap_unlock_read(mapping);
	return n;
}

/*
 * Makes shared memory of @size bytes whose first @len are those at @data
 * (the rest comes later): a memfd named @memfd_name made as memfd_create()
 * would with @flags, or, if it is NULL, the file of shared anonymous
 * memory (as shmem_zero_setup() makes it).
 */
struct file *ckpt_new_shmem(const char *memfd_name, unsigned int flags,
			    const void *data, size_t len, loff_t size)
{
	struct file *file;
	loff_t pos = 0;
	ssize_t n;

	if (len > size)
		return ERR_PTR(-EINVAL);
	if (memfd_name)
		file = memfd_file_create(memfd_name, flags);
	else
		file = shmem_kernel_file_setup("dev/zero", size, VM_NORESERVE);
	if (IS_ERR(file) || !len)
		return file;
	n = kernel_write(file, data, len, &pos);
	if (n != len) {
		fput(file);
		return ERR_PTR(n < 0 ? n : -EIO);
	}
	return file;
}
