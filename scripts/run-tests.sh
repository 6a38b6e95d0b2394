#!/bin/bash
# Run test programs, show each one's own summary, and close with one line
#   N passed, N failed, N skipped
# summing them all.  A program is either a cmocka binary (its
# "[  PASSED  ] N test(s)." lines are read) or any runner that ends with a
# plain "N passed, N failed[, N skipped]" line.  A program that exits non-zero
# without reporting a failure (a crash, a sanitizer abort) counts as one
# failure, so nothing can fail silently.  A test bed run that ends in an
# infrastructure failure (exit 125, testbed/run.sh) is counted apart, as
# ", N infrastructure failures" on the summary line, and fails the run.
# Usage: scripts/run-tests.sh [--prefix CMD] PROGRAM...
set -u
prefix=()
if [ "${1:-}" = "--prefix" ]; then
	read -r -a prefix <<<"$2"
	shift 2
fi
tp=0 tf=0 ts=0 ti=0
for prog in "$@"; do
	name=$(basename "$prog")
	echo "=== $name"
	out=$("${prefix[@]}" "$prog" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	p=0 f=0 s=0
	# A runner's own summary wins: a runner (the test bed) may pass on the
	# output of cmocka programs it ran, already counted in its summary.
	line=$(grep -E '^([A-Za-z-]+: )?[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n 1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/^([A-Za-z-]+: )?([0-9]+) passed.*/\2/' <<<"$line")
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
		s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
		s=${s:-0}
	elif grep -q '^\[==========\]' <<<"$out"; then
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s+=$1} END {print s+0}')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s+=$1} END {print s+0}')
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out" | awk '{s+=$1} END {print s+0}')
	fi
	if [ "$rc" -eq 125 ] && grep -q 'INFRASTRUCTURE FAILURE' <<<"$out"; then
		# The test bed never got its job to the end (testbed/run.sh): not a
		# test result, so counted apart -- and still a failed run.
		echo "!!! $name: infrastructure failure (no result)"
		ti=$((ti + 1))
	elif [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "!!! $name exited with status $rc without reporting a failure: counted as 1 failed"
		f=1
	fi
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done
echo "$tp passed, $tf failed, $ts skipped$([ $ti -gt 0 ] && echo ", $ti infrastructure failures")"
[ "$tf" -eq 0 ] && [ "$ti" -eq 0 ]
