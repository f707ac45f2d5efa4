# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash disable=SC2034 # variables and functions for scripts/vm.sh
#
# The labs' VM run (scripts/labs.sh check, scripts/labs-proof.sh): build
# each module of LAB_PLAN, then in the guest load each in turn and run its
# selected tests (scripts/lab-guest.sh). No verdict on the tests here
# (scripts/labs.sh judges them), only on the run: booted, no kernel
# report, clean exit.
#
#   LAB_PLAN=FILE     one line per module: "LABEL DIR SELECTOR...": the
#                     module in DIR (under this tree; built with W=1, log
#                     build/vm/lab-LABEL.log) and the tests to run on it
#   MMAPDEMO_PARAMS   parameters of each module's load (default: none)

SUITE=1
TIMEOUT=900
LAB_PLAN=${LAB_PLAN:-}
[ -r "$LAB_PLAN" ] || die "lab: LAB_PLAN=$LAB_PLAN: no such file"

# The lines of LAB_PLAN, without comments and blank lines.
lab_plan() { sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$LAB_PLAN"; }

target_build() {
	local label dir sels
	while read -r label dir sels; do
		dir=$(cd "$dir" && pwd) || die "LAB_PLAN: $label: no directory $dir"
		log "building $label (${dir#"$TOP"/}) for $KVER"
		run_logged "$VM/lab-$label.log" kbuild "$dir" W=1 modules ||
			die "module build of $label failed (log: $VM/lab-$label.log)"
		check_vermagic "$dir/mmapdemo.ko"
	done < <(lab_plan)
}

# One module per plan line, loaded in turn by scripts/lab-guest.sh.
target_pack() {
	local label dir sels
	mkdir -p "$1/mmapdemo/labs"
	while read -r label dir sels; do
		cp "$dir/mmapdemo.ko" "$1/mmapdemo/labs/$label.ko"
		echo "$label $sels" >>"$1/mmapdemo/labs/plan"
	done < <(lab_plan)
	cp "$SCRIPTS/lab-guest.sh" "$1/mmapdemo/lab-guest.sh"
}

target_command() {
	echo 'exec /mmapdemo/lab-guest.sh /mmapdemo/labs/plan'
}
