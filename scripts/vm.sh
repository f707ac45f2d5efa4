#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/vm.sh check|demo|stress|shell|bench|lab|fuzz [--judge]: build the module and
# the static userspace for the VM's kernel, pack an initramfs, boot it in QEMU and
# judge the run. Called by `make check`, `make demo`, `make stress`, `make shell`,
# `make bench`, `make fuzz`, and for `make lab-check` by scripts/labs.sh.
#
#   check  run selftests/mmapdemo.sh in the guest; TAP on the terminal; the
#          last line is "check: N passed, N failed, N skipped".
#   demo   load the module, run each demo program (userspace/demos.list order,
#          else alphabetical), unload it.
#   stress load the module (MMAPDEMO_PARAMS, default pages=1024), run
#          mmapdemo_stress --duration $DURATION [--seed $SEED], unload it.
#   shell  load the module and give an interactive root shell on the terminal.
#   bench  load the module with a 1 GiB buffer, mount an ext4 image on a
#          virtio-blk disk (made here, build/vm/bench-disk.img), run
#          mmapdemo-bench; its table on the terminal, its CSV in
#          build/bench/bench.csv (scripts/bench-report.sh makes the plots and
#          docs/benchmarks.md from it). QUICK=1: sizes up to 16 MiB, 3 rounds.
#   lab    build each module of LAB_PLAN, then in the guest load each in turn
#          and run its selected tests (scripts/lab-guest.sh); no verdict on
#          the tests (scripts/labs.sh judges them), only on the run.
#   fuzz   run selftests/mmapdemo_fuzz.sh in the guest: trinity against the
#          device as an unprivileged user, once per mode (KERNEL=debug unless
#          KERNEL= says otherwise); TAP and a "check:" line as for check.
#
# Environment:
#   KVER=6.1.0-NN-amd64  guest kernel (default: newest /boot/vmlinuz-*-amd64
#                        with headers; never the running kernel)
#   KERNEL=6.1|6.12|7.2  kernel line (default 6.1, the host's Debian): the
#                        others come from a chroot of their Debian suite,
#                        made on first use in /var/cache/mmapdemo/SUITE (KROOT;
#                        MMAPDEMO_CACHE= to put them elsewhere)
#   KERNEL=debug         the debug kernel (scripts/kernel-build.sh: KASAN,
#                        KFENCE, lockdep, kmemleak, UBSAN, fault injection),
#                        built once into /var/cache/mmapdemo/debug-6.1
#                        (also KERNEL=debug-6.1; KERNEL=debug-7.2: the same
#                        from sid's linux-source-7.2); check
#                        then also runs the fault injection at init, a short
#                        trinity run (FUZZ= seconds per mode, default 20)
#                        and a kmemleak scan. Timeouts are TIME_FACTOR (4)
#                        times longer: KASAN under TCG is about 3 times slower.
#   DURATION=SECONDS SEED=N  fuzz: trinity's time per mode (default 60), seed (1)
#   KERNEL=nothp         7.2 built without transparent huge pages
#                        (scripts/kernel-build.sh nothp-7.2): mode huge refused
#   KROOT=DIR            take the kernel image, its modules and its build tree
#                        from the chroot DIR (scripts/chroot.sh SUITE DIR) and
#                        build the module inside it, with the suite's compiler
#   ACCEL=tcg|kvm        default tcg (KVM hangs on some hosts: opt-in only)
#   VM_TIMEOUT=SECONDS   whole VM run (default: check 600, demo 300, stress
#                        2 * DURATION + 400, shell none, bench 1800, QUICK=1 bench 480)
#   DURATION=SECONDS     stress: how long mmapdemo_stress runs (default 30)
#   SEED=N               stress: its seed (default: a new one, printed)
#   BOOT_TIMEOUT=SECONDS no boot marker by then = boot failure (default 120)
#   VM_MEM=2G VM_SMP=2   guest size (bench: 6G, QUICK=1 bench: 2G)
#   VM_CPU=max           QEMU -cpu (bench under TCG: max,erms=off,fsrm=off)
#   MMAPDEMO_PARAMS="mode=remap pages=16"  module parameters (demo, shell, bench;
#                        bench default pages=262144, QUICK=1 pages=4096)
#   QUICK=1              bench: the short smoke run (also for CI)
#   PFNMAP=0             check: leave out the kernel's VM_PFNMAP selftest
#                        (build/bin/pfnmap, scripts/pfnmap.sh); the suite
#                        then reports it as SKIP
#   VERBOSE=1            check: stream every guest output line, not just results
#   LAB_PLAN=FILE        lab: one line per module to check, "LABEL DIR SELECTOR...":
#                        the module in DIR (under this tree; built with W=1,
#                        log build/vm/lab-LABEL.log) and the mmapdemo_test
#                        tests (-r FIXTURE:VARIANT:TEST) to run on it
#
# Files: build/vm/console.log (kernel console), build/vm/results.tap (guest
# ttyS1: markers, TAP/demo output, dmesg dump), build/vm/*.log (build logs).
# The guest side is scripts/guest-init.sh; the TAP judge scripts/tap-summary.awk.
# `scripts/vm.sh check --judge` judges the last run again without running it.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MODE=${1:-}
if [ "$MODE" = fuzz ]; then
	DURATION=${DURATION:-60} SEED=${SEED:-1}
