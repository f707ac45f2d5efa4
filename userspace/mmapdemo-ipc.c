// SPDX-License-Identifier: GPL-2.0
/*
 * mmapdemo-ipc: two processes talk through one shared page.
 *
 * Part A: two UNRELATED processes, "ping" and "pong", each open
 * /dev/mmapdemo and mmap() the same buffer page MAP_SHARED. They share no
 * memory by inheritance: this program runs itself twice with fork() +
 * execv("/proc/self/exe", "--role=..."), so each role starts from a fresh
 * address space. They exchange messages through a small protocol struct at
 * the start of the page, in both mapping modes (fault and remap).
 *
 *   1./2. the exchange, in mode fault and in mode remap
 *   3.    why the roles poll: a futex or a POSIX semaphore in this mapping
 *         does not work (tried, errno shown)
 *   4.    a peer that never answers: a timeout, exit status 1
 *
 * Part B: the same exchange over an anonymous MAP_SHARED mapping inherited
 * across fork(), and MAP_PRIVATE|MAP_ANONYMOUS, which does not share.
 *
 * The protocol: ping owns the page. It clears the magic, writes the
 * fields, then publishes IPC_MAGIC with a release store; pong polls for
 * the magic with acquire loads and, like a seqlock reader, checks that the
 * magic and ping's pid did not change while it read the fields (a page
 * left by an earlier, killed ping may be re-initialised under it). Pong
 * claims the session with a compare-and-swap of its pid, writes its own
 * fields, then says hello with a release store. Message k is written (text,
 * sender pid) BEFORE the sender stores seq = k with release; the receiver
 * waits until an acquire load of seq returns k and only THEN reads the
 * text. Without that pairing the reader could see seq = k before the text
 * (the compiler and the CPU may reorder plain stores and loads), i.e. a
 * half-written or old message.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "libmmapdemo.h"

#define PROG		"mmapdemo-ipc"
#define IPC_MAGIC	0x31435049u	/* "IPC1" */
#define POLL_NS		100000L		/* 100 us between two looks */
#define TEXT_MAX	160
#define MAX_MESSAGES	100

enum role { PING, PONG };
static const char *const role_names[] = { "ping", "pong" };

/*
 * The protocol state at the start of the shared page. The _Atomic words
 * are the only ones two processes touch concurrently; the plain fields are
 * written before a release store and read after the matching acquire load.
 */
struct ipc_page {
	_Atomic uint32_t magic;		/* IPC_MAGIC: ping initialised the rest */
	_Atomic uint32_t seq;		/* messages published; nmsgs + 1: last one read */
	_Atomic uint32_t pong_pid;	/* 0 until a pong claims the session */
	_Atomic uint32_t hello;		/* 1: pong's fields are written */
	_Atomic uint32_t ping_pid;	/* the session: a new ping, a new pid */
	_Atomic uint32_t nmsgs;		/* how many messages (ping decides) */
	uint32_t from_pid;		/* sender of the message in text[] */
	uint64_t addr[2];		/* where ping / pong map the page */
	uint64_t pfn[2];		/* their pagemap PFN (0: unknown) */
	char text[TEXT_MAX];
};

_Static_assert(sizeof(struct ipc_page) <= 4096, "ipc_page must fit in a page");

static const char usage[] =
	"usage: " PROG " [--mode=fault|remap|both] [--page=N] [--messages=N] [--timeout=SEC]\n"
	"       " PROG " --role=ping|pong [--mode=fault|remap] [--page=N] [--messages=N] [--timeout=SEC]\n"
	"\n"
	"Two unrelated processes (ping and pong, each started with execv) map the\n"
	"same page of " MMAPDEMO_DEV_PATH " MAP_SHARED and exchange messages through it,\n"
	"synchronised with C11 acquire/release atomics and polling; then the same\n"
	"over anonymous shared memory across fork(). Load mmapdemo.ko first; run\n"
	"as root to see PFNs. Overwrites the start of the buffer page it uses.\n"
	"\n"
	"  --mode=M       mapping mode for part A: fault, remap or both (default both;\n"
	"                 with --role: fault)\n"
	"  --page=N       buffer page to talk through (default 1, or 0 for a 1-page buffer)\n"
	"  --messages=N   messages to exchange, 1-100 (default 5; ping decides)\n"
	"  --timeout=SEC  give up waiting for the peer after SEC seconds, 1-600\n"
	"                 (default 5); then exit status 1\n"
	"  --role=R       run only one side: ping or pong. Start the two by hand in\n"
	"                 two terminals, in any order, e.g.\n"
	"                   " PROG " --role=pong --timeout=60\n"
	"                   " PROG " --role=ping\n"
	"  -h, --help     this text\n";

static char who[48];		/* "[ping 123]": prefix of a role's lines */
static size_t ps;
static int anon_shared_step;	/* the step that shows anonymous MAP_SHARED */

static pid_t xfork(void)
{
	pid_t pid = mmapdemo_fork();

	if (pid < 0)
		mmapdemo_die("fork");
	return pid;
}

/* A line of one role, "  [ping 123] ...". */
#define say(fmt, ...)	printf("  %s " fmt "\n", who, ##__VA_ARGS__)

