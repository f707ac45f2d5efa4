// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_stress: a seeded, time-bounded stress run of /dev/mmapdemo.
 *
 *   mmapdemo_stress [--duration S] [--seed N] [--procs P] [--threads T]
 *   mmapdemo_stress --opener S
 *
 * P worker processes with T threads each do random operations on the
 * device until the deadline: mmap (shared and private, every mode the
 * module has, random offsets and lengths, invalid ones too), touches and
 * writes, partial munmap, mprotect, madvise, mremap shrink and grow,
 * fork and exit, read/write/pread/pwrite, every ioctl, and one thread
 * unmapping a mapping while another thread copies through it. A worker
 * process lives for a random number of operations and then exits, half
 * the time with its mappings still in place; the next generation takes
 * its slot. Everything random comes from the seed: worker slot s,
 * generation k, thread t draws from its own generator seeded from (seed,
 * s, k, t), so a run is repeatable as far as the scheduler allows.
 *
 * Invariants, checked as it goes (each violation is printed and counted):
 *   - shared writes land: a store through a MAP_SHARED mapping is what
 *     read() returns and what every other shared mapping of the page
 *     shows; a write() is what the mappings show;
 *   - private writes stay private: a store to a MAP_PRIVATE page leaves
 *     the device's page as it was and stays in that mapping; a forked
 *     child's private store is invisible to the parent, its shared store
 *     visible;
 *   - every system call returns success or an error expected for its
 *     arguments and the mapping's mode (e.g. MADV_DONTNEED on a VM_PFNMAP
 *     mapping: EINVAL); anything else is a failure;
 *   - no worker dies of a signal; the sigbus counter stays 0 (nothing
 *     touches past the buffer); MMAPDEMO_IOC_GET_STATS never reports fewer
 *     VMAs or mapped pages than the calling thread holds itself;
 *   - at the end, with every worker gone, the gauges vmas and
 *     mapped_pages are 0.
 * Counters are module-wide and any thread may reset them, so no check
 * depends on an exact event count.
 *
 * Content checks need an owner: buffer page p belongs to worker thread
 * (p mod W) of the W = P * T threads of a slot layout; only its owner
 * writes it (with a stamp in its first and last word), everyone may read.
 *
 * --opener S: open, map, touch, unmap and close the device in a loop for S
 * seconds (or until SIGTERM) while race.sh loads and unloads the
 * module; every open must succeed or fail with ENOENT, ENODEV or ENXIO.
 *
 * Exit: 0 no failure, 1 a failure, 2 bad arguments, 4 (kselftest SKIP)
 * when there is no /dev/mmapdemo.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG		"mmapdemo_stress"
#define MAX_MAPS	6	/* live mappings per thread */
#define MAX_MAP_PAGES	32	/* pages of one mapping (the whole-buffer op aside) */
#define MAX_FAIL_MSGS	30	/* failures printed in full */
#define KSFT_SKIP	4
#define HOLE		0xff	/* prot[] of an unmapped page of a mapping */

/* ---- operations and their counts ------------------------------------- */

enum op {
	OP_MMAP, OP_MMAP_BAD, OP_MMAP_WHOLE, OP_MUNMAP, OP_MUNMAP_PART, OP_MPROTECT,
	OP_MADVISE, OP_MREMAP_SHRINK, OP_MREMAP_GROW, OP_TOUCH, OP_STORE_SHARED,
	OP_STORE_PRIVATE, OP_PWRITE, OP_PREAD, OP_RW_EDGE, OP_GET_INFO, OP_GET_STATS,
	OP_RESET_STATS, OP_SET_MODE, OP_BAD_IOCTL, OP_GET_PFN, OP_FORK, OP_RACE_UNMAP,
	OP_RACE_COPY, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"mmap", "mmap (invalid)", "mmap (whole buffer)", "munmap", "munmap (partial)",
	"mprotect", "madvise", "mremap shrink", "mremap grow", "touch (load)",
	"store (shared)", "store (private)", "pwrite/write", "pread/read",
	"read/write at the end", "ioctl GET_INFO", "ioctl GET_STATS", "ioctl RESET_STATS",
	"ioctl SET_MODE", "ioctl (bad cmd/size)", "ioctl GET_PFN", "fork + exit",
	"race: unmap under a copy", "race: copy through",
};

/* Relative frequency of each operation. */
static const unsigned int op_weight[NR_OPS] = {
	[OP_MMAP] = 10, [OP_MMAP_BAD] = 3, [OP_MMAP_WHOLE] = 1, [OP_MUNMAP] = 5,
	[OP_MUNMAP_PART] = 4, [OP_MPROTECT] = 4, [OP_MADVISE] = 5, [OP_MREMAP_SHRINK] = 2,
	[OP_MREMAP_GROW] = 2, [OP_TOUCH] = 10, [OP_STORE_SHARED] = 10, [OP_STORE_PRIVATE] = 6,
	[OP_PWRITE] = 6, [OP_PREAD] = 4, [OP_RW_EDGE] = 2, [OP_GET_INFO] = 1,
	[OP_GET_STATS] = 3, [OP_RESET_STATS] = 1, [OP_SET_MODE] = 4, [OP_BAD_IOCTL] = 1,
	[OP_GET_PFN] = 1, [OP_FORK] = 2, [OP_RACE_UNMAP] = 2, [OP_RACE_COPY] = 4,
};

/*
 * Shared by every process of the run (MAP_SHARED | MAP_ANONYMOUS, made
 * before the first fork): counts per operation, failures, generations.
 */
struct shared {
	uint64_t done[NR_OPS];		/* succeeded */
	uint64_t refused[NR_OPS];	/* failed with an expected error */
	uint64_t failures;
	uint64_t generations;
	uint64_t children;		/* fork() children that exited cleanly */
	uint64_t fork_enomem_pfnmap;	/* fork() ENOMEM with a private VM_PFNMAP mapped */
	uint64_t fork_enomem_other;	/* fork() ENOMEM without */
};

static struct shared *shm;

/* ---- the run's parameters and what the device is ----------------------- */

static unsigned int duration = 30, nprocs = 4, nthreads = 3;
static uint64_t seed;
static double deadline;
static unsigned int weight_total;	/* sum of op_weight[] */

static struct mmapdemo_info info;
static size_t ps;
static uint64_t npages;
static bool modes[MMAPDEMO_NR_MODES];		/* built into the module */
static bool mode_expandable[MMAPDEMO_NR_MODES];	/* SET_MODE accepts EXPANDABLE */
static bool mode_pfnmap[MMAPDEMO_NR_MODES];	/* its shared VMAs are VM_PFNMAP */
/* Its private VMAs are VM_PFNMAP (remap; not huge, whose private mappings are 4 KiB faults). */
static bool mode_pfnmap_private[MMAPDEMO_NR_MODES];
static uint64_t nmodes_built;
static bool have_pfns;			/* root: the PFN table below is valid */
static uint64_t *run_len;		/* physically contiguous pages from page i on */
static uint64_t *pfns;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* splitmix64: seeds the per-thread generators from the master seed. */
static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ---- one worker thread ------------------------------------------------ */

struct map {
	char *addr;		/* NULL: slot free */
	size_t npages;
	uint64_t first;		/* buffer page at addr */
	bool shared;
	bool expandable;
	bool dontfork;		/* MADV_DONTFORK was applied to some of it */
	bool split;		/* mprotect/madvise may have split it: no mremap grow */
	int mode;
	unsigned char prot[MAX_MAP_PAGES];	/* PROT_* per page, or HOLE */
	uint64_t priv[MAX_MAP_PAGES];		/* private stores: the stamp; 0: none */
};

struct worker {
	uint64_t rng;
	unsigned int slot, thread, gen;
	unsigned int id;		/* slot * nthreads + thread: the page owner id */
	unsigned long ops;		/* operations so far */
	int fd, ro_fd;			/* own open files: SET_MODE is per file */
	int mode;
	bool expandable;
	uint64_t stamp_seq;
	uint64_t *expect;		/* owned page -> last stamp written; 0 unknown */
	struct map maps[MAX_MAPS];
	struct proc *proc;
};

