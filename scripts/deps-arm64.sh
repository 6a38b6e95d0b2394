#!/bin/sh
# Debian packages for `make ARCH=arm64`, then the usual scripts/deps.sh.
# Usage: scripts/deps-arm64.sh PKG...     (a PKG may be NAME:arm64)
#
# A cross build on an amd64 machine needs the arm64 cmocka library
# (libcmocka-dev:arm64).  apt only knows packages of architectures dpkg has
# been told about, so on a fresh machine the arm64 architecture must be added
# before deps.sh refreshes the archive lists and installs.  The cross
# compiler finds the arm64 library in /usr/lib/aarch64-linux-gnu and the
# architecture-independent Xen headers in /usr/include (libxen-dev, native).
set -eu
here=$(dirname "$0")
native=$(dpkg --print-architecture)

need_arm64=no
for p in "$@"; do
	case "$p" in
	*:arm64) [ "$native" = arm64 ] || need_arm64=yes ;;
	esac
done

if [ "$need_arm64" = yes ] && ! dpkg --print-foreign-architectures | grep -qx arm64; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "xtshim: the arm64 cross build needs arm64 packages from the Debian archive" >&2
		echo "xtshim: enable them with: sudo dpkg --add-architecture arm64" >&2
		exit 1
	fi
	echo "xtshim: adding the arm64 architecture to dpkg (for libcmocka-dev:arm64)" >&2
	dpkg --add-architecture arm64
	# deps.sh refreshes the lists before installing, so the arm64 indexes
	# are fetched there.
fi

exec "$here/deps.sh" "$@"
