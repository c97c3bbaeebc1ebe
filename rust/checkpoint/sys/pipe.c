// SPDX-License-Identifier: GPL-2.0
/*
 * Checkpoint/restart glue: pipes (sys/pipe.rs).
 */

#include <linux/checkpoint.h>
#include <linux/fcntl.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/magic.h>
#include <linux/pipe_fs_i.h>

/* Returns the pipe of @file if it is an end of an anonymous pipe, else NULL. */
struct pipe_inode_info *ckpt_pipe_of(struct file *file)
{
	struct pipe_inode_info *pipe = get_pipe_info(file, false);

	if (!pipe || file_inode(file)->i_sb->s_magic != PIPEFS_MAGIC)
		return NULL;
	return pipe;
}

/* Returns the pipe of @file if it is open on a FIFO, else NULL. */
struct pipe_inode_info *ckpt_fifo_of(struct file *file)
{
	struct pipe_inode_info *pipe = get_pipe_info(file, false);

	if (!pipe || file_inode(file)->i_sb->s_magic == PIPEFS_MAGIC)
		return NULL;
	return pipe;
}

/*
 * Copies the data buffered in the pipe of @file, oldest first, into @buf
 * (@max bytes), without consuming it, and sets *@size to its capacity and
 * *@ends to the number of open files of its two ends. Returns the number of
 * bytes, -E2BIG if more than @max, or -EOPNOTSUPP for a packet-mode or
 * notification pipe, whose record boundaries an image does not keep.
 */
long ckpt_pipe_peek(struct file *file, void *buf, size_t max,
		    unsigned int *size, unsigned int *ends)
{
	struct pipe_inode_info *pipe = get_pipe_info(file, false);
	unsigned int tail, head, mask;
	size_t copied = 0;
	long ret = 0;

	if (!pipe)
		return -EINVAL;
	mutex_lock(&pipe->mutex);
	*size = pipe->max_usage * PAGE_SIZE;
	*ends = pipe->readers + pipe->writers;
	head = pipe->head;
	mask = pipe->ring_size - 1;
	if (pipe_has_watch_queue(pipe))
		ret = -EOPNOTSUPP;
	for (tail = pipe->tail; !ret && tail != head; tail++) {
		struct pipe_buffer *b = &pipe->bufs[tail & mask];

		if (b->flags & PIPE_BUF_FLAG_PACKET) {
			ret = -EOPNOTSUPP;
			break;
		}
		if (b->len > max - copied) {
			ret = -E2BIG;
			break;
		}
		ret = pipe_buf_confirm(pipe, b);
		if (ret)
			break;
		memcpy_from_page(buf + copied, b->page, b->offset, b->len);
		copied += b->len;
	}
	mutex_unlock(&pipe->mutex);
	return ret ? ret : copied;
}

/*
 * Creates a pipe of @size bytes, through F_SETPIPE_SZ and its limits, with
 * @len bytes of @data buffered: files[0] is its read end, files[1] its
 * write end, both blocking. Returns 0 or a negative errno.
 */
int ckpt_pipe_create(struct file **files, unsigned int size, const void *data,
		     size_t len)
{
	loff_t pos = 0;
	ssize_t n;
	long ret;

	/* Non-blocking, so that data that does not fit fails rather than waits. */
	ret = create_pipe_files(files, O_NONBLOCK);
	if (ret)
		return ret;
	if (pipe_fcntl(files[1], F_GETPIPE_SZ, 0) != size) {
		ret = pipe_fcntl(files[1], F_SETPIPE_SZ, size);
		if (ret >= 0 && ret != size)
			ret = -EINVAL;
	}
	if (ret >= 0 && len) {
		n = kernel_write(files[1], data, len, &pos);
		ret = n < 0 ? n : n != len ? -EINVAL : 0;
	}
	if (ret < 0) {
		fput(files[0]);
		fput(files[1]);
		return ret;
	}
	ckpt_file_set_nonblock(files[0], false);
	ckpt_file_set_nonblock(files[1], false);
	return 0;
}

/*
 * Opens the FIFO at @path for reading and writing, as the caller with @cred
 * (which never blocks, and holds the FIFO's pipe while its files are
 * opened), sizes it to @size and writes the @len bytes of @data into it.
 * Returns the file, or an error pointer.
 */
struct file *ckpt_open_fifo(const char *path, unsigned int size,
			    const void *data, size_t len,
			    const struct cred *cred)
{
	const struct cred *saved = override_creds(cred);
	struct file *file = filp_open(path, O_RDWR | O_NONBLOCK, 0);
	loff_t pos = 0;
	long ret = 0;

	revert_creds(saved);
	if (IS_ERR(file))
		return file;
	if (!ckpt_fifo_of(file))
		ret = -EINVAL;
	if (!ret && pipe_fcntl(file, F_GETPIPE_SZ, 0) != size) {
		ret = pipe_fcntl(file, F_SETPIPE_SZ, size);
		if (ret >= 0 && ret != size)
			ret = -EINVAL;
	}
	if (ret >= 0 && len) {
		ssize_t n = kernel_write(file, data, len, &pos);

		ret = n < 0 ? n : n != len ? -EINVAL : 0;
	}
	if (ret < 0) {
		fput(file);
		return ERR_PTR(ret);
	}
	return file;
}

/* Sets or clears O_NONBLOCK of @file, as fcntl(F_SETFL) does. */
void ckpt_file_set_nonblock(struct file *file, bool nonblock)
{
	spin_lock(&file->f_lock);
	if (nonblock)
		file->f_flags |= O_NONBLOCK;
	else
		file->f_flags &= ~O_NONBLOCK;
	spin_unlock(&file->f_lock);
}
