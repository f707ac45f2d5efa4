// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-paging: demand paging (mode fault) against eager mapping (mode
 * remap), side by side.
 *
 * Part 1, mode fault: mmap() maps nothing; every first touch of a page
 * traps into the driver's vm_operations_struct.fault, which hands the
 * buffer page to the core, which installs one page table entry (PTE).
 * The demo touches the pages one at a time and shows, after each touch,
 * the device's .fault counter, this process's minor faults and the
 * page-state grid filling in. Touching again costs nothing. Residency is
 * read four ways (device counter, minflt, pagemap, mincore): they agree.
 *
 * Part 2, mode remap: remap_pfn_range() writes every PTE inside mmap();
 * touching costs no fault at all. The mapping is VM_PFNMAP, which the
 * page walkers behind pagemap and mincore skip, so they report 0 although
 * every PTE is there: the device counter and minflt are the honest
 * witnesses.
 *
 * Then MADV_DONTNEED (drops fault-mode pages, EINVAL on VM_PFNMAP) and a
 * summary table.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG		"mmapdemo-paging"
#define DEF_PAGES	16
#define MAX_ROWS	16	/* progress rows per touch loop */
#define MAX_INLINE	64	/* widest grid printed on a progress row */
#define MAX_GRID	128	/* pages shown by the full grid */

static const char usage[] =
	"usage: " PROG " [--pages N] [--help]\n"
	"\n"
	"Demand paging against eager mapping, with " MMAPDEMO_DEV_PATH ":\n"
	"maps N pages MAP_SHARED in mode fault, touches them one at a time and\n"
	"shows the driver's .fault calls, this process's minor faults and the\n"
	"page-state grid after each touch, and residency as pagemap and mincore\n"
	"see it; then does the same in mode remap, where remap_pfn_range()\n"
	"filled every page table entry inside mmap().\n"
	"Load mmapdemo.ko first; run as root to see physical frame numbers.\n"
	"Only reads the buffer.\n"
	"\n"
	"  -p, --pages N   pages to map (default: 16, or the whole buffer if smaller)\n"
	"  -h, --help      this text\n";

static int fd = -1;
static size_t ps;		/* page size */
static size_t npages;		/* pages mapped in each mode */

/* What each mode showed, for the summary table. */
struct result {
	long ptes_after_mmap;	/* -1: pagemap cannot tell */
	long faults;		/* .fault calls for the N first touches */
	long minflt;		/* minor faults for the N first touches */
	long faults_again;	/* .fault calls touching all N again */
	long minflt_again;
	long pagemap;		/* pagemap present count after the touches */
	long mincore;		/* mincore count after the touches */
	const char *dontneed;	/* what MADV_DONTNEED did */
};

static struct result res_fault, res_remap;

/* Report a contradiction between the narration and the kernel's evidence. */
static void expect(long got, long want, const char *what)
{
	if (got != want)
		mmapdemo_unexpected("%s is %ld, expected %ld", what, got, want);
}

static unsigned long long dev_faults(void)
{
	struct mmapdemo_stats st;

	mmapdemo_xget_stats(fd, &st);
	return st.faults;
}

static long pagemap_count(void *m)
{
	long n = mmapdemo_pagemap_present(m, npages);

	if (n < 0)
		mmapdemo_die("/proc/self/pagemap");
	return n;
}

static long mincore_count(void *m)
{
	long n = mmapdemo_mincore_count(m, npages);

	if (n < 0)
		mmapdemo_die("mincore");
	return n;
}

static void show_grid(void *m)
{
	size_t len = npages < MAX_GRID ? npages : MAX_GRID;

	/* No grid for VM_PFNMAP: the explanation then names all npages PTEs. */
	if (mmapdemo_is_pfnmap(m))
		len = npages;
	else if (len < npages)
		printf("  (grid of the first %zu of %zu pages)\n", len, npages);
	if (mmapdemo_print_grid(stdout, fd, m, len, 0) < 0)
		mmapdemo_die("page-state grid");
}