/* What the threads of one process share: the race slot. */
struct proc {
	char *race_area;		/* RACE_PAGES reserved pages: see op_race_unmap() */
	size_t race_len;		/* bytes mapped there now, 0: nothing to copy */
	bool race_busy;
	unsigned long race_copies;
	int pipe[2];
	pthread_mutex_t race_lock;
	unsigned int live_private_pfnmap;	/* fork() may fail with ENOMEM */
};

static uint64_t rnd(struct worker *w)
{
	/* xorshift64* */
	w->rng ^= w->rng >> 12;
	w->rng ^= w->rng << 25;
	w->rng ^= w->rng >> 27;
	return w->rng * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct worker *w, uint64_t n)
{
	return n ? rnd(w) % n : 0;
}

static void count(enum op op, bool refused)
{
	__atomic_add_fetch(refused ? &shm->refused[op] : &shm->done[op], 1, __ATOMIC_RELAXED);
}

/*
 * A broken invariant: counted, and printed (the first MAX_FAIL_MSGS) with
 * everything needed to find it again. Safe in a forked child: one write().
 */
static void __attribute__((format(printf, 3, 4)))
failure(struct worker *w, const char *what, const char *fmt, ...)
{
	uint64_t n = __atomic_add_fetch(&shm->failures, 1, __ATOMIC_RELAXED);
	char msg[512];
	int len;
	va_list ap;

	if (n > MAX_FAIL_MSGS)
		return;
	len = snprintf(msg, sizeof(msg), "FAIL: seed %" PRIu64 " slot %u gen %u thread %u op %lu (%s): ",
		       seed, w->slot, w->gen, w->thread, w->ops, what);
	va_start(ap, fmt);
	len += vsnprintf(msg + len, sizeof(msg) - len, fmt, ap);
	va_end(ap);
	if (len > (int)sizeof(msg) - 2)
		len = sizeof(msg) - 2;
	msg[len++] = '\n';
	if (write(STDERR_FILENO, msg, len) < 0)
		return;
}

/* Check a system call's result: 0 ok, 1 an expected error, -1 a failure. */
static int judge(struct worker *w, enum op op, long ret, const int *ok_errnos, const char *what)
{
	int err = errno;
	size_t i;

	if (ret >= 0) {
		count(op, false);
		return 0;
	}
	for (i = 0; ok_errnos && ok_errnos[i]; i++) {
		if (ok_errnos[i] == err) {
			count(op, true);
			return 1;
		}
	}
	failure(w, op_names[op], "%s: unexpected error %s", what, strerror(err));
	return -1;
}

#define ERRS(...) ((const int[]){ __VA_ARGS__, 0 })

static bool owned(const struct worker *w, uint64_t page)
{
	return page % ((uint64_t)nprocs * nthreads) == w->id;
}

static uint64_t new_stamp(struct worker *w)
{
	/* Never 0, never the 0xa5 pattern, unique per thread slot. */
	return (0x5354ULL << 48) | ((uint64_t)w->id << 32) | ++w->stamp_seq;
}

static uint64_t *word_at(char *page, bool last)
{
	return (uint64_t *)(page + (last ? ps - sizeof(uint64_t) : 0));
}

static void stamp_page(char *page, uint64_t stamp)
{
	__atomic_store_n(word_at(page, false), stamp, __ATOMIC_RELAXED);
	__atomic_store_n(word_at(page, true), stamp, __ATOMIC_RELAXED);
}

/* The device's stamp of page @p, read with pread(); false on error. */
static bool dev_stamp(struct worker *w, uint64_t p, uint64_t out[2])
{
	off_t base = (off_t)(p * ps);

	return pread(w->fd, &out[0], 8, base) == 8 &&
	       pread(w->fd, &out[1], 8, base + (off_t)ps - 8) == 8;
}

/* Owned page @p must read as @w->expect[p] (when known) through read(). */
static void check_device(struct worker *w, enum op op, uint64_t p, const char *when)
{
	uint64_t got[2];

	if (!w->expect[p])
		return;
	if (!dev_stamp(w, p, got)) {
		failure(w, op_names[op], "pread of page %" PRIu64 ": %s", p, strerror(errno));
		return;
	}
	if (got[0] != w->expect[p] || got[1] != w->expect[p])
		failure(w, op_names[op], "%s: page %" PRIu64 " reads %#" PRIx64 "/%#" PRIx64
			" through read(), expected %#" PRIx64, when, p, got[0], got[1], w->expect[p]);
}

static bool readable(int prot)
{
	return prot != HOLE && (prot & PROT_READ);
}

static bool writable(int prot)
{
	return prot != HOLE && (prot & PROT_WRITE);
}

/* A page of @m in a mapped state, or -1: random start, first one that @want accepts. */
static long pick_page(struct worker *w, const struct map *m, bool (*want)(int), bool own)
{
	size_t i, start = below(w, m->npages);

	for (i = 0; i < m->npages; i++) {
		size_t j = (start + i) % m->npages;

		if (want(m->prot[j]) && (!own || owned(w, m->first + j)))
			return (long)j;
	}
	return -1;
}

static struct map *pick_map(struct worker *w)
{
	size_t i, start = below(w, MAX_MAPS);

	for (i = 0; i < MAX_MAPS; i++)
		if (w->maps[(start + i) % MAX_MAPS].addr)
			return &w->maps[(start + i) % MAX_MAPS];
	return NULL;
}

static bool map_has_hole(const struct map *m)
{
	size_t i;

	for (i = 0; i < m->npages; i++)
		if (m->prot[i] == HOLE)
			return true;
	return false;
}

/* Whether MAP_PRIVATE of [first, first + n) works in @mode: remap needs one physical run. */
static bool private_ok(int mode, uint64_t first, uint64_t n)
{
	if (!mode_pfnmap_private[mode])
		return true;
	return have_pfns && run_len[first] >= n;
}

/*
 * Each shared mapping of owned page @p must show @stamp: "shared writes
 * land, in every mapping".
 */
static void check_other_mappings(struct worker *w, enum op op, uint64_t p, uint64_t stamp)
{
	size_t i;

	for (i = 0; stamp && i < MAX_MAPS; i++) {
		struct map *m = &w->maps[i];
		uint64_t got;
		size_t j;

		if (!m->addr || !m->shared || p < m->first || p >= m->first + m->npages)
			continue;
		j = p - m->first;
		if (!readable(m->prot[j]))
			continue;
		got = __atomic_load_n(word_at(m->addr + j * ps, false), __ATOMIC_RELAXED);
		if (got != stamp)
			failure(w, op_names[op], "page %" PRIu64 " reads %#" PRIx64
				" through shared mapping %p (mode %d), expected %#" PRIx64,
				p, got, (void *)m->addr, m->mode, stamp);
	}
}

/* Unmap the mapped runs of @m (never the holes: another thread may have mapped there). */
static void unmap_all(struct worker *w, struct map *m)
{
	size_t i = 0, j;

	while (i < m->npages) {
		if (m->prot[i] == HOLE) {
			i++;
			continue;
		}
		for (j = i; j < m->npages && m->prot[j] != HOLE; j++)
			;
		judge(w, OP_MUNMAP, munmap(m->addr + i * ps, (j - i) * ps), NULL, "munmap");
		i = j;
	}
	if (mode_pfnmap_private[m->mode] && !m->shared)
		__atomic_sub_fetch(&w->proc->live_private_pfnmap, 1, __ATOMIC_RELAXED);
	m->addr = NULL;
}

