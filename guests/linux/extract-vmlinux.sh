#!/bin/bash
# The vmlinux ELF inside an x86 bzImage, for booting it as a PVH guest
# (`xtshim run` loads ELF images with a Xen PHYS32_ENTRY note, not bzImages).
#   extract-vmlinux.sh BZIMAGE OUT
# The boot protocol header gives where the compressed payload is
# (setup_sects at 0x1f1, payload_offset/payload_length at 0x248/0x24c,
# relative to the protected-mode code after the setup sectors); its magic
# says which decompressor.  The kernel appends the 4-byte uncompressed size
# to the payload, which gzip/xz ignore and zstd refuses: it is cut off.
set -euo pipefail
in=$1 out=$2
u8() { od -An -tu1 -j "$1" -N 1 "$in" | tr -d ' '; }
u32() { od -An -tu4 -j "$1" -N 4 "$in" | tr -d ' '; }
[ "$(dd if="$in" bs=1 skip=514 count=4 status=none)" = HdrS ] ||
	{ echo "extract-vmlinux: $in: not a bzImage (no HdrS)" >&2; exit 1; }
setup=$(u8 $((0x1f1)))
[ "$setup" -eq 0 ] && setup=4
off=$(( (setup + 1) * 512 + $(u32 $((0x248))) ))
len=$(u32 $((0x24c)))
magic=$(od -An -tx1 -j "$off" -N 4 "$in" | tr -d ' ')
case $magic in
28b52ffd) dec=(zstd -dcq) len=$((len - 4)) ;;
fd377a58) dec=(xz -dcq) ;;
1f8b*) dec=(gzip -dcq) ;;
*) echo "extract-vmlinux: $in: payload magic $magic: not zstd, xz or gzip" >&2; exit 1 ;;
esac
tmp=$out.tmp
dd if="$in" bs=4M iflag=skip_bytes,count_bytes skip="$off" count="$len" status=none |
	"${dec[@]}" > "$tmp"
[ "$(head -c 4 "$tmp" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] ||
	{ rm -f "$tmp"; echo "extract-vmlinux: $in: the payload is not an ELF" >&2; exit 1; }
chmod 644 "$tmp"
mv "$tmp" "$out"
