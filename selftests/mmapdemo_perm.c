// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_perm: who may read the counters in /sys/class/misc/mmapdemo/.
 *
 * The policy (module/stats.c): the counters are for whoever may use the
 * device, as MMAPDEMO_IOC_GET_STATS on an open file is. The module
 * registers them like the device node, root's alone (counters 0400, node
 * 0600); udev/60-mmapdemo.rules gives both to group mmapdemo (counters
 * 0440, node 0660). The configuration files (pages, contiguous, mode) are
 * public, 0444, like the module's parameters.
 *
 * counters_follow_the_node: each counter file has the node's owner and
 * group, and its group may read it exactly when the node's group may open
 * the device; nobody else may read it. Holds with and without the rule.
 * counters_for_device_users: what the rule does, done by hand with a group
 * of its own: a user in that group opens the device and reads every
 * counter (the same numbers as GET_STATS); a user outside it does neither,
 * but reads the configuration. The node and the files are put back.
 *
 * Needs root and a loaded module. SKIP otherwise.
 */

/* The harness under -Wextra: see mmapdemo_fixture.h. */
#pragma GCC diagnostic ignored "-Wsign-compare"
#include "kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libmmapdemo.h"

/* In the order of struct mmapdemo_stats. */
static const char *const counters[] = {
	"faults", "sigbus", "mmaps", "vma_opens", "vma_closes", "vmas", "mapped_pages",
	"huge_faults", "fault_pages",
};
static const char *const config[] = { "pages", "contiguous", "mode" };

#define N_COUNTERS	(sizeof(counters) / sizeof(counters[0]))
#define N_CONFIG	(sizeof(config) / sizeof(config[0]))
/* A group nobody is in (65534 is nogroup), and user nobody. */
#define TEST_GID	65533
#define NOBODY		65534

static void sysfs_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", MMAPDEMO_SYSFS_DIR, name);
}

/* In a child: become nobody, with @gid as the only group (or none). */
static int become_nobody(gid_t gid, bool in_group)
{
	if (in_group ? setgroups(1, &gid) : setgroups(0, NULL))
		return -1;
	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return -1;
	return 0;
}

/* Run @fn as nobody in a child; return its exit status (0: all held). */
static int as_nobody(bool in_group, int (*fn)(bool in_group))
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(become_nobody(TEST_GID, in_group) ? 2 : fn(in_group));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * In the child: a member opens the device and reads every counter, equal
 * to GET_STATS of the same moment; a non-member gets EACCES opening the
 * device; both read the configuration. Exit status: 0, or which check
 * failed: 10 + i reading config[i], 20 the open, 30 GET_STATS, 40 + i
 * counters[i].
 */
static int child_checks(bool in_group)
{
	struct mmapdemo_stats st;
	const __u64 *val = &st.faults;
	char buf[64];
	uint64_t v;
	size_t i;
	int fd;

	for (i = 0; i < N_CONFIG; i++)
		if (mmapdemo_sysfs_read(config[i], buf, sizeof(buf)) <= 0)
			return 10 + i;
	fd = mmapdemo_open(O_RDWR);
	if (!in_group)
		return fd < 0 && errno == EACCES ? 0 : 20;
	if (fd < 0)
		return 20;
	if (mmapdemo_get_stats(fd, &st))
		return 30;
	for (i = 0; i < N_COUNTERS; i++)
		if (mmapdemo_sysfs_u64(counters[i], &v) || v != val[i])
			return 40 + i;
	close(fd);
	return 0;
}

/*
 * In the child: every counter file refuses to open (EACCES); 40 + i if not.
 * In the group or not: as_nobody()'s callback, like child_reads().
 */
static int child_denied(bool in_group)
{
	char path[256];
	size_t i;
	int fd;

	(void)in_group;
	for (i = 0; i < N_COUNTERS; i++) {
		sysfs_path(path, sizeof(path), counters[i]);
		fd = open(path, O_RDONLY);
		if (fd >= 0 || errno != EACCES)
			return 40 + i;
	}
	return 0;
}

/* Give every counter file to @gid with @mode. Return: 0, or -1 with errno. */
static int set_counters(gid_t gid, mode_t mode)
{
	char path[256];
	size_t i;

	for (i = 0; i < N_COUNTERS; i++) {
		sysfs_path(path, sizeof(path), counters[i]);
		if (chown(path, -1, gid) || chmod(path, mode))
			return -1;
	}
	return 0;
}

FIXTURE(perm)
{
	struct stat node;	/* /dev/mmapdemo as the test found it */
};

FIXTURE_SETUP(perm)
{
	if (geteuid())
		SKIP(return, "needs root");
	if (stat(MMAPDEMO_DEV_PATH, &self->node))
		SKIP(return, "%s: %s (is mmapdemo.ko loaded?)", MMAPDEMO_DEV_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(perm)
{
}

/* Each counter file has the node's owner and group, and the node's group access. */
TEST_F(perm, counters_follow_the_node)
{
	const struct stat *node = &self->node;
	char path[256];
	struct stat sb;
	size_t i;
	int ret;

	for (i = 0; i < N_COUNTERS; i++) {
		sysfs_path(path, sizeof(path), counters[i]);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(node->st_uid, sb.st_uid) TH_LOG("%s", path);
		ASSERT_EQ(node->st_gid, sb.st_gid) TH_LOG("%s", path);
		/* Owner read, the group's read as the node's, nothing for others. */
		ASSERT_EQ(0400 | (node->st_mode & 0040), sb.st_mode & 07777)
			TH_LOG("%s: mode %o, node %o", path, sb.st_mode & 07777,
			       node->st_mode & 07777);
	}
	for (i = 0; i < N_CONFIG; i++) {
		sysfs_path(path, sizeof(path), config[i]);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(0444, sb.st_mode & 07777) TH_LOG("%s", path);
	}
	/* Someone outside the node's group reads no counter. */
	ret = as_nobody(false, child_denied);
	ASSERT_EQ(0, ret) TH_LOG("someone else: check %d failed", ret);
}

/* What udev/60-mmapdemo.rules does, by hand: the group reads, others do not. */
TEST_F(perm, counters_for_device_users)
{
	const struct stat *node = &self->node;
	char path[256];
	struct stat sb;
	int ret;

	/* As the module registered them: the first counter tells for all. */
	sysfs_path(path, sizeof(path), counters[0]);
	ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", path, strerror(errno));
	/* The rule: GROUP= and MODE="0660" on the node, chgrp and chmod 0440 on the counters. */
	ASSERT_EQ(0, chown(MMAPDEMO_DEV_PATH, -1, TEST_GID));
	ASSERT_EQ(0, chmod(MMAPDEMO_DEV_PATH, 0660));
	ASSERT_EQ(0, set_counters(TEST_GID, 0440)) TH_LOG("chgrp, chmod: %s", strerror(errno));

	ret = as_nobody(true, child_checks);
	EXPECT_EQ(0, ret) TH_LOG("a member of the group: check %d failed", ret);
	ret = as_nobody(false, child_checks);
	EXPECT_EQ(0, ret) TH_LOG("someone else: check %d failed", ret);
	ret = as_nobody(false, child_denied);
	EXPECT_EQ(0, ret) TH_LOG("someone else: check %d failed", ret);

	ASSERT_EQ(0, chown(MMAPDEMO_DEV_PATH, -1, node->st_gid));
	ASSERT_EQ(0, chmod(MMAPDEMO_DEV_PATH, node->st_mode & 07777));
	ASSERT_EQ(0, set_counters(sb.st_gid, sb.st_mode & 07777));
}

TEST_HARNESS_MAIN
