// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-file: what MAP_SHARED and MAP_PRIVATE mean for an ordinary file,
 * the model /dev/mmapdemo imitates.
 *
 *   1. mmap() of an empty file succeeds: nothing is looked up yet
 *   2. touching it raises SIGBUS: no file page backs an offset past EOF
 *   3. ftruncate(), write through MAP_SHARED, msync(), pread(): it is in the file
 *   4. MAP_PRIVATE: a write makes an anonymous copy (smaps Anonymous +1 page)
 *      that msync() never writes back
 *   5. a MAP_PRIVATE page not yet written still shows later write()s
 *   6. the device's MAP_PRIVATE does the same (when /dev/mmapdemo exists)
 *   7. msync() and fsync() on a file and on the device, side by side: the
 *      device has no backing store, so there is nothing to write back
 *
 * Steps 1-5 need no device: they use a temporary file in $TMPDIR (or /tmp),
 * removed at the end, or --file PATH.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG	"mmapdemo-file"
#define NPAGES	2

static const char usage[] =
	"usage: " PROG " [--file=PATH] [--help]\n"
	"\n"
	"Maps an ordinary file MAP_SHARED and MAP_PRIVATE and narrates what the\n"
	"kernel does: SIGBUS past the end of the file, msync() and pread() of\n"
	"shared writes, copy-on-write of private ones (smaps Anonymous), and\n"
	"private pages that still follow the file until written. Then, when\n"
	MMAPDEMO_DEV_PATH " exists, the same copy-on-write on the device (writes\n"
	"its buffer page 0), and msync() on the device next to msync() on a file.\n"
	"Run as root to see PFNs.\n"
	"\n"
	"  --file=PATH  use PATH (created or TRUNCATED, left in place at the end)\n"
	"               instead of a temporary file in $TMPDIR or /tmp (removed)\n"
	"  -h, --help   this text\n";

static size_t ps;

static void show_maps(const char *name, const void *addr)
{
	char line[512];

	if (!mmapdemo_maps_line(addr, line, sizeof(line)))
		printf("  maps (%s): %s\n", name, line);
}

/* Rss and Anonymous of the VMA at @addr, in kB; printed. */
static long show_smaps(const char *name, const void *addr, const char *when)
{
	long rss = mmapdemo_smaps_kb(addr, "Rss");
	long anon = mmapdemo_smaps_kb(addr, "Anonymous");

	if (rss < 0 || anon < 0)
		mmapdemo_die("/proc/self/smaps");
	printf("  smaps (%s) %s: Rss %ld kB, Anonymous %ld kB\n", name, when, rss, anon);
	return anon;
}

static void grid(const void *addr, size_t pages)
{
	fflush(stdout);
	if (mmapdemo_print_grid(stdout, -1, addr, pages, 0) < 0)
		mmapdemo_die("page-state grid");
	printf("  (for a file, S is a page of its page cache)\n");
}

/* pread() @len bytes at @off through a new descriptor of @path. */
static void read_file(const char *path, off_t off, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		mmapdemo_die("%s", path);
	n = pread(fd, buf, len - 1, off);
	if (n < 0)
		mmapdemo_die("pread");
	buf[n] = '\0';
	close(fd);
}

static void check_text(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want))
		mmapdemo_unexpected("%s reads \"%s\", expected \"%s\"", what, got, want);
}

/* ------------------------------------------------------------ SIGBUS */

static sigjmp_buf bus_jmp;
static volatile sig_atomic_t bus_sig;
static volatile int bus_code;
static void *volatile bus_addr;

static void on_sigbus(int sig, siginfo_t *si, void *ucontext)
{
	(void)ucontext;
	bus_sig = sig;
	bus_code = si->si_code;
	bus_addr = si->si_addr;
	siglongjmp(bus_jmp, 1);
}