static void op_mmap(struct worker *w)
{
	struct map *m = NULL;
	uint64_t max, n, first;
	bool shared = below(w, 3) != 0;
	int prot = below(w, 4) ? PROT_READ | PROT_WRITE : PROT_READ;
	size_t i;
	char *a;

	for (i = 0; i < MAX_MAPS; i++)
		if (!w->maps[i].addr)
			m = &w->maps[i];
	if (!m) {
		unmap_all(w, pick_map(w));
		return;
	}
	max = npages < MAX_MAP_PAGES ? npages : MAX_MAP_PAGES;
	n = 1 + below(w, max);
	first = below(w, npages - n + 1);
	/* Private remap mappings: mostly ranges that work, sometimes one that is refused. */
	if (!shared && mode_pfnmap_private[w->mode] && below(w, 4) && have_pfns && run_len[first] < n)
		n = run_len[first];
	a = mmap(NULL, n * ps, prot, shared ? MAP_SHARED : MAP_PRIVATE, w->fd, (off_t)(first * ps));
	if (a == MAP_FAILED) {
		/* A private VM_PFNMAP needs one physical run: EINVAL otherwise. */
		if (!shared && !private_ok(w->mode, first, n))
			judge(w, OP_MMAP, -1, ERRS(EINVAL), "mmap MAP_PRIVATE, discontiguous");
		else
			failure(w, op_names[OP_MMAP], "mmap of pages %" PRIu64 "+%" PRIu64
				" %s mode %d: %s", first, n, shared ? "shared" : "private",
				w->mode, strerror(errno));
		return;
	}
	if (!shared && !private_ok(w->mode, first, n) && have_pfns)
		failure(w, op_names[OP_MMAP], "private mapping of discontiguous pages %" PRIu64
			"+%" PRIu64 " in VM_PFNMAP mode %d succeeded", first, n, w->mode);
	count(OP_MMAP, false);
	memset(m, 0, sizeof(*m));
	m->addr = a;
	m->npages = n;
	m->first = first;
	m->shared = shared;
	m->mode = w->mode;
	m->expandable = w->expandable;
	for (i = 0; i < n; i++)
		m->prot[i] = prot;
	if (mode_pfnmap_private[m->mode] && !shared)
		__atomic_add_fetch(&w->proc->live_private_pfnmap, 1, __ATOMIC_RELAXED);
}

/* Ranges and flags mmap() must refuse, each with its errno. */
static void op_mmap_bad(struct worker *w)
{
	uint64_t size = npages * ps;
	int fl = below(w, 2) ? MAP_SHARED : MAP_PRIVATE;
	void *a = MAP_FAILED;
	const char *what = "";
	int want = EINVAL, fd = w->fd, prot = PROT_READ;

	switch (below(w, 9)) {
	case 0:
		what = "offset == size";
		a = mmap(NULL, ps, prot, fl, fd, (off_t)size);
		break;
	case 1:
		what = "offset past the end";
		a = mmap(NULL, ps, prot, fl, fd, (off_t)(size + ps * (1 + below(w, 1000))));
		break;
	case 2:
		what = "offset + length past the end";
		a = mmap(NULL, ps * (2 + below(w, 4)), prot, fl, fd, (off_t)(size - ps));
		break;
	case 3:
		what = "offset + length overflows";
		a = mmap(NULL, 2 * ps, prot, fl, fd, (off_t)0x7ffffffffffff000LL);
		break;
	case 4:
		what = "unaligned offset";
		a = mmap(NULL, ps, prot, fl, fd, (off_t)(1 + below(w, ps - 1)));
		break;
	case 5:
		what = "length 0";
		a = mmap(NULL, 0, prot, fl, fd, 0);
		break;
	case 6:
		what = "neither MAP_SHARED nor MAP_PRIVATE";
		a = mmap(NULL, ps, prot, 0, fd, 0);
		break;
	case 7:
		what = "MAP_SHARED_VALIDATE with an unknown flag";
		want = EOPNOTSUPP;
		a = mmap(NULL, ps, prot, MAP_SHARED_VALIDATE | 0x01000000, fd, 0);
		break;
	default:
		what = "MAP_SHARED | PROT_WRITE of an O_RDONLY file";
		want = EACCES;
		a = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, w->ro_fd, 0);
		break;
	}
	if (a != MAP_FAILED) {
		failure(w, op_names[OP_MMAP_BAD], "%s: mmap succeeded", what);
		munmap(a, ps);
		return;
	}
	judge(w, OP_MMAP_BAD, -1, (const int[]){ want, 0 }, what);
}

/* Map the whole buffer read-only, load from a few pages, unmap it. */
static void op_mmap_whole(struct worker *w)
{
	char *a = mmap(NULL, npages * ps, PROT_READ, MAP_SHARED, w->fd, 0);
	uint64_t i, p;

	if (a == MAP_FAILED) {
		failure(w, op_names[OP_MMAP_WHOLE], "mmap of %" PRIu64 " pages: %s", npages,
			strerror(errno));
		return;
	}
	for (i = 0; i < 8; i++) {
		p = below(w, npages);
		(void)*(volatile uint64_t *)(a + p * ps);
		if (owned(w, p) && w->expect[p] &&
		    *(volatile uint64_t *)(a + p * ps) != w->expect[p])
			failure(w, op_names[OP_MMAP_WHOLE], "page %" PRIu64 " reads %#" PRIx64
				", expected %#" PRIx64, p, *(volatile uint64_t *)(a + p * ps),
				w->expect[p]);
	}
	judge(w, OP_MMAP_WHOLE, munmap(a, npages * ps), NULL, "munmap");
}

static void op_munmap(struct worker *w)
{
	struct map *m = pick_map(w);

	if (m)
		unmap_all(w, m);
}

/* A random run [*a, *b) of mapped pages of @m; false if none. */
static bool pick_run(struct worker *w, const struct map *m, size_t *a, size_t *b)
{
	size_t i = below(w, m->npages), j, len;

	while (i < m->npages && m->prot[i] == HOLE)
		i++;
	if (i == m->npages)
		return false;
	for (j = i; j < m->npages && m->prot[j] != HOLE; j++)
		;
	len = 1 + below(w, j - i);
	*a = i;
	*b = i + len;
	return true;
}

static void op_munmap_part(struct worker *w)
{
	struct map *m = pick_map(w);
	size_t a, b, i;

	if (!m || !pick_run(w, m, &a, &b))
		return;
	if (judge(w, OP_MUNMAP_PART, munmap(m->addr + a * ps, (b - a) * ps), NULL, "munmap"))
		return;
	for (i = a; i < b; i++)
		m->prot[i] = HOLE;
	for (i = 0; i < m->npages; i++)
		if (m->prot[i] != HOLE)
			return;
	unmap_all(w, m);	/* nothing left: free the slot */
}

static void op_mprotect(struct worker *w)
{
	static const int prots[] = {
		PROT_NONE, PROT_READ, PROT_READ | PROT_WRITE, PROT_READ | PROT_EXEC,
	};
	struct map *m = pick_map(w);
	int prot = prots[below(w, 4)];
	size_t a, b, i;

	if (!m || !pick_run(w, m, &a, &b))
		return;
	/*
	 * A private mapping may be writable; a shared one was opened O_RDWR.
	 * PROT_EXEC is allowed, unless /dev is mounted noexec (EACCES).
	 */
	if (judge(w, OP_MPROTECT, mprotect(m->addr + a * ps, (b - a) * ps, prot),
		  prot & PROT_EXEC ? ERRS(EACCES) : NULL, "mprotect"))
		return;
	m->split = true;
	for (i = a; i < b; i++)
		m->prot[i] = prot;
}

/*
 * madvise: MADV_DONTNEED is exact (works on struct pages, EINVAL on a
 * VM_PFNMAP); the others return 0 or the error the core gives for a
 * device mapping, listed per advice.
 */
