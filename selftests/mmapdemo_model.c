// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_model: what each variant maps per fault (mmapdemo_model.h),
 * page by page, for the tests to compare the device's counters and the
 * minor faults with.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mmapdemo_model.h"
#include "mmapdemo_testlib.h"

/* A model of the new mapping @map of @n buffer pages from @first. */
int model_init(struct model *m, struct counts *c, int fd, uint64_t mode, size_t batch,
	       const void *map, uint64_t first, size_t n, bool shared)
{
	size_t ps = mmapdemo_page_size(), i;
	uint64_t pfn;

	*m = (struct model){ .c = c, .mode = mode, .batch = batch, .n = n, .shared = shared,
			     .va = (uintptr_t)map / ps % PMD_PAGES };
	m->state = calloc(n, 1);
	m->pmd = calloc(n, sizeof(*m->pmd));
	if (!m->state || !m->pmd)
		return -1;
	if (mode == MMAPDEMO_MODE_REMAP || mode == MMAPDEMO_MODE_INSERT)
		memset(m->state, 'S', n);
	if (mode != MMAPDEMO_MODE_HUGE || !shared)
		return 0;
	for (i = 0; i + PMD_PAGES <= n; i++) {
		if ((m->va + i) % PMD_PAGES)
			continue;
		if (mmapdemo_get_pfn(fd, first + i, &pfn))
			return -1;
		m->pmd[i] = pfn % PMD_PAGES == 0 && pfn_run(fd, first + i, PMD_PAGES);
	}
	return 0;
}

void model_free(struct model *m)
{
	free(m->state);
	free(m->pmd);
}

/* Blocks one PMD maps in the model's mapping. */
size_t model_pmds(const struct model *m)
{
	size_t i, pmds = 0;

	for (i = 0; i < m->n; i++)
		pmds += m->pmd[i];
	return pmds;
}

/* Touch page @i; returns the minor faults this costs. */
static long model_touch1(struct model *m, size_t i, bool write)
{
	size_t j = (m->va + i) % PMD_PAGES, end;
	bool cow = write && !m->shared;

	if (m->state[i]) {
		if (!cow || m->state[i] == 'P')
			return 0;
		m->state[i] = 'P';
		return 1;
	}
	m->c->faults++;
	/* The 2 MiB block of page i starts at page i - j, if inside the mapping. */
	if (j <= i && m->pmd[i - j]) {
		memset(m->state + i - j, 'S', PMD_PAGES);
		m->c->huge_faults++;
		m->c->fault_pages += PMD_PAGES;
		return 1;
	}
	if (m->mode == MMAPDEMO_MODE_BATCH && !cow) {
		end = i + m->batch < m->n ? i + m->batch : m->n;
		for (j = i; j < end && !m->state[j]; j++) {
			m->state[j] = 'S';
			m->c->fault_pages++;
		}
		return 1;
	}
	m->state[i] = cow ? 'P' : 'S';
	m->c->fault_pages++;
	return 1;
}

/* Touch @count pages from @first, every @stride; returns the minor faults. */
long model_touch(struct model *m, size_t first, size_t count, size_t stride, bool write)
{
	long minflt = 0;
	size_t k;

	for (k = 0; k < count; k++)
		minflt += model_touch1(m, first + k * stride, write);
	return minflt;
}

/* Pages present in the page tables. */
long model_present(const struct model *m)
{
	long n = 0;
	size_t i;

	for (i = 0; i < m->n; i++)
		n += !!m->state[i];
	return n;
}

/* Present pages pagemap and mincore can see: none in a VM_PFNMAP mapping. */
long model_visible(const struct model *m)
{
	if (m->mode == MMAPDEMO_MODE_REMAP || (m->mode == MMAPDEMO_MODE_HUGE && m->shared))
		return 0;
	return model_present(m);
}
