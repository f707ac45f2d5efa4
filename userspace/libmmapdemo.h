/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmmapdemo: small helpers shared by the demos (userspace/) and the
 * selftests (selftests/). Linked into every program of both.
 *
 * Conventions: functions that wrap a system call return what the call
 * returns (0 or -1 with errno set); counting functions return a count or
 * -1 with errno set. Nothing here prints unless its name says so.
 */
#ifndef LIBMMAPDEMO_H
#define LIBMMAPDEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <linux/mmapdemo.h>

/* /proc/PID/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define MMAPDEMO_PM_PRESENT	(1ULL << 63)
#define MMAPDEMO_PM_SWAP	(1ULL << 62)
#define MMAPDEMO_PM_FILE	(1ULL << 61)	/* file page or shared anon */
#define MMAPDEMO_PM_EXCLUSIVE	(1ULL << 56)	/* mapped exactly once */
#define MMAPDEMO_PM_SOFT_DIRTY	(1ULL << 55)
#define MMAPDEMO_PM_PFN_MASK	((1ULL << 55) - 1)

/**
 * struct mmapdemo_pagemap - one decoded /proc/self/pagemap entry
 * @raw:	the 64-bit entry
 * @present:	a PTE maps a page (bit 63)
 * @file:	the page is not anonymous (bit 61): a device page, not a copy
 * @exclusive:	the page is mapped exactly once (bit 56)
 * @pfn:	page frame number; 0 without CAP_SYS_ADMIN or when not present
 */
struct mmapdemo_pagemap {
	uint64_t raw;
	bool present;
	bool file;
	bool exclusive;
	uint64_t pfn;
};

/* The device and its ioctls. */
int mmapdemo_open(int flags);
int mmapdemo_get_info(int fd, struct mmapdemo_info *info);
int mmapdemo_get_stats(int fd, struct mmapdemo_stats *stats);
int mmapdemo_reset_stats(int fd);
int mmapdemo_set_mode(int fd, uint64_t mode, uint64_t flags);
int mmapdemo_get_pfn(int fd, uint64_t index, uint64_t *pfn);

/* "fault", "remap", ... (MMAPDEMO_MODE_NAME_*), or NULL for an unknown mode. */
const char *mmapdemo_mode_name(uint64_t mode);
/* Parse a mode name; 0 on success, -1 (EINVAL) for an unknown name. */
int mmapdemo_mode_parse(const char *name, uint64_t *mode);

/*
 * The counters of struct mmapdemo_stats, by number in their order
 * (MMAPDEMO_STATS() of the uapi): name, whether a gauge, value.
 */
extern const size_t mmapdemo_nr_stats;
const char *mmapdemo_stat_name(size_t i);
bool mmapdemo_stat_is_gauge(size_t i);
uint64_t mmapdemo_stat_value(const struct mmapdemo_stats *st, size_t i);

size_t mmapdemo_page_size(void);

/* Sysfs: MMAPDEMO_SYSFS_DIR/<name>. */
/* Read the whole file into buf (NUL-terminated); returns its length or -1. */
ssize_t mmapdemo_sysfs_read(const char *name, char *buf, size_t size);
/* Read a file that holds one decimal number and a newline. */
int mmapdemo_sysfs_u64(const char *name, uint64_t *val);

/* Residency, as seen from this process. */
int mmapdemo_pagemap(const void *addr, struct mmapdemo_pagemap *pm);
/* Pages of [addr, addr + pages * page size) pagemap reports present. */
long mmapdemo_pagemap_present(const void *addr, size_t pages);
/* Pages of the same range for which mincore(2) reports 1. */
long mmapdemo_mincore_count(void *addr, size_t pages);
/* Minor faults of the calling thread so far (getrusage RUSAGE_THREAD). */
long mmapdemo_minflt(void);
/*
 * Touch @count pages, the first byte of every @stride-th page from @addr:
 * a load when @value < 0, else a store of (unsigned char)@value (a store
 * only: no load first). Returns the calling thread's minor faults taken by
 * the touching alone (code and counters are warmed up first), or -1.
 */
long mmapdemo_touch(void *addr, size_t count, size_t stride, int value);

/* /proc/self/maps and /proc/self/smaps entries of the VMA holding addr. */
/* The maps line (no newline) into buf; -1 (ENOENT) when nothing is mapped. */
int mmapdemo_maps_line(const void *addr, char *buf, size_t size);
/* A "Name:  N kB" field of smaps (e.g. "Rss") in kB, or -1. */
long mmapdemo_smaps_kb(const void *addr, const char *field);
/* The VmFlags field's value ("rd wr sh ... dd") into buf, or -1. */
int mmapdemo_smaps_vmflags(const void *addr, char *buf, size_t size);
/* Whether the two-letter flag (e.g. "pf") is in a VmFlags value. */
bool mmapdemo_vmflag(const char *vmflags, const char *flag);
/* VM_PFNMAP ("pf" in VmFlags): the page walkers cannot see the pages. */
bool mmapdemo_is_pfnmap(const void *addr);

/*
 * State of one mapped page, from pagemap: '.' not present, 'S' the
 * device's own page (file page; with CAP_SYS_ADMIN also its PFN equals
 * MMAPDEMO_IOC_GET_PFN of buffer page @index), 'P' a private copy
 * (anonymous page made by copy-on-write), '?' unknown or inconsistent.
 * @fd may be -1 (no PFN comparison).
 */
char mmapdemo_page_state(int fd, const void *addr, uint64_t index);
/*
 * Print one character per page of [addr, addr + pages * page size), 64 a
 * line, buffer page @first_index first. For a VM_PFNMAP mapping, which
 * pagemap reports as holes, print why there is no grid instead. Returns 0
 * when a grid was printed, 1 for the VM_PFNMAP explanation, -1 on error.
 */
int mmapdemo_print_grid(FILE *out, int fd, const void *addr, size_t pages,
			uint64_t first_index);

void mmapdemo_print_info(FILE *out, const struct mmapdemo_info *info);
void mmapdemo_print_stats(FILE *out, const struct mmapdemo_stats *stats);

/*
 * For the demos (userspace/mmapdemo-*.c): the parts of their narration
 * and error handling that are the same in every one of them.
 */
#define MMAPDEMO_PRINTF(f, a)	__attribute__((format(printf, f, a)))

/* Claims of the running process that did not hold (mmapdemo_unexpected()). */
extern int mmapdemo_nr_unexpected;
/* "UNEXPECTED: ..." on stdout (flushed), counted: the demo exits 1 at the end. */
/*
 * The demo's last line: "PROG: every claim checked", or how many did not
 * hold. Returns the demo's exit status: 0, or 1 after any UNEXPECTED.
 */
int mmapdemo_finish(const char *prog);
void mmapdemo_unexpected(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);
/* @text after @first, wrapped at 78 columns and indented under it. */
void mmapdemo_print_wrapped(const char *first, const char *text);
/* The closing "  why: ..." sentence of a step, wrapped. */
void mmapdemo_why(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);
/* "PROG: <message>; try --help" on stderr, exit 2. */
void mmapdemo_usage_error(const char *prog, const char *fmt, ...)
	MMAPDEMO_PRINTF(2, 3) __attribute__((noreturn));
/*
 * Open the device read-write and get its info; on failure say why on
 * stderr ("is mmapdemo.ko loaded?") and exit 1. Returns the fd.
 */
int mmapdemo_demo_open(const char *prog, struct mmapdemo_info *info);

#endif /* LIBMMAPDEMO_H */
