#!/bin/bash
# The compat suite against real Xen: runs in the peer's dom0 (docs/xen-peer.md).
#   run-cases.sh IMAGE_DIR SRC_DIR VCPU_COUNTS TEST...
# Reads the same compat-tests/TEST/cases files as compat-tests/lib/run-guests.sh
# (VCPU COUNTS | xtshim run OPTIONS | GUEST COMMAND LINE [| resume: ...]), boots
# every case as a PVH domU with `xl create -F` and judges it the same way: by
# the guest's last "Test result:" line and by how the domain ended (poweroff
# = exit status 0, like xtshim's).  Output: one PASS/FAIL/SKIP line per case
# with the guest's "figure: NAME VALUE UNIT" lines, then "N passed, N failed,
# N skipped".
#
# xtshim's options become xl settings where Xen has one (--tsc-mode MODE ->
# tsc_mode=, never_emulate being xl's "native"); a case whose options have
# no Xen equivalent is skipped with the reason.  Every guest command line
# gets "peer=xen": where Xen's behaviour differs from xtshim's on purpose,
# the test asserts Xen's behaviour under that flag (docs/xen-peer.md lists
# those differences).
#
# The guests print through HYPERVISOR_console_io, which a release Xen refuses
# to a domU (xsm_console_io: -EPERM), then through port 0xe9, which Xen's
# hvm_print_line() logs as "(dN) LINE" at guest debug level: Xen runs with
# guest_loglvl=all and a large console ring, and the guest's lines are read
# back here with `xl dmesg -c` once the domain is gone.
set -u
dir=$1 src=$2 vcpu_counts=$3
shift 3
pass=0 fail=0 skip=0
timeout_s=${XENPEER_CASE_TIMEOUT:-180}
reads=${COMPAT_READS:-1000000}
tolerance_ns=1000000
xen_ver=$(xl info xen_major).$(xl info xen_minor)

host_khz=$(sed -n 's/^cpu MHz[[:space:]]*:[[:space:]]*\([0-9]*\)\.\([0-9]\{3\}\)$/\1\2/p' \
	/proc/cpuinfo 2>/dev/null | head -n 1)
stamp() { now=${EPOCHREALTIME/[.,]/}000; }
trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }

cases_of() {
	local f="$src/$1/cases"
	if [ -f "$f" ]; then
		grep -v '^[[:space:]]*\(#\|$\)' "$f"
	else
		echo "$vcpu_counts||"
	fi
}

expand() {
	local cmd=$1 now
	stamp
	cmd=${cmd//\{utc_ns\}/$now}
	cmd=${cmd//\{reads\}/$reads}
	if [ -n "$host_khz" ]; then
		cmd=${cmd//\{host_khz\}/$host_khz}
	else
		cmd=$(sed 's/[^ ]*{host_khz}[^ ]*//g' <<<"$cmd")
	fi
	echo "$cmd${cmd:+ }peer=xen"
}

# xtshim run OPTIONS -> xl config lines in $xlcfg, or the reason to skip in $why.
map_opts() {
	local -a o
	read -r -a o <<<"$1"
	xlcfg='' why=''
	local i=0
	while [ $i -lt ${#o[@]} ]; do
		case ${o[$i]} in
		--tsc-mode)
			case ${o[$((i + 1))]:-} in
			default) xlcfg+='tsc_mode="default"'$'\n' ;;
			always_emulate) xlcfg+='tsc_mode="always_emulate"'$'\n' ;;
			never_emulate) xlcfg+='tsc_mode="native"'$'\n' ;;
			*) why="--tsc-mode ${o[$((i + 1))]:-}: no xl tsc_mode for it"; return ;;
			esac
			i=$((i + 2)) ;;
		--xen-version)
			# The version a guest sees is the hypervisor's own; xl cannot set it.
			if [ "${o[$((i + 1))]:-}" != "$xen_ver" ]; then
				why="--xen-version ${o[$((i + 1))]:-}: this Xen is $xen_ver and xl cannot present another version"
				return
			fi
			i=$((i + 2)) ;;
		*) why="xtshim option ${o[$i]} has no xl equivalent here"; return ;;
		esac
	done
}

