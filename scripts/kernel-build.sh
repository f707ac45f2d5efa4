#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kernel-build.sh NAME [--release]: build, once, the kernel NAME that
# `make check KERNEL=...` boots (scripts/lib.sh use_kernel), and print its
# build directory (with --release: its kernel release instead).
#
#   NAME       source                          built with              fragments
#   debug-6.1  Debian's linux-source-6.1       the host's gcc-12       debug-kernel.config
#              (/usr/src, bookworm)
#   debug-7.2  sid's linux-source-7.2          sid's gcc, in the sid   debug-kernel.config
#              ($MMAPDEMO_CACHE/sid/usr/src)   chroot
#   nothp-7.2  sid's linux-source-7.2          as debug-7.2            debug-kernel.config,
#                                                                      nothp-kernel.config
#
# Config: tinyconfig + the kernel's own kernel/configs/kvm_guest.config + the
# fragments, in that order (a later fragment overrides an earlier one). The
# script fails when an option of the fragments did not end up as the last
# fragment that names it asked (olddefconfig silently drops options whose
# dependencies are not met), and when one of selftests/config is missing.
#
# Layout of $MMAPDEMO_CACHE/NAME (default /var/cache/mmapdemo/NAME), never
# under this tree:
#   src-VERSION/        the extracted source (VERSION: the Debian package's)
#   build-KEY/          the O= build directory: .config, bzImage, Module.symvers;
#                       KEY hashes VERSION and the fragments, so a changed
#                       fragment or source package builds a new one (and the
#                       old ones are removed). For debug-6.1 it is computed
#                       as the former scripts/debug-kernel.sh did
#   build-KEY/.mmapdemo-built   written last: the build is complete
#   build-KEY/.mmapdemo-build-time   seconds the build took (make, not extraction)
# One build per NAME at a time (flock on $MMAPDEMO_CACHE/NAME.lock): a second
# worktree waits, then reuses the finished build. Logs: build-KEY/*.log.
#
# The 7.2 kernels are configured and built inside the sid chroot (its
# compiler: gcc-12 cannot build 7.2) with $MMAPDEMO_CACHE/NAME bind-mounted at
# the same path, in a mount namespace of their own (chroot_build in lib.sh):
# no chroot lock is held for the half hour of the build, so module builds
# for KERNEL=7.2 keep working meanwhile. The module is later built against
# the tree in the same chroot, with the same bind mount (use_kernel).
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 debug-6.1|debug-7.2|nothp-7.2 [--release]" >&2; exit 2; }
NAME=${1:-}
case ${2:-} in
'' | --release) ;;
*) usage ;;
esac

# Per kernel: its source package, where the package lives (a chroot, or the
# host), and its fragments.
CHROOT=
FRAGMENTS=("$SCRIPTS/debug-kernel.config")
case $NAME in
debug-6.1) SRC_PKG=linux-source-6.1 ;;
debug-7.2) SRC_PKG=linux-source-7.2 CHROOT=$CACHE/sid ;;
nothp-7.2)
	SRC_PKG=linux-source-7.2 CHROOT=$CACHE/sid
	FRAGMENTS+=("$SCRIPTS/nothp-kernel.config")
	;;
*) usage ;;
esac
TARBALL=$CHROOT/usr/src/$SRC_PKG.tar.xz
BASE=$CACHE/$NAME
JOBS=${JOBS:-$(nproc)}
# What a kernel build needs besides a compiler and make (objtool: libelf).
BUILD_DEPS=(bc flex bison libelf-dev)

if [ -z "$CHROOT" ]; then
	"$SCRIPTS/deps.sh" "$SRC_PKG" xz-utils gcc make "${BUILD_DEPS[@]}"
	version=$(dpkg-query -W -f='${Version}' "$SRC_PKG")
else
	"$SCRIPTS/chroot.sh" sid "$CHROOT" >/dev/null
	# The chroot's apt, under its lock, only for what is missing.
	chroot_install "$CHROOT" "$SRC_PKG" xz-utils "${BUILD_DEPS[@]}"
	# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
	version=$(chroot "$CHROOT" dpkg-query -W -f='${Version}' "$SRC_PKG")
