// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo variant "remap": remap_pfn_range() at mmap time.
 *
 * ->mmap() writes a page table entry for every page of the VMA before
 * mmap() returns, so no access ever faults into the driver. The entries
 * are "special" (VM_PFNMAP | VM_IO): the kernel takes no page references
 * and does no rmap for them, and the page walkers skip the VMA, so
 * /proc/PID/pagemap shows holes, smaps shows Rss 0 and mincore shows 0.
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
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>

#include "mmapdemo.h"

/* Open-coded is_cow_mapping(): the helper moves and is renamed in 7.3. */
static bool mmapdemo_is_cow(const struct vm_area_struct *vma)
{
	return (vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

static int mmapdemo_remap_mmap(struct mmapdemo_dev *dev, struct vm_area_struct *vma)
{
	const struct mmapdemo_buf *buf = &dev->buf;
	unsigned long first = vma->vm_pgoff, count = vma_pages(vma), done, run;
	int ret;

	if (mmapdemo_is_cow(vma) && mmapdemo_buf_run(buf, first, count) < count) {
		pr_info_ratelimited("remap: MAP_PRIVATE of pages %lu-%lu refused: not physically contiguous, and remap_pfn_range() must cover a private VMA in one call; use MAP_SHARED or mode=fault\n",
				    first, first + count - 1);
		return -EINVAL;
	}

	for (done = 0; done < count; done += run) {
		run = mmapdemo_buf_run(buf, first + done, count - done);
		ret = remap_pfn_range(vma, vma->vm_start + (done << PAGE_SHIFT),
				      mmapdemo_buf_pfn(buf, first + done),
				      run << PAGE_SHIFT, vma->vm_page_prot);
		if (ret)
			return ret;
	}
	return 0;
}

static const struct vm_operations_struct mmapdemo_remap_vm_ops = {
	.open = mmapdemo_vma_open,
	.close = mmapdemo_vma_close,
};

const struct mmapdemo_variant mmapdemo_remap_variant = {
	.name = MMAPDEMO_MODE_NAME_REMAP,
	.api = "remap_pfn_range()",
	.mmap = mmapdemo_remap_mmap,
	.vm_ops = &mmapdemo_remap_vm_ops,
	/* remap_pfn_range() sets VM_DONTEXPAND (and VM_PFNMAP) itself. */
	.expandable = false,
};
