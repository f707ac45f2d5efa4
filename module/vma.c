// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: which device VMAs exist, kept by vm_ops mapped, open and close.
 *
 * The kernel tells a driver about VMAs at three points:
 *   a new mapping   before 7.2: f_op->mmap(), with the VMA not yet in the
 *                   mm; 7.2 and newer: vm_ops->mapped(), once the VMA is
 *                   in the mm (f_op->mmap_prepare() before it only
 *                   describes the mapping to be). open is NOT called
 *   vm_ops->open()  a copy: fork() duplicating the VMA (dup_mmap()), a
 *                   split by mprotect()/munmap()/mremap() of part of it
 *                   (__split_vma()), or a move by mremap() (copy_vma())
 *   vm_ops->close() a VMA goes away: munmap(), exit(), the unmapped
 *                   half of a split
 *
 * The gauges (dev->gauges: vmas, mapped_pages) are kept up to date here,
 * so that reading them is two atomic loads, whatever the number of VMAs.
 * The catch is the split: open() is called for the new piece while the
 * old VMA still has its old bounds, and the old VMA then shrinks without
 * any call (__split_vma() in mm/mmap.c on 6.1, mm/vma.c on 6.12 and 7.2:
 * open() of the new VMA, then vma_adjust() or vma_complete()). A running
 * sum of sizes, += in open(), -= vma_pages() in close(), would count the
 * piece twice. So every VMA has a record (struct mmapdemo_vma, on
 * vm_private_data) saying how many pages it contributes to mapped_pages:
 *   new mapping  its size, added
 *   open(), fork or mremap move: its size, added (a copy, not a piece:
 *                another mm, or a range outside the old VMA)
 *   open(), split: the piece's pages are moved from the old VMA's record
 *                to the new one; the sum does not change, and neither does
 *                the real total once the old VMA has shrunk
 *   close()      its record's pages, subtracted
 * Every order the kernel calls these in keeps the sum exact:
 *   - 6.1: when vma_adjust() fails after open(), __split_vma() empties the
 *     new VMA (vm_start = vm_end) and closes it, while the old one keeps
 *     its bounds: close() gives the pages back to the old VMA's record;
 *   - copy_vma() failing after open() closes the whole copy, fork() failing
 *     after open() closes the child's copies in exit_mmap(): those were
 *     added, and are subtracted;
 *   - device VMAs never merge: they carry VM_DONTEXPAND, one of
 *     VM_SPECIAL, and merging away a VMA with vm_ops->close is refused
 *     (can_merge_remove_vma() on 6.12 and 7.2, is_mergeable_vma() on 6.1).
 * The one exception is MMAPDEMO_MODE_EXPANDABLE, whose VMAs lack
 * VM_DONTEXPAND for that very reason: the kernel may grow them (mremap()
 * in place, or a new adjacent mapping merged into one) without telling the
 * driver, and the gauges then keep the size it last saw. The sum stays
 * consistent (a split never moves more than the record has), so the
 * gauges still come back to 0.
 *
 * Locking: mmap, mapped and open run with the mmap lock of the VMA's mm
 * held for writing. close may run with it held for reading only (munmap
 * downgrades it before removing the VMAs: mm/mmap.c on 6.1, mm/vma.c on
 * 6.12 and 7.2) or while the mm is torn down; it touches only its own
 * record, of a VMA already out of the tree, and the gauges, which are
 * atomics. The one close that writes another VMA's record,
 * mmapdemo_vma_unsplit() on 6.1's failed split, runs under the write lock
 * (asserted there).
 *
 * A VMA may also have no record: on 7.2, when an mmap action or ->mapped()
 * fails, the kernel unmaps the new VMA (mmap_action_finish() in
 * mm/util.c) and ignores a failure of that unmap, so the VMA can outlive
 * the failed mmap() with vm_private_data NULL. Nothing here dereferences a
 * record without checking for that: the device comes from the VMA's file
 * (which the VMA holds a reference on), such a VMA faults like any other,
 * its copies have no record either, and none of them is counted.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/lockdep.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "compat.h"
#include "mmapdemo.h"

/**
 * struct mmapdemo_vma - one device VMA's record, on vma->vm_private_data
 * @vma:	the VMA; open() of a copy tells a split piece from it
 * @pages:	what this VMA contributes to dev->gauges.mapped_pages
 */
struct mmapdemo_vma {
	struct vm_area_struct *vma;
	unsigned long pages;
};

