#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hold.sh: a mapping holds the module. In each mode the module offers,
# rmmod fails while a process (mmapdemo_hold) keeps a mapping whose file it
# has closed, the gauges count that one VMA, and rmmod works once the
# process is gone; then cycles of load, hold, refused rmmod, release and
# unload, alternating two modes.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

CYCLES=4
holder=

# hold PAGES: start mmapdemo_hold; 0 once its mapping exists (file closed).
hold() {
	: >"$tmp/hold.out"
	"$bin/mmapdemo_hold" --hold "$1" >"$tmp/hold.out" 2>&1 &
	holder=$!
	pids="$pids $holder"
	tries=0
	while [ $tries -lt 600 ]; do
		grep -q '^ready' "$tmp/hold.out" && return 0
		kill -0 "$holder" 2>/dev/null || break
		usleep 100000
		tries=$((tries + 1))
	done
	sed 's/^/# hold: /' "$tmp/hold.out"
	return 1
}

# release: stop the holder (it exits 0 on SIGTERM) and reap it.
release() {
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	holder=
}

# held MODE: rmmod refused while the holder maps 4 pages in MODE.
held() {
	if ! load "mode=$1" pages=16; then
		problem "insmod failed"
	elif ! hold 4; then
		problem "mmapdemo_hold did not start"
	else
		{ [ "$(sysfs vmas)" = 1 ] && [ "$(sysfs mapped_pages)" = 4 ]; } ||
			problem "holder: vmas $(sysfs vmas), mapped_pages $(sysfs mapped_pages); expected 1, 4"
		if rmmod $MOD 2>"$tmp/rmmod.err"; then
			problem "rmmod succeeded under a live mapping"
		else
			sed 's/^/# expected: /' "$tmp/rmmod.err"
		fi
		loaded || problem "module gone"
	fi
	result "rmmod refused while a mapping is held (mode=$1 pages=16)"
}

# released MODE: once the holder exited, nothing is mapped and rmmod works.
released() {
	[ -z "$holder" ] || release
	if loaded; then
		gauges_zero
		rmmod $MOD || problem "rmmod failed"
		loaded && problem "still loaded"
	else
		problem "module not loaded"
	fi
	result "rmmod succeeds once the holder exited (mode=$1 pages=16)"
}

cycles() {
	i=0
	while [ $i -lt $CYCLES ] && [ -z "$bad" ]; do
		if [ $((i % 2)) -eq 0 ]; then mode=fault; else mode=remap; fi
		i=$((i + 1))
		if ! load "mode=$mode" pages=16; then
			problem "cycle $i: insmod mode=$mode failed"
		elif ! hold 2; then
			problem "cycle $i: mmapdemo_hold did not start"
			rmmod $MOD
		else
			rmmod $MOD 2>/dev/null && problem "cycle $i: rmmod succeeded under a live mapping"
			loaded || problem "cycle $i: module gone"
			[ "$(sysfs vmas)" = 1 ] || problem "cycle $i: vmas $(sysfs vmas), expected 1"
			release
			[ "$(sysfs vmas)" = 0 ] || problem "cycle $i: vmas $(sysfs vmas) after release"
			rmmod $MOD || problem "cycle $i: rmmod failed after release"
		fi
	done
	result "$CYCLES cycles: insmod, mapping held, rmmod refused, released, rmmod"
}

read_modes
for m in $all_modes; do
	if is_offered "$m"; then
		case_add held "$m"
		case_add released "$m"
	else
		case_add skip "'rmmod refused while a mapping is held (mode=$m pages=16): mode $m not offered here'"
		case_add skip "'rmmod succeeds once the holder exited (mode=$m pages=16): mode $m not offered here'"
	fi
done
case_add cycles
run_cases
