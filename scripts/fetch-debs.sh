#!/bin/bash
# Download Debian packages and unpack them into a directory, without
# installing them and without touching the host's apt state.
#   scripts/fetch-debs.sh [--backports] DEST PKG...
# A PKG may be a metapackage name prefixed with "dep:" (dep:linux-image-cloud-amd64):
# the package it depends on is fetched instead (the versioned kernel).
# Prints the fetched package names on stdout, one per line.
#
# The lists come from the machine's own apt sources (whatever mirror or
# snapshot the operator chose), read into a private state under DEST/.apt;
# --backports adds "<codename>-backports main" from the archive those
# sources name for "<codename> main", and prefers its versions.  Root is not needed.
set -euo pipefail
backports=0
[ "${1:-}" = "--backports" ] && { backports=1; shift; }
mkdir -p "$1"
dest=$(cd "$1" && pwd)
shift

# shellcheck disable=SC1091
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "fetch-debs: no VERSION_CODENAME in /etc/os-release" >&2; exit 1; }

# The URI of the archive serving "$codename" main: deb822 sources first,
# then one-line entries.
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

apt=$dest/.apt
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/debs"
: > "$apt/extra.list"
if [ $backports = 1 ]; then
	uri=$(archive_uri | head -n 1)
	[ -n "$uri" ] || { echo "fetch-debs: no apt source names the $codename main archive" >&2; exit 1; }
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri $codename-backports main" \
		> "$apt/extra.list"
fi
opts=(-o "Dir::Etc::SourceList=$apt/extra.list" -o "Dir::Etc::SourceParts=/etc/apt/sources.list.d"
      -o "Dir::State::Lists=$apt/lists" -o "Dir::Cache=$apt/cache"
      -o Dir::State::status=/dev/null -o APT::Sandbox::User=root -qq)
# With --backports, backports versions win (the metapackage's newest kernel).
[ $backports = 1 ] && opts+=(-o "APT::Default-Release=$codename-backports")
# The host's own /etc/apt/sources.list (one-line format) is read as well.
[ -f /etc/apt/sources.list ] && cat /etc/apt/sources.list >> "$apt/extra.list"
apt-get "${opts[@]}" update >&2

pkgs=()
for p in "$@"; do
	case $p in
	dep:*)
		d=$(apt-cache "${opts[@]}" depends "${p#dep:}" |
			awk '/^  Depends: [^<]/ { print $2; exit }')
		[ -n "$d" ] || { echo "fetch-debs: ${p#dep:} not found" >&2; exit 1; }
		pkgs+=("$d") ;;
	*) pkgs+=("$p") ;;
	esac
done
(cd "$apt/debs" && rm -f ./*.deb && apt-get "${opts[@]}" download "${pkgs[@]}" >&2)
for d in "$apt"/debs/*.deb; do
	dpkg-deb -x "$d" "$dest"
done
rm -f "$apt"/debs/*.deb
printf '%s\n' "${pkgs[@]}"
