// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo variant "huge": 2 MiB PMD mappings with vmf_insert_pfn_pmd().
 *
 * Lazy like "fault", but where it can, one fault maps 2 MiB with a single
 * page middle directory entry instead of 512 page table entries. Three
 * things must line up:
 *   - the user address: f_op->get_unmapped_area is thp_get_unmapped_area(),
 *     which places a mapping of at least 2 MiB so that the address and the
 *     file offset agree modulo 2 MiB (for offset 0: a 2 MiB-aligned
 *     address);
 *   - the memory: the 512 buffer pages behind a 2 MiB-aligned part of the
 *     VMA must be one physically contiguous run starting at a 2 MiB
 *     boundary (mmapdemo_buf_aligned_run(); the buffer's chunks usually
 *     are, see buffer.c);
 *   - the kernel: vm_ops->huge_fault is called for a driver VMA from 6.12
 *     on, for VM_PFNMAP VMAs ("special" PMDs without struct page
 *     refcounting), on kernels built with CONFIG_TRANSPARENT_HUGEPAGE and
 *     CONFIG_ARCH_SUPPORTS_PMD_PFNMAP (compat.h, MMAPDEMO_HUGE); VM_HUGEPAGE
 *     asks for it whatever the THP sysfs setting ("madvise" or "always";
 *     not "never").
 * Where any of them fails, .huge_fault returns VM_FAULT_FALLBACK and the
 * core asks .fault for one 4 KiB page (vmf_insert_pfn()).
 *
 * Shared mappings only. vmf_insert_pfn_pmd() and vmf_insert_pfn() BUG on a
 * VM_PFNMAP copy-on-write mapping (MAP_PRIVATE, writable or not): the core
 * could not tell a device page from a private copy. A private mapping in
 * this mode is therefore an ordinary fault-mode mapping of 4 KiB struct
 * pages (no VM_PFNMAP, .fault returns the page, writes copy one page),
 * and .huge_fault declines it. A shared mapping is VM_PFNMAP, so, as in
 * remap mode, pagemap, mincore and smaps do not see its pages and
 * MADV_DONTNEED is refused.
 *
 * 6.1, or a kernel without THP: refused. mode=huge fails the load,
 * MMAPDEMO_IOC_SET_MODE fails with EOPNOTSUPP, each with one log line
 * saying which of the three is missing (core.c, @unsupported).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>

#include "compat.h"
#include "mmapdemo.h"

#ifdef MMAPDEMO_HUGE
static vm_fault_t mmapdemo_huge_fault(struct vm_fault *vmf, unsigned int order)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	unsigned long haddr = vmf->address & PMD_MASK;
	unsigned long first;
	vm_fault_t ret;

	/* PMDs only (not PUDs), and never in a private mapping (see above). */
	if (order != PMD_ORDER || !(vma->vm_flags & VM_PFNMAP))
		return VM_FAULT_FALLBACK;
	/* The whole 2 MiB inside the VMA, and 512 aligned contiguous pages. */
	if (haddr < vma->vm_start || haddr + PMD_SIZE > vma->vm_end)
		return VM_FAULT_FALLBACK;
	first = vma->vm_pgoff + ((haddr - vma->vm_start) >> PAGE_SHIFT);
	if (!mmapdemo_buf_aligned_run(&dev->buf, first, PMD_ORDER))
		return VM_FAULT_FALLBACK;

	ret = mmapdemo_insert_pfn_pmd(vmf, mmapdemo_buf_pfn(&dev->buf, first),
				      vmf->flags & FAULT_FLAG_WRITE);
	if (ret == VM_FAULT_NOPAGE) {
		mmapdemo_count(dev, faults);
		mmapdemo_count(dev, huge_faults);
		mmapdemo_count_add(dev, fault_pages, 1UL << PMD_ORDER);
	}
	return ret;
}

/* 4 KiB: the parts no PMD can map, and every private mapping. */
static vm_fault_t mmapdemo_huge_pte_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	vm_fault_t ret;

	/* Struct pages, refcounted: what the fault variant does. */
	if (!(vma->vm_flags & VM_PFNMAP) || vmf->pgoff >= dev->buf.npages)
		return mmapdemo_fault(vmf);
	/* A special PTE: no refcount, like the PMD (and like remap mode). */
	ret = vmf_insert_pfn(vma, vmf->address & PAGE_MASK,
			     mmapdemo_buf_pfn(&dev->buf, vmf->pgoff));
	if (ret == VM_FAULT_NOPAGE) {
		mmapdemo_count(dev, faults);
		mmapdemo_count(dev, fault_pages);
	}
	return ret;
}

/*
 * Shared mappings become VM_PFNMAP (what vmf_insert_pfn_pmd() needs) and
 * VM_HUGEPAGE (ask for .huge_fault even with THP "madvise"). Opened
 * O_RDONLY, a MAP_SHARED mapping has no VM_SHARED or VM_MAYWRITE: not
 * copy-on-write either, so it is shared here too.
 */
#ifdef MMAPDEMO_MMAP_PREPARE
static int mmapdemo_huge_prepare(struct mmapdemo_dev *dev, struct vm_area_desc *desc)
{
	/* Open-coded vma_desc_is_cow_mapping(), like mmapdemo_is_cow(). */
	if (vma_desc_test(desc, VMA_SHARED_BIT) || !vma_desc_test(desc, VMA_MAYWRITE_BIT))
		vma_desc_set_flags(desc, VMA_PFNMAP_BIT, VMA_HUGEPAGE_BIT);
	return 0;
}
#else
static int mmapdemo_huge_mmap(struct mmapdemo_dev *dev, struct vm_area_struct *vma)
{
	if (!mmapdemo_is_cow(vma))
		vm_flags_set(vma, VM_PFNMAP | VM_HUGEPAGE);
	return 0;
}
#endif

static const struct vm_operations_struct mmapdemo_huge_vm_ops = {
#ifdef MMAPDEMO_MMAP_PREPARE
	.mapped = mmapdemo_vma_mapped,
#endif
	.open = mmapdemo_vma_open,
	.close = mmapdemo_vma_close,
	.fault = mmapdemo_huge_pte_fault,
	.huge_fault = mmapdemo_huge_fault,
	/* Shared mappings are VM_PFNMAP: /proc/PID/mem and ptrace come here. */
	.access = mmapdemo_access,
};

const struct mmapdemo_variant mmapdemo_huge_variant = {
	.name = MMAPDEMO_MODE_NAME_HUGE,
	.api = "vmf_insert_pfn_pmd() in .huge_fault",
#ifdef MMAPDEMO_MMAP_PREPARE
	.mmap_prepare = mmapdemo_huge_prepare,
#else
	.mmap = mmapdemo_huge_mmap,
#endif
	.vm_ops = &mmapdemo_huge_vm_ops,
	.get_unmapped_area = thp_get_unmapped_area,
	.expandable = false,
};
#else
const struct mmapdemo_variant mmapdemo_huge_variant = {
	.name = MMAPDEMO_MODE_NAME_HUGE,
	.api = "vmf_insert_pfn_pmd() in .huge_fault",
	.unsupported = MMAPDEMO_HUGE_UNSUPPORTED,
};
#endif /* MMAPDEMO_HUGE */
