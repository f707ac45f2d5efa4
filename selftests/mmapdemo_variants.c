// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_variants: what only one variant does. Which modes the module
 * offers on this kernel (SET_MODE accepts each silently or refuses it with
 * EOPNOTSUPP and one log line; MMAPDEMO_EXPECT_MODES names the expected
 * ones), batch's fault-around window (sequential, clipped at the VMA and at
 * present pages, private), insert's private mapping of a discontiguous
 * range, and huge's PMDs: aligned blocks mapped whole, 4 KiB pages where no
 * PMD fits.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "mmapdemo_fixture.h"

/* ---- tests without the fixture: the modes this module offers here ----- */

/*
 * The module's refusal line is pr_info_ratelimited(): 10 lines per 5 s
 * (DEFAULT_RATELIMIT_BURST, DEFAULT_RATELIMIT_INTERVAL). The setups of a
 * refused variant in the programs run just before this one may have used
 * the burst up; a refusal that logged nothing is tried once more after a
 * new window has begun.
 */
#define RATELIMIT_WAIT_S	6

/*
 * SET_MODE of every mode, on a new open file each: accepted silently (the
 * file is in that mode, no kernel log line) or refused with EOPNOTSUPP and
 * exactly one kernel log line, the file keeping its mode. The module says
 * which, not the kernel version (huge: refused before 6.12).
 */
TEST(set_mode_accept_or_refuse)
{
	struct mmapdemo_info before, after;
	long lines, now;
	int fd, ret, err;
	uint64_t m;

	for (m = 0; m < MMAPDEMO_NR_MODES; m++) {
		const char *name = mmapdemo_mode_name(m);

		OPEN_DEVICE_OR_SKIP(fd);
		ASSERT_EQ(0, mmapdemo_get_info(fd, &before));
		lines = klog_lines();
		ASSERT_LE(0, lines);
		errno = 0;
		ret = mmapdemo_set_mode(fd, m, 0);
		err = errno;
		now = klog_lines();
		ASSERT_EQ(0, mmapdemo_get_info(fd, &after));
		if (!ret) {
			ASSERT_EQ(m, after.mode) TH_LOG("mode %s accepted", name);
			ASSERT_EQ(lines, now) TH_LOG("mode %s accepted with a kernel log line", name);
		} else {
			ASSERT_EQ(-1, ret);
			ASSERT_EQ(EOPNOTSUPP, err) TH_LOG("mode %s: %s", name, strerror(err));
			ASSERT_EQ(before.mode, after.mode) TH_LOG("mode %s refused", name);
			if (now == lines) {
				TH_LOG("mode %s refused without a log line: again in %d s (ratelimit)",
				       name, RATELIMIT_WAIT_S);
				sleep(RATELIMIT_WAIT_S);
				lines = klog_lines();
				errno = 0;
				ASSERT_EQ(-1, mmapdemo_set_mode(fd, m, 0));
				ASSERT_EQ(EOPNOTSUPP, errno);
				now = klog_lines();
			}
			ASSERT_EQ(lines + 1, now) TH_LOG("mode %s refused with %ld log lines", name,
							 now - lines);
			TH_LOG("mode %s: refused (EOPNOTSUPP)", name);
		}
		ASSERT_EQ(0, close(fd));
	}
}

/*
 * With MMAPDEMO_EXPECT_MODES set (the mode names the VM runner expects of
 * the kernel line it boots, e.g. "fault remap insert batch" on 6.1), the
 * modes SET_MODE accepts are exactly those.
 */
