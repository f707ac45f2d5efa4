#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# /init of the mmapdemo test VM (PID 1; /bin/sh is dash, the utilities are
# busybox applets, the module tools kmod's). scripts/vm.sh packs it
# into the initramfs. No `set -e`: PID 1 must always reach the end, report a
# status and power the machine off.
#
# Kernel command line (read from /proc/cmdline):
#   mmapdemo_vm.run=check|demo|stress|shell|bench|lab  what to do
#   mmapdemo_vm.timeout=SECONDS       limit for the tests / each demo
#   mmapdemo_vm.params=a=1,b=2        module parameters for demo, stress, shell, bench
#   mmapdemo_vm.args=--duration,30    arguments of mmapdemo_stress (stress)
#   mmapdemo_vm.accel=tcg|kvm         the accelerator QEMU runs (for bench)
#   mmapdemo_vm.quick=1               bench: the short run
#   mmapdemo_vm.time_factor=N         the suite's own timeouts times N
#                                     (MMAPDEMO_TIME_FACTOR; the debug kernel)
#   mmapdemo_vm.fuzz=SECONDS          check: trinity's time per mode (MMAPDEMO_FUZZ)
#   mmapdemo_vm.duration=SECONDS      fuzz: trinity's time per mode
#   mmapdemo_vm.seed=N                trinity's seed (MMAPDEMO_FUZZ_SEED)
#
# Serial ports: ttyS0 is the kernel console (build/vm/console.log, or the
# terminal in shell mode); ttyS1 (build/vm/results.tap) carries everything the
# host parses, so kernel messages never interleave with it:
#   MMAPDEMO-BOOTED <kernel release>
#   ...test TAP / demo / bench output...
#   MMAPDEMO-CSV-BEGIN / the bench's CSV / MMAPDEMO-CSV-END  (bench only)
#   MMAPDEMO-GUEST-TIMEOUT <seconds>  (only when the guest's timeout fired)
#   MMAPDEMO-DMESG-BEGIN / dmesg / MMAPDEMO-DMESG-END
#   MMAPDEMO-TAINT <taint without O and E>
#   MMAPDEMO-RESULT <status>
# The status byte then goes to the isa-debug-exit port (QEMU exits 2*status+1).

export PATH=/mmapdemo/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=linux
export MMAPDEMO_KO=/mmapdemo/mmapdemo.ko MMAPDEMO_BIN=/mmapdemo/bin

mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node: attach stdio now that /dev exists.
exec </dev/console >/dev/console 2>&1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
hostname mmapdemo-vm

RESULTS=/dev/ttyS1
KO=$MMAPDEMO_KO
run=check
limit=540
params=
accel=unknown
quick=
args=
duration=60
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case $arg in
	mmapdemo_vm.run=*) run=${arg#*=} ;;
	mmapdemo_vm.timeout=*) limit=${arg#*=} ;;
	mmapdemo_vm.params=*) params=$(echo "${arg#*=}" | tr , ' ') ;;
	mmapdemo_vm.accel=*) accel=${arg#*=} ;;
	mmapdemo_vm.quick=*) quick=--quick ;;
	mmapdemo_vm.args=*) args=$(echo "${arg#*=}" | tr , ' ') ;;
	mmapdemo_vm.time_factor=*) export MMAPDEMO_TIME_FACTOR="${arg#*=}" ;;
	mmapdemo_vm.fuzz=*) export MMAPDEMO_FUZZ="${arg#*=}" ;;
	mmapdemo_vm.duration=*) duration=${arg#*=} ;;
	mmapdemo_vm.seed=*) export MMAPDEMO_FUZZ_SEED="${arg#*=}" ;;
	esac
done

stty -F $RESULTS raw -echo
# res LINE...: one line for the host on ttyS1.
res() { echo "$@" >$RESULTS; }

echo "MMAPDEMO-BOOTED $(uname -r)"
res "MMAPDEMO-BOOTED $(uname -r)"

# pvpanic makes QEMU exit 1 on a kernel panic (-action panic=exit-failure).
# The debug kernel has pvpanic-pci built in.
[ -d /sys/bus/pci/drivers/pvpanic-pci ] || modprobe pvpanic-mmio ||
	echo "mmapdemo-vm: cannot load pvpanic: a panic will look like a clean exit"

status=0

# guarded SECONDS CMD...: run CMD under a timeout, stdin from /dev/null,
# output to ttyS1; sets $rc and reports a timeout to the host.
guarded() {
	_secs=$1
	shift
	_t0=$(date +%s)
	timeout -k 10 "$_secs" "$@" </dev/null >$RESULTS 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && [ $(($(date +%s) - _t0)) -ge "$_secs" ]; then
		res "MMAPDEMO-GUEST-TIMEOUT $_secs $*"
	fi
}

