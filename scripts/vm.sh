#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/vm.sh TARGET [--judge]: one run of the test VM, for any target.
#
# The host builds the module and the static programs for the VM's kernel,
# packs them, the kselftest collection and ONE command into an initramfs,
# boots it in QEMU (TCG), shows the guest's output and judges the run. The
# guest's /init (scripts/guest-init.sh) knows nothing of targets: it mounts,
# runs the command, and reports its status. What differs between `make
# check`, `make demo` ... is in one small file per target,
# scripts/targets/TARGET.sh (check demo stress shell bench lab fuzz); that
# file's header comment says what the target does and what it reads.
#
# A target file is sourced here (bash) and may set:
#   TIMEOUT=SECONDS  the whole VM run (default 600; 0: none)
#   MEM=2G CPU=max   the guest's memory and QEMU -cpu
#   KERNEL_DEFAULT   the kernel line when KERNEL= is not given
#   PACK="..."       extra host programs for the guest: trinity gdb
#   ENV="NAME..."    host variables handed to the guest verbatim (besides
#                    MMAPDEMO_PARAMS, MMAPDEMO_TIME_FACTOR and the kernel
#                    line's MMAPDEMO_EXPECT_HOOK/MODES, which always are)
#   SUITE=1          the guest needs the kselftest collection (installed in
#                    /mmapdemo/kselftest/mmapdemo, run_kselftest.sh beside it)
#   TAP=1            the guest prints TAP: the verdict counts it
#   INTERACTIVE=1    the command gets the terminal (shell), no timeout
# and defines target_command (required: prints the guest's command, a
# POSIX sh script run by /init) and, optionally, target_build (what the
# guest needs beyond the module and build/bin; default: nothing more),
# target_pack ROOT (extra files into the initramfs) and target_done (after
# the verdict, e.g. fetch results).
#
# Environment (all targets):
#   KERNEL=LINE          a row of scripts/kernel-lines: 6.1 (default, the
#                        host's Debian), 6.12, 7.2 (from a chroot of their
#                        suite in /var/cache/mmapdemo, MMAPDEMO_CACHE=), or a
#                        kernel built there once: debug (= debug-6.1),
#                        debug-7.2, nothp (7.2 without THP)
#   KVER=RELEASE KROOT=DIR  a kernel by hand: its release, and the chroot its
#                        image, modules and build tree are in
#   MMAPDEMO_PARAMS="mode=remap pages=16"  module parameters, to the guest as
#                        they are (each target file says what it does with them)
#   ACCEL=tcg|kvm        default tcg (KVM hangs on some hosts: opt-in only)
#   VM_TIMEOUT=SECONDS   the whole run (default: the target's)
#   BOOT_TIMEOUT=SECONDS no boot marker by then = boot failure (default 120)
#   VM_MEM=2G VM_SMP=2 VM_CPU=max   guest size and CPU model
#   TIME_FACTOR=N        every timeout times N (default 4 on the debug
#                        kernel: KASAN under TCG is about 3 times slower)
#   VERBOSE=1            stream every guest line, not only results
#
# Files: build/vm/console.log (kernel console), build/vm/results.tap (guest
# ttyS1: markers, the command's output, the dmesg dump), build/vm/root/ (the
# initramfs tree), build/vm/*.log (build logs). `scripts/vm.sh TARGET
# --judge` judges the last run again without running it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=${1:-}
targets=$(cd "$SCRIPTS/targets" && for f in *.sh; do printf '%s ' "${f%.sh}"; done)
if [ -z "$TARGET" ] || [ ! -f "$SCRIPTS/targets/$TARGET.sh" ]; then
	die "usage: $0 TARGET [--judge]; targets: $targets(scripts/targets/)"
fi

# What a target may set (see above), before the target file.
TIMEOUT=600 MEM=2G CPU=max KERNEL_DEFAULT='' PACK='' ENV='' SUITE='' TAP='' INTERACTIVE=''
target_build() { :; }
target_pack() { :; }
target_done() { :; }
# shellcheck source=/dev/null # one of scripts/targets/*.sh
. "$SCRIPTS/targets/$TARGET.sh"
declare -F target_command >/dev/null || die "scripts/targets/$TARGET.sh defines no target_command"

