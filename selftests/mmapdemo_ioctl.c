// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_ioctl: the device itself and its control interface. The state of
 * a freshly loaded module (a zero-filled buffer, the sysfs attributes, the
 * device node's owner and mode), GET_INFO and the contiguity flag, SET_MODE
 * (per open file, invalid and unbuilt modes and flags), unknown commands,
 * bad pointers and wrong sizes, structures copied out whole, GET_PFN (its
 * bounds and CAP_SYS_ADMIN), and the sysfs counters against the ioctl's.
 * suite.sh runs this program first in each configuration:
 * buffer_zero_filled, its first test, needs a module nobody has used yet.
 */
#include <grp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>

#include "mmapdemo_fixture.h"

/* ---- tests without the fixture: the state of a freshly loaded module --- */

/*
 * The buffer is zero-filled at load: through read() and through a mapping
 * of every page in the module's default mode. Runs first; skips when the
 * device has been used since load (it cannot tell a fresh buffer then).
 */
TEST(buffer_zero_filled)
{
	size_t ps = mmapdemo_page_size(), chunk = 256 * ps, i, j;
	struct mmapdemo_stats st;
	struct mmapdemo_info info;
	uint64_t *buf, *map;
	off_t off;
	int fd;

	OPEN_DEVICE_OR_SKIP(fd);
	ASSERT_EQ(0, mmapdemo_get_info(fd, &info));
	ASSERT_EQ(0, mmapdemo_get_stats(fd, &st));
	if (st.faults || st.sigbus || st.mmaps || st.vma_opens || st.vma_closes || st.vmas) {
		close(fd);
		SKIP(return, "device used since load: zero fill is checked on a fresh module only");
	}

	buf = malloc(chunk);
	ASSERT_NE(NULL, buf);
	for (off = 0; off < (off_t)info.size; off += chunk) {
		size_t want = min_sz(chunk, info.size - off);

		ASSERT_EQ((ssize_t)want, pread(fd, buf, want, off));
		for (i = 0; i < want / 8; i++)
			ASSERT_EQ(0, buf[i]);
	}
	free(buf);

	map = mmap(NULL, info.size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, map);
	for (i = 0; i < info.pages; i++) {
		const uint64_t *w = page_ptr(map, i);

		for (j = 0; j < ps / 8; j++)
			if (w[j])
				break;
		ASSERT_EQ(ps / 8, j) TH_LOG("page %zu word %zu is not 0", i, j);
	}
	ASSERT_EQ(0, munmap(map, info.size));
	ASSERT_EQ(0, close(fd));
}

/*
 * /sys/class/misc/mmapdemo: read-only files, one newline-terminated value
 * each, equal to what the ioctls report; the counters not for everyone.
 */
TEST(sysfs_attributes)
{
	/* Besides the counters (stat_names): the configuration, public. */
	static const char *const other_files[] = { "pages", "mode", "contiguous", "modes" };
	struct mmapdemo_stats st, st2;
	struct mmapdemo_info info;
	const __u64 *counter;
	uint64_t val;
	char path[256], text[64];
	struct stat sb;
	size_t i;
	int fd, wfd;

	OPEN_DEVICE_OR_SKIP(fd);
	ASSERT_EQ(0, mmapdemo_get_info(fd, &info));

	for (i = 0; i < NR_STATS + ARRAY_SIZE(other_files); i++) {
		const char *name = i < NR_STATS ? stat_names[i] : other_files[i - NR_STATS];

		snprintf(path, sizeof(path), "%s/%s", MMAPDEMO_SYSFS_DIR, name);
		ASSERT_EQ(0, stat(path, &sb)) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_TRUE(S_ISREG(sb.st_mode));
		ASSERT_EQ(0, sb.st_mode & 0222) TH_LOG("%s is writable", path);
		if (i < NR_STATS) {
			/*
			 * The counters are for the node's users (module/stats.c):
			 * root's, group-readable at most (the udev rule), never
			 * for others. mmapdemo_perm tests who that is.
			 */
			ASSERT_EQ(0400, sb.st_mode & 0404) TH_LOG("%s: mode %o", path, sb.st_mode & 0777);
		} else {
			ASSERT_EQ(0444, sb.st_mode & 0444) TH_LOG("%s is not world-readable", path);
		}
		/* Even root cannot write: there is no store method. */
		wfd = open(path, O_WRONLY);
		if (wfd >= 0)
			close(wfd);
		ASSERT_LT(wfd, 0) TH_LOG("%s opened for writing", path);
	}

	/* One value and a newline; equal to the ioctl's numbers. */
	ASSERT_EQ(0, mmapdemo_get_stats(fd, &st));
	counter = &st.faults;
	for (i = 0; i < NR_STATS; i++) {
		ASSERT_EQ(0, mmapdemo_sysfs_u64(stat_names[i], &val)) TH_LOG("%s", stat_names[i]);
		ASSERT_EQ(counter[i], val) TH_LOG("%s", stat_names[i]);
	}
	ASSERT_EQ(0, mmapdemo_get_stats(fd, &st2));
	ASSERT_EQ(0, memcmp(&st, &st2, sizeof(st)));

	ASSERT_EQ(0, mmapdemo_sysfs_u64("pages", &val));
	ASSERT_EQ(info.pages, val);
	ASSERT_EQ(0, mmapdemo_sysfs_u64("contiguous", &val));
	ASSERT_EQ(!!(info.flags & MMAPDEMO_INFO_CONTIGUOUS), val);
	/* mode: the module's mode=, which is what a fresh open file uses. */
	ASSERT_LT(0, mmapdemo_sysfs_read("mode", text, sizeof(text)));
	snprintf(path, sizeof(path), "%s\n", mmapdemo_mode_name(info.mode));
	ASSERT_STREQ(path, text);
	ASSERT_EQ(0, close(fd));
}

/* Whether group @gid is called @name in /etc/group. */
static bool group_is(gid_t gid, const char *name)
{
	char line[512];
	unsigned int id;
	size_t len = strlen(name);
	bool found = false;
	FILE *f = fopen("/etc/group", "r");

	if (!f)
		return false;
	/* name:password:gid:members */
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, name, len) && line[len] == ':' &&
			sscanf(line, "%*[^:]:%*[^:]:%u:", &id) == 1 && id == gid;
	fclose(f);
	return found;
}

