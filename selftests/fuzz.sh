#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# fuzz.sh SECONDS [SEED]: fuzz /dev/mmapdemo with trinity (Debian's
# system-call fuzzer, not written here), as root in the test VM.
#
# The module is loaded once per mode it offers (its sysfs file "modes", so
# new modes are fuzzed without a change here); the device is opened to an unprivileged user (group mmapfuzz, mode
# 0660, for this run only), and trinity runs as that user for SECONDS per
# mode with seed SEED (default 1), its victim file (-V) the device, its
# other file descriptor sources off, and only the system calls that reach
# the device: the mmap family, read/write and friends, ioctl. Then: no
# kernel report in the log, no VMA left, rmmod works. Finally a kmemleak
# scan (debug kernel; MMAPDEMO_KMEMLEAK=0 leaves it to the caller).
#
# Output: TAP 13 (`make fuzz`, or nested by debug.sh); trinity's own summary ("Ran N syscalls...") and its
# per-syscall statistics as "# " lines. Exit 0 all passed, 1 something
# failed, 4 (SKIP) not root, no trinity or no module.

case ${1:-} in
'' | -h | --help)
	sed -n '4,20p' "$0" | sed 's/^# \{0,1\}//'
	echo "Environment: MMAPDEMO_KO (default: the installed module), MMAPDEMO_KMEMLEAK=0."
	[ -n "${1:-}" ] && exit 0
	echo "try --help" >&2
	exit 2
	;;
esac
secs=$1
seed=${2:-1}
case $secs$seed in
*[!0-9]*)
	echo "fuzz.sh: SECONDS and SEED are numbers; try --help" >&2
	exit 2
	;;
esac
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module
command -v trinity >/dev/null || skip_all "no trinity (Debian package trinity; make fuzz packs it)"

USER=mmapfuzz
FUZZ_ID=4242
SYSCALLS='mmap munmap mremap mprotect madvise msync mlock munlock mincore remap_file_pages read write pread64 pwrite64 readv writev lseek ioctl'
# trinity's other sources of file descriptors: with them off, every fd
# argument is the victim file.
NO_FDS=sockets,pipes,perf,epoll,eventfd,timerfd,testfile,memfd,drm
# The user works in $tmp/run.
chmod 0755 "$tmp"
# Stop trinity on any exit, before the library's cleanup unloads.
# shellcheck disable=SC2317 # called by the EXIT trap
fuzz_cleanup() {
	tpids=$(pidof trinity)
	# shellcheck disable=SC2086 # a list of pids
	[ -z "$tpids" ] || kill -KILL $tpids
	lib_cleanup
}
trap fuzz_cleanup EXIT

# The unprivileged user.
grep -q "^$USER:" /etc/passwd 2>/dev/null ||
	echo "$USER:x:$FUZZ_ID:$FUZZ_ID:mmapdemo fuzzer:$tmp:/bin/sh" >>/etc/passwd
grep -q "^$USER:" /etc/group 2>/dev/null || echo "$USER:x:$FUZZ_ID:" >>/etc/group

# The modes: what the module offers.
read_modes
modes=$offered

kmemleak=${MMAPDEMO_KMEMLEAK:-1}
[ "$kmemleak" = 0 ] || kmemleak_clear
args="-q -l off -a64 -C 4 -s $seed -V $DEV --disable-fds=$NO_FDS --stats"
for c in $SYSCALLS; do args="$args -c $c"; done
loaded_ok=

# trinity_mode MODE: trinity for $secs s against the module in MODE, as the
# unprivileged user: it ran system calls, and the kernel reported nothing.
trinity_mode() {
	mode=$1
	mark=$(dmesg | wc -l)
	loaded_ok=
	# shellcheck disable=SC2086 # a list of parameters
	if ! load "mode=$mode" ${MMAPDEMO_PARAMS:-}; then
		ktap_test_fail "trinity mode=$mode # insmod failed"
		return
	fi
	loaded_ok=1
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
	[ -z "$(pidof trinity)" ] || problem "trinity still running after 60 s"
	ran=$(sed -n 's/.*Ran \([0-9][0-9]*\) syscalls.*/\1/p' "$tmp/out" | tail -n1)
	summary=$(grep 'Ran [0-9]* syscalls' "$tmp/out" | tail -n1 | sed 's/^.*\] //')
	if [ -z "$ran" ]; then
		problem "no 'Ran N syscalls' line (exit status $rc)"
		tail -n 30 "$tmp/out" | sed 's/^/# trinity: /'
	else
		# --stats: "name: (attempted:N. success:N. failures:N." per
		# syscall, then its errnos.
		grep -E 'attempted:|^[[:space:]]+[A-Z].*: [0-9]+$' "$tmp/out" | head -n 80 | sed 's/^/# stats: /'
	fi
	[ "$ran" != 0 ] || problem "trinity ran no syscall"
	dmesg | tail -n +$((mark + 1)) >"$tmp/new"
	if grep -E "$BADNESS" "$tmp/new" >"$tmp/bad"; then
		problem "kernel report: $(head -n1 "$tmp/bad" | sed 's/^\[[^]]*\] //')"
		head -n 80 "$tmp/new" | sed 's/^/# dmesg: /'
	fi
	diag "mode=$mode: $summary in $((t1 - t0)) s"
	result "trinity mode=$mode: ${ran:-0} syscalls in $((t1 - t0)) s, no kernel report"
}

# rmmod_after MODE: nothing stays mapped, and the module unloads.
rmmod_after() {
	if [ -z "$loaded_ok" ]; then
		problem "not loaded"
	else
		[ "$(sysfs vmas)" = 0 ] || problem "$(sysfs vmas) VMAs left"
		rmmod $MOD 2>"$tmp/rmmod" || problem "rmmod failed: $(cat "$tmp/rmmod")"
	fi
	result "rmmod after trinity mode=$1"
}

diag "trinity $secs s per mode, seed $seed, modes: $modes"
diag "syscalls: $SYSCALLS"
for mode in $modes; do
	case_add trinity_mode "$mode"
	case_add rmmod_after "$mode"
done
[ "$kmemleak" = 0 ] || case_add kmemleak_test "'after the fuzzing'"
run_cases
