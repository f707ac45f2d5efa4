#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/debug-kernel.sh [--release]: build, once, the debug kernel that
# `make check KERNEL=debug` and `make fuzz` boot, and print its build
# directory (with --release: its kernel release instead).
#
# Source: Debian's linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz),
# extracted into $MMAPDEMO_CACHE/debug-6.1 (default /var/cache/mmapdemo),
# never under this tree. Config: tinyconfig + the kernel's
# kernel/configs/kvm_guest.config + scripts/debug-kernel.config (KASAN,
# KFENCE, lockdep, DEBUG_VM, kmemleak, UBSAN, fault injection...); the
# script fails when an option of that fragment did not end up as asked
# (olddefconfig drops what has unmet dependencies).
#
# Layout of $MMAPDEMO_CACHE/debug-6.1:
#   src-VERSION/        the extracted source (VERSION: the Debian package's)
#   build-KEY/          the O= build directory: .config, bzImage, Module.symvers;
#                       KEY hashes the fragment and VERSION, so a changed
#                       fragment or source package builds a new one (and the
#                       old ones are removed)
#   build-KEY/.mmapdemo-built   written last: the build is complete
#   build-KEY/.mmapdemo-build-time   seconds the build took (make, not extraction)
# One build at a time (flock on $MMAPDEMO_CACHE/debug-6.1.lock): a second
# worktree waits, then reuses the finished build. Logs: build-KEY/*.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case ${1:-} in
'' | --release) ;;
*) echo "usage: $0 [--release]" >&2; exit 2 ;;
esac

SRC_PKG=linux-source-6.1
TARBALL=/usr/src/$SRC_PKG.tar.xz
FRAGMENT=$SCRIPTS/debug-kernel.config
BASE=$CACHE/debug-6.1
JOBS=${JOBS:-$(nproc)}

"$SCRIPTS/deps.sh" "$SRC_PKG" xz-utils gcc make bc flex bison libelf-dev
version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
key=$({ echo "$version"; cat "$FRAGMENT"; } | sha256sum | cut -c1-12)
SRC=$BASE/src-$version
OUT=$BASE/build-$key
KMAKE=(make -C "$SRC" O="$OUT" ARCH=x86_64 -j"$JOBS")

report() {
	if [ "${1:-}" = --release ]; then
		cat "$OUT/include/config/kernel.release"
	else
		echo "$OUT"
	fi
}

mkdir -p "$BASE"
exec 9>"$BASE.lock"
if ! flock -n 9; then
	log "debug kernel: another build holds $BASE.lock, waiting" >&2
	flock 9
fi
if [ -f "$OUT/.mmapdemo-built" ]; then
	report "${1:-}"
	exit 0
fi

# check_config FRAGMENT: every line of FRAGMENT as asked in $OUT/.config.
check_config() {
	local line opt bad=0
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*)
			grep -qxF "$line" "$OUT/.config" && continue
			opt=${line%%=*}
			echo "  $line asked, got: $(grep -E "^(# )?${opt}[= ]" "$OUT/.config" || echo "$opt absent")" >&2
			bad=1
			;;
		'# CONFIG_'*' is not set')
			opt=${line#\# }
			opt=${opt%% *}
			if grep -q "^$opt=" "$OUT/.config"; then
				echo "  $line asked, got: $(grep "^$opt=" "$OUT/.config")" >&2
				bad=1
			fi
			;;
		esac
	done <"$1"
	return "$bad"
}

if [ ! -f "$SRC/.mmapdemo-extracted" ]; then
	log "debug kernel: extracting $TARBALL into $SRC" >&2
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp"
	mv "$SRC.tmp/$SRC_PKG" "$SRC"
	rmdir "$SRC.tmp"
	touch "$SRC/.mmapdemo-extracted"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
log "debug kernel: configuring $OUT (tinyconfig + kvm_guest.config + ${FRAGMENT#"$TOP"/})" >&2
configure() {
	"${KMAKE[@]}" tinyconfig &&
		"$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" \
			"$SRC/kernel/configs/kvm_guest.config" "$FRAGMENT" &&
		"${KMAKE[@]}" olddefconfig
}
run_logged "$OUT/config.log" configure || die "debug kernel: configuration failed (log: $OUT/config.log)"
check_config "$FRAGMENT" ||
	die "debug kernel: options of ${FRAGMENT#"$TOP"/} not set as asked (unmet dependencies?)"
# What the selftests need (their kselftest config fragment) must be there too.
check_config "$TOP/selftests/config" ||
	die "debug kernel: selftests/config asks for options the debug kernel lacks: add them to ${FRAGMENT#"$TOP"/}"

log "debug kernel: building with $JOBS jobs (log: $OUT/build.log)" >&2
t0=$SECONDS
run_logged "$OUT/build.log" "${KMAKE[@]}" bzImage modules ||
	die "debug kernel: build failed (log: $OUT/build.log)"
echo $((SECONDS - t0)) >"$OUT/.mmapdemo-build-time"
touch "$OUT/.mmapdemo-built"
log "debug kernel: built in $((SECONDS - t0)) s; $(du -sh "$BASE" | cut -f1) in $BASE" >&2

# Builds for other fragments or source versions are dead weight now.
for d in "$BASE"/build-* "$BASE"/src-*; do
	[ "$d" = "$OUT" ] || [ "$d" = "$SRC" ] || rm -rf "$d"
done
report "${1:-}"
