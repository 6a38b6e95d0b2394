#!/bin/bash
# A real Linux (the test bed's Debian 6.12 cloud kernel, as a Xen PVH guest)
# under `xtshim run`, with guests/linux/init.c as its init, on 1 and 2 vCPUs
# in each backend mode.  A run passes when the guest's last "Test result:"
# line is SUCCESS and the VMM exits 0 (the guest powered off); SKIP from the
# guest is a skip; anything else fails and shows the end of its console.
#   run.sh XTSHIM VMLINUX INITRAMFS.cpio
# Environment: LINUX_GUEST_TRY_USERSPACE=1 (boot --backend userspace too,
# though it cannot work: see below), LINUX_GUEST_TIMEOUT (s per boot, default 600: nested KVM in
# TCG boots a kernel in tens of seconds), LINUX_GUEST_BACKENDS,
# LINUX_GUEST_VCPUS, LINUX_GUEST_MEM (MiB, default 512).
# Ends with "N passed, N failed, N skipped".
set -u
xtshim=$1 vmlinux=$2 initrd=$3
limit=${LINUX_GUEST_TIMEOUT:-600}
backends=${LINUX_GUEST_BACKENDS:-userspace auto kernel-transport kernel}
vcpus=${LINUX_GUEST_VCPUS:-1 2}
mem=${LINUX_GUEST_MEM:-512}
pass=0 fail=0 skip=0
log=$(mktemp "${TMPDIR:-/tmp}/xtshim-linux-guest.XXXXXX")
trap 'rm -f "$log"' EXIT

for n in $vcpus; do
	for b in $backends; do
		name="linux-pvh-${n}vcpu-$b"
		# Linux 6.12 (since the XSA-466 rework) calls Xen with VMMCALL/VMCALL
		# itself instead of through the hypercall page, and KVM answers those
		# (-KVM_ENOSYS) unless the KVM transport intercepts them: under
		# --backend userspace the guest BUG()s in xen_hvm_init_shared_info
		# before its console is up (docs/linux-guest.md).
		if [ "$b" = userspace ] && [ "${LINUX_GUEST_TRY_USERSPACE:-0}" != 1 ]; then
			echo "SKIP $name (Linux 6.12 hypercalls are VMMCALL/VMCALL: only the KVM transport sees them)"
			skip=$((skip + 1))
			continue
		fi
		if [ ! -w /dev/kvm ]; then
			echo "SKIP $name (no /dev/kvm)"
			skip=$((skip + 1))
			continue
		fi
		if [ ! -s "$vmlinux" ] || [ ! -s "$initrd" ]; then
			echo "FAIL $name: $vmlinux or $initrd missing"
			fail=$((fail + 1))
			continue
		fi
		# The host's UTC just before launch: the guest's realtime must not be
		# before it, nor after it by more than its uptime plus slack (init.c).
		utc=$(date +%s%N)
		start=$(date +%s%N)
		timeout -k 10 "$limit" "$xtshim" run --vcpus "$n" --mem "$mem" --backend "$b" \
			--cmdline "console=hvc0 earlyprintk=xen loglevel=4 oops=panic panic=-1 xtshim.utc_ns=$utc" \
			--initrd "$initrd" "$vmlinux" >"$log" 2>&1
		rc=$?
		ms=$(( ($(date +%s%N) - start) / 1000000 ))
		result=$(grep -a '^Test result: ' "$log" | tail -n 1 | tr -d '\r')
		case "$rc:$result" in
		"0:Test result: SUCCESS")
			echo "PASS $name: boot to power-off ${ms} ms"
			grep -a -E '^(xen|clocksource|monotonic|realtime): ' "$log" | sed 's/^/    /'
			pass=$((pass + 1)) ;;
		"0:Test result: SKIP"*)
			echo "SKIP $name: ${result#Test result: }"
			skip=$((skip + 1)) ;;
		*)
			why=${result:-"no Test result line"}
			[ "$rc" -eq 124 ] && why="$why; timed out after ${limit} s"
			echo "FAIL $name: exit status $rc, $why (${ms} ms); console tail:"
			tail -n 25 "$log" | sed 's/^/    /'
			fail=$((fail + 1)) ;;
		esac
	done
done
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
