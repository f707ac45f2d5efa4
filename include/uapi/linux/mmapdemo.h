/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mmapdemo: the ioctl ABI of /dev/mmapdemo.
 *
 * One header, included by the module, the demos and the selftests.
 * Only fixed-size __u64 fields, so the layout is the same for 32- and
 * 64-bit callers and compat_ptr_ioctl() is enough.
 *
 * The structures can grow, the way PIDFD_GET_INFO's does: the size in an
 * ioctl command (_IOC_SIZE) is the caller's idea of the structure, and
 * the module accepts any size from the first version's
 * (MMAPDEMO_*_SIZE_VER0) up to a page:
 *   - out: it writes what it has, at most the caller's size, and zeroes
 *     the rest of a larger caller's structure;
 *   - in: bytes past its own structure must be zero, else E2BIG (what
 *     copy_struct_from_user() does), so that a field the module does not
 *     know is never silently ignored;
 *   - a size below version 0 is EINVAL, above a page E2BIG; another
 *     direction, type or number is ENOTTY.
 * A new field goes at the end of its structure. A program built against
 * an older header keeps working on a newer module, and a newer program on
 * an older module (it sees zeroes where the module has no field).
 */
#ifndef _UAPI_LINUX_MMAPDEMO_H
#define _UAPI_LINUX_MMAPDEMO_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Path of the misc device and of its sysfs directory. */
#define MMAPDEMO_DEV_PATH	"/dev/mmapdemo"
#define MMAPDEMO_SYSFS_DIR	"/sys/class/misc/mmapdemo"

/*
 * Mapping variants: values of mmapdemo_mode.mode and, by name, of the
 * mode= module parameter.
 *
 * MMAPDEMO_MODE_FAULT: vm_operations_struct.fault maps one page on first
 *	touch (demand paging).
 * MMAPDEMO_MODE_REMAP: remap_pfn_range() fills every page table entry at
 *	mmap() time (eager, VM_PFNMAP).
 * MMAPDEMO_MODE_INSERT: vm_insert_pages() maps every page at mmap() time
 *	(eager, refcounted struct pages, VM_MIXEDMAP).
 * MMAPDEMO_MODE_BATCH: .fault maps a window of batch_pages pages around
 *	the faulting one with one vm_insert_pages() call (fault-around).
 * MMAPDEMO_MODE_HUGE: .huge_fault maps 2 MiB with one PMD where the
 *	address and the buffer allow it, .fault maps 4 KiB pages elsewhere.
 */
#define MMAPDEMO_MODE_FAULT	0
#define MMAPDEMO_MODE_REMAP	1
#define MMAPDEMO_MODE_INSERT	2
#define MMAPDEMO_MODE_BATCH	3
#define MMAPDEMO_MODE_HUGE	4

#define MMAPDEMO_MODE_NAME_FAULT	"fault"
#define MMAPDEMO_MODE_NAME_REMAP	"remap"
#define MMAPDEMO_MODE_NAME_INSERT	"insert"
#define MMAPDEMO_MODE_NAME_BATCH	"batch"
#define MMAPDEMO_MODE_NAME_HUGE		"huge"

/* mmapdemo_info.flags */
/* Every page of the buffer follows the previous one physically. */
#define MMAPDEMO_INFO_CONTIGUOUS	(1ULL << 0)

/**
 * struct mmapdemo_info - MMAPDEMO_IOC_GET_INFO
 * @size:	out: buffer size in bytes (what lseek(SEEK_END) returns)
 * @pages:	out: buffer size in pages
 * @page_size:	out: PAGE_SIZE of the kernel
 * @mode:	out: MMAPDEMO_MODE_* that mmap() on this open file uses
 * @flags:	out: MMAPDEMO_INFO_* flags
 * @modes:	out: the modes this module and kernel can do, bit N for
 *		MMAPDEMO_MODE_* N (version 1; the sysfs file "modes" has their
 *		names)
 */
struct mmapdemo_info {
	__u64 size;
	__u64 pages;
	__u64 page_size;
	__u64 mode;
	__u64 flags;
	__u64 modes;
};

#define MMAPDEMO_INFO_SIZE_VER0	40	/* up to @flags */

/* mmapdemo_mode.flags */
/*
 * Leave VM_DONTEXPAND (and VM_DONTDUMP) off the mappings this file makes,
 * so that mremap() can grow them past the end of the buffer and the fault
 * handler's bounds check answers with SIGBUS. Fault mode only (EINVAL
 * with remap: remap_pfn_range() sets VM_DONTEXPAND itself). For teaching
 * and testing that check; no real driver wants this.
 */
