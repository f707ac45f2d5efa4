// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_cow: MAP_PRIVATE mappings and copy-on-write. A private mapping of
 * the whole buffer and of a physically discontiguous range (which remap
 * refuses), private writes invisible to the device and to other mappings
 * while unwritten pages follow the device, the faults each costs, fork()
 * with shared and private mappings (including the first page's COW before
 * a fork of a VM_PFNMAP mapping), and pagemap's view of the copy.
 */
#include <sys/wait.h>

#include "mmapdemo_fixture.h"

/*
 * MAP_PRIVATE of the whole buffer: works in fault mode always, in remap
 * mode when the buffer is physically contiguous.
 */
TEST_F_TIMEOUT(mmapdemo, mmap_private_whole, 120)
{
	size_t pages = self->pages, ps = self->page_size, last = pages - 1, mid = pages / 2;
	struct counts c = { 0 };
	struct model mdl;
	uint64_t *m;

	if (IS_REMAP && !(self->info.flags & MMAPDEMO_INFO_CONTIGUOUS))
		SKIP(return, "remap MAP_PRIVATE of everything needs a contiguous buffer");
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 8)));
	ASSERT_EQ(0, dev_fill(self->fd, mid, tag(mid, 8)));
	ASSERT_EQ(0, dev_fill(self->fd, last, tag(last, 8)));
	RESET_STATS(self->fd);

	m = map_dev(self->fd, pages, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, m);
	MODEL(&mdl, &c, m, 0, pages, false);
	ASSERT_TRUE(page_has(page_ptr(m, mid), tag(mid, 8)));
	fill_page(page_ptr(m, 0), tag(0, 9));
	fill_page(page_ptr(m, last), tag(last, 9));
	model_touch(&mdl, mid, 1, 1, false);
	model_touch(&mdl, 0, 1, 1, true);
	model_touch(&mdl, last, 1, 1, true);
	model_free(&mdl);
	ASSERT_TRUE(page_has(page_ptr(m, 0), tag(0, 9)));
	ASSERT_TRUE(page_has(page_ptr(m, last), tag(last, 9)));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 8)));
	ASSERT_TRUE(dev_has(self->fd, last, tag(last, 8)));
	ASSERT_EQ(0, munmap(m, pages * ps));
	/* fault: 3 (2 or 1 for a buffer of 2 or 1 pages); batch: 2 if mid's window has last */
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vma_closes = 1);
}

/*
 * A physically discontiguous range: remap mode refuses MAP_PRIVATE with
 * EINVAL and one kernel log line, maps it MAP_SHARED; fault mode maps both.
 */