/* "page 3" or "pages 0..7" */
static const char *page_range(size_t first, size_t last)
{
	static char buf[64];

	if (first == last)
		snprintf(buf, sizeof(buf), "page %zu", first);
	else
		snprintf(buf, sizeof(buf), "pages %zu..%zu", first, last);
	return buf;
}

static void *map_mode(uint64_t mode)
{
	mmapdemo_xset_mode(fd, mode);
	return mmapdemo_xmmap(npages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0,
			      MMAPDEMO_DEV_PATH);
}

/*
 * Touch pages [first, last) one load at a time. After each touch (or
 * every few for big mappings) print the running totals since mmap():
 * .fault calls, minor faults and, where pagemap can see the mapping, the
 * grid. @want is the faults every touch must cost (1 or 0).
 */
static void touch_one_by_one(void *m, size_t first, size_t last, long want,
			     bool grid, long *faults, long *minflt)
{
	size_t every = (npages + MAX_ROWS - 1) / MAX_ROWS, i;
	unsigned long long before, after;
	char line[MAX_INLINE + 1];
	long mf;

	if (every > 1)
		printf("  (one row every %zu touches)\n", every);
	printf("  %7s  %7s  %7s%s\n", "touched", ".fault", "minflt",
	       !grid ? "" : npages <= MAX_INLINE ? "  pages 0.." : "  pagemap");
	for (i = first; i < last; i++) {
		before = dev_faults();
		mf = mmapdemo_touch((char *)m + i * ps, 1, 1, -1);
		if (mf < 0)
			mmapdemo_die("touch");
		after = dev_faults();
		*faults += (long)(after - before);
		*minflt += mf;
		if ((long)(after - before) != want || mf != want)
			mmapdemo_unexpected("touching page %zu cost %llu .fault call(s) and %ld minor fault(s), expected %ld of each",
					    i, after - before, mf, want);
		if ((i + 1) % every && i + 1 != last)
			continue;
		printf("  %7zu  %7ld  %7ld", i + 1, *faults, *minflt);
		if (grid && npages <= MAX_INLINE)
			printf("  %s", mmapdemo_grid_line(fd, m, npages, 0, line, sizeof(line)));
		else if (grid)
			printf("  %7ld", pagemap_count(m));
		printf("\n");
	}
}

/* Touch all pages again in one go; each must cost nothing now. */
static void touch_again(void *m, struct result *r)
{
	unsigned long long before = dev_faults();

	r->minflt_again = mmapdemo_touch(m, npages, 1, -1);
	if (r->minflt_again < 0)
		mmapdemo_die("touch");
	r->faults_again = (long)(dev_faults() - before);
	printf("  touched all %zu pages again: %ld .fault calls, %ld minor faults\n",
	       npages, r->faults_again, r->minflt_again);
	expect(r->faults_again, 0, "the .fault count for touching again");
	expect(r->minflt_again, 0, "the minor-fault count for touching again");
}

/* As root: the PFN pagemap shows for page 0 against the device's own. */
static void show_pfn(void *m, bool pfnmap)
{
	struct mmapdemo_pagemap pm;
	uint64_t pfn;

	if (mmapdemo_get_pfn(fd, 0, &pfn)) {
		if (errno != EPERM)
			mmapdemo_die("MMAPDEMO_IOC_GET_PFN");
		printf("  PFNs: hidden (MMAPDEMO_IOC_GET_PFN and pagemap PFNs need root)\n");
		return;
	}
	if (mmapdemo_pagemap(m, &pm))
		mmapdemo_die("/proc/self/pagemap");
	if (pfnmap) {
		printf("  PFNs: the device says buffer page 0 is PFN %#llx; pagemap shows %s\n",
		       (unsigned long long)pfn,
		       pm.present ? "it too" : "a hole there (it cannot see VM_PFNMAP)");
		if (pm.present)
			mmapdemo_unexpected("pagemap sees a page of a VM_PFNMAP mapping");
		return;
	}
	printf("  PFNs: pagemap maps page 0 to PFN %#llx, the device says buffer page 0 is PFN %#llx\n",
	       (unsigned long long)pm.pfn, (unsigned long long)pfn);
	if (pm.pfn != pfn)
		mmapdemo_unexpected("pagemap's PFN of page 0 is not the device's page");
}

