#!/bin/bash
# Pack the test bed's initramfs (an uncompressed newc cpio: the L1 kernel
# under TCG unpacks it faster than it would decompress anything).
#   mkinitramfs.sh OUT.cpio INIT MODULE_DIR PROJECT_DIR JOB_SCRIPT [BUILD_DIR]
#
# Contents:
#   /init                  testbed/init.c, static
#   /lib/modules/*.ko.xz   irqbypass, kvm, kvm-amd from the bed's kernel package
#   /usr/bin/...           the host's own bash, coreutils, grep, sed, awk...
#                          with the shared libraries ldd names for them
#   PROJECT_DIR            the source tree and BUILD_DIR (default build,
#                          without objects and the other build flavours),
#                          at the same absolute path as on the host: the
#                          make wrappers in build/ hold absolute paths
#   /testbed/job           what /init runs (bash), made by run.sh
set -euo pipefail
out=$1 init=$2 moddir=$3 project=$4 job=$5 build=${6:-build}

stage=$(mktemp -d "${TMPDIR:-/tmp}/xtshim-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Commands the test scripts use, and some for a person debugging by hand.
cmds="bash sh env cat cp mv rm ln ls mkdir rmdir mktemp touch chmod stat
 dd od cmp diff head tail cut tr sort uniq wc tee paste seq sleep date
 timeout kill nproc uname true false test printf echo basename dirname
 readlink realpath sync truncate du df id grep sed awk find xargs expr
 md5sum sha256sum base64 yes nohup setsid"

mkdir -p "$stage"/{usr/bin,usr/lib,usr/lib64,lib/modules,testbed,dev,proc,sys,tmp,etc}
chmod 1777 "$stage/tmp"     # a directory of the root tmpfs, see init.c
ln -s usr/bin "$stage/bin"
ln -s usr/bin "$stage/sbin"
ln -s usr/lib64 "$stage/lib64"
# /lib is a directory here (modules); its multiarch libraries live under usr/lib.
ln -s ../usr/lib/x86_64-linux-gnu "$stage/lib/x86_64-linux-gnu"

elfs=()
for c in $cmds; do
	p=$(type -P "$c") || true
	case $p in
	/*) ;;
	*) continue ;;      # not on this host
	esac
	cp "$(readlink -f "$p")" "$stage/usr/bin/$c"
	elfs+=("$(readlink -f "$p")")
done

install -m 755 "$init" "$stage/init"
for m in irqbypass kvm kvm-amd; do
	cp "$(find "$moddir" -name "$m.ko.xz" | head -n 1)" "$stage/lib/modules/"
done
install -m 755 "$job" "$stage/testbed/job"

# The project at its host path (tar keeps modes and times).
mkdir -p "$stage/$project"
tar -C "$project" -c --exclude=./.git --exclude=./build . | tar -C "$stage/$project" -x
mkdir -p "$stage/$project/$build"
tar -C "$project/$build" -c --exclude=./obj --exclude=./san --exclude=./arm64 \
	--exclude=./testbed --exclude="*.d" --exclude="*.o" . | tar -C "$stage/$project/$build" -x
while IFS= read -r f; do
	elfs+=("$f")
done < <(find "$stage/$project/$build" -type f -perm -u+x -exec sh -c \
	'head -c 4 "$1" | grep -q "ELF" && echo "$1"' _ {} \;)

# Shared libraries, at the paths the binaries' loader looks them up by.
for e in "${elfs[@]}"; do
	ldd "$e" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\).*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' || true
done | sort -u | while IFS= read -r lib; do
	real=$(readlink -f "$lib")
	case $lib in
	/lib64/*) dest=/usr$lib ;;
	/lib/*) dest=/usr$lib ;;
	*) dest=$lib ;;
	esac
	mkdir -p "$stage$(dirname "$dest")"
	cp "$real" "$stage$dest"
done

printf 'root:x:0:0:root:/tmp:/bin/bash\n' > "$stage/etc/passwd"
printf 'root:x:0:\n' > "$stage/etc/group"

(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$out.tmp"
mv "$out.tmp" "$out"
