/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo_fixture.h: the fixture every mmapdemo_<area> selftest program
 * shares, for the current kselftest_harness.h (Linux 7.2's, extracted into
 * build/kselftest by scripts/kselftest.sh). Include it once per program,
 * as its only harness include, and end the program with TEST_HARNESS_MAIN.
 *
 * Every TEST_F(mmapdemo, ...) runs once per mapping variant (FIXTURE_VARIANT
 * "fault", "remap", "insert", "batch" and "huge", chosen with
 * MMAPDEMO_IOC_SET_MODE in the setup), with the expectation of that variant.
 * Fault counts of the lazy variants come from the fault model
 * (mmapdemo_model.h), never from the device itself. The module's counters
 * are module-wide and tests run one after the other, so a test that checks
 * them resets them first and asserts exact values; every field a check does
 * not name must be 0 (ANY opts out of one field).
 *
 * The tests need root and a loaded module (the setup and each TEST skip
 * otherwise: OPEN_DEVICE_OR_SKIP), and are run by suite.sh once per
 * module configuration (mode=, pages=). Tests that need a particular buffer
 * (discontiguous, at least N pages) say so and SKIP otherwise. Only the
 * tests whose names say "whole" or "zero_filled" touch every page. The harness
 * runs each test in a child process (a TEST_F in a grandchild): its own
 * process never opens the device, so delete_module() in a test sees only
 * the test's own files and mappings.
 */
#ifndef MMAPDEMO_FIXTURE_H
#define MMAPDEMO_FIXTURE_H

/*
 * The harness is written for the kernel's -Wall; under this project's
 * -Wextra its ASSERT_EQ(0, unsigned) comparisons would warn.
 */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmmapdemo.h"
#include "mmapdemo_model.h"
#include "mmapdemo_testlib.h"

/*
 * Open the device into @_fd, or SKIP the test: the tests need root and the
 * module loaded, and a run without either skips every test, fails none.
 */
#define OPEN_DEVICE_OR_SKIP(_fd) do { \
	char _why[192]; \
	(_fd) = device_open(O_RDWR, _why, sizeof(_why)); \
	if ((_fd) < 0) \
		SKIP(return, "%s", _why); \
} while (0)

/* ASSERT_STATS(fd, .faults = 1, .mmaps = 1): every field not named must be 0. */
#define ASSERT_STATS(_fd, ...) \
	ASSERT_TRUE(stats_match(_fd, __LINE__, (struct mmapdemo_stats){ __VA_ARGS__ }))

/* Reset the counters; nothing may be mapped at the start of a test. */
#define RESET_STATS(_fd) do { \
	ASSERT_EQ(0, mmapdemo_reset_stats(_fd)); \
	ASSERT_STATS(_fd); \
} while (0)

/* ---- the fixture: one open file per test, in the variant's mode -------- */

FIXTURE(mmapdemo)
{
	int fd;
	struct mmapdemo_info info;
	size_t page_size;
	size_t pages;
	size_t batch;		/* batch_pages= of the module */
	/* The device node, if a test gave it to a group (node_open_to_group()). */
	struct node_state node;
};

FIXTURE_VARIANT(mmapdemo)
{
	uint64_t mode;
};

FIXTURE_VARIANT_ADD(mmapdemo, fault)
{
	.mode = MMAPDEMO_MODE_FAULT,
};

FIXTURE_VARIANT_ADD(mmapdemo, remap)
{
	.mode = MMAPDEMO_MODE_REMAP,
};

FIXTURE_VARIANT_ADD(mmapdemo, insert)
{
	.mode = MMAPDEMO_MODE_INSERT,
};

FIXTURE_VARIANT_ADD(mmapdemo, batch)
{
	.mode = MMAPDEMO_MODE_BATCH,
};

FIXTURE_VARIANT_ADD(mmapdemo, huge)
{
	.mode = MMAPDEMO_MODE_HUGE,
};

/*
 * A SKIP here ends the test before its body and its teardown run; so does a
 * failed ASSERT (then the test fails). A variant the module refuses with
 * EOPNOTSUPP (huge before 6.12: the module, not the kernel version, says
 * so; set_mode_accept_or_refuse checks the refusal) skips; fault and remap
 * are always built, and a refusal of either fails.
 */
