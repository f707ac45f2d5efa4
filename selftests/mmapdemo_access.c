// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_access: msync(), fsync() and debugger access to /dev/mmapdemo
 * mappings, in every mode (the variants of mmapdemo_fixture.h), shared
 * and private.
 *
 *   msync, fsync      the file's ->fsync (noop_fsync: no backing store)
 *   /proc/self/mem    pread()/pwrite(): access_remote_vm(), which falls back
 *                     to vm_ops->access where GUP cannot pin (VM_PFNMAP)
 *   ptrace            PTRACE_PEEKDATA/POKEDATA of a forked child
 *   gdb               Debian's gdb in batch mode, attached to a child,
 *                     prints bytes at mapped addresses (SKIP without gdb)
 *
 * Needs root (ptrace, private remap mappings) and a loaded module; every
 * test needs a buffer of at least 2 pages (NEED_PAGES). Run by suite.sh.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "mmapdemo_fixture.h"

/*
 * /proc/self/mem of the test's process into @_mem (the harness runs the
 * setup and the body in one process; its exit closes the file).
 */
#define OPEN_PROC_MEM(_mem) do { \
	(_mem) = open("/proc/self/mem", O_RDWR | O_CLOEXEC); \
	ASSERT_LE(0, (_mem)); \
} while (0)

/* Write byte pattern @salt (fill_bytes()) into buffer pages [0, n) with pwrite(). */
static int dev_fill_bytes(int fd, size_t n, unsigned int salt)
{
	size_t ps = mmapdemo_page_size();
	char page[4096];
	size_t i;

	if (ps > sizeof(page))
		return -1;
	for (i = 0; i < n; i++) {
		fill_bytes(page, ps, i * ps, salt);
		if (pwrite(fd, page, ps, (off_t)(i * ps)) != (ssize_t)ps)
			return -1;
	}
	return 0;
}

/* Whether @len device bytes at @off hold byte pattern @salt (read with pread()). */
static bool dev_has_bytes(int fd, uint64_t off, size_t len, unsigned int salt)
{
	char buf[8192];

	if (len > sizeof(buf) || pread(fd, buf, len, (off_t)off) != (ssize_t)len)
		return false;
	return bytes_have(buf, len, off, salt);
}

static ssize_t mem_pread(int mem, void *buf, size_t len, const void *addr)
{
	return pread(mem, buf, len, (off_t)(uintptr_t)addr);
}

static ssize_t mem_pwrite(int mem, const void *buf, size_t len, const void *addr)
{
	return pwrite(mem, buf, len, (off_t)(uintptr_t)addr);
}

/* Device faults since the last reset (the .fault/.huge_fault calls). */
static uint64_t dev_faults(int fd)
{
	struct mmapdemo_stats st;

	return mmapdemo_get_stats(fd, &st) ? UINT64_MAX : st.faults;
}

/* ---- msync and fsync ------------------------------------------------- */

/* msync() of a MAP_SHARED mapping succeeds with every flag; the data stays. */
TEST_F(mmapdemo, msync_shared_flags)
{
	/* The flags that never reach the driver first, then those that do. */
	static const int flags[] = {
		MS_ASYNC, MS_INVALIDATE, MS_ASYNC | MS_INVALIDATE, MS_SYNC,
		MS_SYNC | MS_INVALIDATE,
	};
	size_t len = 2 * self->page_size, i;
	char *s;

	NEED_PAGES(2);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 2, 1));
	s = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	fill_bytes(s, len, 0, 2);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		ASSERT_EQ(0, msync(s, len, flags[i])) TH_LOG("flags %#x: %s", flags[i],
							  strerror(errno));
		ASSERT_TRUE(bytes_have(s, len, 0, 2));
		ASSERT_TRUE(dev_has_bytes(self->fd, 0, len, 2));
	}
	/* One page of it, the second. */
	ASSERT_EQ(0, msync(s + self->page_size, self->page_size, MS_SYNC));
	/* MS_SYNC | MS_ASYNC is refused by msync() itself, as for any file. */
	ASSERT_EQ(-1, msync(s, len, MS_SYNC | MS_ASYNC));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, munmap(s, len));
}

