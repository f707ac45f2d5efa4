#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# mmapdemo-demos [LIST]: run every demo of LIST (default: demos.list beside
# this script) in order, each with a heading, as `make demo` does in the
# test VM. The module must be loaded. Exit 0 when every demo did; a demo
# that saw the kernel contradict its narration printed UNEXPECTED and exits
# 1, and so does this, after running the others.
case ${1:-} in
-h | --help)
	sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 0
	;;
esac
here=$(cd "$(dirname "$0")" && pwd)
list=${1:-$here/demos.list}
[ -r "$list" ] || { echo "mmapdemo-demos: no list $list; try --help" >&2; exit 2; }
PATH=$here:$PATH

# "program [args...]" per line; comments and blank lines are not demos.
demos=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$list")
n=$(printf '%s\n' "$demos" | grep -c .)
i=0
status=0
while read -r prog args; do
	[ -n "$prog" ] || continue
	i=$((i + 1))
	echo ""
	echo "==== demo $i of $n: $prog${args:+ $args}"
	# shellcheck disable=SC2086 # $args is a list of words
	"$prog" $args </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "==== $prog: FAILED, exit status $rc"
		status=1
	fi
done <<EOF_DEMOS
$demos
EOF_DEMOS
exit $status
