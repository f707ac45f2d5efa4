#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mmapdemo.sh [path/to/mmapdemo.ko]: the mmapdemo kselftest, as root.
#
# Loads and unloads the module itself: refused parameters, then
# mmapdemo_test once per configuration (mode x pages), rmmod while a
# mapping is held (and cycles of it), the kernel's own VM_PFNMAP selftest
# (mm/pfnmap.c, built by scripts/pfnmap.sh) in each mode, load/unload
# cycles checked for leaks, rmmod racing with opens, a short
# mmapdemo_stress run,
# every demo of demos.list as a smoke test (exit 0 and the key lines of
# demos.expect), and finally the kernel log. POSIX sh with busybox applets (dash or busybox sh; kmod's or
# busybox's insmod/rmmod/modinfo), as in the test VM.
#
# Output: TAP 13 with a plan. mmapdemo_test's own TAP is nested with "# "
# prefixes; its result is reported as "ok N suite mmapdemo_test mode=.. pages=..".
# pfnmap's TAP is nested the same way.
# Exit: 0 all passed, 1 something failed, 4 (kselftest SKIP) when not root
# or no module. The module is unloaded on every exit path.

here=$(cd "$(dirname "$0")" && pwd)
KSFT_SKIP=4
MOD=mmapdemo
SYSFS=/sys/class/misc/$MOD
DEV=/dev/$MOD
# shellcheck source=selftests/mmapdemo_lib.sh
. "$here/mmapdemo_lib.sh"
# Module loading noise, not from the module's code.
LOADNOISE='taints kernel|tainting kernel'
# Configurations mmapdemo_test runs in, mode:pages (MMAPDEMO_CONFIGS overrides).
CONFIGS=${MMAPDEMO_CONFIGS:-fault:16 remap:16 fault:65536 remap:65536}
CYCLES=${MMAPDEMO_CYCLES:-6}
# mmapdemo_stress: seconds, and seed (default: a new one, printed).
STRESS_DURATION=${MMAPDEMO_STRESS_DURATION:-30}
STRESS_SEED=${MMAPDEMO_STRESS_SEED:-}
# rmmod/insmod cycles under a loop of opens, and rmmod tries per cycle (10 ms apart).
RACE_CYCLES=8
RACE_TRIES=500
# Load / hold / refused rmmod / release / unload cycles.
HELD_CYCLES=4
# Leak threshold for CYCLES load/map/unload cycles of a 65536-page (256 MiB)
# buffer, in kB. Measured in the 2 GiB TCG guest (Debian 6.1), MemFree after
# drop_caches wanders by up to 35 MiB between cycles without any trend (per-CPU
# page lists, slab); one leaked buffer would be 256 MiB per cycle.
LEAK_KB=65536
# Timeouts below are multiplied by MMAPDEMO_TIME_FACTOR (the debug kernel
# runs KASAN under TCG: several times slower).
TF=${MMAPDEMO_TIME_FACTOR:-1}
# mmapdemo_test runs every test in each of the 5 variants: 15 to 45 s per
# configuration under TCG (alone / with other VMs on 2 CPUs); a test's own
# timeout is 30 s or more.
SUITE_TIMEOUT=$((240 * TF))

skip_all() {
	echo "TAP version 13"
	echo "1..0 # SKIP $*"
	exit $KSFT_SKIP
}

case ${1:-} in
-h | --help)
	sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//'
	echo "Environment: MMAPDEMO_CONFIGS (default: $CONFIGS), MMAPDEMO_CYCLES (default: $CYCLES),"
	echo "MMAPDEMO_STRESS_DURATION (default: $STRESS_DURATION), MMAPDEMO_STRESS_SEED (default: new)."
	exit 0
	;;
esac
[ "$(id -u)" = 0 ] || skip_all "must be run as root"
ko=${1:-}
if [ -z "$ko" ]; then
	for c in "$here/../$MOD.ko" "$here/$MOD.ko"; do
		[ -f "$c" ] && { ko=$c; break; }
	done
fi
if [ -z "$ko" ] || [ ! -f "$ko" ]; then
	skip_all "no $MOD.ko (usage: $0 path/to/$MOD.ko)"
fi
bin=
for c in "$here/../bin" "$here/../build/bin" "$here"; do
	[ -x "$c/mmapdemo_test" ] && { bin=$c; break; }
done

tmp=$(mktemp -d /tmp/mmapdemo.XXXXXX) || exit 1
holder=
opener=

loaded() { grep -q "^$MOD " /proc/modules; }

# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	for p in $holder $opener; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	loaded && rmmod "$MOD"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if loaded && ! rmmod "$MOD"; then
	echo "TAP version 13"
	echo "Bail out! $MOD is loaded and busy: cannot start from a clean state"
	exit 1