/* ------------------------------------------------------------ waiting */

static struct timespec deadline_in(int secs)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += secs;
	return t;
}

static bool past(const struct timespec *deadline)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec > deadline->tv_sec ||
	       (t.tv_sec == deadline->tv_sec && t.tv_nsec >= deadline->tv_nsec);
}

/*
 * Sleep a little between two looks at a shared word. A futex would let the
 * kernel wake us instead, but step 3 shows it cannot work on this mapping.
 */
static void nap(void)
{
	struct timespec t = { 0, POLL_NS };

	nanosleep(&t, NULL);
}

/* Poll until an acquire load of *word returns @want; false on timeout. */
static bool wait_for(_Atomic uint32_t *word, uint32_t want, int secs)
{
	struct timespec deadline = deadline_in(secs);

	while (atomic_load_explicit(word, memory_order_acquire) != want) {
		if (past(&deadline))
			return false;
		nap();
	}
	return true;
}

/* PFN of the page at @addr (0: not present, or hidden when not root). */
static uint64_t pagemap_pfn(const void *addr, bool *file)
{
	struct mmapdemo_pagemap pm;

	if (mmapdemo_pagemap(addr, &pm))
		mmapdemo_die("/proc/self/pagemap");
	if (file)
		*file = pm.file;
	return pm.pfn;
}

/* ------------------------------------------------------------ one side */

/* One side of the conversation. */
struct peer {
	enum role role;
	struct ipc_page *pg;
	int fd;			/* the device, or -1 for anonymous memory */
	uint64_t page;		/* device: buffer page number */
	uint64_t mode;		/* device: MMAPDEMO_MODE_* */
	int timeout;
	long first_minflt;	/* minor faults of the first touch */
};

static void set_who(enum role role)
{
	snprintf(who, sizeof(who), "[%s %d]", role_names[role], (int)getpid());
	mmapdemo_set_tag(who);
}

/*
 * First touch of the freshly mapped page (one read), counting this
 * process's minor faults: 1 in mode fault, 0 in mode remap.
 */
static void peer_touch(struct peer *p)
{
	p->first_minflt = mmapdemo_touch(p->pg, 1, 1, -1);
	if (p->first_minflt < 0)
		mmapdemo_die("touch");
}

/*
 * Print where this process sees the page: its maps line and, when the page
 * walkers can see it, its PFN. Returns the PFN (0: unknown).
 */
static uint64_t show_mapping(struct peer *p)
{
	struct mmapdemo_pagemap pm;
	char line[512];
	uint64_t dev_pfn = 0;
	bool root_pfn;

	if (!mmapdemo_maps_line(p->pg, line, sizeof(line)))
		say("/proc/self/maps: %s", line);
	if (p->fd >= 0) {
		bool fault = p->mode == MMAPDEMO_MODE_FAULT;

		say("first touch of the page (a read): %ld minor fault(s) in this process", p->first_minflt);
		if (p->first_minflt != (fault ? 1 : 0))
			mmapdemo_unexpected("expected %d minor fault(s) in mode %s", fault ? 1 : 0,
					    mmapdemo_mode_name(p->mode));
		root_pfn = !mmapdemo_get_pfn(p->fd, p->page, &dev_pfn);
		if (!root_pfn && errno != EPERM)
			mmapdemo_die("MMAPDEMO_IOC_GET_PFN");
		fflush(stdout);
		if (mmapdemo_print_grid(stdout, p->fd, p->pg, 1, p->page) < 0)
			mmapdemo_die("page-state grid");
		if (mmapdemo_is_pfnmap(p->pg)) {
			if (root_pfn)
				say("remap_pfn_range() put PFN 0x%" PRIx64 " (buffer page %" PRIu64 ") in this page table at mmap()",
				    dev_pfn, p->page);
			else
				say("remap_pfn_range() put buffer page %" PRIu64 " in this page table at mmap() (PFN hidden: not root)",
				    p->page);
			return 0;
		}
	}
	if (p->fd < 0) {
		/* Anonymous memory, in a parent or a forked child. */
		bool file;
		uint64_t pfn = pagemap_pfn(p->pg, &file);

		if (pfn)
			say("pagemap: PFN 0x%" PRIx64 "%s", pfn, file ? " (a shmem page, not anonymous)" : "");
		else
			say("pagemap: PFN hidden (not root)");
		return pfn;
	}
	if (mmapdemo_pagemap(p->pg, &pm))
		mmapdemo_die("/proc/self/pagemap");
	if (!pm.present) {
		mmapdemo_unexpected("pagemap: the page is not present after touching it");
		return 0;
	}
	if (!pm.pfn) {
		say("pagemap: present (PFN hidden: not root)");
		return 0;
	}
	say("pagemap: PFN 0x%" PRIx64 ", MMAPDEMO_IOC_GET_PFN of buffer page %" PRIu64 ": 0x%" PRIx64 "%s",
	    pm.pfn, p->page, dev_pfn, pm.pfn == dev_pfn ? " (the device's own page)" : "");
	if (pm.pfn != dev_pfn)
		mmapdemo_unexpected("this process maps PFN 0x%" PRIx64 ", not the device's page", pm.pfn);
	return pm.pfn;
}