# Boot one domU; sets out, rc (0 poweroff, 2 crash, 3 watchdog, 4 reboot,
# 5 suspend, 124 timeout, 1 toolstack error: xtshim's exit statuses), t_launch, t_end.
seq_no=0
boot() {
	local img=$1 n=$2 cmd=$3 cfg log code
	seq_no=$((seq_no + 1))
	cfg=/tmp/case-$seq_no.cfg log=/tmp/case-$seq_no.xl
	{
		echo "name=\"xp$seq_no\""
		echo 'type="pvh"'
		echo "kernel=\"$img\""
		echo "cmdline=\"$cmd\""
		echo "vcpus=$n"
		echo "memory=64"
		echo 'on_poweroff="destroy"'
		echo 'on_reboot="destroy"'
		echo 'on_crash="destroy"'
		echo 'on_watchdog="destroy"'
		printf '%s' "$xlcfg"
	} > "$cfg"
	xl dmesg -c >/dev/null
	stamp
	t_launch=$now
	timeout "$timeout_s" xl create -F "$cfg" > "$log" 2>&1
	rc=$?
	stamp
	t_end=$now
	if [ $rc -eq 124 ]; then
		xl destroy "xp$seq_no" >/dev/null 2>&1
	else
		# "Domain N has shut down, reason code R 0x..." (SHUTDOWN_* numbers).
		code=$(sed -n 's/.*has shut down, reason code \([0-9]*\).*/\1/p' "$log" | tail -n 1)
		case $code in
		0) rc=0 ;; 1) rc=4 ;; 2) rc=5 ;; 3) rc=2 ;; 4) rc=3 ;; 5) rc=5 ;;
		*) rc=1 ;;
		esac
	fi
	out=$(xl dmesg -c | tr -d '\r' | sed -n 's/^(d[0-9]*) //p')
	[ $rc -eq 0 ] || out+=$'\n'"--- xl create -F (exit status $rc):"$'\n'"$(tail -n 12 "$log")"
	out+=$'\n'
}

echo "Xen $(xl info xen_version), dom0 $(uname -r), host_khz=${host_khz:-unknown}"
for t in "$@"; do
	while IFS='|' read -r counts opts cmd resume; do
		counts=$(trim "$counts") opts=$(trim "$opts") cmd=$(trim "$cmd") resume=$(trim "$resume")
		for env in 64 32; do
			for n in $counts; do
				name="[xen] $t-$env vcpus=$n${opts:+ $opts}${cmd:+ [$cmd]}"
				[ -n "$resume" ] && name+=" -> ${resume}"
				case $resume in
				'') ;;
				resume:*)
					# xl save asks the guest through xenstore (control/shutdown =
					# "suspend") and waits for it to suspend; the compat images
					# do not watch xenstore, so xl would wait in vain.
					echo "SKIP $name: two-phase case: xl save needs the guest to answer control/shutdown=suspend in xenstore, which the compat images do not"
					skip=$((skip + 1)); continue ;;
				*) echo "FAIL $name: cases line with a fourth field that is not 'resume: ...'"
				   fail=$((fail + 1)); continue ;;
				esac
				map_opts "$opts"
				if [ -n "$why" ]; then
					echo "SKIP $name: $why"
					skip=$((skip + 1))
					continue
				fi
				why=''
				boot "$dir/$t-$env.elf" "$n" "$(expand "$cmd")"
				result=$(grep -a 'Test result:' <<<"$out" | tail -n 1 | sed 's/.*Test result: *//')
				figures=$(sed -n 's/^figure: *\([^ ]*\) \([^ ]*\) *\(.*\)$/\1=\2 \3/p' <<<"$out" |
					  sed 's/ *$//' | paste -sd';' - | sed 's/;/; /g')
				# The guest's UTC must lie within [launch - 1 ms, domain gone + 1 ms].
				utc=$(sed -n 's/^utc-window: *\([0-9]*\).*/\1/p' <<<"$out" | tail -n 1)
				if [ -n "$utc" ]; then
					lo=$((utc - t_launch)) hi=$((t_end - utc))
					figures+="${figures:+; }utc_after_launch=$lo ns; utc_before_end=$hi ns"
					if [ $lo -lt -$tolerance_ns ] || [ $hi -lt -$tolerance_ns ]; then
						why="guest UTC $utc outside [$t_launch, $t_end] +- 1 ms"
					fi
				fi
				secs=$(((t_end - t_launch) / 1000000))
				figures+="${figures:+; }case_ms=$secs ms"
				if [ -z "$why" ] && [ "$result" = SUCCESS ] && [ "$rc" -eq 0 ]; then
					echo "PASS $name ($figures)"
					pass=$((pass + 1))
				elif [ -z "$why" ] && [ "$result" = SKIP ] && [ "$rc" -eq 0 ]; then
					echo "SKIP $name: $(grep -a '^SKIP:' <<<"$out" | head -n 1)"
					skip=$((skip + 1))
				else
					echo "FAIL $name (result '${result:-none}', exit status $rc${why:+; $why}; $figures)"
					sed 's/^/    | /' <<<"$out" | tail -n 40
					fail=$((fail + 1))
				fi
			done
		done
	done <<<"$(cases_of "$t")"
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
