// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_mmap: mmap() of the device and what the mappings look like.
 * Flags, protections and ranges refused before or by the driver (not
 * counted), an O_RDONLY file, offsets, coherence of shared mappings with
 * read()/write() and with each other, the whole buffer touched page by page
 * against the fault model, the /proc/self/maps offset column, smaps' Rss,
 * Anonymous and VmFlags per variant, and MADV_DONTNEED.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mmapdemo_fixture.h"

/*
 * mmap flags: neither MAP_SHARED nor MAP_PRIVATE is EINVAL, an unknown
 * flag with MAP_SHARED_VALIDATE EOPNOTSUPP, length 0 EINVAL, a negative
 * offset EOVERFLOW; none of them
 * reaches the driver (not counted). MAP_SHARED_VALIDATE itself works.
 */
TEST_F(mmapdemo, mmap_bad_flags)
{
	size_t ps = self->page_size;
	void *m;

	RESET_STATS(self->fd);
	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, 0, self->fd, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, MAP_SHARED_VALIDATE | 0x01000000,
				   self->fd, 0));
	ASSERT_EQ(EOPNOTSUPP, errno);
	ASSERT_EQ(MAP_FAILED, mmap(NULL, 0, PROT_READ, MAP_SHARED, self->fd, 0));
	ASSERT_EQ(EINVAL, errno);
	/* A negative offset is a huge page offset: offset + length wraps. */
	ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, MAP_PRIVATE, self->fd, -(off_t)ps));
	ASSERT_EQ(EOVERFLOW, errno);
	ASSERT_STATS(self->fd);

	m = mmap(NULL, ps, PROT_READ, MAP_SHARED_VALIDATE, self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m, ps));
	ASSERT_STATS(self->fd, .mmaps = 1, .vma_closes = 1);
}

/*
 * PROT_EXEC: the module has no policy of its own; the mount of /dev and
 * the file's permissions decide (noexec: EPERM). On the test VM's
 * devtmpfs it maps, and mprotect() can add it.
 */
TEST_F(mmapdemo, mmap_prot_exec)
{
	size_t ps = self->page_size;
	void *m;

	m = mmap(NULL, ps, PROT_READ | PROT_EXEC, MAP_SHARED, self->fd, 0);
	if (m == MAP_FAILED && errno == EPERM)
		SKIP(return, "%s is on a noexec mount", MMAPDEMO_DEV_PATH);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m, ps));
	m = mmap(NULL, ps, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, mprotect(m, ps, PROT_READ | PROT_EXEC));
	ASSERT_EQ(0, munmap(m, ps));
}

/*
 * mmap of a range not entirely inside the buffer: EINVAL, and not counted.
 * Shared + PROT_WRITE on an O_RDONLY file: EACCES.
 */
TEST_F(mmapdemo, mmap_bounds)
{
	static const int kinds[] = { MAP_SHARED, MAP_PRIVATE };
	size_t ps = self->page_size, size = self->info.size, i;
	const off_t huge = 0x7ffffffffffff000LL;
	void *m;

	RESET_STATS(self->fd);
	for (i = 0; i < 2; i++) {
		int fl = kinds[i];

		errno = 0;
		ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, fl, self->fd, (off_t)size));
		ASSERT_EQ(EINVAL, errno) TH_LOG("offset == size, flags %#x", fl);
		ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, fl, self->fd, (off_t)(size + 16 * ps)));
		ASSERT_EQ(EINVAL, errno) TH_LOG("offset past the end, flags %#x", fl);
		ASSERT_EQ(MAP_FAILED, mmap(NULL, 2 * ps, PROT_READ, fl, self->fd, (off_t)(size - ps)));
		ASSERT_EQ(EINVAL, errno) TH_LOG("offset + len > size, flags %#x", fl);
		ASSERT_EQ(MAP_FAILED, mmap(NULL, size + ps, PROT_READ, fl, self->fd, 0));
		ASSERT_EQ(EINVAL, errno) TH_LOG("len > size, flags %#x", fl);
		ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, fl, self->fd, huge));
		ASSERT_EQ(EINVAL, errno) TH_LOG("offset 2^63 - page, flags %#x", fl);
		ASSERT_EQ(MAP_FAILED, mmap(NULL, 2 * ps, PROT_READ, fl, self->fd, huge));
		ASSERT_EQ(EINVAL, errno) TH_LOG("offset + len overflows, flags %#x", fl);
		ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ, fl, self->fd, 1));
		ASSERT_EQ(EINVAL, errno) TH_LOG("unaligned offset, flags %#x", fl);
	}
	ASSERT_STATS(self->fd);

	/* The extremes that fit do map. */
	m = mmap(NULL, ps, PROT_READ, MAP_SHARED, self->fd, (off_t)(size - ps));
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m, ps));
	m = mmap(NULL, size, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, munmap(m, size));
	ASSERT_STATS(self->fd, .mmaps = 2, .vma_closes = 2);
}

