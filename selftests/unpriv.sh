#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# unpriv.sh: the device as a member of group mmapdemo sees it, the way
# udev/60-mmapdemo.rules opens it (0660 root:mmapdemo): mmapdemo_unpriv
# drops to user nobody in group mmapdemo and checks that no physical
# address reaches it by any path (GET_PFN, a private remap mapping, the
# maps offset column, pagemap), and that every demo runs clean for it;
# mmapdemo_perm checks who may read the counters in sysfs (the node's
# users: 0400 from the module, 0440 root:mmapdemo from the udev rule).
# Each once, on a fresh load.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

case_add run_once mmapdemo_unpriv
case_add run_once mmapdemo_perm
run_cases
