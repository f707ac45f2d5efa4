/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmmapdemo: small helpers shared by the demos (userspace/), the
 * benchmark (bench/) and the selftests (selftests/). Linked into every
 * program of them.
 *
 * Conventions: functions that wrap a system call return what the call
 * returns (0 or -1 with errno set); counting functions return a count or
 * -1 with errno set. Nothing here prints unless its name says so, but
 * for the program helpers at the end, which print and may exit.
 */
#ifndef LIBMMAPDEMO_H
#define LIBMMAPDEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <linux/mmapdemo.h>

/*
 * The modes this header names, MMAPDEMO_MODE_FAULT ... MMAPDEMO_MODE_HUGE:
 * what programs built with it know of, not the ABI. Which of them the
 * module and kernel can do is MMAPDEMO_IOC_GET_INFO's modes (or the sysfs
 * file "modes").
 */
#define MMAPDEMO_NR_MODES	(MMAPDEMO_MODE_HUGE + 1)

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
 * The states of [addr, addr + pages * page size) as a string, one
 * character per page (at most @size - 1 of them), into @buf; returns it.
 */
char *mmapdemo_grid_line(int fd, const void *addr, size_t pages, uint64_t first_index,
			 char *buf, size_t size);
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
 * For the programs of userspace/ and bench/: the mechanics every one of
 * them needs (its name on error lines, --help and option errors, number
 * and mode parsing, step headings, fatal errors), so that a demo holds
 * its own narration and little else.
 *
 * Exit statuses: 0 done, 1 a claim did not hold or a call failed, 2 a bad
 * option or value (one line on stderr: "PROG: ...; try --help").
 */
#define MMAPDEMO_PRINTF(f, a)	__attribute__((format(printf, f, a)))
#define MMAPDEMO_NORETURN	__attribute__((noreturn))
/* A macro's value as a string literal: MMAPDEMO_STR(MAX_REPS) is "99". */
#define MMAPDEMO_STR(x)		MMAPDEMO_STR_(x)
#define MMAPDEMO_STR_(x)	#x

/*
 * First thing in main(): the program's name for every line on stderr and
 * the text --help prints. Until then errors are signed with the name of
 * the executable.
 */
void mmapdemo_program(const char *prog, const char *usage);
/* That name. */
const char *mmapdemo_prog(void);
/*
 * A prefix for this process's error and UNEXPECTED lines, e.g. "[child]"
 * after a fork (NULL or "" for none). The string is not copied.
 */
void mmapdemo_set_tag(const char *tag);

struct option;
/*
 * getopt_long() for a program of options only. Returns the next option
 * character, or -1 when all of argv is read. Handles the rest itself:
 * 'h' (map "help" to it) prints the usage and exits 0; an unknown option,
 * a missing or unwanted value, and any argument that is not an option are
 * a usage error. @shortopts as for getopt(), without a leading '+' or ':'.
 */
int mmapdemo_getopt(int argc, char *const argv[], const char *shortopts,
		    const struct option *longopts);
/* "PROG: <message>; try --help" on stderr, exit 2 (@prog: the selftests name theirs). */
void mmapdemo_usage_error(const char *prog, const char *fmt, ...)
	MMAPDEMO_PRINTF(2, 3) MMAPDEMO_NORETURN;
/*
 * The value @arg of option @opt as a number from @min to @max, decimal
 * or 0x-hexadecimal, nothing else (no sign, no blanks, no suffix); a
 * usage error otherwise ("--reps: 'x' is not a number from 1 to 99").
 */
uint64_t mmapdemo_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max);
/* The bit of MMAPDEMO_MODE_* @mode in a set of modes. */
#define MMAPDEMO_MODE_BIT(mode)	(1U << (mode))
/*
 * The value of a --mode option: one mode name of the set @allowed, or
 * "both" (a set of two) or "all" (more) for the whole set; returns the
 * modes chosen, a usage error for anything else ("--mode: 'huge' is not
 * fault, remap or both").
 */
unsigned int mmapdemo_parse_modes(const char *opt, const char *arg, unsigned int allowed);

/*
 * Fatal errors, on stderr after flushing stdout (the narration so far
 * stays in order): "PROG: [TAG ]<message>: <strerror(errno)>" and exit 1
 * (without ": ..." when errno is 0).
 */
void mmapdemo_die(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2) MMAPDEMO_NORETURN;
/* The same without errno: "PROG: [TAG ]<message>", exit 1. */
void mmapdemo_fail(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2) MMAPDEMO_NORETURN;
/* That line alone, without exiting: the caller goes on or returns 1. */
void mmapdemo_error(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);

/* Calls that either work or end the program with mmapdemo_die(). */
void mmapdemo_xset_mode(int fd, uint64_t mode);
void mmapdemo_xget_stats(int fd, struct mmapdemo_stats *stats);
/* mmap(); @what names the object in the error line ("the file"). */
void *mmapdemo_xmmap(size_t len, int prot, int flags, int fd, off_t off, const char *what);
void mmapdemo_xmunmap(void *addr, size_t len);
/*
 * fork() with stdout and stderr flushed first, so that no line buffered
 * before it is printed twice. Returns what fork() returns.
 */
pid_t mmapdemo_fork(void);
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mmapdemo_now_ns(void);

/* $TMPDIR, or /tmp when it is unset or empty. */
const char *mmapdemo_tmpdir(void);
/*
 * A new empty file PROG.XXXXXX in mmapdemo_tmpdir(), opened read-write
 * and close-on-exec; its name into @path. The process that made it
 * removes it when it exits, or earlier with mmapdemo_tmpfile_remove().
 * One at a time. Returns the fd; mmapdemo_die() on failure.
 */
int mmapdemo_tmpfile(char *path, size_t size);
/* Remove that file now; 0, or -1 with errno set (nothing to remove: 0). */
int mmapdemo_tmpfile_remove(void);

/*
 * Open the device read-write and get its info; on failure say why on
 * stderr ("is mmapdemo.ko loaded?") and exit 1, as for a device page size
 * other than this process's. Returns the fd.
 */
int mmapdemo_demo_open(struct mmapdemo_info *info);

/*
 * The narration. A step: "\nN. <title>" (numbered from 1; returns N),
 * then what it does, "  doing: <text>", and at the end why, "  why: ..."
 * wrapped at 78 columns.
 */
int mmapdemo_step(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);
void mmapdemo_doing(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);
/* Number the next step 1 again (a demo that tells its story per mode). */
void mmapdemo_restart_steps(void);
void mmapdemo_why(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);
/* @text after @first, wrapped at 78 columns and indented under it. */
void mmapdemo_print_wrapped(const char *first, const char *text);

/* Claims of the running process that did not hold (mmapdemo_unexpected()). */
extern int mmapdemo_nr_unexpected;
/*
 * "UNEXPECTED: [TAG ]..." on stdout (flushed, so that it is seen even if
 * a forked child leaves with _exit() next), counted.
 */
void mmapdemo_unexpected(const char *fmt, ...) MMAPDEMO_PRINTF(1, 2);
/*
 * The demo's last line: "PROG: every claim checked", or how many did not
 * hold. Returns the demo's exit status: 0, or 1 after any UNEXPECTED.
 */
int mmapdemo_finish(void);

#endif /* LIBMMAPDEMO_H */
