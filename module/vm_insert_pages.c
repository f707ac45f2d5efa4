// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo variant "insert": vm_insert_pages() at mmap time.
 *
 * Eager like "remap", but every page table entry is a normal one for a
 * refcounted struct page: the VMA is VM_MIXEDMAP, not VM_PFNMAP. One
 * batched call maps the whole VMA (the core takes the page table lock once
 * per 8 entries, not once per page). What that buys over remap_pfn_range():
 *   - /proc/PID/pagemap, smaps and mincore see the pages (vm_normal_page()
 *     finds their struct page), MADV_DONTNEED works;
 *   - MAP_PRIVATE of any range, physically contiguous or not: the entries
 *     of a private mapping are read-only, and the first write copies the
 *     page (do_wp_page()), telling a device page from a copy by its struct
 *     page, with no rule about vm_pgoff;
 *   - fork() copies the entries (VM_MIXEDMAP), the child does not fault.
 * A page dropped by MADV_DONTNEED (or by any zap) comes back one page at a
 * time through the fault variant's .fault, which counts it.
 *
 * Before 7.2 ->mmap() sets VM_MIXEDMAP and calls vm_insert_pages() on the
 * new VMA. From 7.2 on, ->mmap_prepare() asks for the kernel's mmap action
 * for kernel pages, mmap_action_map_kernel_pages_full(): it sets
 * VM_MIXEDMAP on the descriptor (map_kernel_pages_prepare()) and, once the
 * VMA is in the mm and before vm_ops->mapped, runs the same batched
 * insert_pages() as vm_insert_pages() (map_kernel_pages_complete(), both
 * in mm/memory.c of 7.2). That is the interface 7.2 provides for exactly
 * this; inserting from ->mapped would work too but is what the action
 * exists to replace, and a failed action unmaps the VMA for us.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>

#include "compat.h"
#include "mmapdemo.h"

#ifdef MMAPDEMO_MMAP_PREPARE
static int mmapdemo_insert_prepare(struct mmapdemo_dev *dev, struct vm_area_desc *desc)
{
	/* The core checked that pgoff + the VMA's pages fit in the buffer. */
	mmap_action_map_kernel_pages_full(desc, dev->buf.pages + desc->pgoff);
	return 0;
}
#else
static int mmapdemo_insert_mmap(struct mmapdemo_dev *dev, struct vm_area_struct *vma)
{
	unsigned long left = vma_pages(vma);

	/* Set here, under the mmap write lock, so that .fault may insert too. */
	vm_flags_set(vma, VM_MIXEDMAP);
	/*
	 * One call for the whole VMA; @left comes back as the number of pages
	 * not mapped. A failure fails mmap(), which unmaps what was inserted.
	 */
	return vm_insert_pages(vma, vma->vm_start, dev->buf.pages + vma->vm_pgoff, &left);
}
#endif

const struct mmapdemo_variant mmapdemo_insert_variant = {
	.name = MMAPDEMO_MODE_NAME_INSERT,
	.api = "vm_insert_pages()",
#ifdef MMAPDEMO_MMAP_PREPARE
	.mmap_prepare = mmapdemo_insert_prepare,
#else
	.mmap = mmapdemo_insert_mmap,
#endif
	/*
	 * The fault variant's: its .fault is only called after a zap, since
	 * every page was inserted at mmap time.
	 */
	.vm_ops = &mmapdemo_fault_vm_ops,
	/* A VMA grown by mremap() would have pages nobody inserted. */
	.expandable = false,
};
