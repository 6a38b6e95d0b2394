#!/bin/bash
# Fetch the test bed's L1 kernel: Debian's bookworm-backports
# linux-image-*-cloud-amd64 (6.12: CONFIG_KVM_XEN=y, KVM as modules).
#   fetch.sh DIR      -> DIR/vmlinuz, DIR/modules/*.ko.xz, DIR/version
# Through scripts/fetch-debs.sh: from the archive the machine's apt sources
# name, host apt state untouched, no root.  Nothing is fetched when DIR
# already holds a kernel.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -s "$dir/vmlinuz" ] && [ -s "$dir/version" ] && exit 0

echo "testbed: fetching the L1 kernel (linux-image-cloud-amd64) from backports" >&2
x=$(mktemp -d "${TMPDIR:-/tmp}/xtshim-kernel.XXXXXX")
trap 'rm -rf "$x"' EXIT
pkg=$("$here/scripts/fetch-debs.sh" --backports "$x" dep:linux-image-cloud-amd64)
mkdir -p "$dir/modules"
for m in irqbypass kvm kvm-amd; do
	f=$(find "$x/lib/modules" -name "$m.ko.xz" | head -n 1)
	[ -n "$f" ] || { echo "testbed: $pkg has no $m.ko.xz" >&2; exit 1; }
	cp "$f" "$dir/modules/"
done
cp "$x"/boot/vmlinuz-* "$dir/vmlinuz"
echo "${pkg#linux-image-}" > "$dir/version"
echo "testbed: L1 kernel $(cat "$dir/version")" >&2
