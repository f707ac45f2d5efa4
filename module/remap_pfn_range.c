// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo variant "remap": remap_pfn_range() at mmap time.
 *
 * mmap() writes a page table entry for every page of the VMA before it
 * returns (->mmap() before 7.2; from 7.2 an mmap action requested by
 * ->mmap_prepare(), and vm_ops->mapped for what one action cannot do), so
 * no access ever faults into the driver. The entries are "special"
 * (VM_PFNMAP | VM_IO): the kernel takes no page references and does no
 * rmap for them, and the page walkers skip the VMA, so /proc/PID/pagemap
 * shows holes, smaps shows Rss 0 and mincore shows 0.
 * The buffer stays allocated while any VMA exists because each VMA holds
 * a reference on the file, and the open file on the module.
 *
 * MAP_PRIVATE: the entries are read-only and a write copies the page into
 * an anonymous one (do_wp_page()). To tell "still the device page" from
 * "already a private copy" without a struct page, the core requires one
 * remap_pfn_range() call covering the whole VMA and sets vm_pgoff to the
 * first PFN (vm_normal_page() checks pfn == vm_pgoff + index). So a
 * private mapping must be physically contiguous; a discontiguous range
 * is refused with -EINVAL. Shared mappings are remapped run by run.
 *
 * That vm_pgoff is a physical address, and every reader of the VMA shows
 * it: the offset column of /proc/PID/maps and smaps, PROCMAP_QUERY's
 * vma_offset (6.11 and newer). Physical addresses are for CAP_SYS_ADMIN
 * only (MMAPDEMO_IOC_GET_PFN, pagemap's PFN bits), so a private mapping
 * without it is refused with -EPERM and one log line, before anything
 * else is looked at (not even whether the range is contiguous).
 *
 * Debuggers: vm_ops->access (vm_ops_access.c), as GUP cannot pin these.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/capability.h>
#include <linux/mm.h>
#include <linux/sched.h>

#include "compat.h"
#include "mmapdemo.h"

/*
 * The caller of mmap() (current) is checked, as GET_PFN checks the
 * caller of ioctl(): the PFN would land in this process's maps. A process
 * that drops the capability later, and the children it forks, keep
 * their mapping, as they keep any file they opened.
 */
static int mmapdemo_remap_private_allowed(void)
{
	if (capable(CAP_SYS_ADMIN))
		return 0;
	pr_info_ratelimited("remap: MAP_PRIVATE refused to %s[%d]: without CAP_SYS_ADMIN, as remap_pfn_range() would show a physical address in /proc/PID/maps; use MAP_SHARED or another mode\n",
			    current->comm, task_pid_nr(current));
	return -EPERM;
}

static int mmapdemo_remap_refuse(unsigned long first, unsigned long count)
{
	pr_info_ratelimited("remap: MAP_PRIVATE of pages %lu-%lu refused: not physically contiguous, and remap_pfn_range() must cover a private VMA in one call; use MAP_SHARED or mode=fault\n",
			    first, first + count - 1);
	return -EINVAL;
}

/*
 * remap_pfn_range() the VMA's pages from @done on, one call per physically
 * contiguous run. @first is the file offset of the VMA's first page.
 */
static int mmapdemo_remap_runs(const struct mmapdemo_buf *buf, struct vm_area_struct *vma,
			       unsigned long first, unsigned long done)
{
	/*
	 * LAB 2: for each run of physically contiguous pages (mmapdemo_buf_run()),
	 * one remap_pfn_range() from its first PFN (mmapdemo_buf_pfn()), at its
	 * place in the VMA, with the VMA's protection
	 */
	unsigned long count = vma_pages(vma), run;
	int ret;

	for (; done < count; done += run) {
		run = mmapdemo_buf_run(buf, first + done, count - done);
		ret = remap_pfn_range(vma, vma->vm_start + (done << PAGE_SHIFT),
				      mmapdemo_buf_pfn(buf, first + done),
				      run << PAGE_SHIFT, vma->vm_page_prot);
		if (ret)
			return ret;
	}
	return 0;
	/* LAB 2 END, skeleton: return -ENOSYS; */
}

#ifdef MMAPDEMO_MMAP_PREPARE
/*
 * 7.2 and newer. An mmap action remaps one range: ask for the first
 * physically contiguous run, which is the whole VMA when the range is
 * contiguous (always so for MAP_PRIVATE). The kernel then sets
 * VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP, and for a private
 * mapping vm_pgoff = first PFN (remap_pfn_range_prepare()), and after the
 * VMA is in the mm calls remap_pfn_range_complete(): the same work as one
 * remap_pfn_range() call in ->mmap(). A refused private mapping asks for
 * no action, so its vm_pgoff never becomes a PFN.
 */
static int mmapdemo_remap_prepare(struct mmapdemo_dev *dev, struct vm_area_desc *desc)
{
	const struct mmapdemo_buf *buf = &dev->buf;
	unsigned long first = desc->pgoff, count = vma_desc_pages(desc);
	unsigned long run = mmapdemo_buf_run(buf, first, count);
	/* Open-coded vma_desc_is_cow_mapping(), like mmapdemo_is_cow(). */
	bool cow = vma_desc_test(desc, VMA_MAYWRITE_BIT) && !vma_desc_test(desc, VMA_SHARED_BIT);
	int ret;

	if (cow) {
		ret = mmapdemo_remap_private_allowed();
		if (ret)
			return ret;
		if (run < count)
			return mmapdemo_remap_refuse(first, count);
	}
	mmap_action_remap(desc, desc->start, mmapdemo_buf_pfn(buf, first), run << PAGE_SHIFT);
	return 0;
}

/*
 * vm_ops->mapped: the rest of a shared mapping of a discontiguous range,
 * then tracking. There is no mmap action for several ranges, so the other
 * runs are remapped here, where the VMA exists (see mmapdemo_vma_find())
 * and the mmap lock is still held for writing, before mmap() returns. A
 * failure unmaps the whole VMA (mmap_action_finish() in mm/util.c).
 */
static int mmapdemo_remap_mapped(unsigned long start, unsigned long end, pgoff_t pgoff,
				 const struct file *file, void **vm_private_data)
{
	struct vm_area_struct *vma = mmapdemo_vma_find(start, end, file);
	struct mmapdemo_dev *dev = mmapdemo_file_dev(file);
	int ret;

	if (!vma)
		return -EINVAL;
	/* A private VMA was remapped whole, and its pgoff is now a PFN. */
	if (!mmapdemo_is_cow(vma)) {
		ret = mmapdemo_remap_runs(&dev->buf, vma, pgoff,
					  mmapdemo_buf_run(&dev->buf, pgoff, vma_pages(vma)));
		if (ret)
			return ret;
	}
	return mmapdemo_vma_track(dev, vma, vm_private_data);
}
#else
static int mmapdemo_remap_mmap(struct mmapdemo_dev *dev, struct vm_area_struct *vma)
{
	unsigned long first = vma->vm_pgoff, count = vma_pages(vma);
	int ret;

	if (mmapdemo_is_cow(vma)) {
		ret = mmapdemo_remap_private_allowed();
		if (ret)
			return ret;
		if (mmapdemo_buf_run(&dev->buf, first, count) < count)
			return mmapdemo_remap_refuse(first, count);
	}
	return mmapdemo_remap_runs(&dev->buf, vma, first, 0);
}
#endif

static const struct vm_operations_struct mmapdemo_remap_vm_ops = {
#ifdef MMAPDEMO_MMAP_PREPARE
	.mapped = mmapdemo_remap_mapped,
#endif
	.open = mmapdemo_vma_open,
	.close = mmapdemo_vma_close,
	/* GUP cannot pin VM_PFNMAP pages: /proc/PID/mem and ptrace come here. */
	.access = mmapdemo_access,
};

const struct mmapdemo_variant mmapdemo_remap_variant = {
	.name = MMAPDEMO_MODE_NAME_REMAP,
	.api = "remap_pfn_range()",
#ifdef MMAPDEMO_MMAP_PREPARE
	.mmap_prepare = mmapdemo_remap_prepare,
#else
	.mmap = mmapdemo_remap_mmap,
#endif
	.vm_ops = &mmapdemo_remap_vm_ops,
	/* remap_pfn_range() sets VM_DONTEXPAND (and VM_PFNMAP) itself. */
	.expandable = false,
};