fi

# ---- TAP ------------------------------------------------------------------

n=0
passes=0
fails=0
skips=0
ok() { n=$((n + 1)); passes=$((passes + 1)); echo "ok $n $*"; }
not_ok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n $*"; }
skip() { n=$((n + 1)); skips=$((skips + 1)); echo "ok $n # SKIP $*"; }
diag() { echo "# $*"; }
# result DESC: ok when $bad is empty, else not ok with $bad as the reason.
result() {
	if [ -z "$bad" ]; then ok "$1"; else not_ok "$1 # $bad"; fi
}

nconfigs=0
for c in $CONFIGS; do nconfigs=$((nconfigs + 1)); done
# The demos: demos.list beside the binaries (VM) or in userspace/ (tree).
demos_list=
for c in "$here/../demos.list" "$here/../userspace/demos.list"; do
	[ -f "$c" ] && { demos_list=$c; break; }
done
expect=$here/demos.expect
# "program [args]" per line, comments and blank lines dropped.
if [ -n "$demos_list" ]; then
	sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$demos_list" >"$tmp/demos"
else
	: >"$tmp/demos"
fi
ndemos=$(wc -l <"$tmp/demos")
echo "TAP version 13"
# 4 + 3 + 3 + 10 + 2 + 1 + 1 (variants), + 6 (stress, races, refusals), + 3 (debug)
# + 3 (issue 12 ref-b: mmapdemo_race, mmapdemo_perm, mmapdemo_failmmap)
echo "1..$((36 + 4 * nconfigs + ndemos))"

# ---- the kernel log ---------------------------------------------------------

dmesg_mark() { mark=$(dmesg | wc -l); }
# New log lines since dmesg_mark into $tmp/new.
dmesg_new() { dmesg | tail -n +$((mark + 1)) >"$tmp/new"; }
# kmemleak (debug kernel) judges what happens from here on.
kmemleak_clear
start_mark=$(dmesg | wc -l)

# Module lines in $tmp/new, without loading noise.
mod_lines() { grep "$MOD:" "$tmp/new" | grep -vE "$LOADNOISE"; }

sysfs() { cat "$SYSFS/$1" 2>/dev/null; }

# Create the device node if nothing else did (no devtmpfs).
ensure_node() {
	[ -c $DEV ] && return 0
	[ -f "$SYSFS/dev" ] || return 1
	mknod $DEV c "$(cut -d: -f1 "$SYSFS/dev")" "$(cut -d: -f2 "$SYSFS/dev")"
}

load() { # PARAMS...
	insmod "$ko" "$@" >"$tmp/insmod.out" 2>&1 || {
		sed 's/^/# /' "$tmp/insmod.out"
		return 1
	}
	ensure_node
}

# ---- modinfo ----------------------------------------------------------------

bad=
modinfo -F parm "$ko" >"$tmp/parm" 2>&1 || bad="modinfo failed"
for p in mode pages batch_pages; do
	# "name:description" (kmod adds " (type)"), a description of some words.
	grep -qE "^$p:[^ ]+ [^ ]+ [^ ]+" "$tmp/parm" || bad="${bad:+$bad; }no parameter $p with a description"
done
[ -z "$bad" ] || sed 's/^/# modinfo: /' "$tmp/parm"
result "modinfo lists parameters mode, pages and batch_pages with descriptions"

# ---- parameters that must be refused ----------------------------------------

# refused DESC ERROR-RE PARAMS...: insmod fails with that error, the module
# logs exactly one line, and nothing in the log looks like a kernel bug.
refused() {
	desc=$1
	err=$2
	shift 2
	bad=
	dmesg_mark
	if load "$@"; then
		bad="insmod $* succeeded"
		rmmod "$MOD"
	else
		grep -qE "$err" "$tmp/insmod.out" || bad="insmod did not fail with '$err'"
	fi
	dmesg_new
	loaded && bad="${bad:+$bad; }module still loaded"
	# One line per call of the module's init: busybox insmod calls it twice
	# (init_module() again after finit_module() failed), kmod's once.
	lines=$(mod_lines | wc -l)
	distinct=$(mod_lines | sed 's/^\[[^]]*\] //' | sort -u | wc -l)
	if [ "$lines" -ne "$init_calls" ] || [ "$distinct" -ne 1 ]; then
		bad="${bad:+$bad; }$lines '$MOD:' log lines ($distinct different), expected $init_calls (1)"
	fi
	if grep -qE "$BADNESS" "$tmp/new"; then
		bad="${bad:+$bad; }kernel log has a warning"
		sed 's/^/# dmesg: /' "$tmp/new"
	fi
	mod_lines | sed 's/^/# dmesg: /'
	for w in $check_words; do
		mod_lines | grep -q "$w" || bad="${bad:+$bad; }the log line does not name '$w'"
	done
	result "$desc"
}

