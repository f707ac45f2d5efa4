#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/pfnmap.sh [ROOT]: build build/bin/pfnmap, the kernel's own VM_PFNMAP
# selftest (tools/testing/selftests/mm/pfnmap.c), and print its path.
# selftests/mmapdemo.sh runs it as `pfnmap -- /dev/mmapdemo`. Nothing of it is
# committed: it comes from Debian's newest kernel source, in the sid chroot
# ROOT (default $MMAPDEMO_CACHE/sid, /var/cache/mmapdemo/sid; made with
# scripts/chroot.sh sid if missing).
#
#   1. apt-get install, in ROOT, the linux-source meta-package unless it is
#      there: it depends on the newest linux-source-X.Y, whose tarball lands
#      in /usr/src (about 160 MiB).
#   2. Extract from the newest /usr/src/linux-source-*.tar.xz what pfnmap.c
#      needs (pfnmap.c, vm_util.c, vm_util.h, kselftest.h,
#      kselftest_harness.h) into build/pfnmap/src, and check that this
#      pfnmap.c takes the file to map as `pfnmap -- FILE`.
#   3. Compile it statically with ROOT's gcc, against ROOT's libc and kernel
#      uapi headers (linux-libc-dev): the selftest uses uapi newer than the
#      host's. The flags are those of the mm selftests' Makefile.
#
# Cached: does nothing but print the path when build/bin/pfnmap exists
# (remove it to rebuild). Run as root. Logs: build/pfnmap/*.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -le 1 ] || { echo "usage: $0 [ROOT]" >&2; exit 2; }
ROOT=${1:-$CACHE/sid}
OUT=$TOP/build/bin/pfnmap
WORK=$TOP/build/pfnmap
SRC=$WORK/src
# "path in the kernel tree:name in build/pfnmap/src"
FILES=(
	tools/testing/selftests/mm/pfnmap.c:pfnmap.c
	tools/testing/selftests/mm/vm_util.c:vm_util.c
	tools/testing/selftests/mm/vm_util.h:vm_util.h
	tools/testing/selftests/kselftest.h:kselftest.h
	tools/testing/selftests/kselftest_harness.h:kselftest_harness.h
)
# tools/testing/selftests/mm/Makefile: CFLAGS (the -I of the selftests tree
# is -I. here) and LDLIBS (-lrt -lm are in glibc).
CFLAGS=(-Wall -O2 -Wunreachable-code -U_FORTIFY_SOURCE -I.)
LDFLAGS=(-static -pthread)

if [ -x "$OUT" ]; then
	echo "$OUT"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "pfnmap.sh: run as root (chroot, mount)"

# The chroot: scripts/chroot.sh is idempotent, but a full check takes a few
# seconds; only a chroot that was never made goes through it.
if [ ! -f "$ROOT/.mmapdemo-debootstrap" ] || [ ! -x "$ROOT/usr/bin/gcc" ]; then
	[ -z "${1:-}" ] || die "$ROOT: not a chroot made by scripts/chroot.sh"
	log "pfnmap: no sid chroot yet: scripts/chroot.sh sid $ROOT" >&2
	"$SCRIPTS/chroot.sh" sid "$ROOT" >/dev/null
fi
ROOT=$(cd "$ROOT" && pwd)
mkdir -p "$WORK" "$TOP/build/bin"

# 1. The source package.
# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
status=$(chroot "$ROOT" dpkg-query -W -f='${db:Status-Status}' linux-source 2>/dev/null) || true
if [ "$status" != installed ]; then
	log "pfnmap: installing linux-source (the newest linux-source-X.Y) in $ROOT" >&2
	run_logged "$WORK/apt.log" in_chroot "$ROOT" sh -c \
		'apt-get install -y -q --no-install-recommends linux-source ||
		{ apt-get update -q -o Acquire::Check-Valid-Until=false &&
		  apt-get install -y -q --no-install-recommends linux-source; }' >&2 ||
		die "apt-get install linux-source in $ROOT failed (log: $WORK/apt.log)"
	chroot "$ROOT" apt-get clean
	log "pfnmap: installed" >&2
fi
tarball=$(printf '%s\n' "$ROOT"/usr/src/linux-source-*.tar.xz | sort -V | tail -n1)
[ -f "$tarball" ] || die "$ROOT/usr/src: no linux-source-*.tar.xz after installing linux-source"
pkg=$(basename "$tarball" .tar.xz)
# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
version=$(chroot "$ROOT" dpkg-query -W -f='${Version}' "$pkg")

# 2. The few files pfnmap.c needs (the tarball's top directory is $pkg).
if [ "$(cat "$SRC/VERSION" 2>/dev/null)" != "$pkg $version" ]; then
	log "pfnmap: extracting pfnmap.c and what it includes from $pkg $version" >&2
	rm -rf "$SRC"
	mkdir -p "$SRC"
	members=()
	for f in "${FILES[@]}"; do
		members+=("$pkg/${f%%:*}")
	done
	run_logged "$WORK/extract.log" in_chroot "$ROOT" \
		tar -xJf "/usr/src/$pkg.tar.xz" -C "/src/${SRC#"$TOP"/}" "${members[@]}" ||
		die "extracting from /usr/src/$pkg.tar.xz failed (log: $WORK/extract.log)"
	for f in "${FILES[@]}"; do
		mv "$SRC/$pkg/${f%%:*}" "$SRC/${f#*:}"
	done
	rm -rf "${SRC:?}/$pkg"
	echo "$pkg $version" >"$SRC/VERSION"
	log "pfnmap: extracted" >&2
fi
grep -q 'strcmp(argv\[i\], "--")' "$SRC/pfnmap.c" ||
	die "$SRC/pfnmap.c ($pkg $version) does not take 'pfnmap -- FILE': too old"

# 3. Static, with the chroot's compiler and headers.
log "pfnmap: building $OUT in $ROOT ($pkg $version)" >&2
rm -f "$WORK/pfnmap.tmp"
# shellcheck disable=SC2016 # expanded by the chroot's sh
run_logged "$WORK/build.log" in_chroot "$ROOT" sh -c '
	cd "$1" && shift && "$@" || exit
	! readelf -l /src/build/pfnmap/pfnmap.tmp | grep "program interpreter"' sh \
	"/src/${SRC#"$TOP"/}" gcc "${CFLAGS[@]}" -o /src/build/pfnmap/pfnmap.tmp \
	pfnmap.c vm_util.c "${LDFLAGS[@]}" ||
	die "building pfnmap (static) failed (log: $WORK/build.log)"
grep -E 'warning:' "$WORK/build.log" >&2 || true
mv -f "$WORK/pfnmap.tmp" "$OUT"
log "pfnmap: built" >&2
echo "$OUT"
