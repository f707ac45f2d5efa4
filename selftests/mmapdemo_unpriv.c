// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_unpriv: no physical address reaches a process without
 * CAP_SYS_ADMIN, by any path, in any mode (the variants of
 * mmapdemo_fixture.h).
 *
 * Each test checks as a user who may open the device and nothing more:
 * a child of the root test process that takes uid and gid nobody (65534)
 * with the one supplementary group "mmapdemo" (setgroups, setresgid,
 * setresuid: no capability is left), with /dev/mmapdemo root:mmapdemo
 * 0660, as udev/60-mmapdemo.rules makes it (set by the test, restored
 * afterwards). The paths: MMAPDEMO_IOC_GET_PFN, the offset column of
 * /proc/self/maps and of smaps, PROCMAP_QUERY's vma_offset (6.11 and
 * newer), pagemap's PFN bits, and a private remap mapping (whose vm_pgoff
 * would be a PFN: refused with EPERM). Finally every demo of demos.list
 * runs as that user and must exit 0 without an UNEXPECTED line.
 *
 * Needs root, a loaded module, a buffer of at least 2 pages and a group
 * "mmapdemo" in /etc/group (SKIP otherwise; the test VM has one). Run by
 * unpriv.sh.
 */
#include <grp.h>
#include <limits.h>
#include <linux/ioctl.h>
#include <linux/types.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include "mmapdemo_fixture.h"

#define NOBODY		65534
#define DEMO_TIMEOUT	120	/* seconds per demo, as demos.sh gives them */

/* PROCMAP_QUERY of <linux/fs.h> (6.11); Debian 12's headers do not have it. */
struct procmap_query_abi {
	__u64 size;
	__u64 query_flags;
	__u64 query_addr;
	__u64 vma_start;
	__u64 vma_end;
	__u64 vma_flags;
	__u64 vma_page_size;
	__u64 vma_offset;
	__u64 inode;
	__u32 dev_major;
	__u32 dev_minor;
	__u32 vma_name_size;
	__u32 build_id_size;
	__u64 vma_name_addr;
	__u64 build_id_addr;
};
#define PROCMAP_QUERY_ABI	_IOWR('f', 17, struct procmap_query_abi)

/* ---- the unprivileged user ------------------------------------------- */

/* In a child: become nobody in group @gid only; exit 1 if anything is left. */
static void become_member(gid_t gid)
{
	CHILD_CHECK(setgroups(1, &gid) == 0);
	CHILD_CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0);
	CHILD_CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
	/* From uid 0 to another uid, the kernel clears every capability. */
	CHILD_CHECK(setresuid(0, 0, 0) == -1 && errno == EPERM);
	CHILD_CHECK(geteuid() == NOBODY && getegid() == NOBODY);
	/*
	 * The uid change made the process undumpable, which gives its
	 * /proc/self files to root (pagemap: EACCES); a user's own process,
	 * started by exec, is dumpable.
	 */
	CHILD_CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
}

/* In a child: the device opened read-write by the member, in @mode. */
static int member_open(uint64_t mode)
{
	int fd = mmapdemo_open(O_RDWR);

	CHILD_CHECK(fd >= 0);
	CHILD_CHECK(mmapdemo_set_mode(fd, mode, 0) == 0);
	return fd;
}

/* The offset column of the /proc/self/maps or smaps line of the VMA at @addr. */
static int maps_offset(const char *file, const void *addr, unsigned long long *off)
{
	unsigned long start, end;
	char line[512];
	int found = -1;
	FILE *f = fopen(file, "re");

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f))
		if (sscanf(line, "%lx-%lx %*s %llx", &start, &end, off) == 3 &&
		    start == (uintptr_t)addr)
			found = 0;
	fclose(f);
	return found;
}

/*
 * PROCMAP_QUERY's vma_offset for the VMA at @addr: 0, or -1 with errno
 * (ENOTTY before 6.11).
 */
