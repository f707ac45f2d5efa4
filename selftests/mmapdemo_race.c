// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_race: MMAPDEMO_IOC_SET_MODE against mmap() in another thread.
 *
 * SET_MODE sets two things for the later mmap()s of an open file, the
 * variant and the EXPANDABLE flag, and refuses the pairs that make no
 * sense: EXPANDABLE (no VM_DONTEXPAND, no VM_DONTDUMP) exists for fault
 * mode only. If the pair is published or read in two steps, an mmap()
 * racing a SET_MODE can see the variant of one call and the flag of
 * another, e.g. insert + expandable: an insert mapping without
 * VM_DONTEXPAND, which mremap() can grow past what was inserted.
 *
 * One thread flips the file between (insert, 0) and (fault, EXPANDABLE),
 * as fast as it can; the other maps one page, a fixed number of times, and
 * classifies every mapping by what it can observe from userspace:
 *   inserted  the page is resident right after mmap() (mincore): insert
 *             maps at mmap() time, fault maps nothing before a touch
 *   growable  mremap() grows it in place into the page reserved after it:
 *             no VM_DONTEXPAND
 * An inserted, growable mapping is the mix; smaps' VmFlags ("mm" without
 * "de") confirms it. A mapping neither inserted nor growable, fault mode
 * without EXPANDABLE, is a mix too: a valid setting, but one this test
 * never sets. The verdict is a count over a fixed number of mappings,
 * never a time: no mix of either kind, and both settings seen (so the
 * flips did reach the mmap()s).
 *
 * Needs root and a loaded module with at least one page. SKIP otherwise.
 * The time limit (600 s) is only for a slow kernel.
 */

/* The harness under -Wextra: see mmapdemo_fixture.h. */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmmapdemo.h"

/*
 * Mappings per run: against a module that reads the pair in two loads,
 * enough for many mixes under QEMU TCG (measured: see the commit). A slow
 * kernel (MMAPDEMO_TIME_FACTOR, the VM's TIME_FACTOR: 4 on the debug
 * kernels, where each mapping costs ten times as much under KASAN and
 * lockdep) makes that many times fewer, so that the run fits the time
 * limit: the verdict is still a count, never a time.
 */
#define MAPPINGS	20000

static int nr_mappings(void)
{
	const char *tf = getenv("MMAPDEMO_TIME_FACTOR");
	int factor = tf ? atoi(tf) : 1;

	return factor > 1 ? MAPPINGS / factor : MAPPINGS;
}

struct flipper {
	int fd;
	int stop;
	unsigned long flips;
	int err;
};

/* Flip between (insert, 0) and (fault, EXPANDABLE) until told to stop. */
static void *flip(void *arg)
{
	struct flipper *f = arg;

	while (!__atomic_load_n(&f->stop, __ATOMIC_RELAXED)) {
		if (mmapdemo_set_mode(f->fd, MMAPDEMO_MODE_INSERT, 0) ||
		    mmapdemo_set_mode(f->fd, MMAPDEMO_MODE_FAULT, MMAPDEMO_MODE_EXPANDABLE)) {
			f->err = errno;
			break;
		}
		f->flips++;
	}
	return NULL;
}

/* What one mapping turned out to be. */
enum kind { INSERTED, EXPANDABLE, FAULT_FIXED, MIXED, NR_KINDS };

static const char *const kind_names[NR_KINDS] = {
	"insert (resident, not growable)",
	"fault + EXPANDABLE (not resident, growable)",
	"fault without EXPANDABLE (neither: a mix, never set here)",
	"insert + EXPANDABLE (resident AND growable: a mix)",
};

/*
 * Map one page of @fd at @slot (two pages reserved), classify it, unmap
 * it. Return: its kind, or -1 with errno set.
 */
static int map_and_classify(int fd, char *slot, size_t ps, char *flags, size_t fsize)
{
	unsigned char vec;
	bool resident, growable;
	char *m, *r;

	m = mmap(slot, ps, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
	if (m == MAP_FAILED)
		return -1;
	/* A hole after it, for mremap() to grow into. */
	if (munmap(slot + ps, ps))
		return -1;
	if (mincore(m, ps, &vec))
		return -1;
	resident = vec & 1;
	r = mremap(m, ps, 2 * ps, 0);
	growable = r != MAP_FAILED;
	if (!growable && errno != EFAULT)
		return -1;
	if (resident && growable &&
	    (mmapdemo_smaps_vmflags(m, flags, fsize) || !mmapdemo_vmflag(flags, "mm") ||
	     mmapdemo_vmflag(flags, "de"))) {
		/* Not what a mix looks like in smaps: an error of the classification. */
		errno = EPROTO;
		return -1;
	}
	/* Put the reservation back: PROT_NONE over the page(s). */
	if (mmap(slot, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		return -1;
	if (resident)
		return growable ? MIXED : INSERTED;
	return growable ? EXPANDABLE : FAULT_FIXED;
}

FIXTURE(race)
{
};

FIXTURE_SETUP(race)
{
}

FIXTURE_TEARDOWN(race)
{
}

/* An mmap() sees the variant and the flag of one and the same SET_MODE. */
TEST_F_TIMEOUT(race, set_mode_pair_is_one_value, 600)
{
	size_t ps = mmapdemo_page_size();
	unsigned long seen[NR_KINDS] = { 0 };
	struct flipper f = { .fd = -1 };
	char flags[256];
	pthread_t thread;
	int i, k, mappings = nr_mappings();
	char *slot;

	if (geteuid())
		SKIP(return, "needs root");
	f.fd = mmapdemo_open(O_RDWR);
	if (f.fd < 0)
		SKIP(return, "cannot open %s: %s", MMAPDEMO_DEV_PATH, strerror(errno));
	slot = mmap(NULL, 2 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, slot);
	/* Not the module's default (fault, 0): only the two settings flipped. */
	ASSERT_EQ(0, mmapdemo_set_mode(f.fd, MMAPDEMO_MODE_INSERT, 0));

	ASSERT_EQ(0, pthread_create(&thread, NULL, flip, &f));
	for (i = 0; i < mappings; i++) {
		k = map_and_classify(f.fd, slot, ps, flags, sizeof(flags));
		if (k < 0)
			break;
		seen[k]++;
		if (k == MIXED && seen[k] == 1)
			TH_LOG("mapping %d: VmFlags %s", i, flags);
	}
	__atomic_store_n(&f.stop, 1, __ATOMIC_RELAXED);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	ASSERT_EQ(mappings, i) TH_LOG("mapping %d: %s", i, strerror(errno));
	ASSERT_EQ(0, f.err) TH_LOG("SET_MODE: %s", strerror(f.err));

	TH_LOG("%d mappings during %lu pairs of SET_MODE:", mappings, f.flips);
	for (k = 0; k < NR_KINDS; k++)
		TH_LOG("  %6lu %s", seen[k], kind_names[k]);
	/* The flips reached the mmap()s: both settings were mapped. */
	ASSERT_LT(0, seen[INSERTED]);
	ASSERT_LT(0, seen[EXPANDABLE]);
	ASSERT_EQ(0, seen[MIXED]);
	ASSERT_EQ(0, seen[FAULT_FIXED]);
	ASSERT_EQ(0, munmap(slot, 2 * ps));
	ASSERT_EQ(0, close(f.fd));
}

TEST_HARNESS_MAIN
