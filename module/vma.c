// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: which device VMAs exist, kept by vm_ops mapped, open and close.
 *
 * The kernel tells a driver about VMAs at three points:
 *   a new mapping   before 7.2: f_op->mmap(), with the VMA not yet in the
 *                   mm; 7.2 and newer: vm_ops->mapped(), once the VMA is
 *                   in the mm (f_op->mmap_prepare() before it only
 *                   describes the mapping to be). open is NOT called
 *   vm_ops->open()  a copy: fork() duplicating the VMA, a split by
 *                   mprotect()/munmap()/mremap() of part of it, or a
 *                   move by mremap()
 *   vm_ops->close() a VMA goes away: munmap(), exit(), the unmapped
 *                   half of a split
 * A split calls open() for the new half while the old VMA shrinks
 * silently, so a running sum of sizes would drift. Instead every VMA gets
 * its own tracking record, linked in dev->vmas, and the gauges are summed
 * from the live VMAs when asked for. Device VMAs never merge (they carry
 * VM_DONTEXPAND, one of VM_SPECIAL; an expandable one keeps the flags it
 * was created with, see core.c), so every VMA the kernel frees
 * after the new mapping was tracked has gone through close() first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "compat.h"
#include "mmapdemo.h"

/**
 * struct mmapdemo_vma - one device VMA, hung on vma->vm_private_data
 * @dev:	the device it maps
 * @vma:	the VMA
 * @node:	link in dev->vmas
 */
struct mmapdemo_vma {
	struct mmapdemo_dev *dev;
	struct vm_area_struct *vma;
	struct list_head node;
};

static void mmapdemo_vma_link(struct mmapdemo_vma *mv, struct mmapdemo_dev *dev,
			      struct vm_area_struct *vma)
{
	mv->dev = dev;
	mv->vma = vma;
	spin_lock(&dev->vmas_lock);
	list_add(&mv->node, &dev->vmas);
	spin_unlock(&dev->vmas_lock);
}

/**
 * mmapdemo_vma_track() - start tracking a new mapping's VMA
 * @dev:	the device
 * @vma:	the VMA, fully set up: the last step of a successful ->mmap()
 *		or vm_ops->mapped()
 * @private_data: where the record goes: &vma->vm_private_data in ->mmap(),
 *		the vm_private_data argument of vm_ops->mapped() (the kernel
 *		copies that into the VMA afterwards, overwriting the field)
 *
 * Return: 0 or -ENOMEM.
 */
int mmapdemo_vma_track(struct mmapdemo_dev *dev, struct vm_area_struct *vma,
		       void **private_data)
{
	struct mmapdemo_vma *mv = kmalloc(sizeof(*mv), GFP_KERNEL);

	if (!mv)
		return -ENOMEM;
	mmapdemo_vma_link(mv, dev, vma);
	*private_data = mv;
	mmapdemo_count(dev, mmaps);
	return 0;
}

#ifdef MMAPDEMO_MMAP_PREPARE
/**
 * mmapdemo_vma_find() - the VMA that vm_ops->mapped() is told about
 * @start:	its start, as passed to ->mapped()
 * @end:	its end
 * @file:	its file
 *
 * ->mapped() gets the new VMA's range, not the VMA, but the record needs
 * the VMA: splits change its bounds without telling the driver. In 7.2 the
 * VMA can be looked up: __mmap_region() (mm/vma.c) inserts it into the mm
 * in __mmap_new_vma(), then mmap_action_complete() (mm/util.c) runs the
 * mmap action and calls ->mapped() through call_vma_mapped(), all under
 * the mmap lock held for writing. The exception is a stacking driver that
 * runs our ->mmap_prepare() from its own ->mmap() (compat_vma_mmap()):
 * there the VMA is not in the mm yet, and the mapping is refused.
 *
 * Return: the VMA, or NULL when it is not (yet) in current->mm.
 */
