// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_rw: the device as a file, without mmap(): read() and write()
 * at the edges of the buffer and at the largest offsets the VFS lets
 * through, readv()/writev() across a page boundary, bad user pointers
 * (EFAULT or a partial count, nothing changed beyond it), and llseek() of
 * a fixed-size file.
 */
#include <sys/uio.h>

#include "mmapdemo_fixture.h"

/* NULL, hidden from the compiler's nonnull checks. */
static void *volatile null_ptr;

/*
 * Positions the VFS refuses before the driver (negative, or pos + count
 * past LLONG_MAX: EINVAL), and the largest it lets through: read 0 and
 * write ENOSPC, with nothing overflowing in the driver's arithmetic.
 */
TEST_F(mmapdemo, read_write_huge_offset)
{
	char buf[16] = "0123456789abcdef";
	const off_t max = 0x7fffffffffffffffLL;

	errno = 0;
	ASSERT_EQ(-1, pread(self->fd, buf, 1, -1));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(self->fd, buf, 1, -(off_t)self->page_size));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pread(self->fd, buf, sizeof(buf), max - 3));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, pwrite(self->fd, buf, sizeof(buf), max - 3));
	ASSERT_EQ(EINVAL, errno);

	ASSERT_EQ(0, pread(self->fd, buf, 1, max - 1));
	ASSERT_EQ(0, pread(self->fd, buf, sizeof(buf), max - (off_t)sizeof(buf)));
	ASSERT_EQ(-1, pwrite(self->fd, buf, 1, max - 1));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(-1, pwrite(self->fd, buf, sizeof(buf), max - (off_t)sizeof(buf)));
	ASSERT_EQ(ENOSPC, errno);
	/* A file position there, through lseek: the same. */
	ASSERT_EQ(max - 1, lseek(self->fd, max - 1, SEEK_SET));
	ASSERT_EQ(0, read(self->fd, buf, 1));
	ASSERT_EQ(-1, write(self->fd, buf, 1));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(max - 1, lseek(self->fd, 0, SEEK_CUR));
}

/* llseek: a fixed-size file; SEEK_END is the size, past the end is allowed. */
TEST_F(mmapdemo, llseek_fixed_size)
{
	off_t size = (off_t)self->info.size;

	ASSERT_EQ(size, lseek(self->fd, 0, SEEK_END));
	ASSERT_EQ(size - 10, lseek(self->fd, -10, SEEK_END));
	ASSERT_EQ(size - 5, lseek(self->fd, 5, SEEK_CUR));
	ASSERT_EQ(size + 4096 * 3, lseek(self->fd, size + 4096 * 3, SEEK_SET));
	ASSERT_EQ(size * 2, lseek(self->fd, size, SEEK_END));
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	errno = 0;
	ASSERT_EQ(-1, lseek(self->fd, -1, SEEK_SET));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, lseek(self->fd, -size - 1, SEEK_END));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_CUR));
}

/*
 * read/write at the edges: 0 at/past the end for read, ENOSPC for write,
 * truncated across the end, a 0-byte write returns 0, position advances.
 */
TEST_F(mmapdemo, read_write_bounds)
{
	off_t size = (off_t)self->info.size;
	char in[64], out[64];
	size_t i;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 7 + 1);

	ASSERT_EQ(0, pread(self->fd, in, sizeof(in), size));
	ASSERT_EQ(0, pread(self->fd, in, sizeof(in), size + 12345));
	errno = 0;
	ASSERT_EQ(-1, pwrite(self->fd, out, 1, size));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(-1, pwrite(self->fd, out, sizeof(out), size + 12345));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, pwrite(self->fd, out, 0, size));
	ASSERT_EQ(0, pwrite(self->fd, out, 0, size + 12345));

	/* Across the end: truncated to what fits. */
	ASSERT_EQ(10, pwrite(self->fd, out, 20, size - 10));
	memset(in, 0, sizeof(in));
	ASSERT_EQ(10, pread(self->fd, in, 20, size - 10));
	ASSERT_EQ(0, memcmp(in, out, 10));

	/* Unaligned, across a page boundary (when there is one). */
	if (self->pages > 1) {
		ASSERT_EQ(6, pwrite(self->fd, out + 3, 6, (off_t)self->page_size - 3));
		ASSERT_EQ(6, pread(self->fd, in, 6, (off_t)self->page_size - 3));
		ASSERT_EQ(0, memcmp(in, out + 3, 6));
	}

	/* read()/write() move the file position. */
	ASSERT_EQ(size - 4, lseek(self->fd, size - 4, SEEK_SET));
	ASSERT_EQ(4, write(self->fd, out, 8));
	ASSERT_EQ(size, lseek(self->fd, 0, SEEK_CUR));
	errno = 0;
	ASSERT_EQ(-1, write(self->fd, out, 8));
	ASSERT_EQ(ENOSPC, errno);
	ASSERT_EQ(0, write(self->fd, out, 0));
	ASSERT_EQ(0, read(self->fd, in, 8));
	ASSERT_EQ(size, lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ(size - 4, lseek(self->fd, -4, SEEK_END));
	ASSERT_EQ(4, read(self->fd, in, 8));
	ASSERT_EQ(0, memcmp(in, out, 4));
	ASSERT_EQ(size, lseek(self->fd, 0, SEEK_CUR));
}

