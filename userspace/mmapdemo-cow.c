// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-cow: copy-on-write on a device mapping, in both mmap variants.
 *
 * The same buffer pages are mapped twice, MAP_SHARED ("s") and
 * MAP_PRIVATE ("p"), and the kernel's own evidence shows that:
 *   1. write() puts known content in the device pages;
 *   2. s and p are two views of those pages ('s' and 'p' in /proc/self/maps),
 *      and reading p shows the device page itself;
 *   3. the first write to a page of p copies it: p gets a new anonymous page
 *      (new PFN, pagemap file bit cleared) while s keeps the device page;
 *   4. read() and s still show the old content: the write went to the copy;
 *   5. pages of p never written still follow the device, the copy does not;
 *   6. after fork() parent and child share p's pages read-only until one of
 *      them writes; writes through s are seen by both;
 *   7. a summary, one "why" per observation.
 * It runs in mode fault (vm_operations_struct.fault) and then in mode remap
 * (remap_pfn_range, VM_PFNMAP), or in one of them with --mode.
 *
 * Every claim is checked: an observation that contradicts the narration is
 * printed as "UNEXPECTED: ..." and the demo exits with status 1.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG		"mmapdemo-cow"
#define MIN_PAGES	3	/* pages 0, 1 and 2 each play a part */
#define DEFAULT_PAGES	4
#define TEXT_MAX	64	/* the demo's texts are shorter than this */

static const char usage[] =
	"usage: " PROG " [--mode fault|remap|both] [--pages N] [--help]\n"
	"\n"
	"Copy-on-write on " MMAPDEMO_DEV_PATH ": maps the same buffer pages\n"
	"MAP_SHARED (s) and MAP_PRIVATE (p), writes through p, then forks, and\n"
	"narrates what the kernel does: the device's .fault counter, this\n"
	"process's minor faults, PFNs (as root), pagemap, /proc/self/maps.\n"
	"Load mmapdemo.ko first; run as root to see PFNs. Overwrites the\n"
	"first N pages of the buffer.\n"
	"\n"
	"  -m, --mode MODE   fault, remap or both (default both: fault, then remap)\n"
	"  -p, --pages N     pages to map, at least 3 (default min(4, buffer pages))\n"
	"  -h, --help        this text\n";

static int fd = -1;
static size_t ps;		/* page size */
static uint64_t buf_pages;	/* size of the device buffer */
static bool contiguous;		/* MMAPDEMO_INFO_CONTIGUOUS */
static bool root;		/* MMAPDEMO_IOC_GET_PFN works: PFNs are visible */
static const char *tag = "";	/* "[parent] " or "[child] " during step 6 */
static const char *mname;	/* name of the mode being shown */

/* Each step: "N. Title (mode M)", then "  doing: ...". */
static void step(const char *title, const char *doing)
{
	mmapdemo_step("%s (mode %s)", title, mname);
	mmapdemo_doing("%s", doing);
}

static char *page(void *m, size_t index)
{
	return (char *)m + index * ps;
}

/* During the fork, each line says which process printed it. */
static const char *who(void)
{
	return tag;
}

/* "[parent]", "[child]" or NULL: for the narration and the error lines. */
static void set_who(const char *name)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%s ", name ? name : "");
	tag = name ? buf : "";
	mmapdemo_set_tag(name);
}

/* ---------------------------------------------------------------- evidence */

struct cost {
	long minflt;			/* minor faults of this thread */
	unsigned long long faults;	/* .fault calls in the driver */
};

/*
 * Load (@value < 0) or store one byte at @addr and count what it cost.
 * The device's counters are module-wide: the other process of step 6 is
 * blocked on a pipe while this one counts.
 */
static void touch_one(void *addr, int value, struct cost *c)
{
	struct mmapdemo_stats before, after;

	mmapdemo_xget_stats(fd, &before);
	c->minflt = mmapdemo_touch(addr, 1, 1, value);
	if (c->minflt < 0)
		mmapdemo_die("mmapdemo_touch");
	mmapdemo_xget_stats(fd, &after);
	c->faults = after.faults - before.faults;
}

/*
 * Store @text at @addr: the first byte alone, counted (that store is the
 * one that faults), then the rest, which cannot fault any more.
 */
static void store_text(char *addr, const char *text, struct cost *c)
{
	touch_one(addr, (unsigned char)text[0], c);
	strcpy(addr + 1, text + 1);
}

static void load(char *addr, struct cost *c)
{
	touch_one(addr, -1, c);
}

static bool text_is(const char *have, const char *want)
{
	return !strncmp(have, want, strlen(want) + 1);
}