else
	DURATION=${DURATION:-30} SEED=${SEED:-}
fi
case $MODE in
check) default_timeout=600 ;;
demo) default_timeout=300 ;;
stress)
	case $DURATION in '' | *[!0-9]*) die "DURATION=$DURATION: a number of seconds" ;; esac
	case $SEED in *[!0-9]*) die "SEED=$SEED: a decimal number" ;; esac
	default_timeout=$((2 * DURATION + 400))
	;;
shell) default_timeout=0 ;;
bench) default_timeout=1800 ;;
lab) default_timeout=900 ;;
fuzz) KERNEL=${KERNEL:-debug} ;;
*) die "usage: $0 check|demo|stress|shell|bench|lab|fuzz" ;;
esac
QUICK=${QUICK:-}
[ "$QUICK" != 0 ] || QUICK=
default_mem=2G
default_params=
if [ "$MODE" = bench ]; then
	if [ -n "$QUICK" ]; then
		default_timeout=480 default_params=pages=4096
	else
		default_mem=6G default_params=pages=262144
	fi
fi
# The debug kernels: everything takes TIME_FACTOR times longer.
if [[ ${KERNEL:-} == debug* ]]; then
	TIME_FACTOR=${TIME_FACTOR:-4}
	FUZZ=${FUZZ:-20}
else
	TIME_FACTOR=${TIME_FACTOR:-1}
	FUZZ=${FUZZ:-0}
fi
# fuzz: boot, then up to 5 modes of DURATION plus loading and stopping.
[ "$MODE" != fuzz ] || default_timeout=$((60 + 5 * (DURATION + 60)))
default_timeout=$((default_timeout * TIME_FACTOR))

