// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo variant "fault": demand paging with vm_operations_struct.fault.
 *
 * mmap() maps nothing (the variant has no mmap hook). The first touch of
 * each page of the VMA traps into the kernel, which finds no page table
 * entry and calls .fault; the handler names the buffer page for
 * vmf->pgoff and the core fault code installs it:
 *   - read fault or write to MAP_SHARED: the device page itself;
 *   - write to MAP_PRIVATE: the core copies the page into a new anonymous
 *     page (do_cow_fault()) and maps the copy; a read first maps the
 *     device page read-only and the later write copies it (do_wp_page()).
 * The pages are ordinary refcounted struct pages, so /proc/PID/pagemap,
 * smaps and mincore see them, and MADV_DONTNEED can drop them (the next
 * touch faults again).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>

#include "compat.h"
#include "mmapdemo.h"

vm_fault_t mmapdemo_fault(struct vm_fault *vmf)
{
	/*
	 * LAB 4: the buffer page at vmf->pgoff (mmapdemo_buf_page()) into
	 * vmf->page, with a reference for the page table, counted in faults and
	 * fault_pages; none there: count sigbus, VM_FAULT_SIGBUS
	 */
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vmf->vma);
	/* vmf->pgoff is the page's offset in the file: vm_pgoff included. */
	struct page *page = mmapdemo_buf_page(&dev->buf, vmf->pgoff);

	if (!page) {
		/* Only a VMA grown past the buffer (MMAPDEMO_MODE_EXPANDABLE). */
		mmapdemo_count(dev, sigbus);
		return VM_FAULT_SIGBUS;
	}
	/* The page table takes its own reference; the core drops it on unmap. */
	get_page(page);
	vmf->page = page;
	mmapdemo_count(dev, faults);
	mmapdemo_count(dev, fault_pages);
	return 0;
	/* LAB 4 END, skeleton: return VM_FAULT_SIGBUS; */
}

const struct vm_operations_struct mmapdemo_fault_vm_ops = {
#ifdef MMAPDEMO_MMAP_PREPARE
	.mapped = mmapdemo_vma_mapped,
#endif
	.open = mmapdemo_vma_open,
	.close = mmapdemo_vma_close,
	.fault = mmapdemo_fault,
};

/* No .mmap or .mmap_prepare: nothing to map now, every page faults in. */
const struct mmapdemo_variant mmapdemo_fault_variant = {
	.name = MMAPDEMO_MODE_NAME_FAULT,
	.api = "vm_operations_struct.fault",
	.vm_ops = &mmapdemo_fault_vm_ops,
	/* The bounds check in mmapdemo_fault() turns growth into SIGBUS. */
	.expandable = true,
};