/* msync() of a MAP_PRIVATE mapping succeeds and writes nothing back. */
TEST_F(mmapdemo, msync_private_flags)
{
	static const int flags[] = { MS_ASYNC, MS_INVALIDATE, MS_SYNC };
	size_t len = 2 * self->page_size, i;
	char *p;

	NEED_PAGES(2);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 2, 3));
	p = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	fill_bytes(p, self->page_size, 0, 4);
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		ASSERT_EQ(0, msync(p, len, flags[i])) TH_LOG("flags %#x: %s", flags[i],
							  strerror(errno));
		/* The private copy keeps its data; the device never sees it. */
		ASSERT_TRUE(bytes_have(p, self->page_size, 0, 4));
		ASSERT_TRUE(bytes_have(p + self->page_size, self->page_size, self->page_size, 3));
		ASSERT_TRUE(dev_has_bytes(self->fd, 0, len, 3));
	}
	ASSERT_EQ(0, munmap(p, len));
}

/* fsync() and fdatasync() of the device succeed: nothing to write back. */
TEST_F(mmapdemo, fsync_fdatasync)
{
	NEED_PAGES(2);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 1, 5));
	ASSERT_EQ(0, fsync(self->fd)) TH_LOG("fsync: %s", strerror(errno));
	ASSERT_EQ(0, fdatasync(self->fd)) TH_LOG("fdatasync: %s", strerror(errno));
	ASSERT_TRUE(dev_has_bytes(self->fd, 0, self->page_size, 5));
}

/* ---- /proc/self/mem ------------------------------------------------- */

/*
 * /proc/self/mem reads and writes a MAP_SHARED mapping, across a page
 * border, before and after a touch; a write lands in the device. Reading
 * untouched pages faults only where GUP works (fault: 1 per page, batch: 1
 * window); VM_PFNMAP modes and insert map nothing more.
 */
TEST_F(mmapdemo, proc_mem_shared)
{
	size_t ps = self->page_size, len = 2 * ps;
	uint64_t want_faults;
	char buf[8192], *s;
	int mem;

	NEED_PAGES(2);
	OPEN_PROC_MEM(mem);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 2, 6));
	s = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_EQ(0, mmapdemo_reset_stats(self->fd));

	/* Nothing touched yet: both pages in one read. */
	ASSERT_EQ((ssize_t)len, mem_pread(mem, buf, len, s))
		TH_LOG("pread /proc/self/mem: %s", strerror(errno));
	ASSERT_TRUE(bytes_have(buf, len, 0, 6));
	switch (variant->mode) {
	case MMAPDEMO_MODE_FAULT:
		want_faults = 2;
		break;
	case MMAPDEMO_MODE_BATCH:
		want_faults = 1;
		break;
	default:
		want_faults = 0;
	}
	ASSERT_EQ(want_faults, dev_faults(self->fd));

	/* Across the page border. */
	ASSERT_EQ(16, mem_pread(mem, buf, 16, s + ps - 8));
	ASSERT_TRUE(bytes_have(buf, 16, ps - 8, 6));

	/* A write across the border reaches the mapping and the device. */
	fill_bytes(buf, 32, ps - 16, 7);
	ASSERT_EQ(32, mem_pwrite(mem, buf, 32, s + ps - 16))
		TH_LOG("pwrite /proc/self/mem: %s", strerror(errno));
	ASSERT_TRUE(bytes_have(s + ps - 16, 32, ps - 16, 7));
	ASSERT_TRUE(dev_has_bytes(self->fd, ps - 16, 32, 7));
	ASSERT_TRUE(dev_has_bytes(self->fd, 0, ps - 16, 6));
	ASSERT_EQ(0, munmap(s, len));
}

/*
 * A read-only MAP_SHARED mapping: /proc/self/mem reads it, a write fails
 * with EIO and the device is unchanged (every mode alike).
 */
