# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# mmapdemo_lib.sh: what the category scripts of run_mmapdemo.sh share
# (sourced by each; it defines functions and variables and, last, checks
# that the script can run at all). POSIX sh with busybox or coreutils, as
# in the test VM: no bash.
#
# A category script lists its results first and runs them after, so that
# its plan is counted, never written by hand:
#
#	case_add "refuse pages=0"	# one line per result: a command
#	...
#	run_cases			# TAP header, plan, each case, totals
#
# Each case ends with exactly one result: `result DESCRIPTION` (ok when
# $bad is empty, else not ok with $bad as the reason), `skip DESCRIPTION`
# or `nested DESCRIPTION COMMAND...`. The TAP lines come from the kernel's
# own kselftest/ktap_helpers.sh (Debian's linux-source, scripts/kselftest.sh).
#
# Environment, all optional:
#   MMAPDEMO_KO            the module (default: `modinfo -n mmapdemo`, i.e.
#                          an installed one; the test VM has it in extra/)
#   MMAPDEMO_PARAMS        module parameters of the suite's one configuration
#                          (suite.sh), of the stress run (stress.sh), of the
#                          demos' load (demos.sh)
#   MMAPDEMO_EXPECT_HOOK   mmap or mmap_prepare: the file operation this kernel
#   MMAPDEMO_EXPECT_MODES  line must use, the modes it must offer (the test VM
#                          sets both from scripts/kernel-lines)
#   MMAPDEMO_TIME_FACTOR   multiplies every timeout (the debug kernel: 4)

here=$(cd "$(dirname "$0")" && pwd)
MOD=mmapdemo
DEV=/dev/$MOD
SYSFS=/sys/class/misc/$MOD
KSFT_SKIP=4
# shellcheck disable=SC2034 # used by the category scripts
TF=${MMAPDEMO_TIME_FACTOR:-1}
# Module loading noise, not from the module's code.
LOADNOISE='taints kernel|tainting kernel'
# Descriptions and reasons are printed unquoted by ktap_helpers.sh: never
# let a '*' in them expand to file names.
set -f

# BADNESS, INJECT_BEGIN/END, without_injection_noise: shared with the host.
# shellcheck source=selftests/mmapdemo_badness.sh
. "$here/mmapdemo_badness.sh"

# ---- where things are ---------------------------------------------------

# The kselftest framework: beside the collection when installed
# (INSTALL_PATH/kselftest/), in build/kselftest in the source tree.
ktap=
for c in "$here/../kselftest/ktap_helpers.sh" "$here/../build/kselftest/kselftest/ktap_helpers.sh"; do
	[ -f "$c" ] && { ktap=$c; break; }
done
if [ -z "$ktap" ]; then
	echo "TAP version 13"
	echo "1..0 # SKIP no kselftest/ktap_helpers.sh (make -C selftests install, or scripts/kselftest.sh)"
	exit $KSFT_SKIP
fi
# shellcheck source=/dev/null # from Debian's linux-source at build time
. "$ktap"

# The test programs: beside the scripts when installed, in build/selftests
# in the source tree. The demos: in PATH, else in build/bin.
bin=
for c in "$here" "$here/../build/selftests"; do
	[ -x "$c/mmapdemo_hold" ] && { bin=$c; break; }
done
demo_bin() {
	command -v "$1" 2>/dev/null ||
		{ [ -x "$here/../build/bin/$1" ] && echo "$here/../build/bin/$1"; }
}
ko=${MMAPDEMO_KO:-$(modinfo -n $MOD 2>/dev/null)}

# ---- results ---------------------------------------------------------------

# case_add CMD: queue one result; run_cases runs them in order.
cases=
case_add() {
	cases="$cases$*
"
}

# skip_all REASON: the whole script skips (kselftest exit code 4).
skip_all() {
	ktap_print_header
	ktap_skip_all "$*"
	exit $KSFT_SKIP
}

