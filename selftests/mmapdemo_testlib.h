/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo_testlib: the helpers the mmapdemo_<area> selftests share: page
 * and byte patterns, the device through read()/write(), mappings, PFN runs,
 * the counters, child processes, the kernel log, capabilities and the
 * device node's owner and mode. Plain C, without kselftest_harness.h (which
 * may be included once per program only): the harness's asserts live in
 * mmapdemo_fixture.h.
 */
#ifndef MMAPDEMO_TESTLIB_H
#define MMAPDEMO_TESTLIB_H

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define ANY		UINT64_MAX	/* stats field not checked */
#define MODULE_NAME	"mmapdemo"
#define CHUNK_PAGES	512		/* the module's largest physical chunk */
#define PMD_PAGES	512		/* pages one x86-64 PMD maps (2 MiB) */

/* The counters of struct mmapdemo_stats, in field order: their sysfs file names. */
extern const char *const stat_names[];
#define NR_STATS	(sizeof(struct mmapdemo_stats) / sizeof(__u64))

/* In a forked child: no harness asserts, exit non-zero on the first failure. */
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

/* /dev/mmapdemo's owner and mode before node_open_to_group(), to put back. */
struct node_state {
	uid_t uid;
	gid_t gid;
	mode_t mode;
	bool saved;		/* node_restore() has something to put back */
};

size_t min_sz(size_t a, size_t b);
uint64_t tag(uint64_t index, uint64_t salt);
void fill_page(void *page, uint64_t t);
bool page_has(const void *page, uint64_t t);
void fill_bytes(void *to, size_t len, uint64_t off, unsigned int salt);
bool bytes_have(const void *p, size_t len, uint64_t off, unsigned int salt);
int dev_fill(int fd, uint64_t index, uint64_t t);
bool dev_has(int fd, uint64_t index, uint64_t t);
uint64_t dev_word(int fd, uint64_t index, size_t word);
void *map_dev(int fd, size_t pages, uint64_t first, int prot, int flags);
uint64_t *page_ptr(void *map, size_t i);
bool pfn_run(int fd, uint64_t first, size_t n);
int64_t pfn_discontinuity(int fd, uint64_t pages);
bool stats_match(int fd, int line, struct mmapdemo_stats want);
int wait_status(pid_t pid);
bool child_ok(pid_t pid);
int step_send(int fd);
int step_wait(int fd);
long klog_count(const char *what);
long klog_lines(void);
int drop_cap_sys_admin(void);
int kernel_version(void);
int module_param_u64(const char *name, uint64_t *val);
int device_open(int flags, char *why, size_t size);
int node_open_to_group(gid_t gid, struct node_state *was);
int node_restore(struct node_state *was);

#endif /* MMAPDEMO_TESTLIB_H */