/* The device's VMA count, with the other side mapped too: 2. */
static void check_vmas(struct peer *p)
{
	struct mmapdemo_stats st;

	if (p->fd < 0)
		return;
	mmapdemo_xget_stats(p->fd, &st);
	say("device counters: %llu VMAs exist now (one in ping, one in pong)",
	    (unsigned long long)st.vmas);
	if (st.vmas != 2)
		mmapdemo_unexpected("the device counts %llu VMAs, expected 2 (another process has it mapped?)",
				    (unsigned long long)st.vmas);
}

static void format_message(char *buf, uint32_t k, enum role from, uint32_t from_pid,
			   uint32_t to_pid)
{
	snprintf(buf, TEXT_MAX, "message %" PRIu32 ": %s (pid %" PRIu32 ") to %s (pid %" PRIu32 ")",
		 k, role_names[from], from_pid, role_names[!from], to_pid);
}

/*
 * Messages 1..nmsgs, ping sends the odd ones, pong the even ones; the
 * receiver of the last one acknowledges it with seq = nmsgs + 1.
 */
static int exchange(struct peer *p, uint32_t nmsgs, uint32_t peer_pid)
{
	struct ipc_page *pg = p->pg;
	uint32_t me = (uint32_t)getpid(), k, from;
	char text[TEXT_MAX], want[TEXT_MAX];
	enum role sender;

	for (k = 1; k <= nmsgs; k++) {
		sender = k % 2 ? PING : PONG;
		if (sender == p->role) {
			/* The peer has read message k - 1 (it answered it). */
			if (!wait_for(&pg->seq, k - 1, p->timeout))
				goto timeout;
			format_message(text, k, p->role, me, peer_pid);
			say("-> %s", text);
			fflush(stdout);
			/* First the payload, with plain stores... */
			memcpy(pg->text, text, TEXT_MAX);
			pg->from_pid = me;
			/* ...then publish it: no store above may pass this one. */
			atomic_store_explicit(&pg->seq, k, memory_order_release);
		} else {
			if (!wait_for(&pg->seq, k, p->timeout))
				goto timeout;
			/* The acquire load saw k: the payload is complete. */
			memcpy(text, pg->text, TEXT_MAX);
			text[TEXT_MAX - 1] = '\0';
			from = pg->from_pid;
			say("<- got #%" PRIu32 " from pid %" PRIu32 " (I am pid %" PRIu32 "): \"%s\"",
			    k, from, me, text);
			format_message(want, k, sender, peer_pid, me);
			if (from != peer_pid || strcmp(text, want))
				mmapdemo_unexpected("message %" PRIu32 " should be \"%s\" from pid %" PRIu32,
						    k, want, peer_pid);
		}
	}
	/*
	 * The last receiver says "read it"; the last sender waits for that
	 * and has the last word (so the two outputs never interleave).
	 */
	k = nmsgs + 1;
	if ((nmsgs % 2 ? PING : PONG) == p->role) {
		if (!wait_for(&pg->seq, k, p->timeout))
			goto timeout;
		say("seq = %" PRIu32 ": pid %" PRIu32 " read the last message; done", k, peer_pid);
	} else {
		say("acknowledging the last message: seq = %" PRIu32 " (release)", k);
		fflush(stdout);
		atomic_store_explicit(&pg->seq, k, memory_order_release);
	}
	return 0;
timeout:
	mmapdemo_error("timeout: seq never became %" PRIu32 " (peer pid %" PRIu32 ") within %d s",
		       k, peer_pid, p->timeout);
	return 1;
}

