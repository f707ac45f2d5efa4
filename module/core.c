// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: /dev/mmapdemo, a misc device whose mmap() maps kernel pages.
 *
 * This file is the driver's skeleton: module parameters, the file
 * operations (read/write/llseek on the buffer, the ioctls, and ->mmap()
 * before 7.2 or ->mmap_prepare() from 7.2 on, which checks the request
 * and hands it to the open file's variant), and module init/exit. How
 * pages get into page tables is in the variant files.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/nospec.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

#include "compat.h"
#include "mmapdemo.h"

/* Indexed by MMAPDEMO_MODE_*: the one table a new variant is added to. */
static const struct mmapdemo_variant *const mmapdemo_variants[] = {
	[MMAPDEMO_MODE_FAULT] = &mmapdemo_fault_variant,
	[MMAPDEMO_MODE_REMAP] = &mmapdemo_remap_variant,
	[MMAPDEMO_MODE_INSERT] = &mmapdemo_insert_variant,
	[MMAPDEMO_MODE_BATCH] = &mmapdemo_batch_variant,
	[MMAPDEMO_MODE_HUGE] = &mmapdemo_huge_variant,
};

#define MMAPDEMO_NR_VARIANTS	ARRAY_SIZE(mmapdemo_variants)

static char *mode = MMAPDEMO_MODE_NAME_FAULT;
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "How mmap() maps the buffer: fault (demand paging, default), remap (remap_pfn_range at mmap time), insert (vm_insert_pages at mmap time), batch (vm_insert_pages of batch_pages pages per fault) or huge (2 MiB PMDs from .huge_fault, 6.12 and newer)");

static unsigned long pages = 16;
module_param(pages, ulong, 0444);
MODULE_PARM_DESC(pages, "Buffer size in pages (default 16)");

static struct mmapdemo_dev mmapdemo;
static const struct file_operations mmapdemo_fops;

/*
 * What MMAPDEMO_IOC_SET_MODE sets, as one word: the MMAPDEMO_MODE_* number
 * in the low bits, and MMAPDEMO_FILE_EXPANDABLE. One store publishes both
 * and one load reads both, so that no racing SET_MODE (or mmap() racing a
 * SET_MODE) can mix the variant of one call with the flag of another:
 * insert + expandable, say, which SET_MODE itself refuses, and whose
 * mappings would lack VM_DONTEXPAND and VM_DONTDUMP.
 */
#define MMAPDEMO_FILE_EXPANDABLE	BIT(8)
#define MMAPDEMO_FILE_MODE		GENMASK(7, 0)
static_assert(MMAPDEMO_FILE_MODE + 1 >= MMAPDEMO_NR_VARIANTS);

/**
 * struct mmapdemo_file - one open file
 * @dev:	the device
 * @setting:	how this file's next mmap() maps (MMAPDEMO_IOC_SET_MODE): a
 *		mode number | MMAPDEMO_FILE_EXPANDABLE, read with READ_ONCE()
 *		once per hook (mmapdemo_setting())
 */
struct mmapdemo_file {
	struct mmapdemo_dev *dev;
	unsigned long setting;
};

/* One file's setting, unpacked from one load. */
struct mmapdemo_setting {
	const struct mmapdemo_variant *variant;
	bool expandable;
};

static struct mmapdemo_setting mmapdemo_setting(const struct mmapdemo_file *mf)
{
	unsigned long setting = READ_ONCE(mf->setting);

	/* SET_MODE stored only numbers of modes this module has. */
	return (struct mmapdemo_setting) {
		.variant = mmapdemo_variants[setting & MMAPDEMO_FILE_MODE],
		.expandable = setting & MMAPDEMO_FILE_EXPANDABLE,
	};
}

static int mmapdemo_open(struct inode *inode, struct file *file)
{
	/* misc_open() put our struct miscdevice in private_data. */
	struct mmapdemo_dev *dev = container_of(file->private_data,
						struct mmapdemo_dev, misc);
	struct mmapdemo_file *mf = kzalloc(sizeof(*mf), GFP_KERNEL);

	if (!mf)
		return -ENOMEM;
	mf->dev = dev;
	mf->setting = dev->mode;
	file->private_data = mf;
	return 0;
}

static int mmapdemo_release(struct inode *inode, struct file *file)
{
	kfree(file->private_data);
	return 0;
}