TEST(set_mode_expected_modes)
{
	const char *env = getenv("MMAPDEMO_EXPECT_MODES");
	char want[128] = "", got[128] = "", *list, *tok, *save;
	bool expected[MMAPDEMO_NR_MODES] = { false };
	uint64_t m;
	int fd;

	if (!env)
		SKIP(return, "MMAPDEMO_EXPECT_MODES is not set: no list of modes to compare with");
	OPEN_DEVICE_OR_SKIP(fd);
	list = strdup(env);
	ASSERT_NE(NULL, list);
	for (tok = strtok_r(list, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		ASSERT_EQ(0, mmapdemo_mode_parse(tok, &m))
			TH_LOG("MMAPDEMO_EXPECT_MODES='%s': no mode '%s'", env, tok);
		expected[m] = true;
	}
	free(list);
	/* Both lists in mode order, to compare as strings. */
	for (m = 0; m < MMAPDEMO_NR_MODES; m++) {
		const char *name = mmapdemo_mode_name(m);

		if (expected[m])
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 *want ? " " : "", name);
		errno = 0;
		if (mmapdemo_set_mode(fd, m, 0)) {
			ASSERT_EQ(EOPNOTSUPP, errno) TH_LOG("mode %s", name);
			continue;
		}
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s", *got ? " " : "",
			 name);
	}
	TH_LOG("accepted: %s; expected: %s", got, want);
	ASSERT_STREQ(want, got);
	ASSERT_EQ(0, close(fd));
}

/* ---- with the fixture: each variant's own behaviour --------------------- */

/* Whether page @i of @map is present (pagemap bit 63). */
static bool present(const void *map, size_t i)
{
	return mmapdemo_pagemap_present((const char *)map + i * mmapdemo_page_size(), 1) == 1;
}

/*
 * batch: a sequential first touch of 1 MiB (256 pages) takes 256 /
 * batch_pages faults (16 with the default 16), each mapping batch_pages
 * pages, counted by the device, by the minor faults and by pagemap.
 */
TEST_F(mmapdemo, batch_window_sequential)
{
	size_t n = 256, ps = self->page_size;
	struct counts c = { 0 };
	struct model mdl;
	long minflt;
	char *m;

	SKIP_UNLESS(IS_BATCH);
	NEED_PAGES(256);
	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	MODEL(&mdl, &c, m, 0, n, true);
	minflt = mmapdemo_touch(m, n, 1, -1);
	ASSERT_EQ(model_touch(&mdl, 0, n, 1, false), minflt);
	model_free(&mdl);
	TH_LOG("1 MiB, batch_pages=%zu: %ld faults", self->batch, minflt);
	ASSERT_EQ((n + self->batch - 1) / self->batch, c.faults);
	ASSERT_EQ(n, c.fault_pages);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ((long)n, mmapdemo_pagemap_present(m, n));
	if (self->batch >= 16) {
		ASSERT_GE(16, minflt);
	}
	ASSERT_EQ(0, munmap(m, n * ps));
}

/*
 * batch: the window starts at the faulting page and ends at the VMA's end
 * (which is at most the buffer's end) and before a page already present.
 */
