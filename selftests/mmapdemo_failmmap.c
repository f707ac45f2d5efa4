// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_failmmap: an allocation failure injected at every point of
 * mmap() of /dev/mmapdemo, and of what later changes a device VMA
 * (mprotect() and munmap() of part of it, mremap() moving it, fork()),
 * one point per attempt, in every mode, shared and private.
 *
 * For N = 1, 2, ...: write N to /proc/thread-self/fail-nth and make the
 * call in the same thread: the N-th slab or page allocation of that call
 * fails (failslab and fail_page_alloc count sleeping allocations of any
 * order: ignore-gfp-wait N, min-order 0). The sweep ends at the first N
 * the call no longer reaches. After every attempt:
 *   - the call succeeded, or failed with ENOMEM;
 *   - the device's gauges agree with /proc/self/maps: vmas is the number
 *     of /dev/mmapdemo lines, mapped_pages the sum of their sizes (this
 *     process is the only one mapping the device meanwhile), whatever the
 *     kernel did on its error paths (6.1's __split_vma() closing an emptied
 *     piece after open(), copy_vma() closing its copy, fork()'s exit_mmap());
 *   - mmaps counts the mmap() if it succeeded, not if it failed;
 *   - a failed mmap() left no device VMA.
 *
 * mmap_from_nth_on: the same sweep over mmap(), but from the N-th
 * allocation on every allocation of the call fails (fail-nth N for the
 * first, then failslab and fail_page_alloc at probability 100 for this
 * thread only: task-filter Y, /proc/thread-self/make-it-fail 1), error
 * paths included. On 7.2 that reaches the case where an mmap action or
 * vm_ops->mapped() fails and the kernel's unmap of the new VMA fails too
 * (mmap_action_finish() in mm/util.c ignores it): the VMA outlives the
 * failed mmap(), with vm_private_data NULL. The test then touches every
 * page of it in a forked child (fork() copies it: vm_ops->open; the child
 * faults on it, and may get SIGBUS where nothing is mapped), unmaps it
 * (vm_ops->close), and requires the gauges never to have counted it. On
 * kernels before 7.2 no VMA may be left at all.
 *
 * Needs root, a loaded module with at least 4 pages (private remap: a
 * contiguous buffer), CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC
 * and FAULT_INJECTION_DEBUG_FS (the debug kernels, KERNEL=debug-6.1 and
 * KERNEL=debug-7.2). SKIP otherwise. Kernel reports are judged by
 * debug.sh and log.sh (the kernel log, between the fault-injection marks).
 */

/* The harness under -Wextra: see mmapdemo_fixture.h. */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmmapdemo.h"
#include "mmapdemo_inject.h"
#include "mmapdemo_testlib.h"

#define PAGES		4
/* More points than any call has: a sweep that gets here is broken. */
#define MAX_POINTS	20000
#define MAX_VMAS	16

#define FS	INJECT_DEBUGFS "/failslab/"
#define FPA	INJECT_DEBUGFS "/fail_page_alloc/"

/* Every sweep: fail-nth only, quiet, sleeping allocations of any order. */
static struct inject_attr nth_attrs[] = {
	{ .path = FS "ignore-gfp-wait", .value = "N" },
	{ .path = FS "verbose", .value = "0" },
	{ .path = FPA "ignore-gfp-wait", .value = "N" },
	{ .path = FPA "min-order", .value = "0" },
	{ .path = FPA "verbose", .value = "0" },
};

/* mmap_from_nth_on, on top: every allocation of a make-it-fail thread. */
static struct inject_attr all_attrs[] = {
	{ .path = FS "task-filter", .value = "Y" },
	{ .path = FS "interval", .value = "1" },
	{ .path = FS "space", .value = "0" },
	{ .path = FS "times", .value = "-1" },
	{ .path = FS "probability", .value = "100" },
	{ .path = FPA "task-filter", .value = "Y" },
	{ .path = FPA "interval", .value = "1" },
	{ .path = FPA "space", .value = "0" },
	{ .path = FPA "times", .value = "-1" },
	{ .path = FPA "probability", .value = "100" },
};

#define N_NTH	(sizeof(nth_attrs) / sizeof(nth_attrs[0]))
#define N_ALL	(sizeof(all_attrs) / sizeof(all_attrs[0]))

/* The device VMAs of this process, from /proc/self/maps. */
struct dev_vmas {
	unsigned long start[MAX_VMAS], end[MAX_VMAS];
	int n;
	uint64_t pages;
};

static int dev_vmas(struct dev_vmas *v)
{
	char line[512], path[256];
	unsigned long s, e;
	FILE *f = fopen("/proc/self/maps", "re");

	if (!f)
		return -1;
	v->n = 0;
	v->pages = 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %*s %*s %*s %*s %255s", &s, &e, path) != 3 ||
		    strcmp(path, MMAPDEMO_DEV_PATH))
			continue;
		if (v->n == MAX_VMAS) {
			fclose(f);
			errno = E2BIG;
			return -1;
		}
		v->start[v->n] = s;
		v->end[v->n++] = e;
		v->pages += (e - s) / mmapdemo_page_size();
	}
	fclose(f);
	return 0;
}

