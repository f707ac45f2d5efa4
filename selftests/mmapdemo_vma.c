// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_vma: the life of a device VMA as the driver counts it. Demand
 * paging counted four ways (minor faults, pagemap, mincore, the device),
 * splits by mprotect() and munmap(), fork() copying every VMA, the gauges
 * across RESET_STATS, a mapping that outlives its file, delete_module()
 * refused while a file or a mapping exists, and munmap() racing with
 * faults in another thread.
 */
#include <pthread.h>
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>

#include "mmapdemo_fixture.h"

/*
 * Demand paging counted four ways: minor faults, pagemap present bits,
 * mincore and the device's fault counter follow the model (fault mode:
 * the pages touched; remap: 0, PTEs filled at mmap, invisible to the page
 * walkers; insert: all present from mmap on, visible; batch: the first
 * touch maps them all; huge: one fault per page, invisible: VM_PFNMAP).
 * Each page faults at most once, read or write.
 */
TEST_F(mmapdemo, demand_paging_counted)
{
	size_t n = min_sz(self->pages, 8), half = (n + 1) / 2, ps = self->page_size;
	struct counts c = { 0 };
	struct model mdl;
	uint64_t sysfs;
	char *m;

	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	MODEL(&mdl, &c, m, 0, n, true);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(model_visible(&mdl), mmapdemo_pagemap_present(m, n));
	ASSERT_EQ(model_visible(&mdl), mmapdemo_mincore_count(m, n));

	/* Read pages 0, 2, 4, ... */
	ASSERT_EQ(model_touch(&mdl, 0, half, 2, false), mmapdemo_touch(m, half, 2, -1));
	ASSERT_EQ(model_visible(&mdl), mmapdemo_pagemap_present(m, n));
	ASSERT_EQ(model_visible(&mdl), mmapdemo_mincore_count(m, n));
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, mmapdemo_sysfs_u64("faults", &sysfs));
	ASSERT_EQ(c.faults, sysfs);
	ASSERT_EQ(IS_PER_PAGE ? half : IS_BATCH ? 1 : 0, c.faults);
	/* Again, and writing them: nothing new. */
	ASSERT_EQ(0, mmapdemo_touch(m, half, 2, -1));
	ASSERT_EQ(0, mmapdemo_touch(m, half, 2, 0x44));
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = n);

	/* Write pages 1, 3, 5, ...: a first write is one fault too. */
	if (n > 1) {
		ASSERT_EQ(model_touch(&mdl, 1, n - half, 2, true),
			  mmapdemo_touch(m + ps, n - half, 2, 0x55));
		ASSERT_EQ(model_visible(&mdl), mmapdemo_pagemap_present(m, n));
		ASSERT_EQ(model_visible(&mdl), mmapdemo_mincore_count(m, n));
		ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	}
	ASSERT_EQ(IS_PER_PAGE ? n : IS_BATCH ? 1 : 0, c.faults);
	ASSERT_EQ(IF_LAZY(n), c.fault_pages);
	model_free(&mdl);
	ASSERT_EQ(0, munmap(m, n * ps));
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vma_closes = 1);
}

/*
 * Splits: mprotect of the middle page makes 3 VMAs (2 opens), munmap of a
 * page at an end splits then closes; the gauges follow, and at the end
 * closes == mmaps + opens.
 */