VM=$TOP/build/vm
KROOT=${KROOT:-}
[ -z "$KROOT" ] || KROOT=$(cd "$KROOT" && pwd) || die "KROOT=$KROOT: no such directory"
BIN=$TOP/build/bin
CONSOLE=$VM/console.log
RESULTS=$VM/results.tap
ACCEL=${ACCEL:-tcg}
VM_TIMEOUT=${VM_TIMEOUT:-$default_timeout}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-$((120 * TIME_FACTOR))}
VM_MEM=${VM_MEM:-$default_mem}
VM_SMP=${VM_SMP:-2}
# bench under TCG: without ERMS/FSRM, so that neither the kernel's copies
# (copy_to_user: read(), pread()) nor glibc's memcpy() use `rep movsb`,
# which TCG emulates one byte at a time, far slower than the vector loops
# used otherwise: with it read() loses to mmap() by an artefact of the
# emulator (compare a QUICK=1 run with VM_CPU=max).
default_cpu=max
[ "$MODE" != bench ] || [ "${ACCEL:-tcg}" != tcg ] || default_cpu=max,erms=off,fsrm=off
VM_CPU=${VM_CPU:-$default_cpu}
MMAPDEMO_PARAMS=${MMAPDEMO_PARAMS:-$default_params}
# Stress: more pages than the default 16, in two 2 MiB chunks (private remap
# mappings across the chunk border are refused: that path is stressed too).
[ "$MODE" != stress ] || MMAPDEMO_PARAMS=${MMAPDEMO_PARAMS:-pages=1024}
VERBOSE=${VERBOSE:-}
PFNMAP=${PFNMAP:-1}
LAB_PLAN=${LAB_PLAN:-}

# Time the guest gets for booting and the final report, out of VM_TIMEOUT.
BOOT_ALLOWANCE=$((60 * TIME_FACTOR))
# Set by use_kernel for a built kernel (KERNEL=debug...): its build tree and image.
VM_KDIR=
VM_KIMAGE=
HOST_DEPS=(qemu-system-x86 busybox-static kmod dash bash cpio gzip xz-utils binutils gcc make
	libc6-dev linux-image-amd64 linux-headers-amd64 linux-source-6.1)
# bench: the disk image (mkfs.ext4) and the plots (scripts/bench-report.sh).
BENCH_DEPS=(e2fsprogs gnuplot-nox)
BENCH_OUT=$TOP/build/bench
BENCH_DISK=$VM/bench-disk.img
# Guest modules for the bench's disk, with what they need (modules.dep).
BENCH_KMODS=(virtio_pci virtio_blk ext4 crc32c_generic crc32c-intel)
# BADNESS: what the guest's own checks call a kernel report.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$TOP/selftests/mmapdemo_lib.sh"
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

build_module() {
	log "building mmapdemo.ko for $KVER${KROOT:+ in $KROOT}"
	# In KROOT the project is at /src (in_chroot bind-mounts it there).
	local in=() top=$TOP
	[ -z "$KROOT" ] || { in=(in_chroot "$KROOT"); top=/src; }
	run_logged "$VM/module.log" "${in[@]}" make -C "$top" module KVER="$KVER" \
		KDIR="${VM_KDIR:-/lib/modules/$KVER/build}" || die "module build failed (log: $VM/module.log)"
	grep -iE 'warning:|error:' "$VM/module.log" || true
	check_vermagic "$TOP/mmapdemo.ko"
}

# The lines of LAB_PLAN, without comments and blank lines.
lab_plan() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$LAB_PLAN"; }