KERNEL=${KERNEL:-$KERNEL_DEFAULT}
case ${KERNEL:-} in debug*) TIME_FACTOR=${TIME_FACTOR:-4} ;; esac
TIME_FACTOR=${TIME_FACTOR:-1}
# shellcheck disable=SC2034 # to the guest, through GUEST_ENV
MMAPDEMO_TIME_FACTOR=$TIME_FACTOR
VM=$TOP/build/vm
BIN=$TOP/build/bin
SELFTESTS=$TOP/build/selftests
KROOT=${KROOT:-}
[ -z "$KROOT" ] || KROOT=$(cd "$KROOT" && pwd) || die "KROOT=$KROOT: no such directory"
CONSOLE=$VM/console.log
RESULTS=$VM/results.tap
ACCEL=${ACCEL:-tcg}
VM_TIMEOUT=${VM_TIMEOUT:-$((TIMEOUT * TIME_FACTOR))}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-$((120 * TIME_FACTOR))}
# Time the guest gets for booting and its final report, out of VM_TIMEOUT.
BOOT_ALLOWANCE=$((60 * TIME_FACTOR))
VM_MEM=${VM_MEM:-$MEM}
VM_SMP=${VM_SMP:-2}
VM_CPU=${VM_CPU:-$CPU}
VERBOSE=${VERBOSE:-}
# Set by use_kernel for a kernel built here (debug...): its build tree and image.
VM_KDIR=
VM_KIMAGE=
HOST_DEPS=(qemu-system-x86 busybox-static kmod dash bash cpio gzip xz-utils binutils gcc make
	libc6-dev coreutils rsync linux-image-amd64 linux-headers-amd64 linux-source-6.1)
# Handed to the guest on every target, and the target's own ENV.
GUEST_ENV=(MMAPDEMO_PARAMS MMAPDEMO_TIME_FACTOR MMAPDEMO_EXPECT_HOOK MMAPDEMO_EXPECT_MODES)
read -ra target_env <<<"$ENV"
GUEST_ENV+=("${target_env[@]}")
# shellcheck source=selftests/mmapdemo_badness.sh
. "$TOP/selftests/mmapdemo_badness.sh"
# Badness that TCG on a loaded host can cause without a bug.
STALLS='soft lockup|detected stalls'
# Lines that are only part of some other report (a stall dumps stacks too).
GENERIC='Call Trace:|RIP:'

# ---------------------------------------------------------------- build

# check_vermagic KO: die unless KO was built for $KVER.
check_vermagic() {
	local vermagic
	vermagic=$(modinfo -F vermagic "$1")
	[ "${vermagic%% *}" = "$KVER" ] ||
		die "${1#"$TOP"/} has vermagic '$vermagic', not $KVER"
}

