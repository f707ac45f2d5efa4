# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# make stress: only the stress category (selftests/stress.sh), with its
# whole output on the terminal.
#
#   DURATION=SECONDS  how long mmapdemo_stress runs (default: its own, 30 s)
#   SEED=N            its seed (default: a new one, printed)
#   MMAPDEMO_PARAMS   module parameters (default: stress.sh's)

SUITE=1
TAP=1
case ${DURATION:-} in *[!0-9]*) die "DURATION=$DURATION: a number of seconds" ;; esac
case ${SEED:-} in *[!0-9]*) die "SEED=$SEED: a decimal number" ;; esac
# Twice the run, and room for loading and the program's own grace period.
TIMEOUT=$((2 * ${DURATION:-30} + 400))
ENV="DURATION SEED"

target_command() {
	echo 'exec /mmapdemo/kselftest/mmapdemo/stress.sh'
}
