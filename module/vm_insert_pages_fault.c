// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo variant "batch": fault-around with vm_insert_pages() in .fault.
 *
 * Lazy like "fault", but one fault maps a window of batch_pages pages
 * (default 16 = 64 KiB, the kernel's default fault_around_bytes): the
 * faulting page and the ones after it, clipped to the VMA and to the
 * buffer, with one vm_insert_pages() call; the handler then returns
 * VM_FAULT_NOPAGE (the page tables are already filled). A sequential first
 * touch of 1 MiB takes 256 / batch_pages faults instead of 256. The window
 * starts at the faulting page so that the faulting page is always mapped:
 * vm_insert_pages() stops at the first entry that is already present
 * (-EBUSY), which only shortens the window. Touching backwards faults on
 * every page the window of an earlier fault did not cover.
 *
 * The kernel's own fault-around (vm_ops->map_pages, filemap_map_pages())
 * needs a page cache; a driver without one batches like this. Locking:
 * from 6.4 on .fault may run under the per-VMA lock without the mmap lock.
 * vm_insert_pages() only needs the mmap lock to set VM_MIXEDMAP on a VMA
 * that lacks it (it warns or BUGs when it cannot have been held); the
 * VMA gets VM_MIXEDMAP at mmap time here, so in .fault it only takes the
 * page table locks, like the core's own fault paths.
 *
 * MAP_PRIVATE: entries inserted into a private mapping are read-only (its
 * vm_page_prot), so a later write copies exactly the written page
 * (do_wp_page()). A first touch that is a write to a private mapping
 * (FAULT_FLAG_WRITE on a COW mapping, do_cow_fault()) must hand the core
 * the one page to copy: the handler then does what the fault variant does,
 * and maps no window.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>

#include "compat.h"
#include "mmapdemo.h"

/* 2 MiB: beyond that a PMD (mode huge) is the better tool. */
#define MMAPDEMO_BATCH_MAX	512

static unsigned int batch_pages = 16;

static int mmapdemo_batch_pages_set(const char *val, const struct kernel_param *kp)
{
	/* -EINVAL makes the kernel log "`VAL' invalid for parameter `batch_pages'". */
	return param_set_uint_minmax(val, kp, 1, MMAPDEMO_BATCH_MAX);
}

static const struct kernel_param_ops mmapdemo_batch_pages_ops = {
	.set = mmapdemo_batch_pages_set,
	.get = param_get_uint,
};

module_param_cb(batch_pages, &mmapdemo_batch_pages_ops, &batch_pages, 0444);
MODULE_PARM_DESC(batch_pages, "Pages one fault maps in mode batch: 1..512 (default 16 = 64 KiB, like fault_around_bytes)");

static vm_fault_t mmapdemo_batch_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	unsigned long addr = vmf->address & PAGE_MASK;
	unsigned long want, left;
	int err;

	/* A private write, or past the buffer (SIGBUS): one page, as in fault mode. */
	if (((vmf->flags & FAULT_FLAG_WRITE) && mmapdemo_is_cow(vma)) ||
	    vmf->pgoff >= dev->buf.npages)
		return mmapdemo_fault(vmf);

	want = min3((unsigned long)READ_ONCE(batch_pages), (vma->vm_end - addr) >> PAGE_SHIFT,
		    dev->buf.npages - vmf->pgoff);
	left = want;
	err = vm_insert_pages(vma, addr, dev->buf.pages + vmf->pgoff, &left);
	/* -EBUSY: an entry was there already; the window ends before it. */
	if (err && err != -EBUSY)
		return vmf_error(err);
	/* Nothing mapped: another thread mapped the faulting page first. */
	if (left == want)
		return VM_FAULT_NOPAGE;
	mmapdemo_count(dev, faults);
	mmapdemo_count_add(dev, fault_pages, want - left);
	return VM_FAULT_NOPAGE;
}

/* VM_MIXEDMAP now, under the mmap write lock, so that .fault can insert. */
#ifdef MMAPDEMO_MMAP_PREPARE
static int mmapdemo_batch_prepare(struct mmapdemo_dev *dev, struct vm_area_desc *desc)
{
	vma_desc_set_flags(desc, VMA_MIXEDMAP_BIT);
	return 0;
}
#else
static int mmapdemo_batch_mmap(struct mmapdemo_dev *dev, struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_MIXEDMAP);
	return 0;
}
#endif

static const struct vm_operations_struct mmapdemo_batch_vm_ops = {
#ifdef MMAPDEMO_MMAP_PREPARE
	.mapped = mmapdemo_vma_mapped,
#endif
	.open = mmapdemo_vma_open,
	.close = mmapdemo_vma_close,
	.fault = mmapdemo_batch_fault,
};

const struct mmapdemo_variant mmapdemo_batch_variant = {
	.name = MMAPDEMO_MODE_NAME_BATCH,
	.api = "vm_insert_pages() in .fault",
#ifdef MMAPDEMO_MMAP_PREPARE
	.mmap_prepare = mmapdemo_batch_prepare,
#else
	.mmap = mmapdemo_batch_mmap,
#endif
	.vm_ops = &mmapdemo_batch_vm_ops,
	/* MMAPDEMO_MODE_EXPANDABLE is for showing fault mode's bounds check. */
	.expandable = false,
};