static void op_madvise(struct worker *w)
{
	struct advice {
		int advice;
		const char *name;
		int ok_pfnmap[3];	/* errors expected on a VM_PFNMAP mapping */
		int ok_pages[3];	/* errors expected on a mapping of struct pages */
	};
	static const struct advice advs[] = {
		{ MADV_DONTNEED, "MADV_DONTNEED", { EINVAL }, { 0 } },
		{ MADV_WILLNEED, "MADV_WILLNEED", { 0 }, { 0 } },
		{ MADV_NORMAL, "MADV_NORMAL", { 0 }, { 0 } },
		{ MADV_RANDOM, "MADV_RANDOM", { 0 }, { 0 } },
		{ MADV_SEQUENTIAL, "MADV_SEQUENTIAL", { 0 }, { 0 } },
		{ MADV_DONTFORK, "MADV_DONTFORK", { EINVAL }, { 0 } },
		/* 7.2 refuses it on every device VMA (measured: EINVAL); 6.1 and 6.12 accept it. */
		{ MADV_DOFORK, "MADV_DOFORK", { EINVAL }, { EINVAL } },
		{ MADV_DONTDUMP, "MADV_DONTDUMP", { 0 }, { 0 } },
		{ MADV_DODUMP, "MADV_DODUMP", { EINVAL }, { EINVAL } },
		{ MADV_FREE, "MADV_FREE", { EINVAL }, { EINVAL } },
		{ MADV_COLD, "MADV_COLD", { EINVAL }, { 0 } },
		{ MADV_PAGEOUT, "MADV_PAGEOUT", { EINVAL }, { 0 } },
		{ MADV_REMOVE, "MADV_REMOVE", { EACCES, ENODEV }, { EACCES, ENODEV } },
		{ MADV_WIPEONFORK, "MADV_WIPEONFORK", { EINVAL }, { EINVAL } },
		{ MADV_KEEPONFORK, "MADV_KEEPONFORK", { EINVAL }, { 0 } },
		/* EINVAL: "incompatible mapping or permissions" (6.1: any GUP refusal). */
		{ MADV_POPULATE_READ, "MADV_POPULATE_READ", { EINVAL, EFAULT, ENOMEM },
		  { EINVAL, EFAULT, ENOMEM } },
		{ MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE", { EINVAL, EFAULT, ENOMEM },
		  { EINVAL, EFAULT, ENOMEM } },
	};
	const struct advice *adv = &advs[below(w, sizeof(advs) / sizeof(advs[0]))];
	struct map *m = pick_map(w);
	char what[96];
	size_t a, b, i;
	bool pfnmap;
	int ret;

	if (!m || !pick_run(w, m, &a, &b))
		return;
	ret = madvise(m->addr + a * ps, (b - a) * ps, adv->advice);
	snprintf(what, sizeof(what), "%s on %s pages %zu-%zu of a mode %d mapping", adv->name,
		 m->shared ? "shared" : "private", a, b - 1, m->mode);
	pfnmap = m->shared ? mode_pfnmap[m->mode] : mode_pfnmap_private[m->mode];
	if (judge(w, OP_MADVISE, ret, pfnmap ? adv->ok_pfnmap : adv->ok_pages, what))
		return;
	if (adv->advice == MADV_DONTNEED && pfnmap)
		failure(w, op_names[OP_MADVISE], "%s succeeded on a VM_PFNMAP", what);
	if (adv->advice == MADV_DONTFORK)
		m->dontfork = true;
	m->split = true;
	/* Dropping a private mapping's pages drops its copies: the device shows again. */
	if (adv->advice == MADV_DONTNEED && !m->shared)
		for (i = a; i < b; i++)
			m->priv[i] = 0;
}

static void op_mremap_shrink(struct worker *w)
{
	struct map *m = pick_map(w);
	size_t n;
	void *r;

	if (!m || m->npages < 2 || map_has_hole(m))
		return;
	n = 1 + below(w, m->npages - 1);
	r = mremap(m->addr, m->npages * ps, n * ps, 0);
	if (r == MAP_FAILED) {
		failure(w, op_names[OP_MREMAP_SHRINK], "mremap %zu -> %zu pages: %s", m->npages, n,
			strerror(errno));
		return;
	}
	if (r != m->addr)
		failure(w, op_names[OP_MREMAP_SHRINK], "shrinking moved the mapping");
	count(OP_MREMAP_SHRINK, false);
	m->npages = n;
}

/*
 * Growing: VM_DONTEXPAND mappings refuse with EFAULT; an EXPANDABLE one
 * grows (MREMAP_MAYMOVE), in place if there is room (else ENOMEM). Only
 * as far as the buffer goes: nothing here touches past its end.
 */
static void op_mremap_grow(struct worker *w)
{
	struct map *m = pick_map(w);
	bool maymove = below(w, 2);
	size_t n;
	char *r;

	if (!m || map_has_hole(m) || m->npages >= MAX_MAP_PAGES ||
	    m->first + m->npages >= npages)
		return;
	n = m->npages + 1 + below(w, MAX_MAP_PAGES - m->npages);
	if (m->first + n > npages)
		n = npages - m->first;
	r = mremap(m->addr, m->npages * ps, n * ps, maymove ? MREMAP_MAYMOVE : 0);
	if (r == MAP_FAILED) {
		if (!m->expandable)
			judge(w, OP_MREMAP_GROW, -1, ERRS(EFAULT), "grow a VM_DONTEXPAND mapping");
		/* EFAULT when the range is several VMAs now; ENOMEM: no room in place. */
		else if (m->split)
			judge(w, OP_MREMAP_GROW, -1, maymove ? ERRS(EFAULT) : ERRS(EFAULT, ENOMEM),
			      "grow an expandable mapping that may be split");
		else if (!maymove)
			judge(w, OP_MREMAP_GROW, -1, ERRS(ENOMEM), "grow in place");
		else
			failure(w, op_names[OP_MREMAP_GROW], "mremap MAYMOVE %zu -> %zu pages: %s",
				m->npages, n, strerror(errno));
		return;
	}
	if (!m->expandable) {
		failure(w, op_names[OP_MREMAP_GROW], "a VM_DONTEXPAND mapping grew");
		munmap(r, n * ps);
		m->addr = NULL;
		return;
	}
	count(OP_MREMAP_GROW, false);
	memset(m->prot + m->npages, m->prot[0], n - m->npages);
	memset(m->priv + m->npages, 0, (n - m->npages) * sizeof(m->priv[0]));
	m->addr = r;
	m->npages = n;
}

/*
 * Load from a page of a mapping: an owned page shows the device's stamp
 * through a shared mapping, the private store through a private one.
 */
static void op_touch(struct worker *w)
{
	struct map *m = pick_map(w);
	uint64_t p, got;
	long j;

	if (!m || (j = pick_page(w, m, readable, false)) < 0)
		return;
	p = m->first + j;
	got = __atomic_load_n(word_at(m->addr + j * ps, below(w, 2)), __ATOMIC_RELAXED);
	count(OP_TOUCH, false);
	if (!m->shared && m->priv[j] && got != m->priv[j])
		failure(w, op_names[OP_TOUCH], "private page %" PRIu64 " reads %#" PRIx64
			", its own store was %#" PRIx64, p, got, m->priv[j]);
	else if (m->shared && owned(w, p) && w->expect[p] && got != w->expect[p])
		failure(w, op_names[OP_TOUCH], "shared page %" PRIu64 " reads %#" PRIx64
			", expected %#" PRIx64, p, got, w->expect[p]);
}

/* Store through a shared mapping: read() and the other mappings see it. */
static void op_store_shared(struct worker *w)
{
	struct map *m = pick_map(w);
	uint64_t p, stamp;
	long j;

	if (!m || !m->shared || (j = pick_page(w, m, writable, true)) < 0)
		return;
	p = m->first + j;
	stamp = new_stamp(w);
	stamp_page(m->addr + j * ps, stamp);
	w->expect[p] = stamp;
	count(OP_STORE_SHARED, false);
	check_device(w, OP_STORE_SHARED, p, "after a shared store");
	check_other_mappings(w, OP_STORE_SHARED, p, stamp);
}

/* Store through a private mapping: the device keeps its content. */
static void op_store_private(struct worker *w)
{
	struct map *m = pick_map(w);
	uint64_t p, stamp;
	long j;

	if (!m || m->shared || (j = pick_page(w, m, writable, true)) < 0)
		return;
	p = m->first + j;
	stamp = new_stamp(w) | (1ULL << 47);	/* never a device stamp */
	stamp_page(m->addr + j * ps, stamp);
	m->priv[j] = stamp;
	count(OP_STORE_PRIVATE, false);
	check_device(w, OP_STORE_PRIVATE, p, "after a private store");
	check_other_mappings(w, OP_STORE_PRIVATE, p, w->expect[p]);
}

/* write()/pwrite() a stamp into an owned page: the shared mappings see it. */
static void op_pwrite(struct worker *w)
{
	uint64_t p = below(w, npages), stamp, i;
	off_t base;
	bool ok;

	for (i = 0; i < npages && !owned(w, p); i++)
		p = (p + 1) % npages;
	if (!owned(w, p))
		return;
	stamp = new_stamp(w);
	base = (off_t)(p * ps);
	if (below(w, 2)) {
		ok = pwrite(w->fd, &stamp, 8, base) == 8 &&
		     pwrite(w->fd, &stamp, 8, base + (off_t)ps - 8) == 8;
	} else {
		ok = lseek(w->fd, base, SEEK_SET) == base && write(w->fd, &stamp, 8) == 8 &&
		     lseek(w->fd, base + (off_t)ps - 8, SEEK_SET) == base + (off_t)ps - 8 &&
		     write(w->fd, &stamp, 8) == 8;
	}
	if (judge(w, OP_PWRITE, ok ? 0 : -1, NULL, "pwrite/write of 8 bytes"))
		return;
	w->expect[p] = stamp;
	check_other_mappings(w, OP_PWRITE, p, stamp);
}