fi
key=$({ echo "$version"; cat "${FRAGMENTS[@]}"; } | sha256sum | cut -c1-12)
SRC=$BASE/src-$version
OUT=$BASE/build-$key
# kmake ARGS...: make in the kernel tree, in the chroot for the 7.2 kernels.
kmake() {
	if [ -n "$CHROOT" ]; then
		chroot_build "$CHROOT" "$BASE" make -C "$SRC" O="$OUT" ARCH=x86_64 -j"$JOBS" "$@"
	else
		make -C "$SRC" O="$OUT" ARCH=x86_64 -j"$JOBS" "$@"
	fi
}

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
	log "$NAME kernel: another build holds $BASE.lock, waiting" >&2
	flock 9
fi
if [ -f "$OUT/.mmapdemo-built" ]; then
	report "${2:-}"
	exit 0
fi

# wanted FRAGMENT...: each option's line from the last fragment naming it.
wanted() {
	sed -nE 's/^(# )?(CONFIG_[A-Za-z0-9_]+)[= ].*/\2 &/p' "$@" |
		awk '{ opt = $1; sub(/^[^ ]+ /, ""); line[opt] = $0; if (!(opt in seen)) order[n++] = opt; seen[opt] = 1 }
			END { for (i = 0; i < n; i++) print line[order[i]] }'
}

# check_config FRAGMENT...: every option as the fragments ask, in $OUT/.config.
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
	done < <(wanted "$@")
	return "$bad"
}

if [ ! -f "$SRC/.mmapdemo-extracted" ]; then
	log "$NAME kernel: extracting $TARBALL into $SRC" >&2
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -xJf "$TARBALL" -C "$SRC.tmp"
	mv "$SRC.tmp/$SRC_PKG" "$SRC"
	rmdir "$SRC.tmp"
	touch "$SRC/.mmapdemo-extracted"
fi

rm -rf "$OUT"
mkdir -p "$OUT/fragments"
# Copies of the fragments in the build directory: the chroot sees $BASE only.
merged=("$SRC/kernel/configs/kvm_guest.config")
names=()
for f in "${FRAGMENTS[@]}"; do
	cp "$f" "$OUT/fragments/"
	merged+=("$OUT/fragments/${f##*/}")
	names+=("${f#"$TOP"/}")
done
log "$NAME kernel: configuring $OUT (tinyconfig + kvm_guest.config + ${names[*]})" >&2
configure() {
	local in=()
	[ -z "$CHROOT" ] || in=(chroot_build "$CHROOT" "$BASE")
	kmake tinyconfig &&
		"${in[@]}" "$SRC/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" "${merged[@]}" &&
		kmake olddefconfig
}
run_logged "$OUT/config.log" configure || die "$NAME kernel: configuration failed (log: $OUT/config.log)"
check_config "${FRAGMENTS[@]}" ||
	die "$NAME kernel: options of ${names[*]} not set as asked (unmet dependencies?)"
# What the selftests need (their kselftest config fragment) must be there too.
check_config "$TOP/selftests/config" ||
	die "$NAME kernel: selftests/config asks for options this kernel lacks: add them to ${names[0]}"

log "$NAME kernel: building with $JOBS jobs${CHROOT:+ in $CHROOT} (log: $OUT/build.log)" >&2
t0=$SECONDS
run_logged "$OUT/build.log" kmake bzImage modules ||
	die "$NAME kernel: build failed (log: $OUT/build.log)"
echo $((SECONDS - t0)) >"$OUT/.mmapdemo-build-time"
touch "$OUT/.mmapdemo-built"
log "$NAME kernel: built in $((SECONDS - t0)) s; $(du -sh "$BASE" | cut -f1) in $BASE" >&2

# Builds for other fragments or source versions are dead weight now.
for d in "$BASE"/build-* "$BASE"/src-*; do
	[ "$d" = "$OUT" ] || [ "$d" = "$SRC" ] || rm -rf "$d"
done
report "${2:-}"
