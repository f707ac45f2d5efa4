#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# lab-guest.sh PLAN: the guest side of `make lab-check` (scripts/labs.sh),
# run in the VM as the command of scripts/targets/lab.sh. PLAN has one
# line per run: "LABEL SELECTOR...": load /mmapdemo/labs/LABEL.ko, run the
# tests selected by SELECTOR (PROGRAM:FIXTURE:VARIANT:TEST: each PROGRAM
# once, in the order the selectors first name it, with -r
# FIXTURE:VARIANT:TEST for each of its tests), unload it. Output for the
# host (scripts/labs.sh report reads it):
#   MMAPDEMO-LAB-RUN LABEL
#   MMAPDEMO-LAB-INSMOD ok|<error>
#   MMAPDEMO-LAB-PROGRAM PROGRAM            then PROGRAM's TAP, for each
#   MMAPDEMO-LAB-RMMOD ok|<error>
#   MMAPDEMO-LAB-KERNEL <kernel log line>   each BUG/WARNING/Oops line of the run
#   MMAPDEMO-LAB-END LABEL
# Exit status 0: a failing check is a result, not an error of the run.
# BADNESS: the kernel reports, as the suite and the host's verdict know them.
# shellcheck source=selftests/mmapdemo_badness.sh
. /mmapdemo/kselftest/mmapdemo/mmapdemo_badness.sh
limit=${LAB_TEST_TIMEOUT:-240}

[ -r "${1:-}" ] || { echo "usage: $0 PLAN (try --help)"; exit 2; }
while read -r label sels; do
	[ -n "$label" ] || continue
	echo "MMAPDEMO-LAB-RUN $label"
	mark=$(dmesg | wc -l)
	# shellcheck disable=SC2086 # MMAPDEMO_PARAMS: a list of parameters
	if out=$(insmod "/mmapdemo/labs/$label.ko" ${MMAPDEMO_PARAMS:-} 2>&1); then
		echo "MMAPDEMO-LAB-INSMOD ok"
		progs=
		for s in $sels; do
			case " $progs " in
			*" ${s%%:*} "*) ;;
			*) progs="$progs ${s%%:*}" ;;
			esac
		done
		for p in $progs; do
			args=
			for s in $sels; do
				[ "${s%%:*}" != "$p" ] || args="$args -r ${s#*:}"
			done
			echo "MMAPDEMO-LAB-PROGRAM $p"
			# shellcheck disable=SC2086 # a list of options
			timeout -k 10 "$limit" "$p" $args </dev/null 2>&1
		done
		if out=$(rmmod mmapdemo 2>&1); then
			echo "MMAPDEMO-LAB-RMMOD ok"
		else
			echo "MMAPDEMO-LAB-RMMOD $out"
		fi
	else
		echo "MMAPDEMO-LAB-INSMOD $out"
	fi
	dmesg | tail -n +$((mark + 1)) | grep -E "$BADNESS" | sed 's/^/MMAPDEMO-LAB-KERNEL /'
	echo "MMAPDEMO-LAB-END $label"
done <"$1"
exit 0