# build_labs: build the module of each LAB_PLAN line with W=1 (Kbuild in
# its directory, which must be under this tree: the chroot sees it at /src).
build_labs() {
	[ -r "$LAB_PLAN" ] || die "lab: LAB_PLAN=$LAB_PLAN: no such file"
	local label dir sels in=() at rel
	[ -z "$KROOT" ] || in=(in_chroot "$KROOT")
	while read -r label dir sels; do
		dir=$(cd "$dir" && pwd) || die "LAB_PLAN: $label: no directory $dir"
		case $dir/ in "$TOP"/*) ;; *) die "LAB_PLAN: $label: $dir is not under $TOP" ;; esac
		rel=${dir#"$TOP"}
		rel=${rel#/}
		at=$dir
		[ -z "$KROOT" ] || at=/src${rel:+/$rel}
		log "building $label (${rel:-.}) for $KVER"
		run_logged "$VM/lab-$label.log" "${in[@]}" make -C "/lib/modules/$KVER/build" \
			M="$at" W=1 modules || die "module build of $label failed (log: $VM/lab-$label.log)"
		check_vermagic "$dir/mmapdemo.ko"
	done < <(lab_plan)
}

# True if every file in build/bin is statically linked (no ELF interpreter).
all_static() {
	local f
	for f in "$BIN"/*; do
		[ -f "$f" ] || continue
		readelf -l "$f" 2>/dev/null | grep -q 'program interpreter' && return 1
	done
	return 0
}

build_userspace() {
	log "building the static demos and selftests"
	local force=()
	all_static || force=(-B) # a plain `make userspace` left dynamic binaries
	run_logged "$VM/userspace.log" make -C "$TOP" "${force[@]}" userspace STATIC=1 ||
		die "userspace build failed (log: $VM/userspace.log)"
	all_static || die "build/bin has dynamically linked programs after STATIC=1"
}

# build_pfnmap: the kernel's own VM_PFNMAP selftest, tools/testing/selftests/
# mm/pfnmap.c from Debian's newest linux-source, static in build/bin (built
# once in the sid chroot, then cached; the first build makes that chroot if
# there is none). Only for check, and not with PFNMAP=0.
build_pfnmap() {
	[ "$MODE" = check ] && [ "$PFNMAP" != 0 ] || return 0
	local out
	[ -x "$BIN/pfnmap" ] || log "building the kernel's pfnmap selftest (scripts/pfnmap.sh)"
	run_logged "$VM/pfnmap.log" "$SCRIPTS/pfnmap.sh" ||
		die "scripts/pfnmap.sh failed (log: $VM/pfnmap.log); PFNMAP=0 checks without it"
	out=$(tail -n1 "$VM/pfnmap.log")
	[ "$out" = "$BIN/pfnmap" ] || die "scripts/pfnmap.sh printed '$out', not $BIN/pfnmap"
}

# ---------------------------------------------------------------- initramfs

# Demo programs to run, "name [args]" per line: userspace/demos.list if it
# exists (comments and blank lines ignored), else every program in build/bin
# that is neither *_test nor built from selftests/, alphabetically.
demo_list() {
	local list=$TOP/userspace/demos.list name
	if [ -f "$list" ]; then
		sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" | while read -r name rest; do
			[ -x "$BIN/$name" ] || die "userspace/demos.list: no program build/bin/$name"
			echo "$name${rest:+ $rest}"
		done
	else
		for name in $(cd "$BIN" && LC_ALL=C ls); do
			case $name in *_test | pfnmap) continue ;; esac
			[ -f "$TOP/selftests/$name.c" ] && continue
			echo "$name"
		done
	fi
}

# copy_kmod NAME DESTDIR: copy module NAME of the guest kernel (decompressed:
# busybox insmod may not read .ko.xz/.ko.zst) into the initramfs tree.
copy_kmod() {
	local src rel
	src=$(find "$KROOT/lib/modules/$KVER/kernel" -name "$1.ko*" -print -quit)
	if [ -z "$src" ]; then
		log "warning: no $1 module in $KROOT/lib/modules/$KVER: a guest panic will not stop QEMU early"
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
copy_kmod_deps() {
	local dep line
	line=$(grep -E "/$1\.ko[^:]*:" "$KROOT/lib/modules/$KVER/modules.dep" || true)
	copy_kmod "$1" "$2"
	for dep in ${line#*:}; do
		dep=${dep##*/}
		copy_kmod "${dep%%.ko*}" "$2"
	done
}

# copy_with_libs ROOT PROGRAM: copy a dynamically linked program and the
# libraries it needs into ROOT, at the same paths.
copy_with_libs() {
	local f
	for f in "$2" $(ldd "$2" | grep -o '/[^ ]*'); do
		mkdir -p "$1$(dirname "$f")"
		cp -L "$f" "$1$f"
	done
}

