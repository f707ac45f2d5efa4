// SPDX-License-Identifier: GPL-2.0
/*
 * libmmapdemo: helpers shared by the demos and the selftests.
 * See libmmapdemo.h for what each function returns.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "libmmapdemo.h"

int mmapdemo_open(int flags)
{
	return open(MMAPDEMO_DEV_PATH, flags | O_CLOEXEC);
}

int mmapdemo_get_info(int fd, struct mmapdemo_info *info)
{
	return ioctl(fd, MMAPDEMO_IOC_GET_INFO, info);
}

int mmapdemo_get_stats(int fd, struct mmapdemo_stats *stats)
{
	return ioctl(fd, MMAPDEMO_IOC_GET_STATS, stats);
}

int mmapdemo_reset_stats(int fd)
{
	return ioctl(fd, MMAPDEMO_IOC_RESET_STATS);
}

int mmapdemo_set_mode(int fd, uint64_t mode, uint64_t flags)
{
	struct mmapdemo_mode m = { .mode = mode, .flags = flags };

	return ioctl(fd, MMAPDEMO_IOC_SET_MODE, &m);
}

int mmapdemo_get_pfn(int fd, uint64_t index, uint64_t *pfn)
{
	struct mmapdemo_pfn p = { .index = index };

	if (ioctl(fd, MMAPDEMO_IOC_GET_PFN, &p))
		return -1;
	*pfn = p.pfn;
	return 0;
}

static const char *const mode_names[MMAPDEMO_NR_MODES] = {
	[MMAPDEMO_MODE_FAULT] = MMAPDEMO_MODE_NAME_FAULT,
	[MMAPDEMO_MODE_REMAP] = MMAPDEMO_MODE_NAME_REMAP,
	[MMAPDEMO_MODE_INSERT] = MMAPDEMO_MODE_NAME_INSERT,
	[MMAPDEMO_MODE_BATCH] = MMAPDEMO_MODE_NAME_BATCH,
	[MMAPDEMO_MODE_HUGE] = MMAPDEMO_MODE_NAME_HUGE,
};

const char *mmapdemo_mode_name(uint64_t mode)
{
	return mode < MMAPDEMO_NR_MODES ? mode_names[mode] : NULL;
}

int mmapdemo_mode_parse(const char *name, uint64_t *mode)
{
	uint64_t m;

	for (m = 0; m < MMAPDEMO_NR_MODES; m++) {
		if (!strcmp(name, mode_names[m])) {
			*mode = m;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

#define STAT_NAME(name, kind) #name,
static const char *const stat_names[] = { MMAPDEMO_STATS(STAT_NAME) };
#define STAT_GAUGE(name, kind) !strcmp(#kind, "GAUGE"),
static const bool stat_gauges[] = { MMAPDEMO_STATS(STAT_GAUGE) };

const size_t mmapdemo_nr_stats = sizeof(stat_names) / sizeof(stat_names[0]);

const char *mmapdemo_stat_name(size_t i)
{
	return i < mmapdemo_nr_stats ? stat_names[i] : NULL;
}

bool mmapdemo_stat_is_gauge(size_t i)
{
	return i < mmapdemo_nr_stats && stat_gauges[i];
}

uint64_t mmapdemo_stat_value(const struct mmapdemo_stats *st, size_t i)
{
	/* The struct is MMAPDEMO_STATS() as __u64s, in its order. */
	_Static_assert(sizeof(*st) == sizeof(stat_names) / sizeof(stat_names[0]) * sizeof(__u64),
		       "struct mmapdemo_stats is one __u64 per counter");
	return i < mmapdemo_nr_stats ? ((const __u64 *)st)[i] : 0;
}

size_t mmapdemo_page_size(void)
{
	static size_t page_size;

	if (!page_size)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	return page_size;
}