# The kernel line: which file operation implements mmap() (f_op->mmap_prepare
# from 7.2 on, f_op->mmap before; module/compat.h), and whether mode huge
# exists (6.12 and newer: .huge_fault for driver VMAs).
kver=$(uname -r)
kmajor=${kver%%.*}
kminor=${kver#*.}
kminor=${kminor%%[!0-9]*}
kat_least() { [ "$kmajor" -gt "$1" ] || { [ "$kmajor" -eq "$1" ] && [ "$kminor" -ge "$2" ]; }; }
if kat_least 7 2; then HOOK=mmap_prepare; else HOOK=mmap; fi
MODES="fault remap insert batch"
# ---- issue 12 (ref-b): huge also needs THP (module/compat.h; on x86-64
# ARCH_SUPPORTS_PMD_PFNMAP comes with it); /sys/kernel/mm/transparent_hugepage
# exists exactly when the kernel has CONFIG_TRANSPARENT_HUGEPAGE.
THP=/sys/kernel/mm/transparent_hugepage
if kat_least 6 12 && [ -d $THP ]; then MODES="$MODES huge"; fi
# ---- end ref-b

init_calls=1
insmod 2>&1 | grep -q BusyBox && init_calls=2
check_words=$MODES
# EINVAL: strerror() says "Invalid argument", kmod's insmod "Invalid parameters".
refused "insmod mode=bogus refused (EINVAL, one log line naming the modes)" \
	"Invalid (argument|parameters)" mode=bogus
refused "insmod mode= (empty) refused (EINVAL, one log line naming the modes)" \
	"Invalid (argument|parameters)" mode=
check_words=
refused "insmod pages=0 refused (EINVAL, one log line)" "Invalid (argument|parameters)" pages=0
# Not numbers: the kernel's parameter parser refuses them, before the module's init.
refused "insmod pages=abc refused (EINVAL, one log line)" "Invalid (argument|parameters)" pages=abc
refused "insmod pages=-1 refused (EINVAL, one log line)" "Invalid (argument|parameters)" pages=-1
refused "insmod pages=2^40 refused (ENOMEM, one log line, no allocation warning)" \
	"Cannot allocate memory" pages=1099511627776
# batch_pages: 1..512; the kernel's parameter parser logs the one line.
check_words=batch_pages
refused "insmod batch_pages=0 refused (EINVAL, one log line)" \
	"Invalid (argument|parameters)" batch_pages=0
refused "insmod batch_pages=513 refused (EINVAL, one log line)" \
	"Invalid (argument|parameters)" batch_pages=513
check_words=
# mode huge before 6.12 or without THP: EOPNOTSUPP ("Operation not
# supported"; kmod's insmod may say "not supported"), one line saying why.
if kat_least 6 12 && [ -d $THP ]; then
	skip "insmod mode=huge refused before 6.12 or without THP: kernel $kver has PMD mappings for drivers"
elif kat_least 6 12; then
	check_words=CONFIG_TRANSPARENT_HUGEPAGE
	refused "insmod mode=huge refused (EOPNOTSUPP, one log line naming CONFIG_TRANSPARENT_HUGEPAGE)" \
		"[Nn]ot supported" mode=huge
	check_words=
else
	check_words=huge_fault
	refused "insmod mode=huge refused (EOPNOTSUPP, one log line naming .huge_fault)" \
		"[Nn]ot supported" mode=huge
	check_words=
fi

# ---- every mode loads, its load line names the API ------------------------

# The kernel API each mode= demonstrates, as the module's load line names it.
mode_api() {
	case $1 in
	fault) echo "vm_operations_struct.fault" ;;
	remap) echo "remap_pfn_range()" ;;
	insert) echo "vm_insert_pages()" ;;
	batch) echo "vm_insert_pages() in .fault" ;;
	huge) echo "vmf_insert_pfn_pmd() in .huge_fault" ;;
	esac
}

for mode in insert batch huge; do
	case " $MODES " in
	*" $mode "*) ;;
	*)
		skip "insmod mode=$mode: not on kernel $kver"
		continue
		;;
	esac
	bad=
	dmesg_mark
	if load "mode=$mode" pages=16; then
		dmesg_new
		api=$(mode_api "$mode")
		mod_lines | grep -qF "mode=$mode ($api) via f_op->$HOOK" || {
			bad="the load line does not say 'mode=$mode ($api) via f_op->$HOOK'"
			mod_lines | sed 's/^/# dmesg: /'
		}
		[ "$(sysfs mode)" = "$mode" ] || bad="${bad:+$bad; }sysfs mode is '$(sysfs mode)'"
		rmmod "$MOD" || bad="${bad:+$bad; }rmmod failed"
	else
		bad="insmod failed"
	fi
	result "insmod mode=$mode: the load line names $(mode_api "$mode")"
