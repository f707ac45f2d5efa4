// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_mremap: what may become of a mapping after mmap(), at the end
 * of the buffer. VM_DONTEXPAND keeps mremap() from growing it while
 * shrinking and moving work (with their vm_ops->open/close); device
 * mappings side by side stay separate VMAs; MMAPDEMO_MODE_EXPANDABLE lets
 * a fault-mode mapping grow (with each kernel line's merging behaviour),
 * and the page past the buffer then raises SIGBUS, counted.
 */
#include <signal.h>
#include <sys/wait.h>

#include "mmapdemo_fixture.h"

/*
 * Map @pages pages of the device at @first with room for @extra more pages
 * of free address space right after the mapping (for mremap() growing in
 * place). Returns the mapping or MAP_FAILED.
 */
static void *map_with_room(int fd, size_t pages, uint64_t first, size_t extra, int flags)
{
	size_t ps = mmapdemo_page_size();
	char *r, *m;

	r = mmap(NULL, (pages + extra) * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return r;
	m = mmap(r, pages * ps, PROT_READ | PROT_WRITE, flags | MAP_FIXED, fd,
		 (off_t)(first * ps));
	if (m == MAP_FAILED) {
		munmap(r, (pages + extra) * ps);
		return m;
	}
	munmap(r + pages * ps, extra * ps);
	return m;
}

/*
 * VM_DONTEXPAND: mremap() may not grow a mapping (EFAULT), in place or
 * moving; shrinking works and splits the VMA (one open, one close).
 */
TEST_F(mmapdemo, mremap_grow_refused)
{
	size_t ps = self->page_size, n = min_sz(self->pages, 4);
	char *m, *r;

	NEED_PAGES(2);
	RESET_STATS(self->fd);
	m = map_with_room(self->fd, 1, 0, 1, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	errno = 0;
	ASSERT_EQ(MAP_FAILED, mremap(m, ps, 2 * ps, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(MAP_FAILED, mremap(m, ps, 2 * ps, MREMAP_MAYMOVE));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 1);
	ASSERT_EQ(0, munmap(m, ps));

	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 30)));
	r = mremap(m, n * ps, (n - 1) * ps, 0);
	ASSERT_EQ(m, r);
	ASSERT_TRUE(page_has(m, tag(0, 30)));
	/* batch: the window ends at the shrunk VMA's end. */
	ASSERT_STATS(self->fd, .faults = IF_LAZY(1), .fault_pages = IS_BATCH ? n - 1 : IF_LAZY(1),
		     .mmaps = 1, .vma_opens = 1, .vma_closes = 1, .vmas = 1, .mapped_pages = n - 1);
	ASSERT_EQ(0, munmap(m, (n - 1) * ps));
	ASSERT_STATS(self->fd, .faults = IF_LAZY(1), .fault_pages = IS_BATCH ? n - 1 : IF_LAZY(1),
		     .mmaps = 1, .vma_opens = 1, .vma_closes = 2);
}

/* mremap() moving a mapping: one open (new VMA), one close (old); data follows. */
TEST_F(mmapdemo, mremap_move)
{
	size_t n = min_sz(self->pages, 2), ps = self->page_size;
	uint64_t *m, *dst, *r;

	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 31)));
	RESET_STATS(self->fd);
	m = map_dev(self->fd, n, 0, PROT_READ | PROT_WRITE, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_TRUE(page_has(m, tag(0, 31)));
	dst = mmap(NULL, n * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, dst);
	r = mremap(m, n * ps, n * ps, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	ASSERT_EQ(dst, r);
	ASSERT_TRUE(page_has(r, tag(0, 31)));
	fill_page(r, tag(0, 32));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 32)));
	/* The PTEs moved with the mapping: no new fault. */
	ASSERT_STATS(self->fd, .faults = IF_LAZY(1), .fault_pages = IS_BATCH ? n : IF_LAZY(1),
		     .mmaps = 1, .vma_opens = 1, .vma_closes = 1, .vmas = 1, .mapped_pages = n);
	ASSERT_EQ(0, munmap(r, n * ps));
	ASSERT_STATS(self->fd, .faults = IF_LAZY(1), .fault_pages = IS_BATCH ? n : IF_LAZY(1),
		     .mmaps = 1, .vma_opens = 1, .vma_closes = 2);
}

/*
 * Map buffer pages n-2 and n-1 side by side in the reserved @room, then
 * try page n (past the end) right after them. Returns the third mmap()'s
 * result; errno is set when it failed.
 */