ssize_t mmapdemo_sysfs_read(const char *name, char *buf, size_t size)
{
	char path[256];
	ssize_t n, len = 0;
	int fd;

	if (!size) {
		errno = EINVAL;
		return -1;
	}
	snprintf(path, sizeof(path), "%s/%s", MMAPDEMO_SYSFS_DIR, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((size_t)len < size - 1) {
		n = read(fd, buf + len, size - 1 - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (!n)
			break;
		len += n;
	}
	buf[len] = '\0';
	close(fd);
	return len;
}

int mmapdemo_sysfs_u64(const char *name, uint64_t *val)
{
	char buf[64], *end;
	ssize_t len;

	len = mmapdemo_sysfs_read(name, buf, sizeof(buf));
	if (len < 0)
		return -1;
	/* Exactly digits and one newline. */
	if (len < 2 || buf[len - 1] != '\n' || buf[0] < '0' || buf[0] > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end != buf + len - 1) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * /proc/self/pagemap, kept open. "self" is resolved when the file is
 * opened: after fork() the inherited descriptor still reads the parent's
 * page tables, so a process that is not the opener opens its own.
 */
static int pagemap_fd(void)
{
	static int fd = -1;
	static pid_t owner;

	if (fd >= 0 && owner != getpid()) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
		owner = getpid();
	}
	return fd;
}

static void pagemap_decode(uint64_t raw, struct mmapdemo_pagemap *pm)
{
	pm->raw = raw;
	pm->present = raw & MMAPDEMO_PM_PRESENT;
	pm->file = raw & MMAPDEMO_PM_FILE;
	pm->exclusive = raw & MMAPDEMO_PM_EXCLUSIVE;
	pm->pfn = pm->present ? raw & MMAPDEMO_PM_PFN_MASK : 0;
}

/* Read the pagemap entries of @pages pages from @addr into @raw. */
static int pagemap_read(const void *addr, size_t pages, uint64_t *raw)
{
	off_t off = (off_t)((uintptr_t)addr / mmapdemo_page_size()) * 8;
	size_t want = pages * 8, got = 0;
	int fd = pagemap_fd();
	ssize_t n;

	if (fd < 0)
		return -1;
	while (got < want) {
		n = pread(fd, (char *)raw + got, want - got, off + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!n)
				errno = EIO;
			return -1;
		}
		got += n;
	}
	return 0;
}

int mmapdemo_pagemap(const void *addr, struct mmapdemo_pagemap *pm)
{
	uint64_t raw;

	if (pagemap_read(addr, 1, &raw))
		return -1;
	pagemap_decode(raw, pm);
	return 0;
}

long mmapdemo_pagemap_present(const void *addr, size_t pages)
{
	uint64_t raw[512];
	size_t page_size = mmapdemo_page_size();
	long present = 0;
	size_t i, n;

	while (pages) {
		n = pages < 512 ? pages : 512;
		if (pagemap_read(addr, n, raw))
			return -1;
		for (i = 0; i < n; i++)
			present += !!(raw[i] & MMAPDEMO_PM_PRESENT);
		addr = (const char *)addr + n * page_size;
		pages -= n;
	}
	return present;
}

long mmapdemo_mincore_count(void *addr, size_t pages)
{
	unsigned char *vec;
	long count = 0;
	size_t i;

	vec = malloc(pages ? pages : 1);
	if (!vec)
		return -1;
	if (mincore(addr, pages * mmapdemo_page_size(), vec)) {
		free(vec);
		return -1;
	}
	for (i = 0; i < pages; i++)
		count += vec[i] & 1;
	free(vec);
	return count;
}

/*
 * Static, not on the stack: after fork() every private page is shared
 * copy-on-write with the parent, so the first store into a fresh stack or
 * data page would itself count as a minor fault. Warmed up before use.
 */
static struct rusage minflt_usage;

long mmapdemo_minflt(void)
{
	if (getrusage(RUSAGE_THREAD, &minflt_usage))
		return -1;
	return minflt_usage.ru_minflt;
}

static void __attribute__((noinline))
touch_pages(volatile unsigned char *p, size_t count, size_t step, int value)
{
	size_t i;

	for (i = 0; i < count; i++, p += step) {
		if (value < 0)
			(void)*p;
		else
			*p = (unsigned char)value;
	}
}

long mmapdemo_touch(void *addr, size_t count, size_t stride, int value)
{
	size_t step = (stride ? stride : 1) * mmapdemo_page_size();
	long before, after;

	/* Fault in this code, touch_pages() and the rusage buffer first. */
	if (mmapdemo_minflt() < 0)
		return -1;
	touch_pages(addr, 0, step, value);
	before = mmapdemo_minflt();
	touch_pages(addr, count, step, value);
	after = mmapdemo_minflt();
	if (before < 0 || after < 0)
		return -1;
	return after - before;
}

/* Call fn(line, arg) for every line of a /proc file until it returns != 0. */
static int for_each_line(const char *path, int (*fn)(char *line, void *arg), void *arg)
{
	char line[1024];
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -1;
	while (!ret && fgets(line, sizeof(line), f))
		ret = fn(line, arg);
	fclose(f);
	return ret;
}

/* Whether a maps/smaps line is the header of the VMA holding addr. */
static int vma_header_holds(const char *line, uintptr_t addr)
{
	unsigned long start, end;
	char c;

	/* Header: "start-end perms ..."; field lines start with "Name:". */
	if (sscanf(line, "%lx-%lx %c", &start, &end, &c) != 3)
		return -1;
	return addr >= start && addr < end;
}

struct maps_query {
	uintptr_t addr;
	char *buf;
	size_t size;
	const char *field;	/* smaps field name, NULL for the maps line */
	int in_vma;		/* smaps: inside the block of addr */
	long kb;
	int found;
};

static int maps_line_cb(char *line, void *arg)
{
	struct maps_query *q = arg;

	if (vma_header_holds(line, q->addr) != 1)
		return 0;
	line[strcspn(line, "\n")] = '\0';
	snprintf(q->buf, q->size, "%s", line);
	q->found = 1;
	return 1;
}

/* Run a query over a /proc file: 0 when it found its line, else -1. */
static int maps_search(const char *path, int (*fn)(char *line, void *arg), struct maps_query *q)
{
	if (for_each_line(path, fn, q) < 0)
		return -1;
	if (!q->found) {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

int mmapdemo_maps_line(const void *addr, char *buf, size_t size)
{
	struct maps_query q = { .addr = (uintptr_t)addr, .buf = buf, .size = size };

	return maps_search("/proc/self/maps", maps_line_cb, &q);
}

static int smaps_cb(char *line, void *arg)
{
	struct maps_query *q = arg;
	size_t flen = strlen(q->field);
	int hdr = vma_header_holds(line, q->addr);
	char *val;

	if (hdr >= 0) {			/* a new VMA starts */
		if (q->in_vma)
			return 1;	/* field not in the block of addr */
		q->in_vma = hdr;
		return 0;
	}
	if (!q->in_vma || strncmp(line, q->field, flen) || line[flen] != ':')
		return 0;
	val = line + flen + 1;
	val += strspn(val, " \t");
	val[strcspn(val, "\n")] = '\0';
	if (q->buf) {
		snprintf(q->buf, q->size, "%s", val);
	} else {
		char *end;

		q->kb = strtol(val, &end, 10);
		if (end == val || strcmp(end, " kB"))
			return 1;
	}
	q->found = 1;
	return 1;
}

long mmapdemo_smaps_kb(const void *addr, const char *field)
{
	struct maps_query q = { .addr = (uintptr_t)addr, .field = field };

	return maps_search("/proc/self/smaps", smaps_cb, &q) ? -1 : q.kb;
}

int mmapdemo_smaps_vmflags(const void *addr, char *buf, size_t size)
{
	struct maps_query q = {
		.addr = (uintptr_t)addr, .buf = buf, .size = size, .field = "VmFlags",
	};

	return maps_search("/proc/self/smaps", smaps_cb, &q);
}

bool mmapdemo_vmflag(const char *vmflags, const char *flag)
{
	size_t len = strlen(flag);
	const char *p = vmflags;

	while ((p = strstr(p, flag))) {
		if ((p == vmflags || p[-1] == ' ') && (p[len] == ' ' || !p[len]))
			return true;
		p += len;
	}
	return false;
}

bool mmapdemo_is_pfnmap(const void *addr)
{
	char flags[256];

	return !mmapdemo_smaps_vmflags(addr, flags, sizeof(flags)) &&
	       mmapdemo_vmflag(flags, "pf");
}

char mmapdemo_page_state(int fd, const void *addr, uint64_t index)
{
	struct mmapdemo_pagemap pm;
	uint64_t dev_pfn;

	if (mmapdemo_pagemap(addr, &pm))
		return '?';
	if (!pm.present)
		return '.';
	/* With CAP_SYS_ADMIN pagemap shows PFNs: compare with the device's. */
	if (pm.pfn && fd >= 0 && !mmapdemo_get_pfn(fd, index, &dev_pfn)) {
		if (pm.pfn == dev_pfn)
			return pm.file ? 'S' : '?';
		return pm.file ? '?' : 'P';
	}
	return pm.file ? 'S' : 'P';
}

char *mmapdemo_grid_line(int fd, const void *addr, size_t pages, uint64_t first_index,
			 char *buf, size_t size)
{
	size_t page_size = mmapdemo_page_size();
	size_t i;

	for (i = 0; i < pages && i + 1 < size; i++)
		buf[i] = mmapdemo_page_state(fd, (const char *)addr + i * page_size,
					     first_index + i);
	if (size)
		buf[i] = '\0';
	return buf;
}

int mmapdemo_print_grid(FILE *out, int fd, const void *addr, size_t pages,
			uint64_t first_index)
{
	size_t page_size = mmapdemo_page_size();
	char line[65];
	size_t i, n;

	if (mmapdemo_is_pfnmap(addr)) {
		fprintf(out,
			"  (no grid: a VM_PFNMAP mapping is invisible to pagemap and mincore,\n"
			"   which report every page as not present although remap_pfn_range()\n"
			"   filled all %zu PTEs at mmap(); trust the device counters and minflt)\n",
			pages);
		return 1;
	}
	for (i = 0; i < pages; i += n) {
		n = pages - i < 64 ? pages - i : 64;
		fprintf(out, "  page %6" PRIu64 " %s\n", first_index + i,
			mmapdemo_grid_line(fd, (const char *)addr + i * page_size, n,
					   first_index + i, line, sizeof(line)));
	}
	fprintf(out, "  (. not present, S device page, P private copy)\n");
	return 0;
}

void mmapdemo_print_info(FILE *out, const struct mmapdemo_info *info)
{
	const char *name = mmapdemo_mode_name(info->mode);

	fprintf(out,
		"  size %llu bytes = %llu pages of %llu bytes, %s, this file maps in mode %s\n",
		(unsigned long long)info->size, (unsigned long long)info->pages,
		(unsigned long long)info->page_size,
		info->flags & MMAPDEMO_INFO_CONTIGUOUS ?
		"physically contiguous" : "not physically contiguous",
		name ? name : "?");
}

void mmapdemo_print_stats(FILE *out, const struct mmapdemo_stats *st)
{
	fprintf(out,
		"  faults %llu, sigbus %llu, mmaps %llu, vma_opens %llu, vma_closes %llu;"
		" now %llu vmas over %llu pages\n",
		(unsigned long long)st->faults, (unsigned long long)st->sigbus,
		(unsigned long long)st->mmaps, (unsigned long long)st->vma_opens,
		(unsigned long long)st->vma_closes, (unsigned long long)st->vmas,
		(unsigned long long)st->mapped_pages);
}

/* ---------------------------------------------------------------- programs */

static const char *prog_name;
static const char *prog_usage;
static const char *err_tag;
static int step_no;

void mmapdemo_program(const char *prog, const char *usage)
{
	prog_name = prog;
	prog_usage = usage;
}

const char *mmapdemo_prog(void)
{
	return prog_name ? prog_name : program_invocation_short_name;
}

void mmapdemo_set_tag(const char *tag)
{
	err_tag = tag;
}

/* "[TAG] " or "". */
static const char *tag_prefix(void)
{
	static char buf[64];

	if (!err_tag || !*err_tag)
		return "";
	snprintf(buf, sizeof(buf), "%s ", err_tag);
	return buf;
}

/* "PROG: [TAG ]<message>[: strerror(@err)]" on stderr (@err 0: without). */
static void verror(int err, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s", mmapdemo_prog(), tag_prefix());
	vfprintf(stderr, fmt, ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err));
	fputc('\n', stderr);
}

void mmapdemo_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(0, fmt, ap);
	va_end(ap);
}

void mmapdemo_die(const char *fmt, ...)
{
	int err = errno;	/* before fflush() can change it */
	va_list ap;

	va_start(ap, fmt);
	verror(err, fmt, ap);
	va_end(ap);
	exit(1);
}

void mmapdemo_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(0, fmt, ap);
	va_end(ap);
	exit(1);
}

