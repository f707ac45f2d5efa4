#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# stress.sh: mmapdemo_stress, processes and threads doing random mappings,
# I/O, forks and ioctls in every mode, checking as they go; afterwards
# nothing may be mapped and rmmod must work. `make stress` runs this alone.
#
#   DURATION=SECONDS  how long (default: mmapdemo_stress's own, 30 s)
#   SEED=N            its seed (default: a new one, printed with the command
#                     that repeats the run)
#   MMAPDEMO_PARAMS   module parameters (default pages=1024: two 2 MiB
#                     chunks, so private remap mappings across the border
#                     are refused and that path is stressed too)
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

PARAMS=${MMAPDEMO_PARAMS:-pages=1024}

stress() {
	# shellcheck disable=SC2086 # a list of parameters
	if ! load $PARAMS; then
		problem "insmod $PARAMS failed"
	else
		{
			# The program's own grace period is 120 s past its duration.
			timed "$((3 * ${DURATION:-30} * TF + 180))" "$bin/mmapdemo_stress" \
				${DURATION:+--duration "$DURATION"} ${SEED:+--seed "$SEED"} 2>&1
			echo $? >"$tmp/rc"
		} | tee "$tmp/stress.out" | sed 's/^/# /'
		rc=$(cat "$tmp/rc")
		[ "$rc" -eq 0 ] || problem "exit status $rc"
		gauges_zero
		rmmod $MOD || problem "rmmod failed"
	fi
	seed=$(sed -n 's/^mmapdemo_stress: seed \([0-9]*\);.*/\1/p' "$tmp/stress.out" 2>/dev/null)
	result "mmapdemo_stress${DURATION:+ $DURATION s}, seed ${seed:-?}: no invariant broken, gauges 0, rmmod works"
}

case_add stress
run_cases
