// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_testlib: helpers shared by the mmapdemo_<area> selftests (see
 * mmapdemo_testlib.h). None of them asserts: each returns what it found,
 * and the test decides.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mmapdemo_testlib.h"

const char *const stat_names[] = {
	"faults", "sigbus", "mmaps", "vma_opens", "vma_closes", "vmas", "mapped_pages",
	"huge_faults", "fault_pages",
};
_Static_assert(sizeof(stat_names) / sizeof(stat_names[0]) == NR_STATS,
	       "stat_names names every field of struct mmapdemo_stats");

/* The smaller of two sizes. */
size_t min_sz(size_t a, size_t b)
{
	return a < b ? a : b;
}

/* A recognisable, nonzero word for buffer page @index; @salt tells writers apart. */
uint64_t tag(uint64_t index, uint64_t salt)
{
	return (salt << 40) ^ (index << 8) ^ 0xa5;
}

/* Fill one page with the pattern of @t: word i is t + i. */
void fill_page(void *page, uint64_t t)
{
	uint64_t *w = page;
	size_t i;

	for (i = 0; i < mmapdemo_page_size() / sizeof(*w); i++)
		w[i] = t + i;
}

/* Whether one page holds the pattern of @t (fill_page()). */
bool page_has(const void *page, uint64_t t)
{
	const uint64_t *w = page;
	size_t i;

	for (i = 0; i < mmapdemo_page_size() / sizeof(*w); i++)
		if (w[i] != t + i)
			return false;
	return true;
}

/*
 * @len bytes of a byte pattern for @salt, as it stands at byte offset @off
 * of the buffer: any slice of it, across page borders too, can be checked.
 */
void fill_bytes(void *to, size_t len, uint64_t off, unsigned int salt)
{
	unsigned char *p = to;
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (unsigned char)((off + i) * 7 + salt * 31 + 1);
}

/* Whether @len bytes at @p hold fill_bytes(@off, @salt). */
bool bytes_have(const void *p, size_t len, uint64_t off, unsigned int salt)
{
	unsigned char want[4096];
	size_t done, n;

	for (done = 0; done < len; done += n) {
		n = min_sz(len - done, sizeof(want));
		fill_bytes(want, n, off + done, salt);
		if (memcmp((const char *)p + done, want, n))
			return false;
	}
	return true;
}

/* Write buffer page @index with write(2): the device's own content. */
int dev_fill(int fd, uint64_t index, uint64_t t)
{
	size_t ps = mmapdemo_page_size();
	uint64_t page[ps / sizeof(uint64_t)];

	fill_page(page, t);
	return pwrite(fd, page, ps, (off_t)(index * ps)) == (ssize_t)ps ? 0 : -1;
}

/* Whether buffer page @index holds the pattern of @t, read with read(2). */
bool dev_has(int fd, uint64_t index, uint64_t t)
{
	size_t ps = mmapdemo_page_size();
	uint64_t page[ps / sizeof(uint64_t)];

	if (pread(fd, page, ps, (off_t)(index * ps)) != (ssize_t)ps)
		return false;
	return page_has(page, t);
}

/* Word @word of buffer page @index, read with read(2); 0 on error. */
uint64_t dev_word(int fd, uint64_t index, size_t word)
{
	uint64_t w = 0;

	if (pread(fd, &w, sizeof(w), (off_t)(index * mmapdemo_page_size() + word * 8)) != 8)
		return 0;
	return w;
}

/* mmap() @pages buffer pages from page @first of the device; MAP_FAILED on error. */
void *map_dev(int fd, size_t pages, uint64_t first, int prot, int flags)
{
	size_t ps = mmapdemo_page_size();

	return mmap(NULL, pages * ps, prot, flags, fd, (off_t)(first * ps));
}

/* Page @i of the mapping (or buffer) @map, as words. */
uint64_t *page_ptr(void *map, size_t i)
{
	return (uint64_t *)((char *)map + i * mmapdemo_page_size());
}

/* Whether buffer pages [first, first + n) follow each other physically. */
bool pfn_run(int fd, uint64_t first, size_t n)
{
	uint64_t pfn0, pfn;
	size_t i;

	if (mmapdemo_get_pfn(fd, first, &pfn0))
		return false;
	for (i = 1; i < n; i++)
		if (mmapdemo_get_pfn(fd, first + i, &pfn) || pfn != pfn0 + i)
			return false;
	return true;
}

/* First index i with pfn(i + 1) != pfn(i) + 1, or -1 if none or on error. */
int64_t pfn_discontinuity(int fd, uint64_t pages)
{
	uint64_t i, prev, pfn;

	if (mmapdemo_get_pfn(fd, 0, &prev))
		return -1;
	for (i = 1; i < pages; i++) {
		if (mmapdemo_get_pfn(fd, i, &pfn))
			return -1;
		if (pfn != prev + 1)
			return (int64_t)i - 1;
		prev = pfn;
	}
	return -1;
}

