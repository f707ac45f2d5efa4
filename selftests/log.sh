#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# log.sh: the kernel's own verdict on the run. kmemleak (debug kernel:
# SKIP elsewhere) suspects nothing allocated since run_mmapdemo.sh began,
# and the kernel log since then (MMAPDEMO_LOG_MARK, else all of it) has no
# BUG, WARNING, Oops, Call Trace, Bad page or the like, apart from the
# expected reports of injected allocation failures.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
[ "$(id -u)" = 0 ] || skip_all "must be run as root"

kernel_log() {
	dmesg | awk -v m="${MMAPDEMO_LOG_MARK:-}" 'm != "" && index($0, m) { n = 0 } { line[++n] = $0 }
		END { for (i = 1; i <= n; i++) print line[i] }' | without_injection_noise >"$tmp/log"
	if grep -E "$BADNESS" "$tmp/log" >"$tmp/badness"; then
		problem "kernel reports: $(head -n1 "$tmp/badness" | sed 's/^\[[^]]*\] //')"
		sed 's/^/# dmesg: /' "$tmp/badness"
	fi
	result "kernel log has no BUG/WARNING/Oops/Call Trace/Bad page"
}

case_add kmemleak_test "'after the whole run'"
case_add kernel_log
run_cases
