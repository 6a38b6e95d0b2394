#!/bin/bash
# Fetch the test bed's L1 kernel: Debian's bookworm-backports
# linux-image-*-cloud-amd64 (6.12: CONFIG_KVM_XEN=y, KVM as modules).
#   fetch.sh DIR      -> DIR/vmlinuz, DIR/modules/*.ko.xz, DIR/version
#
# The backports suite comes from the Debian archive this machine's apt
# sources already name (so a mirror or snapshot the operator chose is kept),
# through a private apt configuration under DIR/apt: the host's apt state
# is not touched and root is not needed.  Nothing is fetched when DIR already
# holds a kernel.
set -euo pipefail
mkdir -p "$1"
dir=$(cd "$1" && pwd)
[ -s "$dir/vmlinuz" ] && [ -s "$dir/version" ] && exit 0

# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "testbed: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }

# The URI of the archive that serves "$codename" main: deb822 sources first,
# then one-line sources.list entries.
archive_uri() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$codename" '
			/^[[:space:]]*$/ { if (uri != "" && ok && main) { print uri; done = 1; exit } uri = ""; ok = 0; main = 0; next }
			tolower($1) == "uris:" { uri = $2 }
			tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == want) ok = 1 }
			tolower($1) == "components:" { for (i = 2; i <= NF; i++) if ($i == "main") main = 1 }
			END { if (!done && uri != "" && ok && main) print uri }' "$f"
	done
	{ cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } |
		sed -n "s/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) $codename .*main.*/\2/p"
}
uri=$(archive_uri | head -n 1)
[ -n "$uri" ] || { echo "testbed: no apt source names the $codename main archive" >&2; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg

apt=$dir/apt
mkdir -p "$apt/parts" "$apt/lists/partial" "$apt/cache/archives/partial" "$dir/deb"
echo "deb [signed-by=$keyring] $uri $codename-backports main" > "$apt/sources.list"
opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o "Dir::Etc::SourceParts=$apt/parts"
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
      -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -qq)
echo "testbed: fetching the L1 kernel from $codename-backports" >&2
apt-get "${opts[@]}" update >&2
pkg=$(apt-cache "${opts[@]}" depends linux-image-cloud-amd64 |
	awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$pkg" ] || { echo "testbed: linux-image-cloud-amd64 not found in $codename-backports" >&2; exit 1; }
(cd "$dir/deb" && apt-get "${opts[@]}" download "$pkg" >&2)

x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$dir"/deb/"$pkg"_*.deb "$x"
mkdir -p "$dir/modules"
for m in irqbypass kvm kvm-amd; do
	cp "$(find "$x/lib/modules" -name "$m.ko.xz" | head -n 1)" "$dir/modules/"
done
# The same kernel's vmlinux, for booting it as a Xen PVH guest (L2).
cp "$x"/boot/vmlinuz-* "$dir/vmlinuz"
rm -rf "$dir/deb"
echo "${pkg#linux-image-}" > "$dir/version"
echo "testbed: L1 kernel $(cat "$dir/version")" >&2