static char *map_adjacent_three(int fd, char *room, size_t n)
{
	size_t ps = mmapdemo_page_size(), i;
	char *m = MAP_FAILED;

	for (i = 0; i < 3; i++) {
		errno = 0;
		m = mmap(room + i * ps, ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd,
			 (off_t)((n - 2 + i) * ps));
		if (i < 2 && m != room + i * ps)
			return NULL;
	}
	return m;
}

/*
 * Two device mappings side by side, with consecutive file offsets, stay
 * two VMAs, each seen by the driver (counted), and a third one past the
 * end of the buffer is refused: VM_DONTEXPAND (one of VM_SPECIAL, which
 * remap's VM_PFNMAP also is) keeps the kernel from merging them.
 */
TEST_F(mmapdemo, mmap_adjacent)
{
	size_t ps = self->page_size;
	char *room;

	NEED_PAGES(2);
	room = mmap(NULL, 3 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, room);
	RESET_STATS(self->fd);
	ASSERT_EQ(MAP_FAILED, map_adjacent_three(self->fd, room, self->pages))
		TH_LOG("a mapping past the buffer, next to a device VMA, was accepted");
	ASSERT_EQ(EINVAL, errno);
	ASSERT_STATS(self->fd, .mmaps = 2, .vmas = 2, .mapped_pages = 2);
	ASSERT_EQ(0, munmap(room, 3 * ps));
	ASSERT_STATS(self->fd, .mmaps = 2, .vma_closes = 2);
}

/*
 * The same with MMAPDEMO_MODE_EXPANDABLE (fault mode only), whose VMAs
 * lack VM_DONTEXPAND so that mremap() can grow them in place. What the
 * kernel does then differs between the lines, measured:
 *   6.1:  a VMA with vm_ops->close never merges: as above.
 *   6.12: growing in place is a merge, so a new adjacent mapping of the
 *         same file merges into the first VMA before ->mmap() is called:
 *         the driver never sees it (1 mmap, 1 VMA), not even page n past
 *         the buffer, whose first touch the .fault bounds check answers
 *         with SIGBUS: the driver's last line of defence.
 *   7.2:  ->mmap_prepare() is called before the merge: page n is refused,
 *         page n-1 merges (->mapped is not called for a merge).
 * Other lines were not measured and are only logged. mapped_pages is what
 * the driver was told (module/vma.c keeps it in mmap/open/close): a merge
 * it never sees adds nothing.
 */
TEST_F(mmapdemo, mmap_adjacent_expandable)
{
	size_t ps = self->page_size;
	int v = kernel_version(), status;
	char *room, *third;
	pid_t pid;

	NEED_PAGES(2);
	if (!IS_FAULT)
		SKIP(return, "EXPANDABLE is a fault-mode flag");
	ASSERT_EQ(0, mmapdemo_set_mode(self->fd, variant->mode, MMAPDEMO_MODE_EXPANDABLE));
	room = mmap(NULL, 3 * ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, room);
	RESET_STATS(self->fd);
	third = map_adjacent_three(self->fd, room, self->pages);
	ASSERT_NE(NULL, third);
	TH_LOG("kernel %d.%d: page past the end %s", v / 1000, v % 1000,
	       third == MAP_FAILED ? "refused" : "accepted");
	if (v && v <= 6001) {
		ASSERT_EQ(MAP_FAILED, third);
		ASSERT_EQ(EINVAL, errno);
		ASSERT_STATS(self->fd, .mmaps = 2, .vmas = 2, .mapped_pages = 2);
	} else if (v >= 6012 && v < 7002) {
		ASSERT_EQ(room + 2 * ps, third);
		ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 1);
		pid = fork();
		ASSERT_GE(pid, 0);
		if (!pid) {
			(void)*(volatile char *)third;
			_exit(0);
		}
		status = wait_status(pid);
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
		ASSERT_EQ(SIGBUS, WTERMSIG(status));
		ASSERT_STATS(self->fd, .sigbus = 1, .mmaps = 1, .vmas = 1, .mapped_pages = 1,
			     .vma_opens = 1, .vma_closes = 1);
	} else if (v >= 7002) {
		ASSERT_EQ(MAP_FAILED, third);
		ASSERT_EQ(EINVAL, errno);
		ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 1);
	}
	ASSERT_EQ(0, munmap(room, 3 * ps));
}

/*
 * MMAPDEMO_MODE_EXPANDABLE (fault mode): no VM_DONTEXPAND, so mremap()
 * grows the mapping in place and the new page faults in. The driver is not
 * told (no vm_ops hook sees a growth in place): mapped_pages keeps the size
 * it saw, and munmap() of the whole takes exactly that off again.
 * Other modes: the flag is refused (EINVAL), and growing still fails.
 */
