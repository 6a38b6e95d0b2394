#!/bin/bash
# Fetch the peer's boot files from Debian 12's own archive:
#   xen-hypervisor-4.17-amd64  -> DIR/xen.elf (the multiboot ELF QEMU -kernel boots)
#   linux-image-amd64 (6.1)    -> DIR/vmlinuz, DIR/modules/*.ko (dom0's Xen drivers)
# The generic flavour, not -cloud: -cloud has no CONFIG_XEN_DOM0.
#   xenpeer/fetch.sh DIR
# Through scripts/fetch-debs.sh (host apt state untouched, no root).  Nothing
# is fetched when DIR already holds a complete set.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -s "$dir/xen.elf" ] && [ -s "$dir/vmlinuz" ] && [ -s "$dir/version" ] && exit 0

echo "xenpeer: fetching xen-hypervisor-4.17-amd64 and linux-image-amd64" >&2
x=$(mktemp -d "${TMPDIR:-/tmp}/xtshim-xenpeer.XXXXXX")
trap 'rm -rf "$x"' EXIT
pkgs=$("$here/scripts/fetch-debs.sh" "$x" xen-hypervisor-4.17-amd64 dep:linux-image-amd64)
kpkg=$(grep '^linux-image-' <<<"$pkgs")
zcat "$x"/boot/xen-4.17-amd64.gz > "$dir/xen.elf.tmp"
mv "$dir/xen.elf.tmp" "$dir/xen.elf"
cp "$x"/boot/vmlinuz-* "$dir/vmlinuz"
# In load order (xenfs uses xen-privcmd).  dom0 needs privcmd (hypercalls from xl), evtchn, gntdev/gntalloc (backends,
# xenconsoled) and xenfs (/proc/xen); everything else dom0 uses is built in.
rm -rf "$dir/modules"
mkdir -p "$dir/modules"
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc; do
	f=$(find "$x/lib/modules" -name "$m.ko*" | head -n 1)
	[ -n "$f" ] || { echo "xenpeer: $kpkg has no $m module" >&2; exit 1; }
	cp "$f" "$dir/modules/"
	echo "$(basename "$f")" >> "$dir/modules/order"
done
xver=$(cat "$x"/usr/share/doc/xen-hypervisor-4.17-amd64/changelog.Debian.gz 2>/dev/null |
	zcat 2>/dev/null | sed -n '1s/.*(\(.*\)).*/\1/p')
printf 'xen %s\nlinux %s\n' "${xver:-4.17}" "${kpkg#linux-image-}" > "$dir/version"
echo "xenpeer: $(tr '\n' ' ' < "$dir/version")" >&2
