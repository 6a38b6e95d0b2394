#!/bin/bash
# `xtshim inspect` end to end, through the real binary: every fixture (all
# wrappings, v2/v3, both byte orders, HVM and PV) from a file and from a
# pipe is acceptable (exit 0, --json parses); every proper prefix of one is
# rejected (exit 1) with "truncated".  Ends with "N passed, N failed".
B=@B@
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$B/xtshim-gen-fixtures" "$dir" >/dev/null || { echo "0 passed, 1 failed"; exit 1; }
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
for f in "$dir"/*.bin; do
	b=$(basename "$f")
	"$B/xtshim" inspect "$f" >/dev/null 2>&1 && ok || bad "$b from a file"
	"$B/xtshim" inspect - <"$f" >/dev/null 2>&1 && ok || bad "$b from a pipe"
	if command -v python3 >/dev/null; then
		"$B/xtshim" inspect --json "$f" 2>/dev/null | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d["acceptable"] else 1)' \
			&& ok || bad "$b --json"
	fi
done
f="$dir/hvm-xl-v3-le-4vcpu.bin"
size=$(stat -c %s "$f")
for cut in 0 8 47 48 100 1000 5000 $((size / 2)) $((size - 8)) $((size - 1)); do
	out=$(head -c "$cut" "$f" | "$B/xtshim" inspect - 2>&1)
	rc=$?
	if [ "$rc" -eq 1 ] && grep -q truncated <<<"$out"; then ok; else bad "prefix $cut: rc $rc"; fi
done
echo "inspect-check: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
