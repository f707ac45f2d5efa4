#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# leak.sh: load/map/unload cycles of a 65536-page (256 MiB) buffer,
# alternating fault and remap mode, every page mapped each time: MemFree
# afterwards is what it was before, within a threshold far below one
# buffer.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

CYCLES=${MMAPDEMO_CYCLES:-6}
# Measured in the 2 GiB TCG guest (Debian 6.1), MemFree after drop_caches
# wanders by up to 35 MiB between cycles without any trend (per-CPU page
# lists, slab); one leaked buffer would be 256 MiB per cycle.
LEAK_KB=65536

memfree() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

# map_all: map and touch every page once (mmapdemo_hold), then let go.
map_all() {
	# Empty first: the holder's own redirection may come after the first
	# look, which must not find the last cycle's "ready".
	: >"$tmp/hold.out"
	"$bin/mmapdemo_hold" --hold 65536 >"$tmp/hold.out" 2>&1 &
	h=$!
	pids="$pids $h"
	tries=0
	while ! grep -q '^ready' "$tmp/hold.out" && kill -0 "$h" 2>/dev/null && [ $tries -lt 600 ]; do
		usleep 100000
		tries=$((tries + 1))
	done
	if grep -q '^ready' "$tmp/hold.out"; then
		kill "$h" 2>/dev/null
		wait "$h" 2>/dev/null
		return 0
	fi
	kill "$h" 2>/dev/null
	wait "$h" 2>/dev/null
	diag "mmapdemo_hold --hold 65536: exit status $? after $tries tries, output:"
	sed 's/^/# hold: /' "$tmp/hold.out"
	return 1
}

cycles() {
	# A first cycle outside the measurement: one-time allocations (slab
	# caches, the programs' page tables) are not leaks.
	if load mode=fault pages=65536; then
		map_all
		rmmod $MOD
	fi
	before=$(memfree)
	i=0
	while [ $i -lt "$CYCLES" ] && [ -z "$bad" ]; do
		if [ $((i % 2)) -eq 0 ]; then mode=fault; else mode=remap; fi
		i=$((i + 1))
		if ! load "mode=$mode" pages=65536; then
			problem "cycle $i: insmod mode=$mode pages=65536 failed"
		elif ! map_all; then
			problem "cycle $i: could not map all pages"
			rmmod $MOD
		else
			rmmod $MOD || problem "cycle $i: rmmod failed"
		fi
	done
	after=$(memfree)
	leak=$((before - after))
	diag "MemFree before $before kB, after $CYCLES cycles $after kB: $leak kB less (threshold $LEAK_KB kB)"
	[ -n "$bad" ] || [ "$leak" -lt "$LEAK_KB" ] || problem "$leak kB of memory lost"
	result "$CYCLES load/map/unload cycles of 65536 pages leak nothing"
}

case_add cycles
run_cases