TEST_F(mmapdemo, batch_window_clipped)
{
	size_t ps = self->page_size, n = min_sz(self->pages, self->batch), j = n / 2, i;
	uint64_t first = self->pages - 3;
	char *m;

	SKIP_UNLESS(IS_BATCH);
	NEED_PAGES(4);
	/* At the VMA's end: 3 pages mapped, touching page 1 maps 1 and 2. */
	RESET_STATS(self->fd);
	m = map_dev(self->fd, 3, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(1, mmapdemo_touch(m + ps, 1, 1, -1));
	ASSERT_FALSE(present(m, 0));
	ASSERT_TRUE(present(m, 1));
	ASSERT_TRUE(present(m, 2));
	ASSERT_STATS(self->fd, .faults = 1, .fault_pages = self->batch > 1 ? 2 : 1, .mmaps = 1,
		     .vmas = 1, .mapped_pages = 3);
	ASSERT_EQ(0, munmap(m, 3 * ps));

	/* At the buffer's end: its last 3 pages. */
	RESET_STATS(self->fd);
	m = map_dev(self->fd, 3, first, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(1, mmapdemo_touch(m, 1, 1, -1));
	ASSERT_EQ((long)min_sz(3, self->batch), mmapdemo_pagemap_present(m, 3));
	ASSERT_STATS(self->fd, .faults = 1, .fault_pages = min_sz(3, self->batch), .mmaps = 1,
		     .vmas = 1, .mapped_pages = 3);
	ASSERT_EQ(0, munmap(m, 3 * ps));

	/* Before a present page: touch page j, then page 0 maps 0..j-1 only. */
	if (j < 1)
		SKIP(return, "batch_pages=%zu: no room for a window before a present page",
		     self->batch);
	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(1, mmapdemo_touch(m + j * ps, 1, 1, -1));
	ASSERT_EQ(1, mmapdemo_touch(m, 1, 1, -1));
	for (i = 0; i < n; i++)
		ASSERT_TRUE(present(m, i)) TH_LOG("page %zu", i);
	ASSERT_STATS(self->fd, .faults = 2, .fault_pages = n, .mmaps = 1, .vmas = 1,
		     .mapped_pages = n);
	ASSERT_EQ(0, mmapdemo_touch(m, n, 1, -1));
	ASSERT_EQ(0, munmap(m, n * ps));
}

/*
 * batch, MAP_PRIVATE: a read maps a window of the device's pages
 * read-only; a later write copies exactly the written page. A first touch
 * that is a write maps (copies) that one page and no window.
 */
TEST_F(mmapdemo, batch_private_cow)
{
	size_t ps = self->page_size, n = min_sz(self->pages, self->batch), kb = ps / 1024, i;
	struct mmapdemo_pagemap pm;
	uint64_t pfn;
	char *p, *p2;

	SKIP_UNLESS(IS_BATCH);
	NEED_PAGES(4);
	if (n < 4)
		SKIP(return, "batch_pages=%zu: needs a window of 4 pages", self->batch);
	ASSERT_EQ(0, dev_fill(self->fd, 2, tag(2, 41)));
	RESET_STATS(self->fd);
	p = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(1, mmapdemo_touch(p, 1, 1, -1));
	ASSERT_EQ((long)n, mmapdemo_pagemap_present(p, n));
	ASSERT_STATS(self->fd, .faults = 1, .fault_pages = n, .mmaps = 1, .vmas = 1,
		     .mapped_pages = n);

	ASSERT_EQ(1, mmapdemo_touch(p + 2 * ps, 1, 1, 0x42));	/* the copy: no .fault */
	ASSERT_STATS(self->fd, .faults = 1, .fault_pages = n, .mmaps = 1, .vmas = 1,
		     .mapped_pages = n);
	ASSERT_EQ((long)kb, mmapdemo_smaps_kb(p, "Anonymous"));
	ASSERT_TRUE(dev_has(self->fd, 2, tag(2, 41)));
	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, mmapdemo_pagemap(p + i * ps, &pm));
		ASSERT_TRUE(pm.present);
		ASSERT_EQ(i != 2, pm.file) TH_LOG("page %zu", i);
		ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, i, &pfn));
		if (pm.pfn) {
			ASSERT_EQ(i != 2, pm.pfn == pfn) TH_LOG("page %zu", i);
		}
	}

	/* A write first: one page, copied. */
	p2 = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p2);
	ASSERT_EQ(1, mmapdemo_touch(p2 + ps, 1, 1, 0x43));
	ASSERT_EQ(1, mmapdemo_pagemap_present(p2, n));
	ASSERT_EQ((long)kb, mmapdemo_smaps_kb(p2, "Anonymous"));
	ASSERT_STATS(self->fd, .faults = 2, .fault_pages = n + 1, .mmaps = 2, .vmas = 2,
		     .mapped_pages = 2 * n);
	ASSERT_EQ(0, munmap(p, n * ps));
	ASSERT_EQ(0, munmap(p2, n * ps));
}

