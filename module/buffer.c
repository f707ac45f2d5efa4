// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo: the buffer of pages behind /dev/mmapdemo.
 *
 * The buffer is an array of order-0 pages, each holding one reference.
 * It is allocated in physically contiguous chunks of up to
 * MMAPDEMO_CHUNK_ORDER (2 MiB with 4 KiB pages) and every chunk is split
 * into order-0 pages: a .fault handler may then hand any single page to
 * the page tables with get_page(), and a buffer of up to one chunk is
 * physically contiguous, which remap_pfn_range() needs for MAP_PRIVATE.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/highmem.h>
#include <linux/log2.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uio.h>

#include "mmapdemo.h"

/* Largest chunk: 2 MiB, the PMD size on x86-64; valid on every kernel. */
#define MMAPDEMO_CHUNK_ORDER	9

static struct page *mmapdemo_alloc_chunk(unsigned int *order)
{
	struct page *page;

	for (;;) {
		/* Large chunks are a wish, not a need: fail fast, then go smaller. */
		gfp_t gfp = GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN |
			    (*order ? __GFP_NORETRY : __GFP_RETRY_MAYFAIL);

		page = alloc_pages(gfp, *order);
		if (page || !*order)
			return page;
		(*order)--;
	}
}

/**
 * mmapdemo_buf_alloc() - allocate @npages zeroed pages
 * @buf:	the buffer to fill
 * @npages:	its size in pages, at least 1
 *
 * Return: 0, or -ENOMEM with nothing left allocated.
 */
int mmapdemo_buf_alloc(struct mmapdemo_buf *buf, unsigned long npages)
{
	unsigned long got = 0, i;

	buf->pages = kvcalloc(npages, sizeof(*buf->pages), GFP_KERNEL | __GFP_NOWARN);
	if (!buf->pages)
		return -ENOMEM;
	buf->npages = npages;

	while (got < npages) {
		unsigned int order = min_t(unsigned int, MMAPDEMO_CHUNK_ORDER,
					   order_base_2(npages - got));
		struct page *page = mmapdemo_alloc_chunk(&order);

		if (!page) {
			buf->npages = got;
			mmapdemo_buf_free(buf);
			return -ENOMEM;
		}
		/* One struct page per buffer page, each with its own refcount. */
		split_page(page, order);
		for (i = 0; i < (1UL << order); i++) {
			if (got < npages)
				buf->pages[got++] = page + i;
			else
				__free_page(page + i);
		}
		cond_resched();
	}

	buf->contiguous = mmapdemo_buf_run(buf, 0, npages) == npages;
	return 0;
}

void mmapdemo_buf_free(struct mmapdemo_buf *buf)
{
	unsigned long i;

	/*
	 * put_page(), not __free_page(): a page may still be pinned, e.g.
	 * spliced into a pipe from a mapping; it is then freed by the last
	 * put_page() of whoever holds it.
	 */
	for (i = 0; i < buf->npages; i++)
		put_page(buf->pages[i]);
	kvfree(buf->pages);
	buf->pages = NULL;
	buf->npages = 0;
}

/* Return: buffer page @index, or NULL when @index is past the end. */
struct page *mmapdemo_buf_page(const struct mmapdemo_buf *buf, unsigned long index)
{
	return index < buf->npages ? buf->pages[index] : NULL;
}

unsigned long mmapdemo_buf_pfn(const struct mmapdemo_buf *buf, unsigned long index)
{
	return page_to_pfn(buf->pages[index]);
}

/**
 * mmapdemo_buf_run() - length of a physically contiguous run
 * @buf:	the buffer
 * @first:	first page of the run, < npages
 * @count:	at most this many pages, first + count <= npages
 *
 * Return: how many pages from @first on, at most @count, follow each
 * other physically: what one remap_pfn_range() call can map.
 */
unsigned long mmapdemo_buf_run(const struct mmapdemo_buf *buf, unsigned long first,
			       unsigned long count)
{
	unsigned long pfn = mmapdemo_buf_pfn(buf, first), n;

	for (n = 1; n < count; n++)
		if (mmapdemo_buf_pfn(buf, first + n) != pfn + n)
			break;
	return n;
}

/**
 * mmapdemo_buf_aligned_run() - whether one huge entry can map these pages
 * @buf:	the buffer
 * @first:	first page
 * @order:	log2 of the number of pages (PMD_ORDER: 2 MiB on x86-64)
 *
 * A PMD maps 2^@order physically contiguous pages whose first PFN is a
 * multiple of 2^@order. Chunks of MMAPDEMO_CHUNK_ORDER come from the page
 * allocator naturally aligned, but a chunk may be smaller (a fragmented
 * machine) and every later chunk then starts at another buffer index, so
 * each range is checked, not assumed.
 *
 * Return: true when pages @first to @first + 2^@order - 1 exist and are
 * one aligned physically contiguous run.
 */
bool mmapdemo_buf_aligned_run(const struct mmapdemo_buf *buf, unsigned long first,
			      unsigned int order)
{
	unsigned long n = 1UL << order;

	return first < buf->npages && n <= buf->npages - first &&
	       IS_ALIGNED(mmapdemo_buf_pfn(buf, first), n) &&
	       mmapdemo_buf_run(buf, first, n) == n;
}

/*
 * Copy between the buffer and an iov_iter (user memory for read/write),
 * one page at a time. copy_page_from_iter() leaves the rest of the page
 * alone when the user buffer faults: copy_from_user() would zero-fill it,
 * and a write that fails with EFAULT must not change the device.
 * Return: bytes copied; -EFAULT when a fault stopped it before the first.
 */
static ssize_t mmapdemo_buf_copy(const struct mmapdemo_buf *buf, loff_t pos,
				 size_t count, struct iov_iter *iter, bool to_iter)
{
	size_t done = 0;

	while (done < count) {
		struct page *page = buf->pages[pos >> PAGE_SHIFT];
		size_t off = offset_in_page(pos);
		size_t len = min_t(size_t, PAGE_SIZE - off, count - done);
		size_t copied;

		if (to_iter) {
			copied = copy_page_to_iter(page, off, len, iter);
		} else {
			copied = copy_page_from_iter(page, off, len, iter);
			/* User mappings may alias the page in the D-cache. */
			flush_dcache_page(page);
		}
		done += copied;
		pos += copied;
		if (copied < len)
			break;
		cond_resched();
	}
	return done ? done : -EFAULT;
}

/* read(2) at @pos into @to: 0 at or past the end, short at the end. */
ssize_t mmapdemo_buf_read(const struct mmapdemo_buf *buf, struct iov_iter *to, loff_t pos)
{
	loff_t size = mmapdemo_buf_size(buf);
	size_t count = iov_iter_count(to);

	if (pos >= size || !count)
		return 0;
	count = min_t(loff_t, count, size - pos);
	return mmapdemo_buf_copy(buf, pos, count, to, true);
}

/* write(2) at @pos from @from: -ENOSPC at or past the end, truncated at the end. */
ssize_t mmapdemo_buf_write(struct mmapdemo_buf *buf, struct iov_iter *from, loff_t pos)
{
	loff_t size = mmapdemo_buf_size(buf);
	size_t count = iov_iter_count(from);

	if (!count)
		return 0;
	if (pos >= size)
		return -ENOSPC;
	count = min_t(loff_t, count, size - pos);
	return mmapdemo_buf_copy(buf, pos, count, from, false);
}
