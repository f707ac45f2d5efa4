// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-bench: what each mapping variant of /dev/mmapdemo costs, next
 * to the core-mm peers on the same kernel in the same run.
 *
 * Two tests:
 *
 *   map     for each size (1 MiB .. 1 GiB) and each subject: every device
 *           mode (MMAPDEMO_MODE_*), anonymous memory with and without
 *           MAP_POPULATE, a memfd (shmem) holding the same bytes as the
 *           device, and pread() from the device into a fresh user buffer:
 *           mmap() call cost, first touch per page (read, then write, each
 *           in a fresh mapping), faults per MiB (the device's faults and
 *           fault_pages counters, getrusage ru_minflt), a second pass
 *           streamed into a user buffer with memcpy() against a memcpy()
 *           between two anonymous buffers of the same size, munmap() cost.
 *   access  every page of a file-sized range once, sequentially (128 KiB
 *           per copy) and in random order (4 KiB per copy), through mmap()
 *           and through pread(), on the device, on a file in the page cache
 *           and on the same file made cold (POSIX_FADV_DONTNEED and
 *           drop_caches); a first pass (mmap() and munmap() included) and a
 *           second one over the same mapping or file (re-use).
 *
 * Every figure is the median of --reps rounds (rounds interleave the
 * subjects, so host noise spreads over all of them) with min and max. Under
 * TCG emulation only the ratios within one run mean anything: the header
 * says which accelerator ran the guest (--accel, default $MMAPDEMO_ACCEL).
 * Times are never judged; the data read back and the counters' consistency
 * are, and any contradiction stops the run with exit status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG		"mmapdemo-bench"
#define STR(x)		MMAPDEMO_STR(x)
#define MIB		(1024UL * 1024)
#define MAX_REPS	31
#define MAX_SIZES	16
#define DEFAULT_REPS	5
/* Rounds at most for sizes of 256 MiB and more (a full pass is slow). */
#define BIG_REPS	3
#define BIG_SIZE	(256 * MIB)
#define DEFAULT_FILE_MIB 64
#define SEQ_CHUNK	(128 * 1024)
#define FILE_NAME	"mmapdemo-bench.dat"
/* A cold file may keep this share of its pages resident (metadata races). */
#define COLD_SLACK	100

static const char usage[] =
	"usage: " PROG " [options]\n"
	"\n"
	"Measures every mapping variant of " MMAPDEMO_DEV_PATH " and the core-mm\n"
	"peers (anonymous memory with and without MAP_POPULATE, a memfd, pread())\n"
	"in one run: mmap() cost, first-touch cost per page, faults per MiB,\n"
	"second-pass streaming against memcpy(), munmap() cost, for sizes up to\n"
	"the device's buffer; then random vs sequential access through mmap() and\n"
	"pread() on the device and on a cached and a cold file. Prints a table and\n"
	"writes every figure (median, min, max of the rounds) to a CSV file.\n"
	"A mode the module does not have is reported as not available.\n"
	"\n"
	"  -s, --sizes LIST  sizes in MiB, comma-separated\n"
	"                    (default 1,4,16,64,256,1024; larger than the buffer: left out)\n"
	"  -r, --reps N      rounds per figure, 1.." STR(MAX_REPS) " (default " STR(DEFAULT_REPS)
	"; sizes >= 256 MiB\n"
	"                    at most " STR(BIG_REPS) ")\n"
	"  -d, --file-dir D  directory on a block-device filesystem for the access\n"
	"                    test's file (" FILE_NAME "; made if missing); without it\n"
	"                    the file targets are left out\n"
	"  -f, --file-mib N  size of that file and of the device range (default "
	STR(DEFAULT_FILE_MIB) ")\n"
	"  -q, --quick       sizes 1,4,16, 3 rounds, an 8 MiB file (a smoke run)\n"
	"  -o, --csv FILE    write the CSV there (default: none)\n"
	"  -a, --accel NAME  accelerator the guest runs under, for the header, e.g.\n"
	"                    \"tcg,cpu=max\" (default $MMAPDEMO_ACCEL, else \"unknown\")\n"
	"  -h, --help        this text\n"
	"\n"
	"Load mmapdemo.ko with a buffer as large as the largest size first\n"
	"(pages=262144 for 1 GiB); the buffer's content is overwritten. The cold\n"
	"file needs root (drop_caches). Exit status: 0, 1 when something read back\n"
	"was wrong or a call failed, 2 for bad options.\n";

/* ------------------------------------------------------------ helpers */

/* A correctness fact the figures rely on did not hold. */
#define BROKEN(...)	mmapdemo_fail("BROKEN: " __VA_ARGS__)

static size_t page_size;

