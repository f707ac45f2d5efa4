#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# debug.sh: what needs the debug kernel (scripts/kernel-build.sh: KERNEL=debug-6.1, debug-7.2); each
# result SKIPs, with its reason, on a kernel without the facility.
#   - every allocation of a module load failed once, with failslab and
#     fail_page_alloc (mmapdemo_failinit);
#   - every allocation of mmap() and of what changes a device VMA
#     (mprotect, munmap of a part, mremap, fork) failed in turn, in every
#     mode, shared and private (mmapdemo_failmmap);
#   - trinity against the device, MMAPDEMO_FUZZ seconds per mode
#     (fuzz.sh; make check KERNEL=debug sets MMAPDEMO_FUZZ).
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

failinit() {
	echo "$INJECT_BEGIN" >/dev/kmsg
	dmesg_mark
	MMAPDEMO_KO=$ko nested "suite mmapdemo_failinit" "$bin/mmapdemo_failinit"
	echo "$INJECT_END" >/dev/kmsg
	dmesg_new
	diag "fault injection: $(grep -cE 'page allocation failure|vmalloc error' "$tmp/new") allocation-failure reports of the kernel (expected)"
}

# The kernel's allocation-failure reports between the marks are expected.
failmmap() {
	echo "$INJECT_BEGIN" >/dev/kmsg
	run_once mmapdemo_failmmap
	echo "$INJECT_END" >/dev/kmsg
}

fuzz() {
	secs=${MMAPDEMO_FUZZ:-0}
	if [ "$secs" -eq 0 ]; then
		skip "suite fuzz.sh: MMAPDEMO_FUZZ=SECONDS not set (make check KERNEL=debug sets it)"
		return
	fi
	MMAPDEMO_KO=$ko MMAPDEMO_KMEMLEAK=0 nested "suite fuzz.sh $secs ${MMAPDEMO_FUZZ_SEED:-1}" \
		"$here/fuzz.sh" "$secs" "${MMAPDEMO_FUZZ_SEED:-1}"
}

case_add failinit
case_add failmmap
case_add fuzz
run_cases
