// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-maps: what the address space looks like, /proc/self/maps read
 * column by column.
 *
 * Maps /dev/mmapdemo (mode fault, MAP_SHARED, and MAP_PRIVATE at a
 * non-zero page offset), a small temporary file, an anonymous region, and
 * finds the heap and the stack. Prints this process's maps line for each
 * and explains the columns the way pmap does: address range and size,
 * permissions ('s' shared, 'p' private), file offset, device and inode of
 * the file, pathname. Then the smaps fields Rss and VmFlags of the device
 * mappings in both modes (dd de; pf io for remap_pfn_range), and the
 * remap-mode MAP_PRIVATE quirk: its offset column shows PFN * page size,
 * because remap_pfn_range() overwrites vm_pgoff of a COW mapping. Ends
 * with the whole of /proc/self/maps, the lines discussed marked "<-".
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define PROG		"mmapdemo-maps"
#define DEV_PAGES	4	/* pages of each shared device mapping, at most */
#define FILE_PAGES	2
#define ANON_PAGES	4

static const char usage[] =
	"usage: " PROG " [--no-full] [--help]\n"
	"\n"
	"Maps " MMAPDEMO_DEV_PATH " (MAP_SHARED and MAP_PRIVATE, modes fault and\n"
	"remap), a temporary file and an anonymous region, finds the heap and\n"
	"the stack, and explains their /proc/self/maps lines column by column,\n"
	"then the smaps Rss and VmFlags of the device mappings. Load mmapdemo.ko\n"
	"first; run as root to compare offsets with physical frame numbers.\n"
	"Only reads the buffer. The temporary file goes in $TMPDIR or /tmp.\n"
	"\n"
	"      --full      print the whole /proc/self/maps at the end (default)\n"
	"      --no-full   do not\n"
	"  -h, --help      this text\n";

/* One decoded /proc/PID/maps line. (A candidate for libmmapdemo.) */
struct maps_entry {
	unsigned long start, end;
	char perms[5];
	unsigned long long offset;
	unsigned int major, minor;
	unsigned long inode;
	const char *path;	/* points into the line; "" for none */
};

/* A region this demo discusses. */
struct region {
	const char *label;
	void *addr;		/* where it is */
	size_t len;		/* bytes this demo mapped; 0 for heap/stack */
	char line[512];		/* its maps line */
	struct maps_entry e;
};

enum {
	R_DEV_SHARED,		/* device, mode fault, MAP_SHARED */
	R_DEV_PRIVATE,		/* device, mode fault, MAP_PRIVATE at page off */
	R_FILE,			/* temporary file, MAP_PRIVATE, read-only */
	R_ANON,			/* MAP_PRIVATE | MAP_ANONYMOUS */
	R_HEAP,			/* a malloc()ed block */
	R_STACK,		/* a local variable of main() */
	R_REMAP_SHARED,		/* device, mode remap, MAP_SHARED */
	R_REMAP_PRIVATE,	/* device, mode remap, MAP_PRIVATE at page off */
	NR_REGIONS
};

static struct region regions[NR_REGIONS] = {
	[R_DEV_SHARED]		= { .label = "device fault MAP_SHARED" },
	[R_DEV_PRIVATE]		= { .label = "device fault MAP_PRIVATE" },
	[R_FILE]		= { .label = "temp file MAP_PRIVATE" },
	[R_ANON]		= { .label = "anonymous" },
	[R_HEAP]		= { .label = "heap (malloc)" },
	[R_STACK]		= { .label = "stack (a local)" },
	[R_REMAP_SHARED]	= { .label = "device remap MAP_SHARED" },
	[R_REMAP_PRIVATE]	= { .label = "device remap MAP_PRIVATE" },
};

static int fd = -1;
static size_t ps;		/* page size */
static size_t dev_pages;	/* pages of each shared device mapping */
static size_t off;		/* page offset of the private device mappings */
static struct stat dev_st, file_st;
static char file_path[PATH_MAX]; /* the temporary file's canonical name, as maps shows it */

static int parse_maps(const char *line, struct maps_entry *e)
{
	int n = 0;

	if (sscanf(line, "%lx-%lx %4s %llx %x:%x %lu %n", &e->start, &e->end, e->perms,
		   &e->offset, &e->major, &e->minor, &e->inode, &n) != 7 || !n)
		return -1;
	e->path = line + n;
	return 0;
}