static ssize_t mmapdemo_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	/* LAB 1: read at iocb->ki_pos with mmapdemo_buf_read(), then move ki_pos on */
	struct mmapdemo_file *mf = iocb->ki_filp->private_data;
	ssize_t ret = mmapdemo_buf_read(&mf->dev->buf, to, iocb->ki_pos);

	if (ret > 0)
		iocb->ki_pos += ret;
	return ret;
	/* LAB 1 END, skeleton: return -ENOSYS; */
}

static ssize_t mmapdemo_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	/* LAB 1: the same as read, with mmapdemo_buf_write() */
	struct mmapdemo_file *mf = iocb->ki_filp->private_data;
	ssize_t ret = mmapdemo_buf_write(&mf->dev->buf, from, iocb->ki_pos);

	if (ret > 0)
		iocb->ki_pos += ret;
	return ret;
	/* LAB 1 END, skeleton: return -ENOSYS; */
}

/* A fixed-size file: SEEK_END is the buffer size; seeking past it is allowed. */
static loff_t mmapdemo_llseek(struct file *file, loff_t offset, int whence)
{
	/* LAB 1: generic_file_llseek_size(), with the buffer's size as the end */
	struct mmapdemo_file *mf = file->private_data;

	return generic_file_llseek_size(file, offset, whence, MAX_LFS_FILESIZE,
					mmapdemo_buf_size(&mf->dev->buf));
	/* LAB 1 END, skeleton: return -ENOSYS; */
}

/* The whole range inside the buffer; written so that nothing can wrap. */
static bool mmapdemo_range_ok(const struct mmapdemo_dev *dev, unsigned long first,
			      unsigned long count)
{
	/* LAB 3: true if pages [first, first + count) are all in the buffer */
	return first < dev->buf.npages && count <= dev->buf.npages - first;
	/* LAB 3 END, skeleton: return false; */
}

/*
 * Whichever of the two hooks below the kernel has checks the range, sets
 * VM_DONTEXPAND | VM_DONTDUMP and the variant's vm_ops, and hands over to
 * the variant. VM_DONTEXPAND: mremap() may not grow the mapping past what
 * was checked. VM_DONTDUMP: keep device memory out of core dumps. An
 * expandable mapping gets neither: in ->mmap(), changing the flags would
 * let the kernel retry merging the new VMA into its neighbour and free it
 * without ->close() (see vma.c).
 */
#ifdef MMAPDEMO_MMAP_PREPARE
/*
 * 7.2 and newer. Stateless: the mapping may still fail or be merged after
 * this returns, so nothing is counted or allocated here. The new VMA is
 * tracked and counted by its vm_ops->mapped(), see vma.c; private_data
 * stays NULL until then.
 */
static int mmapdemo_mmap_prepare(struct vm_area_desc *desc)
{
	struct mmapdemo_file *mf = desc->file->private_data;
	struct mmapdemo_setting set = mmapdemo_setting(mf);
	struct mmapdemo_dev *dev = mf->dev;

	/*
	 * The VMA's file is where its faults find the device (vma.c): refuse
	 * a stacking driver's VMA of another file (compat_vma_mmap()).
	 */
	if (desc->vm_file != desc->file)
		return -EINVAL;
	if (!mmapdemo_range_ok(dev, desc->pgoff, vma_desc_pages(desc)))
		return -EINVAL;
	/* LAB 3: unless expandable, no mremap() growth and no core dump */
	if (!set.expandable)
		vma_desc_set_flags(desc, VMA_DONTEXPAND_BIT, VMA_DONTDUMP_BIT);
	/* LAB 3 END */
	desc->vm_ops = set.variant->vm_ops;

	return set.variant->mmap_prepare ? set.variant->mmap_prepare(dev, desc) : 0;
}
#else
static int mmapdemo_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct mmapdemo_file *mf = file->private_data;
	struct mmapdemo_setting set = mmapdemo_setting(mf);
	struct mmapdemo_dev *dev = mf->dev;
	int ret;

	/*
	 * The VMA's file is where its faults find the device (vma.c): refuse
	 * a stacking driver's VMA of another file.
	 */
	if (vma->vm_file != file)
		return -EINVAL;
	if (!mmapdemo_range_ok(dev, vma->vm_pgoff, vma_pages(vma)))
		return -EINVAL;
	/* LAB 3: unless expandable, no mremap() growth and no core dump */
	if (!set.expandable)
		vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	/* LAB 3 END */
	vma->vm_ops = set.variant->vm_ops;

	if (set.variant->mmap) {
		ret = set.variant->mmap(dev, vma);
		if (ret)
			return ret;
	}
	return mmapdemo_vma_track(dev, vma, &vma->vm_private_data);
}
#endif