/*
 * The device node: a character device with the number sysfs gives, owned
 * by root, mode 0600 as the module registers it (misc.mode); or 0660 with
 * group "mmapdemo" where udev/60-mmapdemo.rules is installed. Never
 * accessible to others.
 */
TEST(device_node_mode)
{
	unsigned int major, minor;
	char dev[32];
	struct stat sb;
	pid_t pid;
	int fd;

	OPEN_DEVICE_OR_SKIP(fd);
	ASSERT_EQ(0, close(fd));
	ASSERT_EQ(0, stat(MMAPDEMO_DEV_PATH, &sb)) TH_LOG("%s: %s", MMAPDEMO_DEV_PATH, strerror(errno));
	ASSERT_TRUE(S_ISCHR(sb.st_mode));
	ASSERT_LT(0, mmapdemo_sysfs_read("dev", dev, sizeof(dev)));
	ASSERT_EQ(2, sscanf(dev, "%u:%u", &major, &minor));
	ASSERT_EQ(major, major(sb.st_rdev));
	ASSERT_EQ(minor, minor(sb.st_rdev));
	ASSERT_EQ(0, sb.st_uid);
	ASSERT_EQ(0, sb.st_mode & 0007) TH_LOG("mode %o: open to others", sb.st_mode & 07777);
	if (sb.st_gid == 0) {
		ASSERT_EQ(0600, sb.st_mode & 07777) TH_LOG("mode %o, expected 0600",
							  sb.st_mode & 07777);
	} else {
		ASSERT_TRUE(group_is(sb.st_gid, "mmapdemo")) TH_LOG("group %u", sb.st_gid);
		ASSERT_EQ(0660, sb.st_mode & 07777);
	}

	/* Someone else (nobody, without capabilities) cannot open it at all. */
	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		CHILD_CHECK(setgroups(0, NULL) == 0);
		CHILD_CHECK(setresgid(65534, 65534, 65534) == 0);
		CHILD_CHECK(setresuid(65534, 65534, 65534) == 0);
		errno = 0;
		CHILD_CHECK(open(MMAPDEMO_DEV_PATH, O_RDONLY) == -1 && errno == EACCES);
		CHILD_CHECK(open(MMAPDEMO_DEV_PATH, O_RDWR) == -1 && errno == EACCES);
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
}

/* ---- with the fixture: in each variant ---------------------------------- */

/* Open, close, GET_INFO: sizes consistent, only known flags. */
TEST_F(mmapdemo, device_open_close)
{
	struct mmapdemo_info info;
	int ro, rw;

	ASSERT_EQ(self->page_size, self->info.page_size);
	ASSERT_LT(0, self->info.pages);
	ASSERT_EQ(self->info.pages * self->page_size, self->info.size);
	ASSERT_EQ(0, self->info.flags & ~MMAPDEMO_INFO_CONTIGUOUS);

	ro = mmapdemo_open(O_RDONLY);
	ASSERT_GE(ro, 0);
	rw = mmapdemo_open(O_RDWR);
	ASSERT_GE(rw, 0);
	ASSERT_EQ(0, mmapdemo_get_info(ro, &info));
	ASSERT_EQ(self->info.size, info.size);
	ASSERT_EQ(self->info.pages, info.pages);
	ASSERT_EQ(self->info.flags, info.flags);
	ASSERT_EQ(0, close(ro));
	ASSERT_EQ(0, close(rw));
}

