#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kselftest.sh [DIR]: the kernel's kselftest framework, taken from
# Debian's newest linux-source (nothing of it is committed), into DIR
# (default build/kselftest):
#
#   DIR/lib.mk, DIR/kselftest.h, DIR/kselftest_harness.h  what selftests/Makefile
#                        includes and the tests are compiled against
#   DIR/kselftest/       runner.sh, ktap_helpers.sh, prefix.pl: what
#                        run_tests and run_kselftest.sh run the tests with
#   DIR/run_kselftest.sh the runner of an installed kselftest tree
#   DIR/mm/              the kernel's own mm selftests the suite aims at
#                        /dev/mmapdemo (pfnmap.c and what it needs)
#   DIR/VERSION          "linux-source-X.Y VERSION"
#
# The newest linux-source is the one of Debian sid, installed in the sid
# chroot (scripts/chroot.sh sid, made on first use) by the linux-source
# meta-package (about 160 MiB in /usr/src).
#
# Idempotent: does nothing when DIR/VERSION names the chroot's
# linux-source. Run as root (chroot, mount) the first time.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -le 1 ] || { echo "usage: $0 [DIR]" >&2; exit 2; }
OUT=${1:-$TOP/build/kselftest}
ROOT=$CACHE/sid
# Paths under tools/testing/selftests/ of the kernel tree.
FILES=(
	lib.mk
	kselftest.h
	kselftest_harness.h
	kselftest/runner.sh
	kselftest/ktap_helpers.sh
	kselftest/prefix.pl
	run_kselftest.sh
	mm/pfnmap.c
	mm/vm_util.c
	mm/vm_util.h
)

# The newest linux-source tarball in the chroot, and its package version.
tarball() { printf '%s\n' "$ROOT"/usr/src/linux-source-*.tar.xz | sort -V | tail -n1; }

if [ -f "$OUT/VERSION" ] && [ -f "$(tarball)" ]; then
	pkg=$(basename "$(tarball)" .tar.xz)
	# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
	version=$(chroot "$ROOT" dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || true)
	[ "$(cat "$OUT/VERSION")" != "$pkg $version" ] || exit 0
fi
[ "$(id -u)" -eq 0 ] || die "kselftest.sh: run as root the first time (chroot, apt-get)"

if [ ! -f "$ROOT/.mmapdemo-debootstrap" ] || [ ! -x "$ROOT/usr/bin/gcc" ]; then
	log "kselftest: no sid chroot yet: scripts/chroot.sh sid $ROOT" >&2
	"$SCRIPTS/chroot.sh" sid "$ROOT" >/dev/null
fi
# linux-source: the newest linux-source-X.Y.
chroot_install "$ROOT" linux-source
tb=$(tarball)
[ -f "$tb" ] || die "$ROOT/usr/src: no linux-source-*.tar.xz after installing linux-source"
pkg=$(basename "$tb" .tar.xz)
# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
version=$(chroot "$ROOT" dpkg-query -W -f='${Version}' "$pkg")

log "kselftest: extracting the kselftest framework from $pkg $version" >&2
mkdir -p "$OUT"
tmp=$(mktemp -d "$OUT/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
members=()
for f in "${FILES[@]}"; do
	members+=("$pkg/tools/testing/selftests/$f")
done
tar -xJf "$tb" -C "$tmp" "${members[@]}"
for f in "${FILES[@]}"; do
	mkdir -p "$OUT/$(dirname "$f")"
	mv -f "$tmp/$pkg/tools/testing/selftests/$f" "$OUT/$f"
done
chmod +x "$OUT/run_kselftest.sh" "$OUT/kselftest/prefix.pl"
echo "$pkg $version" >"$OUT/VERSION"
