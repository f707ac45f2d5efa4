// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-smoke: a short narrated tour of /dev/mmapdemo, to check that
 * the module works end to end. The full demos come separately.
 *
 *   1. fault mode, MAP_SHARED: touch half the pages, count the faults
 *   2. fault mode, MAP_PRIVATE: write one page, see the copy-on-write
 *   3. remap mode: every PTE exists from mmap() on, touching costs nothing
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmmapdemo.h"

static const char usage[] =
	"usage: mmapdemo-smoke [--help]\n"
	"\n"
	"Maps " MMAPDEMO_DEV_PATH " (load mmapdemo.ko first, run as root for PFNs)\n"
	"in both modes and narrates what the kernel does: the device's fault\n"
	"counter, this process's minor faults, a page-state grid and the\n"
	"/proc/self/maps line of each mapping. Changes the buffer's first page.\n";

static int fd = -1;
static size_t ps, npages;

static void die(const char *what)
{
	fprintf(stderr, "mmapdemo-smoke: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void show_maps(const void *addr)
{
	char line[512];

	if (mmapdemo_maps_line(addr, line, sizeof(line)) == 0)
		printf("  /proc/self/maps: %s\n", line);
}

static void show_stats(const char *when)
{
	struct mmapdemo_stats st;

	if (mmapdemo_get_stats(fd, &st))
		die("MMAPDEMO_IOC_GET_STATS");
	printf("  device counters %s:\n", when);
	mmapdemo_print_stats(stdout, &st);
}

static void *map(uint64_t mode, int flags)
{
	void *m;

	if (mmapdemo_set_mode(fd, mode, 0))
		die("MMAPDEMO_IOC_SET_MODE");
	m = mmap(NULL, npages * ps, PROT_READ | PROT_WRITE, flags, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	printf("  mmap(%zu pages, %s) in mode %s\n", npages,
	       flags == MAP_SHARED ? "MAP_SHARED" : "MAP_PRIVATE", mmapdemo_mode_name(mode));
	show_maps(m);
	return m;
}

/* Touch the first @count pages; report minor faults and .fault calls. */
static void touch(void *m, size_t count, int value)
{
	struct mmapdemo_stats before, after;
	long minflt;

	if (mmapdemo_get_stats(fd, &before))
		die("MMAPDEMO_IOC_GET_STATS");
	minflt = mmapdemo_touch(m, count, 1, value);
	if (minflt < 0 || mmapdemo_get_stats(fd, &after))
		die("touch");
	printf("  %s %zu page(s): %ld minor fault(s) in this process, %llu .fault call(s) in the driver\n",
	       value < 0 ? "read" : "wrote", count, minflt,
	       (unsigned long long)(after.faults - before.faults));
}

static void step_fault_shared(void)
{
	size_t half = (npages + 1) / 2;
	void *m;

	printf("\n1. Demand paging (mode fault, MAP_SHARED)\n");
	m = map(MMAPDEMO_MODE_FAULT, MAP_SHARED);
	printf("  nothing is mapped yet:\n");
	mmapdemo_print_grid(stdout, fd, m, npages, 0);
	touch(m, half, -1);
	printf("  each first touch trapped into the driver's .fault once:\n");
	mmapdemo_print_grid(stdout, fd, m, npages, 0);
	touch(m, half, -1);
	printf("  (touching them again costs nothing: the PTEs are there)\n");
	show_stats("now");
	munmap(m, npages * ps);
}

static void step_fault_private(void)
{
	const char before[] = "device content", after[] = "private copy";
	char buf[32] = "";
	char *m;

	printf("\n2. Copy-on-write (mode fault, MAP_PRIVATE)\n");
	if (pwrite(fd, before, sizeof(before), 0) != (ssize_t)sizeof(before))
		die("write");
	printf("  write() put \"%s\" in buffer page 0\n", before);
	m = map(MMAPDEMO_MODE_FAULT, MAP_PRIVATE);
	printf("  the mapping reads \"%s\"; now write \"%s\" into page 0:\n", m, after);
	memcpy(m, after, sizeof(after));
	mmapdemo_print_grid(stdout, fd, m, npages, 0);
	if (pread(fd, buf, sizeof(before), 0) != (ssize_t)sizeof(before))
		die("read");
	printf("  the mapping now reads \"%s\", read() of the device still \"%s\":\n"
	       "  the write went to an anonymous copy (P), the device page is untouched\n",
	       m, buf);
	munmap(m, npages * ps);
}

static void step_remap(void)
{
	void *m;

	printf("\n3. Eager mapping (mode remap: remap_pfn_range at mmap time)\n");
	m = map(MMAPDEMO_MODE_REMAP, MAP_SHARED);
	touch(m, npages, -1);
	printf("  no fault at all: every PTE was written by mmap() itself\n");
	mmapdemo_print_grid(stdout, fd, m, npages, 0);
	munmap(m, npages * ps);
	show_stats("at the end");
}

int main(int argc, char **argv)
{
	struct mmapdemo_info info;
	char mode[32] = "?\n";

	if (argc > 1) {
		fputs(usage, strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? stderr : stdout);
		return strcmp(argv[1], "--help") && strcmp(argv[1], "-h") ? 2 : 0;
	}
	fd = mmapdemo_open(O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "mmapdemo-smoke: open %s: %s (is mmapdemo.ko loaded?)\n",
			MMAPDEMO_DEV_PATH, strerror(errno));
		return 1;
	}
	if (mmapdemo_get_info(fd, &info))
		die("MMAPDEMO_IOC_GET_INFO");
	ps = info.page_size;
	npages = info.pages < 8 ? info.pages : 8;
	mmapdemo_sysfs_read("mode", mode, sizeof(mode));
	printf("mmapdemo smoke test: %s, module default mode=%s", MMAPDEMO_DEV_PATH, mode);
	mmapdemo_print_info(stdout, &info);
	if (mmapdemo_reset_stats(fd))
		die("MMAPDEMO_IOC_RESET_STATS");

	step_fault_shared();
	step_fault_private();
	step_remap();
	close(fd);
	printf("\nsmoke test done\n");
	return 0;
}
