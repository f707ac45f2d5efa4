# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# mmapdemo_badness.sh: what counts as a kernel report, for the tests in the
# guest (mmapdemo_lib.sh) and for the host's verdict on a VM run
# (scripts/vm.sh): one list for both. Sourced; defines, runs nothing.

# Lines of the kernel log that mean a kernel bug (plus allocation warnings).
# The debug kernel's checkers: KASAN, KFENCE and UBSAN reports, lockdep
# ("possible circular locking dependency", "inconsistent lock state"...;
# their headline is a WARNING:), might_sleep ("BUG: sleeping function
# called from invalid context"). kmemleak is asked explicitly: kmemleak_scan.
# shellcheck disable=SC2034 # used by the scripts that source this file
BADNESS='BUG:|WARNING:|Oops|Call Trace:|RIP:|Kernel panic|general protection fault|kernel BUG at|soft lockup|detected stalls|blocked for more than|refcount_t:|list_add corruption|list_del corruption|UBSAN:|KASAN:|KFENCE:|Bad page|Bad rss-counter|page allocation failure|possible circular locking|possible recursive locking|inconsistent lock state|suspicious RCU usage|sleeping function called'

# Kernel log lines between these two marks (debug.sh writes them to
# /dev/kmsg around fault injection) come from fault injection: there the
# kernel's own allocation-failure reports (warn_alloc: "page allocation
# failure", "vmalloc error: ...", each with a stack dump) are the expected
# outcome of an injected failure, not a bug. Any other report still counts.
INJECT_BEGIN='mmapdemo selftests: fault injection begins'
INJECT_END='mmapdemo selftests: fault injection ends'

# without_injection_noise: stdin to stdout without those expected reports'
# BADNESS lines.
without_injection_noise() {
	awk -v b="$INJECT_BEGIN" -v e="$INJECT_END" '
		index($0, b) { inj = 1 }
		index($0, e) { inj = 0 }
		!(inj && /Call Trace:|RIP:|page allocation failure/)'
}