/* pread()/read() of a random range; owned pages must show their stamps. */
static void op_pread(struct worker *w)
{
	uint64_t p = below(w, npages), n = 1 + below(w, npages - p < 4 ? npages - p : 4);
	static __thread char buf[4 * 65536];
	ssize_t got;
	uint64_t i;

	if (n * ps > sizeof(buf))
		n = sizeof(buf) / ps;
	if (below(w, 2)) {
		got = pread(w->fd, buf, n * ps, (off_t)(p * ps));
	} else {
		if (lseek(w->fd, (off_t)(p * ps), SEEK_SET) < 0)
			return;
		got = read(w->fd, buf, n * ps);
	}
	if (got != (ssize_t)(n * ps)) {
		failure(w, op_names[OP_PREAD], "read of %" PRIu64 " pages at page %" PRIu64
			" returned %zd (%s)", n, p, got, got < 0 ? strerror(errno) : "short");
		return;
	}
	count(OP_PREAD, false);
	for (i = 0; i < n; i++) {
		uint64_t *first = (uint64_t *)(buf + i * ps), *last = word_at(buf + i * ps, true);

		if (owned(w, p + i) && w->expect[p + i] &&
		    (*first != w->expect[p + i] || *last != w->expect[p + i]))
			failure(w, op_names[OP_PREAD], "page %" PRIu64 " reads %#" PRIx64 "/%#" PRIx64
				", expected %#" PRIx64, p + i, *first, *last, w->expect[p + i]);
	}
}

/* The file's edges: read 0 and write ENOSPC at and past the end, EINVAL before 0. */
static void op_rw_edge(struct worker *w)
{
	off_t size = (off_t)(npages * ps), pos = size + (off_t)below(w, 3) * (off_t)ps;
	char c = 0;
	ssize_t r;

	switch (below(w, 4)) {
	case 0:
		r = pread(w->fd, &c, 1, pos);
		if (r != 0)
			failure(w, op_names[OP_RW_EDGE], "pread at %lld of %lld: %zd", (long long)pos,
				(long long)size, r);
		else
			count(OP_RW_EDGE, false);
		break;
	case 1:
		r = pwrite(w->fd, &c, 1, pos);
		if (r >= 0)
			failure(w, op_names[OP_RW_EDGE], "pwrite at %lld of %lld: %zd",
				(long long)pos, (long long)size, r);
		else
			judge(w, OP_RW_EDGE, -1, ERRS(ENOSPC), "pwrite at the end");
		break;
	case 2:
		r = pread(w->fd, &c, 1, -1 - (off_t)below(w, 1000));
		if (r >= 0)
			failure(w, op_names[OP_RW_EDGE], "pread at a negative offset: %zd", r);
		else
			judge(w, OP_RW_EDGE, -1, ERRS(EINVAL), "pread at a negative offset");
		break;
	default:
		r = lseek(w->fd, -1 - (off_t)below(w, 1000), SEEK_SET);
		if (r >= 0)
			failure(w, op_names[OP_RW_EDGE], "lseek to a negative offset: %zd", r);
		else
			judge(w, OP_RW_EDGE, -1, ERRS(EINVAL), "lseek to a negative offset");
		break;
	}
}

static void op_get_info(struct worker *w)
{
	struct mmapdemo_info i;

	if (judge(w, OP_GET_INFO, mmapdemo_get_info(w->fd, &i), NULL, "GET_INFO"))
		return;
	if (i.pages != npages || i.size != npages * ps || i.page_size != ps ||
	    i.mode != (uint64_t)w->mode || i.flags != info.flags)
		failure(w, op_names[OP_GET_INFO], "pages %llu size %llu page_size %llu mode %llu"
			" flags %#llx; expected %" PRIu64 " ... mode %d flags %#llx",
			(unsigned long long)i.pages, (unsigned long long)i.size,
			(unsigned long long)i.page_size, (unsigned long long)i.mode,
			(unsigned long long)i.flags, npages, w->mode, (unsigned long long)info.flags);
}

/* The gauges can never be below what this thread holds itself. */
static void op_get_stats(struct worker *w)
{
	struct mmapdemo_stats st;
	uint64_t vmas = 0, pages = 0;
	size_t i, j;

	for (i = 0; i < MAX_MAPS; i++) {
		struct map *m = &w->maps[i];

		if (!m->addr)
			continue;
		/* An expandable VMA may merge with its neighbour (6.12 and newer). */
		vmas += !m->expandable;
		for (j = 0; j < m->npages; j++)
			pages += m->prot[j] != HOLE;
	}
	if (judge(w, OP_GET_STATS, mmapdemo_get_stats(w->fd, &st), NULL, "GET_STATS"))
		return;
	if (st.vmas < vmas || st.mapped_pages < pages)
		failure(w, op_names[OP_GET_STATS], "vmas %llu, mapped_pages %llu: this thread"
			" alone holds at least %" PRIu64 " VMAs of %" PRIu64 " pages",
			(unsigned long long)st.vmas, (unsigned long long)st.mapped_pages, vmas, pages);
	if (st.sigbus)
		failure(w, op_names[OP_GET_STATS], "sigbus is %llu: nothing touched past the buffer",
			(unsigned long long)st.sigbus);
}

static void op_set_mode(struct worker *w)
{
	uint64_t mode = below(w, MMAPDEMO_NR_MODES + 1), flags = 0;
	int ret;

	if (below(w, 4) == 0)
		flags = MMAPDEMO_MODE_EXPANDABLE;
	else if (below(w, 8) == 0)
		flags = 1ULL << (1 + below(w, 63));	/* unknown flag */
	ret = mmapdemo_set_mode(w->fd, mode, flags);
	if (mode >= MMAPDEMO_NR_MODES || (flags & ~MMAPDEMO_MODE_FLAGS)) {
		if (ret == 0)
			failure(w, op_names[OP_SET_MODE], "mode %" PRIu64 " flags %#" PRIx64
				" accepted", mode, flags);
		else
			judge(w, OP_SET_MODE, -1, ERRS(EINVAL), "invalid mode or flag");
	} else if (!modes[mode]) {
		if (ret == 0)
			failure(w, op_names[OP_SET_MODE], "mode %" PRIu64 " is not built, yet accepted",
				mode);
		else
			judge(w, OP_SET_MODE, -1, ERRS(EOPNOTSUPP), "mode not built");
	} else if (flags && !mode_expandable[mode]) {
		if (ret == 0)
			failure(w, op_names[OP_SET_MODE], "EXPANDABLE accepted by mode %" PRIu64, mode);
		else
			judge(w, OP_SET_MODE, -1, ERRS(EINVAL), "EXPANDABLE in a mode without it");
	} else if (!judge(w, OP_SET_MODE, ret, NULL, "SET_MODE")) {
		w->mode = (int)mode;
		w->expandable = flags != 0;
	}
}

/*
 * Unknown commands and known numbers with another direction: ENOTTY; a
 * structure smaller than its version 0: EINVAL; RESET_STATS (no argument)
 * with a size: ENOTTY. (Larger structures are valid: the uapi header.)
 */