# run_cases: the TAP of every queued case, then the totals; exits with
# the kselftest status (0 all passed or skipped, 1 any failed, 4 all
# skipped).
run_cases() {
	_plan=$(printf '%s' "$cases" | grep -c .)
	ktap_print_header
	ktap_set_plan "$_plan"
	_rest=$cases
	while [ -n "$_rest" ]; do
		_line=${_rest%%
*}
		_rest=${_rest#*
}
		bad=
		eval "$_line"
	done
	[ "$KTAP_CNT_PASS" -ne 0 ] || [ "$KTAP_CNT_FAIL" -ne 0 ] || [ "$KTAP_CNT_SKIP" -eq 0 ] || {
		ktap_print_totals
		exit $KSFT_SKIP
	}
	ktap_finished
}

diag() { ktap_print_msg "$*"; }
skip() { ktap_test_skip "$*"; }
# result DESC: ok when $bad is empty, else not ok with $bad as the reason.
result() {
	if [ -z "$bad" ]; then ktap_test_pass "$1"; else ktap_test_fail "$1 # $bad"; fi
}
# problem TEXT: one more reason for the case to fail.
problem() { bad="${bad:+$bad; }$*"; }

# nested DESC CMD...: CMD's own TAP nested under one result (SKIP on exit 4).
nested() {
	_desc=$1
	shift
	{
		"$@" 2>&1
		echo $? >"$tmp/rc"
	} | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
	case $rc in
	0) ktap_test_pass "$_desc" ;;
	"$KSFT_SKIP") ktap_test_skip "$_desc" ;;
	*) ktap_test_fail "$_desc # exit status $rc" ;;
	esac
}

# timed SECONDS CMD...: CMD under a timeout when the system has one.
timed() {
	_secs=$1
	shift
	if command -v timeout >/dev/null; then
		timeout -s KILL "$_secs" "$@"
	else
		"$@"
	fi
}

# ---- the module --------------------------------------------------------------

loaded() { grep -q "^$MOD " /proc/modules 2>/dev/null; }

sysfs() { cat "$SYSFS/$1" 2>/dev/null; }

# Create the device node if nothing else did (no devtmpfs).
ensure_node() {
	[ -c $DEV ] && return 0
	[ -f "$SYSFS/dev" ] || return 1
	mknod $DEV c "$(cut -d: -f1 "$SYSFS/dev")" "$(cut -d: -f2 "$SYSFS/dev")"
}

# load PARAMS...: insmod the module; its output in $tmp/insmod.out.
load() {
	insmod "$ko" "$@" >"$tmp/insmod.out" 2>&1 || {
		sed 's/^/# /' "$tmp/insmod.out"
		return 1
	}
	ensure_node
}

# unload: rmmod when loaded; 0 when the module is gone afterwards.
unload() { ! loaded || rmmod $MOD; }

# gauges_zero: problem unless nothing of the device is mapped any more.
gauges_zero() {
	[ "$(sysfs vmas)" = 0 ] || problem "$(sysfs vmas) VMAs left"
	[ "$(sysfs mapped_pages)" = 0 ] || problem "$(sysfs mapped_pages) pages left mapped"
}

# run_once PROGRAM: the harness program PROGRAM's TAP nested under one
# result, on a fresh pages=16 load (the default mode, fault: each test
# sets its own); afterwards nothing may be left mapped, and the module
# unloads.
run_once() {
	if ! load pages=16; then
		ktap_test_fail "suite $1 pages=16 # insmod failed"
		return
	fi
	nested "suite $1 pages=16" timed "$((1200 * TF))" "$bin/$1"
	gauges_zero
	rmmod $MOD || diag "rmmod after $1 failed"
	[ -z "$bad" ] || diag "after $1: $bad"
}

