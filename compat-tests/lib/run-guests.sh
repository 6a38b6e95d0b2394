#!/bin/bash
# Boot compat-test images under `xtshim run` and judge each by its last
# "Test result:" line and the VMM's exit status.
#   run-guests.sh XTSHIM IMAGE_DIR VCPU_COUNTS TEST...
# Every TEST runs as TEST-64.elf and TEST-32.elf with each vCPU count in
# VCPU_COUNTS (e.g. "1 2").  Prints one line per case and ends with
# "N passed, N failed, N skipped".  Without a usable /dev/kvm every case is
# reported as skipped, loudly.
set -u
xtshim=$1 dir=$2 vcpu_counts=$3
shift 3
pass=0 fail=0 skip=0
timeout_s=${COMPAT_TIMEOUT:-60}

kvm_ok=1
if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	kvm_ok=0
	echo "SKIP: /dev/kvm is missing or not accessible: no guest is booted"
fi

for t in "$@"; do
	for env in 64 32; do
		for n in $vcpu_counts; do
			name="$t-$env vcpus=$n"
			img="$dir/$t-$env.elf"
			if [ $kvm_ok = 0 ]; then
				echo "SKIP $name (no /dev/kvm)"
				skip=$((skip + 1))
				continue
			fi
			out=$(timeout "$timeout_s" "$xtshim" run --vcpus "$n" \
				--cmdline "utc_ns=$(date +%s%N)" "$img" 2>&1)
			rc=$?
			result=$(grep -a 'Test result:' <<<"$out" | tail -n 1 | sed 's/.*Test result: *//')
			figures=$(grep -a '^figure:' <<<"$out" | sed 's/^figure: //' | tr '\n' ';')
			if [ "$result" = SUCCESS ] && [ $rc -eq 0 ]; then
				echo "PASS $name${figures:+ ($figures)}"
				pass=$((pass + 1))
			elif [ "$result" = SKIP ] && [ $rc -eq 0 ]; then
				echo "SKIP $name: $(grep -a '^SKIP:' <<<"$out" | head -n 1)"
				skip=$((skip + 1))
			else
				echo "FAIL $name (result '${result:-none}', exit status $rc)"
				sed 's/^/    | /' <<<"$out" | tail -n 40
				fail=$((fail + 1))
			fi
		done
	done
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
