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

#endif /* MMAPDEMO_COMPAT_H */
