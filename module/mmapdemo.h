/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo: what the parts of the module share.
 *
 *   core.c             misc device, file operations, ioctls, module init/exit
 *   buffer.c           the pages: allocation, zeroing, PFN lookup, read/write
 *   stats.c            counters, their ioctl snapshot and sysfs attributes
 *   vma.c              vm_ops mapped/open/close: which device VMAs exist now
 *   vm_ops_fault.c     variant "fault": vm_operations_struct.fault
 *   vm_ops_access.c    vm_operations_struct.access: debuggers and VM_PFNMAP
 *   remap_pfn_range.c  variant "remap": remap_pfn_range() at mmap time
 *   vm_insert_pages.c  variant "insert": vm_insert_pages() at mmap time
 *   vm_insert_pages_fault.c  variant "batch": vm_insert_pages() in .fault
 *   vmf_insert_pfn_pmd.c  variant "huge": 2 MiB PMDs from .huge_fault
 *
 * A mapping variant is one file that fills a struct mmapdemo_variant and
 * one entry in mmapdemo_variants[] (core.c); nothing else changes.
 *
 * Comments "LAB N: ..." and "LAB N END" delimit the code of lab exercise N:
 * scripts/labs.sh makes the skeletons of labs/ from them.
 */
#ifndef MMAPDEMO_H
#define MMAPDEMO_H

#include <linux/atomic.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mm_types.h>
#include <linux/types.h>

#include <linux/mmapdemo.h>

struct file;
struct iov_iter;
struct mmapdemo_dev;
struct vm_area_desc;

/**
 * struct mmapdemo_buf - the device's memory
 * @pages:	one order-0 page per buffer page, each holding one reference
 * @npages:	number of pages
 * @contiguous:	every page directly follows the previous one physically
 */
struct mmapdemo_buf {
	struct page **pages;
	unsigned long npages;
	bool contiguous;
};

int mmapdemo_buf_alloc(struct mmapdemo_buf *buf, unsigned long npages);
void mmapdemo_buf_free(struct mmapdemo_buf *buf);
struct page *mmapdemo_buf_page(const struct mmapdemo_buf *buf, unsigned long index);
unsigned long mmapdemo_buf_pfn(const struct mmapdemo_buf *buf, unsigned long index);
unsigned long mmapdemo_buf_run(const struct mmapdemo_buf *buf, unsigned long first,
			       unsigned long count);
bool mmapdemo_buf_aligned_run(const struct mmapdemo_buf *buf, unsigned long first,
			      unsigned int order);
ssize_t mmapdemo_buf_read(const struct mmapdemo_buf *buf, struct iov_iter *to, loff_t pos);
ssize_t mmapdemo_buf_write(struct mmapdemo_buf *buf, struct iov_iter *from, loff_t pos);

static inline loff_t mmapdemo_buf_size(const struct mmapdemo_buf *buf)
{
	return (loff_t)buf->npages << PAGE_SHIFT;
}

/* The counters of MMAPDEMO_STATS() (uapi), numbered in its order. */
enum mmapdemo_stat {
#define MMAPDEMO_STAT_ENUM(n, kind) MMAPDEMO_STAT_##n,
	MMAPDEMO_STATS(MMAPDEMO_STAT_ENUM)
#undef MMAPDEMO_STAT_ENUM
	MMAPDEMO_NR_STATS
};

/**
 * struct mmapdemo_counters - the counters, events since load or the last reset
 * @v:	one per counter of MMAPDEMO_STATS(), indexed by enum mmapdemo_stat;
 *	the gauges among them (vmas, mapped_pages) stay 0: they are not
 *	reset, struct mmapdemo_gauges keeps them
 */
struct mmapdemo_counters {
	atomic64_t v[MMAPDEMO_NR_STATS];
};