/* Load one byte at @p; true (and bus_*) when that raised SIGBUS. */
static bool load_may_bus(const volatile char *p, char *out)
{
	struct sigaction sa = { .sa_sigaction = on_sigbus, .sa_flags = SA_SIGINFO }, old;

	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &old))
		mmapdemo_die("sigaction");
	bus_sig = 0;
	if (!sigsetjmp(bus_jmp, 1))
		*out = *p;
	if (sigaction(SIGBUS, &old, NULL))
		mmapdemo_die("sigaction");
	return bus_sig;
}

/* ------------------------------------------------------------ steps */

static const char shared_text[] = "written through MAP_SHARED";
static const char private_text[] = "written through MAP_PRIVATE";
static const char changed0[] = "page 0 changed by write()";
static const char changed1[] = "page 1 changed by write()";

static char *map_file(int fd, int flags)
{
	return mmapdemo_xmmap(NPAGES * ps, PROT_READ | PROT_WRITE, flags, fd, 0, "the file");
}

static void step_empty(int fd, const char *path, char **shared)
{
	struct stat st;

	mmapdemo_step("An empty file, mapped");
	mmapdemo_doing("create the file (size 0); mmap(2 pages, MAP_SHARED) of it");
	if (fstat(fd, &st))
		mmapdemo_die("fstat");
	printf("  %s: size %lld bytes\n", path, (long long)st.st_size);
	*shared = map_file(fd, MAP_SHARED);
	printf("  mmap() returned %p: it does not look at the file's size\n", (void *)*shared);
	show_maps("shared", *shared);
	grid(*shared, NPAGES);
	if (st.st_size != 0)
		mmapdemo_unexpected("the file should be empty");
	mmapdemo_why("mmap() only creates a VMA that remembers (file, offset); pages are looked up at the first touch.");
}

static void step_sigbus(char *shared)
{
	char c = 0;

	mmapdemo_step("Touching the mapping past the end of the file: SIGBUS");
	mmapdemo_doing("load the first byte, with a SIGBUS handler that siglongjmp()s back");
	if (load_may_bus(shared, &c)) {
		printf("  caught signal %d (%s), si_code %d (%s), si_addr %p (the byte loaded: %p)\n",
		       (int)bus_sig, strsignal(bus_sig), bus_code,
		       bus_code == BUS_ADRERR ? "BUS_ADRERR" : "?", bus_addr, (void *)shared);
		if (bus_sig != SIGBUS || bus_code != BUS_ADRERR || bus_addr != shared)
			mmapdemo_unexpected("expected SIGBUS, BUS_ADRERR at %p", (void *)shared);
	} else {
		mmapdemo_unexpected("the load past EOF returned %d instead of raising SIGBUS", c);
	}
	grid(shared, NPAGES);
	mmapdemo_why("the fault handler of the file found no page at offset 0 (it is past EOF: nothing backs it), and a mapping has no way to return an error but a signal; mmapdemo's .fault answers past its buffer the same way (VM_FAULT_SIGBUS).");
}

static void step_shared(int fd, const char *path, char *shared)
{
	char buf[64], c = 0;

	mmapdemo_step("ftruncate() to 2 pages, write through MAP_SHARED, msync(), pread()");
	mmapdemo_doing("ftruncate(8 kB); store a text in page 0; msync(MS_SYNC); pread() through a new fd");
	if (ftruncate(fd, (off_t)(NPAGES * ps)))
		mmapdemo_die("ftruncate");
	if (load_may_bus(shared, &c))
		mmapdemo_unexpected("SIGBUS after ftruncate()");
	else
		printf("  the same load now returns %d: a zero-filled page of the file\n", c);
	memcpy(shared, shared_text, sizeof(shared_text));
	if (msync(shared, NPAGES * ps, MS_SYNC))
		mmapdemo_die("msync");
	read_file(path, 0, buf, sizeof(buf));
	printf("  pread() of %s at offset 0: \"%s\"\n", path, buf);
	check_text("the file", buf, shared_text);
	grid(shared, NPAGES);
	if (mmapdemo_page_state(-1, shared + ps, 1) != '.')
		printf("  (page 1 was never touched: fault-around mapped it with page 0, as it was in the page cache)\n");
	mmapdemo_why("the pages of a MAP_SHARED mapping ARE the file's page-cache pages: read() sees a store at once, and msync() (or the kernel, later) writes them to the disk.");
}