static void op_bad_ioctl(struct worker *w)
{
	static const struct { unsigned long cmd; size_t ver0; } cmds[] = {
		{ MMAPDEMO_IOC_GET_INFO, MMAPDEMO_INFO_SIZE_VER0 },
		{ MMAPDEMO_IOC_SET_MODE, MMAPDEMO_MODE_SIZE_VER0 },
		{ MMAPDEMO_IOC_GET_STATS, MMAPDEMO_STATS_SIZE_VER0 },
		{ MMAPDEMO_IOC_RESET_STATS, 0 },
		{ MMAPDEMO_IOC_GET_PFN, MMAPDEMO_PFN_SIZE_VER0 },
	};
	unsigned int c = (unsigned int)below(w, 5);
	unsigned long cmd = cmds[c].cmd, bad;
	uint64_t arg[32] = { 0 };
	int want = ENOTTY;
	size_t size;

	switch (below(w, 3)) {
	case 0:	/* another size: too small, or any for RESET_STATS */
		if (cmds[c].ver0) {
			size = 8 * below(w, cmds[c].ver0 / 8);
			want = EINVAL;
		} else {
			size = 8 * (1 + below(w, 8));
		}
		bad = _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
		break;
	case 1:	/* another direction */
		bad = cmd ^ ((unsigned long)(1 + below(w, 3)) << _IOC_DIRSHIFT);
		break;
	default: /* an unknown number */
		bad = _IOC(_IOC_DIR(cmd), MMAPDEMO_IOC_MAGIC, 5 + below(w, 250), _IOC_SIZE(cmd));
		break;
	}
	if (ioctl(w->fd, bad, arg) == 0)
		failure(w, op_names[OP_BAD_IOCTL], "ioctl %#lx (a variant of %#lx) succeeded", bad, cmd);
	else if (want == EINVAL)
		judge(w, OP_BAD_IOCTL, -1, ERRS(EINVAL), "structure below version 0");
	else
		judge(w, OP_BAD_IOCTL, -1, ERRS(ENOTTY), "unknown ioctl");
}

static void op_get_pfn(struct worker *w)
{
	uint64_t idx = below(w, 4) ? below(w, npages) : npages + below(w, 1000), pfn;
	int ret = mmapdemo_get_pfn(w->fd, idx, &pfn);

	if (!have_pfns) {
		judge(w, OP_GET_PFN, ret, ERRS(EPERM), "GET_PFN without CAP_SYS_ADMIN");
	} else if (idx >= npages) {
		if (ret == 0)
			failure(w, op_names[OP_GET_PFN], "index %" PRIu64 " of %" PRIu64 " accepted",
				idx, npages);
		else
			judge(w, OP_GET_PFN, -1, ERRS(EINVAL), "index past the buffer");
	} else if (!judge(w, OP_GET_PFN, ret, NULL, "GET_PFN") && pfn != pfns[idx]) {
		failure(w, op_names[OP_GET_PFN], "page %" PRIu64 ": PFN %#" PRIx64 ", was %#" PRIx64,
			idx, pfn, pfns[idx]);
	}
}

/*
 * fork(): the child stores through a shared mapping (the parent must see
 * it) and through a private one (the parent must not), and exits, half
 * the time without unmapping anything.
 */
static void op_fork(struct worker *w)
{
	struct map *sm = NULL, *pm = NULL;
	long sj = -1, pj = -1;
	uint64_t sstamp = 0, pstamp, before = 0, got[2];
	bool tidy = below(w, 2);
	size_t i;
	int status;
	pid_t pid;

	for (i = 0; i < MAX_MAPS; i++) {
		struct map *m = &w->maps[i];

		if (!m->addr || m->dontfork)
			continue;
		if (m->shared && sj < 0 && (sj = pick_page(w, m, writable, true)) >= 0)
			sm = m;
		else if (!m->shared && pj < 0 && (pj = pick_page(w, m, writable, true)) >= 0)
			pm = m;
	}
	if (sm)
		sstamp = new_stamp(w);
	pstamp = new_stamp(w) | (1ULL << 46);
	if (pm)
		before = __atomic_load_n(word_at(pm->addr + pj * ps, false), __ATOMIC_RELAXED);

	pid = fork();
	if (pid < 0) {
		/*
		 * ENOMEM: x86 PAT on 6.1 refuses to fork a private VM_PFNMAP
		 * whose first page is a copy (see README). Debian's 6.1 also
		 * refuses some forks with ENOMEM when this process maps no
		 * VM_PFNMAP at all: accepted, and counted apart in the summary.
		 */
		if (errno == ENOMEM)
			__atomic_add_fetch(__atomic_load_n(&w->proc->live_private_pfnmap,
							   __ATOMIC_RELAXED) ?
					   &shm->fork_enomem_pfnmap : &shm->fork_enomem_other,
					   1, __ATOMIC_RELAXED);
		judge(w, OP_FORK, -1, ERRS(ENOMEM), "fork");
		return;
	}
	if (pid == 0) {
		if (sm)
			stamp_page(sm->addr + sj * ps, sstamp);
		if (pm)
			stamp_page(pm->addr + pj * ps, pstamp);
		if (tidy)
			for (i = 0; i < MAX_MAPS; i++)
				if (w->maps[i].addr && !map_has_hole(&w->maps[i]))
					munmap(w->maps[i].addr, w->maps[i].npages * ps);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		failure(w, op_names[OP_FORK], "child status %#x", status);
		return;
	}
	count(OP_FORK, false);
	__atomic_add_fetch(&shm->children, 1, __ATOMIC_RELAXED);
	if (sm) {
		uint64_t p = sm->first + sj;

		w->expect[p] = sstamp;
		check_device(w, OP_FORK, p, "after the child's shared store");
		check_other_mappings(w, OP_FORK, p, sstamp);
	}
	if (pm) {
		uint64_t p = pm->first + pj;
		uint64_t mine = __atomic_load_n(word_at(pm->addr + pj * ps, false), __ATOMIC_RELAXED);

		/* A page never stored to privately follows the device: only a copy is stable. */
		if (mine == pstamp || (pm->priv[pj] && mine != pm->priv[pj]))
			failure(w, op_names[OP_FORK], "private page %" PRIu64 " changed from %#" PRIx64
				" to %#" PRIx64 " after the child's private store", p, before, mine);
		if (dev_stamp(w, p, got) && (got[0] == pstamp || got[1] == pstamp))
			failure(w, op_names[OP_FORK], "the child's private store reached device page %"
				PRIu64, p);
		check_device(w, OP_FORK, p, "after the child's private store");
	}
}

/*
 * The race: this thread maps a private range into the process's race
 * area, lets another thread copy through it with read() (a store fault per
 * page) and write() to a pipe (a load fault per page), and unmaps it under
 * that copy by mapping PROT_NONE anonymous memory over it (MAP_FIXED: the
 * device VMA is unmapped and closed). The area always holds a mapping, so
 * no other mmap() can land there and a late copy gets EFAULT instead of
 * writing into someone else's mapping. Private: copies never reach the
 * device.
 */
#define RACE_PAGES	8

