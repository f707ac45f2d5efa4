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
# With KROOT=DIR (a chroot made by scripts/chroot.sh) both are looked up
# under DIR instead of /.
pick_kver() {
	local img k root=${KROOT:-}
	if [ -n "${KVER:-}" ]; then
		[ -r "$root/boot/vmlinuz-$KVER" ] || die "KVER=$KVER: no readable $root/boot/vmlinuz-$KVER"
		[ -d "$root/lib/modules/$KVER/build" ] ||
			die "KVER=$KVER: no $root/lib/modules/$KVER/build (apt-get install linux-headers-$KVER)"
		echo "$KVER"
		return
	fi
	while read -r img; do
		k=${img##*/vmlinuz-}
		if [ -d "$root/lib/modules/$k/build" ]; then
			echo "$k"
			return
		fi
	done < <(printf '%s\n' "$root"/boot/vmlinuz-*-amd64 | sort -rV)
	die "no $root/boot/vmlinuz-*-amd64 with a matching $root/lib/modules/KVER/build;" \
		"install linux-image-amd64 and linux-headers-amd64${root:+ (scripts/chroot.sh SUITE $root)}"
}

# in_chroot ROOT CMD...: run CMD in the chroot ROOT with /proc mounted
# (objtool and some maintainer scripts need it) and the project bind-mounted
# at /src; both are unmounted afterwards, also on failure. Mounts that were
# already there (another run) are used and left alone.
in_chroot() (
	local root=$1 mounted=()
	shift
	# shellcheck disable=SC2317 # called by the EXIT trap
	undo() {
		local i
		for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
			umount "${mounted[i]}" 2>/dev/null || umount -l "${mounted[i]}"
		done
	}
	trap undo EXIT
	mkdir -p "$root/proc" "$root/src"
	if ! mountpoint -q "$root/proc"; then
		mount -t proc proc "$root/proc"
		mounted+=("$root/proc")
	fi
	if ! mountpoint -q "$root/src"; then
		mount --bind "$TOP" "$root/src"
		mounted+=("$root/src")
	fi
	env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive INITRD=No chroot "$root" "$@"
)