/* Read the maps line of region @i (again: VMAs change as we map). */
static void read_region(int i)
{
	struct region *r = &regions[i];

	if (mmapdemo_maps_line(r->addr, r->line, sizeof(r->line)))
		mmapdemo_die("/proc/self/maps");
	if (parse_maps(r->line, &r->e))
		mmapdemo_fail("cannot parse the /proc/self/maps line '%s'", r->line);
}

static void *map_dev(uint64_t mode, int flags, size_t pages, size_t pgoff)
{
	mmapdemo_xset_mode(fd, mode);
	return mmapdemo_xmmap(pages * ps, PROT_READ | PROT_WRITE, flags, fd, (off_t)(pgoff * ps),
			      MMAPDEMO_DEV_PATH);
}

static void make_file(void)
{
	char tmp_path[PATH_MAX], *page;
	size_t i;
	int tfd;

	tfd = mmapdemo_tmpfile(tmp_path, sizeof(tmp_path));
	if (!realpath(tmp_path, file_path))
		mmapdemo_die("realpath");
	page = malloc(ps);
	if (!page)
		mmapdemo_die("malloc");
	for (i = 0; i < FILE_PAGES; i++) {
		memset(page, 'a' + (int)i, ps);
		if (write(tfd, page, ps) != (ssize_t)ps)
			mmapdemo_die("write to the temporary file");
	}
	free(page);
	if (fstat(tfd, &file_st))
		mmapdemo_die("fstat");
	regions[R_FILE].len = FILE_PAGES * ps;
	regions[R_FILE].addr = mmapdemo_xmmap(FILE_PAGES * ps, PROT_READ, MAP_PRIVATE, tfd, 0,
					      "the temporary file");
	close(tfd);	/* the mapping keeps the file open */
}

static void print_line(int i)
{
	printf("  %-25s %s\n", regions[i].label, regions[i].line);
}

static void step_map(void *stack_addr)
{
	struct region *r = regions;

	mmapdemo_step("Map some regions");
	mmapdemo_doing("mmap %zu page(s) of %s MAP_SHARED (mode fault), 1 page MAP_PRIVATE at page offset %zu,\n"
		       "         %d pages of a temporary file MAP_PRIVATE read-only, %d anonymous pages;\n"
		       "         malloc(64) for the heap and take the address of a local for the stack",
		       dev_pages, MMAPDEMO_DEV_PATH, off, FILE_PAGES, ANON_PAGES);
	r[R_DEV_SHARED].len = dev_pages * ps;
	r[R_DEV_SHARED].addr = map_dev(MMAPDEMO_MODE_FAULT, MAP_SHARED, dev_pages, 0);
	r[R_DEV_PRIVATE].len = ps;
	r[R_DEV_PRIVATE].addr = map_dev(MMAPDEMO_MODE_FAULT, MAP_PRIVATE, 1, off);
	make_file();
	r[R_ANON].len = ANON_PAGES * ps;
	r[R_ANON].addr = mmapdemo_xmmap(ANON_PAGES * ps, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0, "anonymous memory");
	r[R_HEAP].addr = malloc(64);
	if (!r[R_HEAP].addr)
		mmapdemo_die("malloc");
	r[R_STACK].addr = stack_addr;
	for (int i = R_DEV_SHARED; i <= R_STACK; i++) {
		read_region(i);
		print_line(i);
	}
	mmapdemo_why("every mmap() made one VMA (virtual memory area), and /proc/self/maps prints one line per VMA.");
}

/* pmap-like table row of region @i. */
static void print_row(int i)
{
	const struct maps_entry *e = &regions[i].e;

	printf("  %-25s %12lx %6luK %-4s %9llx %02x:%02x %9lu  %s\n", regions[i].label,
	       e->start, (e->end - e->start) / 1024, e->perms, e->offset, e->major,
	       e->minor, e->inode, e->path);
}

/* Check one column of region @i against what the narration says. */
static void check_str(int i, const char *col, const char *got, const char *want)
{
	if (strcmp(got, want))
		mmapdemo_unexpected("%s: %s is '%s', expected '%s'", regions[i].label, col, got, want);
}

