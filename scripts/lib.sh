# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
#
# scripts/lib.sh: helpers shared by vm.sh, lint.sh and dkms-check.sh.
# Source it; it defines functions and a few variables and runs nothing else.

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck disable=SC2034 # used by the scripts that source this file
SCRIPTS=$TOP/scripts

# Microseconds since the epoch (locale-proof).
_now_us() { local t=${EPOCHREALTIME//[!0-9]/}; echo "$t"; }
_T0=$(_now_us)

# Seconds elapsed since the script started, with one decimal ("12.3").
elapsed() {
	local ds=$((($(_now_us) - _T0) / 100000))
	echo "$((ds / 10)).$((ds % 10))"
}

# log MSG...: one progress line, prefixed by the elapsed time.
log() { printf '[%6ss] %s\n' "$(elapsed)" "$*"; }

die() {
	printf 'mmapdemo: %s\n' "$*" >&2
	exit 1
}

# run_logged LOG CMD...: run CMD with its output in LOG; on failure show the
# end of LOG and return CMD's status.
run_logged() {
	local logf=$1 rc=0
	shift
	"$@" >"$logf" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "---- $* failed (status $rc); last lines of $logf:" >&2
		tail -n 40 "$logf" >&2
		echo "----" >&2
	fi
	return "$rc"
}

# pick_kver: print the release of the kernel the VM boots and the module is
# built for. $KVER if set; else the newest /boot/vmlinuz-*-amd64 that has a
# build tree in /lib/modules/$KVER/build. Never the running kernel's
# (`uname -r`): the host may run a kernel with no headers at all.
pick_kver() {
	local img k
	if [ -n "${KVER:-}" ]; then
		[ -r "/boot/vmlinuz-$KVER" ] || die "KVER=$KVER: no readable /boot/vmlinuz-$KVER"
		[ -d "/lib/modules/$KVER/build" ] ||
			die "KVER=$KVER: no /lib/modules/$KVER/build (apt-get install linux-headers-$KVER)"
		echo "$KVER"
		return
	fi
	while read -r img; do
		k=${img#/boot/vmlinuz-}
		if [ -d "/lib/modules/$k/build" ]; then
			echo "$k"
			return
		fi
	done < <(printf '%s\n' /boot/vmlinuz-*-amd64 | sort -rV)
	die "no /boot/vmlinuz-*-amd64 with a matching /lib/modules/KVER/build;" \
		"install linux-image-amd64 and linux-headers-amd64"
}