static void step_private(int fd, const char *path, char *shared, char **private)
{
	long anon_before, anon_after;
	struct mmapdemo_pagemap pm_s, pm_p;
	char buf[64], c;

	mmapdemo_step("MAP_PRIVATE of the same file: a write makes a private copy");
	mmapdemo_doing("mmap(2 pages, MAP_PRIVATE); read page 0; write a text into it; msync(MS_SYNC); pread()");
	*private = map_file(fd, MAP_PRIVATE);
	show_maps("shared", shared);
	show_maps("private", *private);
	c = *(volatile char *)*private;
	(void)c;
	printf("  before the write, the private mapping reads \"%s\"\n", *private);
	check_text("the private mapping", *private, shared_text);
	if (!mmapdemo_pagemap(shared, &pm_s) && !mmapdemo_pagemap(*private, &pm_p) && pm_p.pfn)
		printf("  pagemap: page 0 is PFN 0x%" PRIx64 " in both mappings%s\n", pm_p.pfn,
		       pm_p.pfn == pm_s.pfn ? " (the same page-cache page)" : "?");
	anon_before = show_smaps("private", *private, "before the write");
	memcpy(*private, private_text, sizeof(private_text));
	if (msync(*private, NPAGES * ps, MS_SYNC))
		mmapdemo_die("msync");
	anon_after = show_smaps("private", *private, "after the write ");
	if (!mmapdemo_pagemap(*private, &pm_p) && pm_p.pfn)
		printf("  pagemap: private page 0 is now PFN 0x%" PRIx64 ", %s\n", pm_p.pfn,
		       pm_p.file ? "still a file page?" : "an anonymous page");
	grid(*private, NPAGES);
	read_file(path, 0, buf, sizeof(buf));
	printf("  private mapping: \"%s\"; shared mapping: \"%s\"; pread() of the file: \"%s\"\n",
	       *private, shared, buf);
	check_text("the file", buf, shared_text);
	check_text("the shared mapping", shared, shared_text);
	check_text("the private mapping", *private, private_text);
	printf("  private write: Anonymous %ld kB -> %ld kB (+%ld kB, one page), the file unchanged\n",
	       anon_before, anon_after, anon_after - anon_before);
	if (anon_after - anon_before != (long)(ps / 1024))
		mmapdemo_unexpected("Anonymous should grow by %zu kB (one copied page)", ps / 1024);
	mmapdemo_why("the first write to a private page copies it into a new anonymous page (copy-on-write); msync() and writeback only know the file's own pages, so the copy never reaches the file.");
}

static void step_follow(int fd, const char *path, char *shared, char *private)
{
	char *p0 = private, *p1 = private + ps;
	char buf[64];
	volatile char c;

	mmapdemo_step("A private page not yet written still follows the file");
	mmapdemo_doing("read private page 1; write() new texts at offsets 0 and 4096 of the file; read both private pages");
	c = *p1;
	(void)c;
	printf("  private page 1 reads \"%s\" (never written: %s)\n", p1,
	       mmapdemo_page_state(-1, p1, 1) == 'S' ? "mapped to the page-cache page" : "?");
	if (mmapdemo_page_state(-1, p1, 1) != 'S')
		mmapdemo_unexpected("private page 1 should map the file's page (S), pagemap says %c",
				    mmapdemo_page_state(-1, p1, 1));
	if (pwrite(fd, changed0, sizeof(changed0), 0) != (ssize_t)sizeof(changed0) ||
	    pwrite(fd, changed1, sizeof(changed1), (off_t)ps) != (ssize_t)sizeof(changed1))
		mmapdemo_die("pwrite");
	read_file(path, (off_t)ps, buf, sizeof(buf));
	printf("  after the write()s: private page 1 \"%s\", private page 0 \"%s\"\n", p1, p0);
	printf("  shared page 0 \"%s\", file page 1 \"%s\"\n", shared, buf);
	check_text("private page 1", p1, changed1);
	check_text("private page 0", p0, private_text);
	check_text("shared page 0", shared, changed0);
	grid(private, NPAGES);
	mmapdemo_why("until its first write a private page is the file's page-cache page, mapped read-only, so it shows every change to the file (POSIX leaves this unspecified, Linux does it); only the copied page 0 is frozen.");
}