/* An O_RDONLY file: shared writable EACCES (also by mprotect), private COW fine. */
TEST_F(mmapdemo, mmap_rdonly_fd)
{
	size_t ps = self->page_size;
	uint64_t *m;
	int ro;

	ro = mmapdemo_open(O_RDONLY);
	ASSERT_GE(ro, 0);
	ASSERT_EQ(0, mmapdemo_set_mode(ro, variant->mode, 0));
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 3)));
	RESET_STATS(self->fd);

	errno = 0;
	ASSERT_EQ(MAP_FAILED, mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0));
	ASSERT_EQ(EACCES, errno);
	ASSERT_STATS(self->fd);

	m = mmap(NULL, ps, PROT_READ, MAP_SHARED, ro, 0);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_TRUE(page_has(m, tag(0, 3)));
	errno = 0;
	ASSERT_EQ(-1, mprotect(m, ps, PROT_READ | PROT_WRITE));
	ASSERT_EQ(EACCES, errno);
	ASSERT_EQ(0, munmap(m, ps));

	m = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0);
	ASSERT_NE(MAP_FAILED, m);
	m[0] = 42;
	ASSERT_EQ(42, m[0]);
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 3)));
	ASSERT_EQ(0, munmap(m, ps));
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(2)), .mmaps = 2, .vma_closes = 2);
	ASSERT_EQ(0, close(ro));
}

/* MAP_SHARED at page offset k shows buffer page k (and k + 1 after it). */
TEST_F(mmapdemo, mmap_shared_offset)
{
	uint64_t offs[] = { 0, 1, self->pages / 2, self->pages - 2, self->pages - 1 };
	size_t i, n;
	void *m;

	for (i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t k = offs[i];

		if (k >= self->pages)
			continue;
		n = k + 1 < self->pages ? 2 : 1;
		ASSERT_EQ(0, dev_fill(self->fd, k, tag(k, 4)));
		if (n == 2) {
			ASSERT_EQ(0, dev_fill(self->fd, k + 1, tag(k + 1, 4)));
		}
		m = map_dev(self->fd, n, k, PROT_READ, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, m) TH_LOG("offset %llu", (unsigned long long)k);
		ASSERT_TRUE(page_has(m, tag(k, 4))) TH_LOG("offset %llu", (unsigned long long)k);
		if (n == 2) {
			ASSERT_TRUE(page_has(page_ptr(m, 1), tag(k + 1, 4)));
		}
		ASSERT_EQ(0, munmap(m, n * self->page_size));
	}
}

/* Shared mappings, read() and write() agree, across mappings and opens. */
TEST_F(mmapdemo, mmap_shared_coherent)
{
	size_t n = min_sz(self->pages, 4), i;
	uint64_t *a, *b, *c = NULL;
	int fd2;

	fd2 = mmapdemo_open(O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, mmapdemo_set_mode(fd2, variant->mode, 0));
	a = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, a);
	b = map_dev(fd2, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, b);
	if (n > 1) {
		c = map_dev(fd2, 1, 1, PROT_READ, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, c);
	}

	for (i = 0; i < n; i++) {
		fill_page(page_ptr(a, i), tag(i, 5));
		ASSERT_TRUE(page_has(page_ptr(b, i), tag(i, 5)));
		ASSERT_TRUE(dev_has(fd2, i, tag(i, 5)));
	}
	if (c) {
		ASSERT_TRUE(page_has(c, tag(1, 5)));
	}

	for (i = 0; i < n; i++) {
		ASSERT_EQ(0, dev_fill(fd2, i, tag(i, 6)));
		ASSERT_TRUE(page_has(page_ptr(a, i), tag(i, 6)));
		ASSERT_TRUE(page_has(page_ptr(b, i), tag(i, 6)));
	}
	if (c) {
		ASSERT_TRUE(page_has(c, tag(1, 6)));
		page_ptr(b, 1)[7] = 0x1234;
		ASSERT_EQ(0x1234, c[7]);
		ASSERT_EQ(0x1234, page_ptr(a, 1)[7]);
		ASSERT_EQ(0, munmap(c, self->page_size));
	}
	ASSERT_EQ(0, munmap(a, n * self->page_size));
	ASSERT_EQ(0, munmap(b, n * self->page_size));
	ASSERT_EQ(0, close(fd2));
}