static int procmap_offset(const void *addr, unsigned long long *off)
{
	struct procmap_query_abi q = {
		.size = sizeof(q),
		.query_addr = (uintptr_t)addr,
	};
	int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -1;
	ret = ioctl(fd, PROCMAP_QUERY_ABI, &q);
	close(fd);
	if (!ret)
		*off = q.vma_offset;
	return ret;
}

/* Load one byte at @addr: the page is present afterwards. */
static void touch(const void *addr)
{
	(void)*(const volatile char *)addr;
}

/* In a child: every place the offset of the VMA at @addr shows is @want. */
static void check_offsets(const void *addr, unsigned long long want)
{
	unsigned long long off = ~0ULL;

	CHILD_CHECK(maps_offset("/proc/self/maps", addr, &off) == 0);
	CHILD_CHECK(off == want);
	off = ~0ULL;
	CHILD_CHECK(maps_offset("/proc/self/smaps", addr, &off) == 0);
	CHILD_CHECK(off == want);
	off = ~0ULL;
	if (procmap_offset(addr, &off) == 0)
		CHILD_CHECK(off == want);
	else
		CHILD_CHECK(errno == ENOTTY);
}

/* ---- the per-mode tests -------------------------------------------------- */

/* Group "mmapdemo" into *@gid; SKIP without one. */
#define NEED_GROUP(gid) do { \
	struct group *gr = getgrnam("mmapdemo"); \
	if (!gr) \
		SKIP(return, "no group mmapdemo (groupadd --system mmapdemo)"); \
	*(gid) = gr->gr_gid; \
} while (0)

/*
 * The start of each TEST_F(mmapdemo, ...) here (the fixture has the device
 * open as root, in the variant's mode): group mmapdemo into @_gid, a
 * buffer of 2 pages, and the node given to the group; the fixture's
 * teardown puts the node back.
 */
#define MEMBER_SETUP(_gid) do { \
	NEED_GROUP(&(_gid)); \
	NEED_PAGES(2); \
	ASSERT_EQ(0, node_open_to_group((_gid), &self->node)); \
} while (0)

/* GET_PFN: EPERM for the member, nothing copied back; root gets the PFN. */
TEST_F(mmapdemo, get_pfn_eperm)
{
	uint64_t pfn;
	gid_t gid;
	pid_t pid;

	MEMBER_SETUP(gid);
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, 1, &pfn));
	ASSERT_NE(0, pfn);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		struct mmapdemo_pfn q = { .index = 1, .pfn = 0x5a5a5a5a };
		int fd;

		CHILD_DIES_WITH_PARENT();
		become_member(gid);
		fd = member_open(variant->mode);
		errno = 0;
		CHILD_CHECK(ioctl(fd, MMAPDEMO_IOC_GET_PFN, &q) == -1 && errno == EPERM);
		CHILD_CHECK(q.pfn == 0x5a5a5a5a);
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
}

/*
 * MAP_PRIVATE in remap mode: EPERM for the member, read-write or
 * read-only, not counted, one log line each; other modes map it. Root
 * still maps it.
 */
TEST_F(mmapdemo, private_remap_eperm)
{
	static const char line[] = "remap: MAP_PRIVATE refused to";
	long lines = klog_count(line);
	size_t ps = self->page_size;
	struct mmapdemo_stats st;
	gid_t gid;
	pid_t pid;
	void *p;

	MEMBER_SETUP(gid);
	ASSERT_LE(0, lines);
	ASSERT_EQ(0, mmapdemo_reset_stats(self->fd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ };
		size_t i;
		int fd;

		CHILD_DIES_WITH_PARENT();
		become_member(gid);
		fd = member_open(variant->mode);
		for (i = 0; i < 2; i++) {
			errno = 0;
			p = mmap(NULL, ps, prots[i], MAP_PRIVATE, fd, ps);
			if (IS_REMAP) {
				CHILD_CHECK(p == MAP_FAILED && errno == EPERM);
			} else {
				CHILD_CHECK(p != MAP_FAILED);
				CHILD_CHECK(munmap(p, ps) == 0);
			}
		}
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
	ASSERT_EQ(0, mmapdemo_get_stats(self->fd, &st));
	ASSERT_EQ(IS_REMAP ? 0 : 2, st.mmaps);
	ASSERT_EQ(0, st.vmas);
	ASSERT_EQ(lines + (IS_REMAP ? 2 : 0), klog_count(line));

	p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, self->fd, ps);
	ASSERT_NE(MAP_FAILED, p) TH_LOG("root: %s", strerror(errno));
	ASSERT_EQ(0, munmap(p, ps));
}