/* The bytes every test writes and checks: one 64-bit word per offset. */
static inline uint64_t pat(uint64_t word)
{
	return (word * 0x9E3779B97F4A7C15ULL) ^ 0x6d6d617064656d6fULL;
}

static void fill_pattern(void *buf, size_t bytes, uint64_t first_word)
{
	uint64_t *w = buf;
	size_t i;

	for (i = 0; i < bytes / 8; i++)
		w[i] = pat(first_word + i);
}

/* Write the pattern to fd's first @bytes (device or file). */
static void write_pattern(int fd, size_t bytes, const char *what)
{
	static uint64_t chunk[MIB / 8];
	size_t off, n;
	ssize_t r;

	for (off = 0; off < bytes; off += n) {
		n = bytes - off < sizeof(chunk) ? bytes - off : sizeof(chunk);
		fill_pattern(chunk, n, off / 8);
		r = pwrite(fd, chunk, n, (off_t)off);
		if (r < 0)
			mmapdemo_die("pwrite %s at %zu", what, off);
		if (r != (ssize_t)n)
			mmapdemo_fail("pwrite %s at %zu: short write", what, off);
	}
}

/* pread() exactly @bytes, or die. */
static void pread_all(int fd, void *buf, size_t bytes, off_t off, const char *what)
{
	size_t done = 0;
	ssize_t r;

	while (done < bytes) {
		r = pread(fd, (char *)buf + done, bytes - done, off + (off_t)done);
		if (r < 0)
			mmapdemo_die("pread %s at %zu", what, (size_t)off + done);
		if (!r)
			mmapdemo_fail("pread %s at %zu: unexpected end of file", what,
				      (size_t)off + done);
		done += (size_t)r;
	}
}

/*
 * Check the first and last word of every page of a copy of the pattern
 * that started at byte @off; @anon: only the first word was written, the
 * rest is zero.
 */
static void check_copy(const void *buf, size_t bytes, size_t off, bool anon, const char *what)
{
	const uint64_t *w = buf;
	size_t pw = page_size / 8, i;

	for (i = 0; i < bytes / 8; i += pw) {
		uint64_t first = pat((off / 8) + i);
		uint64_t last = anon ? 0 : pat((off / 8) + i + pw - 1);

		if (w[i] != first || w[i + pw - 1] != last)
			BROKEN("%s: page %zu holds %#llx..%#llx, not %#llx..%#llx", what,
			       i / pw, (unsigned long long)w[i],
			       (unsigned long long)w[i + pw - 1],
			       (unsigned long long)first, (unsigned long long)last);
	}
}

/* A user buffer with every page present. */
static void *user_buffer(size_t bytes)
{
	void *p = mmapdemo_xmmap(bytes, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0, "a user buffer");

	memset(p, 0, bytes);
	return p;
}

static long minflt_self(void)
{
	long n = mmapdemo_minflt();	/* of this thread: the only one */

	if (n < 0)
		mmapdemo_die("getrusage");
	return n;
}

static int devfd;		/* read-write, for stats, pread and pwrite */

static void dev_reset(void)
{
	if (mmapdemo_reset_stats(devfd))
		mmapdemo_die("MMAPDEMO_IOC_RESET_STATS");
}

/* ------------------------------------------------------------ figures */

/* Rounds of one figure, then its summary. */
struct figure {
	double v[MAX_REPS];
	int n;
};