static void check_num(int i, const char *col, unsigned long long got,
		      unsigned long long want)
{
	if (got != want)
		mmapdemo_unexpected("%s: %s is %#llx, expected %#llx", regions[i].label, col, got, want);
}

/* Device, inode and path of a file mapping match the file's stat. */
static void check_file(int i, const struct stat *st, const char *path)
{
	const struct maps_entry *e = &regions[i].e;

	check_str(i, "the pathname", e->path, path);
	check_num(i, "the device major", e->major, major(st->st_dev));
	check_num(i, "the device minor", e->minor, minor(st->st_dev));
	check_num(i, "the inode", e->inode, st->st_ino);
}

static void step_columns(void)
{
	struct region *r = regions;
	const struct maps_entry *d = &r[R_DEV_SHARED].e, *a = &r[R_ANON].e;
	unsigned long brk_end = ((unsigned long)sbrk(0) + ps - 1) & ~(ps - 1);
	int i;

	mmapdemo_step("The columns, as pmap -X shows them");
	mmapdemo_doing("split each line into start-end, perms, offset, major:minor, inode, pathname");
	printf("  %-25s %12s %7s %-4s %9s %5s %9s  %s\n", "", "Address", "Size", "Perm",
	       "Offset", "Dev", "Inode", "Mapping");
	for (i = R_DEV_SHARED; i <= R_STACK; i++)
		print_row(i);

	printf("  Address, Size: start-end of the VMA, end exclusive; the device VMA is %lu kB = %zu pages, exactly the mmap() length\n",
	       (d->end - d->start) / 1024, dev_pages);
	for (i = R_DEV_SHARED; i <= R_ANON; i++) {
		if (r[i].e.start != (unsigned long)r[i].addr)
			mmapdemo_unexpected("%s: the VMA does not start where mmap() returned", r[i].label);
		if (i != R_ANON && r[i].e.end - r[i].e.start != r[i].len)
			mmapdemo_unexpected("%s: the VMA is %lu bytes, mmap() asked for %zu",
					    r[i].label, r[i].e.end - r[i].e.start, r[i].len);
	}
	if (a->end - a->start != r[R_ANON].len)
		printf("    (the anonymous VMA is %lu kB, not %zu: the kernel merged it with an adjacent anonymous VMA of the same flags)\n",
		       (a->end - a->start) / 1024, r[R_ANON].len / 1024);
	printf("  Perm: r w x, then s = MAP_SHARED (stores reach the device or file), p = MAP_PRIVATE (stores go to copy-on-write copies)\n");
	check_str(R_DEV_SHARED, "the permissions", d->perms, "rw-s");
	check_str(R_DEV_PRIVATE, "the permissions", r[R_DEV_PRIVATE].e.perms, "rw-p");
	check_str(R_FILE, "the permissions", r[R_FILE].e.perms, "r--p");
	check_str(R_ANON, "the permissions", a->perms, "rw-p");
	check_str(R_STACK, "the permissions", r[R_STACK].e.perms, "rw-p");
	printf("  Offset: the file offset of the VMA's first page in bytes (vm_pgoff * %zu): page %zu of the device is %#zx; 0 without a file\n",
	       ps, off, off * ps);
	check_num(R_DEV_SHARED, "the offset", d->offset, 0);
	check_num(R_DEV_PRIVATE, "the offset", r[R_DEV_PRIVATE].e.offset, off * ps);
	check_num(R_FILE, "the offset", r[R_FILE].e.offset, 0);
	check_num(R_ANON, "the offset", a->offset, 0);
	printf("  Dev: major:minor of the filesystem holding the inode (st_dev), here %02x:%02x for the filesystem of /dev;\n"
	       "       not the character device's own number (st_rdev %u:%u, misc major 10); 00:00 without a file\n",
	       major(dev_st.st_dev), minor(dev_st.st_dev),
	       major(dev_st.st_rdev), minor(dev_st.st_rdev));
	printf("  Inode: the inode number of the file (st_ino: %lu for %s, %lu for the temp file); 0 without a file\n",
	       (unsigned long)dev_st.st_ino, MMAPDEMO_DEV_PATH, (unsigned long)file_st.st_ino);
	check_file(R_DEV_SHARED, &dev_st, MMAPDEMO_DEV_PATH);
	check_file(R_DEV_PRIVATE, &dev_st, MMAPDEMO_DEV_PATH);
	check_file(R_FILE, &file_st, file_path);
	check_num(R_ANON, "the device", a->major << 8 | a->minor, 0);
	check_num(R_ANON, "the inode", a->inode, 0);
	printf("  Mapping: the file's path; [heap] is the brk area (it ends at sbrk(0) = %#lx rounded up to a page),\n"
	       "       [stack] the main thread's stack, blank for anonymous memory\n",
	       (unsigned long)sbrk(0));
	check_str(R_ANON, "the pathname", a->path, "");
	check_str(R_HEAP, "the pathname", r[R_HEAP].e.path, "[heap]");
	check_num(R_HEAP, "the end", r[R_HEAP].e.end, brk_end);
	check_str(R_STACK, "the pathname", r[R_STACK].e.path, "[stack]");
	mmapdemo_why("a VMA is a range of virtual addresses with one set of permissions backed by one object (a file at an offset, or nothing), and each column names one of those.");
}