/*
 * The whole buffer, MAP_SHARED, every page touched once: demand paging at
 * scale, counted four ways (fault mode: every page; remap mode: none;
 * insert: none, every page present from the start; batch: one fault per
 * batch_pages pages; huge: one per 2 MiB PMD and one per page elsewhere).
 */
TEST_F_TIMEOUT(mmapdemo, mmap_whole_buffer, 600)
{
	size_t pages = self->pages, ps = self->page_size, i, chunk = 256;
	struct counts c = { 0 };
	struct model mdl;
	uint64_t *m, *buf;
	long minflt, want;

	RESET_STATS(self->fd);
	m = map_dev(self->fd, pages, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	MODEL(&mdl, &c, m, 0, pages, true);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = pages);
	ASSERT_EQ(model_visible(&mdl), mmapdemo_pagemap_present(m, pages));
	ASSERT_EQ(model_visible(&mdl), mmapdemo_mincore_count(m, pages));

	minflt = mmapdemo_touch(m, pages, 1, 0x5a);
	want = model_touch(&mdl, 0, pages, 1, true);
	TH_LOG("%zu pages: %ld minor faults, %llu PMDs", pages, minflt,
	       (unsigned long long)c.huge_faults);
	ASSERT_EQ(want, minflt);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = pages);
	ASSERT_EQ(model_visible(&mdl), mmapdemo_pagemap_present(m, pages));
	ASSERT_EQ(model_visible(&mdl), mmapdemo_mincore_count(m, pages));
	ASSERT_EQ(model_visible(&mdl) * (long)(ps / 1024), mmapdemo_smaps_kb(m, "Rss"));
	model_free(&mdl);

	/* Every page is its own buffer page. */
	for (i = 0; i < pages; i++)
		page_ptr(m, i)[1] = tag(i, 7);
	buf = malloc(chunk * ps);
	ASSERT_NE(NULL, buf);
	for (i = 0; i < pages; i++) {
		if (i % chunk == 0) {
			size_t len = min_sz(chunk, pages - i) * ps;

			ASSERT_EQ((ssize_t)len, pread(self->fd, buf, len, (off_t)(i * ps)));
		}
		ASSERT_EQ(0x5a, *(unsigned char *)page_ptr(buf, i % chunk));
		ASSERT_EQ(tag(i, 7), page_ptr(buf, i % chunk)[1]) TH_LOG("page %zu", i);
	}
	free(buf);
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vmas = 1, .mapped_pages = pages);
	ASSERT_EQ(0, munmap(m, pages * ps));
	ASSERT_STATS(self->fd, MODEL_STATS(c), .mmaps = 1, .vma_closes = 1);
}

/* The offset column of /proc/self/maps for the VMA holding @addr. */
static int maps_offset(const void *addr, unsigned long long *off)
{
	char line[512];
	char path[256] = "";

	if (mmapdemo_maps_line(addr, line, sizeof(line)))
		return -1;
	if (sscanf(line, "%*x-%*x %*s %llx %*s %*u %255s", off, path) < 1)
		return -1;
	return 0;
}

/*
 * smaps of a private remap (VM_PFNMAP) mapping after one COW: 6.1's smaps
 * walk skips VM_PFNMAP VMAs, so Rss and Anonymous stay 0; 6.12 and 7.2
 * count the anonymous copy. Returns the expected kB, or -1 for a kernel
 * between those lines, where this was not measured (either is accepted).
 */