done

# ---- the suite, once per configuration ------------------------------------

# check_sysfs MODE PAGES: the files of a freshly loaded module.
check_sysfs() {
	bad=
	[ -c $DEV ] || bad="no $DEV"
	for f in faults sigbus mmaps vma_opens vma_closes vmas mapped_pages huge_faults fault_pages pages mode contiguous; do
		if [ ! -f "$SYSFS/$f" ]; then
			bad="${bad:+$bad; }no $SYSFS/$f"
			continue
		fi
		perm=$(stat -c %a "$SYSFS/$f")
		# ref-b: the counters are root's like the node (0400), the configuration public
		case $f in pages | mode | contiguous) want=444 ;; *) want=400 ;; esac
		[ "$perm" = $want ] || bad="${bad:+$bad; }$f has mode $perm, not $want"
		[ "$(wc -l <"$SYSFS/$f")" -eq 1 ] || bad="${bad:+$bad; }$f is not one line"
	done
	for f in faults sigbus mmaps vma_opens vma_closes vmas mapped_pages huge_faults fault_pages; do
		[ "$(sysfs $f)" = 0 ] || bad="${bad:+$bad; }$f is '$(sysfs $f)', not 0"
	done
	[ "$(sysfs mode)" = "$1" ] || bad="${bad:+$bad; }mode is '$(sysfs mode)', not $1"
	[ "$(sysfs pages)" = "$2" ] || bad="${bad:+$bad; }pages is '$(sysfs pages)', not $2"
	contig=$(sysfs contiguous)
	case $contig in
	0 | 1) ;;
	*) bad="${bad:+$bad; }contiguous is '$contig'" ;;
	esac
	if [ "$2" -le 512 ] && [ "$contig" != 1 ]; then
		bad="${bad:+$bad; }a buffer of $2 pages is not contiguous"
	fi
	diag "$SYSFS: mode $(sysfs mode), pages $(sysfs pages), contiguous $contig"
}

# run_suite: mmapdemo_test with its TAP nested; sets $rc.
run_suite() {
	to=
	command -v timeout >/dev/null && to="timeout -s KILL $SUITE_TIMEOUT"
	{
		$to "$bin/mmapdemo_test" 2>&1
		echo $? >"$tmp/rc"
	} | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
}

# dirty PAGES: leave stale non-zero content in free memory (a bit more than
# PAGES pages, at most 512 MiB), so that buffer_zero_filled can catch a
# module that hands out stale memory.
dirty() {
	mib=$(($1 / 256 + 32))
	[ "$mib" -le 512 ] || mib=512
	[ -z "$bin" ] || "$bin/mmapdemo_hold" --dirty "$mib" || diag "mmapdemo_hold --dirty $mib failed"
}

# The suite proves the file operation it ran through ($HOOK, see above):
# the load line names it.
for c in $CONFIGS; do
	mode=${c%:*}
	pages=${c#*:}
	name="mode=$mode pages=$pages"
	dirty "$pages"
	dmesg_mark
	if ! load "mode=$mode" "pages=$pages"; then
		not_ok "insmod $name"
		not_ok "sysfs $name # not loaded"
		not_ok "suite mmapdemo_test $name # not loaded"
		not_ok "rmmod $name # not loaded"
		continue
	fi
	dmesg_new
	bad=
	mod_lines | grep -q "via f_op->$HOOK\$" || {
		bad="the load line does not say 'via f_op->$HOOK' (kernel $kver)"
		mod_lines | sed 's/^/# dmesg: /'
	}
	result "insmod $name, mmap() via f_op->$HOOK"
	check_sysfs "$mode" "$pages"
	result "sysfs $name"
	if [ -z "$bin" ]; then
		not_ok "suite mmapdemo_test $name # mmapdemo_test not found"
	else
		diag "$bin/mmapdemo_test ($name)"
		run_suite
		case $rc in
		0) ok "suite mmapdemo_test $name" ;;
		"$KSFT_SKIP") skip "suite mmapdemo_test $name" ;;
		*) not_ok "suite mmapdemo_test $name # exit status $rc" ;;
		esac
	fi
	bad=
	[ "$(sysfs vmas)" = 0 ] || bad="$(sysfs vmas) VMAs left"
	[ "$(sysfs mapped_pages)" = 0 ] || bad="${bad:+$bad; }$(sysfs mapped_pages) pages left mapped"
	rmmod "$MOD" || bad="${bad:+$bad; }rmmod failed"
	loaded && bad="${bad:+$bad; }still loaded"
	result "rmmod $name"