/* The device a VMA maps: from its file, never from the record. */
struct mmapdemo_dev *mmapdemo_vma_dev(const struct vm_area_struct *vma)
{
	return mmapdemo_file_dev(vma->vm_file);
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
 * Nothing can fail after this: mmap() then succeeds (6.1 and 6.12:
 * nothing in mmap_region() fails after ->mmap() returned 0 for a
 * VM_SPECIAL VMA; 7.2: nothing after ->mapped()), so @mmaps counts
 * mappings that exist.
 *
 * Return: 0 or -ENOMEM.
 */
int mmapdemo_vma_track(struct mmapdemo_dev *dev, struct vm_area_struct *vma,
		       void **private_data)
{
	/* Charged to the mapping process's memory cgroup, like the VMA. */
	struct mmapdemo_vma *mv = kmalloc(sizeof(*mv), GFP_KERNEL_ACCOUNT);

	if (!mv)
		return -ENOMEM;
	mv->vma = vma;
	mv->pages = vma_pages(vma);
	atomic64_inc(&dev->gauges.vmas);
	atomic64_add(mv->pages, &dev->gauges.pages);
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
 * there the VMA is not in the mm yet, and the mapping is refused. The file
 * must be an open /dev/mmapdemo (its private_data is ours to read) and the
 * VMA must have our vm_ops: a record is only ever hung on our own VMAs.
 *
 * Return: the VMA, or NULL when it is not (yet) in current->mm.
 */
struct vm_area_struct *mmapdemo_vma_find(unsigned long start, unsigned long end,
					 const struct file *file)
{
	struct vm_area_struct *vma;

	mmap_assert_write_locked(current->mm);
	vma = find_exact_vma(current->mm, start, end);
	if (!vma || vma->vm_file != file || !mmapdemo_file_dev(file) ||
	    !vma->vm_ops || vma->vm_ops->close != mmapdemo_vma_close) {
		pr_warn_ratelimited("vm_ops->mapped: no VMA %#lx-%#lx of /dev/mmapdemo with its vm_ops in the mm: refused\n",
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
 * through mmapdemo_vma_close() with vm_private_data still NULL (and if
 * that unmap fails too, the VMA stays without a record: see above).
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

/* Whether @new is a piece of @old being split: same mm, inside its bounds. */
static bool mmapdemo_vma_is_piece(const struct vm_area_struct *new,
				  const struct vm_area_struct *old)
{
	return new->vm_mm == old->vm_mm && new->vm_start >= old->vm_start &&
	       new->vm_end <= old->vm_end;
}

/* vm_ops->open: @vma is a copy; its vm_private_data is still the original's. */
void mmapdemo_vma_open(struct vm_area_struct *vma)
{
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	struct mmapdemo_vma *old = vma->vm_private_data, *mv;

	/* A copy of a VMA without a record (see above) has none either. */
	if (!old)
		return;
	/* open() cannot fail, and the record is tiny. */
	mv = kmalloc(sizeof(*mv), GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	mv->vma = vma;
	if (mmapdemo_vma_is_piece(vma, old->vma)) {
		/*
		 * LAB 5: a piece of a split: its pages were the old VMA's, take
		 * them from its record (never more than it has: an expandable
		 * VMA may have grown without telling us)
		 */
		mv->pages = min(vma_pages(vma), old->pages);
		old->pages -= mv->pages;
		/* LAB 5 END, skeleton: mv->pages = 0; */
	} else {
		/* LAB 5: a copy (fork, mremap move): its own pages, added to the gauge */
		mv->pages = vma_pages(vma);
		atomic64_add(mv->pages, &dev->gauges.pages);
		/* LAB 5 END, skeleton: mv->pages = 0; */
	}
	atomic64_inc(&dev->gauges.vmas);
	/* LAB 5: count the copy */
	mmapdemo_count(dev, vma_opens);
	/* LAB 5 END */
	vma->vm_private_data = mv;
}

/*
 * 6.1's __split_vma() closes the new piece, emptied, when vma_adjust()
 * fails after open(): its pages go back to the VMA it was split from,
 * which kept its bounds and contains the address just below the empty
 * piece's (the split address, or the old end). Return: whether they did.
 */
static bool mmapdemo_vma_unsplit(struct vm_area_struct *vma, struct mmapdemo_vma *mv)
{
	struct vm_area_struct *old;
	struct mmapdemo_vma *omv;

	/* Not mmap_assert_write_locked(): its dump_mm() is not exported on 6.1. */
	lockdep_assert_held_write(&vma->vm_mm->mmap_lock);
	old = vma_lookup(vma->vm_mm, vma->vm_start - 1);
	if (!old || old->vm_file != vma->vm_file || old->vm_ops != vma->vm_ops)
		return false;
	omv = old->vm_private_data;
	if (!omv)
		return false;
	omv->pages += mv->pages;
	return true;
}

void mmapdemo_vma_close(struct vm_area_struct *vma)
{
	struct mmapdemo_dev *dev = mmapdemo_vma_dev(vma);
	struct mmapdemo_vma *mv = vma->vm_private_data;

	/*
	 * 7.2 and newer: a new VMA whose mmap action or ->mapped() failed is
	 * unmapped again (mmap_action_finish() in mm/util.c) before it was
	 * ever tracked. It was not counted as mapped, so not as closed either.
	 */
	if (!mv)
		return;
	if (vma->vm_start != vma->vm_end || !mmapdemo_vma_unsplit(vma, mv)) {
		/* LAB 5: the pages of the record come off the gauge */
		atomic64_sub(mv->pages, &dev->gauges.pages);
		/* LAB 5 END */
	}
	atomic64_dec(&dev->gauges.vmas);
	/* LAB 5: count the close */
	mmapdemo_count(dev, vma_closes);
	/* LAB 5 END */
	vma->vm_private_data = NULL;
	kfree(mv);
}
