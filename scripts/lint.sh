#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/lint.sh (make lint): every static check of the project, one verdict
# line each, exit 1 if any fails. Each check must be silent to pass:
#
#   checkpatch  checkpatch.pl --strict --no-tree on the module and uapi header
#               (module/compat.h: version guards allowed, see below)
#   W=1         module build with extra compiler warnings (forced rebuild)
#   sparse      module build with C=2 (sparse on every file)
#   userspace   demos and selftests with -Wall -Wextra -Werror, from scratch
#   shell       the project's shell scripts, through shellcheck
#
# The module is built against the VM's kernel headers (KVER as in vm.sh).
# Logs: build/lint/*.log.
set -euo pipefail
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

LINT=$TOP/build/lint
CHECKPATCH=$TOP/build/checkpatch

"$SCRIPTS/deps.sh" gcc make libc6-dev perl sparse shellcheck linux-headers-amd64 linux-source-6.1
# Lint is for the host's kernel line (6.1); KERNEL=/KROOT= are for vm.sh.
KROOT=
KVER=$(pick_kver)
KDIR=/lib/modules/$KVER/build
mkdir -p "$LINT"
"$SCRIPTS/linux-source.sh" "$CHECKPATCH"
cd "$TOP"

failures=0
# verdict NAME LOG RC: print the verdict line; on failure the problems.
# Passing means status 0 and no warning/error line in LOG.
verdict() {
	local name=$1 logf=$2 rc=$3 bad
	bad=$(grep -iE 'warning:|error:|^(ERROR|WARNING|CHECK):' "$logf" || true)
	if [ "$rc" -eq 0 ] && [ -z "$bad" ]; then
		printf 'lint: %-11s OK\n' "$name"
		return
	fi
	printf 'lint: %-11s FAIL (status %s, log %s)\n' "$name" "$rc" "${logf#"$TOP"/}"
	if [ -n "$bad" ]; then sed 's/^/  /' "$logf"; else tail -n 20 "$logf" | sed 's/^/  /'; fi
	failures=$((failures + 1))
}

# check NAME CMD...: run CMD with its output in build/lint/NAME.log, judge it.
check() {
	local name=$1 rc=0
	shift
	"$@" >"$LINT/$name.log" 2>&1 || rc=$?
	verdict "$name" "$LINT/$name.log" "$rc"
}

kbuild() { make -C "$KDIR" M="$TOP" "$@"; }

# Only the files that exist (the globs may match nothing yet). module/compat.h
# holds every kernel-version guard, which checkpatch flags by design
# (LINUX_VERSION_CODE, and KERNEL_VERSION() read as a constant on the left).
# include/uapi/linux/mmapdemo.h holds the counter table, an X-macro
# (MMAPDEMO_STATS(), like bpf.h's __BPF_FUNC_MAPPER), which checkpatch takes
# for an expression: only those three types are ignored, only there.
COMPAT=module/compat.h
COMPAT_IGNORE=LINUX_VERSION_CODE,CONSTANT_COMPARISON
UAPI=include/uapi/linux/mmapdemo.h
UAPI_IGNORE=COMPLEX_MACRO,MACRO_ARG_REUSE,TRAILING_SEMICOLON
existing() {
	local f
	for f in "$@"; do
		[ ! -f "$f" ] || [ "$f" = "$COMPAT" ] || [ "$f" = "$UAPI" ] || echo "$f"
	done
}
mapfile -t kfiles < <(existing module/*.c module/*.h include/uapi/linux/mmapdemo.h)
mapfile -t shfiles < <(existing scripts/*.sh scripts/targets/*.sh bench/*.sh .ci/run selftests/*.sh userspace/*.sh)

log "lint against $KVER headers"
checkpatch() {
	local cp=("$CHECKPATCH/scripts/checkpatch.pl" --strict --no-tree --quiet --show-types -f)
	local rc=0
	[ "${#kfiles[@]}" -eq 0 ] || perl "${cp[@]}" "${kfiles[@]}" || rc=$?
	[ ! -f "$COMPAT" ] || perl "${cp[@]}" --ignore "$COMPAT_IGNORE" "$COMPAT" || rc=$?
	[ ! -f "$UAPI" ] || perl "${cp[@]}" --ignore "$UAPI_IGNORE" "$UAPI" || rc=$?
	return "$rc"
}
check checkpatch checkpatch
# W=1 only reports on what it compiles: clean first so everything is.
kbuild clean >/dev/null
check W=1 kbuild W=1 modules
check sparse kbuild C=2 modules
# A fresh output directory, so every program is compiled.
rm -rf "${LINT:?}/bin"
check userspace make userspace BIN="$LINT/bin"
check shell shellcheck -x "${shfiles[@]}"

if [ "$failures" -ne 0 ]; then
	log "lint: $failures check(s) failed"
	exit 1
fi
log "lint: all checks passed"