/* Ping owns the page: it (re)initialises the protocol state. */
static int ping(struct peer *p, uint32_t nmsgs)
{
	struct ipc_page *pg = p->pg;
	struct timespec deadline;
	uint32_t pong_pid;
	int ret;

	set_who(PING);
	/*
	 * Invalidate first, and fence (a seqlock writer), so that a pong that
	 * sees any field written below also sees the magic cleared.
	 */
	atomic_store_explicit(&pg->magic, 0, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&pg->seq, 0, memory_order_relaxed);
	atomic_store_explicit(&pg->pong_pid, 0, memory_order_relaxed);
	atomic_store_explicit(&pg->hello, 0, memory_order_relaxed);
	atomic_store_explicit(&pg->nmsgs, nmsgs, memory_order_relaxed);
	pg->from_pid = 0;
	pg->addr[0] = (uintptr_t)pg;
	pg->addr[1] = 0;
	pg->pfn[1] = 0;
	memset(pg->text, 0, TEXT_MAX);
	say("I map the page at %p", (void *)pg);
	pg->pfn[0] = show_mapping(p);
	say("initialised the protocol page (seq 0, %" PRIu32 " message%s), publishing the magic",
	    nmsgs, nmsgs == 1 ? "" : "s");
	fflush(stdout);
	/* ping_pid last: a pong that reads this pid also reads the fields above. */
	atomic_store_explicit(&pg->ping_pid, (uint32_t)getpid(), memory_order_release);
	atomic_store_explicit(&pg->magic, IPC_MAGIC, memory_order_release);

	/* Wait for pong's hello; its fields are written before it. */
	deadline = deadline_in(p->timeout);
	while (!atomic_load_explicit(&pg->hello, memory_order_acquire)) {
		if (past(&deadline)) {
			mmapdemo_error("timeout: no pong said hello within %d s", p->timeout);
			ret = 1;
			goto out;
		}
		nap();
	}
	pong_pid = atomic_load_explicit(&pg->pong_pid, memory_order_relaxed);
	say("pong (pid %" PRIu32 ") said hello; it maps the same page at 0x%" PRIx64 ", I at %p%s",
	    pong_pid, pg->addr[1], (void *)pg,
	    pg->addr[1] != (uintptr_t)pg ? "" :
	    p->fd < 0 ? " (inherited across fork)" : " (the same address by chance)");
	if (pg->pfn[0] && pg->pfn[1])
		say("both page tables point at PFN 0x%" PRIx64 " (pong) and 0x%" PRIx64 " (ping)%s",
		    pg->pfn[1], pg->pfn[0], pg->pfn[0] == pg->pfn[1] ? ": one physical page" : "");
	if (pg->pfn[0] && pg->pfn[1] && pg->pfn[0] != pg->pfn[1])
		mmapdemo_unexpected("ping and pong map different physical pages");
	check_vmas(p);
	ret = exchange(p, nmsgs, pong_pid);
out:
	/* Close the session: a late pong must not join it. */
	atomic_store_explicit(&pg->magic, 0, memory_order_release);
	fflush(stdout);
	return ret;
}

static bool alive(pid_t pid)
{
	return pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
}

/* Pong waits for a live ping's magic, then says hello. */
static int pong(struct peer *p)
{
	struct ipc_page *pg = p->pg;
	struct timespec deadline = deadline_in(p->timeout);
	uint32_t zero = 0, ping_pid, nmsgs;
	uint64_t pfn;

	set_who(PONG);
	/*
	 * A page left by an earlier run may still hold the magic: accept
	 * it only when nobody answered it yet and its ping is alive.
	 */
	for (;;) {
		if (atomic_load_explicit(&pg->magic, memory_order_acquire) == IPC_MAGIC &&
		    !atomic_load_explicit(&pg->pong_pid, memory_order_relaxed)) {
			ping_pid = atomic_load_explicit(&pg->ping_pid, memory_order_acquire);
			nmsgs = atomic_load_explicit(&pg->nmsgs, memory_order_relaxed);
			/* Seqlock reader: the session did not change while we read. */
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&pg->magic, memory_order_acquire) == IPC_MAGIC &&
			    atomic_load_explicit(&pg->ping_pid, memory_order_relaxed) == ping_pid &&
			    alive((pid_t)ping_pid))
				break;
		}
		if (past(&deadline)) {
			mmapdemo_error("timeout: no ping initialised the page within %d s",
				       p->timeout);
			return 1;
		}
		nap();
	}
	say("found ping's magic: ping is pid %" PRIu32 ", %" PRIu32 " message%s", ping_pid, nmsgs,
	    nmsgs == 1 ? "" : "s");
	say("I map the page at %p", (void *)pg);
	pfn = show_mapping(p);
	check_vmas(p);
	say("saying hello (claiming the session with my pid, then a release store)");
	fflush(stdout);
	if (!atomic_compare_exchange_strong_explicit(&pg->pong_pid, &zero, (uint32_t)getpid(),
						     memory_order_relaxed, memory_order_relaxed)) {
		mmapdemo_error("another pong (pid %" PRIu32 ") answered first", zero);
		return 1;
	}
	/* Only the pong that claimed the session writes its fields. */
	pg->addr[1] = (uintptr_t)pg;
	pg->pfn[1] = pfn;
	atomic_store_explicit(&pg->hello, 1, memory_order_release);
	return exchange(p, nmsgs, ping_pid);
}

/* The buffer page to talk through: --page, else 1 (0 for a 1-page buffer). */
static uint64_t buffer_page(const struct mmapdemo_info *info, uint64_t page, bool page_set)
{
	if (!page_set)
		return info->pages > 1 ? 1 : 0;
	if (page >= info->pages)
		mmapdemo_usage_error(PROG, "--page=%" PRIu64 ": the buffer has only %llu pages",
				     page, (unsigned long long)info->pages);
	return page;
}

/* --role=ping|pong: open and map the device ourselves, then talk. */
static int run_role(enum role role, uint64_t mode, uint64_t page, bool page_set,
		    uint32_t nmsgs, int timeout)
{
	struct mmapdemo_info info;
	struct peer p = { .role = role, .mode = mode, .timeout = timeout };
	int ret;

	set_who(role);
	p.fd = mmapdemo_demo_open(&info);
	ps = info.page_size;
	p.page = buffer_page(&info, page, page_set);
	mmapdemo_xset_mode(p.fd, mode);
	p.pg = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, p.fd, (off_t)(p.page * ps),
			      MMAPDEMO_DEV_PATH);
	peer_touch(&p);
	ret = role == PING ? ping(&p, nmsgs) : pong(&p);
	mmapdemo_xmunmap(p.pg, ps);
	close(p.fd);
	return ret || mmapdemo_nr_unexpected ? 1 : 0;
}

