# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# make shell: the module loaded (MMAPDEMO_PARAMS), the demos and the whole
# kselftest collection in the guest, and a root shell on this terminal.
# Leaving it (exit, Ctrl-D) unloads the module and powers the VM off.

SUITE=1
INTERACTIVE=1
TIMEOUT=0

target_pack() { pack_gdb "$1"; }

target_command() {
	cat <<'EOF_GUEST'
# shellcheck disable=SC2086 # a list of parameters
insmod "$MMAPDEMO_KO" ${MMAPDEMO_PARAMS:-} || echo "shell: insmod $MMAPDEMO_KO ${MMAPDEMO_PARAMS:-} failed"
cat <<EOF_BANNER

  mmapdemo VM: kernel $(uname -r), $(nproc) CPUs
  module loaded: insmod $MMAPDEMO_KO ${MMAPDEMO_PARAMS:-}
    /dev/mmapdemo                      the device
    /sys/class/misc/mmapdemo           its counters and settings
    /sys/module/mmapdemo/parameters    its module parameters
    /mmapdemo/bin                      the demos (in PATH); mmapdemo-demos runs them all
    /mmapdemo/kselftest                the kselftests, installed (they load the
                                       module themselves: rmmod mmapdemo first)
      ./run_kselftest.sh -c mmapdemo   all of them
      make -C mmapdemo run_tests       the same through lib.mk
      mmapdemo/run_mmapdemo.sh -t suite   one category (-l lists them)
    rmmod mmapdemo; insmod $MMAPDEMO_KO mode=remap pages=16
    dmesg                              the kernel log
  Leave with 'exit' or Ctrl-D: the module is unloaded and the VM powers off.
  Ctrl-A X kills QEMU at once; Ctrl-A C is the QEMU monitor.

EOF_BANNER
cd /mmapdemo/kselftest
PS1='mmapdemo-vm:\w# ' setsid cttyhack bash
EOF_GUEST
}
