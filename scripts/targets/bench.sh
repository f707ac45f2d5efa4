# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# make bench: mmapdemo-bench in the guest, every variant against core mm,
# with its cold file on an ext4 image of its own on a virtio-blk disk
# (build/vm/bench-disk.img, made here, cache=none). Its table on the
# terminal, its CSV in build/bench/bench.csv; the Makefile then runs the
# report (plots and docs/benchmarks.md) on it.
#
#   QUICK=1           the smoke run: sizes up to 16 MiB, 3 rounds (CI)
#   MMAPDEMO_PARAMS   module parameters (default pages=262144, 1 GiB;
#                     QUICK=1: pages=4096)

QUICK=${QUICK:-}
[ "$QUICK" != 0 ] || QUICK=
if [ -n "$QUICK" ]; then
	TIMEOUT=480 MEM=2G
	MMAPDEMO_PARAMS=${MMAPDEMO_PARAMS:-pages=4096}
else
	TIMEOUT=1800 MEM=6G
	MMAPDEMO_PARAMS=${MMAPDEMO_PARAMS:-pages=262144}
fi
# Under TCG without ERMS/FSRM, so that neither the kernel's copies
# (copy_to_user: read(), pread()) nor glibc's memcpy() use `rep movsb`,
# which TCG emulates one byte at a time, far slower than the vector loops
# used otherwise: with it read() loses to mmap() by an artefact of the
# emulator (compare a QUICK=1 run with VM_CPU=max).
[ "${ACCEL:-tcg}" != tcg ] || CPU=max,erms=off,fsrm=off
ENV="QUICK MMAPDEMO_ACCEL"
MMAPDEMO_ACCEL=${ACCEL:-tcg},cpu=${VM_CPU:-$CPU}
BENCH_OUT=$TOP/build/bench
BENCH_DISK=$TOP/build/vm/bench-disk.img
# Guest modules for the disk, with what they need (modules.dep).
BENCH_KMODS=(virtio_pci virtio_blk ext4 crc32c_generic crc32c-intel)

# The disk: a fresh, sparse ext4 image for the bench's file.
target_build() {
	"$SCRIPTS/deps.sh" e2fsprogs gnuplot-nox
	log "making the bench's ext4 disk image ${BENCH_DISK#"$TOP"/}"
	rm -f "$BENCH_DISK"
	truncate -s 512M "$BENCH_DISK"
	run_logged "$VM/mkfs.log" mkfs.ext4 -q -F -L mmapdemo-bench "$BENCH_DISK" ||
		die "mkfs.ext4 failed (log: $VM/mkfs.log)"
	QEMU_EXTRA=(-drive "file=$BENCH_DISK,if=virtio,format=raw,cache=none")
}

target_pack() {
	local m
	for m in "${BENCH_KMODS[@]}"; do copy_kmod_deps "$m" "$1/lib/modules/$KVER"; done
}

target_command() {
	cat <<'EOF_GUEST'
for m in virtio_pci virtio_blk crc32c_generic ext4; do
	modprobe $m || echo "bench: modprobe $m failed"
done
mkdir -p /mnt/bench
i=0
while [ ! -b /dev/vda ] && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
status=0
filedir=
if mount -t ext4 /dev/vda /mnt/bench; then
	filedir="--file-dir /mnt/bench"
else
	echo "bench: cannot mount /dev/vda: the bench's file targets fail"
	status=1
fi
# shellcheck disable=SC2086 # lists of words
insmod "$MMAPDEMO_KO" $MMAPDEMO_PARAMS || { echo "bench: insmod failed"; exit 1; }
# shellcheck disable=SC2086 # lists of words
mmapdemo-bench ${QUICK:+--quick} $filedir --csv /tmp/bench.csv || { echo "==== mmapdemo-bench: FAILED"; status=1; }
if [ -f /tmp/bench.csv ]; then
	echo MMAPDEMO-CSV-BEGIN
	cat /tmp/bench.csv
	echo MMAPDEMO-CSV-END
fi
! mountpoint -q /mnt/bench || umount /mnt/bench
exit $status
EOF_GUEST
}

# The guest's CSV (between its markers in results.tap) and the terminal
# table, into build/bench/.
target_done() {
	mkdir -p "$BENCH_OUT"
	sed -n '/^MMAPDEMO-CSV-BEGIN/,/^MMAPDEMO-CSV-END/{/^MMAPDEMO-/d;p}' "$RESULTS" |
		tr -d '\r' >"$BENCH_OUT/bench.csv"
	tap_part | sed '/^[a-z]*,.*,[0-9]*,/d; /^# kernel=/d; /^test,subject,/d' |
		tr -d '\r' >"$BENCH_OUT/bench.txt"
	[ -s "$BENCH_OUT/bench.csv" ] || die "bench: the guest sent no CSV (see ${RESULTS#"$TOP"/})"
	log "bench: ${BENCH_OUT#"$TOP"/}/bench.csv ($(grep -vc '^#' "$BENCH_OUT/bench.csv") lines), table in ${BENCH_OUT#"$TOP"/}/bench.txt"
}
