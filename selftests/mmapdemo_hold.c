// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_hold: a helper of the category scripts (selftests/<category>.sh), not a
 * test.
 *
 *   mmapdemo_hold --hold [PAGES]
 *   mmapdemo_hold --dirty MIB
 *   mmapdemo_hold --list-modes | --list-counters
 *
 * Maps PAGES (default 1) pages of /dev/mmapdemo MAP_SHARED, closes the
 * file, touches the pages, prints "ready" and sleeps until SIGTERM, on
 * which it exits 0: meanwhile the module is held by the mapping alone
 * (rmmod must fail).
 *
 * --dirty fills MIB MiB of anonymous memory with a non-zero pattern and
 * exits: the pages go back to the page allocator with that content (with
 * init_on_free=0), so a module loaded next that forgot __GFP_ZERO hands
 * out visibly stale memory (suite.sh runs it before each load; the
 * test VM boots with init_on_alloc=0 for the same reason).
 *
 * --list-modes and --list-counters print, one a line, the name of every
 * mode and every counter of the uapi header (libmmapdemo has them from it):
 * the category scripts ask these instead of listing them again.
 *
 * Without arguments (e.g. run by a runner that runs every program) it
 * reports a kselftest SKIP and exits 4 at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libmmapdemo.h"

static void on_term(int sig)
{
	(void)sig;
	_exit(0);
}

int main(int argc, char **argv)
{
	size_t pages = 1, ps = mmapdemo_page_size();
	char *m;
	int fd;

	if (argc < 2) {
		printf("1..0 # SKIP mmapdemo_hold is a helper of the selftests' scripts (--help)\n");
		return 4;
	}
	if (argc == 2 && !strcmp(argv[1], "--list-modes")) {
		uint64_t mode;

		for (mode = 0; mmapdemo_mode_name(mode); mode++)
			printf("%s\n", mmapdemo_mode_name(mode));
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "--list-counters")) {
		size_t i;

		for (i = 0; i < mmapdemo_nr_stats; i++)
			printf("%s\n", mmapdemo_stat_name(i));
		return 0;
	}
	if (!strcmp(argv[1], "--dirty") && argc == 3) {
		char *end;
		size_t mib = strtoul(argv[2], &end, 0);

		if (*end || !mib) {
			fprintf(stderr, "mmapdemo_hold: bad MIB '%s' (a positive number)\n", argv[2]);
			return 1;
		}
		m = mmap(NULL, mib << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			fprintf(stderr, "mmapdemo_hold: mmap %zu MiB: %s\n", mib, strerror(errno));
			return 1;
		}
		memset(m, 0xa5, mib << 20);
		return 0;
	}
	if (strcmp(argv[1], "--hold")) {
		FILE *out = strcmp(argv[1], "--help") ? stderr : stdout;

		fprintf(out, "usage: mmapdemo_hold --hold [PAGES] | --dirty MIB | --list-modes | --list-counters\n"
			"Maps PAGES (default 1) pages of %s MAP_SHARED, closes the file,\n"
			"touches the pages, prints \"ready\" and sleeps until SIGTERM (exit 0).\n"
			"A helper of the selftests' scripts: the mapping alone holds the module.\n"
			"--dirty: fill MIB MiB of memory with 0xa5 and exit, so that the next\n"
			"page allocations get stale (non-zero) pages.\n"
			"--list-modes, --list-counters: every mode / counter of the uapi, one a line.\n",
			MMAPDEMO_DEV_PATH);
		return out == stdout ? 0 : 1;
	}
	if (argc > 2) {
		char *end;

		errno = 0;
		pages = strtoul(argv[2], &end, 0);
		if (errno || *end || !pages || argc > 3) {
			fprintf(stderr, "mmapdemo_hold: bad PAGES '%s' (a positive number)\n", argv[2]);
			return 1;
		}
	}
	signal(SIGTERM, on_term);
	fd = mmapdemo_open(O_RDWR);
	if (fd < 0) {
		fprintf(stderr, "mmapdemo_hold: open %s: %s\n", MMAPDEMO_DEV_PATH, strerror(errno));
		return 1;
	}
	m = mmap(NULL, pages * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		fprintf(stderr, "mmapdemo_hold: mmap: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	if (mmapdemo_touch(m, pages, 1, -1) < 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}