static void part_fault(void **mp)
{
	size_t half = (npages + 1) / 2;
	struct result *r = &res_fault;
	unsigned long long f0;
	long pm, mc;
	void *m;

	mmapdemo_step("Demand paging: mmap() in mode fault");
	mmapdemo_doing("mmap(%zu pages, PROT_READ|PROT_WRITE, MAP_SHARED) with mode fault", npages);
	f0 = dev_faults();
	m = map_mode(MMAPDEMO_MODE_FAULT);
	*mp = m;
	r->ptes_after_mmap = pagemap_count(m);
	mc = mincore_count(m);
	printf("  mapped at %p; .fault calls so far %llu, pagemap present %ld, mincore %ld\n",
	       m, dev_faults() - f0, r->ptes_after_mmap, mc);
	show_grid(m);
	expect((long)(dev_faults() - f0), 0, "the .fault count after mmap()");
	expect(r->ptes_after_mmap, 0, "the pagemap present count after mmap()");
	expect(mc, 0, "the mincore count after mmap()");
	mmapdemo_why("the driver's ->mmap() only accepted the range; no page table entry exists yet.");

	mmapdemo_step("First touches, one page at a time (mode fault)");
	mmapdemo_doing("read one byte of %s, one after the other", page_range(0, half - 1));
	touch_one_by_one(m, 0, half, 1, true, &r->faults, &r->minflt);
	mmapdemo_why("each first load found no PTE, trapped (a minor fault), and the core asked .fault for the page.");

	mmapdemo_step("Residency four ways (mode fault)");
	mmapdemo_doing("ask four witnesses how many of the %zu pages are mapped after %zu touches",
		       npages, half);
	pm = pagemap_count(m);
	mc = mincore_count(m);
	printf("  device .fault counter (MMAPDEMO_IOC_GET_STATS): %ld\n", r->faults);
	printf("  this process's minor faults (getrusage):        %ld\n", r->minflt);
	printf("  /proc/self/pagemap present bit (bit 63):        %ld\n", pm);
	printf("  mincore(2):                                     %ld\n", mc);
	show_pfn(m, false);
	show_grid(m);
	expect(r->faults, (long)half, "the device's .fault count");
	expect(r->minflt, (long)half, "the minor-fault count");
	expect(pm, (long)half, "the pagemap present count");
	expect(mc, (long)half, "the mincore count");
	mmapdemo_why("the pages are ordinary struct pages behind ordinary PTEs, so every witness sees the same %zu.",
	    half);

	mmapdemo_step("The other pages, then all of them again (mode fault)");
	if (half < npages) {
		mmapdemo_doing("read one byte of %s, one after the other",
			       page_range(half, npages - 1));
		touch_one_by_one(m, half, npages, 1, true, &r->faults, &r->minflt);
	} else {
		printf("  (no other pages: the mapping has only %zu)\n", npages);
	}
	show_grid(m);
	mmapdemo_doing("read one byte of every page again");
	touch_again(m, r);
	r->pagemap = pagemap_count(m);
	r->mincore = mincore_count(m);
	printf("  fault: touched %zu pages, %ld .fault calls, %ld minor faults; pagemap %ld, mincore %ld\n",
	       npages, r->faults, r->minflt, r->pagemap, r->mincore);
	expect(r->faults, (long)npages, "the device's .fault count");
	expect(r->minflt, (long)npages, "the minor-fault count");
	expect(r->pagemap, (long)npages, "the pagemap present count");
	expect(r->mincore, (long)npages, "the mincore count");
	mmapdemo_why("a page costs one fault, once; after that its PTE is there and a load is a plain memory access.");
}