/* The call under injection, and what it needs set up before. */
enum op { OP_MMAP, OP_MPROTECT, OP_MUNMAP, OP_MREMAP, OP_FORK };

FIXTURE(failmmap)
{
	int fd;
	int nth;		/* /proc/thread-self/fail-nth */
	int mif;		/* /proc/thread-self/make-it-fail */
	size_t ps;
	bool saved_nth, saved_all;
	char *room;		/* PAGES free pages reserved for mremap() */
	unsigned long points, failed, survived, left;
};

FIXTURE_VARIANT(failmmap)
{
	uint64_t mode;
	int flags;
};

FIXTURE_VARIANT_ADD(failmmap, fault_shared) { .mode = MMAPDEMO_MODE_FAULT, .flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(failmmap, fault_private) { .mode = MMAPDEMO_MODE_FAULT, .flags = MAP_PRIVATE };
FIXTURE_VARIANT_ADD(failmmap, remap_shared) { .mode = MMAPDEMO_MODE_REMAP, .flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(failmmap, remap_private) { .mode = MMAPDEMO_MODE_REMAP, .flags = MAP_PRIVATE };
FIXTURE_VARIANT_ADD(failmmap, insert_shared) { .mode = MMAPDEMO_MODE_INSERT, .flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(failmmap, insert_private) { .mode = MMAPDEMO_MODE_INSERT, .flags = MAP_PRIVATE };
FIXTURE_VARIANT_ADD(failmmap, batch_shared) { .mode = MMAPDEMO_MODE_BATCH, .flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(failmmap, batch_private) { .mode = MMAPDEMO_MODE_BATCH, .flags = MAP_PRIVATE };
FIXTURE_VARIANT_ADD(failmmap, huge_shared) { .mode = MMAPDEMO_MODE_HUGE, .flags = MAP_SHARED };
FIXTURE_VARIANT_ADD(failmmap, huge_private) { .mode = MMAPDEMO_MODE_HUGE, .flags = MAP_PRIVATE };

FIXTURE_SETUP(failmmap)
{
	struct mmapdemo_info info;
	const char *missing;

	self->fd = self->nth = self->mif = -1;
	self->saved_nth = self->saved_all = false;
	self->room = MAP_FAILED;
	self->ps = mmapdemo_page_size();
	if (geteuid())
		SKIP(return, "needs root");
	if (!inject_exists(INJECT_FAIL_NTH))
		SKIP(return, "no %s: kernel without CONFIG_FAULT_INJECTION", INJECT_FAIL_NTH);
	missing = inject_save(nth_attrs, N_NTH);
	if (!missing)
		missing = inject_save(all_attrs, N_ALL);
	if (missing)
		SKIP(return, "no %s: kernel without FAILSLAB, FAIL_PAGE_ALLOC or FAULT_INJECTION_DEBUG_FS (or debugfs not mounted)",
		     missing);
	self->fd = mmapdemo_open(O_RDWR);
	if (self->fd < 0)
		SKIP(return, "cannot open %s: %s", MMAPDEMO_DEV_PATH, strerror(errno));
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	if (info.pages < PAGES)
		SKIP(return, "needs a buffer of %d pages", PAGES);
	if (variant->mode == MMAPDEMO_MODE_REMAP && variant->flags == MAP_PRIVATE &&
	    !(info.flags & MMAPDEMO_INFO_CONTIGUOUS))
		SKIP(return, "private remap needs a physically contiguous buffer");
	if (mmapdemo_set_mode(self->fd, variant->mode, 0)) {
		ASSERT_EQ(EOPNOTSUPP, errno);
		SKIP(return, "mode %s: not on this kernel", mmapdemo_mode_name(variant->mode));
	}
	self->room = mmap(NULL, PAGES * self->ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->room);
	ASSERT_EQ(NULL, inject_set(nth_attrs, N_NTH));
	self->saved_nth = true;
	self->nth = open(INJECT_FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->nth);
	self->mif = open(INJECT_MAKE_IT_FAIL, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, self->mif);
}

FIXTURE_TEARDOWN(failmmap)
{
	if (self->mif >= 0) {
		EXPECT_EQ(1, pwrite(self->mif, "0", 1, 0));
		close(self->mif);
	}
	if (self->nth >= 0) {
		EXPECT_EQ(1, pwrite(self->nth, "0", 1, 0));
		close(self->nth);
	}
	if (self->saved_all)
		inject_restore(all_attrs, N_ALL);
	if (self->saved_nth)
		inject_restore(nth_attrs, N_NTH);
	if (self->room != MAP_FAILED)
		munmap(self->room, PAGES * self->ps);
	if (self->fd >= 0)
		close(self->fd);
	self->mif = self->nth = self->fd = -1;
	self->saved_nth = self->saved_all = false;
	self->room = MAP_FAILED;
}

/* Map the device's first PAGES pages in the variant's way; NULL if refused. */
static char *map_pages(FIXTURE_DATA(failmmap) *self, const FIXTURE_VARIANT(failmmap) *variant)
{
	char *m = map_dev(self->fd, PAGES, 0, PROT_READ | PROT_WRITE, variant->flags);

	return m == MAP_FAILED ? NULL : m;
}

/*
 * The call under injection. Return: its result (0 or -1 with errno; fork:
 * the child's exit is waited for, and a child that did not exit 0 is -2).
 */
static int run_op(FIXTURE_DATA(failmmap) *self, const FIXTURE_VARIANT(failmmap) *variant,
		  enum op op, char **m)
{
	size_t ps = self->ps;
	int status;
	pid_t pid;
	char *r;

	switch (op) {
	case OP_MMAP:
		*m = map_pages(self, variant);
		return *m ? 0 : -1;
	case OP_MPROTECT:
		/* Splits [0, 4) into three VMAs: two vm_ops->open. */
		return mprotect(*m + ps, ps, PROT_READ);
	case OP_MUNMAP:
		/* Splits off the last page and closes it. */
		return munmap(*m + (PAGES - 1) * ps, ps);
	case OP_MREMAP:
		/* A move: copy_vma() opens the copy, the old VMA is closed. */
		r = mremap(*m, PAGES * ps, PAGES * ps, MREMAP_MAYMOVE | MREMAP_FIXED, self->room);
		if (r == MAP_FAILED)
			return -1;
		*m = r;
		return 0;
	case OP_FORK:
		pid = fork();
		if (pid < 0)
			return -1;
		if (!pid)
			_exit(0);
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
			return -2;
		return 0;
	}
	return -1;
}

/* Unmap every device VMA of this process; put back the mremap() room. */
static int unmap_all(FIXTURE_DATA(failmmap) *self, struct dev_vmas *v)
{
	int i;

	for (i = 0; i < v->n; i++)
		if (munmap((void *)v->start[i], v->end[i] - v->start[i]))
			return -1;
	munmap(self->room, PAGES * self->ps);
	self->room = mmap(self->room, PAGES * self->ps, PROT_NONE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	return self->room == MAP_FAILED ? -1 : 0;
}

/*
 * A device VMA that a failed mmap() left (the kernel's unmap of it failed):
 * a forked child (fork() copies it) reads every page of it, then it is
 * unmapped. Return: 0 when the child exited 0 or was killed by SIGBUS.
 */
static int exercise_leftover(unsigned long start, unsigned long end, size_t ps)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid) {
		unsigned long a;

		for (a = start; a < end; a += ps)
			(void)*(volatile char *)a;
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS)
		return 0;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -1;
}

/* One sweep of @op over every allocation point; see the top of the file. */
static void sweep(struct __test_metadata *_metadata, FIXTURE_DATA(failmmap) *self,
		  const FIXTURE_VARIANT(failmmap) *variant, enum op op, bool from_nth_on)
{
	/* 7.2 and newer: ->mmap_prepare, whose failed unmap may leave a VMA. */
	const bool leftover_ok = from_nth_on && kernel_version() >= 7002;
	struct mmapdemo_stats st;
	struct dev_vmas v;
	char buf[32], *m;
	long n, left;
	int ret, err, i;
	ssize_t len;

	if (from_nth_on) {
		ASSERT_EQ(NULL, inject_set(all_attrs, N_ALL));
		self->saved_all = true;
	}
	for (n = 1; n <= MAX_POINTS; n++) {
		m = NULL;
		if (op != OP_MMAP) {
			m = map_pages(self, variant);
			ASSERT_NE(NULL, m) TH_LOG("setting up: mmap: %s", strerror(errno));
			/* Pages in, so that fork() and mremap() have PTEs to copy. */
			ASSERT_LE(0, mmapdemo_touch(m, PAGES, 1, -1));
		}
		ASSERT_EQ(0, mmapdemo_reset_stats(self->fd));

		len = snprintf(buf, sizeof(buf), "%ld", n);
		ASSERT_EQ(len, pwrite(self->nth, buf, len, 0));
		if (from_nth_on)
			ASSERT_EQ(1, pwrite(self->mif, "1", 1, 0));
		/* Nothing else between arming and the call: n counts its allocations. */
		ret = run_op(self, variant, op, &m);
		err = errno;
		if (from_nth_on)
			ASSERT_EQ(1, pwrite(self->mif, "0", 1, 0));
		len = pread(self->nth, buf, sizeof(buf) - 1, 0);
		ASSERT_GT(len, 0);
		buf[len] = '\0';
		left = atol(buf);
		ASSERT_EQ(1, pwrite(self->nth, "0", 1, 0));

		ASSERT_NE(-2, ret) TH_LOG("point %ld: the forked child did not exit 0", n);
		ASSERT_TRUE(ret == 0 || err == ENOMEM)
			TH_LOG("point %ld: failed with %s, not ENOMEM", n, strerror(err));
		ASSERT_EQ(0, mmapdemo_get_stats(self->fd, &st));
		ASSERT_EQ(0, dev_vmas(&v)) TH_LOG("/proc/self/maps: %s", strerror(errno));
		if (op == OP_MMAP && ret) {
			/* A failed mmap() was not counted, and left nothing the gauges see. */
			ASSERT_EQ(0, st.mmaps) TH_LOG("point %ld: a failed mmap() counted", n);
			ASSERT_EQ(0, st.vmas);
			ASSERT_EQ(0, st.mapped_pages);
			ASSERT_TRUE(!v.n || leftover_ok)
				TH_LOG("point %ld: a failed mmap() left %d device VMA(s) in the maps",
				       n, v.n);
			for (i = 0; i < v.n; i++) {
				self->left++;
				TH_LOG("point %ld: the kernel left %#lx-%#lx after the failed mmap()",
				       n, v.start[i], v.end[i]);
				ASSERT_EQ(0, exercise_leftover(v.start[i], v.end[i], self->ps))
					TH_LOG("the child touching the leftover VMA failed");
				ASSERT_EQ(0, mmapdemo_get_stats(self->fd, &st));
				ASSERT_EQ(0, st.vmas) TH_LOG("the leftover VMA or its copy was counted");
			}
		} else {
			/* The gauges are what the maps show, after success or failure. */
			ASSERT_EQ(op == OP_MMAP ? 1 : 0, st.mmaps) TH_LOG("point %ld", n);
			ASSERT_EQ(v.n, st.vmas) TH_LOG("point %ld (%s): %d VMAs in the maps",
						       n, ret ? "failed" : "succeeded", v.n);
			ASSERT_EQ(v.pages, st.mapped_pages)
				TH_LOG("point %ld (%s): %llu pages in the maps", n,
				       ret ? "failed" : "succeeded", (unsigned long long)v.pages);
		}
		ASSERT_EQ(0, unmap_all(self, &v)) TH_LOG("munmap: %s", strerror(errno));
		ASSERT_EQ(0, mmapdemo_get_stats(self->fd, &st));
		ASSERT_EQ(0, st.vmas);
		ASSERT_EQ(0, st.mapped_pages);

		if (left > 0) {
			/* The call ended before its n-th allocation: all done. */
			ASSERT_EQ(0, ret) TH_LOG("a call without an injected failure failed: %s",
						 strerror(err));
			break;
		}
		self->points++;
		if (ret)
			self->failed++;
		else
			self->survived++;
	}
	ASSERT_LE(n, MAX_POINTS) TH_LOG("still injecting after %d points", MAX_POINTS);
	ASSERT_LT(0, self->points) TH_LOG("no allocation of the call was ever failed");
	TH_LOG("%lu points: %lu calls failed with ENOMEM, %lu survived their failure; %lu device VMAs left by the kernel",
	       self->points, self->failed, self->survived, self->left);
}

/* Every allocation of mmap() fails once: ENOMEM and nothing left, or a mapping. */
TEST_F_TIMEOUT(failmmap, mmap_once, 1200)
{
	sweep(_metadata, self, variant, OP_MMAP, false);
}

/* From every allocation of mmap() on, all fail: no oops, a leftover VMA is harmless. */
TEST_F_TIMEOUT(failmmap, mmap_from_nth_on, 1200)
{
	sweep(_metadata, self, variant, OP_MMAP, true);
}

/* mprotect() splitting a device VMA, failing at every point: the gauges follow. */
TEST_F_TIMEOUT(failmmap, mprotect_split, 1200)
{
	sweep(_metadata, self, variant, OP_MPROTECT, false);
}

/* munmap() of part of a device VMA, failing at every point: the gauges follow. */
TEST_F_TIMEOUT(failmmap, munmap_part, 1200)
{
	sweep(_metadata, self, variant, OP_MUNMAP, false);
}

/* mremap() moving a device VMA, failing at every point: the gauges follow. */
TEST_F_TIMEOUT(failmmap, mremap_move, 1200)
{
	sweep(_metadata, self, variant, OP_MREMAP, false);
}

/* fork() of a process holding a device VMA, failing at every point: the gauges follow. */
TEST_F_TIMEOUT(failmmap, fork_copy, 1200)
{
	sweep(_metadata, self, variant, OP_FORK, false);
}

TEST_HARNESS_MAIN