/*
 * The member's mappings of page 1: /proc/self/maps, smaps and
 * PROCMAP_QUERY show offset 4096 for MAP_SHARED and for MAP_PRIVATE (which
 * remap mode refuses): never PFN x page size.
 */
TEST_F(mmapdemo, maps_offset_is_file_offset)
{
	gid_t gid;
	pid_t pid;

	MEMBER_SETUP(gid);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		size_t ps = self->page_size;
		char *s, *p;
		int fd;

		CHILD_DIES_WITH_PARENT();
		become_member(gid);
		fd = member_open(variant->mode);
		s = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, ps);
		CHILD_CHECK(s != MAP_FAILED);
		touch(s);
		check_offsets(s, ps);
		errno = 0;
		p = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, ps);
		if (IS_REMAP) {
			CHILD_CHECK(p == MAP_FAILED && errno == EPERM);
		} else {
			CHILD_CHECK(p != MAP_FAILED);
			*p = 1;		/* and after a copy-on-write */
			check_offsets(p, ps);
		}
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
}

/* In a child: pagemap's entry for @addr. */
static struct mmapdemo_pagemap pagemap_of(const void *addr)
{
	struct mmapdemo_pagemap pm;

	CHILD_CHECK(mmapdemo_pagemap(addr, &pm) == 0);
	return pm;
}

/*
 * pagemap: the member sees present bits but PFN 0 for every touched page
 * (VM_PFNMAP mappings: holes); root sees the PFNs of the same kind of
 * mapping, so the test would notice one.
 */
TEST_F(mmapdemo, pagemap_no_pfn)
{
	int pfnmap = SHARED_PFNMAP;
	size_t ps = self->page_size;
	struct mmapdemo_pagemap pm;
	uint64_t pfn;
	gid_t gid;
	pid_t pid;
	char *s;

	MEMBER_SETUP(gid);
	s = mmap(NULL, ps, PROT_READ, MAP_SHARED, self->fd, ps);
	ASSERT_NE(MAP_FAILED, s);
	touch(s);
	ASSERT_EQ(0, mmapdemo_pagemap(s, &pm));
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, 1, &pfn));
	ASSERT_EQ(pfnmap ? 0 : pfn, pm.pfn);
	ASSERT_EQ(0, munmap(s, ps));

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		char *m, *p = NULL;
		int fd;

		CHILD_DIES_WITH_PARENT();
		become_member(gid);
		fd = member_open(variant->mode);
		m = mmap(NULL, ps, PROT_READ, MAP_SHARED, fd, ps);
		CHILD_CHECK(m != MAP_FAILED);
		touch(m);
		pm = pagemap_of(m);
		CHILD_CHECK(pm.present == !pfnmap && pm.pfn == 0);
		CHILD_CHECK((pm.raw & MMAPDEMO_PM_PFN_MASK) == 0);
		if (!IS_REMAP) {
			p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
			CHILD_CHECK(p != MAP_FAILED);
			*p = 1;						/* a copy */
			touch(p + ps);					/* the device's page */
			pm = pagemap_of(p);
			CHILD_CHECK(pm.present && (pm.raw & MMAPDEMO_PM_PFN_MASK) == 0);
			pm = pagemap_of(p + ps);
			CHILD_CHECK(pm.present && (pm.raw & MMAPDEMO_PM_PFN_MASK) == 0);
		}
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
}