# Guest timeout for the test script (check) or for each demo: what VM_TIMEOUT
# leaves after booting; for check the selftests' `settings` timeout= if lower
# (as the kselftest runner does).
guest_limit() {
	local limit=$((VM_TIMEOUT - BOOT_ALLOWANCE)) s
	[ "$VM_TIMEOUT" -gt 0 ] || limit=86400
	[ "$limit" -ge 30 ] || limit=30
	[ "$MODE" = check ] || { echo "$limit"; return; }
	s=$(sed -n 's/^timeout=\([0-9][0-9]*\)$/\1/p' "$TOP/selftests/settings" 2>/dev/null || true)
	[ -z "$s" ] || s=$((s * TIME_FACTOR + FUZZ * 10))
	if [ -n "$s" ] && [ "$s" -lt "$limit" ]; then limit=$s; fi
	echo "$limit"
}

write_banner() {
	cat <<EOF

  mmapdemo VM: kernel $KVER, $ACCEL, $VM_SMP CPUs, $VM_MEM, -cpu $VM_CPU
  module loaded: insmod /mmapdemo/mmapdemo.ko $MMAPDEMO_PARAMS
    /dev/mmapdemo                      the device
    /sys/class/misc/mmapdemo           its sysfs directory
    /sys/module/mmapdemo/parameters    its module parameters
    /mmapdemo/bin                      demos and selftest binaries (in PATH)
    /mmapdemo/selftests                the suite: cd there; ./mmapdemo.sh /mmapdemo/mmapdemo.ko
                                       (rmmod mmapdemo first: it loads the module itself)
    rmmod mmapdemo; insmod /mmapdemo/mmapdemo.ko mode=remap pages=16
    dmesg                              the kernel log
  Leave with 'exit' or Ctrl-D: the module is unloaded and the VM powers off.
  Ctrl-A X kills QEMU at once; Ctrl-A C is the QEMU monitor.

EOF
}

make_initramfs() {
	log "packing the initramfs"
	local root=$VM/root f name src
	local kmods=$root/lib/modules/$KVER
	rm -rf "$root"
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,run,root,etc} \
		"$root"/mmapdemo/{bin,selftests} "$kmods/extra" "$kmods/kernel"

	readelf -l /bin/busybox | grep -q 'program interpreter' &&
		die "/bin/busybox is not static: apt-get install busybox-static"
	# Userland: Debian's own dash (/bin/sh, as on the host), bash (the
	# interactive shell) and kmod (module tools), busybox applets for the
	# rest. Not busybox sh: Debian's static busybox runs its own applet for
	# any command named like one, insmod included, and busybox insmod runs a
	# failing module init twice (finit_module, then init_module).
	for f in /bin/dash /bin/bash /bin/kmod; do
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
	cp "$SCRIPTS/guest-init.sh" "$root/init"
	chmod 755 "$root/init"

	# Modules: pvpanic from the guest kernel's own tree, ours in extra/ so
	# that modprobe/modinfo mmapdemo work too.
	if [ -z "$VM_KDIR" ]; then
		copy_kmod pvpanic "$kmods"
		copy_kmod pvpanic-mmio "$kmods"
	fi
	# trinity (Debian's; dynamically linked) for the fuzzing.
	if [ "$MODE" = fuzz ] || [ "$FUZZ" -gt 0 ]; then
		copy_with_libs "$root" /usr/bin/trinity
	fi
	if [ "$MODE" = bench ]; then
		for f in "${BENCH_KMODS[@]}"; do copy_kmod_deps "$f" "$kmods"; done
	fi
	if [ "$MODE" = lab ]; then
		# One module per plan line, loaded in turn by scripts/lab-guest.sh.
		local label dir sels
		mkdir -p "$root/mmapdemo/labs"
		while read -r label dir sels; do
			cp "$dir/mmapdemo.ko" "$root/mmapdemo/labs/$label.ko"
			echo "$label $sels" >>"$root/mmapdemo/labs/plan"
		done < <(lab_plan)
		cp "$SCRIPTS/lab-guest.sh" "$root/mmapdemo/lab-guest.sh"
	else
		cp "$TOP/mmapdemo.ko" "$root/mmapdemo/mmapdemo.ko"
		ln -s ../../../../mmapdemo/mmapdemo.ko "$kmods/extra/mmapdemo.ko"
	fi
	for f in modules.builtin modules.builtin.modinfo; do
		src=${VM_KDIR:-$KROOT/lib/modules/$KVER}/$f
		[ ! -f "$src" ] || cp "$src" "$kmods/"
	done
	(cd "$kmods" && find kernel extra -name '*.ko' | LC_ALL=C sort >modules.order)
	depmod -b "$root" "$KVER"

	# Programs, and the suite beside its binaries (kselftest layout).
	for f in "$BIN"/*; do
		[ -f "$f" ] || continue
		[ "${f##*/}" != pfnmap ] || [ "$PFNMAP" != 0 ] || continue
		cp "$f" "$root/mmapdemo/bin/"
	done
	for f in "$TOP"/selftests/*; do
		[ -e "$f" ] || continue
		name=$(basename "$f")
		case $name in
		*.c) [ -f "$BIN/${name%.c}" ] && ln -s "../bin/${name%.c}" "$root/mmapdemo/selftests/${name%.c}" ;;
		*) cp -r "$f" "$root/mmapdemo/selftests/" ;;
		esac
	done
	if [ "$MODE" = check ] || [ "$MODE" = fuzz ]; then
		f=$root/mmapdemo/selftests/mmapdemo.sh
		[ -f "$f" ] || die "selftests/mmapdemo.sh does not exist"
		chmod +x "$f"
		head -n1 "$f" | grep -q '^#! */bin/sh' ||
			log "warning: selftests/mmapdemo.sh does not start with #!/bin/sh (the guest has busybox sh only)"
	fi
	demo_list >"$root/mmapdemo/demos.list"
	write_banner >"$root/mmapdemo/banner"

	(cd "$root" && find . -print0 | LC_ALL=C sort -z |
		cpio -o -H newc -R 0:0 --null --quiet) | gzip -1 >"$VM/initramfs.cpio.gz"
}