/*
 * MMAPDEMO_INFO_CONTIGUOUS says whether the buffer's PFNs are consecutive;
 * a buffer of at most one chunk (512 pages) is.
 */
TEST_F(mmapdemo, info_contiguous)
{
	bool flag = self->info.flags & MMAPDEMO_INFO_CONTIGUOUS;
	uint64_t sysfs;

	ASSERT_EQ(flag, pfn_run(self->fd, 0, self->pages));
	ASSERT_EQ(0, mmapdemo_sysfs_u64("contiguous", &sysfs));
	ASSERT_EQ((uint64_t)flag, sysfs);
	if (self->pages <= CHUNK_PAGES) {
		ASSERT_TRUE(flag) TH_LOG("a buffer of %zu pages should be one chunk", self->pages);
	} else {
		TH_LOG("%zu pages: %s", self->pages, flag ? "contiguous" : "not contiguous");
	}
}

/*
 * SET_MODE changes later mmaps of that open file only: other files keep
 * the module's default, existing mappings keep their variant.
 */
TEST_F(mmapdemo, mode_per_file)
{
	uint64_t other = IS_FAULT ? MMAPDEMO_MODE_REMAP : MMAPDEMO_MODE_FAULT, dflt;
	struct mmapdemo_info info;
	char name[32];
	void *m1, *m2;
	int fd2;

	ASSERT_LT(0, mmapdemo_sysfs_read("mode", name, sizeof(name)));
	name[strcspn(name, "\n")] = '\0';
	ASSERT_EQ(0, mmapdemo_mode_parse(name, &dflt));

	fd2 = mmapdemo_open(O_RDWR);
	ASSERT_GE(fd2, 0);
	ASSERT_EQ(0, mmapdemo_get_info(fd2, &info));
	ASSERT_EQ(dflt, info.mode);
	ASSERT_EQ(0, mmapdemo_set_mode(fd2, other, 0));
	ASSERT_EQ(0, mmapdemo_get_info(fd2, &info));
	ASSERT_EQ(other, info.mode);
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);
	ASSERT_EQ(0, close(fd2));

	RESET_STATS(self->fd);
	m1 = map_dev(self->fd, 1, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m1);
	ASSERT_EQ(0, mmapdemo_set_mode(self->fd, other, 0));
	m2 = map_dev(self->fd, 1, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m2);
	ASSERT_EQ(SHARED_PFNMAP, mmapdemo_is_pfnmap(m1));
	ASSERT_EQ(other == MMAPDEMO_MODE_REMAP, mmapdemo_is_pfnmap(m2));
	/* m2 is the fault or the remap variant, whichever m1 is not. */
	ASSERT_EQ(0, mmapdemo_touch(m1, 1, 1, -1) < 0);
	ASSERT_EQ(0, mmapdemo_touch(m2, 1, 1, -1) < 0);
	ASSERT_STATS(self->fd, PAGE_FAULTS(IF_LAZY(1) + (other == MMAPDEMO_MODE_FAULT)),
		     .mmaps = 2, .vmas = 2, .mapped_pages = 2);
	ASSERT_EQ(0, munmap(m1, self->page_size));
	ASSERT_EQ(0, munmap(m2, self->page_size));
}

/* SET_MODE: unknown mode or flag is EINVAL and changes nothing. */
TEST_F(mmapdemo, ioctl_set_mode_invalid)
{
	struct mmapdemo_info info;
	int ret;

	errno = 0;
	ASSERT_EQ(-1, mmapdemo_set_mode(self->fd, MMAPDEMO_NR_MODES, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mmapdemo_set_mode(self->fd, ~0ULL, 0));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mmapdemo_set_mode(self->fd, variant->mode, MMAPDEMO_MODE_FLAGS << 1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mmapdemo_set_mode(self->fd, variant->mode, ~0ULL));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);

	/* EXPANDABLE: a fault-mode flag; remap refuses it. */
	errno = 0;
	ret = mmapdemo_set_mode(self->fd, variant->mode, MMAPDEMO_MODE_EXPANDABLE);
	if (IS_FAULT) {
		ASSERT_EQ(0, ret);
	} else {
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(EINVAL, errno);
	}
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);
}

/* Commands the driver does not know: ENOTTY (an unknown number, type or direction). */
TEST_F(mmapdemo, ioctl_unknown)
{
	struct { __u64 a[8]; } big;
	char arg[64] = "";

	ASSERT_EQ(-1, ioctl(self->fd, _IO(MMAPDEMO_IOC_MAGIC, 0x7f)));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fd, _IOR(MMAPDEMO_IOC_MAGIC, 5, typeof(big)), &big));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->fd, _IO('x', 0), arg));
	ASSERT_EQ(ENOTTY, errno);
	/* GET_STATS's number and size, other direction. */
	ASSERT_EQ(-1, ioctl(self->fd, _IOW(MMAPDEMO_IOC_MAGIC, 2, struct mmapdemo_stats), &big));
	ASSERT_EQ(ENOTTY, errno);
}

