/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmapdemo_model: the fault model of the mmapdemo selftests, shared by
 * every mmapdemo_<area> program. Fault counts of the lazy variants come
 * from it, never from the device itself.
 */
#ifndef MMAPDEMO_MODEL_H
#define MMAPDEMO_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The model: what a first touch costs in each variant, the test's own
 * statement of the design, against which the device's counters and the
 * minor faults are checked exactly.
 *   fault   one .fault and one page per page first touched
 *   remap, insert  every page is present after mmap(): no .fault
 *   batch   a read, or a write to a shared mapping, maps the touched page
 *           and up to batch_pages - 1 after it in one fault, stopping at
 *           the end of the VMA and before the first page already present;
 *           a first write to a private mapping maps (copies) that page only
 *   huge    shared: a touch in a 2 MiB-aligned 2 MiB block of the VMA
 *           whose buffer pages are one aligned physical run (GET_PFN) maps
 *           the whole block with one PMD; anything else one page per fault.
 *           Private: as fault
 * In every variant a write to a private page that maps the device's page
 * copies it: one more minor fault, no .fault.
 */
struct counts {
	uint64_t faults, fault_pages, huge_faults;
};

struct model {
	struct counts *c;	/* summed over the models of a test */
	uint64_t mode;
	size_t batch, n;
	size_t va;		/* virtual page number of the first page, modulo PMD_PAGES */
	bool shared;
	char *state;		/* per page: 0 not present, 'S' device page, 'P' private copy */
	bool *pmd;		/* per page: first page of a block one PMD can map */
};

int model_init(struct model *m, struct counts *c, int fd, uint64_t mode, size_t batch,
	       const void *map, uint64_t first, size_t n, bool shared);
void model_free(struct model *m);
size_t model_pmds(const struct model *m);
long model_touch(struct model *m, size_t first, size_t count, size_t stride, bool write);
long model_present(const struct model *m);
long model_visible(const struct model *m);

#endif /* MMAPDEMO_MODEL_H */