/* ------------------------------------------------------------ orchestration */

static int dev_fd = -1;
static uint64_t the_page;

static void show_stats(const char *when, struct mmapdemo_stats *st)
{
	mmapdemo_xget_stats(dev_fd, st);
	printf("  device counters %s:\n", when);
	mmapdemo_print_stats(stdout, st);
}

/* fork + execv("/proc/self/exe", "--role=..."): a fresh address space. */
static pid_t spawn_role(enum role role, uint64_t mode, uint32_t nmsgs, int timeout)
{
	char a_role[32], a_mode[32], a_page[48], a_msgs[32], a_timeout[32];
	char *argv[] = { PROG, a_role, a_mode, a_page, a_msgs, a_timeout, NULL };
	pid_t pid;

	snprintf(a_role, sizeof(a_role), "--role=%s", role_names[role]);
	snprintf(a_mode, sizeof(a_mode), "--mode=%s", mmapdemo_mode_name(mode));
	snprintf(a_page, sizeof(a_page), "--page=%" PRIu64, the_page);
	snprintf(a_msgs, sizeof(a_msgs), "--messages=%" PRIu32, nmsgs);
	snprintf(a_timeout, sizeof(a_timeout), "--timeout=%d", timeout);
	pid = xfork();
	if (!pid) {
		execv("/proc/self/exe", argv);
		mmapdemo_error("execv /proc/self/exe: %s", strerror(errno));
		_exit(127);
	}
	return pid;
}

/*
 * Wait for @pid until @deadline, then kill it (this one child, by pid).
 * Returns the wait status, or -1 when it had to be killed.
 */
static int reap(pid_t pid, const struct timespec *deadline)
{
	int status;
	pid_t r;

	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			mmapdemo_die("waitpid");
		if (past(deadline)) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		nap();
	}
}