void mmapdemo_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("; try --help\n", stderr);
	exit(2);
}

/*
 * The option getopt_long() just refused, as the user wrote it: "--name"
 * (without "=value") for a long one, else "-c" (also out of "-qc").
 */
static const char *bad_option(char *const argv[])
{
	static char buf[64];
	const char *arg = argv[optind - 1];

	if (!strncmp(arg, "--", 2))
		snprintf(buf, sizeof(buf), "%.*s", (int)strcspn(arg, "="), arg);
	else if (optopt)
		snprintf(buf, sizeof(buf), "-%c", optopt);
	else
		snprintf(buf, sizeof(buf), "%s", arg);
	return buf;
}

int mmapdemo_getopt(int argc, char *const argv[], const char *shortopts,
		    const struct option *longopts)
{
	char opts[64];
	int c;

	/* '+': stop at the first argument that is not an option; ':': report a missing value. */
	if ((size_t)snprintf(opts, sizeof(opts), "+:%s", shortopts) >= sizeof(opts))
		mmapdemo_fail("mmapdemo_getopt: option string too long");
	opterr = 0;
	c = getopt_long(argc, argv, opts, longopts, NULL);
	switch (c) {
	case 'h':
		if (prog_usage)
			fputs(prog_usage, stdout);
		exit(0);
	case ':':
		mmapdemo_usage_error(mmapdemo_prog(), "option '%s' needs a value",
				     bad_option(argv));
	case '?':
		/* optopt is the option's own character for "--flag=value". */
		if (optopt && !strncmp(argv[optind - 1], "--", 2))
			mmapdemo_usage_error(mmapdemo_prog(), "option '%s' takes no value",
					     bad_option(argv));
		mmapdemo_usage_error(mmapdemo_prog(), "unknown option '%s'", bad_option(argv));
	case -1:
		if (optind < argc)
			mmapdemo_usage_error(mmapdemo_prog(), "unexpected argument '%s'",
					     argv[optind]);
		break;
	}
	return c;
}