/* Print "  <what>: N .fault call(s), N minor fault(s)" and check both. */
static void show_cost(const char *what, const struct cost *c, long want_faults,
		      long want_minflt, const char *expl)
{
	printf("  %s%s: %s: %llu .fault call%s, %ld minor fault%s\n", who(), mname, what,
	       c->faults, c->faults == 1 ? "" : "s", c->minflt, c->minflt == 1 ? "" : "s");
	if ((long long)c->faults != want_faults || c->minflt != want_minflt)
		mmapdemo_unexpected("%s: expected %ld .fault call(s) and %ld minor fault(s) (%s)",
				    what, want_faults, want_minflt, expl);
}

/* Device text of buffer page @index, read with read(). */
static void dev_read(uint64_t index, char *buf)
{
	if (pread(fd, buf, TEXT_MAX, (off_t)(index * ps)) != TEXT_MAX)
		mmapdemo_die("read");
	buf[TEXT_MAX - 1] = '\0';
}

static void dev_write(uint64_t index, const char *text)
{
	ssize_t len = (ssize_t)strlen(text) + 1;

	if (pwrite(fd, text, len, (off_t)(index * ps)) != len)
		mmapdemo_die("write");
}

/* PFN of buffer page @index, or 0 when hidden (not root). */
static uint64_t dev_pfn(uint64_t index)
{
	uint64_t pfn;

	if (!root)
		return 0;
	if (mmapdemo_get_pfn(fd, index, &pfn))
		mmapdemo_die("MMAPDEMO_IOC_GET_PFN");
	return pfn;
}

static void show_dev_pfn(uint64_t index)
{
	if (root)
		printf("  %sdevice page %" PRIu64 ": PFN %#" PRIx64 " (MMAPDEMO_IOC_GET_PFN)\n",
		       who(), index, dev_pfn(index));
}

/* Print and return the pagemap view of page @index of mapping @name. */
static struct mmapdemo_pagemap show_pagemap(const char *name, void *m, uint64_t index)
{
	struct mmapdemo_pagemap pm;
	char pfn[48] = "PFN hidden (not root)";

	if (mmapdemo_pagemap(page(m, index), &pm))
		mmapdemo_die("/proc/self/pagemap");
	if (!pm.present) {
		printf("  %s%s page %" PRIu64 ": pagemap says not present\n", who(), name, index);
		return pm;
	}
	if (root)
		snprintf(pfn, sizeof(pfn), "PFN %#" PRIx64, pm.pfn);
	printf("  %s%s page %" PRIu64 ": pagemap present, %s, %s, %s\n", who(), name, index,
	       pm.file ? "file page (bit 61 set)" : "anonymous (bit 61 clear)",
	       pm.exclusive ? "mapped once" : "mapped more than once", pfn);
	return pm;
}

/* Check that page @index of @name is the device's own page. */
static void expect_device_page(const char *name, const struct mmapdemo_pagemap *pm,
			       uint64_t index)
{
	if (!pm->present || !pm->file)
		mmapdemo_unexpected("%s page %" PRIu64 " should map the device page (present, file bit set)",
				    name, index);
	else if (root && pm->pfn != dev_pfn(index))
		mmapdemo_unexpected("%s page %" PRIu64 " has PFN %#" PRIx64 ", the device page is %#" PRIx64,
				    name, index, pm->pfn, dev_pfn(index));
}

/* Check that page @index of @name is a private anonymous copy. */
static void expect_copy(const char *name, const struct mmapdemo_pagemap *pm, uint64_t index)
{
	if (!pm->present || pm->file)
		mmapdemo_unexpected("%s page %" PRIu64 " should be an anonymous copy (present, file bit clear)",
				    name, index);
	else if (root && pm->pfn == dev_pfn(index))
		mmapdemo_unexpected("%s page %" PRIu64 " still has the device page's PFN after the write",
				    name, index);
}

/* The child's grid: mmapdemo_print_grid()'s legend, on one prefixed line. */
static void child_grid(const char *name, void *m, size_t n)
{
	char line[64];

	printf("  %s%s: %s   (. not present, S device page, P private copy)\n", who(), name,
	       mmapdemo_grid_line(fd, m, n, 0, line, sizeof(line)));
}

/* Page-state grids of both mappings; remap mode has none (said once). */
static void show_grids(void *s, void *p, size_t n)
{
	static const char *explained;

	if (mmapdemo_is_pfnmap(p)) {
		if (explained == mname) {
			printf("  (no grid in mode remap: pagemap cannot see VM_PFNMAP, see step 2)\n");
			return;
		}
		explained = mname;
	}
	printf("  grid of p (MAP_PRIVATE):\n");
	if (mmapdemo_print_grid(stdout, fd, p, n, 0) == 1)
		return;
	printf("  grid of s (MAP_SHARED):\n");
	mmapdemo_print_grid(stdout, fd, s, n, 0);
}

