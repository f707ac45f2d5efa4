# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# make fuzz: trinity (Debian's system-call fuzzer) against the device as an
# unprivileged user, once per mode the module offers (selftests/fuzz.sh),
# on the debug kernel unless KERNEL= says otherwise.
#
#   DURATION=SECONDS  trinity's time per mode (default 60)
#   SEED=N            its seed (default 1)
#   MMAPDEMO_PARAMS   more module parameters for each mode's load

KERNEL_DEFAULT=debug
SUITE=1
TAP=1
PACK=trinity
DURATION=${DURATION:-60}
SEED=${SEED:-1}
case $DURATION$SEED in *[!0-9]*) die "DURATION=$DURATION SEED=$SEED: numbers" ;; esac
# Booting, then up to 5 modes of DURATION plus loading and stopping.
TIMEOUT=$((60 + 5 * (DURATION + 60)))
ENV="DURATION SEED"

target_command() {
	# shellcheck disable=SC2016 # expanded in the guest
	echo 'exec /mmapdemo/kselftest/mmapdemo/fuzz.sh "$DURATION" "$SEED"'
}