#ifdef MMAPDEMO_HUGE
/*
 * Where a new mapping goes: the variant's choice (huge: 2 MiB-aligned),
 * else the mm's, as if the file had no such hook. A load of its own: a
 * SET_MODE between this and mmap() changes only the alignment (huge then
 * falls back to 4 KiB pages), never what is mapped.
 */
static unsigned long mmapdemo_get_unmapped_area(struct file *file, unsigned long addr,
						unsigned long len, unsigned long pgoff,
						unsigned long flags)
{
	struct mmapdemo_file *mf = file->private_data;
	const struct mmapdemo_variant *variant = mmapdemo_setting(mf).variant;

	if (variant->get_unmapped_area)
		return variant->get_unmapped_area(file, addr, len, pgoff, flags);
	return mmapdemo_mm_get_unmapped_area(file, addr, len, pgoff, flags);
}
#endif

/*
 * The device an open /dev/mmapdemo maps, NULL for any other file: its
 * private_data is ours to read only if its file operations are (misc_open()
 * installed them). For vm_ops (the VMA holds a reference on its file, so
 * this lives as long as the VMA) and for vm_ops->mapped(), which is given
 * a file and no guarantee.
 */
struct mmapdemo_dev *mmapdemo_file_dev(const struct file *file)
{
	const struct mmapdemo_file *mf;

	if (!file || file->f_op != &mmapdemo_fops)
		return NULL;
	mf = file->private_data;
	return mf->dev;
}

/*
 * The ioctls. Each takes the size the caller's command names (@usize, at
 * least the structure's version 0, at most a page: mmapdemo_ioctl()) and
 * copies with copy_struct_from_user() and mmapdemo_copy_struct_to_user():
 * the structures can grow at their end, see the uapi header.
 */
static long mmapdemo_set_mode(struct mmapdemo_file *mf, void __user *uarg, size_t usize)
{
	const struct mmapdemo_variant *variant;
	struct mmapdemo_mode m;
	unsigned long nr;
	int ret;

	ret = copy_struct_from_user(&m, sizeof(m), uarg, usize);
	if (ret)
		return ret;
	if (m.mode >= MMAPDEMO_NR_VARIANTS || (m.flags & ~MMAPDEMO_MODE_FLAGS))
		return -EINVAL;
	/* The user's index: no speculative table read past the bounds check. */
	nr = array_index_nospec((unsigned long)m.mode, MMAPDEMO_NR_VARIANTS);
	variant = mmapdemo_variants[nr];
	/* A variant this kernel cannot do has no table entry, or says why. */
	if (!variant)
		return -EOPNOTSUPP;
	if (variant->unsupported) {
		pr_info_ratelimited("mode %s refused: %s\n", variant->name, variant->unsupported);
		return -EOPNOTSUPP;
	}
	if ((m.flags & MMAPDEMO_MODE_EXPANDABLE) && !variant->expandable)
		return -EINVAL;
	/* One store: see MMAPDEMO_FILE_EXPANDABLE. */
	WRITE_ONCE(mf->setting,
		   nr | (m.flags & MMAPDEMO_MODE_EXPANDABLE ? MMAPDEMO_FILE_EXPANDABLE : 0));
	return 0;
}

/* Bit N for each MMAPDEMO_MODE_* N this module and kernel can do. */
static u64 mmapdemo_modes_offered(void)
{
	u64 modes = 0;
	unsigned int i;

	for (i = 0; i < MMAPDEMO_NR_VARIANTS; i++)
		if (mmapdemo_variants[i] && !mmapdemo_variants[i]->unsupported)
			modes |= BIT_ULL(i);
	return modes;
}

static long mmapdemo_get_info(struct mmapdemo_file *mf, void __user *uarg, size_t usize)
{
	const struct mmapdemo_buf *buf = &mf->dev->buf;
	struct mmapdemo_info info = {
		.size = mmapdemo_buf_size(buf),
		.pages = buf->npages,
		.page_size = PAGE_SIZE,
		.mode = READ_ONCE(mf->setting) & MMAPDEMO_FILE_MODE,
		.flags = buf->contiguous ? MMAPDEMO_INFO_CONTIGUOUS : 0,
		.modes = mmapdemo_modes_offered(),
	};

	return mmapdemo_copy_struct_to_user(uarg, usize, &info, sizeof(info));
}

