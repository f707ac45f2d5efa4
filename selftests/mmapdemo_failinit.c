// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_failinit: load mmapdemo.ko with an allocation failure injected
 * at every point of the load, one point per attempt.
 *
 * For N = 1, 2, ...: write N to /proc/thread-self/fail-nth, then
 * finit_module() in the same thread: the N-th slab or page allocation of
 * that call fails (Documentation/fault-injection/fault-injection.rst: the
 * kernel's module loader and the module's init alike). Every attempt must
 * end cleanly: a failed load leaves no module, no /dev/mmapdemo and no
 * sysfs directory behind; a load that survived its injected failure (the
 * buffer falls back to smaller chunks) must unload. The loop ends at the
 * first N that the load did not reach (fail-nth still positive afterwards):
 * every allocation of a load has then failed once. A normal load and
 * unload must work at the end. Leaks and kernel reports are judged by
 * debug.sh and log.sh (kmemleak, the kernel log). Once with pages=16 (one chunk),
 * once with pages=1024 (two chunks, the page array's vmalloc() fallback).
 *
 * failslab and fail_page_alloc (debugfs) are set to count allocations that
 * may sleep (ignore-gfp-wait N: GFP_KERNEL is what init uses), quietly
 * (verbose 0); their probability stays 0, so only fail-nth injects. The old
 * values are restored afterwards.
 *
 * Needs root, CONFIG_FAULT_INJECTION, FAILSLAB, FAIL_PAGE_ALLOC and
 * FAULT_INJECTION_DEBUG_FS (the debug kernel of `make check KERNEL=debug`),
 * the module not loaded, and $MMAPDEMO_KO (default ./mmapdemo.ko).
 * SKIP otherwise.
 */

/* The harness under -Wextra: see mmapdemo_fixture.h. */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "libmmapdemo.h"
#include "mmapdemo_inject.h"

#define MODULE_NAME	"mmapdemo"
/* More points than any load has: a loop that gets here is broken. */
#define MAX_POINTS	100000

/* The debugfs attributes set for the run, and their values. */
static const struct {
	const char *path;
	const char *value;
} fault_attrs[] = {
	{ INJECT_DEBUGFS "/failslab/ignore-gfp-wait", "N" },
	{ INJECT_DEBUGFS "/failslab/verbose", "0" },
	{ INJECT_DEBUGFS "/fail_page_alloc/ignore-gfp-wait", "N" },
	{ INJECT_DEBUGFS "/fail_page_alloc/verbose", "0" },
};

#define NR_ATTRS	(sizeof(fault_attrs) / sizeof(fault_attrs[0]))

/* Whether /proc/modules lists the module. */
static bool loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, MODULE_NAME " ", strlen(MODULE_NAME) + 1);
	fclose(f);
	return found;
}

static int unload(void)
{
	return syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK);
}

/* What a load left behind, or NULL if nothing. */
static const char *leftover(void)
{
	if (loaded())
		return "the module is loaded";
	if (inject_exists(MMAPDEMO_DEV_PATH))
		return MMAPDEMO_DEV_PATH " exists";
	if (inject_exists(MMAPDEMO_SYSFS_DIR))
		return MMAPDEMO_SYSFS_DIR " exists";
	if (inject_exists("/sys/module/" MODULE_NAME))
		return "/sys/module/" MODULE_NAME " exists";
	return NULL;
}

FIXTURE(failinit)
{
	int ko;
	int nth;
	char saved[NR_ATTRS][32];
	bool set;
};

FIXTURE_VARIANT(failinit)
{
	const char *params;
};

/* A small contiguous buffer: one high-order chunk, kcalloc'ed page array. */
FIXTURE_VARIANT_ADD(failinit, pages16)
{
	.params = "pages=16",
};

/*
 * Two 512-page chunks, and a page array of two pages: kvcalloc() falls
 * back to vmalloc() when its kmalloc() fails. (pages=65536 adds nothing but
 * 126 more chunks, and takes ten minutes under KASAN and TCG.)
 */
FIXTURE_VARIANT_ADD(failinit, pages1024)
{
	.params = "pages=1024",
};

FIXTURE_SETUP(failinit)
{
	self->ko = -1;
	self->nth = -1;
	self->set = false;
}

FIXTURE_TEARDOWN(failinit)
{
	size_t i;

	if (self->nth >= 0)
		close(self->nth);
	if (self->ko >= 0)
		close(self->ko);
	for (i = 0; self->set && i < NR_ATTRS; i++)
		inject_write_str(fault_attrs[i].path, self->saved[i]);
	self->nth = self->ko = -1;
	self->set = false;
	if (loaded())
		unload();
}