TEST_F_TIMEOUT(mmapdemo, mmap_private_discontiguous, 120)
{
	size_t ps = self->page_size;
	long lines;
	int64_t b;
	uint64_t *m;

	if (self->info.flags & MMAPDEMO_INFO_CONTIGUOUS)
		SKIP(return, "buffer is physically contiguous (needs e.g. pages=65536)");
	b = pfn_discontinuity(self->fd, self->pages);
	ASSERT_GE(b, 0) TH_LOG("not CONTIGUOUS but no PFN discontinuity found");
	ASSERT_EQ(0, dev_fill(self->fd, b, tag(b, 10)));
	ASSERT_EQ(0, dev_fill(self->fd, b + 1, tag(b + 1, 10)));
	RESET_STATS(self->fd);

	lines = klog_lines();
	ASSERT_LE(0, lines);
	m = map_dev(self->fd, 2, b, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	if (IS_REMAP) {
		ASSERT_EQ(MAP_FAILED, m);
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(lines + 1, klog_lines());
		ASSERT_EQ(MAP_FAILED, map_dev(self->fd, self->pages, 0, PROT_READ, MAP_PRIVATE));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_EQ(lines + 2, klog_lines());
		ASSERT_STATS(self->fd);
		/* Each page alone is contiguous. */
		m = map_dev(self->fd, 1, b + 1, PROT_READ | PROT_WRITE, MAP_PRIVATE);
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_TRUE(page_has(m, tag(b + 1, 10)));
		ASSERT_EQ(0, munmap(m, ps));
		m = map_dev(self->fd, 2, b, PROT_READ | PROT_WRITE, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_TRUE(page_has(m, tag(b, 10)));
		ASSERT_TRUE(page_has(page_ptr(m, 1), tag(b + 1, 10)));
		ASSERT_EQ(0, munmap(m, 2 * ps));
		ASSERT_STATS(self->fd, .mmaps = 2, .vma_closes = 2);
	} else {
		ASSERT_NE(MAP_FAILED, m);
		ASSERT_TRUE(page_has(m, tag(b, 10)));
		ASSERT_TRUE(page_has(page_ptr(m, 1), tag(b + 1, 10)));
		fill_page(page_ptr(m, 1), tag(b + 1, 11));
		ASSERT_TRUE(dev_has(self->fd, b + 1, tag(b + 1, 10)));
		ASSERT_EQ(0, munmap(m, 2 * ps));
		ASSERT_EQ(lines, klog_lines());
		/* Two reads: fault and huge 2 faults, batch 1 (both pages), insert none. */
		ASSERT_STATS(self->fd, .faults = IS_PER_PAGE ? 2 : IS_BATCH ? 1 : 0,
			     .fault_pages = IF_LAZY(2), .mmaps = 1, .vma_closes = 1);
	}
}

/*
 * Basic COW: a private write is invisible to read() and to a shared
 * mapping; until its own write the private page shows the device's
 * current content, written through the shared mapping or write().
 */
TEST_F(mmapdemo, cow_private_write)
{
	size_t n = 2, ps = self->page_size;
	uint64_t *s, *p, *p2;

	NEED_PAGES(2);
	NEED_PRIVATE_RANGE(0, n);
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 12)));
	ASSERT_EQ(0, dev_fill(self->fd, 1, tag(1, 12)));
	s = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	p2 = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p2);

	/* Page 0: private write. */
	ASSERT_TRUE(page_has(p, tag(0, 12)));
	fill_page(p, tag(0, 13));
	ASSERT_TRUE(page_has(p, tag(0, 13)));
	ASSERT_TRUE(page_has(s, tag(0, 12)));
	ASSERT_TRUE(page_has(p2, tag(0, 12)));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 12)));
	/* Later device writes do not reach the private copy. */
	fill_page(s, tag(0, 14));
	ASSERT_TRUE(page_has(p, tag(0, 13)));
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 15)));
	ASSERT_TRUE(page_has(p, tag(0, 13)));
	ASSERT_TRUE(page_has(p2, tag(0, 15)));

	/* Page 1: read first (mapped from the device), then device writes show. */
	ASSERT_TRUE(page_has(page_ptr(p, 1), tag(1, 12)));
	ASSERT_EQ(0, dev_fill(self->fd, 1, tag(1, 16)));
	ASSERT_TRUE(page_has(page_ptr(p, 1), tag(1, 16)));
	fill_page(page_ptr(s, 1), tag(1, 17));
	ASSERT_TRUE(page_has(page_ptr(p, 1), tag(1, 17)));
	/* ... until its own write. */
	page_ptr(p, 1)[0] = 99;
	ASSERT_EQ(tag(1, 17) + 1, page_ptr(p, 1)[1]);
	fill_page(page_ptr(s, 1), tag(1, 18));
	ASSERT_EQ(99, page_ptr(p, 1)[0]);
	ASSERT_EQ(tag(1, 17) + 1, page_ptr(p, 1)[1]);
	ASSERT_TRUE(dev_has(self->fd, 1, tag(1, 18)));

	ASSERT_EQ(0, munmap(s, n * ps));
	ASSERT_EQ(0, munmap(p, n * ps));
	ASSERT_EQ(0, munmap(p2, n * ps));
}

/*
 * Faults of a private mapping: a write to an untouched page is one .fault
 * (fault mode) and one minor fault; read then write is one .fault and two
 * minor faults. remap: reads take no fault, each first write one (COW).
 */
TEST_F(mmapdemo, cow_private_minflt)
{
	size_t n = 2, ps = self->page_size;
	char *p;

	NEED_PAGES(2);
	NEED_PRIVATE_RANGE(0, n);
	RESET_STATS(self->fd);
	p = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);

	/* batch: a private write maps no window; the read's window ends at the VMA. */
	ASSERT_EQ(1, mmapdemo_touch(p, 1, 1, 0x11));			/* write page 0 */
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(1)), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ((long)IF_LAZY(1), mmapdemo_touch(p + ps, 1, 1, -1));	/* read page 1 */
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(2)), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(1, mmapdemo_touch(p + ps, 1, 1, 0x22));		/* write page 1 */
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(2)), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	/* Copies stay: no more faults. */
	ASSERT_EQ(0, mmapdemo_touch(p, 2, 1, 0x33));
	ASSERT_EQ(0, mmapdemo_touch(p, 2, 1, -1));
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(2)), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, munmap(p, n * ps));
}