uint64_t mmapdemo_parse_u64(const char *opt, const char *arg, uint64_t min, uint64_t max)
{
	bool hex = arg[0] == '0' && (arg[1] == 'x' || arg[1] == 'X');
	const char *digits = hex ? arg + 2 : arg;
	unsigned long long v = 0;
	char *end = NULL;

	/* strtoull() would take blanks, a sign and octal: only digits here. */
	if (hex ? isxdigit((unsigned char)*digits) : isdigit((unsigned char)*digits)) {
		errno = 0;
		v = strtoull(digits, &end, hex ? 16 : 10);
		if (!errno && !*end && v >= min && v <= max)
			return v;
	}
	if (max == UINT64_MAX && !min)
		mmapdemo_usage_error(mmapdemo_prog(), "%s: '%s' is not a number", opt, arg);
	if (max == UINT64_MAX)
		mmapdemo_usage_error(mmapdemo_prog(), "%s: '%s' is not a number of at least %llu",
				     opt, arg, (unsigned long long)min);
	mmapdemo_usage_error(mmapdemo_prog(), "%s: '%s' is not a number from %llu to %llu", opt,
			     arg, (unsigned long long)min, (unsigned long long)max);
}

unsigned int mmapdemo_parse_modes(const char *opt, const char *arg, unsigned int allowed)
{
	const char *all = __builtin_popcount(allowed) == 2 ? "both" : "all";
	char names[128] = "";
	size_t len = 0;
	uint64_t m;

	if (!strcmp(arg, all))
		return allowed;
	if (!mmapdemo_mode_parse(arg, &m) && (allowed & MMAPDEMO_MODE_BIT(m)))
		return MMAPDEMO_MODE_BIT(m);
	for (m = 0; m < MMAPDEMO_NR_MODES; m++)
		if (allowed & MMAPDEMO_MODE_BIT(m))
			len += snprintf(names + len, sizeof(names) - len, "%s, ", mode_names[m]);
	if (len >= 2)
		names[len - 2] = '\0';
	mmapdemo_usage_error(mmapdemo_prog(), "%s: '%s' is not %s or %s", opt, arg, names, all);
}

