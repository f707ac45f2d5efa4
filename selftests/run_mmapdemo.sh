#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# run_mmapdemo.sh [-t CATEGORY]... [-l] [-h]: the mmapdemo kselftests, as
# root: one category script after the other, each loading and unloading
# the module itself (the kernel's mm/run_vmtests.sh, in small). Every
# category's TAP is nested under one result; the plan counts the selected
# categories, the summary what they did. Exit: 0 all passed, 1 something
# failed, 4 (kselftest SKIP) everything skipped.
#
# Categories (-t suite -t demos, or -t "suite demos", runs only those, in
# this order):
#   params   module parameters: refused ones, each mode's load line
#   suite    the harness tests (mmapdemo_<area>), once per configuration
#   unpriv   what a member of group mmapdemo can do, and gets no PFN;
#            who may read the counters
#   hold     rmmod refused while a mapping is held, and cycles of it
#   pfnmap   the kernel's own VM_PFNMAP selftest (mm/pfnmap.c) in each mode
#   leak     load/map/unload cycles lose no memory
#   race     SET_MODE racing with mmap(), rmmod racing with opens
#   stress   mmapdemo_stress: random mappings, I/O, forks and ioctls
#   demos    every demo once, as a student runs it
#   debug    fault injection at load and in mmap(), trinity (debug kernels)
#   log      kmemleak and the kernel log since this run began
#
# Installed: `make -C selftests install INSTALL_PATH=DIR` and run it as
# DIR/../run_kselftest.sh -c mmapdemo, or directly. mmapdemo_lib.sh says
# which environment variables the categories read.

CATEGORIES="params suite unpriv hold pfnmap leak race stress demos debug log"
KSFT_SKIP=4
here=$(cd "$(dirname "$0")" && pwd)

usage() {
	sed -n '4,28p' "$0" | sed 's/^# \{0,1\}//'
	exit "$1"
}

selected=
while getopts "t:lh" opt; do
	case $opt in
	t) selected="$selected $(echo "$OPTARG" | tr , ' ')" ;;
	l) echo "$CATEGORIES" | tr ' ' '\n'; exit 0 ;;
	h) usage 0 ;;
	*) usage 2 >&2 ;;
	esac
done
[ -n "$selected" ] || selected=$CATEGORIES
for c in $selected; do
	case " $CATEGORIES " in
	*" $c "*) ;;
	*) echo "run_mmapdemo.sh: no category '$c' (one of: $CATEGORIES)" >&2; exit 2 ;;
	esac
done

# The log category judges the kernel log from this line on.
MMAPDEMO_LOG_MARK="mmapdemo selftests: run $$ begins"
export MMAPDEMO_LOG_MARK
[ ! -w /dev/kmsg ] || echo "$MMAPDEMO_LOG_MARK" >/dev/kmsg
# kmemleak judges what happens from here on (log category).
[ ! -w /sys/kernel/debug/kmemleak ] || { echo scan && echo clear; } >/sys/kernel/debug/kmemleak 2>/dev/null

n=0 pass=0 fail=0 skip=0
echo "TAP version 13"
echo "1..$(echo "$selected" | wc -w)"
for c in $selected; do
	n=$((n + 1))
	echo "# ---- running $c.sh"
	{
		"$here/$c.sh" 2>&1
		echo $? >"/tmp/run_mmapdemo.$$"
	} | sed 's/^/# /'
	rc=$(cat "/tmp/run_mmapdemo.$$")
	case $rc in
	0) pass=$((pass + 1)); echo "ok $n $c" ;;
	"$KSFT_SKIP") skip=$((skip + 1)); echo "ok $n $c # SKIP" ;;
	*) fail=$((fail + 1)); echo "not ok $n $c # exit=$rc" ;;
	esac
done
rm -f "/tmp/run_mmapdemo.$$"
echo "# SUMMARY: PASS=$pass SKIP=$skip FAIL=$fail"
[ "$fail" -eq 0 ] || exit 1
[ "$pass" -gt 0 ] || exit $KSFT_SKIP
exit 0