/*
 * readv/writev (read_iter/write_iter): the segments land back to back,
 * across a page boundary, and the file position moves by the total.
 */
TEST_F(mmapdemo, read_write_vectored)
{
	char a[5] = "abcde", b[7] = "fghijkl", in[12], c[3], d[9];
	struct iovec wv[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct iovec rv[2] = { { c, sizeof(c) }, { d, sizeof(d) } };
	off_t pos = self->pages > 1 ? (off_t)self->page_size - 6 : 0;

	ASSERT_EQ(pos, lseek(self->fd, pos, SEEK_SET));
	ASSERT_EQ(12, writev(self->fd, wv, 2));
	ASSERT_EQ(pos + 12, lseek(self->fd, 0, SEEK_CUR));
	ASSERT_EQ(12, pread(self->fd, in, sizeof(in), pos));
	ASSERT_EQ(0, memcmp(in, "abcdefghijkl", 12));

	ASSERT_EQ(pos, lseek(self->fd, pos, SEEK_SET));
	ASSERT_EQ(12, readv(self->fd, rv, 2));
	ASSERT_EQ(0, memcmp(c, "abc", 3));
	ASSERT_EQ(0, memcmp(d, "defghijkl", 9));
	ASSERT_EQ(pos + 12, lseek(self->fd, 0, SEEK_CUR));
}

/*
 * A bad user pointer: EFAULT when nothing was copied, the partial count
 * otherwise; bytes not reported as written are left as they were.
 */
TEST_F(mmapdemo, read_write_bad_pointer)
{
	size_t ps = self->page_size;
	char *region;

	NEED_PAGES(2);
	/* One accessible page, then a PROT_NONE one. */
	region = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, region);
	ASSERT_EQ(0, mprotect(region + ps, ps, PROT_NONE));

	ASSERT_EQ(0, dev_fill(self->fd, 0, tag(0, 1)));
	ASSERT_EQ(0, dev_fill(self->fd, 1, tag(1, 1)));

	errno = 0;
	ASSERT_EQ(-1, pread(self->fd, region + ps, ps, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_EQ(-1, pread(self->fd, null_ptr, 16, 0));
	ASSERT_EQ(EFAULT, errno);
	errno = 0;
	ASSERT_EQ(-1, pwrite(self->fd, region + ps, ps, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 1)))
		TH_LOG("a write that failed with EFAULT changed the buffer");
	ASSERT_EQ(-1, pwrite(self->fd, null_ptr, 16, 0));
	ASSERT_EQ(EFAULT, errno);
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 1)));

	/* Partial: the first page copies, the second faults. */
	ASSERT_EQ(0, lseek(self->fd, 0, SEEK_SET));
	ASSERT_EQ((ssize_t)ps, read(self->fd, region, 2 * ps));
	ASSERT_EQ((off_t)ps, lseek(self->fd, 0, SEEK_CUR));
	ASSERT_TRUE(page_has(region, tag(0, 1)));

	fill_page(region, tag(0, 2));
	ASSERT_EQ((ssize_t)ps, pwrite(self->fd, region, 2 * ps, 0));
	ASSERT_TRUE(dev_has(self->fd, 0, tag(0, 2)));
	ASSERT_TRUE(dev_has(self->fd, 1, tag(1, 1)))
		TH_LOG("write returned %zu but changed the page after those bytes", ps);

	ASSERT_EQ(0, munmap(region, 2 * ps));
}

TEST_HARNESS_MAIN