done

# ---- rmmod while a mapping is held ------------------------------------------

# hold PAGES: start mmapdemo_hold; 0 once its mapping exists (file closed).
hold() {
	: >"$tmp/hold.out"
	"$bin/mmapdemo_hold" --hold "$1" >"$tmp/hold.out" 2>&1 &
	holder=$!
	tries=0
	while [ $tries -lt 600 ]; do
		grep -q '^ready' "$tmp/hold.out" && return 0
		kill -0 "$holder" 2>/dev/null || break
		usleep 100000
		tries=$((tries + 1))
	done
	sed 's/^/# hold: /' "$tmp/hold.out"
	return 1
}

# release: stop the holder (it exits 0 on SIGTERM) and reap it.
release() {
	kill "$holder" 2>/dev/null
	wait "$holder" 2>/dev/null
	holder=
}

for mode in fault remap insert batch huge; do
	name="mode=$mode pages=16"
	bad=
	case " $MODES " in
	*" $mode "*) ;;
	*)
		skip "rmmod refused while a mapping is held ($name): no mode $mode on kernel $kver"
		skip "rmmod succeeds once the holder exited ($name): no mode $mode on kernel $kver"
		continue
		;;
	esac
	if [ -z "$bin" ] || [ ! -x "$bin/mmapdemo_hold" ]; then
		bad="mmapdemo_hold not found"
	elif ! load "mode=$mode" pages=16; then
		bad="insmod failed"
	elif ! hold 4; then
		bad="mmapdemo_hold did not start"
	else
		[ "$(sysfs vmas)" = 1 ] && [ "$(sysfs mapped_pages)" = 4 ] ||
			bad="holder: vmas $(sysfs vmas), mapped_pages $(sysfs mapped_pages); expected 1, 4"
		if rmmod "$MOD" 2>"$tmp/rmmod.err"; then
			bad="${bad:+$bad; }rmmod succeeded under a live mapping"
		else
			sed 's/^/# expected: /' "$tmp/rmmod.err"
		fi
		loaded || bad="${bad:+$bad; }module gone"
	fi
	result "rmmod refused while a mapping is held ($name)"
	bad=
	[ -z "$holder" ] || release
	if loaded; then
		[ "$(sysfs vmas)" = 0 ] || bad="$(sysfs vmas) VMAs left after the holder exited"
		rmmod "$MOD" || bad="${bad:+$bad; }rmmod failed"
		loaded && bad="${bad:+$bad; }still loaded"
	else
		bad="module not loaded"
	fi
	result "rmmod succeeds once the holder exited ($name)"
done

# Cycles of: load, hold a mapping (file closed), rmmod refused, the module
# still works for a new open, release, rmmod; alternating modes.
bad=
i=0
while [ $i -lt $HELD_CYCLES ] && [ -z "$bad" ]; do
	if [ $((i % 2)) -eq 0 ]; then mode=fault; else mode=remap; fi
	i=$((i + 1))
	if [ -z "$bin" ] || ! load "mode=$mode" pages=16; then
		bad="cycle $i: insmod mode=$mode failed"
	elif ! hold 2; then
		bad="cycle $i: mmapdemo_hold did not start"
		rmmod "$MOD"
	else
		rmmod "$MOD" 2>/dev/null && bad="cycle $i: rmmod succeeded under a live mapping"
		loaded || bad="${bad:+$bad; }cycle $i: module gone"
		[ "$(sysfs vmas)" = 1 ] || bad="${bad:+$bad; }cycle $i: vmas $(sysfs vmas), expected 1"
		release
		[ "$(sysfs vmas)" = 0 ] || bad="${bad:+$bad; }cycle $i: vmas $(sysfs vmas) after release"
		rmmod "$MOD" || bad="${bad:+$bad; }cycle $i: rmmod failed after release"
	fi
done
result "$HELD_CYCLES cycles: insmod, mapping held, rmmod refused, released, rmmod"

# ---- the kernel's own VM_PFNMAP selftest --------------------------------------

# tools/testing/selftests/mm/pfnmap.c from Debian's newest linux-source (built
# by scripts/pfnmap.sh, not part of the project), run as `pfnmap -- /dev/mmapdemo`.
# It maps two pages at offset 0 read-only MAP_SHARED, skips everything unless
# smaps says VM_PFNMAP ("pf") and the pages can be read, then per test maps
# them afresh and checks what the core does to a PFNMAP: madvise() advice
# that needs struct pages refused with EINVAL, munmap() of one page and
# mapping it again, mremap() to a fixed place, shrinking (works), growing
# (refused), and fork() (the child can read them). In remap mode every test
# must pass; in fault mode (pages with struct pages, not VM_PFNMAP) pfnmap
# must skip the whole run as "Not pfnmap'ed" (exit 4), reported as SKIP.
# Either way every VMA must be gone afterwards and rmmod must work.
PFNMAP_TIMEOUT=$((120 * TF))
pfnmap=
for c in "$here/../bin" "$here/../build/bin" "$here"; do
	[ -x "$c/pfnmap" ] && { pfnmap=$c/pfnmap; break; }