# kbuild DIR ARGS...: Kbuild for the VM's kernel on the tree DIR (under
# this one: in KROOT's chroot it is /src/...), with that line's compiler.
# shellcheck disable=SC2317 # called by the target files
kbuild() {
	local dir=$1 in=() at=$1 rel
	shift
	case $dir/ in "$TOP"/*) ;; *) die "$dir is not under $TOP" ;; esac
	if [ -n "$KROOT" ]; then
		rel=${dir#"$TOP"}
		in=(in_chroot "$KROOT")
		at=/src$rel
	fi
	"${in[@]}" make -C "${VM_KDIR:-/lib/modules/$KVER/build}" M="$at" "$@"
}

build_module() {
	log "building mmapdemo.ko for $KVER${KROOT:+ in $KROOT}"
	run_logged "$VM/module.log" kbuild "$TOP" modules || die "module build failed (log: $VM/module.log)"
	grep -iE 'warning:|error:' "$VM/module.log" || true
	check_vermagic "$TOP/mmapdemo.ko"
}

# True if every program in build/bin and build/selftests is statically
# linked (no ELF interpreter).
all_static() {
	local f
	for f in "$BIN"/* "$SELFTESTS"/*; do
		if [ ! -f "$f" ] || [ ! -x "$f" ]; then continue; fi
		readelf -l "$f" 2>/dev/null | grep -q 'program interpreter' && return 1
	done
	return 0
}

# build_userspace: the static demos, and with SUITE the static selftests
# (`make userspace`: that needs build/kselftest, from the sid chroot).
build_userspace() {
	local what=demos force=()
	[ -z "$SUITE" ] || what=userspace
	log "building the static $what"
	all_static || force=(-B) # a plain `make userspace` left dynamic binaries
	run_logged "$VM/userspace.log" make -C "$TOP" "${force[@]}" "$what" STATIC=1 ||
		die "userspace build failed (log: $VM/userspace.log)"
	all_static || die "build/bin or build/selftests has dynamically linked programs after STATIC=1"
}

# build_pfnmap (for a target_build): the kernel's own VM_PFNMAP selftest
# (scripts/pfnmap.sh), static in build/bin; PFNMAP=0 leaves it out (the
# collection's pfnmap.sh then skips).
# shellcheck disable=SC2317 # called by the target files
build_pfnmap() {
	[ "${PFNMAP:-1}" != 0 ] || { rm -f "$BIN/pfnmap"; return 0; }
	local out
	[ -x "$BIN/pfnmap" ] || log "building the kernel's pfnmap selftest (scripts/pfnmap.sh)"
	run_logged "$VM/pfnmap.log" "$SCRIPTS/pfnmap.sh" ||
		die "scripts/pfnmap.sh failed (log: $VM/pfnmap.log); PFNMAP=0 runs without it"
	out=$(tail -n1 "$VM/pfnmap.log")
	[ "$out" = "$BIN/pfnmap" ] || die "scripts/pfnmap.sh printed '$out', not $BIN/pfnmap"
}

# ---------------------------------------------------------------- initramfs

# copy_kmod NAME DESTDIR: copy module NAME of the guest kernel (decompressed:
# busybox insmod may not read .ko.xz/.ko.zst) into the initramfs tree.
copy_kmod() {
	local src rel
	src=$(find "$KROOT/lib/modules/$KVER/kernel" -name "$1.ko*" -print -quit 2>/dev/null)
	if [ -z "$src" ]; then
		log "warning: no $1 module in $KROOT/lib/modules/$KVER"
		return
	fi
	rel=${src#"$KROOT"/lib/modules/"$KVER"/}
	rel=${rel%.xz}
	rel=${rel%.zst}
	rel=${rel%.gz}
	mkdir -p "$(dirname "$2/$rel")"
	case $src in
	*.xz) xz -dc "$src" >"$2/$rel" ;;
	*.zst) zstd -qdc "$src" >"$2/$rel" ;;
	*.gz) gzip -dc "$src" >"$2/$rel" ;;
	*) cp "$src" "$2/$rel" ;;
	esac
}

# copy_kmod_deps NAME DESTDIR: copy_kmod NAME and every module it needs
# (modules.dep of the guest kernel).
# shellcheck disable=SC2317 # called by the target files
copy_kmod_deps() {
	local dep line
	line=$(grep -E "/$1\.ko[^:]*:" "$KROOT/lib/modules/$KVER/modules.dep" || true)
	copy_kmod "$1" "$2"
	for dep in ${line#*:}; do
		dep=${dep##*/}
		copy_kmod "${dep%%.ko*}" "$2"
	done
}

# copy_with_libs ROOT PROGRAM [AS]: copy a dynamically linked program and the
# libraries it needs into ROOT, at the same paths (the program at AS if given).
copy_with_libs() {
	local f to=${3:-$2}
	mkdir -p "$1$(dirname "$to")"
	cp -L "$2" "$1$to"
	for f in $(ldd "$2" | grep -o '/[^ ]*'); do
		mkdir -p "$1$(dirname "$f")"
		cp -L "$f" "$1$f"
	done
}