TEST_F(mmapdemo, vma_split_counters)
{
	size_t ps = self->page_size;
	uint64_t f;
	char *m;

	NEED_PAGES(4);
	RESET_STATS(self->fd);
	m = map_dev(self->fd, 4, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 4);

	ASSERT_EQ(0, mprotect(m + ps, ps, PROT_READ));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 2, .vmas = 3, .mapped_pages = 4);
	/* Device VMAs never merge back (they have ->close). */
	ASSERT_EQ(0, mprotect(m + ps, ps, PROT_READ | PROT_WRITE));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 2, .vmas = 3, .mapped_pages = 4);
	ASSERT_LE(0, mmapdemo_touch(m, 4, 1, -1));

	/* batch: 3 faults, one per VMA: [0, 1), [1, 2), [2, 4). */
	f = IS_PER_PAGE ? 4 : IS_BATCH ? 3 : 0;

	/* munmap of the last page: splits [2, 4), closes [3, 4). */
	ASSERT_EQ(0, munmap(m + 3 * ps, ps));
	ASSERT_STATS(self->fd, .faults = f, .fault_pages = IF_LAZY(4), .mmaps = 1, .vma_opens = 3,
		     .vma_closes = 1, .vmas = 3, .mapped_pages = 3);
	ASSERT_EQ(0, munmap(m, 3 * ps));
	ASSERT_STATS(self->fd, .faults = f, .fault_pages = IF_LAZY(4), .mmaps = 1, .vma_opens = 3,
		     .vma_closes = 4);

	/* The plain case: 4 pages, unmap the last, then the first. */
	RESET_STATS(self->fd);
	m = map_dev(self->fd, 4, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m + 3 * ps, ps));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 1, .vma_closes = 1, .vmas = 1,
		     .mapped_pages = 3);
	ASSERT_EQ(0, munmap(m, ps));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 2, .vma_closes = 2, .vmas = 1,
		     .mapped_pages = 2);
	ASSERT_EQ(0, munmap(m + ps, 2 * ps));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 2, .vma_closes = 3);
}

/* fork copies every device VMA (opens += vmas); the child's exit closes them. */
TEST_F(mmapdemo, fork_counters)
{
	size_t ps = self->page_size;
	int to_child[2], to_parent[2];
	char *m;
	pid_t pid;

	NEED_PAGES(2);
	RESET_STATS(self->fd);
	m = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, mprotect(m + ps, ps, PROT_READ));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 1, .vmas = 2, .mapped_pages = 2);
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		CHILD_CHECK(step_send(to_parent[1]) == 0);
		CHILD_CHECK(step_wait(to_child[0]) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(to_parent[0]));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 3, .vmas = 4, .mapped_pages = 4);
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_TRUE(child_ok(pid));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 3, .vma_closes = 2, .vmas = 2,
		     .mapped_pages = 2);
	ASSERT_EQ(0, munmap(m, 2 * ps));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_opens = 3, .vma_closes = 4);
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/* RESET_STATS zeroes the event counters, not the gauges. */
TEST_F(mmapdemo, stats_reset_keeps_gauges)
{
	size_t n = min_sz(self->pages, 2);
	char *m;

	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_LE(0, mmapdemo_touch(m, n, 1, -1));
	ASSERT_STATS(self->fd, .faults = IS_PER_PAGE ? n : IS_BATCH ? 1 : 0,
		     .fault_pages = IF_LAZY(n), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, mmapdemo_reset_stats(self->fd));
	ASSERT_STATS(self->fd, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, munmap(m, n * self->page_size));
	ASSERT_STATS(self->fd, .vma_closes = 1);
}

/* A mapping keeps working after its file is closed; the gauges reach 0 after munmap. */
TEST_F(mmapdemo, mapping_outlives_close)
{
	size_t ps = self->page_size;
	uint64_t *s, *p;
	int fd2;

	NEED_PRIVATE_RANGE(0, 1);
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 34)));
	RESET_STATS(self->fd);
	fd2 = mmapdemo_open(O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, mmapdemo_set_mode(fd2, variant->mode, 0));
	s = map_dev(fd2, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(fd2, 1, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, close(fd2));

	ASSERT_TRUE(page_has(s, tag(0, 34)));
	fill_page(s, tag(0, 35));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 35)));
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 36)));
	ASSERT_TRUE(page_has(s, tag(0, 36)));
	ASSERT_TRUE(page_has(p, tag(0, 36)));
	fill_page(p, tag(0, 37));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 36)));
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(2)), .mmaps = 2, .vmas = 2, .mapped_pages = 2);

	ASSERT_EQ(0, munmap(s, ps));
	ASSERT_EQ(0, munmap(p, ps));
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(2)), .mmaps = 2, .vma_closes = 2);
}

/* delete_module(2): glibc has no wrapper. */
static int delete_module(const char *name, int flags)
{
	return syscall(SYS_delete_module, name, flags);
}

/*
 * delete_module() is refused while a file is open and, after it is
 * closed, while a mapping exists.
 */
