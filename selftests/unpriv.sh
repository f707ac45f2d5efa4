#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# unpriv.sh: the device as a member of group mmapdemo sees it, the way
# udev/60-mmapdemo.rules opens it (0660 root:mmapdemo): mmapdemo_unpriv
# drops to user nobody in group mmapdemo and checks that no physical
# address reaches it by any path (GET_PFN, a private remap mapping, the
# maps offset column, pagemap), and that every demo runs clean for it.
# Once, with the module loaded in fault mode (each test sets its mode).
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

TIMEOUT=$((1200 * TF))

unpriv() {
	if ! load mode=fault pages=16; then
		ktap_test_fail "suite mmapdemo_unpriv pages=16 # insmod failed"
		return
	fi
	nested "suite mmapdemo_unpriv pages=16" timed "$TIMEOUT" "$bin/mmapdemo_unpriv"
	gauges_zero
	rmmod $MOD || diag "rmmod after mmapdemo_unpriv failed"
	[ -z "$bad" ] || diag "after mmapdemo_unpriv: $bad"
}

case_add unpriv
run_cases