static const char *describe_status(int status, char *buf, size_t size)
{
	if (status < 0)
		snprintf(buf, size, "hung, killed");
	else if (WIFEXITED(status))
		snprintf(buf, size, "exit status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(buf, size, "status 0x%x", status);
	return buf;
}

static bool exited_ok(int status)
{
	return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void step_device_exchange(uint64_t mode, uint32_t nmsgs, int timeout)
{
	const char *name = mmapdemo_mode_name(mode);
	bool fault = mode == MMAPDEMO_MODE_FAULT;
	struct mmapdemo_stats before, after;
	struct timespec deadline;
	pid_t ping_pid, pong_pid;
	int ping_st, pong_st;
	char s1[64], s2[64];

	mmapdemo_step("Two unrelated processes share buffer page %" PRIu64 " (mode %s)", the_page,
		      name);
	mmapdemo_doing("fork + execv(/proc/self/exe) twice: --role=ping and --role=pong; each opens " MMAPDEMO_DEV_PATH ", mmaps one page MAP_SHARED, and they take turns");
	if (mmapdemo_reset_stats(dev_fd))
		mmapdemo_die("MMAPDEMO_IOC_RESET_STATS");
	show_stats("before (reset)", &before);
	ping_pid = spawn_role(PING, mode, nmsgs, timeout);
	pong_pid = spawn_role(PONG, mode, nmsgs, timeout);
	deadline = deadline_in(timeout * 3 + 5);
	ping_st = reap(ping_pid, &deadline);
	pong_st = reap(pong_pid, &deadline);
	printf("  ping (pid %d): %s; pong (pid %d): %s\n", (int)ping_pid,
	       describe_status(ping_st, s1, sizeof(s1)), (int)pong_pid,
	       describe_status(pong_st, s2, sizeof(s2)));
	show_stats("after both exited", &after);
	if (!exited_ok(ping_st) || !exited_ok(pong_st))
		mmapdemo_unexpected("a role failed (see its output above)");
	if (after.mmaps != 2 || after.vma_opens != 0 || after.vma_closes != 2 ||
	    after.vmas != before.vmas)
		mmapdemo_unexpected("expected 2 mmaps, 0 vma_opens, 2 vma_closes and %llu VMAs left",
				    (unsigned long long)before.vmas);
	if (after.faults != (fault ? 2 : 0))
		mmapdemo_unexpected("expected %d .fault calls in mode %s, the device counted %llu",
				    fault ? 2 : 0, name, (unsigned long long)after.faults);
	if (exited_ok(ping_st) && exited_ok(pong_st))
		printf("  %s: ping (pid %d) and pong (pid %d) exchanged %" PRIu32
		       " messages through buffer page %" PRIu64 ": %llu .fault calls, %llu mmaps\n",
		       name, (int)ping_pid, (int)pong_pid, nmsgs, the_page,
		       (unsigned long long)after.faults, (unsigned long long)after.mmaps);
	if (fault)
		mmapdemo_why("each process has its own page table and its own VMA, so each faulted the one shared page in once (2 .fault calls); the kernel page behind both is the same, so a store by one is a load away for the other.");
	else
		mmapdemo_why("remap_pfn_range() wrote the same PFN into each process's page table at mmap() (0 .fault calls), so both address the same physical page from different virtual addresses.");
}

static long futex_wait(void *addr, uint32_t val, int op)
{
	struct timespec t = { 0, 1000000 };	/* 1 ms */

	return syscall(SYS_futex, addr, op, val, &t, NULL, 0);
}

/* Try FUTEX_WAIT (shared and private) on @word; report what happened. */
static void probe_futex(const char *what, _Atomic uint32_t *word, int want_shared)
{
	uint32_t val = atomic_load(word);
	int e_shared, e_private;

	/* Same value as the word: a working futex sleeps until the timeout. */
	e_shared = futex_wait(word, val, FUTEX_WAIT) ? errno : 0;
	e_private = futex_wait(word, val, FUTEX_WAIT_PRIVATE) ? errno : 0;
	printf("  %s: FUTEX_WAIT -> %s, FUTEX_WAIT_PRIVATE -> %s\n", what,
	       e_shared ? strerrorname_np(e_shared) : "0", e_private ? strerrorname_np(e_private) : "0");
	if (e_shared != want_shared)
		mmapdemo_unexpected("FUTEX_WAIT on the %s gave %s, expected %s", what,
				    e_shared ? strerrorname_np(e_shared) : "0", strerrorname_np(want_shared));
	if (e_private != ETIMEDOUT)
		mmapdemo_unexpected("FUTEX_WAIT_PRIVATE on the %s gave %s, expected ETIMEDOUT", what,
				    e_private ? strerrorname_np(e_private) : "0");
}

/*
 * A process-shared POSIX semaphore in the mapping: sem_timedwait() on a
 * zero semaphore must block, i.e. FUTEX_WAIT. Done in a child, because
 * glibc treats EFAULT from the futex as a bug and aborts. Returns the
 * child's wait status; its stderr goes to @err.
 */
static int probe_sem(void *where, char *err, size_t errsize)
{
	int pipefd[2], status;
	ssize_t n, len = 0;
	pid_t pid;

	if (pipe(pipefd))
		mmapdemo_die("pipe");
	pid = xfork();
	if (!pid) {
		struct rlimit nocore = { 0, 0 };
		struct timespec t;
		sem_t *sem = where;

		setrlimit(RLIMIT_CORE, &nocore);
		dup2(pipefd[1], STDERR_FILENO);
		close(pipefd[0]);
		if (sem_init(sem, 1, 0))
			_exit(4);
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 50000000;	/* 50 ms */
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		if (sem_timedwait(sem, &t) == 0)
			_exit(5);
		_exit(errno == ETIMEDOUT ? 3 : 6);
	}
	close(pipefd[1]);
	while ((size_t)len < errsize - 1 &&
	       (n = read(pipefd[0], err + len, errsize - 1 - len)) > 0)
		len += n;
	err[len] = '\0';
	err[strcspn(err, "\n")] = '\0';
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		mmapdemo_die("waitpid");
	return status;
}

static void step_why_polling(const uint64_t *modes, int nmodes)
{
	struct mmapdemo_info info;
	char err[256], s[64];
	uint64_t mode;
	void *m;
	int i, st;

	mmapdemo_step("Why the roles poll instead of sleeping on a futex or a semaphore");
	mmapdemo_doing("FUTEX_WAIT (1 ms timeout) on a word of the device mapping and of an anonymous shared one; a process-shared sem_timedwait() in a child");
	if (mmapdemo_get_info(dev_fd, &info))
		mmapdemo_die("MMAPDEMO_IOC_GET_INFO");
	for (i = 0; i < nmodes; i++) {
		char what[64];

		mode = modes[i];
		mmapdemo_xset_mode(dev_fd, mode);
		m = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED, dev_fd,
				   (off_t)(the_page * ps), MMAPDEMO_DEV_PATH);
		memset(m, 0, 64);	/* fault it in; the old protocol state goes */
		snprintf(what, sizeof(what), "device mapping, mode %s", mmapdemo_mode_name(mode));
		probe_futex(what, m, EFAULT);
		st = probe_sem((char *)m + 64, err, sizeof(err));
		printf("  %s: sem_timedwait() on a 0 semaphore: child %s\n", what,
		       describe_status(st, s, sizeof(s)));
		if (err[0])
			printf("    child's stderr: %s\n", err);
		if (!(st >= 0 && WIFSIGNALED(st) && WTERMSIG(st) == SIGABRT))
			mmapdemo_unexpected("expected glibc to abort the child on the futex's EFAULT");
		mmapdemo_xmunmap(m, ps);
	}
	mmapdemo_xset_mode(dev_fd, info.mode);

	m = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0,
			   "anonymous shared memory");
	memset(m, 0, 64);
	probe_futex("anonymous MAP_SHARED", m, ETIMEDOUT);
	{
		struct timespec t;
		int r, e;

		if (sem_init((sem_t *)((char *)m + 64), 1, 0))
			mmapdemo_die("sem_init");
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_sec += 1;		/* only the result matters: wait at most 1 s */
		t.tv_nsec = 0;
		r = sem_timedwait((sem_t *)((char *)m + 64), &t);
		e = r ? errno : 0;
		printf("  anonymous MAP_SHARED: sem_timedwait() on a 0 semaphore -> %s\n",
		       e ? strerrorname_np(e) : "0");
		if (e != ETIMEDOUT)
			mmapdemo_unexpected("expected sem_timedwait to time out on anonymous shared memory");
		sem_destroy((sem_t *)((char *)m + 64));
	}
	mmapdemo_xmunmap(m, ps);
	mmapdemo_why("the kernel keys a shared futex by the page's owner (inode and offset of a page-cache or shmem page; mm and address of an anonymous one), found through get_user_pages(): a device page has no page->mapping (fault) or cannot be pinned at all (remap, VM_PFNMAP), hence EFAULT, on which glibc's semaphore aborts, while a private futex is keyed by this mm and cannot be woken from another process: so the roles poll, with a short nanosleep.");
}

