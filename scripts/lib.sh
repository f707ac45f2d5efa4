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
# (objtool and some maintainer scripts need it) and this tree bind-mounted
# at /src; both are unmounted afterwards, also on failure. One run at a
# time per chroot (flock on ROOT.lock): /src must be this tree, never the
# tree of another run sharing the chroot. A mount left by a killed run is
# replaced. CHROOT_BIND=DIR (use_kernel sets it for a kernel built in the
# chroot, scripts/kernel-build.sh) also bind-mounts DIR at the same path
# inside, so that a kernel build tree has one path inside and out.
in_chroot() (
	local root=$1 m bind=${CHROOT_BIND:-}
	shift
	# shellcheck disable=SC2317 # called by the EXIT trap
	undo() {
		for m in ${bind:+"$root$bind"} "$root/src" "$root/proc"; do
			! mountpoint -q "$m" || umount "$m" 2>/dev/null || umount -l "$m"
		done
	}
	exec 9>"$root.lock"
	flock 9
	trap undo EXIT
	undo
	mkdir -p "$root/proc" "$root/src" ${bind:+"$root$bind"}
	mount -t proc proc "$root/proc"
	mount --bind "$TOP" "$root/src"
	[ -z "$bind" ] || mount --bind "$bind" "$root$bind"
	"${CHROOT_ENV[@]}" chroot "$root" "$@" 9>&-
)

# The environment of a command run in a chroot: nothing of the caller's.
CHROOT_ENV=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8
	DEBIAN_FRONTEND=noninteractive INITRD=No)

# chroot_build ROOT DIR CMD...: run CMD in the chroot ROOT with /proc and DIR
# (bind-mounted at the same path inside) mounted in a private mount namespace
# of CMD's own: nothing shows outside, another run's mounts and unmounts in
# ROOT do not reach it, and it takes no chroot lock (scripts/kernel-build.sh
# builds a kernel this way, for half an hour, without stopping every other
# module build in ROOT meanwhile). No /src: CMD sees DIR only.
chroot_build() {
	local root=$1 dir=$2
	shift 2
	mkdir -p "$root/proc" "$root$dir"
	# shellcheck disable=SC2016 # expanded by the inner shell
	unshare --mount --propagation private sh -c '
		mount -t proc proc "$1/proc" && mount --bind "$2" "$1$2" && shift 2 && exec "$@"' \
		sh "$root" "$dir" "${CHROOT_ENV[@]}" chroot "$root" "$@"
}

# chroot_install ROOT PACKAGE...: install in the chroot ROOT whichever of
# PACKAGE... is missing (apt-get, under the chroot's lock).
chroot_install() {
	local root=$1 pkg status missing=()
	shift
	for pkg in "$@"; do
		# shellcheck disable=SC2016 # a dpkg-query format, not an expansion
		status=$(chroot "$root" dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null) || true
		[ "$status" = installed ] || missing+=("$pkg")
	done
	[ "${#missing[@]}" -gt 0 ] || return 0
	log "chroot: installing in $root: ${missing[*]}" >&2
	run_logged "$root.apt.log" in_chroot "$root" sh -c \
		'apt-get install -y -q --no-install-recommends "$@" ||
		{ apt-get update -q -o Acquire::Check-Valid-Until=false &&
		  apt-get install -y -q --no-install-recommends "$@"; }' sh "${missing[@]}" >&2 ||
		die "apt-get install ${missing[*]} in $root failed (log: $root.apt.log)"
	chroot "$root" apt-get clean
}

# Where the kernel-line chroots live (about 0.7 GiB each). Not under this
# tree: Kbuild's `make M=<this tree> clean` deletes every *.o, *.ko and *.a
# below the module directory, which would gut a chroot kept there.
CACHE=${MMAPDEMO_CACHE:-/var/cache/mmapdemo}

# The kernel lines the project is tested on: scripts/kernel-lines, one row
# per line (LINE SUITE KIND HOOK MODES). To add a line: one row there.
KERNEL_LINES=$SCRIPTS/kernel-lines