static void add(struct figure *f, double v)
{
	if (f->n < MAX_REPS && !isnan(v))
		f->v[f->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct summary {
	double median, min, max;
	int n;
};

static struct summary summarize(const struct figure *f)
{
	struct summary s = { NAN, NAN, NAN, f->n };
	double v[MAX_REPS];

	if (!f->n)
		return s;
	memcpy(v, f->v, sizeof(double) * (size_t)f->n);
	qsort(v, (size_t)f->n, sizeof(double), cmp_double);
	s.min = v[0];
	s.max = v[f->n - 1];
	s.median = f->n % 2 ? v[f->n / 2] : (v[f->n / 2 - 1] + v[f->n / 2]) / 2;
	return s;
}

static FILE *csv;

static void csv_row(const char *test, const char *subject, size_t bytes, const char *metric,
		    const struct figure *f, const char *note)
{
	struct summary s = summarize(f);

	if (!csv)
		return;
	if (!s.n)
		fprintf(csv, "%s,%s,%zu,%s,,,,0,%s\n", test, subject, bytes, metric, note);
	else
		fprintf(csv, "%s,%s,%zu,%s,%.6g,%.6g,%.6g,%d,%s\n", test, subject, bytes,
			metric, s.median, s.min, s.max, s.n, note);
}

/* ------------------------------------------------------------ subjects */

enum kind { K_DEV, K_ANON, K_POPULATE, K_MEMFD, K_PREAD };

struct subject {
	char name[24];
	enum kind kind;
	uint64_t mode;		/* K_DEV */
	int fd;			/* K_DEV: an open file in that mode; K_MEMFD: per size */
	int err;		/* K_DEV: errno that refused the mode, else 0 */
};

/* Map test metrics, in CSV and table order. */
enum metric {
	M_MMAP, M_RTOUCH, M_WTOUCH, M_FAULTS, M_FPAGES, M_MINFLT, M_MINFLT_W,
	M_STREAM, M_RATIO, M_MUNMAP, M_TOTAL, NR_METRICS
};

static const char *const metric_names[NR_METRICS] = {
	[M_MMAP] = "mmap_us",
	[M_RTOUCH] = "read_touch_ns_per_page",
	[M_WTOUCH] = "write_touch_ns_per_page",
	[M_FAULTS] = "dev_faults_per_mib",
	[M_FPAGES] = "dev_fault_pages_per_mib",
	[M_MINFLT] = "minflt_per_mib",
	[M_MINFLT_W] = "minflt_write_per_mib",
	[M_STREAM] = "stream_mb_s",
	[M_RATIO] = "stream_vs_memcpy",
	[M_MUNMAP] = "munmap_us",
	[M_TOTAL] = "map_touch_unmap_ns_per_page",
};

#define MAX_SUBJECTS	(MMAPDEMO_NR_MODES + 4)
static struct subject subjects[MAX_SUBJECTS];
static int nr_subjects;

static void __attribute__((noinline))
touch_read(const char *p, size_t pages, bool pattern, const char *what)
{
	size_t i, pw = page_size / 8;

	for (i = 0; i < pages; i++) {
		uint64_t v = *(const volatile uint64_t *)(p + i * page_size);

		if (v != (pattern ? pat(i * pw) : 0))
			BROKEN("%s: first touch of page %zu read %#llx", what, i,
			       (unsigned long long)v);
	}
}

static void __attribute__((noinline)) touch_write(char *p, size_t pages)
{
	size_t i, pw = page_size / 8;

	for (i = 0; i < pages; i++)
		*(volatile uint64_t *)(p + i * page_size) = pat(i * pw);
}

static int map_flags(const struct subject *s)
{
	switch (s->kind) {
	case K_ANON:
		return MAP_PRIVATE | MAP_ANONYMOUS;
	case K_POPULATE:
		return MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE;
	default:
		return MAP_SHARED;
	}
}

/*
 * The counters' facts the figures rely on, after a first read touch of
 * every page of a fresh mapping: lazy modes mapped every page by a fault
 * (fault_pages >= pages, and at least one page per fault), eager modes
 * took none. Exact counts are the selftests' business.
 */
static void check_counters(const struct subject *s, const struct mmapdemo_stats *st,
			   size_t pages)
{
	bool eager = s->mode == MMAPDEMO_MODE_REMAP || s->mode == MMAPDEMO_MODE_INSERT;

	if (st->mmaps != 1)
		BROKEN("%s: %llu device mmaps counted for one mmap()", s->name,
		       (unsigned long long)st->mmaps);
	if (eager ? st->faults || st->fault_pages :
		    st->fault_pages < pages || st->fault_pages < st->faults)
		BROKEN("%s: %llu faults mapped %llu pages for a first touch of %zu pages",
		       s->name, (unsigned long long)st->faults,
		       (unsigned long long)st->fault_pages, pages);
	if (st->huge_faults && s->mode != MMAPDEMO_MODE_HUGE)
		BROKEN("%s: %llu huge faults outside huge mode", s->name,
		       (unsigned long long)st->huge_faults);
}

/* One round of the map test for subject @s at @bytes; @dst: a user buffer. */
static void map_round(struct subject *s, size_t bytes, char *dst, struct figure fig[NR_METRICS])
{
	size_t pages = bytes / page_size;
	double mib = (double)bytes / MIB;
	int prot = PROT_READ | PROT_WRITE, fd = s->kind == K_DEV || s->kind == K_MEMFD ? s->fd : -1;
	bool anon = s->kind == K_ANON || s->kind == K_POPULATE;
	struct mmapdemo_stats st;
	uint64_t t0, t1, t2, t3;
	long f0, f1;
	char *p;

	if (s->kind == K_PREAD) {
		/* read() into a fresh buffer: its faults are part of the cost. */
		f0 = minflt_self();
		p = mmapdemo_xmmap(bytes, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "a read buffer");
		t0 = mmapdemo_now_ns();
		pread_all(devfd, p, bytes, 0, MMAPDEMO_DEV_PATH);
		t1 = mmapdemo_now_ns();
		f1 = minflt_self();
		check_copy(p, bytes, 0, false, "pread");
		add(&fig[M_RTOUCH], (double)(t1 - t0) / (double)pages);
		add(&fig[M_MINFLT], (double)(f1 - f0) / mib);
		t0 = mmapdemo_now_ns();
		if (pwrite(devfd, p, bytes, 0) != (ssize_t)bytes)
			mmapdemo_die("pwrite %s", MMAPDEMO_DEV_PATH);
		t1 = mmapdemo_now_ns();
		add(&fig[M_WTOUCH], (double)(t1 - t0) / (double)pages);
		memset(dst, 0, page_size);
		t0 = mmapdemo_now_ns();
		pread_all(devfd, dst, bytes, 0, MMAPDEMO_DEV_PATH);
		t1 = mmapdemo_now_ns();
		check_copy(dst, bytes, 0, false, "pread, second pass");
		add(&fig[M_STREAM], (double)bytes / (double)(t1 - t0) * 1e3);
		mmapdemo_xmunmap(p, bytes);
		return;
	}

	/* Run A: mmap, first read touch, munmap. */
	dev_reset();
	f0 = minflt_self();
	t0 = mmapdemo_now_ns();
	p = mmap(NULL, bytes, prot, map_flags(s), fd, 0);
	t1 = mmapdemo_now_ns();
	if (p == MAP_FAILED)
		mmapdemo_die("mmap %zu MiB, %s", bytes / MIB, s->name);
	touch_read(p, pages, !anon, s->name);
	t2 = mmapdemo_now_ns();
	f1 = minflt_self();
	mmapdemo_xget_stats(devfd, &st);
	mmapdemo_xmunmap(p, bytes);
	t3 = mmapdemo_now_ns();
	add(&fig[M_MMAP], (double)(t1 - t0) / 1e3);
	add(&fig[M_RTOUCH], (double)(t2 - t1) / (double)pages);
	add(&fig[M_MINFLT], (double)(f1 - f0) / mib);
	add(&fig[M_TOTAL], (double)(t3 - t0) / (double)pages);
	if (s->kind == K_DEV) {
		check_counters(s, &st, pages);
		add(&fig[M_FAULTS], (double)st.faults / mib);
		add(&fig[M_FPAGES], (double)st.fault_pages / mib);
	}

	/* Run B: mmap, first write touch, a streaming second pass, munmap. */
	p = mmapdemo_xmmap(bytes, prot, map_flags(s), fd, 0, s->name);
	f0 = minflt_self();
	t0 = mmapdemo_now_ns();
	touch_write(p, pages);
	t1 = mmapdemo_now_ns();
	f1 = minflt_self();
	memset(dst, 0, page_size);
	t2 = mmapdemo_now_ns();
	memcpy(dst, p, bytes);
	t3 = mmapdemo_now_ns();
	check_copy(dst, bytes, 0, anon, s->name);
	add(&fig[M_WTOUCH], (double)(t1 - t0) / (double)pages);
	add(&fig[M_MINFLT_W], (double)(f1 - f0) / mib);
	add(&fig[M_STREAM], (double)bytes / (double)(t3 - t2) * 1e3);
	t0 = mmapdemo_now_ns();
	mmapdemo_xmunmap(p, bytes);
	t1 = mmapdemo_now_ns();
	add(&fig[M_MUNMAP], (double)(t1 - t0) / 1e3);
}

static void add_subject(const char *name, enum kind kind, uint64_t mode)
{
	struct subject *s = &subjects[nr_subjects++];

	snprintf(s->name, sizeof(s->name), "%s", name);
	s->kind = kind;
	s->mode = mode;
	s->fd = -1;
}

/*
 * One subject per device mode (an open file set to it; a mode the module
 * refuses, at SET_MODE or at the first mmap(), is kept as not available)
 * and the peers.
 */
static void make_subjects(void)
{
	uint64_t mode;

	for (mode = 0; mode < MMAPDEMO_NR_MODES; mode++) {
		struct subject *s;
		void *p;

		add_subject(mmapdemo_mode_name(mode), K_DEV, mode);
		s = &subjects[nr_subjects - 1];
		s->fd = mmapdemo_open(O_RDWR);
		if (s->fd < 0)
			mmapdemo_die("open %s", MMAPDEMO_DEV_PATH);
		if (mmapdemo_set_mode(s->fd, mode, 0)) {
			s->err = errno;
		} else {
			p = mmap(NULL, page_size, PROT_READ, MAP_SHARED, s->fd, 0);
			if (p == MAP_FAILED)
				s->err = errno;
			else
				mmapdemo_xmunmap(p, page_size);
		}
		if (s->err) {
			printf("%-14s not available (%s: %s)\n", s->name,
			       strerrorname_np(s->err), strerror(s->err));
			close(s->fd);
			s->fd = -1;
		}
	}
	add_subject("anon", K_ANON, 0);
	add_subject("anon-populate", K_POPULATE, 0);
	add_subject("memfd", K_MEMFD, 0);
	add_subject("pread", K_PREAD, 0);
}

static void print_cell(double v, const char *fmt)
{
	if (isnan(v))
		printf(" %9s", "-");
	else
		printf(fmt, v);
}

/* memcpy() @bytes from @src to @dst and check the copy; returns its ns. */
static double timed_memcpy(char *dst, const char *src, size_t bytes)
{
	uint64_t t0, t1;

	memset(dst, 0, page_size);
	t0 = mmapdemo_now_ns();
	memcpy(dst, src, bytes);
	t1 = mmapdemo_now_ns();
	check_copy(dst, bytes, 0, false, "memcpy");
	return (double)(t1 - t0);
}

static void map_test(const size_t *sizes, int nsizes, int reps, char *dst)
{
	static struct figure fig[MAX_SUBJECTS][NR_METRICS];
	int i, j, r, m, n;

	for (i = 0; i < nsizes; i++) {
		size_t bytes = sizes[i];
		struct figure mc = { .n = 0 };
		struct summary mcs;
		char *src;

		n = bytes >= BIG_SIZE && reps > BIG_REPS ? BIG_REPS : reps;
		memset(fig, 0, sizeof(fig));
		for (j = 0; j < nr_subjects; j++) {
			struct subject *s = &subjects[j];

			if (s->kind != K_MEMFD)
				continue;
			s->fd = memfd_create("mmapdemo-bench", MFD_CLOEXEC);
			if (s->fd < 0 || ftruncate(s->fd, (off_t)bytes))
				mmapdemo_die("memfd of %zu MiB", bytes / MIB);
			write_pattern(s->fd, bytes, "memfd");
		}
		src = user_buffer(bytes);
		fill_pattern(src, bytes, 0);
		for (r = 0; r < n; r++) {
			double before = timed_memcpy(dst, src, bytes), after, mbs;

			for (j = 0; j < nr_subjects; j++)
				if (!subjects[j].err)
					map_round(&subjects[j], bytes, dst, fig[j]);
			/* The round's memcpy: the faster of one before and one after. */
			after = timed_memcpy(dst, src, bytes);
			add(&mc, before < after ? before : after);
			mbs = (double)bytes / mc.v[mc.n - 1] * 1e3;
			for (j = 0; j < nr_subjects; j++) {
				struct figure *f = &fig[j][M_STREAM];

				if (f->n > r)
					add(&fig[j][M_RATIO], f->v[r] / mbs);
			}
		}
		mmapdemo_xmunmap(src, bytes);
		mcs = summarize(&mc);

		printf("\n%zu MiB (%zu pages), %d rounds; memcpy %.0f MB/s\n", bytes / MIB,
		       bytes / page_size, n, (double)bytes / mcs.median * 1e3);
		printf("%-14s %9s %9s %9s %9s %9s %9s %9s %9s %9s %9s\n", "subject", "mmap us",
		       "rd ns/pg", "wr ns/pg", "flt/MiB", "fpg/MiB", "minflt/M", "wminflt/M",
		       "strm MB/s", "x memcpy", "munmap us");
		for (m = 0; m < NR_METRICS; m++) {
			struct figure f = { .n = 0 };

			if (m != M_STREAM)
				continue;
			for (r = 0; r < mc.n; r++)
				add(&f, (double)bytes / mc.v[r] * 1e3);
			csv_row("map", "memcpy", bytes, metric_names[m], &f, "");
		}
		for (j = 0; j < nr_subjects; j++) {
			struct subject *s = &subjects[j];

			if (s->err) {
				char note[64];

				snprintf(note, sizeof(note), "not available (%s)",
					 strerrorname_np(s->err));
				csv_row("map", s->name, bytes, "available", &(struct figure){ .n = 0 },
					note);
				continue;
			}
			printf("%-14s", s->name);
			for (m = 0; m < NR_METRICS; m++) {
				struct summary sm = summarize(&fig[j][m]);

				csv_row("map", s->name, bytes, metric_names[m], &fig[j][m], "");
				if (m == M_TOTAL)
					continue;
				print_cell(sm.median, m == M_RATIO ? " %9.2f" :
					   sm.median < 100 && m != M_STREAM ? " %9.1f" : " %9.0f");
			}
			printf("\n");
			if (s->kind == K_MEMFD) {
				close(s->fd);
				s->fd = -1;
			}
		}
		fflush(stdout);
		if (csv)
			fflush(csv);
	}
}

/* ------------------------------------------------------------ access test */

enum pattern { P_SEQ, P_RAND, NR_PATTERNS };
static const char *const pattern_names[NR_PATTERNS] = { "seq", "rand" };

static uint64_t rng = 0x2545F4914F6CDD1DULL;

static uint64_t xorshift(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* The order pages are visited in: identity, or a seeded permutation. */
static void make_order(size_t *order, size_t pages, enum pattern pt)
{
	size_t i, j, t;

	for (i = 0; i < pages; i++)
		order[i] = i;
	if (pt != P_RAND)
		return;
	for (i = pages - 1; i > 0; i--) {
		j = (size_t)(xorshift() % (i + 1));
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
}

/*
 * Visit every page of [0, bytes) once: sequentially 128 KiB per copy, or
 * one page per copy in @order; through the mapping @map, or with pread()
 * from @fd when @map is NULL. Every copy lands in @buf and is checked.
 */
static void visit(int fd, const char *map, size_t bytes, enum pattern pt,
		  const size_t *order, char *buf, const char *what)
{
	size_t chunk = pt == P_SEQ ? SEQ_CHUNK : page_size;
	size_t i, n = bytes / chunk, off;

	for (i = 0; i < n; i++) {
		off = pt == P_SEQ ? i * chunk : order[i] * chunk;
		if (map)
			memcpy(buf, map + off, chunk);
		else
			pread_all(fd, buf, chunk, (off_t)off, what);
		if (*(uint64_t *)buf != pat(off / 8) ||
		    *(uint64_t *)(buf + chunk - 8) != pat((off + chunk) / 8 - 1))
			BROKEN("%s: the copy of offset %zu holds %#llx", what, off,
			       (unsigned long long)*(uint64_t *)buf);
	}
}

/* Pages of fd's first @bytes in the page cache (mincore). */
static long resident(int fd, size_t bytes)
{
	void *p = mmapdemo_xmmap(bytes, PROT_READ, MAP_SHARED, fd, 0, FILE_NAME);
	long n = mmapdemo_mincore_count(p, bytes / page_size);

	if (n < 0)
		mmapdemo_die("mincore");
	mmapdemo_xmunmap(p, bytes);
	return n;
}

/* Make the file cold (not in the page cache) and check that it is. */
static void make_cold(int fd, size_t bytes)
{
	int dc;
	long n;

	/* posix_fadvise() returns its error, it does not set errno. */
	errno = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	if (errno)
		mmapdemo_die("posix_fadvise DONTNEED");
	dc = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (dc < 0 || write(dc, "1", 1) != 1)
		mmapdemo_die("drop_caches (the cold file needs root)");
	close(dc);
	n = resident(fd, bytes);
	if (n > (long)(bytes / page_size / COLD_SLACK))
		BROKEN("%ld of %zu pages of the cold file are still in the page cache", n,
		       bytes / page_size);
}

/* Bring the file into the page cache and check that it is all there. */
static void make_cached(int fd, size_t bytes, char *buf)
{
	size_t off;
	long n;

	for (off = 0; off < bytes; off += SEQ_CHUNK)
		pread_all(fd, buf, SEQ_CHUNK, (off_t)off, FILE_NAME);
	n = resident(fd, bytes);
	if (n != (long)(bytes / page_size))
		BROKEN("only %ld of %zu pages of the cached file are in the page cache", n,
		       bytes / page_size);
}

enum target { T_DEVICE, T_CACHED, T_COLD, NR_TARGETS };
static const char *const target_names[NR_TARGETS] = { "device", "file-cached", "file-cold" };

/* Access figures of one target and method: [pattern][pass]. */
struct access_fig {
	char name[40];
	struct figure f[NR_PATTERNS][2];
	bool used;
};

/*
 * One round of one method on one target: pass 1 (mmap() + visit +
 * munmap(), or pread() visit) from the target's starting state, pass 2
 * again over the same mapping or file.
 */
static void access_round(enum target t, int fd, int mapfd, size_t bytes, enum pattern pt,
			 const size_t *order, char *buf, struct access_fig *af)
{
	double pages = (double)(bytes / page_size);
	uint64_t t0, t1, t2, t3;
	char *map = NULL;

	if (t == T_COLD)
		make_cold(fd, bytes);
	else if (t == T_CACHED)
		make_cached(fd, bytes, buf);
	t0 = mmapdemo_now_ns();
	if (mapfd >= 0) {
		map = mmap(NULL, bytes, PROT_READ, MAP_SHARED, mapfd, 0);
		if (map == MAP_FAILED)
			mmapdemo_die("mmap %s", af->name);
	}
	visit(fd, map, bytes, pt, order, buf, af->name);
	t1 = mmapdemo_now_ns();
	visit(fd, map, bytes, pt, order, buf, af->name);
	t2 = mmapdemo_now_ns();
	if (map)
		mmapdemo_xmunmap(map, bytes);
	t3 = mmapdemo_now_ns();
	af->used = true;
	add(&af->f[pt][0], (double)((t1 - t0) + (t3 - t2)) / pages);
	add(&af->f[pt][1], (double)(t2 - t1) / pages);
}

static void access_test(const char *dir, size_t bytes, int reps)
{
	static struct access_fig af[NR_TARGETS][MMAPDEMO_NR_MODES + 2];
	size_t pages = bytes / page_size, *order[NR_PATTERNS];
	char path[4096], *buf = user_buffer(SEQ_CHUNK);
	int filefd = -1, t, r, j, k, pt;
	struct stat sb;

	if (bytes > SEQ_CHUNK * (bytes / SEQ_CHUNK))
		mmapdemo_fail("--file-mib: not a multiple of 128 KiB");
	for (pt = 0; pt < NR_PATTERNS; pt++) {
		order[pt] = malloc(pages * sizeof(size_t));
		if (!order[pt])
			mmapdemo_fail("out of memory");
		make_order(order[pt], pages, pt);
	}
	if (dir) {
		snprintf(path, sizeof(path), "%s/%s", dir, FILE_NAME);
		filefd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (filefd < 0 || fstat(filefd, &sb))
			mmapdemo_die("%s", path);
		if ((size_t)sb.st_size != bytes) {
			if (ftruncate(filefd, 0))
				mmapdemo_die("%s: truncate", path);
			write_pattern(filefd, bytes, path);
			if (fsync(filefd))
				mmapdemo_die("%s: fsync", path);
		}
	}
	memset(af, 0, sizeof(af));
	for (r = 0; r < reps; r++) {
		for (t = 0; t < NR_TARGETS; t++) {
			int fd = t == T_DEVICE ? devfd : filefd;

			if (fd < 0)
				continue;
			for (pt = 0; pt < NR_PATTERNS; pt++) {
				/* pread, then mmap: per device mode or the file's. */
				k = 0;
				snprintf(af[t][k].name, sizeof(af[t][k].name), "%s:pread",
					 target_names[t]);
				access_round(t, fd, -1, bytes, pt, order[pt], buf, &af[t][k++]);
				for (j = 0; j < nr_subjects; j++) {
					const struct subject *s = &subjects[j];

					if (t == T_DEVICE ? s->kind != K_DEV || s->err :
							    s->kind != K_MEMFD)
						continue;
					snprintf(af[t][k].name, sizeof(af[t][k].name),
						 t == T_DEVICE ? "%.12s:mmap-%.20s" : "%.12s:mmap",
						 target_names[t], s->name);
					access_round(t, fd, t == T_DEVICE ? s->fd : fd, bytes, pt,
						     order[pt], buf, &af[t][k++]);
				}
			}
		}
	}

	printf("\naccess: every page of %zu MiB once, ns per page (median of %d rounds); pass 1\n"
	       "includes mmap() and munmap(), pass 2 re-uses the mapping or the cache\n",
	       bytes / MIB, reps);
	printf("%-24s %10s %10s %10s %10s\n", "target:method", "seq 1st", "seq 2nd", "rand 1st",
	       "rand 2nd");
	for (t = 0; t < NR_TARGETS; t++) {
		if ((t == T_DEVICE ? devfd : filefd) < 0) {
			printf("%-24s left out (no --file-dir)\n", target_names[t]);
			continue;
		}
		for (k = 0; k < MMAPDEMO_NR_MODES + 2 && af[t][k].used; k++) {
			printf("%-24s", af[t][k].name);
			for (pt = 0; pt < NR_PATTERNS; pt++) {
				for (j = 0; j < 2; j++) {
					char metric[32];

					snprintf(metric, sizeof(metric), "%s_pass%d_ns_per_page",
						 pattern_names[pt], j + 1);
					csv_row("access", af[t][k].name, bytes, metric,
						&af[t][k].f[pt][j], "");
					printf(" %10.0f", summarize(&af[t][k].f[pt][j]).median);
				}
			}
			printf("\n");
		}
	}
	if (filefd >= 0)
		close(filefd);
	for (pt = 0; pt < NR_PATTERNS; pt++)
		free(order[pt]);
	mmapdemo_xmunmap(buf, SEQ_CHUNK);
}

/* ------------------------------------------------------------ main */

static int parse_sizes(const char *list, size_t *sizes)
{
	char copy[256], *tok, *save;
	int n = 0;

	if (strlen(list) >= sizeof(copy))
		mmapdemo_usage_error(PROG, "--sizes: list too long");
	strcpy(copy, list);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == MAX_SIZES)
			mmapdemo_usage_error(PROG, "--sizes: at most %d sizes", MAX_SIZES);
		sizes[n++] = mmapdemo_parse_u64("--sizes", tok, 1, 1UL << 20) * MIB;
	}
	if (!n)
		mmapdemo_usage_error(PROG, "--sizes: no size given");
	return n;
}

static void read_line(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");

	snprintf(buf, size, "?");
	if (f) {
		if (fgets(buf, (int)size, f))
			buf[strcspn(buf, "\n")] = 0;
		fclose(f);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "sizes", required_argument, NULL, 's' },
		{ "reps", required_argument, NULL, 'r' },
		{ "file-dir", required_argument, NULL, 'd' },
		{ "file-mib", required_argument, NULL, 'f' },
		{ "quick", no_argument, NULL, 'q' },
		{ "csv", required_argument, NULL, 'o' },
		{ "accel", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *sizes_arg = "1,4,16,64,256,1024", *dir = NULL, *csv_path = NULL;
	const char *accel = getenv("MMAPDEMO_ACCEL");
	unsigned long file_mib = DEFAULT_FILE_MIB;
	int reps = DEFAULT_REPS, nsizes, i, c, kept;
	bool quick = false, reps_set = false, file_set = false, sizes_set = false;
	size_t sizes[MAX_SIZES], max = 0;
	struct mmapdemo_info info;
	char thp[128], model[128];
	struct utsname un;
	char *dst;

	mmapdemo_program(PROG, usage);
	while ((c = mmapdemo_getopt(argc, argv, "s:r:d:f:qo:a:h", opts)) != -1) {
		switch (c) {
		case 's':
			sizes_arg = optarg;
			sizes_set = true;
			break;
		case 'r':
			reps = (int)mmapdemo_parse_u64("--reps", optarg, 1, MAX_REPS);
			reps_set = true;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'f':
			file_mib = mmapdemo_parse_u64("--file-mib", optarg, 1, 4096);
			file_set = true;
			break;
		case 'q':
			quick = true;
			break;
		case 'o':
			csv_path = optarg;
			break;
		case 'a':
			accel = optarg;
			break;
		}
	}
	if (quick) {
		if (!sizes_set)
			sizes_arg = "1,4,16";
		if (!reps_set)
			reps = 3;
		if (!file_set)
			file_mib = 8;
	}
	nsizes = parse_sizes(sizes_arg, sizes);
	if (!accel || !*accel)
		accel = "unknown";

	page_size = mmapdemo_page_size();
	devfd = mmapdemo_demo_open(&info);
	for (i = 0, kept = 0; i < nsizes; i++) {
		if (sizes[i] > info.size) {
			printf("%zu MiB: left out, larger than the device's %llu MiB buffer\n",
			       sizes[i] / MIB, (unsigned long long)(info.size / MIB));
			continue;
		}
		sizes[kept++] = sizes[i];
		if (sizes[i] > max)
			max = sizes[i];
	}
	nsizes = kept;
	if (!nsizes)
		mmapdemo_fail("no size fits the device's buffer of %llu KiB (load with a larger pages=)",
			      (unsigned long long)(info.size / 1024));
	if (file_mib * MIB > info.size)
		file_mib = info.size / MIB;

	if (csv_path) {
		csv = fopen(csv_path, "we");
		if (!csv)
			mmapdemo_die("%s", csv_path);
	}
	uname(&un);
	read_line("/sys/kernel/mm/transparent_hugepage/enabled", thp, sizeof(thp));
	read_line("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", model, sizeof(model));
	printf("%s: kernel %s, accelerator %s, %ld CPUs, %ld MiB RAM, device buffer %llu MiB\n",
	       PROG, un.release, accel, sysconf(_SC_NPROCESSORS_ONLN),
	       (long)(sysconf(_SC_PHYS_PAGES) / (long)(MIB / page_size)),
	       (unsigned long long)(info.size / MIB));
	printf("THP for anonymous memory: %s\n", thp);
	if (!strncmp(accel, "tcg", 3))
		printf("Under TCG only ratios within this run mean anything, not absolute times.\n");
	if (csv) {
		fprintf(csv, "# kernel=%s accel=%s cpus=%ld mem_mib=%ld buffer_mib=%llu thp=%s\n",
			un.release, accel, sysconf(_SC_NPROCESSORS_ONLN),
			(long)(sysconf(_SC_PHYS_PAGES) / (long)(MIB / page_size)),
			(unsigned long long)(info.size / MIB), thp);
		fprintf(csv, "test,subject,bytes,metric,median,min,max,n,note\n");
	}

	/* The device holds the pattern; every write touch keeps it. */
	write_pattern(devfd, max > file_mib * MIB ? max : file_mib * MIB, MMAPDEMO_DEV_PATH);
	make_subjects();
	dst = user_buffer(max);
	map_test(sizes, nsizes, reps, dst);
	mmapdemo_xmunmap(dst, max);
	access_test(dir, file_mib * MIB, reps);

	if (csv && fclose(csv))
		mmapdemo_die("%s", csv_path);
	printf("\n%s: done, every copy read back was right\n", PROG);
	return 0;
}