static long remap_private_cow_kb(long kb)
{
	int v = kernel_version();

	if (v && v <= 6001)
		return 0;
	if (v >= 6012)
		return kb;
	return -1;
}

/*
 * smaps: fault mode counts present pages in Rss (COW copies as Anonymous),
 * so do insert and batch (VM_MIXEDMAP, "mm"); remap (VM_PFNMAP) shows Rss 0
 * for shared pages, and for a private copy depending on the kernel
 * (remap_private_cow_kb()); huge's shared mappings are VM_PFNMAP ("pf",
 * Rss 0) with VM_HUGEPAGE ("hg"), its private ones as in fault mode.
 */
TEST_F(mmapdemo, smaps_rss_vmflags)
{
	size_t n = min_sz(self->pages, 4), kb = self->page_size / 1024;
	long cow_kb = IS_REMAP ? remap_private_cow_kb((long)kb) : (long)kb;
	struct counts c = { 0 };
	struct model ms, mp;
	char flags[256];
	char *s, *p;

	NEED_PRIVATE_RANGE(0, n);
	s = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);
	MODEL(&ms, &c, s, 0, n, true);
	MODEL(&mp, &c, p, 0, n, false);
	ASSERT_LE(0, mmapdemo_touch(s, min_sz(n, 2), 1, -1));
	ASSERT_LE(0, mmapdemo_touch(p, 1, 1, 0x66));
	model_touch(&ms, 0, min_sz(n, 2), 1, false);
	model_touch(&mp, 0, 1, 1, true);

	/* fault 2 pages, insert and batch n, remap and huge (VM_PFNMAP) 0 */
	ASSERT_EQ(model_visible(&ms) * (long)kb, mmapdemo_smaps_kb(s, "Rss"));
	ASSERT_EQ(0, mmapdemo_smaps_kb(s, "Anonymous"));
	/* The copy, and in insert mode the device pages inserted at mmap(). */
	if (!IS_REMAP) {
		ASSERT_EQ(model_visible(&mp) * (long)kb, mmapdemo_smaps_kb(p, "Rss"));
	}
	model_free(&ms);
	model_free(&mp);
	if (cow_kb < 0) {
		cow_kb = mmapdemo_smaps_kb(p, "Rss");
		TH_LOG("private remap Rss after COW: %ld kB (not measured on this kernel line)",
		       cow_kb);
		ASSERT_TRUE(cow_kb == 0 || cow_kb == (long)kb);
	}
	if (IS_REMAP) {
		ASSERT_EQ(cow_kb, mmapdemo_smaps_kb(p, "Rss"));
	}
	ASSERT_EQ(cow_kb, mmapdemo_smaps_kb(p, "Anonymous"));

	ASSERT_EQ(0, mmapdemo_smaps_vmflags(s, flags, sizeof(flags)));
	TH_LOG("shared VmFlags: %s", flags);
	ASSERT_TRUE(mmapdemo_vmflag(flags, "sh"));
	ASSERT_TRUE(mmapdemo_vmflag(flags, "de"));
	ASSERT_TRUE(mmapdemo_vmflag(flags, "dd"));
	ASSERT_EQ(SHARED_PFNMAP, mmapdemo_vmflag(flags, "pf"));
	ASSERT_EQ(IS_REMAP, mmapdemo_vmflag(flags, "io"));
	ASSERT_EQ(IS_INSERT || IS_BATCH, mmapdemo_vmflag(flags, "mm"));
	ASSERT_EQ(IS_HUGE, mmapdemo_vmflag(flags, "hg"));
	ASSERT_EQ(0, mmapdemo_smaps_vmflags(p, flags, sizeof(flags)));
	TH_LOG("private VmFlags: %s", flags);
	ASSERT_FALSE(mmapdemo_vmflag(flags, "sh"));
	ASSERT_TRUE(mmapdemo_vmflag(flags, "de"));
	ASSERT_TRUE(mmapdemo_vmflag(flags, "dd"));
	ASSERT_EQ(IS_REMAP, mmapdemo_vmflag(flags, "pf"));
	ASSERT_EQ(IS_INSERT || IS_BATCH, mmapdemo_vmflag(flags, "mm"));
	ASSERT_FALSE(mmapdemo_vmflag(flags, "hg"));
	ASSERT_EQ(IS_REMAP, mmapdemo_is_pfnmap(p));

	ASSERT_EQ(0, munmap(s, n * self->page_size));
	ASSERT_EQ(0, munmap(p, n * self->page_size));
}