# kernel_row LINE: the row of LINE (its fields after LINE), or status 1.
kernel_row() {
	awk -v l="$1" '!/^#/ && $1 == l { $1 = ""; sub(/^ +/, ""); print; found = 1 } END { exit !found }' \
		"$KERNEL_LINES"
}

# The packaged lines, in table order: what make matrix runs.
# shellcheck disable=SC2034 # used by the scripts that source this file
KERNELS=$(awk '!/^#/ && NF && $3 == "deb" { printf "%s%s", sep, $1; sep = " " }' "$KERNEL_LINES")

kernel_suite() {
	local row
	row=$(kernel_row "$1") || return 1
	echo "${row%% *}"
}

# kernel_expect LINE: set EXPECT_HOOK and EXPECT_MODES from LINE's row
# (empty for an unknown line: KVER= or KROOT= given by hand).
kernel_expect() {
	local row suite kind
	EXPECT_HOOK='' EXPECT_MODES=''
	row=$(kernel_row "$1") || return 0
	# shellcheck disable=SC2034 # used by vm.sh
	read -r suite kind EXPECT_HOOK EXPECT_MODES <<<"$row"
}

# The kernels built here from Debian's linux-source (scripts/kernel-build.sh)
# rather than packaged: the rows of scripts/kernel-lines whose KIND is not
# deb. built_kernel LINE: that KIND, the build's name, or status 1.
# shellcheck disable=SC2034 # used by the scripts that source this file
BUILT_KERNELS=$(awk '!/^#/ && NF && $3 != "deb" { printf "%s%s", sep, $1; sep = " " }' "$KERNEL_LINES")
built_kernel() {
	local row suite kind
	row=$(kernel_row "$1") || return 1
	read -r suite kind _ <<<"$row"
	[ "$kind" != deb ] && echo "$kind"
}

# use_kernel LINE: set KROOT for kernel line LINE (empty: the host's),
# creating its chroot on first use, and check that the kernel found there
# is of that line (a suite may move on to a newer one).
# A LINE of BUILT_KERNELS is a kernel scripts/kernel-build.sh builds once
# (no package): use_kernel sets KVER, VM_KDIR (its build tree, which the
# module is built against) and VM_KIMAGE (its bzImage); for the 7.2 ones
# also KROOT, the sid chroot whose compiler builds the module, and
# CHROOT_BIND, the kernel's cache directory, bind-mounted there so that
# VM_KDIR is the same path inside the chroot. Such a kernel has everything
# the VM needs built in (pvpanic-pci, serial console, devtmpfs): no module
# of its own goes into the initramfs, and QEMU gets -device pvpanic-pci.
use_kernel() {
	local line=$1 suite kver name
	if name=$(built_kernel "$line"); then
		KROOT=
		VM_KDIR=$("$SCRIPTS/kernel-build.sh" "$name") || die "KERNEL=$line: scripts/kernel-build.sh $name failed"
		KVER=$(cat "$VM_KDIR/include/config/kernel.release")
		# shellcheck disable=SC2034 # used by vm.sh
		VM_KIMAGE=$VM_KDIR/arch/x86/boot/bzImage
		suite=$(kernel_suite "$line")
		[ "$suite" = bookworm ] || KROOT=$CACHE/$suite CHROOT_BIND=$CACHE/$name
		return
	fi
	suite=$(kernel_suite "$line") || die "KERNEL=$line: not a kernel line of this project (one of: $KERNELS, or a built kernel: $BUILT_KERNELS)"
	KROOT=
	if [ "$suite" != bookworm ]; then
		KROOT=$CACHE/$suite
		"$SCRIPTS/chroot.sh" "$suite" "$KROOT" >/dev/null
	fi
	kver=$(pick_kver)
	case $kver in
	"$line".* | "$line"-*) ;;
	*) die "KERNEL=$line: $suite now has kernel $kver, of another line: update scripts/kernel-lines" ;;
	esac
}