done

for mode in remap fault; do
	name="suite pfnmap (kernel selftest mm/pfnmap.c) -- $DEV mode=$mode pages=16"
	if [ -z "$pfnmap" ]; then
		skip "$name: no pfnmap binary (scripts/pfnmap.sh builds it from Debian's linux-source)"
		continue
	fi
	if ! load "mode=$mode" pages=16; then
		not_ok "$name # insmod failed"
		continue
	fi
	diag "$pfnmap -- $DEV ($(sysfs mode) mode)"
	to=
	command -v timeout >/dev/null && to="timeout -s KILL $PFNMAP_TIMEOUT"
	{
		$to "$pfnmap" -- $DEV 2>&1
		echo $? >"$tmp/rc"
	} | tee "$tmp/pfnmap.out" | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
	# The harness's own results: its plan, passes, and a whole-run skip.
	planned=$(sed -n 's/^1\.\.\([0-9][0-9]*\).*/\1/p' "$tmp/pfnmap.out" | head -n1)
	passed=$(grep -E '^ok [0-9]+ ' "$tmp/pfnmap.out" | grep -cv ' # SKIP')
	why=$(sed -n 's/^1\.\.0 # SKIP //p' "$tmp/pfnmap.out" | head -n1)
	bad=
	if [ "$mode" = remap ]; then
		if [ "$rc" -eq "$KSFT_SKIP" ]; then
			bad="skipped the run on a remap_pfn_range() mapping: ${why:-no reason given}"
		elif [ "$rc" -ne 0 ]; then
			bad="exit status $rc"
		elif [ -z "$planned" ] || [ "$planned" -eq 0 ] || [ "$passed" -ne "$planned" ]; then
			bad="${passed} of ${planned:-no} planned tests passed"
		fi
		[ "$(sysfs faults)" = 0 ] || bad="${bad:+$bad; }.fault called $(sysfs faults) times in remap mode"
	else
		case $rc:$why in
		"$KSFT_SKIP:"*"Not pfnmap'ed"*) ;;
		"$KSFT_SKIP:"*) bad="skipped, but not as 'Not pfnmap'ed': ${why:-no reason given}" ;;
		0:*) bad="ran its tests: the fault-mode mapping has VM_PFNMAP" ;;
		*) bad="exit status $rc, expected $KSFT_SKIP (skip: not a PFNMAP)" ;;
		esac
	fi
	[ "$(sysfs vmas)" = 0 ] || bad="${bad:+$bad; }$(sysfs vmas) VMAs left"
	[ "$(sysfs mapped_pages)" = 0 ] || bad="${bad:+$bad; }$(sysfs mapped_pages) pages left mapped"
	rmmod "$MOD" || bad="${bad:+$bad; }rmmod failed"
	if [ -n "$bad" ]; then
		not_ok "$name # $bad"
	elif [ "$mode" = fault ]; then
		skip "$name: $why (as expected: .fault pages are no PFNMAP)"
	else
		ok "$name"
	fi
done

# ---- load/use/unload cycles: nothing leaks ----------------------------------

memfree() {
	sync
	echo 3 >/proc/sys/vm/drop_caches
	awk '/^MemFree:/ { print $2 }' /proc/meminfo
}

bad=
# A first cycle outside the measurement: one-time allocations (slab caches,
# the programs' page tables) are not leaks.
if load mode=fault pages=65536; then
	[ -z "$bin" ] || ! hold 65536 || release
	rmmod "$MOD"
fi
before=$(memfree)
i=0
while [ $i -lt "$CYCLES" ] && [ -z "$bad" ]; do
	if [ $((i % 2)) -eq 0 ]; then mode=fault; else mode=remap; fi
	i=$((i + 1))
	if ! load "mode=$mode" pages=65536; then
		bad="cycle $i: insmod mode=$mode pages=65536 failed"
	elif [ -z "$bin" ] || ! hold 65536; then
		bad="cycle $i: could not map all pages"
	else
		release
		rmmod "$MOD" || bad="cycle $i: rmmod failed"
	fi
done
after=$(memfree)
leak=$((before - after))
diag "MemFree before $before kB, after $CYCLES cycles $after kB: $leak kB less (threshold $LEAK_KB kB)"
[ -n "$bad" ] || [ "$leak" -lt "$LEAK_KB" ] || bad="$leak kB of memory lost"
result "$CYCLES load/map/unload cycles of 65536 pages leak nothing"

