#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# pfnmap.sh: the kernel's own VM_PFNMAP selftest, tools/testing/selftests/
# mm/pfnmap.c from Debian's newest linux-source (scripts/pfnmap.sh builds
# it; not part of the project), run as `pfnmap -- /dev/mmapdemo`. It maps two
# pages at offset 0 read-only MAP_SHARED, skips everything unless smaps says
# VM_PFNMAP ("pf") and the pages can be read, then per test maps them
# afresh and checks what the core does to a PFNMAP: madvise() advice that
# needs struct pages refused with EINVAL, munmap() of one page and mapping
# it again, mremap() to a fixed place, shrinking (works), growing (refused),
# and fork() (the child can read them). In remap mode every test must pass;
# in fault mode (pages with struct pages, not VM_PFNMAP) pfnmap must skip
# the whole run as "Not pfnmap'ed" (exit 4), reported as SKIP. Either way
# every VMA must be gone afterwards and rmmod must work.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

TIMEOUT=$((120 * TF))
pfnmap=$(command -v pfnmap || true)
for c in "$bin/pfnmap" "$here/../build/bin/pfnmap"; do
	[ -n "$pfnmap" ] || [ ! -x "$c" ] || pfnmap=$c
done

run_pfnmap() {
	mode=$1
	name="suite pfnmap (kernel selftest mm/pfnmap.c) -- $DEV mode=$mode pages=16"
	if [ -z "$pfnmap" ]; then
		skip "$name: no pfnmap binary (scripts/pfnmap.sh builds it from Debian's linux-source)"
		return
	fi
	if ! load "mode=$mode" pages=16; then
		ktap_test_fail "$name # insmod failed"
		return
	fi
	diag "$pfnmap -- $DEV ($(sysfs mode) mode)"
	{
		timed "$TIMEOUT" "$pfnmap" -- $DEV 2>&1
		echo $? >"$tmp/rc"
	} | tee "$tmp/pfnmap.out" | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
	# The harness's own results: its plan, passes, and a whole-run skip.
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tmp/pfnmap.out" | head -n1)
	passed=$(grep -E '^ok [0-9]+ ' "$tmp/pfnmap.out" | grep -cv ' # SKIP')
	why=$(sed -n 's/^1\.\.0 # SKIP //p' "$tmp/pfnmap.out" | head -n1)
	if [ "$mode" = remap ]; then
		if [ "$rc" -eq "$KSFT_SKIP" ]; then
			problem "skipped the run on a remap_pfn_range() mapping: ${why:-no reason given}"
		elif [ "$rc" -ne 0 ]; then
			problem "exit status $rc"
		elif [ -z "$planned" ] || [ "$planned" -eq 0 ] || [ "$passed" -ne "$planned" ]; then
			problem "${passed} of ${planned:-no} planned tests passed"
		fi
		[ "$(sysfs faults)" = 0 ] || problem ".fault called $(sysfs faults) times in remap mode"
	else
		case $rc:$why in
		"$KSFT_SKIP:"*"Not pfnmap'ed"*) ;;
		"$KSFT_SKIP:"*) problem "skipped, but not as 'Not pfnmap'ed': ${why:-no reason given}" ;;
		0:*) problem "ran its tests: the fault-mode mapping has VM_PFNMAP" ;;
		*) problem "exit status $rc, expected $KSFT_SKIP (skip: not a PFNMAP)" ;;
		esac
	fi
	gauges_zero
	rmmod $MOD || problem "rmmod failed"
	if [ -n "$bad" ]; then
		ktap_test_fail "$name # $bad"
	elif [ "$mode" = fault ]; then
		skip "$name: $why (as expected: .fault pages are no PFNMAP)"
	else
		ktap_test_pass "$name"
	fi
}

case_add run_pfnmap remap
case_add run_pfnmap fault
run_cases