struct vm_area_struct *mmapdemo_vma_find(unsigned long start, unsigned long end,
					 const struct file *file)
{
	struct vm_area_struct *vma;

	mmap_assert_write_locked(current->mm);
	vma = find_exact_vma(current->mm, start, end);
	if (!vma || vma->vm_file != file) {
		pr_warn_ratelimited("vm_ops->mapped: no VMA %#lx-%#lx of this file in the mm: refused\n",
				    start, end);
		return NULL;
	}
	return vma;
}

/**
 * mmapdemo_vma_mapped() - vm_operations_struct.mapped: track a new VMA
 * @start:	the VMA's start
 * @end:	its end
 * @pgoff:	its vm_pgoff (unused)
 * @file:	its file, an open /dev/mmapdemo
 * @vm_private_data: in: what ->mmap_prepare() left (NULL); out: the record
 *
 * Called once per new mapping that was not merged, after any mmap action
 * succeeded: the place to count it. An error unmaps the new VMA again,
 * through mmapdemo_vma_close() with vm_private_data still NULL.
 *
 * Return: 0, -ENOMEM, or -EINVAL when the VMA cannot be found.
 */
int mmapdemo_vma_mapped(unsigned long start, unsigned long end, pgoff_t pgoff,
			const struct file *file, void **vm_private_data)
{
	struct vm_area_struct *vma = mmapdemo_vma_find(start, end, file);

	if (!vma)
		return -EINVAL;
	return mmapdemo_vma_track(mmapdemo_file_dev(file), vma, vm_private_data);
}
#endif /* MMAPDEMO_MMAP_PREPARE */

/* vm_ops->open: @vma is a copy; its vm_private_data is still the original's. */
void mmapdemo_vma_open(struct vm_area_struct *vma)
{
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	/* open() cannot fail, and the record is tiny. */
	struct mmapdemo_vma *mv = kmalloc(sizeof(*mv), GFP_KERNEL | __GFP_NOFAIL);

	mmapdemo_vma_link(mv, dev, vma);
	vma->vm_private_data = mv;
	/* LAB 5: count the copy */
	mmapdemo_count(dev, vma_opens);
	/* LAB 5 END */
}

void mmapdemo_vma_close(struct vm_area_struct *vma)
{
	struct mmapdemo_vma *mv = vma->vm_private_data;
	struct mmapdemo_dev *dev;

	/*
	 * 7.2 and newer: a new VMA whose mmap action or ->mapped() failed is
	 * unmapped again (mmap_action_finish() in mm/util.c) before it was
	 * ever tracked. It was not counted as mapped, so not as closed either.
	 */
	if (!mv)
		return;
	dev = mv->dev;
	spin_lock(&dev->vmas_lock);
	list_del(&mv->node);
	spin_unlock(&dev->vmas_lock);
	kfree(mv);
	/* LAB 5: count the close */
	mmapdemo_count(dev, vma_closes);
	/* LAB 5 END */
}

struct mmapdemo_dev *mmapdemo_vma_dev(const struct vm_area_struct *vma)
{
	const struct mmapdemo_vma *mv = vma->vm_private_data;

	return mv->dev;
}

/**
 * mmapdemo_vma_gauges() - what is mapped now
 * @dev:	the device
 * @vmas:	out: device VMAs in all processes
 * @pages:	out: the sum of their sizes in pages
 *
 * The VMAs may belong to other processes: their bounds are read without
 * those processes' mmap locks, so a VMA being split right now may be seen
 * half-way. The numbers are exact whenever no mapping is changing.
 */
void mmapdemo_vma_gauges(struct mmapdemo_dev *dev, u64 *vmas, u64 *pages)
{
	/* LAB 5: walk dev->vmas under vmas_lock; count the VMAs, sum their pages */
	struct mmapdemo_vma *mv;

	*vmas = 0;
	*pages = 0;
	spin_lock(&dev->vmas_lock);
	list_for_each_entry(mv, &dev->vmas, node) {
		unsigned long start = READ_ONCE(mv->vma->vm_start);
		unsigned long end = READ_ONCE(mv->vma->vm_end);

		(*vmas)++;
		*pages += (end - start) >> PAGE_SHIFT;
	}
	spin_unlock(&dev->vmas_lock);
	/* LAB 5 END, skeleton: *vmas = 0; *pages = 0; */
}
