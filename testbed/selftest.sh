#!/bin/bash
# The test bed's own contract (testbed/run.sh), on two short boots:
#   - a job's failure comes back as its exit status after exactly one
#     attempt (a test failure is never retried away);
#   - an L1 kernel panic is an infrastructure failure: retried up to
#     TESTBED_TRIES, then exit 125 with INFRASTRUCTURE FAILURE.
# Ends with "N passed, N failed".
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0
check() {   # name, condition result (0 = holds), detail
	if [ "$2" -eq 0 ]; then
		echo "PASS $1"; pass=$((pass + 1))
	else
		echo "FAIL $1: $3"; fail=$((fail + 1))
	fi
}

out=$("$here/testbed/run.sh" --name selftest-fail sh -c 'echo job-ran; exit 3' 2>&1)
rc=$?
n=$(grep -c 'attempt [0-9]* of' <<<"$out")
grep -q '^job-ran$' <<<"$out"; ran=$?
[ "$rc" -eq 3 ] && [ "$n" -eq 0 ] && [ $ran -eq 0 ]
check "a failing job: its exit status, one attempt" $? "exit $rc, $n retries, output: $(tail -n 3 <<<"$out")"

out=$(TESTBED_TRIES=2 TESTBED_KEEP=0 "$here/testbed/run.sh" --name selftest-panic \
	sh -c 'echo c > /proc/sysrq-trigger; sleep 60' 2>&1)
rc=$?
n=$(grep -c '^testbed: infra: attempt [0-9] of 2: L1 kernel: .*Kernel panic' <<<"$out")
grep -q 'INFRASTRUCTURE FAILURE' <<<"$out"; said=$?
[ "$rc" -eq 125 ] && [ "$n" -eq 2 ] && [ $said -eq 0 ]
check "an L1 panic: infrastructure failure after 2 attempts" $? "exit $rc, $n panics seen, output: $(tail -n 3 <<<"$out")"
logs=$(sed -n 's/.*logs in \(\/[^ ]*\)$/\1/p' <<<"$out" | tail -n 1)
[ -n "$logs" ] && rm -rf "$logs"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