/* fork: the child's writes to a shared mapping reach the parent and back. */
TEST_F(mmapdemo, fork_shared_write)
{
	size_t n = min_sz(self->pages, 2), ps = self->page_size;
	int to_child[2], to_parent[2];
	uint64_t *s;
	pid_t pid;

	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 19)));
	s = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_TRUE(page_has(s, tag(0, 19)));		/* parent's PTE present at fork */
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		uint64_t *own;
		int fd;

		CHILD_CHECK(page_has(s, tag(0, 19)));
		fill_page(s, tag(0, 20));
		CHILD_CHECK(step_send(to_parent[1]) == 0);
		CHILD_CHECK(step_wait(to_child[0]) == 0);
		CHILD_CHECK(page_has(s, tag(0, 21)));
		/* Its own open and mapping see the same. */
		fd = mmapdemo_open(O_RDWR);
		CHILD_CHECK(fd >= 0);
		own = map_dev(fd, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
		CHILD_CHECK(own != MAP_FAILED);
		CHILD_CHECK(page_has(own, tag(0, 21)));
		own[3] = 0xc0ffee;
		CHILD_CHECK(step_send(to_parent[1]) == 0);
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(to_parent[0]));
	ASSERT_TRUE(page_has(s, tag(0, 20)));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 20)));
	fill_page(s, tag(0, 21));
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_EQ(0, step_wait(to_parent[0]));
	ASSERT_EQ(0xc0ffee, s[3]);
	ASSERT_TRUE(child_ok(pid));
	ASSERT_EQ(0xc0ffee, s[3]);
	ASSERT_EQ(0, munmap(s, n * ps));
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/*
 * fork: private writes do not leak, neither child to parent nor back,
 * whether the page was copied before the fork (page 1) or after (page 0).
 */
TEST_F(mmapdemo, fork_private_write)
{
	size_t n = 2, ps = self->page_size;
	int to_child[2], to_parent[2];
	uint64_t *p;
	pid_t pid;

	NEED_PAGES(2);
	NEED_PRIVATE_RANGE(0, n);
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 22)));
	ASSERT_EQ(0, dev_fill(self->fd, 1, tag(1, 22)));
	p = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	/* Not page 0: see fork_after_cow_first_page. */
	fill_page(page_ptr(p, 1), tag(1, 23));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));

	pid = fork();
	ASSERT_GE(pid, 0) TH_LOG("fork: %s", strerror(errno));
	if (!pid) {
		CHILD_CHECK(page_has(p, tag(0, 22)));
		CHILD_CHECK(page_has(page_ptr(p, 1), tag(1, 23)));
		fill_page(p, tag(0, 24));
		fill_page(page_ptr(p, 1), tag(1, 24));
		CHILD_CHECK(step_send(to_parent[1]) == 0);
		CHILD_CHECK(step_wait(to_child[0]) == 0);
		CHILD_CHECK(page_has(p, tag(0, 24)));
		CHILD_CHECK(page_has(page_ptr(p, 1), tag(1, 24)));
		CHILD_CHECK(dev_has(self->fd, 0, tag(0, 22)));
		CHILD_CHECK(dev_has(self->fd, 1, tag(1, 22)));
		_exit(0);
	}
	ASSERT_EQ(0, step_wait(to_parent[0]));
	ASSERT_TRUE(page_has(p, tag(0, 22)));
	ASSERT_TRUE(page_has(page_ptr(p, 1), tag(1, 23)));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 22)));
	ASSERT_TRUE(dev_has(self->fd, 1, tag(1, 22)));
	fill_page(p, tag(0, 25));
	fill_page(page_ptr(p, 1), tag(1, 25));
	ASSERT_EQ(0, step_send(to_child[1]));
	ASSERT_TRUE(child_ok(pid));
	ASSERT_TRUE(page_has(p, tag(0, 25)));
	ASSERT_TRUE(page_has(page_ptr(p, 1), tag(1, 25)));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 22)));
	ASSERT_TRUE(dev_has(self->fd, 1, tag(1, 22)));
	ASSERT_EQ(0, munmap(p, n * ps));
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

/*
 * fork after a private write to the FIRST page of the mapping. fault
 * mode: an ordinary fork. remap mode: x86 PAT must copy the VMA's memory
 * type and finds it in the first PTE; once that PTE maps an anonymous copy,
 * kernels with the 2024 fix "mm: fix VM_PAT handling in COW mappings" and
 * before the 6.16 PFN-tracking rework (Debian's 6.1 among them) fail the
 * fork with ENOMEM. Either outcome is accepted there; a fork that succeeds
 * must behave.
 */