/* Every ioctl with an argument: EFAULT for a bad pointer, state unchanged. */
TEST_F(mmapdemo, ioctl_bad_pointer)
{
	static const unsigned long cmds[] = {
		MMAPDEMO_IOC_GET_INFO, MMAPDEMO_IOC_SET_MODE,
		MMAPDEMO_IOC_GET_STATS, MMAPDEMO_IOC_GET_PFN,
	};
	static const char *const names[] = { "GET_INFO", "SET_MODE", "GET_STATS", "GET_PFN" };
	struct mmapdemo_info info;
	char *none, *ro;
	size_t i;

	none = mmap(NULL, self->page_size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, none);
	ro = mmap(NULL, self->page_size, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, ro);

	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->fd, cmds[i], NULL)) TH_LOG("%s(NULL)", names[i]);
		ASSERT_EQ(EFAULT, errno) TH_LOG("%s(NULL)", names[i]);
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->fd, cmds[i], none)) TH_LOG("%s(PROT_NONE)", names[i]);
		ASSERT_EQ(EFAULT, errno) TH_LOG("%s(PROT_NONE)", names[i]);
		ASSERT_EQ(-1, ioctl(self->fd, cmds[i], (void *)-4096L)) TH_LOG("%s(kernel)", names[i]);
		ASSERT_EQ(EFAULT, errno) TH_LOG("%s(kernel)", names[i]);
	}
	/* Output structures in read-only memory (zeroes there: a valid SET_MODE). */
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->fd, MMAPDEMO_IOC_GET_INFO, ro));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fd, MMAPDEMO_IOC_GET_STATS, ro));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, ioctl(self->fd, MMAPDEMO_IOC_GET_PFN, ro));
	ASSERT_EQ(EFAULT, errno);

	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);
	ASSERT_EQ(0, munmap(none, self->page_size));
	ASSERT_EQ(0, munmap(ro, self->page_size));
}

/*
 * SET_MODE of every mode number: 0 for a mode built into the module,
 * EOPNOTSUPP for one this module or kernel does not have (no table entry),
 * which leaves the file's mode alone. fault and remap are always built.
 */
TEST_F(mmapdemo, ioctl_set_mode_unbuilt)
{
	struct mmapdemo_info info;
	uint64_t m;

	for (m = 0; m < MMAPDEMO_NR_MODES; m++) {
		ASSERT_EQ(0, mmapdemo_set_mode(self->fd, variant->mode, 0));
		errno = 0;
		if (mmapdemo_set_mode(self->fd, m, 0)) {
			ASSERT_EQ(EOPNOTSUPP, errno) TH_LOG("mode %llu", (unsigned long long)m);
			ASSERT_NE(MMAPDEMO_MODE_FAULT, m);
			ASSERT_NE(MMAPDEMO_MODE_REMAP, m);
			ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
			ASSERT_EQ(variant->mode, info.mode);
		} else {
			ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
			ASSERT_EQ(m, info.mode);
		}
	}
}

/* Fill @buf with the 0xa5 sentinel. */
#define SENTINEL	0xa5
static void sentinel_fill(void *buf, size_t size)
{
	memset(buf, SENTINEL, size);
}

/* Bytes [from, to) of @buf still hold the sentinel. */
static bool sentinel_intact(const void *buf, size_t from, size_t to)
{
	const unsigned char *b = buf;

	for (; from < to; from++)
		if (b[from] != SENTINEL)
			return false;
	return true;
}

/* Each command with another direction is another command: ENOTTY, nothing happens. */
TEST_F(mmapdemo, ioctl_wrong_direction)
{
	static const unsigned long cmds[] = {
		MMAPDEMO_IOC_GET_INFO, MMAPDEMO_IOC_SET_MODE, MMAPDEMO_IOC_GET_STATS,
		MMAPDEMO_IOC_RESET_STATS, MMAPDEMO_IOC_GET_PFN,
	};
	static const int sizes[] = { 0, 8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 128 };
	struct mmapdemo_info info;
	__u64 arg[32];
	unsigned long bad;
	size_t c, i, dir;
	void *m;

	RESET_STATS(self->fd);
	m = map_dev(self->fd, 1, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		for (dir = 0; dir < 4; dir++) {
			if (dir == _IOC_DIR(cmds[c]))
				continue;
			for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
				bad = _IOC(dir, _IOC_TYPE(cmds[c]), _IOC_NR(cmds[c]), sizes[i]);
				memset(arg, 0, sizeof(arg));
				arg[0] = MMAPDEMO_MODE_REMAP + MMAPDEMO_MODE_FAULT - variant->mode;
				errno = 0;
				ASSERT_EQ(-1, ioctl(self->fd, bad, arg)) TH_LOG("cmd %#lx", bad);
				ASSERT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", bad);
			}
		}
	}
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 1);
	ASSERT_EQ(0, munmap(m, self->page_size));
}