# ---------------------------------------------------------------- QEMU

# Kernel command line: init_on_alloc=0 (Debian defaults to 1) so that the
# page allocator does not zero pages for the module: buffer_zero_filled
# then proves that mmapdemo zeroes its buffer itself.
qemu_cmd() {
	local accel=$ACCEL quiet='loglevel=7'
	case $accel in
	tcg | kvm) ;;
	*) die "ACCEL=$ACCEL: use tcg or kvm" ;;
	esac
	[ "$MODE" = shell ] && quiet=quiet
	local params=${MMAPDEMO_PARAMS// /,} args=
	[ "$MODE" != stress ] || args=--duration,$DURATION${SEED:+,--seed,$SEED}
	local pvpanic=pvpanic
	# The debug kernel has the PCI pvpanic built in (no ACPI for the ISA one).
	[ -z "$VM_KDIR" ] || pvpanic="pvpanic-pci"
	# shellcheck disable=SC2054 # QEMU options are comma-separated
	QEMU=(qemu-system-x86_64 -machine "q35,accel=$accel" -cpu "$VM_CPU"
		-smp "$VM_SMP" -m "$VM_MEM" -nodefaults -no-user-config -display none -no-reboot
		-kernel "${VM_KIMAGE:-$KROOT/boot/vmlinuz-$KVER}" -initrd "$VM/initramfs.cpio.gz"
		-append "console=ttyS0 $quiet panic=-1 oops=panic printk.devkmsg=on init_on_alloc=0 rdinit=/init mmapdemo_vm.run=$MODE mmapdemo_vm.timeout=$(guest_limit) mmapdemo_vm.accel=$accel,cpu=$VM_CPU${QUICK:+ mmapdemo_vm.quick=1}${params:+ mmapdemo_vm.params=$params}${args:+ mmapdemo_vm.args=$args} mmapdemo_vm.time_factor=$TIME_FACTOR mmapdemo_vm.fuzz=$FUZZ mmapdemo_vm.duration=$DURATION mmapdemo_vm.seed=$SEED"
		-device isa-debug-exit,iobase=0xf4,iosize=0x04
		-device "$pvpanic" -action panic=exit-failure)
	# bench: the disk of its cold file, without the host's page cache.
	[ "$MODE" != bench ] ||
		QEMU+=(-drive "file=$BENCH_DISK,if=virtio,format=raw,cache=none")
	if [ "$MODE" = shell ]; then
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

# stream QEMU_PID: print the guest's ttyS1 output as it arrives (results only
# in check mode unless VERBOSE), until QEMU exits.
stream() {
	local line in_dmesg='' show='^(MMAPDEMO-|(# )*((not )?ok |Bail out!|1\.\.[0-9]))'
	if { [ "$MODE" != check ] && [ "$MODE" != fuzz ]; } || [ -n "$VERBOSE" ]; then show=''; fi
	[ "$MODE" != lab ] || [ -n "$VERBOSE" ] || show='^MMAPDEMO-'
	# grep first: a test can print a lot, and this loop is slow.
	tail -n +1 --pid="$1" -f "$RESULTS" 2>/dev/null | grep --line-buffered -E "$show" |
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		MMAPDEMO-BOOTED*)
			log "guest booted (kernel ${line#MMAPDEMO-BOOTED }) after $(since "$BOOT_T0") s" ;;
		MMAPDEMO-DMESG-BEGIN | MMAPDEMO-CSV-BEGIN) in_dmesg=1 ;;
		MMAPDEMO-DMESG-END | MMAPDEMO-CSV-END) in_dmesg='' ;;
		MMAPDEMO-RESULT*) log "guest finished: status ${line#MMAPDEMO-RESULT }" ;;
		MMAPDEMO-LAB-RUN*) log "checking ${line#MMAPDEMO-LAB-RUN }" ;;
		MMAPDEMO-GUEST-TIMEOUT*)
			line=${line#MMAPDEMO-GUEST-TIMEOUT }
			log "guest timeout: ${line#* } killed after ${line%% *} s"
			;;
		MMAPDEMO-*) ;;
		*)
			[ -z "$in_dmesg" ] || continue
			printf '%s\n' "$line"
			;;
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
	if [ "$MODE" = shell ]; then
		log "booting (shell on this terminal)"
		"${QEMU[@]}" || QEMU_RC=$?
		# QEMU may leave the terminal raw and stdin non-blocking.
		if [ -t 0 ]; then
			stty sane || true
			perl -MFcntl -e 'fcntl(STDIN, F_SETFL, fcntl(STDIN, F_GETFL, 0) & ~O_NONBLOCK)' || true
		fi
		return
	fi
	log "booting $KVER ($ACCEL, timeout ${VM_TIMEOUT}s): console in ${CONSOLE#"$TOP"/}"
	timeout -k 10 "$VM_TIMEOUT" "${QEMU[@]}" </dev/null &
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
	local status taint gto expect
	local passed=0 failed=0 skipped=0 kind what

	if [ "$MODE" = shell ] && [ -z "$(marker MMAPDEMO-RESULT)" ]; then
		log "shell: QEMU stopped before the guest's final report (Ctrl-A X?): nothing to judge"
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
			fail "guest timeout: ${gto#* } killed after ${gto%% *} s; $(where_stopped)"
		elif [ "$status" -ne 0 ]; then
			case $MODE in
			check) fail "selftests/mmapdemo.sh exited with status $status" ;;
			lab) fail "scripts/lab-guest.sh exited with status $status" ;;
			fuzz) fail "selftests/mmapdemo_fuzz.sh exited with status $status" ;;
			*) fail "the guest reported status $status (see the output above)" ;;
			esac
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

	if { [ "$MODE" = check ] || [ "$MODE" = fuzz ]; } && booted; then
		while read -r kind what; do
			case $kind in
			counts) read -r passed failed skipped <<<"$what" ;;
			problem) fail "TAP: $what" ;;
			esac
		done < <(awk -f "$SCRIPTS/tap-summary.awk" "$RESULTS")
		[ "$failed" -eq 0 ] || show_failures
	fi

	if [ "${#FAIL[@]}" -eq 0 ]; then
		log "$MODE: PASS"
	else
		log "$MODE: FAIL"
		printf '  - %s\n' "${FAIL[@]}"
		echo "  full logs: ${CONSOLE#"$TOP"/} (kernel console), ${RESULTS#"$TOP"/} (guest output)"
	fi
	[ "$MODE" != check ] && [ "$MODE" != fuzz ] || echo "check: $passed passed, $failed failed, $skipped skipped"
	[ "${#FAIL[@]}" -eq 0 ]
}

