// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-rw: read() vs mmap(), a short and honest comparison.
 *
 * The same bytes are read page by page from two targets: /dev/mmapdemo
 * (mapped in both modes, fault and remap) and a regular file of the same
 * size in $TMPDIR or /tmp, which lives in the page cache. Three methods:
 *
 *   pread     one pread() of one page per call into a user buffer
 *   mmap 1st  a fresh mmap(), the first touch of every page, munmap():
 *             includes every page fault the mapping needs
 *   mmap 2nd  a second pass over the same mapping: PTEs exist, no fault
 *
 * Every method reads every byte of every page (a checksum), in sequential
 * and in a fixed, seeded random page order. The demo counts syscalls
 * itself, minor faults with getrusage() and .fault calls with the
 * device's counters, and checks the counts (never the times). It is a
 * demo, not a benchmark: a handful of rounds, medians, and under TCG
 * emulation only the ratios within one run mean anything.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG		"mmapdemo-rw"
#define STR(x)		MMAPDEMO_STR(x)
#define DEFAULT_REPS	5
#define MAX_REPS	99
#define DEFAULT_SEED	42
/* Default cap: enough for steady ratios, short under TCG emulation. */
#define DEFAULT_CAP	4096
/* Pages shown by the page-state grids (one line). */
#define GRID_PAGES	64

static const char usage[] =
	"usage: " PROG " [--pages N] [--reps R] [--seed S] [--help]\n"
	"\n"
	"Reads the same bytes, one page at a time, through pread() and through\n"
	"mmap() from " MMAPDEMO_DEV_PATH " (mmap modes fault and remap) and from a\n"
	"regular file of the same size in $TMPDIR or /tmp, in sequential and in a\n"
	"seeded random page order, and prints a table: ns/page (median of R rounds,\n"
	"min-max), syscalls, minor faults and device .fault calls per page. Then it\n"
	"interprets the numbers of this run. Counts are checked, times never.\n"
	"\n"
	"  -p, --pages N   use the first N pages of the buffer (default: all of it,\n"
	"                  at most " STR(DEFAULT_CAP) ")\n"
	"  -r, --reps R    rounds per row, 1.." STR(MAX_REPS) " (default " STR(DEFAULT_REPS) ")\n"
	"  -s, --seed S    seed of the random page order (default " STR(DEFAULT_SEED) ")\n"
	"  -h, --help      this text\n"
	"\n"
	"Load mmapdemo.ko first (pages=1024 gives steadier numbers than the default\n"
	"16). The buffer's content is overwritten during the run and restored at the\n"
	"end; the temporary file is removed.\n";

/* One measured pass: what it cost and what it read. */
struct sample {
	uint64_t ns;
	long calls;	/* syscalls this program made */
	long minflt;	/* getrusage() minor faults */
	long faults;	/* the device's .fault calls (module-wide counter) */
	uint64_t sum;	/* checksum of the bytes read */
};

enum target { T_DEV, T_FAULT, T_REMAP, T_FILE };
enum method { M_PREAD, M_MMAP1, M_MMAP2 };
enum pattern { P_SEQ, P_RAND, NR_PATTERNS };

/* One row of the table: its rounds and the checks its counts must pass. */
struct row {
	enum target target;
	enum method method;
	enum pattern pattern;
	uint64_t *ns;			/* ns per round */
	long calls, minflt, faults;	/* totals over the rounds */
	long min[3], max[3];		/* per round: calls, minflt, faults */
	int rounds;
	bool flagged;			/* an UNEXPECTED line was printed */
};

static const char *const target_name[] = {
	[T_DEV] = "device", [T_FAULT] = "dev/fault", [T_REMAP] = "dev/remap", [T_FILE] = "file",
};

static const char *const method_name[] = {
	[M_PREAD] = "pread", [M_MMAP1] = "mmap 1st", [M_MMAP2] = "mmap 2nd",
};

static const char *const pattern_name[] = { [P_SEQ] = "seq", [P_RAND] = "random" };

static int dev_fd = -1, file_fd = -1;
static char file_path[PATH_MAX];
static size_t ps, npages, words;
static uint64_t orig_mode = MMAPDEMO_MODE_FAULT;
static bool mode_changed;
static void *saved;			/* the buffer's content before the run */
static uint64_t *page_buf;		/* pread() target, one page */
static size_t *order[NR_PATTERNS];	/* page visiting orders */
static uint64_t expected_sum;

#define NR_ROWS 16
static struct row rows[NR_ROWS];