/* Compare the device's counters with @want (ANY: not checked); log mismatches. */
bool stats_match(int fd, int line, struct mmapdemo_stats want)
{
	struct mmapdemo_stats got;
	const __u64 *w = &want.faults, *g = &got.faults;
	bool ok = true;
	size_t i;

	if (mmapdemo_get_stats(fd, &got)) {
		fprintf(stderr, "# line %d: MMAPDEMO_IOC_GET_STATS: %s\n", line, strerror(errno));
		return false;
	}
	for (i = 0; i < NR_STATS; i++) {
		if (w[i] != ANY && w[i] != g[i]) {
			fprintf(stderr, "# line %d: stats.%s is %llu, expected %llu\n", line,
				stat_names[i], (unsigned long long)g[i], (unsigned long long)w[i]);
			ok = false;
		}
	}
	return ok;
}

/* waitpid() status of @pid, or -1. */
int wait_status(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return status;
}

/* Whether child @pid exited with status 0 (reaped); else say how it ended. */
bool child_ok(pid_t pid)
{
	int status = wait_status(pid);

	if (status < 0) {
		fprintf(stderr, "# child %d: waitpid: %s\n", (int)pid, strerror(errno));
		return false;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "# child %d: status %#x\n", (int)pid, status);
		return false;
	}
	return true;
}

/* Pipe handshake, one byte per step: send one step on the write end @fd. */
int step_send(int fd)
{
	return write(fd, "x", 1) == 1 ? 0 : -1;
}

/* Wait for one step (step_send()) on the read end @fd. */
int step_wait(int fd)
{
	char c;

	return read(fd, &c, 1) == 1 ? 0 : -1;
}

/* Lines of the kernel log that contain @what, or -1. */
long klog_count(const char *what)
{
	int size = klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
	char *buf, *p, *nl;
	long count = 0;
	int len;

	if (size <= 0)
		return -1;
	buf = malloc(size + 1);
	if (!buf)
		return -1;
	len = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, size);
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = '\0';
	for (p = buf; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		if (memmem(p, nl - p, what, strlen(what)))
			count++;
		if (!*nl)
			break;
	}
	free(buf);
	return count;
}

/* Lines of the kernel log from the module ("mmapdemo: ..."), or -1. */
long klog_lines(void)
{
	return klog_count(MODULE_NAME ":");
}

/* Drop CAP_SYS_ADMIN from this process's effective set; 0 once it is gone. */
int drop_cap_sys_admin(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -1;
	data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective &= ~CAP_TO_MASK(CAP_SYS_ADMIN);
	if (syscall(SYS_capset, &hdr, data))
		return -1;
	if (syscall(SYS_capget, &hdr, data))
		return -1;
	return data[CAP_TO_INDEX(CAP_SYS_ADMIN)].effective & CAP_TO_MASK(CAP_SYS_ADMIN) ? -1 : 0;
}

/* The running kernel's version as major * 1000 + minor (6.12 -> 6012). */
int kernel_version(void)
{
	struct utsname u;
	int major = 0, minor = 0;

	if (uname(&u) || sscanf(u.release, "%d.%d", &major, &minor) != 2)
		return 0;
	return major * 1000 + minor;
}

/* A module parameter of mmapdemo (/sys/module/mmapdemo/parameters/NAME). */
int module_param_u64(const char *name, uint64_t *val)
{
	char path[256];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "/sys/module/%s/parameters/%s", MODULE_NAME, name);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fscanf(f, "%" SCNu64, val) == 1;
	fclose(f);
	return ok ? 0 : -1;
}

/*
 * Open the device for a test: the file, or -1 with the reason to skip in
 * @why. The tests need root (GET_PFN, pagemap's PFNs, delete_module) and
 * the module loaded; without either every test skips, none fails.
 */
int device_open(int flags, char *why, size_t size)
{
	int fd;

	if (geteuid() != 0) {
		snprintf(why, size, "needs root (GET_PFN, pagemap PFNs, delete_module)");
		errno = EPERM;
		return -1;
	}
	fd = mmapdemo_open(flags);
	if (fd < 0)
		snprintf(why, size, "cannot open %s: %s (is %s.ko loaded?)", MMAPDEMO_DEV_PATH,
			 strerror(errno), MODULE_NAME);
	return fd;
}

/*
 * Give the device node to group @gid, mode 0660, as udev/60-mmapdemo.rules
 * does; save in @was what it was (node_restore() puts it back, even after
 * a half-done change).
 */
int node_open_to_group(gid_t gid, struct node_state *was)
{
	struct stat sb;

	if (stat(MMAPDEMO_DEV_PATH, &sb))
		return -1;
	was->uid = sb.st_uid;
	was->gid = sb.st_gid;
	was->mode = sb.st_mode & 07777;
	was->saved = true;
	if (chown(MMAPDEMO_DEV_PATH, 0, gid) || chmod(MMAPDEMO_DEV_PATH, 0660))
		return -1;
	return 0;
}

/* Put the node's owner and mode back as node_open_to_group() found them. */
int node_restore(struct node_state *was)
{
	if (!was->saved)
		return 0;
	if (chown(MMAPDEMO_DEV_PATH, was->uid, was->gid) || chmod(MMAPDEMO_DEV_PATH, was->mode)) {
		fprintf(stderr, "# could not restore %s: %s\n", MMAPDEMO_DEV_PATH, strerror(errno));
		return -1;
	}
	was->saved = false;
	return 0;
}