/* Print the maps line of @m; return its offset column, perms into @perms. */
static unsigned long long show_maps(const char *name, void *m, char perms[5])
{
	unsigned long long off = 0;
	char line[512];

	if (mmapdemo_maps_line(m, line, sizeof(line)))
		mmapdemo_die("/proc/self/maps");
	printf("  %s: %s\n", name, line);
	if (sscanf(line, "%*x-%*x %4s %llx", perms, &off) != 2)
		mmapdemo_fail("/proc/self/maps: cannot parse '%s'", line);
	return off;
}

/* ---------------------------------------------------------------- the story */

/* Texts the pages hold during the story. */
#define V1		"device v1, page %zu"
#define PRIV1		"p's private write to page 1"
#define V2_PAGE2	"device v2, page 2 (by write())"
#define V2_PAGE1	"device v2, page 1 (through s)"
#define CHILD_S0	"child's write to s page 0"
#define CHILD_P1	"child's private write to p page 1"
#define PARENT_P2	"parent's private write to p page 2, after fork"

/* What the summary repeats. */
struct results {
	struct cost read0, write1, read2, child_s0, child_p1, parent_p2;
	bool forked;
};

/*
 * Map @n pages twice. In remap mode MAP_PRIVATE needs one physically
 * contiguous range; if the kernel refuses (EINVAL), try fewer pages.
 */
