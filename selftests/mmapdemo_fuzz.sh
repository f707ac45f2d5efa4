#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mmapdemo_fuzz.sh SECONDS [SEED]: fuzz /dev/mmapdemo with trinity (Debian's
# system-call fuzzer, not written here), as root in the test VM.
#
# The module is loaded once per mode it accepts (the list comes from its
# refusal of an unknown mode=, so new modes are fuzzed without a change
# here); the device is opened to an unprivileged user (group mmapfuzz, mode
# 0660, for this run only), and trinity runs as that user for SECONDS per
# mode with seed SEED (default 1), its victim file (-V) the device, its
# other file descriptor sources off, and only the system calls that reach
# the device: the mmap family, read/write and friends, ioctl. Then: no
# kernel report in the log, no VMA left, rmmod works. Finally a kmemleak
# scan (debug kernel; MMAPDEMO_KMEMLEAK=0 leaves it to the caller).
#
# Output: TAP 13; trinity's own summary ("Ran N syscalls...") and its
# per-syscall statistics as "# " lines. Exit 0 all passed, 1 something
# failed, 4 (SKIP) not root, no trinity or no module.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/mmapdemo_lib.sh
. "$here/mmapdemo_lib.sh"
KSFT_SKIP=4
MOD=mmapdemo
DEV=/dev/$MOD
USER=mmapfuzz
FUZZ_ID=4242
SYSCALLS='mmap munmap mremap mprotect madvise msync mlock munlock mincore remap_file_pages read write pread64 pwrite64 readv writev lseek ioctl'
# trinity's other sources of file descriptors: with them off, every fd
# argument is the victim file.
NO_FDS=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm

case ${1:-} in
'' | -h | --help)
	sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
	echo "Environment: MMAPDEMO_KO (default: $here/../$MOD.ko), MMAPDEMO_KMEMLEAK=0."
	[ -n "${1:-}" ] && exit 0
	echo "try --help" >&2
	exit 2
	;;
esac
secs=$1
seed=${2:-1}
case $secs$seed in
*[!0-9]*)
	echo "mmapdemo_fuzz.sh: SECONDS and SEED are numbers; try --help" >&2
	exit 2
	;;
esac
ko=${MMAPDEMO_KO:-$here/../$MOD.ko}

n=0
fails=0
ok() { n=$((n + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); echo "ok $n # SKIP $*"; }
skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}
diag() { echo "# $*"; }
loaded() { grep -q "^$MOD " /proc/modules; }

[ "$(id -u)" = 0 ] || skip_all "must be run as root"
command -v trinity >/dev/null || skip_all "no trinity (Debian package trinity; make fuzz packs it)"
[ -f "$ko" ] || skip_all "no $ko (MMAPDEMO_KO)"
loaded && ! rmmod $MOD && skip_all "$MOD is loaded and busy"

tmp=$(mktemp -d /tmp/mmapdemo-fuzz.XXXXXX) || exit 1
# The user works in $tmp/run.
chmod 0755 "$tmp"
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	pids=$(pidof trinity)
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$pids" ] || kill -KILL $pids
	loaded && rmmod $MOD
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# The unprivileged user.
grep -q "^$USER:" /etc/passwd 2>/dev/null ||
	echo "$USER:x:$FUZZ_ID:$FUZZ_ID:mmapdemo fuzzer:$tmp:/bin/sh" >>/etc/passwd
grep -q "^$USER:" /etc/group 2>/dev/null || echo "$USER:x:$FUZZ_ID:" >>/etc/group

# The modes: what the module names when it refuses an unknown one.
mark=$(dmesg | wc -l)
insmod "$ko" mode=- >/dev/null 2>&1 && { rmmod $MOD; skip_all "insmod mode=- was accepted"; }
modes=$(dmesg | tail -n +$((mark + 1)) | grep "$MOD:.*mode=-" | tail -n1 |
	grep -oE 'mode=[a-z0-9_]+' | sed 's/^mode=//' | tr '\n' ' ' | sed 's/ $//')
[ -n "$modes" ] || skip_all "the module's refusal of mode=- names no modes"
nmodes=$(echo "$modes" | wc -w)