/* Explain each flag of a VmFlags value that is not in @skip. */
static void explain_vmflags(const char *flags, const char *skip)
{
	static const char *const meaning[][2] = {
		{ "rd", "readable" }, { "wr", "writable" }, { "ex", "executable" },
		{ "sh", "shared (MAP_SHARED)" },
		{ "mr", "may read: mprotect() may add PROT_READ" },
		{ "mw", "may write: mprotect() may add PROT_WRITE" },
		{ "me", "may execute: mprotect() may add PROT_EXEC" },
		{ "ms", "may share: a MAP_SHARED mapping" },
		{ "gd", "grows down (a stack)" },
		{ "pf", "VM_PFNMAP: raw page frames, no struct page refcounting; the page walkers skip it" },
		{ "lo", "locked (mlock)" },
		{ "io", "VM_IO: device memory; no core dump, get_user_pages() refuses it" },
		{ "dc", "do not copy on fork" },
		{ "de", "VM_DONTEXPAND: mremap() may not grow it past the buffer" },
		{ "ac", "accounted (counts against the commit limit)" },
		{ "nr", "no swap reserve" },
		{ "dd", "VM_DONTDUMP: left out of core dumps" },
		{ "ar", "architecture flag; on x86 VM_PAT: the range's caching type is registered with PAT" },
		{ "sd", "soft-dirty (a new VMA starts soft-dirty)" }, { "mm", "VM_MIXEDMAP" },
		{ "hg", "transparent huge pages advised" },
		{ "nh", "no transparent huge pages" }, { "mg", "KSM mergeable" },
	};
	char copy[256], *tok, *save;
	size_t i;

	snprintf(copy, sizeof(copy), "%s", flags);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (skip && mmapdemo_vmflag(skip, tok))
			continue;
		for (i = 0; i < ARRAY_SIZE(meaning); i++)
			if (!strcmp(tok, meaning[i][0]))
				break;
		printf("      %s  %s\n", tok,
		       i < ARRAY_SIZE(meaning) ? meaning[i][1] : "(see proc(5))");
	}
}