/* @cmd with the structure size @size instead of its own. */
static unsigned long cmd_size(unsigned long cmd, size_t size)
{
	return _IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), size);
}

/*
 * Too small for version 0 of the structure: EINVAL; RESET_STATS, which has
 * no argument, with any size: ENOTTY; more than a page: E2BIG. Nothing
 * happens.
 */
TEST_F(mmapdemo, ioctl_size_refused)
{
	static const struct { unsigned long cmd; size_t ver0; } cmds[] = {
		{ MMAPDEMO_IOC_GET_INFO, MMAPDEMO_INFO_SIZE_VER0 },
		{ MMAPDEMO_IOC_SET_MODE, MMAPDEMO_MODE_SIZE_VER0 },
		{ MMAPDEMO_IOC_GET_STATS, MMAPDEMO_STATS_SIZE_VER0 },
		{ MMAPDEMO_IOC_GET_PFN, MMAPDEMO_PFN_SIZE_VER0 },
	};
	__u64 arg[1024] = { 0 };
	struct mmapdemo_info info;
	size_t c, size;
	void *m;

	RESET_STATS(self->fd);
	m = map_dev(self->fd, 1, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	for (c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++) {
		for (size = 0; size < cmds[c].ver0; size += 8) {
			arg[0] = MMAPDEMO_MODE_REMAP + MMAPDEMO_MODE_FAULT - variant->mode;
			errno = 0;
			ASSERT_EQ(-1, ioctl(self->fd, cmd_size(cmds[c].cmd, size), arg))
				TH_LOG("cmd %#lx size %zu", cmds[c].cmd, size);
			ASSERT_EQ(EINVAL, errno) TH_LOG("cmd %#lx size %zu", cmds[c].cmd, size);
		}
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->fd, cmd_size(cmds[c].cmd, 2 * 4096 + 8), arg));
		ASSERT_EQ(E2BIG, errno) TH_LOG("cmd %#lx size 8200", cmds[c].cmd);
	}
	for (size = 8; size <= 128; size += 8) {
		errno = 0;
		ASSERT_EQ(-1, ioctl(self->fd, _IOC(_IOC_NONE, MMAPDEMO_IOC_MAGIC,
						   _IOC_NR(MMAPDEMO_IOC_RESET_STATS), size), arg));
		ASSERT_EQ(ENOTTY, errno) TH_LOG("RESET_STATS size %zu", size);
	}
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 1);
	ASSERT_EQ(0, munmap(m, self->page_size));
}

/*
 * A caller built against an older header (version 0 of each structure):
 * GET_INFO writes its 40 bytes and nothing past them, SET_MODE and
 * GET_PFN take 16, GET_STATS writes 72: the fields it knows, as a caller
 * of this header sees them.
 */
TEST_F(mmapdemo, ioctl_size_older_caller)
{
	union { struct mmapdemo_info info; unsigned char b[128]; } now, old;
	struct mmapdemo_pfn pfn_now, pfn_old[2];

	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &now.info));
	memset(&old, 0xa5, sizeof(old));
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_GET_INFO, MMAPDEMO_INFO_SIZE_VER0), &old));
	ASSERT_EQ(0, memcmp(&old, &now, MMAPDEMO_INFO_SIZE_VER0));
	ASSERT_TRUE(sentinel_intact(&old, MMAPDEMO_INFO_SIZE_VER0, sizeof(old)));

	/* An old SET_MODE: the file changes mode, GET_INFO says so. */
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_SET_MODE, MMAPDEMO_MODE_SIZE_VER0),
			   &(struct mmapdemo_mode){ .mode = MMAPDEMO_MODE_FAULT }));
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &now.info));
	ASSERT_EQ(MMAPDEMO_MODE_FAULT, now.info.mode);

	/* An old GET_PFN: the same PFN as with this header. */
	pfn_now.index = 0;
	ASSERT_EQ(0, ioctl(self->fd, MMAPDEMO_IOC_GET_PFN, &pfn_now));
	memset(pfn_old, 0xa5, sizeof(pfn_old));
	pfn_old[0].index = 0;
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_GET_PFN, MMAPDEMO_PFN_SIZE_VER0), pfn_old));
	ASSERT_EQ(pfn_now.pfn, pfn_old[0].pfn);
	ASSERT_TRUE(sentinel_intact(pfn_old, MMAPDEMO_PFN_SIZE_VER0, sizeof(pfn_old)));
}

