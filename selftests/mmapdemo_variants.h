/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo_variants.h: what mmapdemo_access.c and mmapdemo_unpriv.c share:
 * one FIXTURE_VARIANT per mapping mode, the setup that selects it, and
 * checks in forked children. Include after kselftest_harness.h.
 */
#ifndef MMAPDEMO_VARIANTS_H
#define MMAPDEMO_VARIANTS_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmmapdemo.h"

/*
 * FIXTURE_VARIANT(f) holds the mode; MMAPDEMO_VARIANTS(f) adds one
 * variant per mode, named after it.
 */
#define MMAPDEMO_VARIANT_FIELDS	uint64_t mode

#define MMAPDEMO_VARIANT(f, m, nr) \
	FIXTURE_VARIANT_ADD(f, m) { .mode = (nr) }

#define MMAPDEMO_VARIANTS(f) \
	MMAPDEMO_VARIANT(f, fault, MMAPDEMO_MODE_FAULT); \
	MMAPDEMO_VARIANT(f, remap, MMAPDEMO_MODE_REMAP); \
	MMAPDEMO_VARIANT(f, insert, MMAPDEMO_MODE_INSERT); \
	MMAPDEMO_VARIANT(f, batch, MMAPDEMO_MODE_BATCH); \
	MMAPDEMO_VARIANT(f, huge, MMAPDEMO_MODE_HUGE)

/* Modes whose MAP_SHARED mappings are VM_PFNMAP (GUP cannot pin them). */
static inline int mmapdemo_shared_pfnmap(uint64_t mode)
{
	return mode == MMAPDEMO_MODE_REMAP || mode == MMAPDEMO_MODE_HUGE;
}

/*
 * Open the device in @mode into *@fd and *@info; SKIP (in a setup) when
 * this kernel or module cannot do the mode.
 */
#define MMAPDEMO_SETUP_MODE(_fd, _info, _mode) do { \
	*(_fd) = mmapdemo_open(O_RDWR); \
	ASSERT_LE(0, *(_fd)) TH_LOG("%s: %s", MMAPDEMO_DEV_PATH, strerror(errno)); \
	if (mmapdemo_set_mode(*(_fd), (_mode), 0) && errno == EOPNOTSUPP) \
		SKIP(return, "mode %s: not on this kernel", mmapdemo_mode_name(_mode)); \
	ASSERT_EQ(0, mmapdemo_get_info(*(_fd), (_info))); \
	ASSERT_EQ((_mode), (_info)->mode); \
} while (0)

/* In a forked child: no harness asserts; exit 1 on the first failure. */
#define CHILD_CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "# child %s:%d: check failed: %s (errno %d %s)\n", \
			__FILE__, __LINE__, #cond, errno, strerror(errno)); \
		_exit(1); \
	} \
} while (0)

/*
 * First thing in a forked child that waits for its parent: die with it,
 * so that a failed assert in the parent leaves no child holding the
 * output pipe (or stopped under ptrace).
 */
#define CHILD_DIES_WITH_PARENT() \
	CHILD_CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL) == 0)

/* Whether child @pid exited with status 0. */
static inline int mmapdemo_child_ok(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "# child %d: status %#x\n", (int)pid, status);
		return 0;
	}
	return 1;
}

/* @len bytes of a pattern for @salt at byte offset @off of the buffer. */
static inline void mmapdemo_pattern(void *to, size_t len, uint64_t off, unsigned int salt)
{
	unsigned char *p = to;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((off + i) * 7 + salt * 31 + 1);
}

/* Whether @len bytes at @p hold mmapdemo_pattern(@off, @salt). */
static inline int mmapdemo_has_pattern(const void *p, size_t len, uint64_t off,
				       unsigned int salt)
{
	unsigned char want[4096];
	size_t done, n;

	for (done = 0; done < len; done += n) {
		n = len - done < sizeof(want) ? len - done : sizeof(want);
		mmapdemo_pattern(want, n, off + done, salt);
		if (memcmp((const char *)p + done, want, n))
			return 0;
	}
	return 1;
}

#endif /* MMAPDEMO_VARIANTS_H */
