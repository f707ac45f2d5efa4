#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# demos.sh: every demo of demos.list once, as a student runs it: after a
# plain insmod (the module's defaults). Each must exit 0 (the demos check
# their own claims and exit 1 on a contradiction, printing UNEXPECTED) and
# print every key line demos.expect gives for it ("program ERE" per line),
# so that the demos cannot rot.
# shellcheck source=selftests/mmapdemo_lib.sh
. "$(dirname "$0")/mmapdemo_lib.sh"
need_module

TIMEOUT=$((120 * TF))
list=
for c in "$here/demos.list" "$here/../userspace/demos.list"; do
	[ -f "$c" ] && { list=$c; break; }
done
[ -n "$list" ] || skip_all "no demos.list"
expect=$here/demos.expect

demo() {
	prog=$1
	shift
	path=$(demo_bin "$prog")
	if ! loaded; then
		problem "module not loaded"
	elif [ -z "$path" ]; then
		problem "no program $prog"
	else
		timed "$TIMEOUT" "$path" "$@" </dev/null >"$tmp/demo.out" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] || problem "exit status $rc"
		keys=0
		while read -r p re; do
			[ "$p" = "$prog" ] || continue
			keys=$((keys + 1))
			grep -qE -- "$re" "$tmp/demo.out" || problem "no line matches '$re'"
		done <"$expect"
		[ "$keys" -gt 0 ] || problem "no key lines for $prog in demos.expect"
		grep -q '^UNEXPECTED' "$tmp/demo.out" && problem "it printed UNEXPECTED"
		[ -z "$bad" ] || tail -n 40 "$tmp/demo.out" | sed "s/^/# $prog: /"
	fi
	result "demo $prog${*:+ $*}"
}

# "program [args]" per line, comments and blank lines dropped.
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list" >"$tmp/demos"
while read -r line; do
	case_add demo "$line"
done <"$tmp/demos"
load || diag "insmod with default parameters failed: every demo fails"
run_cases
