#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/matrix.sh (make matrix): the whole test suite on every kernel line
# of the project (KERNELS in scripts/lib.sh: 6.1, 6.12, 7.2), one after the
# other, and one summary table:
#
#   kernel  release  W=1 warnings  passed  failed  skipped  time  verdict
#
# For each line: a W=1 build of the module with that line's headers and
# compiler (its warnings counted; any warning fails the line), then
# `scripts/vm.sh check` with KERNEL=LINE (chroots are made on first use
# in /var/cache/mmapdemo/). Logs: build/matrix/LINE.{w1,check}.log. The table also
# goes to build/matrix/summary.md, with the date, for the README.
#
#   MATRIX_KERNELS="6.1 7.2"   only these lines
#
# Exit status 0 only if every line passed.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OUT=$TOP/build/matrix
mkdir -p "$OUT"
lines=${MATRIX_KERNELS:-$KERNELS}
rows=()
failed=0

# w1_build LINE LOG: W=1 build of every module file for LINE; prints the
# number of warning lines, returns the build's status.
w1_build() {
	local top=$TOP in=() rc=0
	[ -z "$KROOT" ] || { in=(in_chroot "$KROOT"); top=/src; }
	{
		"${in[@]}" make -C "/lib/modules/$KVER/build" M="$top" clean &&
			"${in[@]}" make -C "/lib/modules/$KVER/build" M="$top" W=1 modules
	} >"$2" 2>&1 || rc=$?
	grep -ciE 'warning:' "$2" || true
	return "$rc"
}

"$SCRIPTS/deps.sh" gcc make linux-headers-amd64
for line in $lines; do
	t0=$SECONDS
	log "matrix: kernel line $line"
	unset KVER # each line has its own kernel release
	use_kernel "$line"
	KVER=$(pick_kver)
	verdict=PASS
	warnings=$(w1_build "$line" "$OUT/$line.w1.log") || { verdict="FAIL (W=1 build)"; }
	[ "$warnings" -eq 0 ] || verdict="FAIL ($warnings W=1 warnings)"
	rc=0
	KERNEL=$line "$SCRIPTS/vm.sh" check >"$OUT/$line.check.log" 2>&1 || rc=$?
	counts=$(sed -n 's/^check: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' \
		"$OUT/$line.check.log" | tail -n1)
	read -r passed nfailed skipped <<<"${counts:-- - -}"
	if [ "$rc" -ne 0 ]; then
		verdict="FAIL (check)"
		sed -n '/: FAIL$/,$p' "$OUT/$line.check.log" | head -n 30
	fi
	[ "$verdict" = PASS ] || failed=$((failed + 1))
	rows+=("| $line | $KVER | $warnings | $passed | $nfailed | $skipped | $((SECONDS - t0)) s | $verdict |")
	log "matrix: $line: $verdict"
done

{
	echo "Matrix run of $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, QEMU TCG:"
	echo
	echo "| kernel | release | W=1 warnings | passed | failed | skipped | time | verdict |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
} >"$OUT/summary.md"
echo
cat "$OUT/summary.md"
[ "$failed" -eq 0 ]