static long mmapdemo_get_stats(struct mmapdemo_file *mf, void __user *uarg, size_t usize)
{
	struct mmapdemo_stats st;

	mmapdemo_stats_get(mf->dev, &st);
	return mmapdemo_copy_struct_to_user(uarg, usize, &st, sizeof(st));
}

static long mmapdemo_reset_stats(struct mmapdemo_file *mf, void __user *uarg, size_t usize)
{
	mmapdemo_stats_reset(mf->dev);
	return 0;
}

/* Physical addresses help attacks on the kernel: root (CAP_SYS_ADMIN) only. */
static long mmapdemo_get_pfn(struct mmapdemo_file *mf, void __user *uarg, size_t usize)
{
	const struct mmapdemo_buf *buf = &mf->dev->buf;
	struct mmapdemo_pfn p;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = copy_struct_from_user(&p, sizeof(p), uarg, usize);
	if (ret)
		return ret;
	if (p.index >= buf->npages)
		return -EINVAL;
	p.pfn = mmapdemo_buf_pfn(buf, p.index);
	return mmapdemo_copy_struct_to_user(uarg, usize, &p, sizeof(p));
}

/**
 * struct mmapdemo_ioctl - one ioctl, by its number
 * @cmd:	the command with this header's structure size
 * @size_ver0:	the smallest structure size accepted (its version 0)
 * @fn:		does it, for a caller whose structure has @usize bytes
 */
struct mmapdemo_ioctl {
	unsigned int cmd;
	size_t size_ver0;
	long (*fn)(struct mmapdemo_file *mf, void __user *uarg, size_t usize);
};

static const struct mmapdemo_ioctl mmapdemo_ioctls[] = {
	[_IOC_NR(MMAPDEMO_IOC_GET_INFO)] = {
		MMAPDEMO_IOC_GET_INFO, MMAPDEMO_INFO_SIZE_VER0, mmapdemo_get_info },
	[_IOC_NR(MMAPDEMO_IOC_SET_MODE)] = {
		MMAPDEMO_IOC_SET_MODE, MMAPDEMO_MODE_SIZE_VER0, mmapdemo_set_mode },
	[_IOC_NR(MMAPDEMO_IOC_GET_STATS)] = {
		MMAPDEMO_IOC_GET_STATS, MMAPDEMO_STATS_SIZE_VER0, mmapdemo_get_stats },
	[_IOC_NR(MMAPDEMO_IOC_RESET_STATS)] = {
		MMAPDEMO_IOC_RESET_STATS, 0, mmapdemo_reset_stats },
	[_IOC_NR(MMAPDEMO_IOC_GET_PFN)] = {
		MMAPDEMO_IOC_GET_PFN, MMAPDEMO_PFN_SIZE_VER0, mmapdemo_get_pfn },
};

/*
 * Type, number and direction name the ioctl; the size is the caller's
 * (the structures can grow: see the uapi header). A command without an
 * argument (_IO) has none: any size there is another command.
 */
static long mmapdemo_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	const struct mmapdemo_ioctl *ioc;
	unsigned int nr = _IOC_NR(cmd);
	size_t usize = _IOC_SIZE(cmd);

	if (_IOC_TYPE(cmd) != MMAPDEMO_IOC_MAGIC || nr >= ARRAY_SIZE(mmapdemo_ioctls))
		return -ENOTTY;
	ioc = &mmapdemo_ioctls[array_index_nospec(nr, ARRAY_SIZE(mmapdemo_ioctls))];
	if (!ioc->fn || _IOC_DIR(cmd) != _IOC_DIR(ioc->cmd) || (!ioc->size_ver0 && usize))
		return -ENOTTY;
	if (usize < ioc->size_ver0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	return ioc->fn(file->private_data, (void __user *)arg, usize);
}