# read_modes: $offered, the modes the module offers (its sysfs file
# "modes", read from a short load), and $all_modes, every mode of the ABI
# (mmapdemo_hold has them from libmmapdemo, which has them from the uapi).
read_modes() {
	load pages=1 || skip_all "insmod $ko pages=1 failed"
	offered=$(sysfs modes)
	rmmod $MOD
	all_modes=$("$bin/mmapdemo_hold" --list-modes | tr '\n' ' ')
	all_modes=${all_modes% }
	{ [ -n "$offered" ] && [ -n "$all_modes" ]; } || skip_all "cannot tell which modes there are"
}

# is_offered MODE: whether the module offers MODE (after read_modes).
is_offered() {
	case " $offered " in *" $1 "*) return 0 ;; esac
	return 1
}

# ---- the kernel log ------------------------------------------------------------

dmesg_mark() { mark=$(dmesg | wc -l); }
# New log lines since dmesg_mark into $tmp/new.
dmesg_new() { dmesg | tail -n +$((mark + 1)) >"$tmp/new"; }
# Module lines in $tmp/new, without loading noise.
mod_lines() { grep "$MOD:" "$tmp/new" | grep -vE "$LOADNOISE"; }

KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak_clear: forget what kmemleak suspects now (boot-time objects are
# not ours); no-op without kmemleak.
kmemleak_clear() {
	[ -w $KMEMLEAK ] || return 0
	echo scan >$KMEMLEAK && echo clear >$KMEMLEAK
}

# kmemleak_scan FILE: scan for leaks and write kmemleak's report to FILE.
# 0 nothing suspected, 1 leaks (FILE has them), 4 no kmemleak (kernel without
# CONFIG_DEBUG_KMEMLEAK, or debugfs not mounted).
kmemleak_scan() {
	: >"$1"
	[ -w $KMEMLEAK ] || return 4
	# An object is reported only after 5 s unreferenced, and only if two
	# scans agree (Documentation/dev-tools/kmemleak.rst).
	sleep 6
	echo scan >$KMEMLEAK && echo scan >$KMEMLEAK || return 1
	cat $KMEMLEAK >"$1"
	[ ! -s "$1" ]
}

# kmemleak_test WHEN: one result "kmemleak: no leak suspected WHEN", with
# kmemleak's report as "# " lines; SKIP without kmemleak.
kmemleak_test() {
	kmemleak_scan "$tmp/leaks"
	case $? in
	0) ktap_test_pass "kmemleak: no leak suspected $1" ;;
	4) ktap_test_skip "kmemleak: no $KMEMLEAK (kernel without CONFIG_DEBUG_KMEMLEAK)" ;;
	*)
		head -n 100 "$tmp/leaks" | sed 's/^/# kmemleak: /'
		ktap_test_fail "kmemleak: no leak suspected $1 # $(grep -c '^unreferenced object' "$tmp/leaks") objects suspected"
		;;
	esac
}

# ---- set-up ----------------------------------------------------------------------

# need_module: skip the whole script unless it runs as root with a module
# to load, and start it from a clean state (the module unloaded).
need_module() {
	[ "$(id -u)" = 0 ] || skip_all "must be run as root"
	{ [ -n "$ko" ] && [ -f "$ko" ]; } ||
		skip_all "no $MOD.ko: install it (make install) or give MMAPDEMO_KO=path/to/$MOD.ko"
	[ -n "$bin" ] || skip_all "no test programs beside $0 (make -C selftests)"
	if loaded && ! rmmod $MOD; then
		ktap_print_header
		echo "Bail out! $MOD is loaded and busy: cannot start from a clean state"
		exit 1
	fi
}

tmp=$(mktemp -d /tmp/mmapdemo.XXXXXX) || exit 1
# Processes a case started: killed and reaped on any exit.
pids=
# shellcheck disable=SC2317 # called by the EXIT trap
lib_cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	loaded && rmmod $MOD
	rm -rf "$tmp"
}
trap lib_cleanup EXIT
trap 'exit 1' INT TERM HUP