TEST_F(mmapdemo, proc_mem_shared_readonly)
{
	size_t ps = self->page_size;
	char buf[64], *s;
	int mem;

	NEED_PAGES(2);
	OPEN_PROC_MEM(mem);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 1, 8));
	s = map_dev(self->fd, 1, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	ASSERT_EQ(64, mem_pread(mem, buf, 64, s));
	ASSERT_TRUE(bytes_have(buf, 64, 0, 8));
	fill_bytes(buf, 64, 0, 9);
	ASSERT_EQ(-1, mem_pwrite(mem, buf, 64, s));
	ASSERT_EQ(EIO, errno);
	ASSERT_TRUE(dev_has_bytes(self->fd, 0, ps, 8));
	ASSERT_EQ(0, munmap(s, ps));
}

/*
 * /proc/self/mem stops at the end of a mapping: 8 bytes asked for at 4
 * before its end, with nothing mapped after it, give 4.
 */
TEST_F(mmapdemo, proc_mem_bounds)
{
	size_t ps = self->page_size;
	char buf[8], *r, *s;
	int mem;

	NEED_PAGES(2);
	OPEN_PROC_MEM(mem);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 2, 10));
	/* Three pages of address space; the device in two, the third unmapped. */
	r = mmap(NULL, 3 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, r);
	s = mmap(r, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, self->fd, 0);
	ASSERT_EQ(r, s);
	ASSERT_EQ(0, munmap(r + 2 * ps, ps));
	ASSERT_EQ(4, mem_pread(mem, buf, 8, s + 2 * ps - 4));
	ASSERT_TRUE(bytes_have(buf, 4, 2 * ps - 4, 10));
	ASSERT_EQ(-1, mem_pread(mem, buf, 8, s + 2 * ps));
	ASSERT_EQ(EIO, errno);
	ASSERT_EQ(0, munmap(s, 2 * ps));
}

/*
 * /proc/self/mem on a MAP_PRIVATE mapping sees what the process sees: its
 * copy of page 0 and the device's page 1. A write into the copy works; a
 * write into page 1 makes a copy (GUP) except in remap mode, where
 * ->access refuses it (EIO). The device never sees a private write.
 */
TEST_F(mmapdemo, proc_mem_private)
{
	size_t ps = self->page_size, len = 2 * ps;
	char buf[64], *p;
	ssize_t ret;
	int mem;

	NEED_PAGES(2);
	OPEN_PROC_MEM(mem);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 2, 11));
	p = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	fill_bytes(p, ps, 0, 12);			/* page 0: a copy */

	ASSERT_EQ(64, mem_pread(mem, buf, 64, p + 8));
	ASSERT_TRUE(bytes_have(buf, 64, 8, 12));
	ASSERT_EQ(64, mem_pread(mem, buf, 64, p + ps + 8));
	ASSERT_TRUE(bytes_have(buf, 64, ps + 8, 11));

	/* Into the copy. */
	fill_bytes(buf, 64, 100, 13);
	ASSERT_EQ(64, mem_pwrite(mem, buf, 64, p + 100));
	ASSERT_TRUE(bytes_have(p + 100, 64, 100, 13));

	/* Into the device's page 1. */
	fill_bytes(buf, 64, ps + 200, 14);
	ret = mem_pwrite(mem, buf, 64, p + ps + 200);
	if (IS_REMAP) {
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(EIO, errno);
		ASSERT_TRUE(bytes_have(p + ps, ps, ps, 11));
	} else {
		ASSERT_EQ(64, ret) TH_LOG("pwrite: %s", strerror(errno));
		ASSERT_TRUE(bytes_have(p + ps + 200, 64, ps + 200, 14));
	}
	ASSERT_TRUE(dev_has_bytes(self->fd, 0, len, 11));
	ASSERT_EQ(0, munmap(p, len));
}

/* A read-only MAP_PRIVATE mapping: /proc/self/mem reads the device's pages. */
TEST_F(mmapdemo, proc_mem_private_readonly)
{
	size_t ps = self->page_size;
	char buf[64], *p;
	int mem;

	NEED_PAGES(2);
	OPEN_PROC_MEM(mem);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 1, 15));
	p = map_dev(self->fd, 1, 0, PROT_READ, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(64, mem_pread(mem, buf, 64, p + ps - 64));
	ASSERT_TRUE(bytes_have(buf, 64, ps - 64, 15));
	ASSERT_EQ(0, munmap(p, ps));
}

/* ---- ptrace ----------------------------------------------------------- */