/* Every allocation of a load fails once: each attempt ends cleanly. */
TEST_F_TIMEOUT(failinit, module_load_fails_cleanly, 3600)
{
	const char *ko_path = getenv("MMAPDEMO_KO") ?: "./" MODULE_NAME ".ko";
	unsigned long failed = 0, survived = 0, enomem = 0;
	const char *left;
	char buf[32];
	size_t i;
	long n;

	if (geteuid())
		SKIP(return, "needs root");
	if (!inject_exists(INJECT_FAIL_NTH))
		SKIP(return, "no %s: kernel without CONFIG_FAULT_INJECTION", INJECT_FAIL_NTH);
	for (i = 0; i < NR_ATTRS; i++)
		if (inject_read_str(fault_attrs[i].path, self->saved[i], sizeof(self->saved[i])))
			SKIP(return, "no %s: kernel without FAILSLAB, FAIL_PAGE_ALLOC or FAULT_INJECTION_DEBUG_FS (or debugfs not mounted)",
			     fault_attrs[i].path);
	if (loaded())
		SKIP(return, MODULE_NAME " is loaded: unload it first");
	self->ko = open(ko_path, O_RDONLY | O_CLOEXEC);
	if (self->ko < 0)
		SKIP(return, "%s: %s (set MMAPDEMO_KO)", ko_path, strerror(errno));

	self->set = true;
	for (i = 0; i < NR_ATTRS; i++)
		if (inject_write_str(fault_attrs[i].path, fault_attrs[i].value))
			break;
	ASSERT_EQ(NR_ATTRS, i) TH_LOG("cannot set %s: %s", fault_attrs[i].path,
				      strerror(errno));
	self->nth = open(INJECT_FAIL_NTH, O_RDWR | O_CLOEXEC);
	ASSERT_GE(self->nth, 0) TH_LOG(INJECT_FAIL_NTH ": %s", strerror(errno));

	for (n = 1; n <= MAX_POINTS; n++) {
		int ret, err;
		ssize_t len;

		len = snprintf(buf, sizeof(buf), "%ld", n);
		ASSERT_EQ(len, pwrite(self->nth, buf, len, 0));
		/* Nothing between the write and the call: n counts its allocations. */
		ret = syscall(SYS_finit_module, self->ko, variant->params, 0);
		err = errno;
		len = pread(self->nth, buf, sizeof(buf) - 1, 0);
		ASSERT_GT(len, 0);
		buf[len] = '\0';
		/* Disarm, whatever happened. */
		ASSERT_EQ(1, pwrite(self->nth, "0", 1, 0));

		if (atol(buf) > 0) {
			/* The load ended before its n-th allocation: all done. */
			ASSERT_EQ(0, ret) TH_LOG("load without an injected failure: %s",
						 strerror(err));
			ASSERT_EQ(0, unload()) TH_LOG("rmmod: %s", strerror(errno));
			break;
		}
		if (ret == 0) {
			/* It survived the failure (a fallback): it must unload. */
			survived++;
			ASSERT_EQ(0, unload())
				TH_LOG("point %ld: rmmod after a load that survived: %s",
				       n, strerror(errno));
		} else {
			failed++;
			if (err == ENOMEM)
				enomem++;
			else
				TH_LOG("point %ld: load failed with %s, not ENOMEM",
				       n, strerror(err));
		}
		left = leftover();
		ASSERT_EQ(NULL, left) TH_LOG("point %ld (%s): %s afterwards", n,
					     ret ? "failed" : "survived", left);
	}
	ASSERT_LE(n, MAX_POINTS) TH_LOG("still injecting after %d points", MAX_POINTS);
	/* The injection point before the last must have been reached. */
	ASSERT_GT(n, 1) TH_LOG("the first allocation was never reached: no injection");

	TH_LOG("%s: %ld injection points tried: %lu loads failed (%lu with ENOMEM), %lu survived a failure",
	       variant->params, n - 1, failed, enomem, survived);
	/* Allocation failures are reported as ENOMEM, nothing else. */
	EXPECT_EQ(failed, enomem);

	/* And a normal load works. */
	ASSERT_EQ(0, syscall(SYS_finit_module, self->ko, variant->params, 0))
		TH_LOG("normal load: %s", strerror(errno));
	ASSERT_TRUE(inject_exists(MMAPDEMO_DEV_PATH));
	ASSERT_EQ(0, unload()) TH_LOG("rmmod: %s", strerror(errno));
	EXPECT_EQ(NULL, leftover());
}

TEST_HARNESS_MAIN
