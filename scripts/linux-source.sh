#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/linux-source.sh DIR: extract checkpatch from Debian's
# linux-source-6.1 package (nothing from the kernel tree is committed):
#
#   DIR/scripts/checkpatch.pl, spelling.txt,
#   DIR/scripts/const_structs.checkpatch          for scripts/lint.sh
#
# (The kselftest framework comes from the newest linux-source instead:
# scripts/kselftest.sh.)
#
# Idempotent: does nothing when every file is already there.
set -euo pipefail

[ "$#" -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
dir=$1
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

SRC_PKG=linux-source-6.1
TARBALL=/usr/src/$SRC_PKG.tar.xz
TOP=$SRC_PKG # the tarball's top-level directory

# "path in the tarball:path under DIR"
FILES=(
	scripts/checkpatch.pl:scripts/checkpatch.pl
	scripts/spelling.txt:scripts/spelling.txt
	scripts/const_structs.checkpatch:scripts/const_structs.checkpatch
)

have_all() {
	local f
	for f in "${FILES[@]}"; do
		[ -f "$dir/${f#*:}" ] || return 1
	done
}

have_all && exit 0

"$here/deps.sh" "$SRC_PKG" xz-utils
mkdir -p "$dir/scripts"
tmp=$(mktemp -d "$dir/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

members=()
for f in "${FILES[@]}"; do
	members+=("$TOP/${f%%:*}")
done
echo "  EXTRACT $dir (from $TARBALL)" >&2
tar -xJf "$TARBALL" -C "$tmp" "${members[@]}"

for f in "${FILES[@]}"; do
	mv -f "$tmp/$TOP/${f%%:*}" "$dir/${f#*:}"
done
chmod +x "$dir/scripts/checkpatch.pl"