/*
 * A caller built against a newer header, with a structure larger than the
 * module's: out, the module writes its fields and zeroes the rest; in, a
 * zero tail is accepted; a non-zero tail (a field the module does not
 * know) is E2BIG and changes nothing.
 */
TEST_F(mmapdemo, ioctl_size_newer_caller)
{
	struct { struct mmapdemo_info info; __u64 tail[4]; } big_info;
	struct { struct mmapdemo_stats st; __u64 tail[4]; } big_stats;
	struct { struct mmapdemo_mode m; __u64 tail[4]; } big_mode;
	struct { struct mmapdemo_pfn p; __u64 tail[4]; } big_pfn;
	struct mmapdemo_info info;
	uint64_t other = MMAPDEMO_MODE_REMAP + MMAPDEMO_MODE_FAULT - variant->mode;
	uint64_t pfn;

	/* Out: this header's fields as they are, the tail zeroed. */
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	memset(&big_info, 0xa5, sizeof(big_info));
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_GET_INFO, sizeof(big_info)), &big_info));
	ASSERT_EQ(0, memcmp(&big_info.info, &info, sizeof(info)));
	ASSERT_EQ(0, big_info.tail[0] | big_info.tail[1] | big_info.tail[2] | big_info.tail[3]);
	memset(&big_stats, 0xa5, sizeof(big_stats));
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_GET_STATS, sizeof(big_stats)), &big_stats));
	ASSERT_EQ(0, big_stats.tail[0] | big_stats.tail[1] | big_stats.tail[2] | big_stats.tail[3]);

	/* In, zero tail: accepted. */
	memset(&big_mode, 0, sizeof(big_mode));
	big_mode.m.mode = MMAPDEMO_MODE_FAULT;
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_SET_MODE, sizeof(big_mode)), &big_mode));
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(MMAPDEMO_MODE_FAULT, info.mode);
	ASSERT_EQ(0, mmapdemo_set_mode(self->fd, variant->mode, 0));
	memset(&big_pfn, 0, sizeof(big_pfn));
	ASSERT_EQ(0, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_GET_PFN, sizeof(big_pfn)), &big_pfn));
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, 0, &pfn));
	ASSERT_EQ(pfn, big_pfn.p.pfn);
	ASSERT_EQ(0, big_pfn.tail[0] | big_pfn.tail[1] | big_pfn.tail[2] | big_pfn.tail[3]);

	/* In, a non-zero byte in the tail: E2BIG, the mode unchanged. */
	memset(&big_mode, 0, sizeof(big_mode));
	big_mode.m.mode = other;
	((unsigned char *)big_mode.tail)[31] = 1;
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_SET_MODE, sizeof(big_mode)), &big_mode));
	ASSERT_EQ(E2BIG, errno);
	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(variant->mode, info.mode);
	memset(&big_pfn, 0, sizeof(big_pfn));
	big_pfn.tail[0] = 1;
	errno = 0;
	ASSERT_EQ(-1, ioctl(self->fd, cmd_size(MMAPDEMO_IOC_GET_PFN, sizeof(big_pfn)), &big_pfn));
	ASSERT_EQ(E2BIG, errno);
	ASSERT_EQ(0, big_pfn.p.pfn);
}

/* GET_INFO's modes: exactly the modes SET_MODE accepts, and sysfs "modes" names. */
TEST_F(mmapdemo, info_modes)
{
	char names[256], want[256] = "";
	struct mmapdemo_info info;
	uint64_t m;
	int fd;

	ASSERT_EQ(0, mmapdemo_get_info(self->fd, &info));
	ASSERT_EQ(0, info.modes >> MMAPDEMO_NR_MODES);
	fd = mmapdemo_open(O_RDWR);
	ASSERT_GE(fd, 0);
	for (m = 0; m < MMAPDEMO_NR_MODES; m++) {
		errno = 0;
		ASSERT_EQ(!(info.modes & (1ULL << m)), !!mmapdemo_set_mode(fd, m, 0))
			TH_LOG("mode %s: %s", mmapdemo_mode_name(m), strerror(errno));
		if (info.modes & (1ULL << m))
			snprintf(want + strlen(want), sizeof(want) - strlen(want), "%s%s",
				 *want ? " " : "", mmapdemo_mode_name(m));
	}
	ASSERT_EQ(0, close(fd));
	ASSERT_LT(0, mmapdemo_sysfs_read("modes", names, sizeof(names)));
	strcat(want, "\n");
	ASSERT_STREQ(want, names);
}

/* The modes sysfs names, as a GET_INFO modes mask (0 when it cannot be read). */
static uint64_t modes_offered(void)
{
	char names[256], *name, *save;
	uint64_t mask = 0, m;

	if (mmapdemo_sysfs_read("modes", names, sizeof(names)) <= 0)
		return 0;
	for (name = strtok_r(names, " \n", &save); name; name = strtok_r(NULL, " \n", &save))
		if (!mmapdemo_mode_parse(name, &m))
			mask |= 1ULL << m;
	return mask;
}

