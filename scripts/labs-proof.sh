#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/labs-proof.sh: prove the labs honest (run by .ci/run).
#
#   1. every exercise's skeleton (scripts/labs.sh skeleton) builds with W=1
#      and without a warning;
#   2. every skeleton FAILS its own exercise's checks: the checks can fail,
#      and they do without the student's code;
#   3. the real module passes every exercise's checks.
#
# One VM boot for all of it (scripts/vm.sh lab): the guest loads each
# skeleton in turn, then the real module once for the checks of every
# exercise. A kernel BUG/WARNING/Oops anywhere fails the proof: a skeleton
# must fail cleanly. Skeletons in build/labs-proof/, logs there and in
# build/vm/. KERNEL=, KVER=, VM_TIMEOUT= as for make check.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LABSH=$SCRIPTS/labs.sh
PROOF=$TOP/build/labs-proof
rm -rf "$PROOF"
mkdir -p "$PROOF"

mapfile -t numbers < <(cd "$TOP/labs" && for d in [0-9][0-9]-*/; do
	[ -f "$d/checks" ] && echo "${d%%-*}"
done)
[ "${#numbers[@]}" -gt 0 ] || die "no exercises in labs/"

# The selectors of exercise NN.
selectors() {
	sed -e '/^#/d' -e '/^[[:space:]]*$/d' -e 's/ *|.*//' "$TOP"/labs/"$1"-*/checks | tr '\n' ' '
}

plan=$PROOF/plan
all=
for nn in "${numbers[@]}"; do
	"$LABSH" skeleton "$nn" "$PROOF/sk$nn"
	echo "sk$nn $PROOF/sk$nn $(selectors "$nn")" >>"$plan"
	all+="$(selectors "$nn") "
done
echo "solution $TOP $all" >>"$plan"
log "labs proof: ${#numbers[@]} skeletons and the solution, one VM run"

t0=$SECONDS
vmrc=0
LAB_PLAN=$plan "$SCRIPTS/vm.sh" lab 2>&1 | tee "$PROOF/vm.log" || vmrc=$?
vmrc=${PIPESTATUS[0]}
cp "$TOP/build/vm/results.tap" "$PROOF/results.tap" 2>/dev/null || true

failures=0
bad() { echo "labs proof: FAIL: $*"; failures=$((failures + 1)); }
[ "$vmrc" -eq 0 ] || bad "the VM run failed (status $vmrc; see above and build/vm/console.log)"

for nn in "${numbers[@]}" solution; do
	f=$TOP/build/vm/lab-sk$nn.log
	[ "$nn" != solution ] || f=$TOP/build/vm/lab-solution.log
	if [ ! -f "$f" ]; then
		bad "$nn: not built"
	elif grep -qiE 'warning:|error:|\*\*\*' "$f"; then
		bad "$nn: W=1 build warns:"
		grep -iE 'warning:|error:' "$f" | sed 's/^/  /'
	else
		echo "labs proof: ${nn/#[0-9]/skeleton &} builds with W=1, no warning"
	fi
done

for nn in "${numbers[@]}"; do
	echo "---- skeleton of exercise $nn (must fail):"
	if "$LABSH" report "sk$nn" "$nn" "$PROOF/results.tap"; then
		bad "the skeleton of exercise $nn passes its own checks"
	fi
	echo "---- the real module, exercise $nn's checks (must pass):"
	"$LABSH" report solution "$nn" "$PROOF/results.tap" ||
		bad "the real module fails the checks of exercise $nn"
done

log "labs proof: VM run and judging took $((SECONDS - t0)) s"
if [ "$failures" -ne 0 ]; then
	echo "labs proof: $failures problem(s)"
	exit 1
fi
echo "labs proof: PASS (${#numbers[@]} exercises: every skeleton builds and fails, the solution passes)"