TEST_F(mmapdemo, fork_after_cow_first_page)
{
	uint64_t *p;
	pid_t pid;

	NEED_PRIVATE_RANGE(0, 1);
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 38)));
	p = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	fill_page(p, tag(0, 39));

	pid = fork();
	if (pid < 0 && IS_REMAP) {
		ASSERT_EQ(ENOMEM, errno);
		TH_LOG("fork refused (ENOMEM): this kernel's PAT cannot copy a COWed PFNMAP VMA");
	} else {
		ASSERT_GE(pid, 0) TH_LOG("fork: %s", strerror(errno));
		if (!pid) {
			CHILD_CHECK(page_has(p, tag(0, 39)));
			fill_page(p, tag(0, 40));
			_exit(0);
		}
		ASSERT_TRUE(child_ok(pid));
		ASSERT_TRUE(page_has(p, tag(0, 39)));
	}
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 38)));
	ASSERT_EQ(0, munmap(p, self->page_size));
}

/*
 * pagemap and COW (as root): fault mode maps the device's own page (file
 * bit, PFN == GET_PFN); the private write replaces it by an anonymous copy
 * with another PFN; so do insert (present from mmap on) and batch. remap
 * mode: pagemap shows holes before and after; huge: holes for the shared
 * (VM_PFNMAP) mapping, the private one is as in fault mode.
 */
TEST_F(mmapdemo, pagemap_pfn_cow)
{
	uint64_t k = self->pages > 1 ? 1 : 0, dev_pfn;
	struct mmapdemo_pagemap pm;
	uint64_t *s, *p;

	NEED_PRIVATE_RANGE(k, 1);
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, k, &dev_pfn));
	ASSERT_EQ(0, dev_fill(self->fd, k, tag(k, 26)));
	s = map_dev(self->fd, 1, k, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, 1, k, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);

	/* insert: present since mmap(); the lazy variants: after the first touch. */
	ASSERT_EQ(0, mmapdemo_pagemap(p, &pm));
	ASSERT_EQ(IS_INSERT, pm.present);
	ASSERT_EQ(IS_INSERT ? 'S' : '.', mmapdemo_page_state(self->fd, p, k));
	ASSERT_TRUE(page_has(p, tag(k, 26)));
	ASSERT_TRUE(page_has(s, tag(k, 26)));

	/* huge: the private mapping has struct pages, the shared one is VM_PFNMAP. */
	ASSERT_EQ(0, mmapdemo_pagemap(p, &pm));
	if (!IS_REMAP) {
		ASSERT_TRUE(pm.present);
		if (!pm.pfn)
			SKIP(return, "pagemap shows no PFNs (needs CAP_SYS_ADMIN)");
		ASSERT_TRUE(pm.file);
		ASSERT_EQ(dev_pfn, pm.pfn);
		ASSERT_EQ('S', mmapdemo_page_state(self->fd, p, k));
	} else {
		ASSERT_FALSE(pm.present);
	}
	ASSERT_EQ(0, mmapdemo_pagemap(s, &pm));
	if (!SHARED_PFNMAP) {
		ASSERT_TRUE(pm.present);
		ASSERT_TRUE(pm.file);
		ASSERT_EQ(dev_pfn, pm.pfn);
	} else {
		ASSERT_FALSE(pm.present);
	}

	p[5] = 0xdead;					/* COW */
	ASSERT_EQ(0xdead, p[5]);
	ASSERT_TRUE(page_has(s, tag(k, 26)));
	ASSERT_EQ(0, mmapdemo_pagemap(p, &pm));
	if (!IS_REMAP) {
		ASSERT_TRUE(pm.present);
		ASSERT_FALSE(pm.file);
		ASSERT_TRUE(pm.exclusive);
		ASSERT_NE(0, pm.pfn);
		ASSERT_NE(dev_pfn, pm.pfn);
		ASSERT_EQ('P', mmapdemo_page_state(self->fd, p, k));
	} else {
		ASSERT_FALSE(pm.present);
	}
	ASSERT_EQ(0, mmapdemo_pagemap(s, &pm));
	if (!SHARED_PFNMAP) {
		ASSERT_TRUE(pm.file);
		ASSERT_EQ(dev_pfn, pm.pfn);
		ASSERT_EQ('S', mmapdemo_page_state(self->fd, s, k));
	} else {
		ASSERT_FALSE(pm.present);
	}
	ASSERT_EQ(0, munmap(s, self->page_size));
	ASSERT_EQ(0, munmap(p, self->page_size));
}

TEST_HARNESS_MAIN