# ---- rmmod racing with opens ------------------------------------------------

# mmapdemo_stress --opener opens, maps, touches and closes the device in a
# loop while the module is unloaded (retried until the opener is between
# two opens) and loaded again, RACE_CYCLES times. Every open must succeed
# or fail with ENOENT/ENODEV/ENXIO (the opener exits 1 otherwise); the
# kernel log is checked at the end like everything else.
bad=
unloads=0
if [ -z "$bin" ] || [ ! -x "$bin/mmapdemo_stress" ]; then
	bad="mmapdemo_stress not found"
elif ! load pages=16; then
	bad="insmod failed"
else
	"$bin/mmapdemo_stress" --opener 600 >"$tmp/opener.out" 2>&1 &
	opener=$!
	i=0
	while [ $i -lt $RACE_CYCLES ] && [ -z "$bad" ]; do
		i=$((i + 1))
		tries=0
		while loaded && [ $tries -lt $RACE_TRIES ]; do
			rmmod "$MOD" 2>/dev/null && break
			tries=$((tries + 1))
			usleep 10000
		done
		if loaded; then
			diag "cycle $i: rmmod refused $tries times (the opener always had it open)"
		else
			unloads=$((unloads + 1))
		fi
		usleep 50000
		loaded || load pages=16 || bad="cycle $i: insmod failed"
		usleep 50000
	done
	kill "$opener" 2>/dev/null
	wait "$opener"
	rc=$?
	opener=
	sed 's/^/# /' "$tmp/opener.out"
	[ "$rc" -eq 0 ] || bad="${bad:+$bad; }the opener exited with status $rc"
	[ "$unloads" -gt 0 ] || bad="${bad:+$bad; }rmmod never got between two opens"
	grep -q ' [1-9][0-9]* opens' "$tmp/opener.out" || bad="${bad:+$bad; }the opener never opened the device"
	! loaded || rmmod "$MOD" || bad="${bad:+$bad; }final rmmod failed"
fi
diag "$unloads of $RACE_CYCLES unloads got between two opens"
result "rmmod racing with opens: every open succeeds or gets ENOENT/ENODEV/ENXIO"

# ---- stress -----------------------------------------------------------------

# mmapdemo_stress: processes and threads doing random mappings, I/O, forks
# and ioctls in every mode for STRESS_DURATION seconds, checking as it goes;
# afterwards nothing may be mapped and rmmod must work. 1024 pages: two
# 2 MiB chunks, so private remap mappings across the border are refused too.
bad=
if [ -z "$bin" ] || [ ! -x "$bin/mmapdemo_stress" ]; then
	bad="mmapdemo_stress not found"
elif ! load pages=1024; then
	bad="insmod failed"
else
	to=
	command -v timeout >/dev/null && to="timeout -s KILL $((3 * STRESS_DURATION + 180))"
	{
		$to "$bin/mmapdemo_stress" --duration "$STRESS_DURATION" ${STRESS_SEED:+--seed "$STRESS_SEED"} 2>&1
		echo $? >"$tmp/rc"
	} | tee "$tmp/stress.out" | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
	[ "$rc" -eq 0 ] || bad="exit status $rc"
	[ "$(sysfs vmas)" = 0 ] || bad="${bad:+$bad; }$(sysfs vmas) VMAs left"
	[ "$(sysfs mapped_pages)" = 0 ] || bad="${bad:+$bad; }$(sysfs mapped_pages) pages left mapped"
	rmmod "$MOD" || bad="${bad:+$bad; }rmmod failed"
fi
seed=$(sed -n 's/^mmapdemo_stress: seed \([0-9]*\);.*/\1/p' "$tmp/stress.out" 2>/dev/null)
result "mmapdemo_stress ${STRESS_DURATION} s, seed ${seed:-?}: no invariant broken, gauges 0, rmmod works"

# ---- the demos, as smoke tests ----------------------------------------------

# Each demo runs once, as a student would run it: after a plain insmod
# (module defaults). It must exit 0 (the demos check their own claims and
# exit 1 on a contradiction) and print every key line demos.expect gives
# for it ("program ERE" per line), so that the demos cannot rot.
DEMO_TIMEOUT=$((120 * TF))
if [ "$ndemos" -gt 0 ] && ! load; then
	diag "insmod with default parameters failed: every demo fails"