/*
 * /proc/self/maps offset column: the file offset, except for a private
 * remap mapping, whose vm_pgoff remap_pfn_range() replaced with the PFN.
 */
TEST_F(mmapdemo, maps_offset_column)
{
	uint64_t k = self->pages > 1 ? 1 : 0, dev_pfn;
	unsigned long long off;
	char line[512];
	void *s, *p;

	NEED_PRIVATE_RANGE(k, 1);
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, k, &dev_pfn));
	s = map_dev(self->fd, 1, k, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, 1, k, PROT_READ, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);

	ASSERT_EQ(0, mmapdemo_maps_line(s, line, sizeof(line)));
	TH_LOG("shared:  %s", line);
	ASSERT_NE(NULL, strstr(line, MMAPDEMO_DEV_PATH));
	ASSERT_EQ(0, maps_offset(s, &off));
	ASSERT_EQ(k * self->page_size, off);

	ASSERT_EQ(0, mmapdemo_maps_line(p, line, sizeof(line)));
	TH_LOG("private: %s", line);
	ASSERT_EQ(0, maps_offset(p, &off));
	if (IS_REMAP) {
		ASSERT_EQ(dev_pfn * self->page_size, off);
	} else {
		ASSERT_EQ(k * self->page_size, off);
	}
	ASSERT_EQ(0, munmap(s, self->page_size));
	ASSERT_EQ(0, munmap(p, self->page_size));
}

/*
 * MADV_DONTNEED: fault mode drops the PTEs; shared data survives (the next
 * touch faults again, counted), a private copy is dropped and the device's
 * page shows again. So do insert and batch (VM_MIXEDMAP; insert's .fault
 * brings back one page). VM_PFNMAP (remap; huge's shared mappings): EINVAL,
 * nothing changes.
 */
TEST_F(mmapdemo, madvise_dontneed)
{
	size_t ps = self->page_size;
	uint64_t f = IF_LAZY(2);
	uint64_t *s, *p;

	NEED_PRIVATE_RANGE(0, 1);
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 27)));
	RESET_STATS(self->fd);
	s = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p);

	fill_page(s, tag(0, 28));
	fill_page(p, tag(0, 29));
	ASSERT_STATS(self->fd, PAGE_FAULTS(f), .mmaps = 2, .vmas = 2, .mapped_pages = 2);

	errno = 0;
	if (SHARED_PFNMAP) {
		ASSERT_EQ(-1, madvise(s, ps, MADV_DONTNEED));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_TRUE(page_has(s, tag(0, 28)));
	} else {
		ASSERT_EQ(0, madvise(s, ps, MADV_DONTNEED));
		ASSERT_EQ(0, mmapdemo_pagemap_present(s, 1));
		ASSERT_EQ(0, mmapdemo_mincore_count(s, 1));
		ASSERT_EQ(1, mmapdemo_touch(s, 1, 1, -1));
		ASSERT_TRUE(page_has(s, tag(0, 28)));
		f++;
	}
	ASSERT_STATS(self->fd, PAGE_FAULTS(f), .mmaps = 2, .vmas = 2, .mapped_pages = 2);

	if (IS_REMAP) {
		ASSERT_EQ(-1, madvise(p, ps, MADV_DONTNEED));
		ASSERT_EQ(EINVAL, errno);
		ASSERT_TRUE(page_has(p, tag(0, 29)));
	} else {
		ASSERT_EQ(0, madvise(p, ps, MADV_DONTNEED));
		ASSERT_EQ(0, mmapdemo_pagemap_present(p, 1));
		ASSERT_TRUE(page_has(p, tag(0, 28)));
		ASSERT_EQ('S', mmapdemo_page_state(self->fd, p, 0));
		f++;
	}
	ASSERT_STATS(self->fd, PAGE_FAULTS(f), .mmaps = 2, .vmas = 2, .mapped_pages = 2);
	ASSERT_EQ(0, munmap(s, ps));
	ASSERT_EQ(0, munmap(p, ps));
}

TEST_HARNESS_MAIN