# pack_gdb ROOT (for a target_pack): Debian's gdb as ROOT/usr/bin/gdb, with
# its libraries, for the debugger test (selftests/mmapdemo_access.c,
# gdb_prints_bytes). The package gdb-minimal: the full gdb embeds Python and
# aborts at start without Python's standard library, which the initramfs
# does not have. gdb-minimal conflicts with gdb, so it is not installed on
# the host: `apt-get download` fetches its .deb once into
# build/vm/gdb-minimal/, and dpkg-deb unpacks it there. Its libraries are
# all in the host's Debian. In the guest: no data directory, no gdbinit
# (the test runs it with -nx), ptrace as root.
# shellcheck disable=SC2317 # called by the target files
pack_gdb() {
	local dir=$VM/gdb-minimal
	if [ ! -x "$dir/usr/bin/gdb" ]; then
		rm -rf "$dir"
		mkdir -p "$dir"
		(cd "$dir" && apt-get download -q gdb-minimal) >"$VM/gdb-minimal.log" 2>&1 ||
			die "apt-get download gdb-minimal failed (log: $VM/gdb-minimal.log)"
		dpkg-deb -x "$dir"/gdb-minimal_*.deb "$dir"
	fi
	copy_with_libs "$1" "$dir/usr/bin/gdb" /usr/bin/gdb
}

# guest_env: the guest's /mmapdemo/env, every variable of GUEST_ENV that is
# set, single-quoted as it is (no word splitting, no comma-joining).
guest_env() {
	local name value
	for name in "${GUEST_ENV[@]}"; do
		[ -n "${!name+set}" ] || continue
		value=${!name}
		printf "export %s='%s'\n" "$name" "${value//\'/\'\\\'\'}"
	done
}

