#!/bin/bash
# TSC modes xtshim cannot provide are refused before anything is booted:
# `--tsc-mode always_emulate` (KVM gives a VMM no RDTSC exiting) and
# `pvrdtscp`, each with a message naming the option and the reason.
#   tsc-mode.sh XTSHIM
set -u
xtshim=$1 pass=0 fail=0
expect_refusal() {   # MODE PATTERN
	local out rc
	out=$("$xtshim" run --tsc-mode "$1" /nonexistent.elf 2>&1); rc=$?
	if [ $rc -ne 0 ] && grep -q -- "--tsc-mode $1: not supported" <<<"$out" &&
	   grep -q -- "$2" <<<"$out"; then
		echo "PASS --tsc-mode $1 refused: $out"; pass=$((pass + 1))
	else
		echo "FAIL --tsc-mode $1: exit status $rc, output: $out"; fail=$((fail + 1))
	fi
}
expect_refusal always_emulate "RDTSC exiting"
expect_refusal pvrdtscp "removed from Xen"
# The modes that are provided still parse (the missing image is the error).
out=$("$xtshim" run --tsc-mode never_emulate /nonexistent.elf 2>&1)
if grep -q "not supported\|tsc-mode" <<<"$out"; then
	echo "FAIL --tsc-mode never_emulate refused: $out"; fail=$((fail + 1))
else
	echo "PASS --tsc-mode never_emulate accepted"; pass=$((pass + 1))
fi
echo "$pass passed, $fail failed, 0 skipped"
[ $fail -eq 0 ]
