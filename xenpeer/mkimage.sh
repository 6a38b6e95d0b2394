#!/bin/bash
# Build dom0's initramfs for the Xen peer (docs/xen-peer.md).
#   xenpeer/mkimage.sh OUT.cpio BOOT_DIR
# BOOT_DIR is xenpeer/fetch.sh's output (the dom0 kernel's Xen modules).
#
# dom0's root is a Debian 12 minbase made by debootstrap with xen-utils-4.17
# (xl, oxenstored, xen-init-dom0) and what it needs; it is kept beside OUT
# (OUT's directory/rootfs) and made again only when the package list below
# changes.  debootstrap needs root.  On top of it: the Xen modules under
# /lib/modules/xenpeer/ and xenpeer/dom0-init as /init.  The packed cpio is
# uncompressed: Linux unpacks it faster than it would decompress it under TCG.
# The per-run part (images, cases, runner) is a second, small cpio that
# xenpeer/run.sh appends; Linux reads concatenated archives as one.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=$1 boot=$2
dir=$(cd "$(dirname "$out")" && pwd)
root=$dir/rootfs
suite=bookworm
include=xen-utils-4.17,kmod,udev,procps,iproute2
want="debootstrap --variant=minbase --include=$include $suite"

# The archive the machine's apt sources name for bookworm main (a mirror or
# snapshot the operator chose), else Debian's.
mirror=$( { grep -h '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
	awk -v s=$suite '$3 == s && / main/ { print $2; exit }'; } || true)
[ -n "$mirror" ] || mirror=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null |
	awk '{ print $2 }' | grep -v security | head -n 1 || true)
mirror=${mirror:-http://deb.debian.org/debian}

if [ "$(cat "$root/.xenpeer-stamp" 2>/dev/null)" != "$want" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "xenpeer: debootstrap of dom0's root needs root" >&2; exit 1; }
	echo "xenpeer: $want ($mirror): some minutes, once" >&2
	rm -rf "$root.tmp"
	# shellcheck disable=SC2086
	if ! debootstrap --variant=minbase --include=$include $suite "$root.tmp" "$mirror" \
			> "$dir/debootstrap.log" 2>&1; then
		tail -n 20 "$dir/debootstrap.log" >&2
		exit 1
	fi
	# What dom0 never reads: documentation, locales, apt's caches.
	rm -rf "$root.tmp"/usr/share/{doc,man,info,locale} "$root.tmp"/var/cache/apt/* \
		"$root.tmp"/var/lib/apt/lists/*
	echo "$want" > "$root.tmp/.xenpeer-stamp"
	rm -rf "$root"
	mv "$root.tmp" "$root"
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/xtshim-dom0.XXXXXX")
trap 'rm -rf "$stage"' EXIT
# Under usr/: a /lib entry here would replace the rootfs's /lib symlink on unpacking.
mkdir -p "$stage/usr/lib/modules/xenpeer"
cp "$boot"/modules/* "$stage/usr/lib/modules/xenpeer/"
install -m 755 "$here/xenpeer/dom0-init" "$stage/init"
# The rootfs and the overlay as one archive: the overlay's files come last and win.
{
	(cd "$root" && find . -mindepth 1 ! -name .xenpeer-stamp | LC_ALL=C sort |
		cpio -o -H newc --quiet -R 0:0)
	(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0)
} > "$out.tmp"
mv "$out.tmp" "$out"
echo "xenpeer: dom0 image $out: $(($(stat -c %s "$out") >> 20)) MiB" >&2
