#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/pfnmap.sh: build build/bin/pfnmap, the kernel's own VM_PFNMAP
# selftest (tools/testing/selftests/mm/pfnmap.c), and print its path.
# selftests/pfnmap.sh runs it as `pfnmap -- /dev/mmapdemo`. Nothing of it is
# committed: scripts/kselftest.sh takes it, with vm_util.[ch] and the
# harness, from Debian's newest linux-source into build/kselftest/ (the sid
# chroot's, made on first use).
#
# It is compiled statically with the sid chroot's gcc, against its libc
# and kernel uapi headers (linux-libc-dev): the selftest uses uapi newer
# than the host's. The flags are those of the mm selftests' Makefile.
#
# Cached: does nothing but print the path when build/bin/pfnmap is newer
# than its source (remove it to rebuild). Run as root. Log:
# build/pfnmap/build.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$#" -eq 0 ] || { echo "usage: $0" >&2; exit 2; }
ROOT=$CACHE/sid
KSFT=$TOP/build/kselftest
OUT=$TOP/build/bin/pfnmap
WORK=$TOP/build/pfnmap
# tools/testing/selftests/mm/Makefile: CFLAGS (lib.mk's -I of the selftests
# tree is -I.. here) and LDLIBS (-lrt -lm are in glibc).
CFLAGS=(-Wall -O2 -Wunreachable-code -U_FORTIFY_SOURCE -D_GNU_SOURCE= -I. -I..)
LDFLAGS=(-static -pthread)

"$SCRIPTS/kselftest.sh" "$KSFT" >&2
if [ -x "$OUT" ] && [ "$OUT" -nt "$KSFT/mm/pfnmap.c" ]; then
	echo "$OUT"
	exit 0
fi
[ "$(id -u)" -eq 0 ] || die "pfnmap.sh: run as root (chroot, mount)"
grep -q 'strcmp(argv\[i\], "--")' "$KSFT/mm/pfnmap.c" ||
	die "$KSFT/mm/pfnmap.c ($(cat "$KSFT/VERSION")) does not take 'pfnmap -- FILE': too old"
mkdir -p "$WORK" "$TOP/build/bin"

log "pfnmap: building $OUT in $ROOT ($(cat "$KSFT/VERSION"))" >&2
rm -f "$WORK/pfnmap.tmp"
# shellcheck disable=SC2016 # expanded by the chroot's sh
run_logged "$WORK/build.log" in_chroot "$ROOT" sh -c '
	cd "$1" && shift && "$@" || exit
	! readelf -l /src/build/pfnmap/pfnmap.tmp | grep "program interpreter"' sh \
	"/src/${KSFT#"$TOP"/}/mm" gcc "${CFLAGS[@]}" -o /src/build/pfnmap/pfnmap.tmp \
	pfnmap.c vm_util.c "${LDFLAGS[@]}" ||
	die "building pfnmap (static) failed (log: $WORK/build.log)"
grep -E 'warning:' "$WORK/build.log" >&2 || true
mv -f "$WORK/pfnmap.tmp" "$OUT"
log "pfnmap: built" >&2
echo "$OUT"