echo "TAP version 13"
kmemleak=${MMAPDEMO_KMEMLEAK:-1}
[ "$kmemleak" = 0 ] || kmemleak_clear
echo "1..$((2 * nmodes + kmemleak))"
diag "trinity $secs s per mode, seed $seed, modes: $modes"
diag "syscalls: $SYSCALLS"

args="-q -l off -a64 -C 4 -s $seed -V $DEV --disable-fds=$NO_FDS --stats"
for c in $SYSCALLS; do args="$args -c $c"; done
total=0
for mode in $modes; do
	mark=$(dmesg | wc -l)
	if ! insmod "$ko" "mode=$mode" >"$tmp/insmod" 2>&1; then
		sed 's/^/# /' "$tmp/insmod"
		not_ok "trinity mode=$mode # insmod failed"
		not_ok "rmmod after trinity mode=$mode # not loaded"
		continue
	fi
	[ -c $DEV ] || mknod $DEV c "$(cut -d: -f1 /sys/class/misc/$MOD/dev)" "$(cut -d: -f2 /sys/class/misc/$MOD/dev)"
	# This run only: the module's own mode stays 0600 root.
	chgrp $USER $DEV && chmod 0660 $DEV
	rm -rf "$tmp/run" && mkdir "$tmp/run" && chown $USER:$USER "$tmp/run"
	t0=$(date +%s)
	# SIGINT: trinity stops its children and prints its summary.
	timeout -s INT -k 60 "$secs" su -s /bin/sh $USER -c "cd $tmp/run && exec trinity $args" \
		</dev/null >"$tmp/out" 2>&1
	rc=$?
	t1=$(date +%s)
	i=0
	while [ -n "$(pidof trinity)" ] && [ $i -lt 60 ]; do
		sleep 1
		i=$((i + 1))
	done
	bad=
	[ -z "$(pidof trinity)" ] || bad="trinity still running after 60 s"
	ran=$(sed -n 's/.*Ran \([0-9][0-9]*\) syscalls.*/\1/p' "$tmp/out" | tail -n1)
	summary=$(grep 'Ran [0-9]* syscalls' "$tmp/out" | tail -n1 | sed 's/^.*\] //')
	if [ -z "$ran" ]; then
		bad="${bad:+$bad; }no 'Ran N syscalls' line (exit status $rc)"
		tail -n 30 "$tmp/out" | sed 's/^/# trinity: /'
	else
		# --stats: "name: (attempted:N. success:N. failures:N." per
		# syscall, then its errnos.
		grep -E 'attempted:|^[[:space:]]+[A-Z].*: [0-9]+$' "$tmp/out" | head -n 80 | sed 's/^/# stats: /'
		total=$((total + ran))
	fi
	[ "$ran" != 0 ] || bad="${bad:+$bad; }trinity ran no syscall"
	dmesg | tail -n +$((mark + 1)) >"$tmp/new"
	if grep -E "$BADNESS" "$tmp/new" >"$tmp/bad"; then
		bad="${bad:+$bad; }kernel report: $(head -n1 "$tmp/bad" | sed 's/^\[[^]]*\] //')"
		head -n 80 "$tmp/new" | sed 's/^/# dmesg: /'
	fi
	diag "mode=$mode: $summary in $((t1 - t0)) s"
	if [ -z "$bad" ]; then
		ok "trinity mode=$mode: ${ran:-0} syscalls in $((t1 - t0)) s, no kernel report"
	else
		not_ok "trinity mode=$mode # $bad"
	fi
	bad=
	vmas=$(cat /sys/class/misc/$MOD/vmas)
	[ "$vmas" = 0 ] || bad="$vmas VMAs left"
	rmmod $MOD 2>"$tmp/rmmod" || bad="${bad:+$bad; }rmmod failed: $(cat "$tmp/rmmod")"
	if [ -z "$bad" ]; then ok "rmmod after trinity mode=$mode"; else not_ok "rmmod after trinity mode=$mode # $bad"; fi
done
diag "trinity: $total syscalls in all, $nmodes modes, $secs s each, seed $seed"

if [ "$kmemleak" = 1 ]; then
	kmemleak_test "after the fuzzing"
fi
[ $fails -eq 0 ]
