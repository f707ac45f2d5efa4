#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# suite.sh: the harness tests, once per module configuration (mode= and
# pages=; each test runs in all five variants itself, through SET_MODE):
# the module loads and its load line names the file operation of this
# kernel line, its sysfs files start at 0, every test program of
# suites.list passes (each nested as its own result), nothing stays
# mapped, rmmod works.
#
# MMAPDEMO_CONFIGS="mode:pages ..." overrides the configurations;
# MMAPDEMO_PARAMS="mode=remap pages=64 ..." runs exactly one, loaded with
# those parameters.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

CONFIGS=${MMAPDEMO_CONFIGS:-fault:16 remap:16 fault:65536 remap:65536}
# A program runs every test in each of the 5 variants: up to a minute per
# configuration under TCG with other VMs on 2 CPUs.
PROG_TIMEOUT=$((240 * TF))
# The programs, one per area; the Makefile writes the list.
progs=$(cat "$bin/suites.list" 2>/dev/null)
[ -n "$progs" ] || skip_all "no $bin/suites.list (make -C selftests)"

# dirty PAGES: leave stale non-zero content in free memory (a bit more than
# PAGES pages, at most 512 MiB), so that buffer_zero_filled can catch a
# module that hands out stale memory.
dirty() {
	mib=$(($1 / 256 + 32))
	[ "$mib" -le 512 ] || mib=512
	"$bin/mmapdemo_hold" --dirty "$mib" || diag "mmapdemo_hold --dirty $mib failed"
}

# The value of parameter $1 in the list $2 ("mode=fault pages=16"), or nothing.
param() { echo " $2 " | sed -n "s/.* $1=\([^ ]*\) .*/\1/p"; }

loaded_ok=
# insmod_config PARAMS: load, and the load line names the file operation.
insmod_config() {
	loaded_ok=
	pages=$(param pages "$*")
	dirty "${pages:-16}"
	dmesg_mark
	# shellcheck disable=SC2068 # a list of parameters
	if ! load $@; then
		problem "insmod failed"
		result "insmod $*"
		return
	fi
	loaded_ok=1
	dmesg_new
	hook=${MMAPDEMO_EXPECT_HOOK:-mmap|mmap_prepare}
	mod_lines | grep -qE "via f_op->($hook)\$" || {
		problem "the load line does not say 'via f_op->${MMAPDEMO_EXPECT_HOOK:-...}'"
		mod_lines | sed 's/^/# dmesg: /'
	}
	result "insmod $*, mmap() via f_op->$(mod_lines | sed -n 's/.*via f_op->//p' | tail -n1)"
}

# sysfs_fresh PARAMS: the counters of a freshly loaded module are 0, its
# mode and pages what it was loaded with.
sysfs_fresh() {
	if [ -z "$loaded_ok" ]; then
		problem "not loaded"
	else
		for f in $("$bin/mmapdemo_hold" --list-counters); do
			[ "$(sysfs "$f")" = 0 ] || problem "$f is '$(sysfs "$f")', not 0"
		done
		m=$(param mode "$*")
		p=$(param pages "$*")
		[ -z "$m" ] || [ "$(sysfs mode)" = "$m" ] || problem "mode is '$(sysfs mode)', not $m"
		[ -z "$p" ] || [ "$(sysfs pages)" = "$p" ] || problem "pages is '$(sysfs pages)', not $p"
		contig=$(sysfs contiguous)
		case $contig in 0 | 1) ;; *) problem "contiguous is '$contig'" ;; esac
		[ -z "$p" ] || [ "$p" -gt 512 ] || [ "$contig" = 1 ] ||
			problem "a buffer of $p pages is not contiguous"
		diag "$SYSFS: mode $(sysfs mode), pages $(sysfs pages), contiguous $contig"
	fi
	result "sysfs $*"
}

# prog NAME PARAMS: one test program, its TAP nested.
prog() {
	_p=$1
	shift
	if [ -z "$loaded_ok" ]; then
		ktap_test_fail "suite $_p $* # not loaded"
		return
	fi
	diag "$bin/$_p ($*)"
	nested "suite $_p $*" timed "$PROG_TIMEOUT" "$bin/$_p"
}

rmmod_config() {
	if [ -z "$loaded_ok" ]; then
		problem "not loaded"
	else
		gauges_zero
		rmmod $MOD || problem "rmmod failed"
		loaded && problem "still loaded"
	fi
	result "rmmod $*"
}

if [ -n "${MMAPDEMO_PARAMS:-}" ]; then
	CONFIGS=params
	diag "MMAPDEMO_PARAMS: one configuration, $MMAPDEMO_PARAMS"
fi
for c in $CONFIGS; do
	if [ "$c" = params ]; then params=$MMAPDEMO_PARAMS; else params="mode=${c%:*} pages=${c#*:}"; fi
	case_add insmod_config "$params"
	case_add sysfs_fresh "$params"
	for p in $progs; do
		case_add prog "$p" "$params"
	done
	case_add rmmod_config "$params"
done
run_cases
