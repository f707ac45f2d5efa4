#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# race.sh: races a user can start.
#   - SET_MODE against mmap() in another thread (mmapdemo_race): no mapping
#     may mix the variant of one SET_MODE with the flag of another;
#   - rmmod racing with opens. mmapdemo_stress --opener opens, maps,
# touches and closes the device in a loop while the module is unloaded
# (retried until the opener is between two opens) and loaded again,
# CYCLES times. Every open must succeed or fail with ENOENT/ENODEV/ENXIO
# (the opener exits 1 otherwise); the kernel log is judged at the end of
# the run like everything else (the log category).
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

CYCLES=8
# rmmod tries per cycle, 10 ms apart.
TRIES=500

race() {
	unloads=0
	if ! load pages=16; then
		problem "insmod failed"
		result "rmmod racing with opens: every open succeeds or gets ENOENT/ENODEV/ENXIO"
		return
	fi
	"$bin/mmapdemo_stress" --opener 600 >"$tmp/opener.out" 2>&1 &
	opener=$!
	pids="$pids $opener"
	i=0
	while [ $i -lt $CYCLES ] && [ -z "$bad" ]; do
		i=$((i + 1))
		tries=0
		while loaded && [ $tries -lt $TRIES ]; do
			rmmod $MOD 2>/dev/null && break
			tries=$((tries + 1))
			usleep 10000
		done
		if loaded; then
			diag "cycle $i: rmmod refused $tries times (the opener always had it open)"
		else
			unloads=$((unloads + 1))
		fi
		usleep 50000
		loaded || load pages=16 || problem "cycle $i: insmod failed"
		usleep 50000
	done
	kill "$opener" 2>/dev/null
	wait "$opener"
	rc=$?
	sed 's/^/# /' "$tmp/opener.out"
	[ "$rc" -eq 0 ] || problem "the opener exited with status $rc"
	[ "$unloads" -gt 0 ] || problem "rmmod never got between two opens"
	grep -q ' [1-9][0-9]* opens' "$tmp/opener.out" || problem "the opener never opened the device"
	unload || problem "final rmmod failed"
	diag "$unloads of $CYCLES unloads got between two opens"
	result "rmmod racing with opens: every open succeeds or gets ENOENT/ENODEV/ENXIO"
}

case_add run_once mmapdemo_race
case_add race
run_cases