TEST_F(mmapdemo, mremap_grow_expandable)
{
	size_t ps = self->page_size;
	char flags[256];
	uint64_t *m, *r;
	int ret;

	NEED_PAGES(2);
	errno = 0;
	ret = mmapdemo_set_mode(self->fd, variant->mode, MMAPDEMO_MODE_EXPANDABLE);
	if (!IS_FAULT) {
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(EINVAL, errno);
		m = map_with_room(self->fd, 1, 0, 1, MAP_SHARED);
		ASSERT_NE(MAP_FAILED, m);
		errno = 0;
		ASSERT_EQ(MAP_FAILED, mremap(m, ps, 2 * ps, 0));
		ASSERT_EQ(EFAULT, errno);
		ASSERT_EQ(0, munmap(m, ps));
		return;
	}
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, dev_fill(self->fd, 1, tag(1, 33)));
	RESET_STATS(self->fd);
	m = map_with_room(self->fd, 1, 0, 1, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(0, mmapdemo_smaps_vmflags(m, flags, sizeof(flags)));
	ASSERT_FALSE(mmapdemo_vmflag(flags, "de"));
	r = mremap(m, ps, 2 * ps, 0);
	ASSERT_EQ(m, r);
	ASSERT_STATS(self->fd, .mmaps = 1, .vmas = 1, .mapped_pages = 1);
	ASSERT_TRUE(page_has(page_ptr(m, 1), tag(1, 33)));
	ASSERT_STATS(self->fd, PAGE_FAULTS(1), .mmaps = 1, .vmas = 1, .mapped_pages = 1);
	ASSERT_EQ(0, munmap(m, 2 * ps));
	ASSERT_STATS(self->fd, PAGE_FAULTS(1), .mmaps = 1, .vma_closes = 1);
}

/*
 * SIGBUS: an expandable fault-mode mapping grown past the end of the
 * buffer; touching the page past the end kills with SIGBUS.
 */
TEST_F_SIGNAL(mmapdemo, sigbus_past_end, SIGBUS)
{
	size_t ps = self->page_size;
	volatile char *m;

	if (IS_REMAP)
		SKIP(return, "SIGBUS past the end needs a growable (fault mode) mapping");
	ASSERT_EQ(0, mmapdemo_set_mode(self->fd, MMAPDEMO_MODE_FAULT, MMAPDEMO_MODE_EXPANDABLE));
	m = map_with_room(self->fd, 1, self->pages - 1, 1, MAP_SHARED);
	ASSERT_NE(MAP_FAILED, m);
	ASSERT_EQ(m, mremap((void *)m, ps, 2 * ps, 0));
	(void)m[0];
	(void)m[ps];		/* past the buffer: SIGBUS */
	TH_LOG("no SIGBUS from the page past the end");
}

/*
 * The same, counted: a child reads the last page (1 fault), then touches
 * past the end (shared and private): SIGBUS each time, stats.sigbus 2.
 */
TEST_F(mmapdemo, sigbus_counted)
{
	size_t ps = self->page_size;
	int i, status;

	if (IS_REMAP)
		SKIP(return, "SIGBUS past the end needs a growable (fault mode) mapping");
	RESET_STATS(self->fd);
	for (i = 0; i < 2; i++) {
		int flags = i ? MAP_PRIVATE : MAP_SHARED;
		pid_t pid = fork();

		ASSERT_GE(pid, 0);
		if (!pid) {
			volatile char *m;
			int fd = mmapdemo_open(O_RDWR);

			CHILD_CHECK(fd >= 0);
			CHILD_CHECK(mmapdemo_set_mode(fd, MMAPDEMO_MODE_FAULT,
						      MMAPDEMO_MODE_EXPANDABLE) == 0);
			m = map_with_room(fd, 1, self->pages - 1, 1, flags);
			CHILD_CHECK(m != MAP_FAILED);
			CHILD_CHECK(mremap((void *)m, ps, 2 * ps, 0) == m);
			(void)m[0];
			if (i)
				m[ps] = 1;
			else
				(void)m[ps];
			_exit(0);
		}
		status = wait_status(pid);
		ASSERT_TRUE(WIFSIGNALED(status)) TH_LOG("child status %#x", status);
		ASSERT_EQ(SIGBUS, WTERMSIG(status));
	}
	ASSERT_STATS(self->fd, PAGE_FAULTS(2), .sigbus = 2, .mmaps = 2, .vma_closes = 2);
}

TEST_HARNESS_MAIN