# load_module: insmod the module with $params; a failure fails the run.
load_module() {
	# shellcheck disable=SC2086 # $params is a list of words
	insmod $KO $params >$RESULTS 2>&1 || { res "mmapdemo-vm: insmod $KO $params failed"; status=1; }
}

case $run in
check)
	# The suite loads and unloads the module itself, once per mode.
	cd /mmapdemo/selftests || status=1
	guarded "$limit" ./mmapdemo.sh $KO
	status=$rc
	cd /
	;;
demo)
	load_module
	# demos.list: "program [args...]" per line, in order (made by vm.sh).
	ndemos=$(wc -l </mmapdemo/demos.list)
	i=0
	while read -r prog args; do
		i=$((i + 1))
		res ""
		res "==== demo $i of $ndemos: $prog${args:+ $args}"
		# shellcheck disable=SC2086 # $args is a list of words
		guarded "$limit" "/mmapdemo/bin/$prog" $args
		if [ "$rc" -ne 0 ]; then
			res "==== $prog: FAILED, exit status $rc"
			status=1
		fi
	done </mmapdemo/demos.list
	;;
bench)
	# The cold file lives on the virtio-blk disk (/dev/vda, ext4).
	for m in virtio_pci virtio_blk crc32c_generic ext4; do
		modprobe $m >$RESULTS 2>&1 || res "mmapdemo-vm: modprobe $m failed"
	done
	mkdir -p /mnt/bench
	i=0
	while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
	filedir=
	if mount -t ext4 /dev/vda /mnt/bench >$RESULTS 2>&1; then
		filedir="--file-dir /mnt/bench"
	else
		res "mmapdemo-vm: cannot mount /dev/vda: the bench's file targets fail"
		status=1
	fi
	load_module
	export MMAPDEMO_ACCEL="$accel"
	# shellcheck disable=SC2086 # $quick and $filedir are lists of words
	guarded "$limit" mmapdemo-bench $quick $filedir --csv /tmp/bench.csv
	[ "$rc" -eq 0 ] || { res "==== mmapdemo-bench: FAILED, exit status $rc"; status=1; }
	if [ -f /tmp/bench.csv ]; then
		res MMAPDEMO-CSV-BEGIN
		cat /tmp/bench.csv >$RESULTS
		res MMAPDEMO-CSV-END
	fi
	! mountpoint -q /mnt/bench || umount /mnt/bench >$RESULTS 2>&1
	;;
lab)
	# make lab-check: each lab module in turn, its tests (scripts/labs.sh).
	guarded "$limit" /mmapdemo/lab-guest.sh /mmapdemo/labs/plan
	status=$rc
	;;
stress)
	load_module
	# shellcheck disable=SC2086 # $args is a list of words
	[ "$status" -ne 0 ] || guarded "$limit" /mmapdemo/bin/mmapdemo_stress $args
	[ "$status" -ne 0 ] || status=$rc
	;;
fuzz)
	cd /mmapdemo/selftests || status=1
	guarded "$limit" ./mmapdemo_fuzz.sh "$duration" "${MMAPDEMO_FUZZ_SEED:-1}"
	status=$rc
	cd /
	;;
shell)
	load_module
	cat /mmapdemo/banner
	PS1='mmapdemo-vm:\w# ' setsid cttyhack bash
	;;
*)
	echo "mmapdemo-vm: unknown mmapdemo_vm.run=$run"
	status=2
	;;
esac

# Unload whatever is still loaded: unload-time bugs show up here too.
if grep -q '^mmapdemo ' /proc/modules; then
	rmmod mmapdemo >$RESULTS 2>&1 || { res "mmapdemo-vm: rmmod mmapdemo failed"; [ "$status" -ne 0 ] || status=1; }
fi

res MMAPDEMO-DMESG-BEGIN
dmesg >$RESULTS
res MMAPDEMO-DMESG-END
# O (4096, out-of-tree) and E (8192, unsigned) are expected for our module.
res "MMAPDEMO-TAINT $(($(cat /proc/sys/kernel/tainted) & ~(4096 | 8192)))"
res "MMAPDEMO-RESULT $status"
# Every write to ttyS1 above closed it, and the last close waits until the
# UART has sent everything: the host has it all before QEMU exits.
# shellcheck disable=SC2059 # the format is the octal escape of the byte
printf "\\$(printf %03o $((status & 255)))" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
# Only reached without isa-debug-exit.
poweroff -f