static void part_remap(void **mp)
{
	struct result *r = &res_remap;
	unsigned long long f0;
	void *m;

	mmapdemo_step("Eager mapping: mmap() in mode remap");
	mmapdemo_doing("mmap(%zu pages, PROT_READ|PROT_WRITE, MAP_SHARED) with mode remap", npages);
	f0 = dev_faults();
	m = map_mode(MMAPDEMO_MODE_REMAP);
	*mp = m;
	printf("  mapped at %p; .fault calls so far %llu\n", m, dev_faults() - f0);
	if (!mmapdemo_is_pfnmap(m))
		mmapdemo_unexpected("the remap mapping has no 'pf' (VM_PFNMAP) in its smaps VmFlags");
	r->ptes_after_mmap = -1;
	show_grid(m);
	expect((long)(dev_faults() - f0), 0, "the .fault count after mmap()");
	mmapdemo_why("remap_pfn_range() wrote all %zu PTEs before mmap() returned, as VM_PFNMAP entries.",
	    npages);

	mmapdemo_step("Touches, one page at a time (mode remap)");
	mmapdemo_doing("read one byte of %s, one after the other", page_range(0, npages - 1));
	touch_one_by_one(m, 0, npages, 0, false, &r->faults, &r->minflt);
	touch_again(m, r);
	printf("  remap: touched %zu pages, %ld .fault calls, %ld minor faults\n",
	       npages, r->faults, r->minflt);
	expect(r->faults, 0, "the device's .fault count");
	expect(r->minflt, 0, "the minor-fault count");
	mmapdemo_why("no load ever found a missing PTE, so the CPU never trapped and the driver was never asked.");

	mmapdemo_step("Residency four ways (mode remap)");
	mmapdemo_doing("ask the same four witnesses about the %zu pages, all mapped and touched",
		       npages);
	r->pagemap = pagemap_count(m);
	r->mincore = mincore_count(m);
	printf("  device .fault counter: %ld  (honest: mmap() mapped everything, nothing to ask for)\n",
	       r->faults);
	printf("  minor faults:          %ld  (honest: %zu loads, not one trap, so every PTE was there)\n",
	       r->minflt, npages);
	printf("  pagemap present:       %ld  (blind: reports VM_PFNMAP as holes)\n", r->pagemap);
	printf("  mincore:               %ld  (blind: looks in the device file's empty page cache)\n",
	       r->mincore);
	show_pfn(m, true);
	expect(r->pagemap, 0, "the pagemap present count of a VM_PFNMAP mapping");
	expect(r->mincore, 0, "the mincore count of a VM_PFNMAP mapping");
	mmapdemo_why("the page-table walkers skip VM_PFNMAP VMAs, whose PFNs may have no struct page, and answer as for a hole.");
}

static void step_dontneed(void *mf, void *mr)
{
	unsigned long long before;
	long pm, mc, minflt;
	int ret;

	mmapdemo_step("MADV_DONTNEED in both modes");
	mmapdemo_doing("madvise(MADV_DONTNEED) on the whole fault mapping, then read page 0");
	if (madvise(mf, npages * ps, MADV_DONTNEED))
		mmapdemo_die("madvise(MADV_DONTNEED) on the fault mapping");
	pm = pagemap_count(mf);
	mc = mincore_count(mf);
	printf("  after madvise: pagemap present %ld, mincore %ld\n", pm, mc);
	show_grid(mf);
	expect(pm, 0, "the pagemap present count after MADV_DONTNEED");
	expect(mc, 0, "the mincore count after MADV_DONTNEED");
	before = dev_faults();
	minflt = mmapdemo_touch(mf, 1, 1, -1);
	if (minflt < 0)
		mmapdemo_die("touch");
	printf("  read page 0: %llu .fault call, %ld minor fault; the grid again:\n",
	       dev_faults() - before, minflt);
	show_grid(mf);
	expect((long)(dev_faults() - before), 1, "the .fault count for page 0 after MADV_DONTNEED");
	expect(minflt, 1, "the minor-fault count for page 0 after MADV_DONTNEED");
	res_fault.dontneed = "drops PTEs";

	mmapdemo_doing("madvise(MADV_DONTNEED) on the remap mapping");
	ret = madvise(mr, npages * ps, MADV_DONTNEED);
	printf("  madvise: %s\n", ret ? strerror(errno) : "success");
	if (!ret || errno != EINVAL)
		mmapdemo_unexpected("MADV_DONTNEED on a VM_PFNMAP mapping did not fail with EINVAL");
	res_remap.dontneed = ret ? "EINVAL" : "?";
	mmapdemo_why("MADV_DONTNEED zaps fault-mode PTEs (the next touch asks .fault again), but madvise() refuses it for every VM_PFNMAP VMA, as for locked and hugetlb ones (can_madv_lru_vma()), whatever the driver's vm_ops; munmap() still removes such PTEs.");
}