static void op_race_unmap(struct worker *w)
{
	struct proc *pr = w->proc;
	uint64_t n = 1 + below(w, npages < RACE_PAGES ? npages : RACE_PAGES);
	uint64_t first = below(w, npages - n + 1);
	unsigned long seen;
	char *a;
	int i;

	if (!private_ok(w->mode, first, n))
		return;
	pthread_mutex_lock(&pr->race_lock);
	if (pr->race_busy) {
		pthread_mutex_unlock(&pr->race_lock);
		return;
	}
	pr->race_busy = true;
	pthread_mutex_unlock(&pr->race_lock);

	a = mmap(pr->race_area, n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, w->fd,
		 (off_t)(first * ps));
	if (a == MAP_FAILED) {
		failure(w, op_names[OP_RACE_UNMAP], "mmap private %" PRIu64 "+%" PRIu64 ": %s",
			first, n, strerror(errno));
	} else {
		if (mode_pfnmap_private[w->mode])
			__atomic_add_fetch(&pr->live_private_pfnmap, 1, __ATOMIC_RELAXED);
		seen = __atomic_load_n(&pr->race_copies, __ATOMIC_ACQUIRE);
		__atomic_store_n(&pr->race_len, n * ps, __ATOMIC_RELEASE);
		/* Give a copier a chance to start (bounded; no timing is asserted). */
		for (i = 0; i < 2000 && __atomic_load_n(&pr->race_copies, __ATOMIC_ACQUIRE) == seen; i++)
			sched_yield();
		a = mmap(pr->race_area, RACE_PAGES * ps, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		__atomic_store_n(&pr->race_len, 0, __ATOMIC_RELEASE);
		judge(w, OP_RACE_UNMAP, a == MAP_FAILED ? -1 : 0, NULL, "unmap under a copy");
		if (mode_pfnmap_private[w->mode])
			__atomic_sub_fetch(&pr->live_private_pfnmap, 1, __ATOMIC_RELAXED);
	}
	pthread_mutex_lock(&pr->race_lock);
	pr->race_busy = false;
	pthread_mutex_unlock(&pr->race_lock);
}

static void op_race_copy(struct worker *w)
{
	struct proc *pr = w->proc;
	size_t len = __atomic_load_n(&pr->race_len, __ATOMIC_ACQUIRE);
	static __thread char sink[RACE_PAGES * 4096];
	ssize_t r;

	if (!len)
		return;
	__atomic_add_fetch(&pr->race_copies, 1, __ATOMIC_RELEASE);
	if (below(w, 2)) {
		r = pread(w->fd, pr->race_area, len, 0);
	} else {
		r = write(pr->pipe[1], pr->race_area, len < sizeof(sink) ? len : sizeof(sink));
		while (read(pr->pipe[0], sink, sizeof(sink)) > 0)
			;
	}
	/* The mapping may be gone at any point: a full copy, a short one, or EFAULT. */
	judge(w, OP_RACE_COPY, r, ERRS(EFAULT, EAGAIN), "copy through a mapping being unmapped");
}

static void (*const ops[NR_OPS])(struct worker *) = {
	[OP_MMAP] = op_mmap, [OP_MMAP_BAD] = op_mmap_bad, [OP_MMAP_WHOLE] = op_mmap_whole,
	[OP_MUNMAP] = op_munmap, [OP_MUNMAP_PART] = op_munmap_part, [OP_MPROTECT] = op_mprotect,
	[OP_MADVISE] = op_madvise, [OP_MREMAP_SHRINK] = op_mremap_shrink,
	[OP_MREMAP_GROW] = op_mremap_grow, [OP_TOUCH] = op_touch,
	[OP_STORE_SHARED] = op_store_shared, [OP_STORE_PRIVATE] = op_store_private,
	[OP_PWRITE] = op_pwrite, [OP_PREAD] = op_pread, [OP_RW_EDGE] = op_rw_edge,
	[OP_GET_INFO] = op_get_info, [OP_GET_STATS] = op_get_stats,
	[OP_SET_MODE] = op_set_mode, [OP_BAD_IOCTL] = op_bad_ioctl, [OP_GET_PFN] = op_get_pfn,
	[OP_FORK] = op_fork, [OP_RACE_UNMAP] = op_race_unmap, [OP_RACE_COPY] = op_race_copy,
};

static enum op pick_op(struct worker *w)
{
	unsigned int r = below(w, weight_total), i;

	for (i = 0; r >= op_weight[i]; i++)
		r -= op_weight[i];
	return (enum op)i;
}

static void *worker_thread(void *arg)
{
	struct worker *w = arg;
	unsigned long life = 200 + below(w, 1800), i;

	for (w->ops = 0; w->ops < life && now_s() < deadline; w->ops++) {
		enum op op = pick_op(w);

		if (op == OP_RESET_STATS)
			judge(w, op, mmapdemo_reset_stats(w->fd), NULL, "RESET_STATS");
		else
			ops[op](w);
	}
	/* Half the generations leave their mappings to exit(). */
	if (below(w, 2))
		for (i = 0; i < MAX_MAPS; i++)
			if (w->maps[i].addr)
				unmap_all(w, &w->maps[i]);
	return NULL;
}

/* One worker process: slot @slot, generation @gen. Exits 0, or 1 on a setup error. */
static void worker_process(unsigned int slot, unsigned int gen)
{
	struct worker *ws = calloc(nthreads, sizeof(*ws));
	pthread_t *tids = calloc(nthreads, sizeof(*tids));
	struct proc pr = { .race_lock = PTHREAD_MUTEX_INITIALIZER };
	unsigned int t;

	pr.race_area = mmap(NULL, RACE_PAGES * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!ws || !tids || pr.race_area == MAP_FAILED || pipe(pr.pipe) || fcntl(pr.pipe[0], F_SETFL, O_NONBLOCK) ||
	    fcntl(pr.pipe[1], F_SETFL, O_NONBLOCK)) {
		perror(PROG ": worker setup");
		_exit(1);
	}
	for (t = 0; t < nthreads; t++) {
		struct worker *w = &ws[t];

		w->slot = slot;
		w->gen = gen;
		w->thread = t;
		w->id = slot * nthreads + t;
		w->rng = splitmix(seed ^ splitmix(((uint64_t)slot << 40) ^ ((uint64_t)gen << 8) ^ t)) | 1;
		w->proc = &pr;
		w->fd = mmapdemo_open(O_RDWR);
		w->ro_fd = mmapdemo_open(O_RDONLY);
		w->expect = calloc(npages, sizeof(*w->expect));
		if (w->fd < 0 || w->ro_fd < 0 || !w->expect) {
			perror(PROG ": worker open");
			_exit(1);
		}
		/* Start in a random built mode. */
		do {
			w->mode = (int)below(w, MMAPDEMO_NR_MODES);
		} while (!modes[w->mode]);
		if (mmapdemo_set_mode(w->fd, w->mode, 0)) {
			perror(PROG ": SET_MODE");
			_exit(1);
		}
	}
	for (t = 0; t < nthreads; t++)
		if (pthread_create(&tids[t], NULL, worker_thread, &ws[t])) {
			perror(PROG ": pthread_create");
			_exit(1);
		}
	for (t = 0; t < nthreads; t++)
		pthread_join(tids[t], NULL);
	/* exit() closes the files and tears down whatever is still mapped. */
	_exit(0);
}

/* ---- setup: what the module can do ------------------------------------ */

static int probe(int fd)
{
	uint64_t m, i;

	for (m = 0; m < MMAPDEMO_NR_MODES; m++) {
		void *a;

		if (mmapdemo_set_mode(fd, m, 0)) {
			if (errno != EOPNOTSUPP) {
				fprintf(stderr, PROG ": SET_MODE %" PRIu64 ": %s (expected 0 or EOPNOTSUPP)\n",
					m, strerror(errno));
				return -1;
			}
			continue;
		}
		modes[m] = true;
		nmodes_built++;
		a = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, 0);
		if (a == MAP_FAILED) {
			fprintf(stderr, PROG ": mmap in mode %" PRIu64 ": %s\n", m, strerror(errno));
			return -1;
		}
		mode_pfnmap[m] = mmapdemo_is_pfnmap(a);
		munmap(a, ps);
		a = mmap(NULL, ps, PROT_READ, MAP_PRIVATE, fd, 0);
		if (a == MAP_FAILED) {
			fprintf(stderr, PROG ": private mmap in mode %" PRIu64 ": %s\n", m,
				strerror(errno));
			return -1;
		}
		mode_pfnmap_private[m] = mmapdemo_is_pfnmap(a);
		munmap(a, ps);
		mode_expandable[m] = mmapdemo_set_mode(fd, m, MMAPDEMO_MODE_EXPANDABLE) == 0;
	}
	if (!nmodes_built) {
		fprintf(stderr, PROG ": no mode is built into the module\n");
		return -1;
	}
	/* The PFN of every page (root only): which private remap ranges work. */
	pfns = calloc(npages, sizeof(*pfns));
	run_len = calloc(npages, sizeof(*run_len));
	if (!pfns || !run_len)
		return -1;
	have_pfns = true;
	for (i = 0; i < npages; i++) {
		if (mmapdemo_get_pfn(fd, i, &pfns[i])) {
			have_pfns = false;
			break;
		}
	}
	for (i = npages; have_pfns && i-- > 0;)
		run_len[i] = i + 1 < npages && pfns[i + 1] == pfns[i] + 1 ? run_len[i + 1] + 1 : 1;
	return 0;
}

/* ---- --opener: opens racing with rmmod/insmod ------------------------ */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static int opener(unsigned int secs)
{
	unsigned long opened = 0, gone = 0, bad = 0, mapped = 0;
	double end = now_s() + secs;
	struct sigaction sa = { .sa_handler = on_term };
	int err;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	while (!stop && now_s() < end) {
		int fd = open(MMAPDEMO_DEV_PATH, O_RDWR);
		struct mmapdemo_info i;
		char *m;

		if (fd < 0) {
			err = errno;
			if (err == ENOENT || err == ENODEV || err == ENXIO) {
				gone++;
			} else {
				bad++;
				fprintf(stderr, PROG ": open: %s (only ENOENT/ENODEV/ENXIO may happen)\n",
					strerror(err));
			}
			usleep(200);
			continue;
		}
		opened++;
		/* An open file holds the module: everything must work. */
		if (mmapdemo_get_info(fd, &i)) {
			bad++;
			fprintf(stderr, PROG ": GET_INFO on an open file: %s\n", strerror(errno));
		} else {
			m = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
			if (m == MAP_FAILED) {
				bad++;
				fprintf(stderr, PROG ": mmap on an open file: %s\n", strerror(errno));
			} else {
				m[0] = 1;
				munmap(m, ps);
				mapped++;
			}
		}
		close(fd);
		usleep(100);
	}
	printf(PROG " --opener: %lu opens (%lu mapped), %lu refused as gone, %lu unexpected\n",
	       opened, mapped, gone, bad);
	return bad ? 1 : 0;
}