#define MMAPDEMO_MODE_EXPANDABLE	(1ULL << 0)
#define MMAPDEMO_MODE_FLAGS		MMAPDEMO_MODE_EXPANDABLE

/**
 * struct mmapdemo_mode - MMAPDEMO_IOC_SET_MODE
 * @mode:	in: MMAPDEMO_MODE_* used by later mmap() calls on this open
 *		file; mappings that exist keep the variant they were made with
 * @flags:	in: MMAPDEMO_MODE_* flags (0 for normal use)
 */
struct mmapdemo_mode {
	__u64 mode;
	__u64 flags;
};

#define MMAPDEMO_MODE_SIZE_VER0	16

/*
 * The counters of MMAPDEMO_IOC_GET_STATS, X(name, kind) each, in the order
 * of struct mmapdemo_stats: their one list. The module's sysfs files (one
 * per counter, of the same name) and the programs that print or check
 * every counter expand it, as bpf.h's __BPF_FUNC_MAPPER is expanded.
 * kind is EVENT (counts since load or MMAPDEMO_IOC_RESET_STATS) or GAUGE
 * (what exists now, never reset). Module-wide: every open file and every
 * process counts into the same numbers. New counters go at the end.
 *
 *   faults        .fault and .huge_fault calls that mapped buffer pages
 *   sigbus        .fault calls refused with SIGBUS (past the buffer)
 *   mmaps         successful mmap() calls on the device
 *   vma_opens     vm_ops->open calls: a VMA copied by fork(), split by
 *                 mprotect()/munmap(), or moved by mremap()
 *   vma_closes    vm_ops->close calls: a VMA went away
 *   vmas          device VMAs that exist now, in all processes
 *   mapped_pages  pages covered by those VMAs (sum of their sizes)
 *   huge_faults   .huge_fault calls that mapped 2 MiB with one PMD (also
 *                 counted in faults)
 *   fault_pages   buffer pages mapped by those faults: one per .fault call
 *                 in fault mode, up to batch_pages in batch mode, 512 per
 *                 huge fault
 */
#define MMAPDEMO_STATS(X)	\
	X(faults, EVENT)	\
	X(sigbus, EVENT)	\
	X(mmaps, EVENT)		\
	X(vma_opens, EVENT)	\
	X(vma_closes, EVENT)	\
	X(vmas, GAUGE)		\
	X(mapped_pages, GAUGE)	\
	X(huge_faults, EVENT)	\
	X(fault_pages, EVENT)

/**
 * struct mmapdemo_stats - MMAPDEMO_IOC_GET_STATS: out, one __u64 per
 * counter of MMAPDEMO_STATS(), in its order (faults, sigbus, mmaps,
 * vma_opens, vma_closes, vmas, mapped_pages, huge_faults, fault_pages)
 */
struct mmapdemo_stats {
#define __MMAPDEMO_STAT_FIELD(name, kind) __u64 name;
	MMAPDEMO_STATS(__MMAPDEMO_STAT_FIELD)
#undef __MMAPDEMO_STAT_FIELD
};

#define MMAPDEMO_STATS_SIZE_VER0	72	/* up to fault_pages */

/**
 * struct mmapdemo_pfn - MMAPDEMO_IOC_GET_PFN (needs CAP_SYS_ADMIN)
 * @index:	in: buffer page number, 0 <= index < pages
 * @pfn:	out: its physical page frame number
 */
struct mmapdemo_pfn {
	__u64 index;
	__u64 pfn;
};

#define MMAPDEMO_PFN_SIZE_VER0	16

/* The sizes here are this header's; the module takes others (see above). */
#define MMAPDEMO_IOC_MAGIC	0xd3

#define MMAPDEMO_IOC_GET_INFO	_IOR(MMAPDEMO_IOC_MAGIC, 0, struct mmapdemo_info)
#define MMAPDEMO_IOC_SET_MODE	_IOW(MMAPDEMO_IOC_MAGIC, 1, struct mmapdemo_mode)
#define MMAPDEMO_IOC_GET_STATS	_IOR(MMAPDEMO_IOC_MAGIC, 2, struct mmapdemo_stats)
#define MMAPDEMO_IOC_RESET_STATS _IO(MMAPDEMO_IOC_MAGIC, 3)
#define MMAPDEMO_IOC_GET_PFN	_IOWR(MMAPDEMO_IOC_MAGIC, 4, struct mmapdemo_pfn)

#endif /* _UAPI_LINUX_MMAPDEMO_H */
