#!/bin/bash
# Install into a scratch root, then build and run a program against the
# installed header, pkg-config file, static and shared library.  The prefix
# is not a system directory, so pkg-config really has to supply -I and -L.
# Usage: run.sh BUILD_DIR CC
set -u
b=$1 cc=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
pass=0 fail=0
if ! make -s install DESTDIR="$root" PREFIX=/opt/xtshim B="$b" >"$root/install.log" 2>&1; then
	cat "$root/install.log"
	echo "0 passed, 1 failed"
	exit 1
fi
export PKG_CONFIG_SYSROOT_DIR="$root" PKG_CONFIG_LIBDIR="$root/opt/xtshim/lib/pkgconfig"
for f in include/xtshim.h lib/libxtshim.a lib/libxtshim.so lib/pkgconfig/xtshim.pc \
	 share/man/man3/xtshim.3; do
	if [ -e "$root/opt/xtshim/$f" ]; then pass=$((pass + 1)); else echo "missing after install: /$f"; fail=$((fail + 1)); fi
done
src=$(dirname "$0")/main.c
# shellcheck disable=SC2046
if $cc -std=c11 -Wall -Werror -DXTS_STATIC $(pkg-config --cflags xtshim) -o "$root/static" "$src" \
	"$root/opt/xtshim/lib/libxtshim.a" -lpthread && "$root/static"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
# shellcheck disable=SC2046
# Libraries after the source: Debian links with --as-needed.
if $cc -std=c11 -Wall -Werror $(pkg-config --cflags xtshim) -o "$root/shared" "$src" $(pkg-config --libs xtshim) &&
	LD_LIBRARY_PATH="$root/opt/xtshim/lib" "$root/shared"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
echo "install-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