/* ---- the demos, as the member ------------------------------------------ */

/*
 * demos.list: beside this program in an installed collection (make
 * kselftest-install: the VM), or in userspace/ of the tree (build/selftests/).
 */
static FILE *open_demos_list(char *bindir, size_t size)
{
	static const char *const rel[] = { "/demos.list", "/../../userspace/demos.list" };
	char exe[PATH_MAX], path[PATH_MAX + 64];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	FILE *f = NULL;
	size_t i;

	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(bindir, size, "%s", exe);
	for (i = 0; !f && i < sizeof(rel) / sizeof(rel[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", exe, rel[i]);
		f = fopen(path, "re");
	}
	return f;
}

/*
 * Run @prog (with up to 7 @args) as the member, its output into @out;
 * returns its wait status, or -1.
 */
static int run_as_member(gid_t gid, const char *prog, char *const *argv, char *out,
			 size_t size)
{
	size_t got = 0;
	int pipefd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(pipefd))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		CHILD_DIES_WITH_PARENT();
		become_member(gid);
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		close(pipefd[0]);
		alarm(DEMO_TIMEOUT);
		if (strchr(prog, '/'))
			execv(prog, argv);
		else
			execvp(prog, argv);
		_exit(127);
	}
	close(pipefd[1]);
	while ((n = read(pipefd[0], out + got, size - 1 - got)) > 0) {
		got += n;
		if (got == size - 1)	/* keep the end: drop the first half */
			memmove(out, out + size / 2, got -= size / 2);
	}
	out[got] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

FIXTURE(demos) {
	gid_t gid;
	struct node_state node;
};

FIXTURE_SETUP(demos)
{
	self->node.saved = false;
	NEED_GROUP(&self->gid);
	ASSERT_EQ(0, node_open_to_group(self->gid, &self->node));
}

FIXTURE_TEARDOWN(demos)
{
	EXPECT_EQ(0, node_restore(&self->node));
}

/*
 * Every demo of demos.list, run as the member, exits 0 and prints no
 * UNEXPECTED line: what needs CAP_SYS_ADMIN is skipped, and said.
 */
TEST_F_TIMEOUT(demos, as_member, 900)
{
	char bindir[PATH_MAX], prog[PATH_MAX + 64], line[512], *out;
	int status, demos = 0;
	FILE *list;

	list = open_demos_list(bindir, sizeof(bindir));
	if (!list)
		SKIP(return, "no demos.list beside %.900s", bindir);
	out = malloc(1 << 20);
	ASSERT_NE(NULL, out);
	while (fgets(line, sizeof(line), list)) {
		char *argv[8] = { NULL }, *save = NULL, *w;
		int argc = 0;

		*strchrnul(line, '#') = '\0';
		for (w = strtok_r(line, " \t\n", &save); w && argc < 7;
		     w = strtok_r(NULL, " \t\n", &save))
			argv[argc++] = w;
		if (!argc)
			continue;
		/* The tree's build/bin/, else the PATH (the VM's /mmapdemo/bin). */
		snprintf(prog, sizeof(prog), "%s/../bin/%s", bindir, argv[0]);
		if (access(prog, X_OK))
			snprintf(prog, sizeof(prog), "%s", argv[0]);
		status = run_as_member(self->gid, prog, argv, out, 1 << 20);
		demos++;
		TH_LOG("%s as nobody in group mmapdemo: status %#x", argv[0], status);
		EXPECT_EQ(0, status) TH_LOG("%s: its output ends:\n%s", argv[0], out);
		EXPECT_EQ(NULL, strstr(out, "UNEXPECTED")) TH_LOG("%s:\n%s", argv[0],
								   strstr(out, "UNEXPECTED"));
	}
	fclose(list);
	free(out);
	ASSERT_LT(0, demos);
}

TEST_HARNESS_MAIN