# ---------------------------------------------------------------- bench

# make_bench_disk: a fresh ext4 image for the bench's file (sparse; the
# guest writes the file, the host never keeps the image in git).
make_bench_disk() {
	log "making the bench's ext4 disk image ${BENCH_DISK#"$TOP"/}"
	rm -f "$BENCH_DISK"
	truncate -s 512M "$BENCH_DISK"
	run_logged "$VM/mkfs.log" mkfs.ext4 -q -F -L mmapdemo-bench "$BENCH_DISK" ||
		die "mkfs.ext4 failed (log: $VM/mkfs.log)"
}

# save_bench: the guest's CSV (between its markers in results.tap) and the
# terminal table, into build/bench/.
save_bench() {
	mkdir -p "$BENCH_OUT"
	sed -n '/^MMAPDEMO-CSV-BEGIN/,/^MMAPDEMO-CSV-END/{/^MMAPDEMO-/d;p}' "$RESULTS" |
		tr -d '\r' >"$BENCH_OUT/bench.csv"
	tap_part | sed '/^[a-z]*,.*,[0-9]*,/d; /^# kernel=/d; /^test,subject,/d' | tr -d '\r' >"$BENCH_OUT/bench.txt"
	[ -s "$BENCH_OUT/bench.csv" ] || die "bench: the guest sent no CSV (see ${RESULTS#"$TOP"/})"
	log "bench: ${BENCH_OUT#"$TOP"/}/bench.csv ($(grep -vc '^#' "$BENCH_OUT/bench.csv") lines), table in ${BENCH_OUT#"$TOP"/}/bench.txt"
}