void mmapdemo_xset_mode(int fd, uint64_t mode)
{
	const char *name = mmapdemo_mode_name(mode);

	if (mmapdemo_set_mode(fd, mode, 0))
		mmapdemo_die("MMAPDEMO_IOC_SET_MODE %s", name ? name : "?");
}

void mmapdemo_xget_stats(int fd, struct mmapdemo_stats *stats)
{
	if (mmapdemo_get_stats(fd, stats))
		mmapdemo_die("MMAPDEMO_IOC_GET_STATS");
}

void *mmapdemo_xmmap(size_t len, int prot, int flags, int fd, off_t off, const char *what)
{
	void *p = mmap(NULL, len, prot, flags, fd, off);

	if (p == MAP_FAILED)
		mmapdemo_die("mmap of %s (%zu bytes at offset %lld)", what, len, (long long)off);
	return p;
}

void mmapdemo_xmunmap(void *addr, size_t len)
{
	if (munmap(addr, len))
		mmapdemo_die("munmap");
}

pid_t mmapdemo_fork(void)
{
	fflush(stdout);
	fflush(stderr);
	return fork();
}

uint64_t mmapdemo_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

const char *mmapdemo_tmpdir(void)
{
	const char *dir = getenv("TMPDIR");

	return dir && *dir ? dir : "/tmp";
}