static long peek(pid_t pid, const void *addr)
{
	errno = 0;
	return ptrace(PTRACE_PEEKDATA, pid, (void *)addr, NULL);
}

static long pattern_word(uint64_t off, unsigned int salt)
{
	long w;

	fill_bytes(&w, sizeof(w), off, salt);
	return w;
}

/*
 * PTRACE_PEEKDATA/POKEDATA of a forked child that maps the device shared
 * and private: shared words read and write the device; the child's own
 * copy (page 1) reads and writes without touching the parent's copy; a
 * word of the device's page 0 in the private mapping reads, and a write
 * to it makes a copy (GUP) except in remap mode, where it fails (EIO).
 * The device and the parent never see a private write. (Page 1, not 0, is
 * copied before fork(): see fork_after_cow_first_page in mmapdemo_cow.c.)
 */
TEST_F(mmapdemo, ptrace_peek_poke)
{
	size_t ps = self->page_size, len = 2 * ps;
	int ready[2], go[2];
	char *s, *p, c;
	long w;
	pid_t pid;

	NEED_PAGES(2);
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 2, 20));
	s = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, 2, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	fill_bytes(p + ps, ps, ps, 21);		/* the parent's copy */
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_DIES_WITH_PARENT();
		fill_bytes(p + ps, ps, ps, 22);	/* the child's own copy */
		CHILD_CHECK(write(ready[1], "r", 1) == 1);
		CHILD_CHECK(read(go[0], &c, 1) == 1);
		/* What the tracer wrote, as the child sees it. */
		CHILD_CHECK(*(long *)(s + 64) == pattern_word(1, 23));
		CHILD_CHECK(*(long *)(p + ps + 64) == pattern_word(2, 23));
		/* remap: page 0 is still the device's, with the shared write. */
		if (IS_REMAP)
			CHILD_CHECK(*(long *)(p + 64) == pattern_word(1, 23));
		else
			CHILD_CHECK(*(long *)(p + 64) == pattern_word(3, 23));
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));
	ASSERT_EQ(0, ptrace(PTRACE_ATTACH, pid, NULL, NULL)) TH_LOG("attach: %s",
								    strerror(errno));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));

	/* Shared. */
	ASSERT_EQ(pattern_word(64, 20), peek(pid, s + 64)) TH_LOG("peek: %s", strerror(errno));
	ASSERT_EQ(0, ptrace(PTRACE_POKEDATA, pid, s + 64, (void *)pattern_word(1, 23)));
	ASSERT_EQ(pattern_word(1, 23), *(long *)(s + 64));
	/* The child's copy. */
	ASSERT_EQ(pattern_word(ps + 64, 22), peek(pid, p + ps + 64))
		TH_LOG("peek: %s", strerror(errno));
	ASSERT_EQ(0, ptrace(PTRACE_POKEDATA, pid, p + ps + 64, (void *)pattern_word(2, 23)));
	ASSERT_EQ(pattern_word(2, 23), peek(pid, p + ps + 64));
	ASSERT_TRUE(bytes_have(p + ps, ps, ps, 21));
	/* The device's page 0, private (the shared poke above is in it). */
	ASSERT_EQ(pattern_word(128, 20), peek(pid, p + 128));
	w = ptrace(PTRACE_POKEDATA, pid, p + 64, (void *)pattern_word(3, 23));
	if (IS_REMAP) {
		ASSERT_EQ(-1, w);
		ASSERT_EQ(EIO, errno);
	} else {
		ASSERT_EQ(0, w) TH_LOG("poke: %s", strerror(errno));
	}
	ASSERT_EQ(pattern_word(1, 23), *(long *)(s + 64));
	ASSERT_TRUE(dev_has_bytes(self->fd, ps, ps, 20));

	ASSERT_EQ(0, ptrace(PTRACE_DETACH, pid, NULL, NULL));
	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_TRUE(child_ok(pid));
	ASSERT_EQ(0, munmap(s, len));
	ASSERT_EQ(0, munmap(p, len));
}

/* ---- gdb -------------------------------------------------------------- */