/* ---- main ------------------------------------------------------------- */

static void usage(void)
{
	printf("usage: " PROG " [--duration S] [--seed N] [--procs P] [--threads T]\n"
	       "       " PROG " --opener S\n"
	       "Stress /dev/mmapdemo for S seconds (default %u) with P processes (default %u)\n"
	       "of T threads (default %u) doing random mmap/munmap/mprotect/madvise/mremap,\n"
	       "loads and stores, read/write, fork and every ioctl in every mode, checking\n"
	       "that shared writes land, private writes stay private, every error is the\n"
	       "expected one, and the vmas/mapped_pages gauges are 0 at the end.\n"
	       "The seed (default: from the clock) is printed with the command that repeats\n"
	       "the run. Needs a loaded module; as root, also checks GET_PFN and private\n"
	       "remap ranges exactly.\n"
	       "--opener S: open/map/close the device in a loop for S seconds while the\n"
	       "module is unloaded and loaded; opens may only fail with ENOENT/ENODEV/ENXIO.\n"
	       "Exit: 0 no failure, 1 failures, 2 bad arguments, 4 no device (skip).\n",
	       duration, nprocs, nthreads);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || v < lo || v > hi)
		mmapdemo_usage_error(PROG, "%s '%s': a number from %lu to %lu", opt, s, lo, hi);
	return v;
}

static void print_summary(double took)
{
	uint64_t total = 0;
	int i;

	printf("%-26s %12s %12s\n", "operation", "done", "refused (ok)");
	for (i = 0; i < NR_OPS; i++) {
		printf("%-26s %12" PRIu64 " %12" PRIu64 "\n", op_names[i], shm->done[i],
		       shm->refused[i]);
		total += shm->done[i] + shm->refused[i];
	}
	printf("%" PRIu64 " operations in %.0f s by %" PRIu64 " worker processes (%u at a time,"
	       " %u threads each) and %" PRIu64 " forked children\n", total, took,
	       shm->generations, nprocs, nthreads, shm->children);
	printf("fork() refused with ENOMEM: %" PRIu64 " with a private VM_PFNMAP mapped, %" PRIu64
	       " without\n", shm->fork_enomem_pfnmap, shm->fork_enomem_other);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "duration", required_argument, NULL, 'd' },
		{ "seed", required_argument, NULL, 's' },
		{ "procs", required_argument, NULL, 'p' },
		{ "threads", required_argument, NULL, 't' },
		{ "opener", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int *gens, s, running = 0, opener_secs = 0;
	bool seeded = false, hung = false;
	struct mmapdemo_stats st;
	pid_t *pids, pid;
	double t0, grace;
	int c, fd, status;

	while ((c = getopt_long(argc, argv, "d:s:p:t:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd':
			duration = parse_num("--duration", optarg, 1, 7 * 86400);
			break;
		case 's':
			seed = parse_num("--seed", optarg, 0, ULONG_MAX);
			seeded = true;
			break;
		case 'p':
			nprocs = parse_num("--procs", optarg, 1, 64);
			break;
		case 't':
			nthreads = parse_num("--threads", optarg, 1, 64);
			break;
		case 'o':
			opener_secs = parse_num("--opener", optarg, 1, 86400);
			break;
		case 'h':
			usage();
			return 0;
		default:
			mmapdemo_usage_error(PROG, "unknown option");
		}
	}
	if (optind < argc)
		mmapdemo_usage_error(PROG, "unexpected argument '%s'", argv[optind]);
	ps = mmapdemo_page_size();
	for (c = 0; c < NR_OPS; c++)
		weight_total += op_weight[c];
	if (opener_secs)
		return opener(opener_secs);

	if (!seeded)
		seed = splitmix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	fd = mmapdemo_open(O_RDWR);
	if (fd < 0) {
		printf("1..0 # SKIP cannot open %s: %s (is mmapdemo.ko loaded?)\n", MMAPDEMO_DEV_PATH,
		       strerror(errno));
		return KSFT_SKIP;
	}
	if (mmapdemo_get_info(fd, &info)) {
		perror(PROG ": GET_INFO");
		return 1;
	}
	npages = info.pages;
	if (probe(fd))
		return 1;
	printf(PROG ": seed %" PRIu64 "; repeat with: " PROG " --seed %" PRIu64
	       " --duration %u --procs %u --threads %u\n", seed, seed, duration, nprocs, nthreads);
	printf(PROG ": %" PRIu64 " pages (%s), modes:", npages,
	       info.flags & MMAPDEMO_INFO_CONTIGUOUS ? "contiguous" : "in chunks");
	for (s = 0; s < MMAPDEMO_NR_MODES; s++)
		if (modes[s])
			printf(" %s%s%s", mmapdemo_mode_name(s) ? mmapdemo_mode_name(s) : "?",
			       mode_pfnmap[s] ? " (pfnmap)" : "",
			       mode_expandable[s] ? " (expandable)" : "");
	printf("%s\n", have_pfns ? "" : "; not root: PFNs unknown");
	fflush(stdout);

	shm = mmap(NULL, sizeof(*shm), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pids = calloc(nprocs, sizeof(*pids));
	gens = calloc(nprocs, sizeof(*gens));
	if (shm == MAP_FAILED || !pids || !gens) {
		perror(PROG);
		return 1;
	}
	t0 = now_s();
	deadline = t0 + duration;
	/* Generous: a debug kernel under TCG is slow; no timing is asserted. */
	grace = 120 + duration;

	for (;;) {
		bool more = now_s() < deadline;

		for (s = 0; more && s < nprocs; s++) {
			if (pids[s])
				continue;
			shm->generations++;
			pids[s] = fork();
			if (pids[s] < 0) {
				perror(PROG ": fork");
				return 1;
			}
			if (!pids[s])
				worker_process(s, gens[s]);
			gens[s]++;
			running++;
		}
		if (!running)
			break;
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == 0 && now_s() > deadline + grace) {
			hung = true;
			break;
		}
		if (pid == 0) {
			usleep(20000);
			continue;
		}
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (s = 0; s < nprocs; s++)
			if (pids[s] == pid)
				break;
		if (s == nprocs)
			continue;
		pids[s] = 0;
		running--;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			__atomic_add_fetch(&shm->failures, 1, __ATOMIC_RELAXED);
			fprintf(stderr, "FAIL: seed %" PRIu64 " slot %u gen %u: worker %s %d\n", seed,
				s, gens[s] - 1, WIFSIGNALED(status) ? "killed by signal" : "exit status",
				WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		}
	}
	if (hung) {
		fprintf(stderr, "FAIL: workers still running %.0f s after the deadline: killing them\n",
			grace);
		for (s = 0; s < nprocs; s++)
			if (pids[s])
				kill(pids[s], SIGKILL);
		while (wait(NULL) > 0)
			;
		shm->failures++;
	}

	print_summary(now_s() - t0);
	/* Every worker is gone: nothing of the device is mapped any more. */
	if (mmapdemo_get_stats(fd, &st)) {
		perror(PROG ": GET_STATS");
		shm->failures++;
	} else {
		printf("gauges at the end: vmas %llu, mapped_pages %llu (both must be 0)\n",
		       (unsigned long long)st.vmas, (unsigned long long)st.mapped_pages);
		if (st.vmas || st.mapped_pages) {
			fprintf(stderr, "FAIL: %llu VMAs of %llu pages left after every worker exited\n",
				(unsigned long long)st.vmas, (unsigned long long)st.mapped_pages);
			shm->failures++;
		}
	}
	close(fd);
	printf(PROG ": %" PRIu64 " invariant failures; seed %" PRIu64 "\n", shm->failures, seed);
	return shm->failures ? 1 : 0;
}