/*
 * The structures the ioctls copy out are written whole: a user buffer
 * pre-filled with 0xa5 holds exactly the expected bytes afterwards, all
 * of them (the structures are __u64 fields only, so there is no padding to
 * leak kernel stack through; the size checks below keep it so), and
 * nothing past the structure is written.
 */
TEST_F(mmapdemo, ioctl_out_fully_written)
{
	struct {
		union {
			struct mmapdemo_info info;
			struct mmapdemo_stats stats;
			struct mmapdemo_pfn pfn;
		};
		unsigned char after[64];
	} out;
	struct counts c = { 0 };
	struct model mdl;
	struct mmapdemo_info want_info;
	struct mmapdemo_stats want_stats;
	struct mmapdemo_pfn want_pfn;
	struct mmapdemo_pagemap pm;
	uint64_t pages, contig;
	volatile char *m;
	int ffd;

	/* No padding: every byte of these is a field. */
	ASSERT_EQ(6 * sizeof(__u64), sizeof(struct mmapdemo_info));
	ASSERT_EQ(9 * sizeof(__u64), sizeof(struct mmapdemo_stats));
	ASSERT_EQ(2 * sizeof(__u64), sizeof(struct mmapdemo_pfn));

	/* GET_INFO against what sysfs and sysconf say. */
	ASSERT_EQ(0, mmapdemo_sysfs_u64("pages", &pages));
	ASSERT_EQ(0, mmapdemo_sysfs_u64("contiguous", &contig));
	memset(&want_info, 0, sizeof(want_info));
	want_info.size = pages * self->page_size;
	want_info.pages = pages;
	want_info.page_size = self->page_size;
	want_info.mode = variant->mode;
	want_info.flags = contig ? MMAPDEMO_INFO_CONTIGUOUS : 0;
	want_info.modes = modes_offered();
	ASSERT_NE(0, want_info.modes);
	sentinel_fill(&out, sizeof(out));
	ASSERT_EQ(0, ioctl(self->fd, MMAPDEMO_IOC_GET_INFO, &out));
	ASSERT_EQ(0, memcmp(&out.info, &want_info, sizeof(want_info)));
	ASSERT_TRUE(sentinel_intact(&out, sizeof(want_info), sizeof(out)));

	/* GET_STATS with nothing mapped after a reset: every byte 0. */
	RESET_STATS(self->fd);
	memset(&want_stats, 0, sizeof(want_stats));
	sentinel_fill(&out, sizeof(out));
	ASSERT_EQ(0, ioctl(self->fd, MMAPDEMO_IOC_GET_STATS, &out));
	ASSERT_EQ(0, memcmp(&out.stats, &want_stats, sizeof(want_stats)));
	ASSERT_TRUE(sentinel_intact(&out, sizeof(want_stats), sizeof(out)));
	/* And with one mapping of 2 pages, one of them touched. */
	NEED_PAGES(2);
	m = map_dev(self->fd, 2, 0, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	MODEL(&mdl, &c, (const void *)m, 0, 2, true);
	(void)m[0];
	model_touch(&mdl, 0, 1, 1, false);
	model_free(&mdl);
	want_stats.faults = c.faults;
	want_stats.fault_pages = c.fault_pages;
	want_stats.huge_faults = c.huge_faults;
	want_stats.mmaps = 1;
	want_stats.vmas = 1;
	want_stats.mapped_pages = 2;
	sentinel_fill(&out, sizeof(out));
	ASSERT_EQ(0, ioctl(self->fd, MMAPDEMO_IOC_GET_STATS, &out));
	ASSERT_EQ(0, memcmp(&out.stats, &want_stats, sizeof(want_stats)));
	ASSERT_TRUE(sentinel_intact(&out, sizeof(want_stats), sizeof(out)));
	ASSERT_EQ(0, munmap((void *)m, 2 * self->page_size));

	/* GET_PFN: the index as given, the PFN pagemap shows for a fault-mode mapping. */
	ffd = mmapdemo_open(O_RDWR);
	ASSERT_GE(ffd, 0);
	ASSERT_EQ(0, mmapdemo_set_mode(ffd, MMAPDEMO_MODE_FAULT, 0));
	m = map_dev(ffd, 1, 1, PROT_READ, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	(void)m[0];
	ASSERT_EQ(0, mmapdemo_pagemap((void *)m, &pm));
	ASSERT_TRUE(pm.present);
	ASSERT_NE(0, pm.pfn);
	want_pfn.index = 1;
	want_pfn.pfn = pm.pfn;
	sentinel_fill(&out, sizeof(out));
	out.pfn.index = 1;
	ASSERT_EQ(0, ioctl(self->fd, MMAPDEMO_IOC_GET_PFN, &out));
	ASSERT_EQ(0, memcmp(&out.pfn, &want_pfn, sizeof(want_pfn)));
	ASSERT_TRUE(sentinel_intact(&out, sizeof(want_pfn), sizeof(out)));
	ASSERT_EQ(0, munmap((void *)m, self->page_size));
	ASSERT_EQ(0, close(ffd));
}

/* GET_PFN needs CAP_SYS_ADMIN: EPERM without it, other ioctls still work. */
TEST_F(mmapdemo, pfn_needs_cap_sys_admin)
{
	uint64_t pfn;
	pid_t pid;

	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, 0, &pfn));
	ASSERT_NE(0, pfn);

	pid = fork();
	ASSERT_GE(pid, 0);
	if (!pid) {
		struct mmapdemo_pfn q = { .index = 0, .pfn = 0x5a5a5a5a };
		struct mmapdemo_info info;

		CHILD_CHECK(drop_cap_sys_admin() == 0);
		errno = 0;
		CHILD_CHECK(ioctl(self->fd, MMAPDEMO_IOC_GET_PFN, &q) == -1);
		CHILD_CHECK(errno == EPERM);
		/* Nothing was copied back: not even a zeroed PFN. */
		CHILD_CHECK(q.pfn == 0x5a5a5a5a);
		CHILD_CHECK(mmapdemo_get_info(self->fd, &info) == 0);
		CHILD_CHECK(info.pages == self->info.pages);
		_exit(0);
	}
	ASSERT_TRUE(child_ok(pid));
}