/* The first gdb in $PATH, else NULL. */
static const char *find_gdb(char *buf, size_t size)
{
	const char *path = getenv("PATH");
	char dirs[4096], *dir, *save = NULL;

	snprintf(dirs, sizeof(dirs), "%s", path ? path : "/usr/bin:/bin");
	for (dir = strtok_r(dirs, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, size, "%s/gdb", dir);
		if (!access(buf, X_OK))
			return buf;
	}
	return NULL;
}

/* Parse gdb's "x/8xb" line for @addr: "0x...:<TAB>0x11<TAB>0x22...". */
static int gdb_bytes(const char *out, const void *addr, unsigned char *bytes, int n)
{
	char key[32];
	const char *line;
	unsigned int b;
	int i, used;

	snprintf(key, sizeof(key), "%p", addr);
	for (line = out; (line = strstr(line, key)); line++) {
		const char *q = strchr(line, ':');

		if (!q || memchr(line, '\n', q - line))
			continue;
		q++;
		for (i = 0; i < n; i++, q += used) {
			if (sscanf(q, " 0x%x%n", &b, &used) != 1)
				break;
			bytes[i] = (unsigned char)b;
		}
		if (i == n)
			return 0;
	}
	return -1;
}

/*
 * gdb, attached in batch mode to a child that has mapped the device
 * shared and private, prints the bytes at both mappings: the device's
 * pattern and the child's private copy.
 */
TEST_F_TIMEOUT(mmapdemo, gdb_prints_bytes, 180)
{
	char gdb[256], cmd_s[64], cmd_p[64], pidstr[16], out[16384];
	size_t ps = self->page_size, got = 0;
	unsigned char bytes[8];
	int ready[2], go[2], outp[2];
	pid_t pid, g;
	char *s, *p, c;
	ssize_t n;

	NEED_PAGES(2);
	if (!find_gdb(gdb, sizeof(gdb)))
		SKIP(return, "no gdb in PATH (make check packs Debian's gdb-minimal)");
	ASSERT_EQ(0, dev_fill_bytes(self->fd, 1, 30));
	s = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, s);
	p = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_PRIVATE);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		CHILD_DIES_WITH_PARENT();
		fill_bytes(p + 256, 8, 256, 31);	/* a private copy */
		CHILD_CHECK(write(ready[1], "r", 1) == 1);
		CHILD_CHECK(read(go[0], &c, 1) == 1);
		_exit(0);
	}
	ASSERT_EQ(1, read(ready[0], &c, 1));

	snprintf(pidstr, sizeof(pidstr), "%d", (int)pid);
	snprintf(cmd_s, sizeof(cmd_s), "x/8xb %p", (void *)(s + 128));
	snprintf(cmd_p, sizeof(cmd_p), "x/8xb %p", (void *)(p + 256));
	ASSERT_EQ(0, pipe(outp));
	g = fork();
	ASSERT_LE(0, g);
	if (!g) {
		CHILD_DIES_WITH_PARENT();
		dup2(outp[1], 1);
		dup2(outp[1], 2);
		execl(gdb, "gdb", "-nx", "-batch", "-p", pidstr, "-ex", cmd_s, "-ex", cmd_p,
		      "-ex", "detach", (char *)NULL);
		_exit(127);
	}
	close(outp[1]);
	while (got < sizeof(out) - 1 && (n = read(outp[0], out + got, sizeof(out) - 1 - got)) > 0)
		got += n;
	out[got] = '\0';
	close(outp[0]);
	ASSERT_TRUE(child_ok(g)) TH_LOG("gdb:\n%s", out);

	ASSERT_EQ(0, gdb_bytes(out, s + 128, bytes, 8)) TH_LOG("gdb:\n%s", out);
	ASSERT_TRUE(bytes_have(bytes, 8, 128, 30));
	ASSERT_EQ(0, gdb_bytes(out, p + 256, bytes, 8)) TH_LOG("gdb:\n%s", out);
	ASSERT_TRUE(bytes_have(bytes, 8, 256, 31));

	ASSERT_EQ(1, write(go[1], "g", 1));
	ASSERT_TRUE(child_ok(pid));
	ASSERT_EQ(0, munmap(s, ps));
	ASSERT_EQ(0, munmap(p, ps));
}

TEST_HARNESS_MAIN
