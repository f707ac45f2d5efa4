#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/chroot.sh SUITE [DIR]: a Debian SUITE (bookworm, trixie, sid...)
# chroot in DIR (default $MMAPDEMO_CACHE/SUITE, /var/cache/mmapdemo/SUITE) with that suite's kernel image,
# its headers and the compiler they were built with, to build and boot the
# module for another Debian kernel line (KROOT=DIR make check).
#
#   1. debootstrap --variant=minbase SUITE DIR MIRROR, unless DIR has already
#      been bootstrapped (marker DIR/.mmapdemo-debootstrap). MIRROR is $MIRROR,
#      else the host's own Debian mirror (the first non-security URI of its
#      apt sources): nothing else is reachable, so nothing is hardcoded.
#   2. apt-get install, in the chroot, whatever of PACKAGES is missing:
#      linux-headers-amd64 pulls in the matching gcc-N and linux-kbuild
#      (modpost, objtool, ...: prebuilt, so no libelf-dev needed) and
#      pahole (BTF of the module). perl: W=1 on 6.12 runs the Perl kernel-doc
#      on external modules (minbase has perl-base only, without Pod::Usage).
#      INITRD=No: no initramfs for the chroot's kernel (the VM packs its own).
#      Check-Valid-Until=false: sid's Release file is valid for a week only,
#      and a mirror frozen at a snapshot serves it expired.
#      /proc is mounted meanwhile and unmounted afterwards.
#   3. print the chroot's kernel release (KVER) on stdout.
#
# Idempotent: a second run with everything there only checks, and prints KVER.
# Run as root. Takes a few minutes and about 1 GiB per suite.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ]; then
	echo "usage: $0 SUITE [DIR]" >&2
	exit 2
fi
SUITE=$1
DIR=${2:-$CACHE/$SUITE}
PACKAGES=(gcc make libc6-dev kmod perl linux-headers-amd64 linux-image-amd64)
MARKER=.mmapdemo-debootstrap

[ "$(id -u)" -eq 0 ] || die "chroot.sh: run as root (debootstrap, chroot, mount)"

# host_mirror: the first Debian URI of the host's apt sources that is not
# the security archive (deb822 .sources first, then one-line sources.list).
host_mirror() {
	local uri
	uri=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
		awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }')
	[ -n "$uri" ] || uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { if ($i !~ /security/) { print $i; exit } break } }')
	[ -n "$uri" ] || die "no Debian mirror in /etc/apt/sources.list*: set MIRROR="
	echo "$uri"
}

# mounts_under DIR: any mount point at or below DIR.
mounts_under() { awk -v d="$1" '$2 == d || index($2, d "/") == 1 { print $2 }' /proc/self/mounts; }

# Installed in the chroot?
chroot_has() {
	local status
	# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
	status=$(chroot "$DIR" dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) || true
	[ "$status" = installed ]
}

# chroot_kver: the newest kernel in DIR with both an image and a build tree.
chroot_kver() {
	local img k
	while read -r img; do
		k=${img##*/vmlinuz-}
		if chroot "$DIR" test -d "/lib/modules/$k/build"; then
			echo "$k"
			return
		fi
	done < <(printf '%s\n' "$DIR"/boot/vmlinuz-* | sort -rV)
	die "$DIR: no /boot/vmlinuz-* with a matching /lib/modules/KVER/build"
}

"$SCRIPTS/deps.sh" debootstrap
DIR=$(mkdir -p "$DIR" && cd "$DIR" && pwd)

if [ ! -f "$DIR/$MARKER" ]; then
	# A half-made chroot from an interrupted run: start again, but never
	# remove anything through a mount (the project is bind-mounted at /src).
	if [ -n "$(ls -A "$DIR")" ]; then
		[ -z "$(mounts_under "$DIR")" ] || die "$DIR: not bootstrapped but has mounts: $(mounts_under "$DIR")"
		log "chroot: $DIR is incomplete, removing it" >&2
		rm -rf --one-file-system "$DIR"
		mkdir -p "$DIR"
	fi
	mirror=${MIRROR:-$(host_mirror)}
	log "chroot: debootstrap --variant=minbase $SUITE $DIR" >&2
	debootstrap --variant=minbase "$SUITE" "$DIR" "$mirror" >"$DIR.debootstrap.log" 2>&1 || {
		tail -n 30 "$DIR.debootstrap.log" >&2
		die "debootstrap failed (log: $DIR.debootstrap.log)"
	}
	rm -f "$DIR.debootstrap.log"
	touch "$DIR/$MARKER"
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
	chroot_has "$pkg" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
	log "chroot: installing in $SUITE: ${missing[*]}" >&2
	run_logged "$DIR.apt.log" in_chroot "$DIR" sh -c \
		'apt-get update -q -o Acquire::Check-Valid-Until=false && apt-get install -y -q --no-install-recommends "$@"' \
		sh "${missing[@]}" >&2 || die "apt-get in the $SUITE chroot failed (log: $DIR.apt.log)"
	chroot "$DIR" apt-get clean
fi
chroot_kver