# ---------------------------------------------------------------- main

if [ "${2:-}" = --judge ]; then
	# Judge the last run again, from build/vm (for working on this script).
	QEMU_RC=$(cat "$VM/qemu-exit")
	judge
	exit
fi
log "$MODE: installing what is missing"
deps=("${HOST_DEPS[@]}")
[ "$MODE" != bench ] || deps+=("${BENCH_DEPS[@]}")
"$SCRIPTS/deps.sh" "${deps[@]}"
if [ -n "${KERNEL:-}" ]; then
	use_kernel "$KERNEL"
	log "kernel line $KERNEL${KROOT:+ from ${KROOT#"$TOP"/}}"
fi
[ -n "$VM_KDIR" ] || KVER=$(pick_kver)
if [ "$MODE" = fuzz ] || [ "$FUZZ" -gt 0 ]; then "$SCRIPTS/deps.sh" trinity; fi
mkdir -p "$VM"
if [ "$MODE" = lab ]; then build_labs; else build_module; fi
build_userspace
build_pfnmap
make_initramfs
[ "$MODE" != bench ] || make_bench_disk
qemu_cmd

boot_vm
if [ "$MODE" != shell ] && ! booted; then
	log "infrastructure failure: no boot marker (QEMU exit $QEMU_RC); retrying the boot once"
	tail -n 15 "$CONSOLE" | sed 's/^/  | /'
	boot_vm
fi
judge
[ "$MODE" != bench ] || save_bench