/* The device's MAP_PRIVATE, in mode fault: the same copy-on-write. */
static void step_device(void)
{
	static const char dev_text[] = "device text";
	struct mmapdemo_stats before, after;
	struct mmapdemo_info info;
	long anon_before, anon_after;
	char buf[sizeof(dev_text)];
	char *m;
	int fd;

	mmapdemo_step("The same copy-on-write on " MMAPDEMO_DEV_PATH);
	mmapdemo_doing("write() a text to buffer page 0; mmap(1 page, MAP_PRIVATE) in mode fault; store into it; read() the device");
	fd = mmapdemo_open(O_RDWR);
	if (fd < 0) {
		printf("  skipped: open %s: %s (is mmapdemo.ko loaded?)\n", MMAPDEMO_DEV_PATH,
		       strerror(errno));
		return;
	}
	if (mmapdemo_get_info(fd, &info))
		mmapdemo_die("MMAPDEMO_IOC_GET_INFO");
	mmapdemo_xset_mode(fd, MMAPDEMO_MODE_FAULT);
	if (pwrite(fd, dev_text, sizeof(dev_text), 0) != (ssize_t)sizeof(dev_text))
		mmapdemo_die("pwrite " MMAPDEMO_DEV_PATH);
	m = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0, MMAPDEMO_DEV_PATH);
	show_maps("device, private", m);
	mmapdemo_xget_stats(fd, &before);
	anon_before = show_smaps("device, private", m, "before the write");
	memcpy(m, private_text, sizeof(private_text));
	anon_after = show_smaps("device, private", m, "after the write ");
	mmapdemo_xget_stats(fd, &after);
	fflush(stdout);
	mmapdemo_print_grid(stdout, fd, m, 1, 0);
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		mmapdemo_die("pread " MMAPDEMO_DEV_PATH);
	buf[sizeof(buf) - 1] = '\0';
	printf("  device private write: Anonymous %ld kB -> %ld kB, %llu .fault call(s), read() of the device still \"%s\"\n",
	       anon_before, anon_after, (unsigned long long)(after.faults - before.faults), buf);
	if (anon_after - anon_before != (long)(ps / 1024))
		mmapdemo_unexpected("Anonymous should grow by %zu kB on the device too", ps / 1024);
	if (after.faults - before.faults != 1)
		mmapdemo_unexpected("expected 1 .fault call (the page copied from), got %llu",
				    (unsigned long long)(after.faults - before.faults));
	check_text("read() of the device", buf, dev_text);
	mmapdemo_xmunmap(m, ps);
	mmapdemo_xset_mode(fd, info.mode);
	close(fd);
	mmapdemo_why("the device's .fault hands the kernel its page like a file's page cache would, and the kernel's copy-on-write does the rest (mmapdemo-cow shows it in depth, remap mode too).");
}

/* ------------------------------------------------------------ msync */

static const char msync_text[] = "stored, not yet msync()ed";

/*
 * One row of the msync table: store through a MAP_SHARED page of @fd,
 * pread() it back before any msync(), then msync() with each flag and
 * fsync() the descriptor. Every result must be 0.
 */
