#!/bin/bash
# The Linux guest's initramfs: /init (guests/linux/init.c, static) and the
# mount points it uses, as an uncompressed newc cpio owned by root.  No
# device nodes (no mknod needed): init mounts devtmpfs for its console.
#   mkinitramfs.sh OUT.cpio INIT
set -euo pipefail
out=$1 init=$2
stage=$(mktemp -d "${TMPDIR:-/tmp}/xtshim-guest-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{dev,proc,sys}
install -m 755 "$init" "$stage/init"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
