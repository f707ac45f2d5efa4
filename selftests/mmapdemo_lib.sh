# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# mmapdemo_lib.sh: definitions shared by mmapdemo.sh and mmapdemo_fuzz.sh
# (sourced; defines, runs nothing).

# Lines of the kernel log that mean a kernel bug (plus allocation warnings).
# The debug kernel's checkers: KASAN, KFENCE and UBSAN reports, lockdep
# ("possible circular locking dependency", "inconsistent lock state"...;
# their headline is a WARNING:), might_sleep ("BUG: sleeping function
# called from invalid context"). kmemleak is asked explicitly: kmemleak_scan.
# shellcheck disable=SC2034 # used by the scripts that source this file
BADNESS='BUG:|WARNING:|Oops|Call Trace:|RIP:|Kernel panic|general protection fault|kernel BUG at|soft lockup|detected stalls|blocked for more than|refcount_t:|list_add corruption|list_del corruption|UBSAN:|KASAN:|KFENCE:|Bad page|Bad rss-counter|page allocation failure|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called'

KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak_clear: forget what kmemleak suspects now (boot-time objects are
# not ours); no-op without kmemleak.
kmemleak_clear() {
	[ -w $KMEMLEAK ] || return 0
	echo scan >$KMEMLEAK && echo clear >$KMEMLEAK
}

# kmemleak_scan FILE: scan for leaks and write kmemleak's report to FILE.
# 0 nothing suspected, 1 leaks (FILE has them), 4 no kmemleak (kernel without
# CONFIG_DEBUG_KMEMLEAK, or debugfs not mounted).
kmemleak_scan() {
	: >"$1"
	[ -w $KMEMLEAK ] || return 4
	# An object is reported only after 5 s unreferenced, and only if two
	# scans agree (Documentation/dev-tools/kmemleak.rst).
	sleep 6
	echo scan >$KMEMLEAK && echo scan >$KMEMLEAK || return 1
	cat $KMEMLEAK >"$1"
	[ ! -s "$1" ]
}

# kmemleak_test WHEN: one TAP result "kmemleak: no leak suspected WHEN",
# with kmemleak's report as "# " lines; SKIP without kmemleak. Uses the
# caller's ok, not_ok, skip and $tmp.
# shellcheck disable=SC2154 # $tmp is the caller's
kmemleak_test() {
	kmemleak_scan "$tmp/leaks"
	case $? in
	0) ok "kmemleak: no leak suspected $1" ;;
	4) skip "kmemleak: no $KMEMLEAK (kernel without CONFIG_DEBUG_KMEMLEAK)" ;;
	*)
		head -n 100 "$tmp/leaks" | sed 's/^/# kmemleak: /'
		not_ok "kmemleak: no leak suspected $1 # $(grep -c '^unreferenced object' "$tmp/leaks") objects suspected"
		;;
	esac
}

# Kernel log lines between these two marks (mmapdemo.sh writes them to
# /dev/kmsg around mmapdemo_failinit) come from fault injection: there the
# kernel's own allocation-failure reports (warn_alloc: "page allocation
# failure", "vmalloc error: ...", each with a stack dump) are the expected
# outcome of an injected failure, not a bug. Any other report still counts.
INJECT_BEGIN='mmapdemo.sh: fault injection begins'
INJECT_END='mmapdemo.sh: fault injection ends'

# without_injection_noise: stdin to stdout without those expected reports'
# BADNESS lines.
without_injection_noise() {
	awk -v b="$INJECT_BEGIN" -v e="$INJECT_END" '
		index($0, b) { inj = 1 }
		index($0, e) { inj = 0 }
		!(inj && /Call Trace:|RIP:|page allocation failure/)'
}