static void check_flags(int i, const char *flags, const char *want, const char *unwanted)
{
	char copy[64], *tok, *save;

	snprintf(copy, sizeof(copy), "%s", want);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (!mmapdemo_vmflag(flags, tok))
			mmapdemo_unexpected("%s: VmFlags lacks '%s'", regions[i].label, tok);
	snprintf(copy, sizeof(copy), "%s", unwanted);
	for (tok = strtok_r(copy, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (mmapdemo_vmflag(flags, tok))
			mmapdemo_unexpected("%s: VmFlags has '%s'", regions[i].label, tok);
}

static void step_smaps(void)
{
	struct region *fs = &regions[R_DEV_SHARED], *rs = &regions[R_REMAP_SHARED];
	size_t touched = (dev_pages + 1) / 2;
	char fflags[256], rflags[256];
	long rss, minflt;

	mmapdemo_step("smaps: Rss and VmFlags of the device mappings");
	mmapdemo_doing("read %zu of the %zu pages of the fault mapping; mmap the same %zu pages in mode remap and read all of them",
		       touched, dev_pages, dev_pages);
	if (mmapdemo_touch(fs->addr, touched, 1, -1) < 0)
		mmapdemo_die("touch");
	rs->len = dev_pages * ps;
	rs->addr = map_dev(MMAPDEMO_MODE_REMAP, MAP_SHARED, dev_pages, 0);
	read_region(R_REMAP_SHARED);
	minflt = mmapdemo_touch(rs->addr, dev_pages, 1, -1);
	if (minflt < 0)
		mmapdemo_die("touch");

	rss = mmapdemo_smaps_kb(fs->addr, "Rss");
	if (rss < 0 || mmapdemo_smaps_vmflags(fs->addr, fflags, sizeof(fflags)))
		mmapdemo_die("/proc/self/smaps");
	print_line(R_DEV_SHARED);
	printf("    Rss:     %ld kB = %zu touched page(s)\n", rss, touched);
	if (rss != (long)(touched * ps / 1024))
		mmapdemo_unexpected("%s: Rss is %ld kB, expected %zu kB", fs->label, rss, touched * ps / 1024);
	mmapdemo_print_grid(stdout, fd, fs->addr, dev_pages, 0);
	printf("    VmFlags: %s\n", fflags);
	explain_vmflags(fflags, NULL);
	check_flags(R_DEV_SHARED, fflags, "rd wr sh dd de", "pf io");

	rss = mmapdemo_smaps_kb(rs->addr, "Rss");
	if (rss < 0 || mmapdemo_smaps_vmflags(rs->addr, rflags, sizeof(rflags)))
		mmapdemo_die("/proc/self/smaps");
	print_line(R_REMAP_SHARED);
	printf("    Rss:     %ld kB, blind: smaps counts no VM_PFNMAP page (no struct page behind the PTEs); reading all %zu pages took %ld minor faults, so every PTE is there\n",
	       rss, dev_pages, minflt);
	if (rss != 0 || minflt != 0)
		mmapdemo_unexpected("%s: Rss %ld kB and %ld minor faults, expected 0 and 0", rs->label, rss, minflt);
	mmapdemo_print_grid(stdout, fd, rs->addr, dev_pages, 0);
	printf("    VmFlags: %s\n", rflags);
	printf("    the flags the fault mapping does not have:\n");
	explain_vmflags(rflags, fflags);
	check_flags(R_REMAP_SHARED, rflags, "rd wr sh pf io dd de", "");
	check_str(R_REMAP_SHARED, "the permissions", rs->e.perms, "rw-s");
	check_num(R_REMAP_SHARED, "the offset", rs->e.offset, 0);
	mmapdemo_why("the driver's ->mmap() set dd and de on both, and remap_pfn_range() adds pf and io because it maps raw frames whose struct pages the mm must not touch.");
}

static void step_quirk(void)
{
	struct region *fp = &regions[R_DEV_PRIVATE], *rp = &regions[R_REMAP_PRIVATE];
	unsigned long long want = off * ps;
	uint64_t pfn;

	mmapdemo_step("Remap MAP_PRIVATE: the offset column shows a physical address");
	mmapdemo_doing("mmap 1 page MAP_PRIVATE at page offset %zu in mode remap, next to the same mapping in mode fault",
		       off);
	/* Like GET_PFN, the module refuses this mapping without CAP_SYS_ADMIN. */
	if (mmapdemo_get_pfn(fd, off, &pfn) && errno == EPERM) {
		printf("  skipped: without CAP_SYS_ADMIN the module refuses this mapping (EPERM), as it\n"
		       "  refuses MMAPDEMO_IOC_GET_PFN: that offset would be a physical address\n");
		return;
	}
	rp->len = ps;
	rp->addr = map_dev(MMAPDEMO_MODE_REMAP, MAP_PRIVATE, 1, off);
	read_region(R_DEV_PRIVATE);
	read_region(R_REMAP_PRIVATE);
	print_line(R_DEV_PRIVATE);
	print_line(R_REMAP_PRIVATE);
	printf("  offset column: fault %#llx (page %zu * %zu), remap %#llx\n",
	       fp->e.offset, off, ps, rp->e.offset);
	check_num(R_DEV_PRIVATE, "the offset", fp->e.offset, want);
	check_str(R_REMAP_PRIVATE, "the permissions", rp->e.perms, "rw-p");
	check_str(R_REMAP_PRIVATE, "the pathname", rp->e.path, MMAPDEMO_DEV_PATH);
	if (rp->e.offset == want)
		mmapdemo_unexpected("%s: the offset column is the file offset %#llx, expected PFN * page size",
				    rp->label, want);
	if (!mmapdemo_get_pfn(fd, off, &pfn)) {
		if (rp->e.offset == pfn * ps)
			printf("  remap offset %#llx = PFN %#llx of buffer page %zu (MMAPDEMO_IOC_GET_PFN) * %zu\n",
			       rp->e.offset, (unsigned long long)pfn, off, ps);
		else
			mmapdemo_unexpected("%s: the offset column is %#llx, but buffer page %zu is PFN %#llx",
					    rp->label, rp->e.offset, off, (unsigned long long)pfn);
	} else if (errno == EPERM) {
		printf("  (not root: MMAPDEMO_IOC_GET_PFN is refused, so the demo cannot show that %#llx / %zu is the PFN of page %zu)\n",
		       rp->e.offset, ps, off);
	} else {
		mmapdemo_die("MMAPDEMO_IOC_GET_PFN");
	}
	mmapdemo_why("for a copy-on-write mapping remap_pfn_range() sets vm_pgoff to the first PFN, so that vm_normal_page() can tell a device frame (pfn == vm_pgoff + index) from a private copy, and maps prints vm_pgoff * page size.");
}

static void step_full(void)
{
	char line[1024];
	unsigned long start;
	FILE *f;
	int i;

	mmapdemo_step("The whole /proc/self/maps");
	mmapdemo_doing("print it, marking the lines above with '<-'");
	f = fopen("/proc/self/maps", "re");
	if (!f)
		mmapdemo_die("/proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		printf("  %s", line);
		if (sscanf(line, "%lx-", &start) == 1) {
			for (i = 0; i < NR_REGIONS; i++) {
				if (regions[i].addr && regions[i].e.start == start) {
					printf("  <- %s", regions[i].label);
					break;
				}
			}
		}
		printf("\n");
	}
	fclose(f);
	mmapdemo_why("the unmarked lines are the program itself (text, data, bss, each its own VMA), the vvar/vdso pages the kernel maps into every process, and anything the C library mapped.");
}

static void cleanup(void)
{
	int i;

	for (i = 0; i < NR_REGIONS; i++) {
		if (i == R_HEAP || i == R_STACK || !regions[i].addr)
			continue;
		munmap(regions[i].addr, regions[i].len);
		regions[i].addr = NULL;
	}
	free(regions[R_HEAP].addr);
	regions[R_HEAP].addr = NULL;
	if (mmapdemo_tmpfile_remove())
		mmapdemo_die("unlink the temporary file");
	if (fd >= 0) {
		close(fd);
		fd = -1;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "full", no_argument, NULL, 'f' },
		{ "no-full", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	struct mmapdemo_info info;
	bool full = true;
	int stack_var = 0;
	int c;

	mmapdemo_program(PROG, usage);
	while ((c = mmapdemo_getopt(argc, argv, "h", opts)) != -1)
		full = c == 'f';

	fd = mmapdemo_demo_open(&info);
	if (fstat(fd, &dev_st))
		mmapdemo_die("fstat " MMAPDEMO_DEV_PATH);
	ps = info.page_size;
	dev_pages = info.pages < DEV_PAGES ? info.pages : DEV_PAGES;
	off = info.pages >= 2 ? 1 : 0;

	printf("mmapdemo-maps: this process's address space, /proc/self/maps column by column\n");
	mmapdemo_print_info(stdout, &info);
	if (dev_pages < info.pages)
		printf("  mapping %zu of its %llu pages: enough to see every column\n",
		       dev_pages, (unsigned long long)info.pages);
	if (!off)
		printf("  (a 1-page buffer: the private mappings use page offset 0)\n");

	step_map(&stack_var);
	step_columns();
	step_smaps();
	step_quirk();
	if (full)
		step_full();

	/* Leave the file in the mode the module was loaded with. */
	mmapdemo_xset_mode(fd, info.mode);
	cleanup();
	return mmapdemo_finish();
}