/*
 * insert: MAP_PRIVATE of a physically discontiguous range (which remap
 * refuses) maps the device's pages at mmap() time, visible to pagemap,
 * without a fault; a write copies exactly the written page.
 */
TEST_F(mmapdemo, insert_private_discontiguous)
{
	size_t ps = self->page_size;
	struct mmapdemo_pagemap pm;
	uint64_t pfn0, pfn1;
	int64_t b;
	char *p;

	SKIP_UNLESS(IS_INSERT);
	if (self->info.flags & MMAPDEMO_INFO_CONTIGUOUS)
		SKIP(return, "buffer is physically contiguous (needs e.g. pages=65536)");
	b = pfn_discontinuity(self->fd, self->pages);
	ASSERT_GE(b, 0);
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, b, &pfn0));
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, b + 1, &pfn1));
	ASSERT_NE(pfn0 + 1, pfn1);
	ASSERT_EQ(0, dev_fill(self->fd, b, tag(b, 42)));
	ASSERT_EQ(0, dev_fill(self->fd, b + 1, tag(b + 1, 42)));
	RESET_STATS(self->fd);

	p = map_dev(self->fd, 2, b, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(2, mmapdemo_pagemap_present(p, 2));
	ASSERT_EQ(2, mmapdemo_mincore_count(p, 2));
	ASSERT_EQ(0, mmapdemo_pagemap(p + ps, &pm));
	ASSERT_TRUE(pm.file);
	ASSERT_EQ(pfn1, pm.pfn);
	ASSERT_EQ(0, mmapdemo_touch(p, 2, 1, -1));
	ASSERT_TRUE(page_has(p, tag(b, 42)));
	ASSERT_TRUE(page_has(p + ps, tag(b + 1, 42)));

	ASSERT_EQ(1, mmapdemo_touch(p + ps, 1, 1, 0x44));
	ASSERT_TRUE(dev_has(self->fd, b + 1, tag(b + 1, 42)));
	ASSERT_EQ(0, mmapdemo_pagemap(p + ps, &pm));
	ASSERT_FALSE(pm.file);
	ASSERT_NE(pfn1, pm.pfn);
	ASSERT_EQ(0, mmapdemo_pagemap(p, &pm));
	ASSERT_TRUE(pm.file);
	ASSERT_EQ(pfn0, pm.pfn);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 2);
	ASSERT_EQ(0, munmap(p, 2 * ps));
}

/*
 * huge: the whole buffer MAP_SHARED lands at a 2 MiB-aligned address, and
 * every 2 MiB block whose buffer pages are one aligned physical run is
 * mapped by one PMD on its first touch (huge_faults); the rest faults per
 * page. A buffer of 65536 pages must have such blocks.
 */
TEST_F_TIMEOUT(mmapdemo, huge_pmd_aligned, 300)
{
	size_t pages = self->pages, ps = self->page_size, pmds;
	struct counts c = { 0 };
	struct model mdl;
	char *m;

	SKIP_UNLESS(IS_HUGE);
	NEED_PAGES(PMD_PAGES);
	RESET_STATS(self->fd);
	m = map_dev(self->fd, pages, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, (uintptr_t)m % (PMD_PAGES * ps)) TH_LOG("mapped at %p", m);
	MODEL(&mdl, &c, m, 0, pages, true);
	pmds = model_pmds(&mdl);
	TH_LOG("%zu pages: %zu of %zu 2 MiB blocks are aligned physical runs", pages, pmds,
	       pages / PMD_PAGES);
	ASSERT_LT(0, pmds) TH_LOG("no block for a PMD: the test would not exercise PMDs");

	/* The first page of every block, then every page. */
	ASSERT_EQ(model_touch(&mdl, 0, pages / PMD_PAGES, PMD_PAGES, false),
		  mmapdemo_touch(m, pages / PMD_PAGES, PMD_PAGES, -1));
	ASSERT_EQ(pmds, c.huge_faults);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = pages);
	ASSERT_EQ(model_touch(&mdl, 0, pages, 1, true), mmapdemo_touch(m, pages, 1, 0x5b));
	model_free(&mdl);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = pages);
	TH_LOG("%zu MiB: %llu faults (%llu PMDs)", pages * ps >> 20,
	       (unsigned long long)c.faults, (unsigned long long)c.huge_faults);
	if (pmds == pages / PMD_PAGES) {
		ASSERT_EQ(pages / PMD_PAGES, c.faults);
	}
	ASSERT_EQ(0, munmap(m, pages * ps));
}

