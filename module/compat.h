/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo: every kernel-version guard of the module, in one place.
 *
 * Each guard names the kernel version that changed the API and what the
 * change was. Add a guard only for a kernel line the matrix builds.
 */
#ifndef MMAPDEMO_COMPAT_H
#define MMAPDEMO_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
/*
 * 6.3 made vma->vm_flags read-only and added vm_flags_set() to change it
 * (under the mmap write lock, as ->mmap holds it).
 */
static inline void vm_flags_set(struct vm_area_struct *vma, unsigned long flags)
{
	vma->vm_flags |= flags;
}
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 13, 0)
#include <linux/minmax.h>
#include <linux/uaccess.h>
/*
 * 6.13 added copy_struct_to_user(), the output half of 5.4's
 * copy_struct_from_user(): copy min(usize, ksize) bytes and zero the rest
 * of a larger user structure. Before it, the same by hand (without the
 * ignored_trailing report, which the module does not ask for).
 */
static inline int mmapdemo_copy_struct_to_user(void __user *dst, size_t usize,
					       const void *src, size_t ksize)
{
	if (usize > ksize && clear_user(dst + ksize, usize - ksize))
		return -EFAULT;
	return copy_to_user(dst, src, min(usize, ksize)) ? -EFAULT : 0;
}
#else
#define mmapdemo_copy_struct_to_user(dst, usize, src, ksize) \
	copy_struct_to_user(dst, usize, src, ksize, NULL)
#endif

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
/*
 * The PTE of a VM_PFNMAP address, for vm_ops->access (vm_ops_access.c).
 * 6.12 replaced follow_pte() by follow_pfnmap_start()/follow_pfnmap_end()
 * and struct follow_pfnmap_args; before 6.12 the same with follow_pte(),
 * which leaves the PTE mapped and its lock held until pte_unmap_unlock().
 * Both need the mmap lock (read) held.
 */
struct mmapdemo_pfnmap {
	struct vm_area_struct *vma;	/* in */
	unsigned long address;		/* in */
	unsigned long pfn;		/* out */
	bool writable;			/* out */
	pte_t *ptep;
	spinlock_t *ptl;		/* held from start to end */
};

static inline int mmapdemo_pfnmap_start(struct mmapdemo_pfnmap *args)
{
	pte_t pte;

	if (follow_pte(args->vma->vm_mm, args->address, &args->ptep, &args->ptl))
		return -EINVAL;
	/* follow_pte() returned with the lock held: tell sparse. */
	__acquire(args->ptl);
	pte = *args->ptep;
	args->pfn = pte_pfn(pte);
	args->writable = pte_write(pte);
	return 0;
}

static inline void mmapdemo_pfnmap_end(struct mmapdemo_pfnmap *args)
{
	pte_unmap_unlock(args->ptep, args->ptl);
}
#else
#define mmapdemo_pfnmap follow_pfnmap_args
#define mmapdemo_pfnmap_start follow_pfnmap_start
#define mmapdemo_pfnmap_end follow_pfnmap_end
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(7, 2, 0)
/*
 * 7.2 documents f_op->mmap as deprecated in favour of f_op->mmap_prepare
 * (added in 6.16, changed until 7.2: vma_flags_t and VMA_*_BIT, mmap
 * actions, vm_operations_struct.mapped). From 7.2 on the module sets
 * .mmap_prepare, and its VMAs have a .mapped hook; before 7.2, .mmap. The
 * two hooks are exclusive: a file_operations with both fails every mmap()
 * (can_mmap_file() in <linux/fs.h>).
 */
#define MMAPDEMO_MMAP_PREPARE
#endif

/*
 * Mode huge needs three things of the kernel; MMAPDEMO_HUGE is defined when
 * it has all of them, else MMAPDEMO_HUGE_UNSUPPORTED says which it lacks
 * (mode= and SET_MODE refuse the mode with EOPNOTSUPP and that sentence):
 *   - 6.12 or newer: 6.12 calls vm_ops->huge_fault for a driver's VM_PFNMAP
 *     VMA; 6.1 never calls it for a VMA that is neither anonymous nor DAX
 *     (hugepage_vma_check()). The hook's signature changed in 6.6, (vmf,
 *     enum page_entry_size) -> (vmf, unsigned int order): every kernel that
 *     gets here has the new one;
 *   - CONFIG_TRANSPARENT_HUGEPAGE: vmf_insert_pfn_pmd() (mm/huge_memory.c)
 *     and thp_get_unmapped_area() are built only with it; a module calling
 *     them would not load;
 *   - CONFIG_ARCH_SUPPORTS_PMD_PFNMAP: only then is a PMD mapping a PFN in a
 *     VM_PFNMAP VMA "special" (pmd_special()), which the core needs to
 *     leave it alone (no struct page refcounting, GUP refuses it). x86-64
 *     selects it with THP; other architectures may not at all.
 * Tested: Debian's 6.12 and 7.2 have all three; KERNEL=nothp is a 7.2
 * built without THP.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 12, 0)
#define MMAPDEMO_HUGE_UNSUPPORTED \
	"vm_ops->huge_fault is never called for a driver's VMA before 6.12"
#elif !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE)
#define MMAPDEMO_HUGE_UNSUPPORTED \
	"this kernel is built without CONFIG_TRANSPARENT_HUGEPAGE, and vmf_insert_pfn_pmd() exists only with it"
#elif !IS_ENABLED(CONFIG_ARCH_SUPPORTS_PMD_PFNMAP)
#define MMAPDEMO_HUGE_UNSUPPORTED \
	"this kernel has no CONFIG_ARCH_SUPPORTS_PMD_PFNMAP: a PMD mapping a PFN would not be special"
#else
#define MMAPDEMO_HUGE

#include <linux/huge_mm.h>
#include <linux/sched/mm.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 17, 0)
#include <linux/pfn_t.h>
/* 6.17 removed pfn_t (and <linux/pfn_t.h>): vmf_insert_pfn_pmd() takes a PFN. */
static inline vm_fault_t mmapdemo_insert_pfn_pmd(struct vm_fault *vmf, unsigned long pfn,
						 bool write)
{
	return vmf_insert_pfn_pmd(vmf, pfn_to_pfn_t(pfn), write);
}
#else
#define mmapdemo_insert_pfn_pmd vmf_insert_pfn_pmd
#endif

/*
 * Where the mm places a mapping when the file has no get_unmapped_area
 * of its own. 6.12 passes the mm, 7.2 does not (current->mm implied): the
 * argument went between the two lines, after the mm-level hooks changed
 * again (the drift notes: 6.19). Only the lines the matrix builds are
 * known to work.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 19, 0)
#define mmapdemo_mm_get_unmapped_area(file, addr, len, pgoff, flags) \
	mm_get_unmapped_area(current->mm, file, addr, len, pgoff, flags)
#else
#define mmapdemo_mm_get_unmapped_area mm_get_unmapped_area
#endif
#endif /* MMAPDEMO_HUGE */

#endif /* MMAPDEMO_COMPAT_H */