static char tmp_path[PATH_MAX];
static pid_t tmp_owner;

int mmapdemo_tmpfile_remove(void)
{
	/* Only the process that made it: not a forked child on its way out. */
	if (!tmp_path[0] || tmp_owner != getpid())
		return 0;
	if (unlink(tmp_path))
		return -1;
	tmp_path[0] = '\0';
	return 0;
}

static void tmpfile_at_exit(void)
{
	mmapdemo_tmpfile_remove();
}

int mmapdemo_tmpfile(char *path, size_t size)
{
	static bool registered;
	int fd;

	snprintf(tmp_path, sizeof(tmp_path), "%s/%s.XXXXXX", mmapdemo_tmpdir(), mmapdemo_prog());
	fd = mkostemp(tmp_path, O_CLOEXEC);
	if (fd < 0) {
		tmp_path[0] = '\0';
		mmapdemo_die("temporary file in %s (set TMPDIR?)", mmapdemo_tmpdir());
	}
	tmp_owner = getpid();
	if (!registered && !atexit(tmpfile_at_exit))
		registered = true;
	snprintf(path, size, "%s", tmp_path);
	return fd;
}

int mmapdemo_demo_open(struct mmapdemo_info *info)
{
	int fd = mmapdemo_open(O_RDWR);

	if (fd < 0)
		mmapdemo_fail("open %s: %s (is mmapdemo.ko loaded?)", MMAPDEMO_DEV_PATH,
			      strerror(errno));
	if (mmapdemo_get_info(fd, info))
		mmapdemo_die("MMAPDEMO_IOC_GET_INFO");
	if (info->page_size != mmapdemo_page_size())
		mmapdemo_fail("the device's page size %llu is not this process's %zu",
			      (unsigned long long)info->page_size, mmapdemo_page_size());
	return fd;
}

int mmapdemo_step(const char *fmt, ...)
{
	va_list ap;

	printf("\n%d. ", ++step_no);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	return step_no;
}

void mmapdemo_doing(const char *fmt, ...)
{
	va_list ap;

	fputs("  doing: ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

void mmapdemo_restart_steps(void)
{
	step_no = 0;
}

void mmapdemo_print_wrapped(const char *first, const char *text)
{
	int indent = (int)strlen(first), col = indent, len;

	fputs(first, stdout);
	text += strspn(text, " ");
	while (*text) {
		len = (int)strcspn(text, " ");
		if (col > indent && col + 1 + len > 78) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (col > indent) {
			putchar(' ');
			col++;
		}
		printf("%.*s", len, text);
		col += len;
		text += len;
		text += strspn(text, " ");
	}
	putchar('\n');
}

void mmapdemo_why(const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	mmapdemo_print_wrapped("  why: ", text);
}

int mmapdemo_nr_unexpected;

void mmapdemo_unexpected(const char *fmt, ...)
{
	va_list ap;

	printf("UNEXPECTED: %s", tag_prefix());
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	mmapdemo_nr_unexpected++;
}

int mmapdemo_finish(void)
{
	if (mmapdemo_nr_unexpected) {
		printf("\n%s: %d claim(s) did not hold, see the UNEXPECTED lines\n",
		       mmapdemo_prog(), mmapdemo_nr_unexpected);
		return 1;
	}
	printf("\n%s: every claim checked\n", mmapdemo_prog());
	return 0;
}