make_initramfs() {
	log "packing the initramfs"
	local root=$VM/root f
	local kmods=$root/lib/modules/$KVER
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc} \
		"$root/mmapdemo/bin" "$kmods/extra" "$kmods/kernel"

	readelf -l /bin/busybox | grep -q 'program interpreter' &&
		die "/bin/busybox is not static: apt-get install busybox-static"
	# Userland: Debian's own dash (/bin/sh, as on the host), bash (the
	# interactive shell), kmod (module tools), coreutils' timeout (the
	# kselftest runner calls /usr/bin/timeout --foreground) and make (run_tests),
	# busybox applets for the rest. Not busybox sh: Debian's static busybox
	# runs its own applet for any command named like one, insmod included,
	# and busybox insmod runs a failing module init twice.
	for f in /bin/dash /bin/bash /bin/kmod /usr/bin/timeout /usr/bin/make; do
		copy_with_libs "$root" "$f"
	done
	ln -s dash "$root/bin/sh"
	for f in insmod rmmod modinfo modprobe lsmod depmod; do
		ln -s /bin/kmod "$root/sbin/$f"
	done
	cp /bin/busybox "$root/bin/busybox"
	while read -r f; do
		[ -e "$root/$f" ] || [ -L "$root/$f" ] || ln -s /bin/busybox "$root/$f"
	done < <(/bin/busybox --list-full)
	# Users and groups: root, nobody, and group mmapdemo (as
	# udev/60-mmapdemo.rules names it) for the unprivileged tests.
	printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
		'nobody:x:65534:65534:nobody:/nonexistent:/bin/sh' >"$root/etc/passwd"
	printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' 'mmapdemo:x:990:' >"$root/etc/group"
	cp "$SCRIPTS/guest-init.sh" "$root/init"
	chmod 755 "$root/init"
	for f in $PACK; do
		command -v "$f" >/dev/null || die "PACK: no program $f on the host"
		copy_with_libs "$root" "$(command -v "$f")"
	done

	# Modules: pvpanic from the guest kernel's own tree (a kernel built here
	# has it built in), ours in extra/ so that modprobe/modinfo find it.
	if [ -z "$VM_KDIR" ]; then
		copy_kmod pvpanic "$kmods"
		copy_kmod pvpanic-mmio "$kmods"
	fi
	cp "$TOP/mmapdemo.ko" "$root/mmapdemo/mmapdemo.ko"
	ln -s ../../../../mmapdemo/mmapdemo.ko "$kmods/extra/mmapdemo.ko"
	target_pack "$root"
	for f in modules.builtin modules.builtin.modinfo; do
		local src=${VM_KDIR:-$KROOT/lib/modules/$KVER}/$f
		[ ! -f "$src" ] || cp "$src" "$kmods/"
	done
	(cd "$kmods" && find kernel extra -name '*.ko' | LC_ALL=C sort >modules.order)
	depmod -b "$root" "$KVER"

	# The demos and build/bin's other programs; the kselftest collection as
	# installed (run_kselftest.sh -c mmapdemo), its framework beside it.
	cp "$BIN"/* "$root/mmapdemo/bin/"
	if [ -n "$SUITE" ]; then pack_suite "$root/mmapdemo/kselftest"; fi

	# What the guest runs, and with what.
	target_command >"$root/mmapdemo/command"
	{
		guest_env
		echo "export MMAPDEMO_KO=/mmapdemo/mmapdemo.ko"
		echo "export MMAPDEMO_VM_LIMIT=$(guest_limit)"
		[ -z "$INTERACTIVE" ] || echo "export MMAPDEMO_VM_INTERACTIVE=1"
	} >"$root/mmapdemo/env"

	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio -o -H newc -R 0:0 --null --quiet) | gzip -1 >"$VM/initramfs.cpio.gz"
}

# pack_suite DIR: the kselftest collection installed into DIR as the
# kernel's own install lays out a kselftest tree (make kselftest-install).
pack_suite() {
	run_logged "$VM/install.log" make -C "$TOP" kselftest-install INSTALL_PATH="$1" ||
		die "make kselftest-install failed (log: $VM/install.log)"
}

# The guest's time for the command: what VM_TIMEOUT leaves after booting.
guest_limit() {
	local limit=$((VM_TIMEOUT - BOOT_ALLOWANCE))
	[ "$VM_TIMEOUT" -gt 0 ] || limit=86400
	[ "$limit" -ge 30 ] || limit=30
	echo "$limit"
}

# ---------------------------------------------------------------- QEMU

# Kernel command line: init_on_alloc=0 (Debian defaults to 1) so that the
# page allocator does not zero pages for the module: buffer_zero_filled
# then proves that mmapdemo zeroes its buffer itself. Nothing else: what the
# guest needs is in /mmapdemo/env and /mmapdemo/command.
qemu_cmd() {
	local quiet='loglevel=7' pvpanic=pvpanic
	case $ACCEL in
	tcg | kvm) ;;
	*) die "ACCEL=$ACCEL: use tcg or kvm" ;;
	esac
	[ -z "$INTERACTIVE" ] || quiet=quiet
	# A kernel built here has the PCI pvpanic built in (no ACPI for the ISA one).
	if [ -n "$VM_KDIR" ]; then pvpanic='pvpanic-pci'; fi
	# shellcheck disable=SC2054 # QEMU options are comma-separated
	QEMU=(qemu-system-x86_64 -machine "q35,accel=$ACCEL" -cpu "$VM_CPU"
		-smp "$VM_SMP" -m "$VM_MEM" -nodefaults -no-user-config -display none -no-reboot
		-kernel "${VM_KIMAGE:-$KROOT/boot/vmlinuz-$KVER}" -initrd "$VM/initramfs.cpio.gz"
		-append "console=ttyS0 $quiet panic=-1 oops=panic printk.devkmsg=on init_on_alloc=0 rdinit=/init"
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-device "$pvpanic" -action panic=exit-failure)
	QEMU+=("${QEMU_EXTRA[@]}")
	if [ -n "$INTERACTIVE" ]; then
		# ttyS0 and the QEMU monitor on the terminal (Ctrl-A X quits),
		# also logged; Ctrl-C goes to the guest.
		# shellcheck disable=SC2054
		QEMU+=(-chardev "stdio,id=con,mux=on,signal=off,logfile=$CONSOLE"
			-serial chardev:con -mon chardev=con,mode=readline)
	else
		QEMU+=(-serial "file:$CONSOLE")
	fi
	QEMU+=(-serial "file:$RESULTS")
}
# More QEMU options from a target (e.g. a disk).
QEMU_EXTRA=()

# stream QEMU_PID: print the guest's ttyS1 output as it arrives (for a TAP
# target only its results, unless VERBOSE), until QEMU exits.
stream() {
	local line in_dump='' show='^(MMAPDEMO-|(# )*((not )?ok |Bail out!|1\.\.[0-9]))'
	[ -n "$TAP" ] && [ -z "$VERBOSE" ] || show=''
	# grep first: a test can print a lot, and this loop is slow.
	tail -n +1 --pid="$1" -f "$RESULTS" 2>/dev/null | grep --line-buffered -E "$show" |
		while IFS= read -r line; do
			line=${line%$'\r'}
			case $line in
			MMAPDEMO-BOOTED*)
				log "guest booted (kernel ${line#MMAPDEMO-BOOTED }) after $(since "$BOOT_T0") s" ;;
			MMAPDEMO-*-BEGIN) in_dump=1 ;;
			MMAPDEMO-*-END) in_dump='' ;;
			MMAPDEMO-RESULT*) log "guest finished: status ${line#MMAPDEMO-RESULT }" ;;
			MMAPDEMO-GUEST-TIMEOUT*) log "guest timeout: the command was killed after ${line#MMAPDEMO-GUEST-TIMEOUT } s" ;;
			MMAPDEMO-LAB-RUN*) log "checking ${line#MMAPDEMO-LAB-RUN }" ;;
			MMAPDEMO-*) ;;
			*) [ -n "$in_dump" ] || printf '%s\n' "$line" ;;
			esac
		done
}

# Seconds since an elapsed() mark.
since() { awk -v a="$1" -v b="$(elapsed)" 'BEGIN { printf "%.1f", b - a }'; }

# boot_watchdog QEMU_PID: stop QEMU when no boot marker came in BOOT_TIMEOUT.
boot_watchdog() {
	local i
	for ((i = 0; i < BOOT_TIMEOUT; i++)); do
		sleep 1
		kill -0 "$1" 2>/dev/null || return 0
		grep -q '^MMAPDEMO-BOOTED' "$RESULTS" && return 0
	done
	log "no boot marker after $BOOT_TIMEOUT s: stopping QEMU"
	kill -TERM "$1" 2>/dev/null || true
}

# Background jobs of this script, stopped on any exit (Ctrl-C included).
JOBS=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local p
	for p in "${JOBS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# boot_vm: one QEMU run; sets QEMU_RC.
boot_vm() {
	: >"$CONSOLE"
	: >"$RESULTS"
	BOOT_T0=$(elapsed)
	QEMU_RC=0
	if [ -n "$INTERACTIVE" ]; then
		log "booting (the guest's console on this terminal)"
		"${QEMU[@]}" || QEMU_RC=$?
		# QEMU may leave the terminal raw and stdin non-blocking.
		if [ -t 0 ]; then
			stty sane || true
			perl -MFcntl -e 'fcntl(STDIN, F_SETFL, fcntl(STDIN, F_GETFL, 0) & ~O_NONBLOCK)' || true
		fi
		return
	fi
	log "booting $KVER ($ACCEL, timeout ${VM_TIMEOUT}s): console in ${CONSOLE#"$TOP"/}"
	local to=()
	[ "$VM_TIMEOUT" -eq 0 ] || to=(timeout -k 10 "$VM_TIMEOUT")
	"${to[@]}" "${QEMU[@]}" </dev/null &
	local qpid=$!
	stream "$qpid" &
	local spid=$!
	boot_watchdog "$qpid" &
	local wpid=$!
	JOBS=("$qpid" "$spid" "$wpid")
	wait "$qpid" || QEMU_RC=$?
	wait "$spid" || true
	kill "$wpid" 2>/dev/null || true
	wait "$wpid" 2>/dev/null || true
	JOBS=()
	echo "$QEMU_RC" >"$VM/qemu-exit"
	log "QEMU exited with status $QEMU_RC after $(since "$BOOT_T0") s"
}

booted() { grep -q '^MMAPDEMO-BOOTED' "$RESULTS"; }

# ---------------------------------------------------------------- verdict

# The guest's dmesg dump (between its markers in results.tap).
guest_dmesg() { sed -n '/^MMAPDEMO-DMESG-BEGIN/,/^MMAPDEMO-DMESG-END/p' "$RESULTS"; }

# The last value of marker $1 in results.tap.
marker() { sed -n "s/^$1 //p" "$RESULTS" | tail -n1 | tr -d '\r'; }

# Taint flag letters of a /proc/sys/kernel/tainted value.
taint_letters() {
	local letters=PFSRMBUDAWCIOELKXT i out=
	for ((i = 0; i < ${#letters}; i++)); do
		(($1 >> i & 1)) && out+=${letters:i:1}
	done
	echo "$out"
}

# splat FILE: the first kernel report in FILE, from its first line.
splat() {
	awk -v re="$BADNESS" '
		!start && $0 ~ re { start = 1 }
		start && n++ < 60 { print "  | " $0 }
		start && /---\[ end (trace|Kernel panic)/ { exit }' "$1"
}

# tap_part: the guest's output before its dmesg dump, markers left out.
tap_part() { sed -n '/^MMAPDEMO-DMESG-BEGIN/q; /^MMAPDEMO-/d; p' "$RESULTS"; }

# where_stopped: the test running when the run stopped (its "#  RUN" line
# with no result after it), else the last result line.
where_stopped() {
	tap_part | awk '
		/#  RUN / { run = $0; inrun = 1 }
		/^(# )*(not )?ok / { last = $0; inrun = 0 }
		END {
			if (inrun) print "in the test started by: " run
			else if (last != "") print "after: " last
			else print "before any result"
		}'
}

# show_failures: each failing test result with the lines since the result
# before it (for the harness: from its "#  RUN" line; repeated lines
# collapsed); a failing wrapper of an already shown failure is one line.
show_failures() {
	tap_part | awk '
		function add(line) {
			if (n > 0 && line == buf[n - 1]) { rep[n - 1]++; return }
			if (n == 40) return
			buf[n] = line; rep[n++] = 0
		}
		{ add($0); body = $0; d = 0 }
		{ while (substr(body, 1, 2) == "# ") { body = substr(body, 3); d++ } }
		body ~ /^not ok / && shown[d] { print "  (wrapper) " $0 }
		body ~ /^not ok / && !shown[d] {
			print "---- failed:"
			for (i = 0; i < n; i++) {
				print "  " buf[i]
				if (rep[i]) print "  ... the line above " rep[i] " more times"
			}
			if (n == 40 && buf[n - 1] != $0) print "  ...\n  " $0
			for (k = 0; k < d; k++) shown[k] = 1
			n = 0
		}
		body ~ /^(not )?ok / { shown[d] = 0; n = 0 }'
}

FAIL=()
fail() { FAIL+=("$*"); }

judge() {
	local status taint gto expect passed=0 failed=0 skipped=0 kind what

	if [ -n "$INTERACTIVE" ] && [ -z "$(marker MMAPDEMO-RESULT)" ]; then
		log "$TARGET: QEMU stopped before the guest's final report (Ctrl-A X?): nothing to judge"
		return 0
	fi
	if ! booted; then
		fail "infrastructure failure: the guest never booted (no boot marker, 2 tries, QEMU exit $QEMU_RC)"
		[ "$ACCEL" != kvm ] || fail "ACCEL=kvm: KVM fails on some hosts (nested virtualisation); run without ACCEL= for TCG"
		echo "---- last lines of ${CONSOLE#"$TOP"/}:"
		tail -n 30 "$CONSOLE"
	fi
	status=$(marker MMAPDEMO-RESULT)
	taint=$(marker MMAPDEMO-TAINT)
	gto=$(marker MMAPDEMO-GUEST-TIMEOUT)

	if booted; then
		if [ "$QEMU_RC" -eq 124 ] || [ "$QEMU_RC" -eq 137 ]; then
			fail "timeout after $VM_TIMEOUT s (VM_TIMEOUT); $(where_stopped)"
		elif [ -z "$status" ] && [ "$QEMU_RC" -eq 1 ]; then
			fail "guest kernel panicked (pvpanic: QEMU exit 1); $(where_stopped)"
		elif [ -z "$status" ]; then
			fail "the guest stopped without reporting a result (QEMU exit $QEMU_RC)"
		fi
	fi
	if [ -n "$status" ]; then
		expect=$(((2 * status + 1) & 255))
		if [ -n "$gto" ]; then
			fail "guest timeout: the command was killed after $gto s; $(where_stopped)"
		elif [ "$status" -ne 0 ]; then
			fail "the guest's command (scripts/targets/$TARGET.sh) exited with status $status"
		fi
		[ "$QEMU_RC" -eq "$expect" ] ||
			fail "QEMU exit status $QEMU_RC does not match the guest's status $status (expected $expect)"
	fi
	if [ -n "$taint" ] && [ "$taint" -ne 0 ]; then
		fail "kernel tainted: $taint ($(taint_letters "$taint"), O and E masked)"
	fi

	# Kernel reports, in the console log and in the guest's dmesg.
	local bad primary headline
	bad=$({ cat "$CONSOLE"; guest_dmesg; } | without_injection_noise | grep -E "$BADNESS" || true)
	if [ -n "$bad" ]; then
		primary=$(grep -vE "$STALLS|$GENERIC" <<<"$bad" || true)
		if [ -n "$primary" ]; then
			kind="kernel report (BUG/WARNING/Oops...)"
			headline=$primary
		elif grep -qE "$STALLS" <<<"$bad"; then
			kind="soft lockup / RCU stall (possibly TCG slowness on a loaded host, not necessarily a bug)"
			headline=$(grep -E "$STALLS" <<<"$bad")
		else
			kind="kernel stack dump"
			headline=$bad
		fi
		fail "$kind: $(head -n1 <<<"$headline" | sed 's/^.*\] //')"
		echo "---- kernel report:"
		if without_injection_noise <"$CONSOLE" | grep -qE "$BADNESS"; then
			splat <(without_injection_noise <"$CONSOLE")
		else
			splat <(guest_dmesg | without_injection_noise)
		fi
	fi

	if [ -n "$TAP" ] && booted; then
		while read -r kind what; do
			case $kind in
			counts) read -r passed failed skipped <<<"$what" ;;
			problem) fail "TAP: $what" ;;
			esac
		done < <(awk -f "$SCRIPTS/tap-summary.awk" "$RESULTS")
		[ "$failed" -eq 0 ] || show_failures
	fi

	if [ "${#FAIL[@]}" -eq 0 ]; then
		log "$TARGET: PASS"
	else
		log "$TARGET: FAIL"
		printf '  - %s\n' "${FAIL[@]}"
		echo "  full logs: ${CONSOLE#"$TOP"/} (kernel console), ${RESULTS#"$TOP"/} (guest output)"
	fi
	[ -z "$TAP" ] || echo "$TARGET: $passed passed, $failed failed, $skipped skipped"
	[ "${#FAIL[@]}" -eq 0 ]
}

# ---------------------------------------------------------------- main

if [ "${2:-}" = --judge ]; then
	# Judge the last run again, from build/vm (for working on this script).
	QEMU_RC=$(cat "$VM/qemu-exit")
	judge
	exit
fi
log "$TARGET: installing what is missing"
"$SCRIPTS/deps.sh" "${HOST_DEPS[@]}"
EXPECT_HOOK='' EXPECT_MODES=''
if [ -n "${KERNEL:-}" ]; then
	use_kernel "$KERNEL"
	kernel_expect "$KERNEL"
	log "kernel line $KERNEL${KROOT:+ from ${KROOT#"$TOP"/}}"
elif [ -z "${KVER:-}" ] && [ -z "$KROOT" ]; then
	# The host's own Debian kernel: the 6.1 line.
	kernel_expect 6.1
fi
# shellcheck disable=SC2034 # to the guest, through GUEST_ENV
MMAPDEMO_EXPECT_HOOK=$EXPECT_HOOK MMAPDEMO_EXPECT_MODES=$EXPECT_MODES
[ -n "$VM_KDIR" ] || KVER=$(pick_kver)
mkdir -p "$VM"
build_module
build_userspace
target_build
make_initramfs
qemu_cmd

boot_vm
if [ -z "$INTERACTIVE" ] && ! booted; then
	log "infrastructure failure: no boot marker (QEMU exit $QEMU_RC); retrying the boot once"
	tail -n 15 "$CONSOLE" | sed 's/^/  | /'
	boot_vm
fi
rc=0
judge || rc=$?
target_done
exit "$rc"
