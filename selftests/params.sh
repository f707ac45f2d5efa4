#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# params.sh: the module's parameters. modinfo describes them; insmod
# refuses bad values with the right error and exactly one log line; every
# mode the module offers loads and its load line names the kernel API it
# demonstrates and the file operation mmap() goes through; every mode it
# does not offer is refused with EOPNOTSUPP and one line saying why; and
# what it offers is what this kernel line must offer (MMAPDEMO_EXPECT_MODES,
# MMAPDEMO_EXPECT_HOOK; the test VM sets them from scripts/kernel-lines).
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

# busybox insmod calls a failing init twice (init_module() again after
# finit_module() failed), kmod's once: the log lines to expect per call.
init_calls=1
insmod 2>&1 | grep -q BusyBox && init_calls=2

# The kernel API each mode= demonstrates, as its load line must name it:
# the test's own statement, not read from the module.
mode_api() {
	case $1 in
	fault) echo "vm_operations_struct.fault" ;;
	remap) echo "remap_pfn_range()" ;;
	insert) echo "vm_insert_pages()" ;;
	batch) echo "vm_insert_pages() in .fault" ;;
	huge) echo "vmf_insert_pfn_pmd() in .huge_fault" ;;
	*) echo "?" ;;
	esac
}

# refusal_reason MODE: a word the log line refusing MODE must contain, the
# reason (module/compat.h): huge needs vm_ops->huge_fault for a driver's
# VMA (6.12) and transparent huge pages, which exist exactly when
# /sys/kernel/mm/transparent_hugepage does.
refusal_reason() {
	case $1 in
	huge)
		if [ -d /sys/kernel/mm/transparent_hugepage ]; then
			echo huge_fault
		else
			echo CONFIG_TRANSPARENT_HUGEPAGE
		fi
		;;
	*) echo refused: ;;
	esac
}

modinfo_params() {
	modinfo -F parm "$ko" >"$tmp/parm" 2>&1 || problem "modinfo failed"
	for p in mode pages batch_pages; do
		# "name:description" (kmod adds " (type)"), a description of some words.
		grep -qE "^$p:[^ ]+ [^ ]+ [^ ]+" "$tmp/parm" || problem "no parameter $p with a description"
	done
	[ -z "$bad" ] || sed 's/^/# modinfo: /' "$tmp/parm"
	result "modinfo lists parameters mode, pages and batch_pages with descriptions"
}

# refused DESC ERROR-RE WORDS PARAMS...: insmod fails with that error, the
# module logs exactly one line (per init call) naming every one of WORDS
# (comma-separated, "-" for none), and nothing in the log looks like a bug.
refused() {
	desc=$1 err=$2 words=$3
	shift 3
	dmesg_mark
	if load "$@"; then
		problem "insmod $* succeeded"
		rmmod $MOD
	else
		grep -qE "$err" "$tmp/insmod.out" || problem "insmod did not fail with '$err'"
	fi
	dmesg_new
	loaded && problem "module still loaded"
	lines=$(mod_lines | wc -l)
	distinct=$(mod_lines | sed 's/^\[[^]]*\] //' | sort -u | wc -l)
	{ [ "$lines" -eq "$init_calls" ] && [ "$distinct" -eq 1 ]; } ||
		problem "$lines '$MOD:' log lines ($distinct different), expected $init_calls (1)"
	if grep -qE "$BADNESS" "$tmp/new"; then
		problem "kernel log has a warning"
		sed 's/^/# dmesg: /' "$tmp/new"
	fi
	mod_lines | sed 's/^/# dmesg: /'
	for w in $(echo "$words" | tr , ' '); do
		[ "$w" = - ] || mod_lines | grep -q -- "$w" || problem "the log line does not name '$w'"
	done
	result "$desc"
}

# loads MODE: insmod mode=MODE works, its load line names the mode's API and
# the file operation of this kernel line, sysfs says the mode, rmmod works.
loads() {
	api=$(mode_api "$1")
	dmesg_mark
	if load "mode=$1" pages=16; then
		dmesg_new
		hook=${MMAPDEMO_EXPECT_HOOK:-mmap|mmap_prepare}
		mod_lines | grep -qE "mode=$1 \($(echo "$api" | sed 's/[().]/\\&/g')\) via f_op->($hook)\$" || {
			problem "the load line does not say 'mode=$1 ($api) via f_op->${MMAPDEMO_EXPECT_HOOK:-...}'"
			mod_lines | sed 's/^/# dmesg: /'
		}
		[ "$(sysfs mode)" = "$1" ] || problem "sysfs mode is '$(sysfs mode)'"
		rmmod $MOD || problem "rmmod failed"
	else
		problem "insmod failed"
	fi
	result "insmod mode=$1: the load line names $api${MMAPDEMO_EXPECT_HOOK:+, via f_op->$MMAPDEMO_EXPECT_HOOK}"
}

# expected_modes: what the module offers is what this kernel line must.
expected_modes() {
	if [ -z "${MMAPDEMO_EXPECT_MODES:-}" ]; then
		skip "the modes offered ($offered) match the kernel line: MMAPDEMO_EXPECT_MODES not set"
		return
	fi
	[ "$offered" = "$MMAPDEMO_EXPECT_MODES" ] ||
		problem "the module offers '$offered', the kernel line expects '$MMAPDEMO_EXPECT_MODES'"
	result "the module offers the modes of this kernel line: $MMAPDEMO_EXPECT_MODES"
}

read_modes
diag "modes offered: $offered; modes of the ABI: $all_modes"

case_add modinfo_params
# EINVAL: strerror() says "Invalid argument", kmod's insmod "Invalid parameters".
EINVAL="'Invalid (argument|parameters)'"
case_add refused "'insmod mode=bogus refused (EINVAL, one log line naming the modes)'" "$EINVAL" \
	"$(echo "$offered" | tr ' ' ,)" mode=bogus
case_add refused "'insmod mode= (empty) refused (EINVAL, one log line naming the modes)'" "$EINVAL" \
	"$(echo "$offered" | tr ' ' ,)" mode=
case_add refused "'insmod pages=0 refused (EINVAL, one log line)'" "$EINVAL" - pages=0
# Not numbers: the kernel's parameter parser refuses them, before the module's init.
case_add refused "'insmod pages=abc refused (EINVAL, one log line)'" "$EINVAL" - pages=abc
case_add refused "'insmod pages=-1 refused (EINVAL, one log line)'" "$EINVAL" - pages=-1
case_add refused "'insmod pages=2^40 refused (ENOMEM, one log line, no allocation warning)'" \
	"'Cannot allocate memory'" - pages=1099511627776
# batch_pages: 1..512; the kernel's parameter parser logs the one line.
case_add refused "'insmod batch_pages=0 refused (EINVAL, one log line)'" "$EINVAL" batch_pages batch_pages=0
case_add refused "'insmod batch_pages=513 refused (EINVAL, one log line)'" "$EINVAL" batch_pages batch_pages=513
for m in $all_modes; do
	if is_offered "$m"; then
		case_add loads "$m"
	else
		# EOPNOTSUPP ("Operation not supported"; kmod's insmod may say
		# "not supported"), one line saying why.
		case_add refused "'insmod mode=$m refused (EOPNOTSUPP, one log line naming $(refusal_reason "$m"))'" \
			"'[Nn]ot supported'" "mode=$m,refused:,$(refusal_reason "$m")" "mode=$m"
	fi
done
case_add expected_modes
run_cases
