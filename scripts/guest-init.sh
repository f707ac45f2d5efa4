#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=dash
#
# /init of the mmapdemo test VM (PID 1; /bin/sh is dash, the utilities are
# busybox applets, the module tools kmod's). scripts/vm.sh packs it into the
# initramfs with two files: /mmapdemo/env (variables, as the host had them)
# and /mmapdemo/command (what to run: a sh script from the target's file,
# scripts/targets/TARGET.sh). This file knows no target: it mounts, runs the
# command, and reports. No `set -e`: PID 1 must always reach the end, report
# a status and power the machine off.
#
# From /mmapdemo/env it reads MMAPDEMO_VM_LIMIT (seconds for the command)
# and MMAPDEMO_VM_INTERACTIVE (the command gets the console, no limit).
#
# Serial ports: ttyS0 is the kernel console (build/vm/console.log, or the
# terminal); ttyS1 (build/vm/results.tap) carries everything the host
# parses, so kernel messages never interleave with it:
#   MMAPDEMO-BOOTED <kernel release>
#   ...the command's output...
#   MMAPDEMO-GUEST-TIMEOUT <seconds>  (only when the limit killed the command)
#   MMAPDEMO-DMESG-BEGIN / dmesg / MMAPDEMO-DMESG-END
#   MMAPDEMO-TAINT <taint without O and E>
#   MMAPDEMO-RESULT <status>
# The status byte then goes to the isa-debug-exit port (QEMU exits 2*status+1).

export PATH=/mmapdemo/bin:/mmapdemo/kselftest/mmapdemo:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TERM=linux

mount -t devtmpfs devtmpfs /dev
# The initramfs has no /dev/console node: attach stdio now that /dev exists.
exec </dev/console >/dev/console 2>&1
# What udev makes elsewhere, and the kselftest runner writes to (/dev/stdout).
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin
ln -s fd/1 /dev/stdout
ln -s fd/2 /dev/stderr
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
MMAPDEMO_VM_LIMIT=540
MMAPDEMO_VM_INTERACTIVE=
# shellcheck source=/dev/null # written by scripts/vm.sh
. /mmapdemo/env

stty -F $RESULTS raw -echo
# res LINE...: one line for the host on ttyS1.
res() { echo "$@" >$RESULTS; }

echo "MMAPDEMO-BOOTED $(uname -r)"
res "MMAPDEMO-BOOTED $(uname -r)"

# pvpanic makes QEMU exit 1 on a kernel panic (-action panic=exit-failure).
# A kernel built here has pvpanic-pci built in.
[ -d /sys/bus/pci/drivers/pvpanic-pci ] || modprobe pvpanic-mmio ||
	echo "mmapdemo-vm: cannot load pvpanic: a panic will look like a clean exit"

if [ -n "$MMAPDEMO_VM_INTERACTIVE" ]; then
	sh /mmapdemo/command
	status=$?
else
	t0=$(date +%s)
	timeout -k 10 "$MMAPDEMO_VM_LIMIT" sh /mmapdemo/command </dev/null >$RESULTS 2>&1
	status=$?
	if [ "$status" -ne 0 ] && [ $(($(date +%s) - t0)) -ge "$MMAPDEMO_VM_LIMIT" ]; then
		res "MMAPDEMO-GUEST-TIMEOUT $MMAPDEMO_VM_LIMIT"
	fi
fi

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