/*
 * huge: 4 KiB pages where no PMD fits. A mapping at file offset 1 page:
 * only the block that starts at buffer page 512 can be one PMD. The same
 * pages at an address one page past a 2 MiB boundary (MAP_FIXED): none.
 * MAP_PRIVATE: none (copy-on-write needs struct pages).
 */
TEST_F_TIMEOUT(mmapdemo, huge_unaligned_fallback, 300)
{
	size_t ps = self->page_size, n = 2 * PMD_PAGES, pmd = PMD_PAGES * ps;
	struct counts c = { 0 };
	struct model mdl;
	char *m, *room, *at;

	SKIP_UNLESS(IS_HUGE);
	NEED_PAGES(2 * PMD_PAGES + 1);

	/* Offset 1: get_unmapped_area keeps address and offset congruent mod 2 MiB. */
	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 1, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(ps, (uintptr_t)m % pmd) TH_LOG("mapped at %p", m);
	MODEL(&mdl, &c, m, 1, n, true);
	ASSERT_GE(1, model_pmds(&mdl));
	ASSERT_EQ(model_touch(&mdl, 0, n, 1, false), mmapdemo_touch(m, n, 1, -1));
	TH_LOG("offset 1: %llu faults, %llu PMDs", (unsigned long long)c.faults,
	       (unsigned long long)c.huge_faults);
	ASSERT_EQ(model_pmds(&mdl), c.huge_faults);
	model_free(&mdl);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, munmap(m, n * ps));

	/* Offset 0 at a 2 MiB boundary + 1 page: no PMD anywhere. */
	c = (struct counts){ 0 };
	RESET_STATS(self->fd);
	room = mmap(NULL, n * ps + 2 * pmd, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, room);
	at = (char *)(((uintptr_t)room + pmd - 1) / pmd * pmd) + ps;
	m = mmap(at, n * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, self->fd, 0);
	ASSERT_EQ(at, m);
	MODEL(&mdl, &c, m, 0, n, true);
	ASSERT_EQ(0, model_pmds(&mdl));
	ASSERT_EQ(model_touch(&mdl, 0, n, 1, false), mmapdemo_touch(m, n, 1, -1));
	model_free(&mdl);
	ASSERT_EQ(n, c.faults);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, munmap(room, n * ps + 2 * pmd));

	/* MAP_PRIVATE, aligned: 4 KiB struct pages, each write copies one. */
	c = (struct counts){ 0 };
	RESET_STATS(self->fd);
	m = map_dev(self->fd, PMD_PAGES, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, (uintptr_t)m % pmd);
	ASSERT_FALSE(mmapdemo_is_pfnmap(m));
	MODEL(&mdl, &c, m, 0, PMD_PAGES, false);
	ASSERT_EQ(model_touch(&mdl, 0, PMD_PAGES, 1, true), mmapdemo_touch(m, PMD_PAGES, 1, 1));
	model_free(&mdl);
	ASSERT_EQ(PMD_PAGES, c.faults);
	ASSERT_EQ((long)(PMD_PAGES * ps / 1024), mmapdemo_smaps_kb(m, "Anonymous"));
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = PMD_PAGES);
	ASSERT_EQ(0, munmap(m, PMD_PAGES * ps));
}

TEST_HARNESS_MAIN
