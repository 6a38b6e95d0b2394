#!/bin/bash
# Xen's own stream verifier (verify-stream-v2, Debian xen-utils-4.17) on
# the fixture streams and on what xtshim's writer produces from them.
# The build unpacks xen-utils-4.17 into build/xen-utils (fuzz/build.mk);
# skips (counted) when no verifier is found.  Set
# XEN_VERIFY_STREAM=/path/to/verify-stream-v2 to use an unpacked copy.
# Ends with "N passed, N failed, N skipped".
B=@B@
v=${XEN_VERIFY_STREAM:-$(command -v verify-stream-v2 ||
	ls /usr/lib/xen-*/bin/verify-stream-v2 @XEN_UTILS@/usr/lib/xen-*/bin/verify-stream-v2 2>/dev/null |
	head -n 1)}
if [ -z "$v" ] || [ ! -e "$v" ]; then
	echo "SKIP: Xen's verify-stream-v2 not found (install xen-utils-4.17 or set XEN_VERIFY_STREAM)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 0
fi
export PYTHONPATH="$(dirname "$v")/../lib/python${PYTHONPATH:+:$PYTHONPATH}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$B/xtshim-gen-fixtures" "$dir/in" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0
check() {   # format file what
	if out=$(python3 "$v" -f "$1" -i "$2" 2>&1); then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $3"; echo "$out" | tail -n 3
	fi
}
# Xen's verifier reads native (little-endian) streams only.
for f in "$dir"/in/*-le-*.bin; do
	b=$(basename "$f")
	fmt=$(cut -d- -f2 <<<"$b")
	check "$fmt" "$f" "fixture $b"
	case $b in hvm-*)
		"$B/fuzz/reexport" "$f" "$dir/$b.xl" && check xl "$dir/$b.xl" "xtshim export of $b (xl)"
		"$B/fuzz/reexport" "$f" "$dir/$b.libxc" bare && check libxc "$dir/$b.libxc" "xtshim export of $b (libxc)"
	esac
done
echo "xen-verify: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
