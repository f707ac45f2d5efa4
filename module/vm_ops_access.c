// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: vm_operations_struct.access, so that a debugger can see
 * VM_PFNMAP mappings (remap mode; huge mode's shared mappings).
 *
 * /proc/PID/mem, ptrace(PTRACE_PEEKDATA/POKEDATA) and so gdb read another
 * process's memory with access_remote_vm(). That pins each page with GUP,
 * and GUP refuses every VM_IO | VM_PFNMAP VMA (check_vma_flags(), 6.1 and
 * 7.2 alike), private copies in it included. Only then, page by page,
 * __access_remote_vm() (mm/memory.c) calls vm_ops->access, under the
 * target mm's mmap lock held for reading (only with
 * CONFIG_HAVE_IOREMAP_PROT, which x86-64 has); without the hook the
 * access fails with EIO. The struct-page modes (fault, insert, batch, huge's
 * private mappings) never get here: GUP finds their pages.
 *
 * Not generic_access_phys(), the helper the kernel offers for this (mem.c,
 * PCI resources, UIO): it ioremap_prot()s the PFN of the PTE, and x86
 * refuses to ioremap RAM (__ioremap_caller() in arch/x86/mm/ioremap.c,
 * 6.1 and 7.2: WARN_ONCE "ioremap on RAM at <physical address>", NULL),
 * so every access would fail with ENOMEM after a kernel warning that
 * prints a physical address. It also copies the whole length from one
 * PTE's physical address, past the end of the page. The buffer is
 * ordinary RAM with struct pages, so this hook copies through the kernel
 * mapping instead (kmap_local_page()), at most to the end of one page;
 * the core calls it again for the next.
 *
 * Shared mappings: the page at an address is always buffer page vm_pgoff
 * + its index, whether or not a PTE or PMD maps it yet (huge mode maps on
 * first touch), so the hook goes to the buffer without a page-table walk.
 * A write needs VM_WRITE, as a store through the mapping would.
 *
 * Private mappings (remap mode only: COW, VM_PFNMAP, vm_pgoff = the first
 * PFN, see remap_pfn_range.c): the PTE says what the process sees, the
 * device's page (pfn == vm_pgoff + index, vm_normal_page()'s rule) or its
 * own anonymous copy. The PTE is looked up, and the page copied, under
 * the PTE lock, so a concurrent copy-on-write cannot replace or free the
 * page meanwhile. Writes:
 *   - into the device's page: refused (EIO for the caller). The core would
 *     break COW here, but its copy of a special PTE (wp_page_copy() with
 *     no struct page, __wp_page_copy_user()) copies from that address in
 *     current->mm, the debugger's own address space, so the hook cannot
 *     ask for one (handle_mm_fault()); and the device must never see a
 *     private write;
 *   - into a copy: only through a writable PTE. A writable anonymous PTE
 *     is this process's exclusive copy; a read-only one may be shared with
 *     a parent or child after fork(), which must not see the write.
 * ->access is not told whether the caller forces (FOLL_FORCE), so writes
 * follow the mapping's own permissions; reads are always allowed, as the
 * core allows them for a forced read of any readable-at-mmap VMA.
 *
 * Page lifetime: the VMA holds the file, the file the module, and the
 * module the buffer, and the mmap lock keeps the VMA; a copy is kept by
 * the PTE lock. No reference is taken.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/highmem.h>
#include <linux/minmax.h>
#include <linux/mm.h>

#include "compat.h"
#include "mmapdemo.h"

/* Copy @len bytes at @off of @page to or from @buf, as __access_remote_vm() does. */
static void mmapdemo_access_copy(struct vm_area_struct *vma, struct page *page,
				 unsigned long addr, void *buf, int len, int write)
{
	void *kaddr = kmap_local_page(page);
	void *at = kaddr + offset_in_page(addr);

	if (write)
		copy_to_user_page(vma, page, addr, at, buf, len);
	else
		copy_from_user_page(vma, page, addr, buf, at, len);
	kunmap_local(kaddr);
}

static int mmapdemo_access_private(struct vm_area_struct *vma, unsigned long addr,
				   void *buf, int len, int write)
{
	struct mmapdemo_pfnmap pte = { .vma = vma, .address = addr };
	unsigned long index = (addr - vma->vm_start) >> PAGE_SHIFT;
	bool device;
	int ret = len;

	/* Not present: nothing mapped there (or a copy swapped out). */
	if (mmapdemo_pfnmap_start(&pte))
		return -EFAULT;
	device = pte.pfn == vma->vm_pgoff + index;
	if (write && (device || !pte.writable)) {
		ret = -EACCES;
	} else if (!pfn_valid(pte.pfn)) {
		ret = -EFAULT;
	} else {
		struct page *page = pfn_to_page(pte.pfn);

		mmapdemo_access_copy(vma, page, addr, buf, len, write);
		/* As zap does under this lock: the copy's data is not in the PTE's dirty bit. */
		if (write)
			folio_mark_dirty(page_folio(page));
	}
	mmapdemo_pfnmap_end(&pte);
	return ret;
}

/**
 * mmapdemo_access() - vm_operations_struct.access of the VM_PFNMAP modes
 * @vma:	a device VMA, its mm's mmap lock held for reading
 * @addr:	user address in @vma
 * @buf:	kernel buffer to fill (read) or take from (write)
 * @len:	bytes asked for, possibly past the page and the VMA
 * @write:	nonzero for a write (FOLL_WRITE)
 *
 * Return: bytes copied (at most to the end of @addr's page), or -EINVAL,
 * -EACCES, -EFAULT: the caller stops there.
 */
int mmapdemo_access(struct vm_area_struct *vma, unsigned long addr, void *buf, int len,
		    int write)
{
	/* The file's device, as ->mapped finds it: the VMA record is not needed. */
	struct mmapdemo_dev *dev = mmapdemo_file_dev(vma->vm_file);
	struct page *page;

	if (len <= 0 || addr < vma->vm_start || addr >= vma->vm_end)
		return -EINVAL;
	/* Only the core's fallback for what GUP cannot pin calls this. */
	if (!(vma->vm_flags & VM_PFNMAP))
		return -EINVAL;
	len = min_t(unsigned long, len, PAGE_SIZE - offset_in_page(addr));

	if (mmapdemo_is_cow(vma))
		return mmapdemo_access_private(vma, addr, buf, len, write);

	page = mmapdemo_buf_page(&dev->buf,
				 vma->vm_pgoff + ((addr - vma->vm_start) >> PAGE_SHIFT));
	if (!page)
		return -EINVAL;
	if (write && !(vma->vm_flags & VM_WRITE))
		return -EACCES;
	mmapdemo_access_copy(vma, page, addr, buf, len, write);
	return len;
}
