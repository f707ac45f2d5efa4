#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/deps.sh PKG...: make sure the named Debian packages are installed.
#
# Silent when every package is already there. As root, installs the missing
# ones with apt-get (running `apt-get update` first when the package lists are
# empty, or once more when the first install attempt fails on stale lists).
# As any other user, names the missing packages and the command to run, and
# exits 1.
set -euo pipefail

[ "$#" -gt 0 ] || exit 0

installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

missing=()
for pkg in "$@"; do
	installed "$pkg" || missing+=("$pkg")
done
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	{
		echo "mmapdemo: missing Debian packages: ${missing[*]}"
		echo "  install them as root with:"
		echo "    sudo apt-get install ${missing[*]}"
	} >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_install() {
	apt-get install -y -q --no-install-recommends "${missing[@]}"
}

echo "mmapdemo: installing ${missing[*]}" >&2
updated=
if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
	apt-get update -q
	updated=1
fi
if ! apt_install; then
	[ -z "$updated" ] || exit 1
	echo "mmapdemo: install failed, refreshing the package lists and retrying" >&2
	apt-get update -q
	apt_install
fi
