// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: which device VMAs exist, kept by vm_ops open and close.
 *
 * The kernel tells a driver about VMAs at three points:
 *   ->mmap()        a new mapping (open is NOT called for it)
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
 * was created with, see mmapdemo_mmap()), so every VMA the kernel frees
 * after ->mmap() succeeded has gone through close() first.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/slab.h>

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
	vma->vm_private_data = mv;
	spin_lock(&dev->vmas_lock);
	list_add(&mv->node, &dev->vmas);
	spin_unlock(&dev->vmas_lock);
}

/**
 * mmapdemo_vma_track() - start tracking a VMA that ->mmap() set up
 * @dev:	the device
 * @vma:	the VMA, fully set up: the last step of a successful ->mmap()
 *
 * Return: 0 or -ENOMEM.
 */
int mmapdemo_vma_track(struct mmapdemo_dev *dev, struct vm_area_struct *vma)
{
	struct mmapdemo_vma *mv = kmalloc(sizeof(*mv), GFP_KERNEL);

	if (!mv)
		return -ENOMEM;
	mmapdemo_vma_link(mv, dev, vma);
	mmapdemo_count(dev, mmaps);
	return 0;
}

/* vm_ops->open: @vma is a copy; its vm_private_data is still the original's. */
void mmapdemo_vma_open(struct vm_area_struct *vma)
{
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	/* open() cannot fail, and the record is tiny. */
	struct mmapdemo_vma *mv = kmalloc(sizeof(*mv), GFP_KERNEL | __GFP_NOFAIL);

	mmapdemo_vma_link(mv, dev, vma);
	mmapdemo_count(dev, vma_opens);
}

void mmapdemo_vma_close(struct vm_area_struct *vma)
{
	struct mmapdemo_vma *mv = vma->vm_private_data;
	struct mmapdemo_dev *dev = mv->dev;

	spin_lock(&dev->vmas_lock);
	list_del(&mv->node);
	spin_unlock(&dev->vmas_lock);
	kfree(mv);
	mmapdemo_count(dev, vma_closes);
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
}
