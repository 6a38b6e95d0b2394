#!/bin/bash
# `xtshim run` exit status for each way a guest stops (see man/xtshim.1):
#   exit-status.sh XTSHIM IMAGE_DIR
# Ends with "N passed, N failed, N skipped".
set -u
xtshim=$1 dir=$2
pass=0 fail=0 skip=0
# check NAME GOT WANT
check() {
	if [ "$2" -eq "$3" ]; then
		echo "PASS $1: exit status $2"
		pass=$((pass + 1))
	else
		echo "FAIL $1: exit status $2, want $3"
		fail=$((fail + 1))
	fi
}
cases=("0 0 poweroff" "1 4 reboot" "2 5 suspend" "3 2 crash" "4 3 watchdog"
       "5 5 soft_reset" "fault 6 triple-fault"
       "77 6 unknown-reason-refused-then-triple-fault")
for env in 64 32; do
	for c in "${cases[@]}"; do
		read -r reason want name <<<"$c"
		if [ ! -w /dev/kvm ]; then
			echo "SKIP $name-$env (no /dev/kvm)"
			skip=$((skip + 1))
			continue
		fi
		timeout 60 "$xtshim" run --cmdline "reason=$reason" "$dir/shutdown-$env.elf" >/dev/null 2>&1
		check "$name-$env" $? "$want"
	done
done
# The VMM's own errors: bad options (caught before KVM is opened), then a
# missing image and a non-ELF file (caught by the loader, after KVM).
errors=("--vcpus 0 $dir/shutdown-64.elf" "--mem 1 $dir/shutdown-64.elf" "--backend nope $0")
if [ -w /dev/kvm ]; then
	errors+=("/nonexistent.elf" "$0")
else
	echo "SKIP loader errors (no /dev/kvm)"
	skip=$((skip + 2))
fi
for c in "${errors[@]}"; do
	# shellcheck disable=SC2086
	"$xtshim" run $c >/dev/null 2>&1
	check "vmm-error '$c'" $? 1
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