static void step_timeout(int timeout)
{
	struct timespec deadline;
	uint32_t magic = 1;
	pid_t pid;
	int st;
	char s[64];
	const int t = 1;

	mmapdemo_step("A peer that never answers");
	mmapdemo_doing("start --role=ping alone with --timeout=1: nobody says hello");
	pid = spawn_role(PING, MMAPDEMO_MODE_FAULT, 1, t);
	deadline = deadline_in(t + timeout + 5);
	st = reap(pid, &deadline);
	printf("  ping alone (pid %d): %s after its %d s timeout\n", (int)pid,
	       describe_status(st, s, sizeof(s)), t);
	if (pread(dev_fd, &magic, sizeof(magic), (off_t)(the_page * ps)) != sizeof(magic))
		mmapdemo_die("pread");
	printf("  the magic word of buffer page %" PRIu64 " reads 0x%" PRIx32 " (read())\n",
	       the_page, magic);
	if (!(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 1))
		mmapdemo_unexpected("expected ping to give up with exit status 1");
	if (magic != 0)
		mmapdemo_unexpected("ping should have cleared the magic on its way out");
	mmapdemo_why("every wait has a deadline, so a dead or absent peer costs a few seconds and exit status 1, never a hang; ping clears the magic so that a late pong does not join a dead session.");
}

/* ------------------------------------------------------------ part B */

static void step_anon_shared(uint32_t nmsgs, int timeout)
{
	struct peer parent = { .role = PING, .fd = -1, .timeout = timeout };
	struct timespec deadline;
	char line[512], s[64];
	pid_t pid;
	int st, ret;

	anon_shared_step = mmapdemo_step("Part B: the same exchange over anonymous MAP_SHARED memory, across fork()");
	mmapdemo_doing("mmap(MAP_SHARED | MAP_ANONYMOUS) one page, fork(): the child is pong, the parent ping");
	parent.pg = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0,
				   "anonymous shared memory");
	if (!mmapdemo_maps_line(parent.pg, line, sizeof(line)))
		printf("  /proc/self/maps: %s\n", line);
	pid = xfork();
	if (!pid) {
		struct peer child = parent;

		child.role = PONG;
		set_who(PONG);
		peer_touch(&child);
		ret = pong(&child);
		fflush(stdout);
		_exit(ret || mmapdemo_nr_unexpected ? 1 : 0);
	}
	set_who(PING);
	peer_touch(&parent);
	ret = ping(&parent, nmsgs);
	who[0] = '\0';
	deadline = deadline_in(timeout + 5);
	st = reap(pid, &deadline);
	printf("  pong (child pid %d): %s\n", (int)pid, describe_status(st, s, sizeof(s)));
	if (ret || !exited_ok(st))
		mmapdemo_unexpected("the exchange over anonymous shared memory failed");
	else
		printf("  anonymous MAP_SHARED across fork: %" PRIu32 " messages delivered between parent %d and child %d\n",
		       nmsgs, (int)getpid(), (int)pid);
	mmapdemo_xmunmap(parent.pg, ps);
	mmapdemo_why("the child inherits the VMA, and MAP_SHARED|MAP_ANONYMOUS is backed by one shmem object, so both page tables end at the same page, exactly as with the device, and the same acquire/release protocol works.");
}