/* Put the buffer and the mode back: also on exit(1). (The file goes by itself.) */
static void cleanup(void)
{
	if (dev_fd >= 0) {
		if (saved && pwrite(dev_fd, saved, npages * ps, 0) != (ssize_t)(npages * ps))
			mmapdemo_error("could not restore the buffer's content");
		if (mode_changed && mmapdemo_set_mode(dev_fd, orig_mode, 0))
			mmapdemo_error("could not restore the file's mode");
		close(dev_fd);
	}
	if (file_fd >= 0)
		close(file_fd);
}

/* splitmix64: a tiny PRNG, so that a seed gives the same order everywhere. */
static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The content of 64-bit word @w of page @p: different in every word. */
static uint64_t pattern_word(size_t p, size_t w)
{
	uint64_t state = (uint64_t)p * words + w;

	return splitmix64(&state);
}

/* Read every word of a page: what "using the data" costs. */
static uint64_t __attribute__((noinline)) page_sum(const uint64_t *p)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < words; i++)
		sum += p[i];
	return sum;
}

/* Checksum of the visit of page @index: catches a wrong page, not only wrong bytes. */
static uint64_t visit(const void *page, size_t index)
{
	return page_sum(page) * (index + 1);
}

/* Visit pages ord[0..count) of mapping @m. */
static uint64_t visit_mapping(const char *m, const size_t *ord, size_t count)
{
	uint64_t sum = 0;
	size_t j;

	for (j = 0; j < count; j++)
		sum += visit(m + ord[j] * ps, ord[j]);
	return sum;
}

static long device_faults(void)
{
	static struct mmapdemo_stats st;	/* static: no stack page faults in */

	mmapdemo_xget_stats(dev_fd, &st);
	return (long)st.faults;
}

static void set_mode(uint64_t mode)
{
	mmapdemo_xset_mode(dev_fd, mode);
	mode_changed = true;
}

/* One pread() pass over the pages in order @ord: one page per call. */
static void pass_pread(int fd, const size_t *ord, struct sample *s)
{
	long calls = 0, flt0, dev0;
	uint64_t sum = 0, t0, t1;
	size_t j, done;
	ssize_t n;

	flt0 = mmapdemo_minflt();
	dev0 = device_faults();
	t0 = mmapdemo_now_ns();
	for (j = 0; j < npages; j++) {
		for (done = 0; done < ps; done += n) {
			n = pread(fd, (char *)page_buf + done, ps - done,
				  (off_t)(ord[j] * ps + done));
			calls++;
			if (n <= 0) {
				if (!n)
					errno = EIO;
				mmapdemo_die("pread");
			}
		}
		sum += visit(page_buf, ord[j]);
	}
	t1 = mmapdemo_now_ns();
	s->ns = t1 - t0;
	s->calls = calls;
	s->minflt = mmapdemo_minflt() - flt0;
	s->faults = device_faults() - dev0;
	s->sum = sum;
}

/*
 * A fresh mapping of @fd: mmap() + first pass (@first, munmap() added to
 * its time), then a second pass over the same mapping (@second).
 */
