# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# make check: the whole kselftest collection in the guest, as an installed
# kselftest tree runs it (run_kselftest.sh -c mmapdemo: the driver
# selftests/run_mmapdemo.sh and its categories). The verdict counts the TAP:
# the last line is "check: N passed, N failed, N skipped".
#
#   MMAPDEMO_PARAMS   the suite's one configuration (default: four, see
#                     selftests/suite.sh)
#   CATEGORIES="suite demos"   only these categories (run_mmapdemo.sh -t)
#   PFNMAP=0          without the kernel's pfnmap selftest (it then skips)
#   FUZZ=SECONDS      trinity's time per mode in the debug category (default:
#                     20 on the debug kernel, else 0: skipped)
#   SEED=N            the seed of the stress and trinity runs
#   KERNEL=debug      also fault injection, trinity and kmemleak

SUITE=1
TAP=1
# The whole collection under TCG: about 4 min alone on 2 CPUs, twice that
# beside other VMs; the debug kernel multiplies it (TIME_FACTOR).
TIMEOUT=900
case ${KERNEL:-} in debug*) FUZZ=${FUZZ:-20} ;; esac
FUZZ=${FUZZ:-0}
PACK=
[ "$FUZZ" -eq 0 ] || PACK=trinity
MMAPDEMO_FUZZ=$FUZZ
ENV="MMAPDEMO_FUZZ SEED CATEGORIES"

target_build() { build_pfnmap; }
target_pack() { pack_gdb "$1"; }

target_command() {
	cat <<'EOF_GUEST'
ks=/mmapdemo/kselftest
# The categories' timeouts grow with MMAPDEMO_TIME_FACTOR; the runner's own
# (selftests/settings) too, and with trinity's time.
timeout=$(sed -n 's/^timeout=//p' $ks/mmapdemo/settings)
timeout=$((timeout * ${MMAPDEMO_TIME_FACTOR:-1} + ${MMAPDEMO_FUZZ:-0} * 10))
[ -z "${SEED:-}" ] || export MMAPDEMO_FUZZ_SEED="$SEED"
# run_kselftest.sh splits the driver's arguments at spaces: one -t per category.
[ -z "${CATEGORIES:-}" ] || export KSELFTEST_RUN_MMAPDEMO_SH_ARGS="$(printf -- '-t %s ' $CATEGORIES)"
exec $ks/run_kselftest.sh -c mmapdemo -o "$timeout"
EOF_GUEST
}