static int map_both(uint64_t mode, size_t *n, void **s, void **p)
{
	mmapdemo_xset_mode(fd, mode);
	for (;;) {
		*p = mmap(NULL, *n * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
		if (*p != MAP_FAILED)
			break;
		if (errno != EINVAL || mode != MMAPDEMO_MODE_REMAP || contiguous ||
		    *n <= MIN_PAGES)
			return -1;
		printf("  MAP_PRIVATE of pages 0-%zu refused (EINVAL): not physically contiguous",
		       *n - 1);
		*n = *n / 2 < MIN_PAGES ? MIN_PAGES : *n / 2;
		printf(", trying %zu pages\n", *n);
	}
	*s = mmap(NULL, *n * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*s == MAP_FAILED) {
		munmap(*p, *n * ps);
		return -1;
	}
	return 0;
}

static void step1(size_t n)
{
	char text[TEXT_MAX], back[TEXT_MAX];
	size_t i;

	step("Known content in the device",
	     "write() \"device v1, page K\" into buffer pages 0..N-1");
	for (i = 0; i < n; i++) {
		snprintf(text, sizeof(text), V1, i);
		dev_write(i, text);
	}
	dev_read(1, back);
	printf("  %zu pages written; read() of page 1 gives \"%s\"\n", n, back);
	snprintf(text, sizeof(text), V1, (size_t)1);
	if (!text_is(back, text))
		mmapdemo_unexpected("read() of page 1 gives \"%s\", not what write() put there", back);
	mmapdemo_why("read() and write() copy straight to and from the buffer's kernel pages; no "
	    "mapping is involved yet.");
}

static void step2(uint64_t mode, void *s, void *p, size_t n, struct results *r)
{
	bool remap = mode == MMAPDEMO_MODE_REMAP;
	char perms_s[5] = "", perms_p[5] = "", vmflags[256] = "";
	unsigned long long off_s, off_p;
	struct mmapdemo_pagemap pm;
	char want[TEXT_MAX];

	step("Two mappings of the same pages",
	     "mmap() pages 0..N-1 MAP_SHARED (s) and MAP_PRIVATE (p), then read p page 0");
	printf("  /proc/self/maps:\n");
	off_s = show_maps("  s", s, perms_s);
	off_p = show_maps("  p", p, perms_p);
	if (perms_s[3] != 's' || perms_p[3] != 'p')
		mmapdemo_unexpected("maps permissions are %s and %s, expected ...s and ...p", perms_s, perms_p);
	if (mmapdemo_smaps_vmflags(p, vmflags, sizeof(vmflags)))
		mmapdemo_die("/proc/self/smaps");
	printf("  smaps VmFlags of p: %s\n", vmflags);
	if (mmapdemo_vmflag(vmflags, "pf") != remap)
		mmapdemo_unexpected("VmFlags of p %s \"pf\" (VM_PFNMAP) in mode %s",
				    remap ? "lacks" : "has", mname);
	if (off_s != 0)
		mmapdemo_unexpected("s's offset column is %#llx, expected the file offset 0", off_s);
	if (!remap && off_p != 0)
		mmapdemo_unexpected("p's offset column is %#llx, expected the file offset 0", off_p);
	if (remap) {
		printf("  p's offset column %#llx is not the file offset 0 but PFN %#llx x page size:\n"
		       "  remap_pfn_range() stored the first PFN in vm_pgoff of the private VMA\n",
		       off_p, off_p / ps);
		if (!root)
			printf("  (so maps shows a physical address even to a process that is not root)\n");
		if (root && off_p != dev_pfn(0) * ps)
			mmapdemo_unexpected("p's offset column %#llx is not device page 0's PFN %#" PRIx64
					    " x page size", off_p, dev_pfn(0));
		if (!off_p)
			mmapdemo_unexpected("p's offset column is 0 in mode remap, expected a physical address");
	}

	load(page(p, 0), &r->read0);
	snprintf(want, sizeof(want), V1, (size_t)0);
	printf("  p page 0 reads \"%.*s\"\n", TEXT_MAX, page(p, 0));
	if (!text_is(page(p, 0), want))
		mmapdemo_unexpected("p page 0 does not show the device's content");
	if (remap) {
		show_cost("p page 0 read", &r->read0, 0, 0,
			  "remap_pfn_range() filled every PTE at mmap()");
		show_grids(s, p, n);
		mmapdemo_why("remap_pfn_range() wrote all the PTEs inside mmap(), read-only in p, so "
		    "reading cost nothing.");
		return;
	}
	show_cost("p page 0 read", &r->read0, 1, 1, "one read fault, served by .fault");
	show_dev_pfn(0);
	pm = show_pagemap("p", p, 0);
	expect_device_page("p", &pm, 0);
	show_grids(s, p, n);
	mmapdemo_why("the read fault called .fault, which handed over the device page itself, mapped "
	    "read-only in p so that a write can be caught.");
}

static void step3(uint64_t mode, void *s, void *p, size_t n, struct results *r)
{
	bool remap = mode == MMAPDEMO_MODE_REMAP;
	struct mmapdemo_pagemap pm;
	uint64_t pfn_before = dev_pfn(1);
	struct cost c;
	long anon_kb;

	step("Write to page 1 of the private mapping",
	     "store \"" PRIV1 "\" into p page 1 (not page 0: see step 6)");
	printf("  before:\n");
	show_dev_pfn(1);
	if (!root)
		printf("  (PFNs hidden: MMAPDEMO_IOC_GET_PFN and pagemap PFNs need root)\n");
	if (!remap) {
		mmapdemo_doing("read s page 1, so that it is mapped and pagemap can show it");
		load(page(s, 1), &c);
		pm = show_pagemap("s", s, 1);
		expect_device_page("s", &pm, 1);
		pm = show_pagemap("p", p, 1);
		if (pm.present)
			mmapdemo_unexpected("p page 1 is present before anything touched it");
	} else {
		printf("  pagemap: blind in mode remap (VM_PFNMAP VMAs are reported as holes)\n");
	}

	store_text(page(p, 1), PRIV1, &r->write1);
	printf("  after:\n");
	if (remap) {
		show_cost("p page 1 write", &r->write1, 0, 1,
			  "do_wp_page() copies the page; the driver has no .fault to call");
		pm = show_pagemap("p", p, 1);
		printf("  (pagemap still shows a hole although the copy exists: the page walk\n"
		       "   skips VM_PFNMAP; the evidence is the 1 minor fault and 0 .fault calls)\n");
	} else {
		show_cost("p page 1 write", &r->write1, 1, 1,
			  "do_cow_fault() asks .fault for the device page to copy it");
		pm = show_pagemap("p", p, 1);
		expect_copy("p", &pm, 1);
		if (root)
			printf("  p page 1's PFN is %#" PRIx64 ", not the device page's %#" PRIx64
			       ": a new page\n", pm.pfn, pfn_before);
		pm = show_pagemap("s", s, 1);
		expect_device_page("s", &pm, 1);
		anon_kb = mmapdemo_smaps_kb(p, "Anonymous");
		printf("  smaps of p: Anonymous %ld kB (the copy)\n", anon_kb);
		if (anon_kb != (long)(ps / 1024))
			mmapdemo_unexpected("smaps Anonymous of p is %ld kB, expected one page", anon_kb);
	}
	if (root && dev_pfn(1) != pfn_before)
		mmapdemo_unexpected("device page 1's PFN changed");
	show_dev_pfn(1);
	show_grids(s, p, n);
	if (remap)
		mmapdemo_why("the PTE was read-only, so the write trapped and do_wp_page() copied the "
		    "page into a new anonymous one without asking the driver.");
	else
		mmapdemo_why("the first touch was a write to a private page, so do_cow_fault() got the "
		    "device page from .fault and mapped a fresh anonymous copy instead.");
}

static void step4(void *s, void *p)
{
	char dev[TEXT_MAX], want[TEXT_MAX];

	step("The write went to a private copy",
	     "read() device page 1, and read page 1 through s and through p");
	snprintf(want, sizeof(want), V1, (size_t)1);
	dev_read(1, dev);
	printf("  read() of device page 1: \"%s\"\n", dev);
	printf("  s page 1:                \"%.*s\"\n", TEXT_MAX, page(s, 1));
	printf("  p page 1:                \"%.*s\"\n", TEXT_MAX, page(p, 1));
	if (!text_is(dev, want))
		mmapdemo_unexpected("read() of device page 1 changed: the private write reached the device");
	if (!text_is(page(s, 1), want))
		mmapdemo_unexpected("s page 1 changed: the private write reached the shared mapping");
	if (!text_is(page(p, 1), PRIV1))
		mmapdemo_unexpected("p page 1 lost its private write");
	if (text_is(dev, want) && text_is(page(s, 1), want))
		printf("  %s: device page 1 still reads \"%s\"\n", mname, want);
	mmapdemo_why("the copy belongs to p alone; the device page, which read() and s use, was only "
	    "read to make it.");
}

static void step5(uint64_t mode, void *s, void *p, size_t n, struct results *r)
{
	bool remap = mode == MMAPDEMO_MODE_REMAP;
	struct mmapdemo_pagemap pm;
	char dev[TEXT_MAX];
	struct cost c;

	step("Unwritten private pages still track the device",
	     "write() \"" V2_PAGE2 "\" to page 2, then read p page 2");
	dev_write(2, V2_PAGE2);
	load(page(p, 2), &r->read2);
	printf("  p page 2 reads \"%.*s\"\n", TEXT_MAX, page(p, 2));
	if (!text_is(page(p, 2), V2_PAGE2))
		mmapdemo_unexpected("p page 2 does not show the device's new content");
	else
		printf("  %s: p page 2 sees the device's new content\n", mname);
	if (remap) {
		show_cost("p page 2 read", &r->read2, 0, 0, "the PTE exists since mmap()");
	} else {
		show_cost("p page 2 read", &r->read2, 1, 1, "first touch of p page 2");
		pm = show_pagemap("p", p, 2);
		expect_device_page("p", &pm, 2);
	}

	mmapdemo_doing("store \"" V2_PAGE1 "\" into s page 1, then read p page 1");
	store_text(page(s, 1), V2_PAGE1, &c);
	/* s page 1 was read in step 3: its PTE is there, and writable (MAP_SHARED). */
	show_cost("s page 1 write", &c, 0, 0, "s page 1 is mapped writable since step 3");
	dev_read(1, dev);
	printf("  read() of device page 1: \"%s\"\n", dev);
	printf("  p page 1:                \"%.*s\"\n", TEXT_MAX, page(p, 1));
	if (!text_is(dev, V2_PAGE1))
		mmapdemo_unexpected("the store through s did not reach the device");
	if (!text_is(page(p, 1), PRIV1))
		mmapdemo_unexpected("p page 1 changed: the copy followed the device");
	else
		printf("  %s: p page 1 keeps its private copy, blind to the device\n", mname);
	show_grids(s, p, n);
	mmapdemo_why("p maps the device page itself until the page is first written; from then on p's "
	    "page is a snapshot that no longer follows the device.");
}

/* ---------------------------------------------------------------- fork */


/* Wait for the other process; false if it went away instead. */
static bool xread_byte(int pfd)
{
	char b;
	ssize_t ret;

	do
		ret = read(pfd, &b, 1);
	while (ret < 0 && errno == EINTR);
	return ret == 1;
}

static void child(uint64_t mode, void *s, void *p, size_t n, uint64_t parent_p1_pfn,
		  int to_parent, int from_parent, struct results *r)
{
	bool remap = mode == MMAPDEMO_MODE_REMAP;
	struct mmapdemo_pagemap pm;
	struct cost c;

	mmapdemo_nr_unexpected = 0;	/* the exit status tells the parent about this process only */
	set_who("[child]");
	if (remap) {
		printf("  %sstarted; fork copied every PTE of both VM_PFNMAP VMAs (pagemap cannot show them)\n",
		       who());
	} else {
		printf("  %sstarted; its page tables, as pagemap shows them:\n", who());
		child_grid("p", p, n);
		child_grid("s", s, n);
		printf("  %s(fork copied the PTEs of p, which has anonymous pages, and skipped s:\n"
		       "  %s its pages fault back in from the driver on first touch)\n", who(), who());
	}

	/* p page 1: the parent's private copy, now shared read-only. */
	load(page(p, 1), &c);
	printf("  %sp page 1 reads \"%.*s\"\n", who(), TEXT_MAX, page(p, 1));
	if (!text_is(page(p, 1), PRIV1))
		mmapdemo_unexpected("p page 1 does not show the parent's private copy");
	show_cost("p page 1 read", &c, 0, 0, "fork copied the PTE");
	if (!remap) {
		pm = show_pagemap("p", p, 1);
		if (!pm.present || pm.file || pm.exclusive)
			mmapdemo_unexpected("p page 1 should be an anonymous page mapped twice");
		if (root && pm.pfn != parent_p1_pfn)
			mmapdemo_unexpected("p page 1 has PFN %#" PRIx64 ", the parent's copy %#" PRIx64,
					    pm.pfn, parent_p1_pfn);
		else if (root)
			printf("  %ssame PFN as the parent's copy: one page, shared read-only\n", who());
	}

	printf("  %sdoing: store \"" CHILD_S0 "\" into s page 0\n", who());
	store_text(page(s, 0), CHILD_S0, &r->child_s0);
	if (remap)
		show_cost("s page 0 write", &r->child_s0, 0, 0,
			  "fork copies every PTE of a VM_PFNMAP VMA, writable in s");
	else
		show_cost("s page 0 write", &r->child_s0, 1, 1,
			  "fork did not copy s's PTEs: the write faults into .fault");

	printf("  %sdoing: store \"" CHILD_P1 "\" into p page 1\n", who());
	store_text(page(p, 1), CHILD_P1, &r->child_p1);
	show_cost("p page 1 write", &r->child_p1, 0, 1,
		  "do_wp_page() copies the page shared with the parent");
	if (!remap) {
		pm = show_pagemap("p", p, 1);
		expect_copy("p", &pm, 1);
		if (!pm.exclusive)
			mmapdemo_unexpected("p page 1 should now be mapped once");
		if (root && pm.pfn == parent_p1_pfn)
			mmapdemo_unexpected("p page 1 still has the parent's PFN after the write");
		else if (root)
			printf("  %sPFN changed from %#" PRIx64 " to %#" PRIx64 ": the child's own copy\n",
			       who(), parent_p1_pfn, pm.pfn);
	}
	fflush(stdout);

	/* The costs go to the parent for the summary; then wait for its turn. */
	if (write(to_parent, r, sizeof(*r)) != (ssize_t)sizeof(*r))
		mmapdemo_die("pipe write");
	if (!xread_byte(from_parent)) {
		mmapdemo_unexpected("the parent went away");
		_exit(1);
	}

	printf("  %sdoing: read p page 2 after the parent's private write to it\n", who());
	printf("  %sp page 2 reads \"%.*s\"\n", who(), TEXT_MAX, page(p, 2));
	if (!text_is(page(p, 2), V2_PAGE2))
		mmapdemo_unexpected("p page 2 is not the device's content: the parent's private write leaked");
	else
		printf("  %s%s: child does not see the parent's private write\n", who(), mname);
	fflush(stdout);
	_exit(mmapdemo_nr_unexpected ? 1 : 0);
}

static void step6(uint64_t mode, void *s, void *p, size_t n, struct results *r)
{
	bool remap = mode == MMAPDEMO_MODE_REMAP;
	int to_parent[2], to_child[2], status;
	struct mmapdemo_stats before, forked, after;
	struct mmapdemo_pagemap pm;
	uint64_t p1_pfn = 0;
	struct results cr;
	bool ok;
	pid_t pid;

	step("fork: shared pages are shared, private pages are not",
	     "fork(); the child writes s page 0 and p page 1,\n"
	     "         then the parent reads them and writes p page 2");
	if (remap)
		printf("  (p page 0 is still unwritten on purpose: on Debian's 6.1, fork() fails with\n"
		       "   ENOMEM when the FIRST page of a private VM_PFNMAP mapping is a copy, because\n"
		       "   x86 PAT reads the VMA's cache mode from that PTE and refuses an anon page)\n");
	if (!remap) {
		pm = show_pagemap("p", p, 1);
		p1_pfn = pm.pfn;
	}
	if (pipe(to_parent) || pipe(to_child))
		mmapdemo_die("pipe");
	mmapdemo_xget_stats(fd, &before);
	pid = mmapdemo_fork();
	if (pid < 0) {
		mmapdemo_unexpected("fork failed: %s", strerror(errno));
		close(to_parent[0]);
		close(to_parent[1]);
		close(to_child[0]);
		close(to_child[1]);
		return;
	}
	if (!pid) {
		close(to_parent[0]);
		close(to_child[1]);
		child(mode, s, p, n, p1_pfn, to_parent[1], to_child[0], r);
	}
	close(to_parent[1]);
	close(to_child[0]);
	set_who("[parent]");

	/* Handshake: wait until the child has done its writes. */
	ok = read(to_parent[0], &cr, sizeof(cr)) == (ssize_t)sizeof(cr);
	mmapdemo_xget_stats(fd, &forked);
	printf("  %sthe child has written; fork made %llu vm_ops->open call%s (one per device VMA)\n",
	       who(), forked.vma_opens - before.vma_opens,
	       forked.vma_opens - before.vma_opens == 1 ? "" : "s");
	if (forked.vma_opens - before.vma_opens != 2)
		mmapdemo_unexpected("fork should copy the 2 device VMAs (2 vm_ops->open calls)");
	if (ok) {
		r->child_s0 = cr.child_s0;
		r->child_p1 = cr.child_p1;
		r->forked = true;
	} else {
		mmapdemo_unexpected("the child died before its writes were done");
	}

	printf("  %ss page 0 reads \"%.*s\"\n", who(), TEXT_MAX, page(s, 0));
	printf("  %sp page 0 reads \"%.*s\" (never written: still the device page)\n",
	       who(), TEXT_MAX, page(p, 0));
	printf("  %sp page 1 reads \"%.*s\"\n", who(), TEXT_MAX, page(p, 1));
	if (ok && !text_is(page(s, 0), CHILD_S0))
		mmapdemo_unexpected("the parent does not see the child's write through s");
	else if (ok)
		printf("  %s%s: parent sees the child's shared write\n", who(), mname);
	if (ok && !text_is(page(p, 0), CHILD_S0))
		mmapdemo_unexpected("p page 0, never written, does not follow the device");
	if (!text_is(page(p, 1), PRIV1))
		mmapdemo_unexpected("the parent's p page 1 changed: the child's private write leaked");
	else
		printf("  %s%s: parent does not see the child's private write\n", who(), mname);
	if (!remap) {
		pm = show_pagemap("p", p, 1);
		expect_copy("p", &pm, 1);
		if (root && pm.pfn != p1_pfn)
			mmapdemo_unexpected("the parent's p page 1 moved from PFN %#" PRIx64, p1_pfn);
	}

	printf("  %sdoing: store \"" PARENT_P2 "\" into p page 2\n", who());
	store_text(page(p, 2), PARENT_P2, &r->parent_p2);
	show_cost("p page 2 write", &r->parent_p2, 0, 1,
		  "p page 2 is mapped read-only since step 5, do_wp_page() copies it");
	fflush(stdout);
	if (write(to_child[1], "", 1) != 1)	/* the child's turn */
		mmapdemo_unexpected("the child went away: %s", strerror(errno));

	if (waitpid(pid, &status, 0) != pid)
		mmapdemo_die("waitpid");
	close(to_parent[0]);
	close(to_child[1]);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		mmapdemo_unexpected("the child %s", WIFEXITED(status) ? "found unexpected results" :
				    "was killed by a signal");
	mmapdemo_xget_stats(fd, &after);
	printf("  %sthe child exited: %llu vm_ops->close call%s\n",
	       who(), after.vma_closes - forked.vma_closes,
	       after.vma_closes - forked.vma_closes == 1 ? "" : "s");
	if (after.vma_closes - forked.vma_closes != 2)
		mmapdemo_unexpected("the child's exit should close its 2 device VMAs");
	set_who(NULL);
	show_grids(s, p, n);
	mmapdemo_why("fork gave the child write-protected copies of p's PTEs, so both share p's pages "
	    "until one writes and only the writer gets a copy, while s maps the device pages, "
	    "whose every write both see.");
}

/* ---------------------------------------------------------------- summary */

/* "  - what: N .fault call(s), N minor fault(s)" (@c may be NULL), then why. */
static void summary(const char *what, const struct cost *c, const char *reason)
{
	printf("  - %s", what);
	if (c)
		printf(": %llu .fault call%s, %ld minor fault%s", c->faults,
		       c->faults == 1 ? "" : "s", c->minflt, c->minflt == 1 ? "" : "s");
	putchar('\n');
	mmapdemo_print_wrapped("    why: ", reason);
}

static void step7(uint64_t mode, const struct results *r)
{
	bool remap = mode == MMAPDEMO_MODE_REMAP;

	step("Summary", "one line per observation, then its reason");
	summary("p read page 0", &r->read0, remap ?
		"remap_pfn_range() made every PTE at mmap() time." :
		"a read fault maps the device page itself, read-only in a private mapping.");
	summary("p wrote page 1 first", &r->write1, remap ?
		"the PTE was read-only; do_wp_page() copied the page without calling the driver." :
		"do_cow_fault() fetched the device page through .fault and mapped a copy of it.");
	summary("read() and s kept page 1's old content", NULL,
		"the copy is p's alone; the device page was only read.");
	summary("p page 2 showed what write() put in the device", &r->read2,
		"a private page that was never written is still the device's page.");
	summary("p page 1 ignored a later write to the device", NULL,
		"a copy is a snapshot: it no longer has anything to do with the device.");
	if (!r->forked)
		return;
	summary("the parent saw the child's write to s page 0", &r->child_s0, remap ?
		"both processes map the device page (fork copied all PTEs of the VM_PFNMAP VMA)." :
		"both processes map the device page (the child faulted it in: fork skipped s).");
	summary("the parent did not see the child's write to p page 1", &r->child_p1,
		"the page was shared read-only since fork; the child's write copied it.");
	summary("the child did not see the parent's write to p page 2", &r->parent_p2,
		"the same copy-on-write the other way: the parent's write copied the page.");
}

/* ---------------------------------------------------------------- main */

static void run_mode(uint64_t mode, size_t n)
{
	struct results r = { 0 };
	void *s, *p;

	mname = mmapdemo_mode_name(mode);
	mmapdemo_restart_steps();
	printf("\n=== mode %s: %s ===\n", mname, mode == MMAPDEMO_MODE_REMAP ?
	       "remap_pfn_range() at mmap time, VM_PFNMAP" :
	       "vm_operations_struct.fault, one page per first touch");
	if (mode == MMAPDEMO_MODE_REMAP && !contiguous) {
		printf("  the buffer is not physically contiguous, but a private remap mapping\n"
		       "  must be: it is allocated in chunks of up to 512 pages, so ");
		if (n > 512) {
			printf("%zu pages clamped to 512\n", n);
			n = 512;
		} else {
			printf("%zu pages should fit in the first one\n", n);
		}
	}
	step1(n);
	if (map_both(mode, &n, &s, &p)) {
		/* The module's policy: no physical address without CAP_SYS_ADMIN. */
		if (errno == EPERM && mode == MMAPDEMO_MODE_REMAP) {
			printf("  mode remap skipped: its MAP_PRIVATE needs CAP_SYS_ADMIN (EPERM), because\n"
			       "  remap_pfn_range() would show a physical address in /proc/self/maps\n");
			return;
		}
		if (errno == EINVAL && mode == MMAPDEMO_MODE_REMAP && !contiguous) {
			printf("  mode remap skipped: pages 0-%zu are not physically contiguous,\n"
			       "  and remap_pfn_range() can COW-map only a contiguous range\n", n - 1);
			return;
		}
		mmapdemo_die("mmap of %s", MMAPDEMO_DEV_PATH);
	}
	step2(mode, s, p, n, &r);
	step3(mode, s, p, n, &r);
	step4(s, p);
	step5(mode, s, p, n, &r);
	step6(mode, s, p, n, &r);
	step7(mode, &r);
	mmapdemo_xmunmap(p, n * ps);
	mmapdemo_xmunmap(s, n * ps);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "pages", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int modes = MMAPDEMO_MODE_BIT(MMAPDEMO_MODE_FAULT) |
			     MMAPDEMO_MODE_BIT(MMAPDEMO_MODE_REMAP);
	unsigned long long want = 0;
	struct mmapdemo_info info;
	uint64_t pfn;
	size_t n;
	int c;

	/* A child that dies early must not take the parent down with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	mmapdemo_program(PROG, usage);
	while ((c = mmapdemo_getopt(argc, argv, "m:p:h", opts)) != -1) {
		if (c == 'm')
			modes = mmapdemo_parse_modes("--mode", optarg, modes);
		else
			want = mmapdemo_parse_u64("--pages", optarg, MIN_PAGES, UINT64_MAX);
	}

	fd = mmapdemo_demo_open(&info);
	ps = info.page_size;
	buf_pages = info.pages;
	contiguous = info.flags & MMAPDEMO_INFO_CONTIGUOUS;
	root = !mmapdemo_get_pfn(fd, 0, &pfn);
	if (!root && errno != EPERM)
		mmapdemo_die("MMAPDEMO_IOC_GET_PFN");

	printf("mmapdemo-cow: copy-on-write on %s\n", MMAPDEMO_DEV_PATH);
	mmapdemo_print_info(stdout, &info);
	if (buf_pages < MIN_PAGES)
		mmapdemo_fail("the buffer has %llu page(s), this demo needs %d (insmod mmapdemo.ko pages=%d or more)",
			      (unsigned long long)buf_pages, MIN_PAGES, MIN_PAGES);
	n = buf_pages < DEFAULT_PAGES ? buf_pages : DEFAULT_PAGES;
	if (want && want > buf_pages)
		printf("  --pages %llu clamped to the buffer's %llu pages\n", want,
		       (unsigned long long)buf_pages);
	if (want)
		n = want > buf_pages ? buf_pages : want;
	printf("  using buffer pages 0-%zu; the device counters are module-wide\n", n - 1);
	if (!root)
		printf("  not root: PFNs are hidden (MMAPDEMO_IOC_GET_PFN says EPERM and pagemap\n"
		       "  zeroes them), so pages are told apart by pagemap's file bit alone\n");

	if (modes & MMAPDEMO_MODE_BIT(MMAPDEMO_MODE_FAULT))
		run_mode(MMAPDEMO_MODE_FAULT, n);
	if (modes & MMAPDEMO_MODE_BIT(MMAPDEMO_MODE_REMAP))
		run_mode(MMAPDEMO_MODE_REMAP, n);

	/* Mappings made earlier keep their mode; this just tidies the file. */
	mmapdemo_xset_mode(fd, info.mode);
	close(fd);
	return mmapdemo_finish();
}