static void pass_mmap(int fd, const size_t *ord, struct sample *first, struct sample *second)
{
	uint64_t t0, t1, t2, t3, t4, t5, sum1, sum2;
	long flt0, flt1, flt2, dev0, dev1, dev2;
	void *m;

	flt0 = mmapdemo_minflt();
	dev0 = device_faults();
	t0 = mmapdemo_now_ns();
	m = mmap(NULL, npages * ps, PROT_READ, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		mmapdemo_die("mmap");
	sum1 = visit_mapping(m, ord, npages);
	t1 = mmapdemo_now_ns();
	flt1 = mmapdemo_minflt();
	dev1 = device_faults();
	t2 = mmapdemo_now_ns();
	sum2 = visit_mapping(m, ord, npages);
	t3 = mmapdemo_now_ns();
	flt2 = mmapdemo_minflt();
	dev2 = device_faults();
	t4 = mmapdemo_now_ns();
	if (munmap(m, npages * ps))
		mmapdemo_die("munmap");
	t5 = mmapdemo_now_ns();

	first->ns = (t1 - t0) + (t5 - t4);
	first->calls = 2;		/* mmap() and munmap() */
	first->minflt = flt1 - flt0;
	first->faults = dev1 - dev0;
	first->sum = sum1;
	second->ns = t3 - t2;
	second->calls = 0;
	second->minflt = flt2 - flt1;
	second->faults = dev2 - dev1;
	second->sum = sum2;
}

static const char *fs_name(long type)
{
	switch (type) {
	case TMPFS_MAGIC:	return "tmpfs";
	case RAMFS_MAGIC:	return "ramfs";
	case EXT4_SUPER_MAGIC:	return "ext2/3/4";
	case BTRFS_SUPER_MAGIC:	return "btrfs";
	case XFS_SUPER_MAGIC:	return "xfs";
	default:		return NULL;
	}
}

/* Optional hint: are we in a VM, and an emulated one? */
static void print_cpu_hint(void)
{
	char line[4096], model[256] = "";
	bool hv = false;
	FILE *f;

	f = fopen("/proc/cpuinfo", "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (!model[0] && !strncmp(line, "model name", 10) && strchr(line, ':'))
			snprintf(model, sizeof(model), "%s", strchr(line, ':') + 2);
		if (!strncmp(line, "flags", 5) && strstr(line, " hypervisor"))
			hv = true;
		if (!strcmp(line, "\n"))
			break;		/* the first CPU is enough */
	}
	fclose(f);
	model[strcspn(model, "\n")] = '\0';
	printf("  cpu: %s%s\n", model[0] ? model : "?",
	       strstr(model, "TCG") ? " (QEMU software emulation: TCG)" :
	       hv ? " (cpuinfo flag 'hypervisor': a virtual machine)" : "");
}

static void show_maps(const void *addr)
{
	char line[512], flags[256];

	if (mmapdemo_maps_line(addr, line, sizeof(line)) == 0)
		printf("  /proc/self/maps: %s\n", line);
	if (mmapdemo_smaps_vmflags(addr, flags, sizeof(flags)) == 0)
		printf("  smaps VmFlags: %s, Rss %ld kB\n", flags, mmapdemo_smaps_kb(addr, "Rss"));
}

static void grid(const void *m, int fd)
{
	if (mmapdemo_is_pfnmap(m)) {	/* no grid, the library says why */
		mmapdemo_print_grid(stdout, fd, m, npages, 0);
		return;
	}
	mmapdemo_print_grid(stdout, fd, m, npages < GRID_PAGES ? npages : GRID_PAGES, 0);
	if (npages > GRID_PAGES)
		printf("  (first %d of %zu pages shown)\n", GRID_PAGES, npages);
}

/* ------------------------------------------------------------ the steps */

static void step_setup(uint64_t seed)
{
	uint64_t state = seed;
	struct statfs sfs;
	size_t p, w, i, j, tmp;
	const char *fs;
	long resident;
	void *m;

	mmapdemo_step("Two targets with the same bytes, both already in RAM");
	mmapdemo_doing("save the buffer's first %zu pages, write() a pattern into them,\n"
		       "         and write the same pattern into a new file in %s", npages,
		       mmapdemo_tmpdir());
	saved = malloc(npages * ps);
	if (!saved)
		mmapdemo_die("malloc");
	if (pread(dev_fd, saved, npages * ps, 0) != (ssize_t)(npages * ps))
		mmapdemo_die("read the buffer");
	file_fd = mmapdemo_tmpfile(file_path, sizeof(file_path));
	for (p = 0; p < npages; p++) {
		for (w = 0; w < words; w++)
			page_buf[w] = pattern_word(p, w);
		expected_sum += visit(page_buf, p);
		if (pwrite(dev_fd, page_buf, ps, (off_t)(p * ps)) != (ssize_t)ps)
			mmapdemo_die("write the buffer");
		if (pwrite(file_fd, page_buf, ps, (off_t)(p * ps)) != (ssize_t)ps)
			mmapdemo_die("write the file");
	}
	fs = fstatfs(file_fd, &sfs) ? NULL : fs_name(sfs.f_type);
	printf("  file: %s (%zu bytes, on %s)\n", file_path, npages * ps,
	       fs ? fs : "a disk filesystem");

	/* mincore() of a file mapping reports the page cache, even without PTEs. */
	m = mmapdemo_xmmap(npages * ps, PROT_READ, MAP_SHARED, file_fd, 0, "the file");
	resident = mmapdemo_mincore_count(m, npages);
	printf("  mincore() of a fresh file mapping: %ld of %zu pages in the page cache; pagemap: %ld present\n",
	       resident, npages, mmapdemo_pagemap_present(m, npages));
	mmapdemo_xmunmap(m, npages * ps);
	if (resident != (long)npages)
		printf("  (not all cached: the file's first touch may include disk reads)\n");

	for (i = 0; i < NR_PATTERNS; i++) {
		order[i] = malloc(npages * sizeof(*order[i]));
		if (!order[i])
			mmapdemo_die("malloc");
		for (p = 0; p < npages; p++)
			order[i][p] = p;
	}
	/* Fisher-Yates shuffle; the modulo bias is irrelevant here. */
	for (i = npages - 1; i > 0; i--) {
		j = splitmix64(&state) % (i + 1);
		tmp = order[P_RAND][i];
		order[P_RAND][i] = order[P_RAND][j];
		order[P_RAND][j] = tmp;
	}
	printf("  random order: seed %llu (--seed), pages", (unsigned long long)seed);
	for (p = 0; p < npages && p < 8; p++)
		printf(" %zu", order[P_RAND][p]);
	printf("%s\n", npages > 8 ? " ..." : "");
	mmapdemo_why("both hold the same bytes, already in RAM: this measures the access path, not a disk.");
}

/* Run one untimed round of everything on the file: faults in our own code. */
static void warm_up(void)
{
	struct sample a, b;

	pass_pread(file_fd, order[P_SEQ], &a);
	pass_mmap(file_fd, order[P_SEQ], &a, &b);
	set_mode(MMAPDEMO_MODE_FAULT);
	pass_mmap(dev_fd, order[P_SEQ], &a, &b);
}

static void check_sum(const char *what, const struct sample *s)
{
	if (s->sum != expected_sum)
		mmapdemo_unexpected("%s read other bytes than were written (checksum %#llx, expected %#llx)",
				    what, (unsigned long long)s->sum, (unsigned long long)expected_sum);
}

static void step_pread(void)
{
	struct sample dev, file;

	mmapdemo_step("read(): pread() one page per call into a user buffer");
	mmapdemo_doing("pread() all %zu pages of the device, then of the file, random order", npages);
	pass_pread(dev_fd, order[P_RAND], &dev);
	pass_pread(file_fd, order[P_RAND], &file);
	printf("  device: %ld syscalls, %ld minor faults, %ld .fault calls\n",
	       dev.calls, dev.minflt, dev.faults);
	printf("  file:   %ld syscalls, %ld minor faults\n", file.calls, file.minflt);
	check_sum("pread() of the device", &dev);
	check_sum("pread() of the file", &file);
	if (dev.calls != (long)npages || file.calls != (long)npages)
		mmapdemo_unexpected("pread() took %ld and %ld calls for %zu pages (short reads?)",
				    dev.calls, file.calls, npages);
	if (dev.minflt || file.minflt || dev.faults)
		mmapdemo_unexpected("pread() caused page faults (%ld, %ld minor, %ld .fault)",
				    dev.minflt, file.minflt, dev.faults);
	mmapdemo_why("each page costs a syscall and a copy into an already mapped buffer, never a fault.");
}

/*
 * One narrated round over a fresh mapping: a few pages of the random
 * order, then the rest, then a second pass. @mode is -1 for the file.
 */
static void step_mmap(int fd, int mode)
{
	size_t k = npages / 16 ? npages / 16 : 1;
	const size_t *ord = order[P_RAND];
	bool fault = mode == MMAPDEMO_MODE_FAULT, dev = mode >= 0;
	long flt0, dev0, flt, dflt;
	long present = 0;
	uint64_t sum;
	void *m;

	if (dev)
		mmapdemo_step("mmap() of the device in mode %s: %s", mmapdemo_mode_name(mode),
			      fault ? "demand paging through .fault" :
			      "every PTE written by remap_pfn_range() inside mmap()");
	else
		mmapdemo_step("mmap() of the file: page-cache pages, with fault-around");
	mmapdemo_doing("mmap(%zu pages, PROT_READ, MAP_SHARED) of the %s, read %zu of them in random order",
		       npages, dev ? "device" : "file", k);
	if (dev)
		set_mode(mode);
	flt0 = mmapdemo_minflt();
	dev0 = device_faults();
	m = mmapdemo_xmmap(npages * ps, PROT_READ, MAP_SHARED, fd, 0, dev ? "the device" : "the file");
	flt = mmapdemo_minflt() - flt0;
	dflt = device_faults() - dev0;
	show_maps(m);
	printf("  mmap() itself: %ld minor faults, %ld .fault calls\n", flt, dflt);
	if (flt || dflt)
		mmapdemo_unexpected("mmap() alone took %ld minor faults, %ld .fault calls", flt, dflt);

	flt0 = mmapdemo_minflt();
	dev0 = device_faults();
	sum = visit_mapping(m, ord, k);
	flt = mmapdemo_minflt() - flt0;
	dflt = device_faults() - dev0;
	if (mode == MMAPDEMO_MODE_REMAP) {
		printf("  read %zu page(s): %ld minor fault(s), %ld .fault call(s)\n", k, flt, dflt);
	} else {
		present = mmapdemo_pagemap_present(m, npages);
		printf("  read %zu page(s): %ld minor fault(s)", k, flt);
		if (dev)
			printf(", %ld .fault call(s)", dflt);
		printf("; pagemap now shows %ld of %zu pages present\n", present, npages);
	}
	if (fault && (flt != (long)k || dflt != (long)k || present != (long)k))
		mmapdemo_unexpected("fault mode: %zu pages read, %ld minor faults, %ld .fault calls, %ld present",
				    k, flt, dflt, present);
	if (mode == MMAPDEMO_MODE_REMAP && (flt || dflt))
		mmapdemo_unexpected("remap mode: reading took %ld minor faults, %ld .fault calls",
				    flt, dflt);
	grid(m, dev ? dev_fd : -1);
	if (!dev)
		printf("  (for the file, S is a page of its page cache)\n");

	mmapdemo_doing("read the other %zu pages, then all %zu again (second pass)", npages - k,
		       npages);
	flt0 = mmapdemo_minflt();
	dev0 = device_faults();
	sum += visit_mapping(m, ord + k, npages - k);
	flt = mmapdemo_minflt() - flt0;
	dflt = device_faults() - dev0;
	if (fault) {
		present = mmapdemo_pagemap_present(m, npages);
		printf("  rest: %ld minor faults, %ld .fault calls; pagemap %ld, mincore %ld of %zu pages present\n",
		       flt, dflt, present, mmapdemo_mincore_count(m, npages), npages);
		if (flt != (long)(npages - k) || dflt != (long)(npages - k) ||
		    present != (long)npages)
			mmapdemo_unexpected("fault mode: %zu more pages read, %ld minor faults, %ld .fault calls, %ld present",
					    npages - k, flt, dflt, present);
	} else if (dev) {
		printf("  rest: %ld minor faults, %ld .fault calls (pagemap and mincore cannot see VM_PFNMAP\n"
		       "  pages: these counters are the evidence)\n", flt, dflt);
		if (flt || dflt)
			mmapdemo_unexpected("remap mode: reading took %ld minor faults, %ld .fault calls",
					    flt, dflt);
	} else {
		printf("  rest: %ld minor faults; pagemap %ld of %zu pages present\n", flt,
		       mmapdemo_pagemap_present(m, npages), npages);
		if (dflt)
			mmapdemo_unexpected("the file: reading took %ld .fault calls", dflt);
	}
	if (sum != expected_sum)
		mmapdemo_unexpected("the mapping shows other bytes than were written");
	flt0 = mmapdemo_minflt();
	dev0 = device_faults();
	sum = visit_mapping(m, ord, npages);
	flt = mmapdemo_minflt() - flt0;
	dflt = device_faults() - dev0;
	printf("  second pass: %ld minor faults, %ld .fault calls\n", flt, dflt);
	if (flt || dflt)
		mmapdemo_unexpected("the second pass took %ld minor faults, %ld .fault calls", flt, dflt);
	if (mode != MMAPDEMO_MODE_REMAP)
		grid(m, dev ? dev_fd : -1);
	mmapdemo_xmunmap(m, npages * ps);
	if (fault)
		mmapdemo_why("each page traps into .fault once, on first touch; then its PTE exists and reads are loads.");
	else if (dev)
		mmapdemo_why("remap_pfn_range() filled all %zu PTEs inside mmap(): paid up front, no read faults.",
		       npages);
	else
		mmapdemo_why("a file fault maps the page and, by fault-around, the other cached pages of its aligned 16-page (64 KiB) window: few faults.");
}

static void record(struct row *r, const struct sample *s, int round)
{
	const char *tn = target_name[r->target], *mn = method_name[r->method];
	const char *pn = pattern_name[r->pattern];
	long v[3] = { s->calls, s->minflt, s->faults };
	bool dev = r->target != T_FILE, bad = false;
	int i;

	r->ns[r->rounds++] = s->ns;
	r->calls += s->calls;
	r->minflt += s->minflt;
	r->faults += s->faults;
	for (i = 0; i < 3; i++) {
		if (round == 0 || v[i] < r->min[i])
			r->min[i] = v[i];
		if (round == 0 || v[i] > r->max[i])
			r->max[i] = v[i];
	}
	if (s->sum != expected_sum)
		bad = true;
	switch (r->method) {
	case M_PREAD:
		bad |= s->calls != (long)npages || s->minflt || (dev && s->faults);
		break;
	case M_MMAP1:
		if (r->target == T_FAULT)
			bad |= s->faults != (long)npages || s->minflt != (long)npages;
		if (r->target == T_REMAP)
			bad |= s->faults || s->minflt;
		break;
	case M_MMAP2:
		bad |= s->minflt || (dev && s->faults);
		break;
	}
	if (bad && !r->flagged) {
		mmapdemo_unexpected("%s %s %s, round %d: %ld syscalls, %ld minor faults, %ld .fault calls for %zu pages%s",
				    tn, mn, pn, round + 1, s->calls, s->minflt, s->faults, npages,
				    s->sum != expected_sum ? ", wrong checksum" : "");
		r->flagged = true;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median, min and max in ns per page; sorts r->ns. */
static double row_ns(struct row *r, double *min, double *max)
{
	uint64_t *v = r->ns;
	int n = r->rounds;
	double med;

	qsort(v, n, sizeof(*v), cmp_u64);
	med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
	if (min)
		*min = (double)v[0] / npages;
	if (max)
		*max = (double)v[n - 1] / npages;
	return med / npages;
}

static struct row *find_row(enum target t, enum method m, enum pattern p)
{
	int i;

	for (i = 0; i < NR_ROWS; i++)
		if (rows[i].target == t && rows[i].method == m && rows[i].pattern == p)
			return &rows[i];
	return NULL;
}

/* "16" when every round counted 16, "15-16" otherwise; over both patterns. */
static const char *count_range(enum target t, enum method m, int what, char *buf, size_t size,
			       bool *all_equal_to, long value)
{
	struct row *a = find_row(t, m, P_SEQ), *b = find_row(t, m, P_RAND);
	long lo = a->min[what] < b->min[what] ? a->min[what] : b->min[what];
	long hi = a->max[what] > b->max[what] ? a->max[what] : b->max[what];

	if (lo == hi)
		snprintf(buf, size, "%ld", lo);
	else
		snprintf(buf, size, "%ld-%ld", lo, hi);
	if (all_equal_to)
		*all_equal_to = lo == hi && lo == value;
	return buf;
}

static void step_measure(int reps)
{
	struct sample a, b;
	struct row *r;
	int round, i, p;

	mmapdemo_step("The measurement: %d round%s, every row once per round", reps,
		      reps == 1 ? "" : "s");
	mmapdemo_doing("per round and order, pread() the device, mmap() it in mode fault and in mode remap,\n"
		       "         pread() the file, mmap() the file; clock_gettime(CLOCK_MONOTONIC) around each pass");
	i = 0;
	for (p = 0; p < NR_PATTERNS; p++) {
		static const struct { enum target t; enum method m; } layout[8] = {
			{ T_DEV, M_PREAD }, { T_FAULT, M_MMAP1 }, { T_FAULT, M_MMAP2 },
			{ T_REMAP, M_MMAP1 }, { T_REMAP, M_MMAP2 }, { T_FILE, M_PREAD },
			{ T_FILE, M_MMAP1 }, { T_FILE, M_MMAP2 },
		};
		int l;

		for (l = 0; l < 8; l++, i++) {
			rows[i].target = layout[l].t;
			rows[i].method = layout[l].m;
			rows[i].pattern = p;
			rows[i].ns = calloc(reps, sizeof(uint64_t));
			if (!rows[i].ns)
				mmapdemo_die("calloc");
		}
	}
	for (round = 0; round < reps; round++) {
		for (p = 0; p < NR_PATTERNS; p++) {
			pass_pread(dev_fd, order[p], &a);
			record(find_row(T_DEV, M_PREAD, p), &a, round);
			set_mode(MMAPDEMO_MODE_FAULT);
			pass_mmap(dev_fd, order[p], &a, &b);
			record(find_row(T_FAULT, M_MMAP1, p), &a, round);
			record(find_row(T_FAULT, M_MMAP2, p), &b, round);
			set_mode(MMAPDEMO_MODE_REMAP);
			pass_mmap(dev_fd, order[p], &a, &b);
			record(find_row(T_REMAP, M_MMAP1, p), &a, round);
			record(find_row(T_REMAP, M_MMAP2, p), &b, round);
			pass_pread(file_fd, order[p], &a);
			record(find_row(T_FILE, M_PREAD, p), &a, round);
			pass_mmap(file_fd, order[p], &a, &b);
			record(find_row(T_FILE, M_MMAP1, p), &a, round);
			record(find_row(T_FILE, M_MMAP2, p), &b, round);
		}
	}

	printf("\n  %-10s %-9s %-7s %9s  %-21s %9s %8s %8s\n", "target", "method", "order",
	       "ns/page", "(min-max)", "syscalls", "minflt", ".fault");
	for (p = 0; p < NR_PATTERNS; p++) {
		for (i = 0; i < NR_ROWS; i++) {
			double med, lo, hi, div;
			char spread[48], fl[16];

			r = &rows[i];
			if (r->pattern != (enum pattern)p)
				continue;
			div = (double)r->rounds * npages;
			med = row_ns(r, &lo, &hi);
			snprintf(spread, sizeof(spread), "(%.0f-%.0f)", lo, hi);
			if (r->target == T_FILE)
				snprintf(fl, sizeof(fl), "-");
			else
				snprintf(fl, sizeof(fl), "%.3f", r->faults / div);
			printf("  %-10s %-9s %-7s %9.0f  %-21s %9.3f %8.3f %8s\n",
			       target_name[r->target], method_name[r->method],
			       pattern_name[r->pattern], med, spread, r->calls / div,
			       r->minflt / div, fl);
		}
	}
	printf("  (per page, %zu pages, %d round(s); ns: median (min-max); .fault: device counter, - for the file)\n",
	       npages, reps);
	printf("  (mmap 1st = mmap() + first read of every page + munmap(); every method reads every byte)\n");
}

/* The counts, over every round and both orders: the lines tests can grep. */
static void step_counts(void)
{
	char a[32], b[32], c[32];
	bool one_a, one_b, zero_a, zero_b, zero_c;

	printf("  counts over all rounds and both orders:\n");
	count_range(T_DEV, M_PREAD, 0, a, sizeof(a), &one_a, (long)npages);
	count_range(T_DEV, M_PREAD, 1, b, sizeof(b), &zero_b, 0);
	printf("  pread() on the device: %s syscalls for %zu pages%s, %s minor faults\n", a, npages,
	       one_a ? " (one per page, no short read)" : "", b);
	count_range(T_FAULT, M_MMAP1, 2, a, sizeof(a), &one_a, (long)npages);
	count_range(T_FAULT, M_MMAP1, 1, b, sizeof(b), &one_b, (long)npages);
	printf("  fault mode, first touch: %s .fault calls and %s minor faults for %zu pages%s\n",
	       a, b, npages, one_a && one_b ? ": one per page" : "");
	count_range(T_REMAP, M_MMAP1, 2, a, sizeof(a), &zero_a, 0);
	count_range(T_REMAP, M_MMAP1, 1, b, sizeof(b), &zero_b, 0);
	printf("  remap mode, first touch: %s .fault calls and %s minor faults for %zu pages%s\n",
	       a, b, npages, zero_a && zero_b ? ": none at all" : "");
	count_range(T_FAULT, M_MMAP2, 1, a, sizeof(a), &zero_a, 0);
	count_range(T_REMAP, M_MMAP2, 1, b, sizeof(b), &zero_b, 0);
	count_range(T_FILE, M_MMAP2, 1, c, sizeof(c), &zero_c, 0);
	printf("  second pass: %s, %s and %s minor faults (fault, remap, file)%s\n", a, b, c,
	       zero_a && zero_b && zero_c ? ": no fault at all" : "");
	count_range(T_FILE, M_MMAP1, 1, a, sizeof(a), NULL, 0);
	printf("  file, first touch: %s minor faults for %zu pages\n", a, npages);
}

/*
 * "3.2 times faster than" / "1.5 times slower than" for cost @x against
 * cost @y; within 25% "about as fast as": no more than noise here.
 */
static const char *compare(double x, double y, char *buf, size_t size)
{
	if (x <= 0 || y <= 0)
		snprintf(buf, size, "not comparable with");
	else if (x < 1.25 * y && y < 1.25 * x)
		snprintf(buf, size, "about as fast as");
	else if (x <= y)
		snprintf(buf, size, "%.1f times faster than", y / x);
	else
		snprintf(buf, size, "%.1f times slower than", x / y);
	return buf;
}

static void step_interpret(void)
{
	double pr = row_ns(find_row(T_DEV, M_PREAD, P_SEQ), NULL, NULL);
	double pr_rand = row_ns(find_row(T_DEV, M_PREAD, P_RAND), NULL, NULL);
	double f1 = row_ns(find_row(T_FAULT, M_MMAP1, P_SEQ), NULL, NULL);
	double f2 = row_ns(find_row(T_FAULT, M_MMAP2, P_SEQ), NULL, NULL);
	double f1_rand = row_ns(find_row(T_FAULT, M_MMAP1, P_RAND), NULL, NULL);
	double r1 = row_ns(find_row(T_REMAP, M_MMAP1, P_SEQ), NULL, NULL);
	double fp = row_ns(find_row(T_FILE, M_PREAD, P_SEQ), NULL, NULL);
	double fm1 = row_ns(find_row(T_FILE, M_MMAP1, P_SEQ), NULL, NULL);
	struct row *fr = find_row(T_FILE, M_MMAP1, P_SEQ);
	double file_flt = (double)fr->minflt / fr->rounds;
	struct row *ff = find_row(T_FAULT, M_MMAP1, P_SEQ);
	char c1[48], c2[48], c3[48], c4[48];

	mmapdemo_step("What this run's numbers say (sequential order unless stated)");
	printf("  - The second pass over a device mapping was %s pread() (%.0f vs %.0f\n"
	       "    ns/page): no syscall and no copy, only loads through PTEs that already exist; it is\n"
	       "    the bare cost of reading %zu KiB, and pread() adds a syscall and a copy to that.\n",
	       compare(f2, pr, c1, sizeof(c1)), f2, pr, ps / 1024);
	printf("  - A fresh mapping cost %.0f ns/page in fault mode, where each page faulted once\n"
	       "    (%.4g .fault calls per round for %zu pages), and %.0f ns/page in remap mode (0 faults:\n"
	       "    mmap() wrote every PTE): the fault-mode first touch was %s pread(),\n"
	       "    the remap one %s pread().\n", f1, (double)ff->faults / ff->rounds, npages, r1,
	       compare(f1, pr, c2, sizeof(c2)), compare(r1, pr, c3, sizeof(c3)));
	printf("  - The file's first touch took %.4g minor fault%s per round for %zu pages",
	       file_flt, file_flt == 1 ? "" : "s", npages);
	if (file_flt > 0 && file_flt < npages)
		printf(" (one per %.3g\n"
		       "    pages: fault-around maps cached neighbours too, a plain .fault handler does not)",
		       npages / file_flt);
	printf(";\n"
	       "    it cost %.0f ns/page, against %.0f for pread() of the file (%.0f for the device).\n",
	       fm1, fp, pr);
	printf("  - Random order made pread() of the device %s sequential (%.0f vs %.0f\n"
	       "    ns/page) and the fault-mode first touch %s sequential (%.0f vs %.0f):\n"
	       "    everything is in RAM, there is no disk to seek.\n",
	       compare(pr_rand, pr, c4, sizeof(c4)), pr_rand, pr,
	       compare(f1_rand, f1, c1, sizeof(c1)), f1_rand, f1);
	printf("  Under emulation (QEMU TCG) absolute times are meaningless: compare only ratios within one run.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", required_argument, NULL, 'p' },
		{ "reps", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long long want_pages = 0, seed = DEFAULT_SEED;
	struct mmapdemo_info info;
	int reps = DEFAULT_REPS, c;

	mmapdemo_program(PROG, usage);
	while ((c = mmapdemo_getopt(argc, argv, "p:r:s:h", opts)) != -1) {
		if (c == 'p')
			want_pages = mmapdemo_parse_u64("--pages", optarg, 1, UINT64_MAX);
		else if (c == 'r')
			reps = (int)mmapdemo_parse_u64("--reps", optarg, 1, MAX_REPS);
		else
			seed = mmapdemo_parse_u64("--seed", optarg, 0, UINT64_MAX);
	}

	dev_fd = mmapdemo_demo_open(&info);
	atexit(cleanup);
	orig_mode = info.mode;
	ps = info.page_size;
	words = ps / sizeof(uint64_t);
	page_buf = aligned_alloc(ps, ps);
	if (!page_buf)
		mmapdemo_die("aligned_alloc");
	memset(page_buf, 0, ps);	/* fault it in now, not while counting */

	printf("mmapdemo-rw: read() vs mmap(), on %s and on a regular file\n", MMAPDEMO_DEV_PATH);
	mmapdemo_print_info(stdout, &info);
	print_cpu_hint();
	if (want_pages > info.pages) {
		printf("  --pages %llu is more than the buffer has: clamped to %llu\n", want_pages,
		       (unsigned long long)info.pages);
		npages = info.pages;
	} else if (want_pages) {
		npages = want_pages;
	} else if (info.pages > DEFAULT_CAP) {
		npages = DEFAULT_CAP;
		printf("  using the first %d of %llu pages (default cap, to keep the run short; --pages N for more)\n",
		       DEFAULT_CAP, (unsigned long long)info.pages);
	} else {
		npages = info.pages;
	}
	printf("  %zu pages, %d round%s per row\n", npages, reps, reps == 1 ? "" : "s");
	if (npages < 1024) {
		printf("  note: with %zu pages a pass takes only microseconds and the times are noisy; for steadier\n"
		       "  ratios %s (running anyway)\n", npages,
		       info.pages >= 1024 ? "use --pages 1024" :
		       "reload: rmmod mmapdemo; insmod mmapdemo.ko pages=1024");
	}

	step_setup(seed);
	warm_up();
	step_pread();
	step_mmap(dev_fd, MMAPDEMO_MODE_FAULT);
	step_mmap(dev_fd, MMAPDEMO_MODE_REMAP);
	step_mmap(file_fd, -1);
	step_measure(reps);
	step_counts();
	mmapdemo_why("counts are exact and checked; times vary from run to run and are not.");
	step_interpret();

	return mmapdemo_finish();
}