/* One row of the summary: a number, or why there is none. */
static void summary_row(const char *what, long fault, long remap, const char *remap_note)
{
	char buf[32];

	if (remap < 0)
		snprintf(buf, sizeof(buf), "%s", remap_note);
	else if (remap_note)
		snprintf(buf, sizeof(buf), "%ld %s", remap, remap_note);
	else
		snprintf(buf, sizeof(buf), "%ld", remap);
	printf("  %-30s %10ld | %s\n", what, fault, buf);
}

static void step_summary(void)
{
	char all[32];

	mmapdemo_step("Summary");
	printf("  %-30s %10s | %s\n", "", "fault", "remap");
	snprintf(all, sizeof(all), "all %zu (0 faults)", npages);
	summary_row("PTEs after mmap()", res_fault.ptes_after_mmap, -1, all);
	summary_row(".fault calls, first touches", res_fault.faults, res_remap.faults, NULL);
	summary_row("minor faults, first touches", res_fault.minflt, res_remap.minflt, NULL);
	summary_row(".fault calls, touching again", res_fault.faults_again,
		    res_remap.faults_again, NULL);
	summary_row("pagemap present", res_fault.pagemap, res_remap.pagemap, "(blind)");
	summary_row("mincore", res_fault.mincore, res_remap.mincore, "(blind)");
	printf("  %-30s %10s | %s\n", "MADV_DONTNEED", res_fault.dontneed, res_remap.dontneed);
	printf("  (%zu pages mapped MAP_SHARED in each mode, each touched once, then all again)\n",
	       npages);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pages", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	unsigned long long want = 0;
	struct mmapdemo_info info;
	void *mf = NULL, *mr = NULL;

	mmapdemo_program(PROG, usage);
	while (mmapdemo_getopt(argc, argv, "p:h", opts) == 'p')
		want = mmapdemo_parse_u64("--pages", optarg, 1, UINT64_MAX);

	fd = mmapdemo_demo_open(&info);
	ps = info.page_size;

	printf("mmapdemo-paging: demand paging (mode fault) against eager mapping (mode remap)\n");
	mmapdemo_print_info(stdout, &info);
	npages = info.pages < DEF_PAGES ? info.pages : DEF_PAGES;
	if (want) {
		npages = want;
		if (want > info.pages) {
			npages = info.pages;
			printf("  --pages %llu is more than the buffer: clamped to %zu\n",
			       want, npages);
		}
	} else if (npages < info.pages) {
		printf("  mapping the first %zu of its %llu pages (--pages N for more)\n",
		       npages, (unsigned long long)info.pages);
	}

	part_fault(&mf);
	part_remap(&mr);
	step_dontneed(mf, mr);
	step_summary();

	mmapdemo_xmunmap(mf, npages * ps);
	mmapdemo_xmunmap(mr, npages * ps);
	/* Leave the file in the mode the module was loaded with. */
	mmapdemo_xset_mode(fd, info.mode);
	close(fd);
	return mmapdemo_finish();
}