static void msync_row(const char *name, int fd)
{
	static const int flags[] = { MS_SYNC, MS_ASYNC, MS_INVALIDATE };
	char buf[sizeof(msync_text)];
	int rc[4];
	size_t i;
	char *m;

	m = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0, name);
	memcpy(m, msync_text, sizeof(msync_text));
	if (pread(fd, buf, sizeof(buf), 0) != (ssize_t)sizeof(buf))
		mmapdemo_die("pread of the %s", name);
	buf[sizeof(buf) - 1] = '\0';
	for (i = 0; i < 3; i++)
		rc[i] = msync(m, ps, flags[i]) ? -errno : 0;
	rc[3] = fsync(fd) ? -errno : 0;
	printf("  %-7s \"%s\"  %7d %8d %13d %7d\n", name, buf, rc[0], rc[1], rc[2], rc[3]);
	check_text(name, buf, msync_text);
	for (i = 0; i < 4; i++)
		if (rc[i])
			mmapdemo_unexpected("%s: %s failed: %s", name,
					    i == 3 ? "fsync()" : "msync()", strerror(-rc[i]));
	mmapdemo_xmunmap(m, ps);
}

static void step_msync(void)
{
	char path[PATH_MAX];
	struct statfs sfs;
	int ffd, dfd;

	mmapdemo_step("msync() on a file and on " MMAPDEMO_DEV_PATH);
	mmapdemo_doing("store a text through MAP_SHARED of each; pread() it before msync(); msync() MS_SYNC, MS_ASYNC, MS_INVALIDATE; fsync() (0 or -errno)");
	dfd = mmapdemo_open(O_RDWR);
	if (dfd < 0) {
		printf("  skipped: open %s: %s (is mmapdemo.ko loaded?)\n", MMAPDEMO_DEV_PATH,
		       strerror(errno));
		return;
	}
	ffd = mmapdemo_tmpfile(path, sizeof(path));
	if (ftruncate(ffd, (off_t)ps))
		mmapdemo_die("ftruncate %s", path);
	printf("  target  pread() before msync()         MS_SYNC MS_ASYNC MS_INVALIDATE fsync()\n");
	msync_row("file", ffd);
	msync_row("device", dfd);
	if (!fstatfs(ffd, &sfs) && sfs.f_type == 0x01021994 /* TMPFS_MAGIC */)
		printf("  (this file is on tmpfs: memory too, with no disk behind it, so its msync()\n"
		       "   has nothing to write back either; on a disk filesystem MS_SYNC waits for the write)\n");
	close(ffd);
	close(dfd);
	if (mmapdemo_tmpfile_remove())
		mmapdemo_die("%s", path);
	mmapdemo_why("a store through MAP_SHARED is in the page at once: read() sees it before any msync(). For a file, msync(MS_SYNC) then writes the dirty page-cache page to the disk, its backing store, and waits (MS_ASYNC and MS_INVALIDATE do nothing on Linux). The device has no backing store: its pages ARE the data, so there is nothing to write back, and its fsync (noop_fsync) succeeds at once.");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	char *shared = NULL, *private = NULL, temp_path[PATH_MAX];
	const char *path = NULL;
	bool temp;
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	mmapdemo_program(PROG, usage);
	while (mmapdemo_getopt(argc, argv, "h", opts) == 'f') {
		if (!*optarg)
			mmapdemo_usage_error(PROG, "--file: empty path");
		path = optarg;
	}
	ps = mmapdemo_page_size();

	temp = !path;
	if (!temp) {
		fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			mmapdemo_die("%s", path);
	} else {
		/* O_CREAT | O_EXCL of a fresh name: size 0, as O_TRUNC would give. */
		fd = mmapdemo_tmpfile(temp_path, sizeof(temp_path));
		path = temp_path;
	}
	printf(PROG ": file-backed mappings, %s (%s), %zu-byte pages\n", path,
	       temp ? "temporary, removed at the end" : "--file, left in place", ps);

	step_empty(fd, path, &shared);
	step_sigbus(shared);
	step_shared(fd, path, shared);
	step_private(fd, path, shared, &private);
	step_follow(fd, path, shared, private);
	mmapdemo_xmunmap(private, NPAGES * ps);
	mmapdemo_xmunmap(shared, NPAGES * ps);
	close(fd);
	if (temp) {
		printf("  removing %s\n", path);
		if (mmapdemo_tmpfile_remove())
			mmapdemo_die("%s", path);
	}
	step_device();
	step_msync();

	return mmapdemo_finish();
}