fi
while read -r prog args; do
	name="demo $prog${args:+ $args}"
	bad=
	if ! loaded; then
		bad="module not loaded"
	elif [ -z "$bin" ] || [ ! -x "$bin/$prog" ]; then
		bad="no program $prog"
	else
		to=
		command -v timeout >/dev/null && to="timeout -s KILL $DEMO_TIMEOUT"
		# shellcheck disable=SC2086 # $args is a list of words
		$to "$bin/$prog" $args </dev/null >"$tmp/demo.out" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] || bad="exit status $rc"
		keys=0
		while read -r p re; do
			[ "$p" = "$prog" ] || continue
			keys=$((keys + 1))
			grep -qE -- "$re" "$tmp/demo.out" ||
				bad="${bad:+$bad; }no line matches '$re'"
		done <"$expect"
		[ "$keys" -gt 0 ] || bad="${bad:+$bad; }no key lines for $prog in demos.expect"
		grep -q '^UNEXPECTED' "$tmp/demo.out" && bad="${bad:+$bad; }it printed UNEXPECTED"
		[ -z "$bad" ] || tail -n 40 "$tmp/demo.out" | sed "s/^/# $prog: /"
	fi
	result "$name"
done <"$tmp/demos"
! loaded || rmmod "$MOD" || diag "rmmod after the demos failed"

# ---- the debug kernel: fault injection, fuzzing, kmemleak ---------------------

# nested NAME CMD...: CMD's TAP nested under "ok N NAME" (SKIP on exit 4).
nested() {
	name=$1
	shift
	{
		"$@" 2>&1
		echo $? >"$tmp/rc"
	} | sed 's/^/# /'
	rc=$(cat "$tmp/rc")
	case $rc in
	0) ok "$name" ;;
	"$KSFT_SKIP") skip "$name" ;;
	*) not_ok "$name # exit status $rc" ;;
	esac
}

# Every allocation of a load failed once (mmapdemo_failinit: SKIP on a
# kernel without fault injection).
if [ -z "$bin" ] || [ ! -x "$bin/mmapdemo_failinit" ]; then
	skip "suite mmapdemo_failinit: no mmapdemo_failinit binary"
else
	echo "$INJECT_BEGIN" >/dev/kmsg
	dmesg_mark
	MMAPDEMO_KO=$ko nested "suite mmapdemo_failinit" "$bin/mmapdemo_failinit"
	echo "$INJECT_END" >/dev/kmsg
	dmesg_new
	diag "fault injection: $(grep -cE 'page allocation failure|vmalloc error' "$tmp/new") allocation-failure reports of the kernel (expected)"
fi

# ---- issue 12 (ref-b): SET_MODE against mmap(), who reads the counters,
# fault injection in mmap() and in what changes a device VMA (SKIP on a
# kernel without fault injection). Each on a fresh pages=16 load.
for t in mmapdemo_race mmapdemo_perm mmapdemo_failmmap; do
	if [ -z "$bin" ] || [ ! -x "$bin/$t" ]; then
		skip "suite $t: no $t binary"
		continue
	fi
	if ! load pages=16; then
		not_ok "suite $t # insmod failed"
		continue
	fi
	if [ $t = mmapdemo_failmmap ]; then
		echo "$INJECT_BEGIN" >/dev/kmsg
		nested "suite $t" "$bin/$t"
		echo "$INJECT_END" >/dev/kmsg
	else
		nested "suite $t" "$bin/$t"
	fi
	rmmod "$MOD" || diag "$t: rmmod failed"
done
# ---- end ref-b

# trinity against the device, MMAPDEMO_FUZZ seconds per mode.
fuzz=${MMAPDEMO_FUZZ:-0}
if [ "$fuzz" -eq 0 ]; then
	skip "suite mmapdemo_fuzz.sh: MMAPDEMO_FUZZ=SECONDS not set (make check KERNEL=debug sets it)"
else
	MMAPDEMO_KO=$ko MMAPDEMO_KMEMLEAK=0 nested "suite mmapdemo_fuzz.sh $fuzz ${MMAPDEMO_FUZZ_SEED:-1}" \
		"$here/mmapdemo_fuzz.sh" "$fuzz" "${MMAPDEMO_FUZZ_SEED:-1}"
fi

kmemleak_test "after the whole run"

# ---- the kernel log ---------------------------------------------------------

bad=
dmesg | tail -n +$((start_mark + 1)) | without_injection_noise >"$tmp/new"
if grep -E "$BADNESS" "$tmp/new" >"$tmp/badness"; then
	bad="kernel reports: $(head -n1 "$tmp/badness" | sed 's/^\[[^]]*\] //')"
	sed 's/^/# dmesg: /' "$tmp/badness"
fi
result "kernel log has no BUG/WARNING/Oops/Call Trace/Bad page"

diag "$passes passed, $fails failed, $skips skipped"
if [ $fails -gt 0 ]; then
	exit 1
elif [ $passes -eq 0 ]; then
	exit $KSFT_SKIP
fi
exit 0