#define mmapdemo_count_add(dev, counter, n) \
	atomic64_add(n, &(dev)->counters.v[MMAPDEMO_STAT_##counter])
#define mmapdemo_count(dev, counter) mmapdemo_count_add(dev, counter, 1)

void mmapdemo_stats_init(void);

/**
 * struct mmapdemo_gauges - what is mapped now, kept by vma.c
 * @vmas:	device VMAs in all processes
 * @pages:	the sum of their sizes in pages (stats.mapped_pages)
 */
struct mmapdemo_gauges {
	atomic64_t vmas;
	atomic64_t pages;
};

void mmapdemo_stats_get(struct mmapdemo_dev *dev, struct mmapdemo_stats *st);
void mmapdemo_stats_reset(struct mmapdemo_dev *dev);
extern const struct attribute_group *mmapdemo_groups[];

/**
 * struct mmapdemo_variant - one way of implementing mmap
 * @name:	value of mode= (and MMAPDEMO_MODE_NAME_*)
 * @api:	the kernel API the variant demonstrates, for messages
 * @mmap:	kernels before 7.2, optional: called by the core's ->mmap
 *		after it has checked the range and set vm_ops and
 *		VM_DONTEXPAND | VM_DONTDUMP; fills the page tables now
 * @mmap_prepare: 7.2 and newer, optional: called by the core's
 *		->mmap_prepare after the same checks and settings, made on
 *		@desc; refuses the mapping or asks for an mmap action. No
 *		state: the mapping may still fail or merge afterwards, so
 *		anything that needs the VMA belongs in @vm_ops->mapped
 * @vm_ops:	operations of the VMAs this variant makes; .open and .close
 *		must be mmapdemo_vma_open() and mmapdemo_vma_close(), and on
 *		7.2 and newer .mapped must end with mmapdemo_vma_track()
 *		(mmapdemo_vma_mapped() when there is nothing else to do)
 * @get_unmapped_area: optional: where mmap() places a new mapping of a
 *		file in this mode (f_op->get_unmapped_area, 6.12 and newer);
 *		without it, wherever the mm would place it
 * @expandable:	works without VM_DONTEXPAND (MMAPDEMO_MODE_EXPANDABLE)
 * @unsupported: why this kernel cannot do the variant, NULL when it can:
 *		mode= and MMAPDEMO_IOC_SET_MODE then refuse it with
 *		-EOPNOTSUPP and one log line giving this reason
 *
 * A variant without @mmap or @mmap_prepare maps nothing at mmap time.
 */
struct mmapdemo_variant {
	const char *name;
	const char *api;
	int (*mmap)(struct mmapdemo_dev *dev, struct vm_area_struct *vma);
	int (*mmap_prepare)(struct mmapdemo_dev *dev, struct vm_area_desc *desc);
	const struct vm_operations_struct *vm_ops;
	unsigned long (*get_unmapped_area)(struct file *file, unsigned long addr,
					   unsigned long len, unsigned long pgoff,
					   unsigned long flags);
	bool expandable;
	const char *unsupported;
};

extern const struct mmapdemo_variant mmapdemo_fault_variant;
extern const struct mmapdemo_variant mmapdemo_remap_variant;
extern const struct mmapdemo_variant mmapdemo_insert_variant;
extern const struct mmapdemo_variant mmapdemo_batch_variant;
extern const struct mmapdemo_variant mmapdemo_huge_variant;

/* vm_ops_fault.c, for other variants too: .fault mapping the one page vmf->pgoff */
vm_fault_t mmapdemo_fault(struct vm_fault *vmf);
extern const struct vm_operations_struct mmapdemo_fault_vm_ops;

/* vm_ops_access.c: .access of the VM_PFNMAP variants (remap, huge) */
int mmapdemo_access(struct vm_area_struct *vma, unsigned long addr, void *buf, int len,
		    int write);

/*
 * A private writable mapping (copy-on-write), open-coded is_cow_mapping():
 * the helper moves and is renamed in 7.3.
 */
static inline bool mmapdemo_is_cow(const struct vm_area_struct *vma)
{
	return (vma->vm_flags & (VM_SHARED | VM_MAYWRITE)) == VM_MAYWRITE;
}

/**
 * struct mmapdemo_dev - the one device
 * @buf:	its memory
 * @counters:	event counters
 * @gauges:	what is mapped now
 * @variant:	the variant named by mode=, the default of every open file
 * @mode:	its MMAPDEMO_MODE_* number
 * @misc:	/dev/mmapdemo and /sys/class/misc/mmapdemo
 */
struct mmapdemo_dev {
	struct mmapdemo_buf buf;
	struct mmapdemo_counters counters;
	struct mmapdemo_gauges gauges;
	const struct mmapdemo_variant *variant;
	unsigned int mode;
	struct miscdevice misc;
};

/* core.c */
struct mmapdemo_dev *mmapdemo_file_dev(const struct file *file);
size_t mmapdemo_mode_names(char *names, size_t size, const char *sep);

/* vma.c */
int mmapdemo_vma_track(struct mmapdemo_dev *dev, struct vm_area_struct *vma,
		       void **private_data);
/* vm_ops->mapped (7.2 and newer) */
struct vm_area_struct *mmapdemo_vma_find(unsigned long start, unsigned long end,
					 const struct file *file);
int mmapdemo_vma_mapped(unsigned long start, unsigned long end, pgoff_t pgoff,
			const struct file *file, void **vm_private_data);
void mmapdemo_vma_open(struct vm_area_struct *vma);
void mmapdemo_vma_close(struct vm_area_struct *vma);
struct mmapdemo_dev *mmapdemo_vma_dev(const struct vm_area_struct *vma);

#endif /* MMAPDEMO_H */