static void step_anon_private(void)
{
	static const char before[] = "parent's text", after[] = "child's text";
	uint64_t pfn;
	char *m, s[64];
	pid_t pid;
	int st;

	mmapdemo_step("Part B: MAP_PRIVATE | MAP_ANONYMOUS across fork() does NOT share");
	mmapdemo_doing("the parent writes a text, forks; the child overwrites it and exits; the parent reads");
	m = mmapdemo_xmmap(ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0,
			   "anonymous private memory");
	memcpy(m, before, sizeof(before));
	pfn = pagemap_pfn(m, NULL);
	if (pfn)
		printf("  parent (pid %d): \"%s\" at %p, PFN 0x%" PRIx64 "\n", (int)getpid(), m,
		       (void *)m, pfn);
	else
		printf("  parent (pid %d): \"%s\" at %p\n", (int)getpid(), m, (void *)m);
	pid = xfork();
	if (!pid) {
		uint64_t child_pfn;

		memcpy(m, after, sizeof(after));
		child_pfn = pagemap_pfn(m, NULL);
		if (child_pfn)
			printf("  child (pid %d): wrote \"%s\" at %p, now PFN 0x%" PRIx64 "%s\n",
			       (int)getpid(), m, (void *)m, child_pfn,
			       child_pfn != pfn ? " (its own copy)" : "");
		else
			printf("  child (pid %d): wrote \"%s\" at %p\n", (int)getpid(), m, (void *)m);
		if (child_pfn && child_pfn == pfn)
			mmapdemo_unexpected("the child's write did not copy the page");
		fflush(stdout);
		_exit(mmapdemo_nr_unexpected ? 1 : 0);
	}
	if (waitpid(pid, &st, 0) != pid)
		mmapdemo_die("waitpid");
	printf("  child: %s; the parent reads \"%s\" at the same address\n",
	       describe_status(st, s, sizeof(s)), m);
	if (!exited_ok(st) || strcmp(m, before))
		mmapdemo_unexpected("the child's write to a MAP_PRIVATE page leaked into the parent");
	else
		printf("  MAP_PRIVATE across fork: the child's write is invisible to the parent (MAP_SHARED: visible, step %d)\n",
		       anon_shared_step);
	mmapdemo_xmunmap(m, ps);
	mmapdemo_why("fork() marks private pages copy-on-write in both processes, so the child's store made it a copy of its own; only MAP_SHARED mappings (of a device, a file or shmem) are a channel.");
}

/* ------------------------------------------------------------ main */

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "page", required_argument, NULL, 'p' },
		{ "messages", required_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ "role", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	const unsigned int two = MMAPDEMO_MODE_BIT(MMAPDEMO_MODE_FAULT) |
				 MMAPDEMO_MODE_BIT(MMAPDEMO_MODE_REMAP);
	int nmodes = 0, timeout = 5, role = -1, c, i;
	bool mode_set = false, page_set = false;
	unsigned int chosen = two;
	struct mmapdemo_info info;
	uint64_t modes[2], m;
	uint32_t nmsgs = 5;
	char defmode[32] = "?\n";

	setvbuf(stdout, NULL, _IOLBF, 0);
	mmapdemo_program(PROG, usage);
	while ((c = mmapdemo_getopt(argc, argv, "h", opts)) != -1) {
		switch (c) {
		case 'm':
			chosen = mmapdemo_parse_modes("--mode", optarg, two);
			mode_set = true;
			break;
		case 'p':
			the_page = mmapdemo_parse_u64("--page", optarg, 0, UINT64_MAX);
			page_set = true;
			break;
		case 'n':
			nmsgs = (uint32_t)mmapdemo_parse_u64("--messages", optarg, 1, MAX_MESSAGES);
			break;
		case 't':
			timeout = (int)mmapdemo_parse_u64("--timeout", optarg, 1, 600);
			break;
		case 'r':
			if (!strcmp(optarg, "ping"))
				role = PING;
			else if (!strcmp(optarg, "pong"))
				role = PONG;
			else
				mmapdemo_usage_error(PROG, "--role: '%s' is not ping or pong", optarg);
			break;
		}
	}
	for (m = 0; m < MMAPDEMO_NR_MODES; m++)
		if (chosen & MMAPDEMO_MODE_BIT(m))
			modes[nmodes++] = m;
	if (role >= 0) {
		if (mode_set && nmodes != 1)
			mmapdemo_usage_error(PROG, "--role needs one mode, not 'both'");
		return run_role(role, mode_set ? modes[0] : MMAPDEMO_MODE_FAULT, the_page,
				page_set, nmsgs, timeout);
	}

	dev_fd = mmapdemo_demo_open(&info);
	ps = info.page_size;
	the_page = buffer_page(&info, the_page, page_set);
	mmapdemo_sysfs_read("mode", defmode, sizeof(defmode));
	printf("mmapdemo-ipc: sharing memory between processes, %s, module default mode=%s",
	       MMAPDEMO_DEV_PATH, defmode);
	mmapdemo_print_info(stdout, &info);
	printf("  talking through buffer page %" PRIu64 "%s, %" PRIu32 " messages, %d s timeout; %s\n",
	       the_page, page_set ? "" : (info.pages > 1 ? " (--page)" : " (the only page)"),
	       nmsgs, timeout, geteuid() ? "not root: PFNs hidden" : "root: PFNs shown");
	printf("  protocol: ping initialises the page and publishes a magic word; pong waits for\n"
	       "  it and says hello; message k is written first, then seq = k is stored with\n"
	       "  release; the reader waits (polling, 100 us naps) for an acquire load of k\n");

	printf("\nPart A: unrelated processes, each with its own open and mmap of %s\n",
	       MMAPDEMO_DEV_PATH);
	for (i = 0; i < nmodes; i++)
		step_device_exchange(modes[i], nmsgs, timeout);
	step_why_polling(modes, nmodes);
	step_timeout(timeout);

	printf("\nPart B: related processes, memory inherited across fork()\n");
	step_anon_shared(nmsgs, timeout);
	step_anon_private();

	close(dev_fd);
	return mmapdemo_finish();
}