static const struct file_operations mmapdemo_fops = {
	.owner = THIS_MODULE,
	.open = mmapdemo_open,
	.release = mmapdemo_release,
	.read_iter = mmapdemo_read_iter,
	.write_iter = mmapdemo_write_iter,
	.llseek = mmapdemo_llseek,
	/*
	 * The pages are the data: no backing store, nothing to write back.
	 * msync(MS_SYNC) of a MAP_SHARED mapping calls vfs_fsync_range(), as
	 * fsync() and fdatasync() do, and that fails with EINVAL when there
	 * is no ->fsync (mm/msync.c, fs/sync.c; 6.1 and 7.2 alike). MS_ASYNC
	 * and MS_INVALIDATE, and any msync() of a private mapping, never
	 * reach the driver.
	 */
	.fsync = noop_fsync,
#ifdef MMAPDEMO_MMAP_PREPARE
	/* 7.2 and newer: ->mmap is deprecated; setting both fails mmap(). */
	.mmap_prepare = mmapdemo_mmap_prepare,
#else
	.mmap = mmapdemo_mmap,
#endif
#ifdef MMAPDEMO_HUGE
	.get_unmapped_area = mmapdemo_get_unmapped_area,
#endif
	.unlocked_ioctl = mmapdemo_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

/* Return: the MMAPDEMO_MODE_* number of the variant called @name, or -1. */
static int mmapdemo_find_variant(const char *name)
{
	unsigned int i;

	for (i = 0; i < MMAPDEMO_NR_VARIANTS; i++)
		if (mmapdemo_variants[i] && sysfs_streq(name, mmapdemo_variants[i]->name))
			return i;
	return -1;
}

/**
 * mmapdemo_mode_names() - the modes this build and kernel can do
 * @names:	out: their names, separated by @sep ("fault, remap, ...")
 * @size:	size of @names
 * @sep:	what goes between two names
 *
 * What the sysfs file "modes" shows and the error for an unknown mode=
 * names: the one answer to "which modes are there", for programs too.
 *
 * Return: the length written, as scnprintf().
 */
size_t mmapdemo_mode_names(char *names, size_t size, const char *sep)
{
	unsigned int i;
	size_t len = 0;

	names[0] = '\0';
	for (i = 0; i < MMAPDEMO_NR_VARIANTS; i++)
		if (mmapdemo_variants[i] && !mmapdemo_variants[i]->unsupported)
			len += scnprintf(names + len, size - len, "%s%s", len ? sep : "",
					 mmapdemo_variants[i]->name);
	return len;
}

static int __init mmapdemo_init(void)
{
	struct mmapdemo_dev *dev = &mmapdemo;
	char names[64];
	int ret, nr;

	nr = mmapdemo_find_variant(mode);
	if (nr < 0) {
		mmapdemo_mode_names(names, sizeof(names), ", ");
		pr_err("mode=%s is not a mapping variant: use one of %s\n", mode, names);
		return -EINVAL;
	}
	dev->mode = nr;
	dev->variant = mmapdemo_variants[nr];
	if (dev->variant->unsupported) {
		pr_err("mode=%s refused: %s\n", mode, dev->variant->unsupported);
		return -EOPNOTSUPP;
	}
	if (!pages) {
		pr_err("pages=0: the buffer needs at least one page\n");
		return -EINVAL;
	}
	/* "Reasonable": at most half of RAM, so the machine keeps working. */
	if (pages > totalram_pages() / 2) {
		pr_err("pages=%lu is more than half of RAM (%lu pages)\n", pages,
		       totalram_pages() / 2);
		return -ENOMEM;
	}

	ret = mmapdemo_buf_alloc(&dev->buf, pages);
	if (ret) {
		pr_err("could not allocate %lu pages for the buffer\n", pages);
		return ret;
	}

	mmapdemo_stats_init();
	dev->misc.minor = MISC_DYNAMIC_MINOR;
	dev->misc.name = KBUILD_MODNAME;
	dev->misc.fops = &mmapdemo_fops;
	dev->misc.groups = mmapdemo_groups;
	dev->misc.mode = 0600;

	ret = misc_register(&dev->misc);
	if (ret) {
		pr_err("misc_register failed: %d\n", ret);
		mmapdemo_buf_free(&dev->buf);
		return ret;
	}

	/* .mmap is in struct file_operations on every kernel, .mmap_prepare not. */
	pr_info("/dev/%s: %lu pages (%s), mode=%s (%s) via f_op->%s\n", dev->misc.name,
		dev->buf.npages,
		dev->buf.contiguous ? "physically contiguous" : "in chunks",
		dev->variant->name, dev->variant->api,
		mmapdemo_fops.mmap ? "mmap" : "mmap_prepare");
	return 0;
}

static void __exit mmapdemo_exit(void)
{
	struct mmapdemo_dev *dev = &mmapdemo;

	/* No file is open (fops.owner), hence no VMA: nothing maps the pages. */
	misc_deregister(&dev->misc);
	mmapdemo_buf_free(&dev->buf);
	pr_info("unloaded\n");
}

module_init(mmapdemo_init);
module_exit(mmapdemo_exit);

MODULE_DESCRIPTION("mmap() of kernel pages: .fault, remap_pfn_range, vm_insert_pages and PMD variants, for teaching");
MODULE_AUTHOR("mmapdemo developers");
MODULE_LICENSE("GPL");
