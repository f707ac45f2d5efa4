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

#endif /* MMAPDEMO_COMPAT_H */
