#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/dkms-check.sh: prove that dkms.conf works: `dkms add` a copy of the
# module sources (dkms copies it to /usr/src/mmapdemo-VERSION), `dkms build`
# it for the VM's kernel (KVER as in vm.sh; KERNEL=6.12 for another kernel
# line, inside its chroot), check the result, then `dkms remove --all` and
# delete the copy again.
#
# Needs root (dkms writes /usr/src and /var/lib/dkms). Idempotent: a
# registration of the same mmapdemo version left over from an earlier run, or
# installed by hand, is removed first.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ "$(id -u)" -eq 0 ] || die "dkms-check.sh must run as root (dkms writes /usr/src and /var/lib/dkms)"

# KERNEL=LINE for a line other than the host's: run this same check inside
# that line's chroot (made on first use), against its headers and compiler.
if [ -n "${KERNEL:-}" ]; then
	use_kernel "$KERNEL"
	if [ -n "$KROOT" ]; then
		log "dkms: kernel line $KERNEL, in ${KROOT#"$TOP"/}"
		in_chroot "$KROOT" bash /src/scripts/dkms-check.sh
		exit
	fi
fi
KROOT=
"$SCRIPTS/deps.sh" dkms gcc make linux-headers-amd64
KVER=$(pick_kver)

conf_value() { sed -n "s/^$1=\"\\{0,1\\}\\([^\"]*\\)\"\\{0,1\\}\$/\\1/p" "$TOP/dkms.conf"; }
NAME=$(conf_value PACKAGE_NAME)
VERSION=$(conf_value PACKAGE_VERSION)
if [ -z "$NAME" ] || [ -z "$VERSION" ]; then die "dkms.conf: no PACKAGE_NAME or PACKAGE_VERSION"; fi
SRC=/usr/src/$NAME-$VERSION
LOG=$TOP/build/dkms.log
mkdir -p "$TOP/build"

stage=
cleanup() {
	dkms remove "$NAME/$VERSION" --all >/dev/null 2>&1 || true
	rm -rf "$SRC"
	[ -z "$stage" ] || rm -rf "$stage"
}
trap cleanup EXIT
cleanup

# Only the module's sources: no build products, no build/ directory.
stage=$(mktemp -d)
cp -r "$TOP"/{dkms.conf,Kbuild,Makefile,include} "$stage/"
mkdir "$stage/module"
cp "$TOP"/module/*.[ch] "$stage/module/"

log "dkms add + build $NAME/$VERSION for $KVER (log: ${LOG#"$TOP"/})"
{
	dkms add "$stage"
	dkms build "$NAME/$VERSION" -k "$KVER"
	dkms status "$NAME/$VERSION"
} >"$LOG" 2>&1 || {
	tail -n 40 "$LOG"
	cat "/var/lib/dkms/$NAME/$VERSION/build/make.log" 2>/dev/null || true
	die "dkms: FAIL"
}
[ -f "$SRC/Kbuild" ] || die "dkms: FAIL: dkms add did not copy the sources to $SRC"
ko=$(find "/var/lib/dkms/$NAME/$VERSION/$KVER" -name "$NAME.ko*" -print -quit)
[ -n "$ko" ] || die "dkms: FAIL: no $NAME.ko under /var/lib/dkms/$NAME/$VERSION/$KVER"
vermagic=$(modinfo -F vermagic "$ko")
[ "${vermagic%% *}" = "$KVER" ] || die "dkms: FAIL: $ko has vermagic '$vermagic'"
log "dkms: OK ($NAME/$VERSION built for $KVER; removed again)"