/* GET_PFN: index < pages; distinct pages have distinct PFNs. */
TEST_F(mmapdemo, pfn_index_bounds)
{
	uint64_t first, last;

	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, 0, &first));
	ASSERT_EQ(0, mmapdemo_get_pfn(self->fd, self->pages - 1, &last));
	if (self->pages > 1) {
		ASSERT_NE(first, last);
	}
	errno = 0;
	ASSERT_EQ(-1, mmapdemo_get_pfn(self->fd, self->pages, &last));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mmapdemo_get_pfn(self->fd, ~0ULL, &last));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, mmapdemo_get_pfn(self->fd, 1ULL << 63, &last));
	ASSERT_EQ(EINVAL, errno);
}

/*
 * The sysfs counters are the ioctl's numbers; sysfs mode ignores SET_MODE.
 * The values are made distinct (mmaps 3, vma_opens 2, vma_closes 1, vmas 4,
 * mapped_pages 9, faults 6 in fault mode), so that a file showing another
 * counter's value fails.
 */
TEST_F(mmapdemo, sysfs_matches_stats)
{
	uint64_t other = IS_FAULT ? MMAPDEMO_MODE_REMAP : MMAPDEMO_MODE_FAULT, val;
	struct mmapdemo_stats st;
	char before[32], after[32];
	const __u64 *counter = &st.faults;
	size_t ps = self->page_size, i;
	char *m, *m2, *m3;

	NEED_PAGES(8);
	RESET_STATS(self->fd);
	m = map_dev(self->fd, 8, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	m2 = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m2);
	m3 = map_dev(self->fd, 1, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m3);
	ASSERT_EQ(0, munmap(m3, ps));
	/* A hole in the middle of m: three VMAs, two vm_ops->open calls. */
	ASSERT_EQ(0, mprotect(m + ps, ps, PROT_READ));
	ASSERT_LE(0, mmapdemo_touch(m, 6, 1, -1));

	ASSERT_EQ(0, mmapdemo_get_stats(self->fd, &st));
	/* batch: windows [0, 1), [1, 2) and [2, 8), clipped to the VMAs. */
	ASSERT_STATS(self->fd, .faults = IS_PER_PAGE ? 6 : IS_BATCH ? 3 : 0,
		     .fault_pages = IS_BATCH ? 8 : IF_LAZY(6), .mmaps = 3, .vma_opens = 2,
		     .vma_closes = 1, .vmas = 4, .mapped_pages = 9);
	for (i = 0; i < NR_STATS; i++) {
		ASSERT_EQ(0, mmapdemo_sysfs_u64(stat_names[i], &val)) TH_LOG("%s", stat_names[i]);
		ASSERT_EQ(counter[i], val) TH_LOG("%s", stat_names[i]);
	}
	ASSERT_LT(0, mmapdemo_sysfs_read("mode", before, sizeof(before)));
	ASSERT_EQ(0, mmapdemo_set_mode(self->fd, other, 0));
	ASSERT_LT(0, mmapdemo_sysfs_read("mode", after, sizeof(after)));
	ASSERT_STREQ(before, after);
	ASSERT_EQ(0, munmap(m, 8 * ps));
	ASSERT_EQ(0, munmap(m2, ps));
}

TEST_HARNESS_MAIN