TEST_F(mmapdemo, module_busy_while_mapped)
{
	size_t ps = self->page_size;
	uint64_t *m;

	errno = 0;
	ASSERT_EQ(-1, delete_module(MODULE_NAME, O_NONBLOCK));
	ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);

	RESET_STATS(self->fd);
	m = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, close(self->fd));
	self->fd = -1;
	errno = 0;
	ASSERT_EQ(-1, delete_module(MODULE_NAME, O_NONBLOCK))
		TH_LOG("the module was unloaded under a live mapping");
	ASSERT_TRUE(errno == EWOULDBLOCK || errno == EBUSY) TH_LOG("errno %d", errno);
	m[0] = 0x77;
	ASSERT_EQ(0x77, m[0]);
	ASSERT_EQ(0, munmap(m, ps));

	self->fd = mmapdemo_open(O_RDWR);
	ASSERT_GE(self->fd, 0);
	ASSERT_EQ(0x77, dev_word(self->fd, 0, 0));
	/* One write fault (lazy modes), one mmap, its VMA closed by munmap. */
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(1)), .mmaps = 1, .vma_closes = 1);
}

/* CLOCK_MONOTONIC in seconds. */
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

struct race {
	int fd;
	size_t len;
	char *map;		/* the current (or a just unmapped) mapping */
	int stop;
	unsigned long ops, full, partial, efault, other;
	int other_errno;
};

/* Copy between the device and the mapping through the kernel: no SIGSEGV. */
static void *race_toucher(void *arg)
{
	struct race *r = arg;
	unsigned long i = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		char *m = __atomic_load_n(&r->map, __ATOMIC_ACQUIRE);
		ssize_t n;

		if (!m) {
			sched_yield();
			continue;
		}
		if (i++ & 1)
			n = pread(r->fd, m, r->len, 0);		/* fills the mapping */
		else
			n = pwrite(r->fd, m, r->len, 0);	/* reads the mapping */
		if (n == (ssize_t)r->len) {
			r->full++;
		} else if (n > 0) {
			r->partial++;
		} else if (n < 0 && errno == EFAULT) {
			r->efault++;
		} else {
			r->other++;
			r->other_errno = n < 0 ? errno : 0;
		}
		__atomic_add_fetch(&r->ops, 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/*
 * One thread unmaps while another faults pages in through read()/write()
 * on the mapping (test_hmm's teardown pattern), many times. Every mapping
 * is closed exactly once and nothing else may happen.
 */
TEST_F_TIMEOUT(mmapdemo, teardown_race, 120)
{
	size_t n = min_sz(self->pages, 16), ps = self->page_size;
	struct race r = { .fd = self->fd, .len = n * ps };
	bool priv_ok = !IS_REMAP || pfn_run(self->fd, 0, n);
	unsigned long iters, i, seen;
	double deadline = now_s() + 4;
	pthread_t thread;

	RESET_STATS(self->fd);
	ASSERT_EQ(0, pthread_create(&thread, NULL, race_toucher, &r));
	for (iters = 0; iters < 1000 && now_s() < deadline; iters++) {
		int flags = (iters & 1) && priv_ok ? MAP_PRIVATE : MAP_SHARED;
		char *m = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, flags);

		ASSERT_NE(MAP_FAILED, m);
		seen = __atomic_load_n(&r.ops, __ATOMIC_ACQUIRE);
		__atomic_store_n(&r.map, m, __ATOMIC_RELEASE);
		/* Let the toucher start on this mapping, then pull it away. */
		for (i = 0; i < 100000 && __atomic_load_n(&r.ops, __ATOMIC_ACQUIRE) == seen; i++)
			sched_yield();
		ASSERT_EQ(0, munmap(m, n * ps));
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	ASSERT_EQ(0, pthread_join(thread, NULL));
	TH_LOG("%lu mappings; %lu copies: %lu full, %lu partial, %lu EFAULT",
	       iters, r.ops, r.full, r.partial, r.efault);
	ASSERT_EQ(0, r.other) TH_LOG("unexpected result, errno %d", r.other_errno);
	ASSERT_LT(0, r.full);
	/*
	 * How many pages the toucher reached varies; remap never calls .fault,
	 * nor does insert (nothing zaps its pages); no PMD in 16 pages.
	 */
	ASSERT_STATS(self->fd, .faults = IS_LAZY ? ANY : 0, .fault_pages = IS_LAZY ? ANY : 0,
		     .mmaps = iters, .vma_closes = iters);
}

TEST_HARNESS_MAIN
