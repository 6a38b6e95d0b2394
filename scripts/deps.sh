#!/bin/sh
# Make sure the Debian packages a build target needs are installed.
# Usage: scripts/deps.sh PKG...
# As root, missing packages are installed with apt-get; otherwise we stop and
# name them, so a developer never gets a confusing compiler error instead.
set -eu
missing=""
for p in "$@"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$st" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "xtshim: missing Debian packages:$missing" >&2
	echo "xtshim: install them with: sudo apt-get install$missing" >&2
	exit 1
fi
echo "xtshim: installing missing packages:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# An archive list from a fresh image may be stale or empty: refresh it first.
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2
