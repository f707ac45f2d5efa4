// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo_hold: a helper of mmapdemo.sh, not a test.
 *
 *   mmapdemo_hold --hold [PAGES]
 *
 * Maps PAGES (default 1) pages of /dev/mmapdemo MAP_SHARED, closes the
 * file, touches the pages, prints "ready" and sleeps until SIGTERM, on
 * which it exits 0: meanwhile the module is held by the mapping alone
 * (rmmod must fail).
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
		printf("1..0 # SKIP mmapdemo_hold is a helper of mmapdemo.sh (--hold [PAGES])\n");
		return 4;
	}
	if (strcmp(argv[1], "--hold")) {
		FILE *out = strcmp(argv[1], "--help") ? stderr : stdout;

		fprintf(out, "usage: mmapdemo_hold --hold [PAGES]\n"
			"Maps PAGES (default 1) pages of %s MAP_SHARED, closes the file,\n"
			"touches the pages, prints \"ready\" and sleeps until SIGTERM (exit 0).\n"
			"A helper of selftests/mmapdemo.sh: the mapping alone holds the module.\n",
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
