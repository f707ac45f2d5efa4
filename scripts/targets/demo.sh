# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# make demo: load the module (MMAPDEMO_PARAMS: its parameters, default
# none) and run every demo of userspace/demos.list in order, each narrating
# on the terminal (userspace/mmapdemo-demos.sh). A demo that finds the
# kernel contradicting its narration prints UNEXPECTED and fails; the run
# fails with it.

TIMEOUT=300

target_command() {
	cat <<'EOF_GUEST'
# shellcheck disable=SC2086 # a list of parameters
insmod "$MMAPDEMO_KO" ${MMAPDEMO_PARAMS:-} || { echo "demo: insmod $MMAPDEMO_KO ${MMAPDEMO_PARAMS:-} failed"; exit 1; }
exec mmapdemo-demos
EOF_GUEST
}