FIXTURE_SETUP(mmapdemo)
{
	uint64_t batch;
	int ret;

	self->page_size = mmapdemo_page_size();
	self->node.saved = false;
	OPEN_DEVICE_OR_SKIP(self->fd);
	errno = 0;
	ret = mmapdemo_set_mode(self->fd, variant->mode, 0);
	if (ret && errno == EOPNOTSUPP && variant->mode != MMAPDEMO_MODE_FAULT &&
	    variant->mode != MMAPDEMO_MODE_REMAP) {
		close(self->fd);
		SKIP(return, "mode %s: SET_MODE refused (EOPNOTSUPP): the module cannot do it on this kernel",
		     mmapdemo_mode_name(variant->mode));
	}
	ASSERT_EQ(0, ret) TH_LOG("SET_MODE %llu: %s", (unsigned long long)variant->mode,
				 strerror(errno));
	ASSERT_EQ(0, module_param_u64("batch_pages", &batch));
	self->batch = batch;
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &self->info));
	ASSERT_EQ(variant->mode, self->info.mode);
	self->pages = self->info.pages;
}

/*
 * The harness calls this exactly once, in the test's process, when the setup
 * succeeded: after the body, or from the body's first failed ASSERT (the
 * test has failed then; the harness aborts it after this). EXPECT, not
 * ASSERT: a failed close() fails the test without bailing out of the
 * teardown. A test may have closed the file itself
 * (module_busy_while_mapped: fd -1). The node's owner and mode go back to
 * what they were before the test changed them, even after a failed ASSERT:
 * no change to the node outlives the test that made it.
 */
FIXTURE_TEARDOWN(mmapdemo)
{
	EXPECT_EQ(0, node_restore(&self->node));
	if (self->fd >= 0) {
		EXPECT_EQ(0, close(self->fd));
	}
}

#define IS_FAULT	(variant->mode == MMAPDEMO_MODE_FAULT)
#define IS_REMAP	(variant->mode == MMAPDEMO_MODE_REMAP)
#define IS_INSERT	(variant->mode == MMAPDEMO_MODE_INSERT)
#define IS_BATCH	(variant->mode == MMAPDEMO_MODE_BATCH)
#define IS_HUGE		(variant->mode == MMAPDEMO_MODE_HUGE)
/* Pages appear on first touch (fault, batch, huge), not at mmap() (remap, insert). */
#define IS_LAZY		(IS_FAULT || IS_BATCH || IS_HUGE)
/* One page per fault in mappings of less than 2 MiB: fault, and huge. */
#define IS_PER_PAGE	(IS_FAULT || IS_HUGE)
/* VM_PFNMAP shared mappings: the page walkers do not see them. */
#define SHARED_PFNMAP	(IS_REMAP || IS_HUGE)
/* n in the lazy variants, 0 in the eager ones. */
#define IF_LAZY(n)	(IS_LAZY ? (uint64_t)(n) : 0)
/* @n faults that mapped one page each. */
#define PAGE_FAULTS(n)	.faults = (n), .fault_pages = (n)
/* The counters a model (or a sum of models) expects. */
#define MODEL_STATS(c)	.faults = (c).faults, .fault_pages = (c).fault_pages, \
			.huge_faults = (c).huge_faults
/* A test of one variant's own behaviour skips in the others. */
#define SKIP_UNLESS(cond) do { \
	if (!(cond)) \
		SKIP(return, "not this variant: needs " #cond); \
} while (0)

/* Model of the fixture's variant; the test fails when it cannot be built. */
#define MODEL(m, c, map, first, n, shared) \
	ASSERT_EQ(0, model_init(m, c, self->fd, variant->mode, self->batch, map, first, n, shared))

/*
 * remap mode maps MAP_PRIVATE only physically contiguous ranges: tests of
 * private mappings use small ranges, which are, and skip otherwise.
 */
#define NEED_PRIVATE_RANGE(first, n) do { \
	if (IS_REMAP && !pfn_run(self->fd, first, n)) \
		SKIP(return, "pages %llu-%llu not physically contiguous: no private remap", \
		     (unsigned long long)(first), (unsigned long long)((first) + (n) - 1)); \
} while (0)

/* A test that needs a buffer of at least @n pages skips with a smaller one. */
#define NEED_PAGES(n) do { \
	if (self->pages < (n)) \
		SKIP(return, "needs a buffer of at least %d pages", (int)(n)); \
} while (0)

#endif /* MMAPDEMO_FIXTURE_H */
