#!/bin/bash
# Boot compat-test images under `xtshim run` and judge each case by the
# image's last "Test result:" line and the VMM's exit status.
#   run-guests.sh XTSHIM IMAGE_DIR VCPU_COUNTS TEST...
#
# Every TEST runs as TEST-64.elf and TEST-32.elf.  Its cases come from
# compat-tests/TEST/cases when that file exists, one per line:
#     VCPU COUNTS | xtshim run OPTIONS | GUEST COMMAND LINE
# e.g. "1 2 | --tsc-mode never_emulate | tsc_mode=2"; without the file the
# test runs once per count in VCPU_COUNTS with no options.  In the command
# line, {utc_ns} becomes the host UTC (ns) taken just before the VMM starts,
# {host_khz} the host TSC kHz from /proc/cpuinfo (omitted if unknown) and
# {reads} the count for long read loops: $COMPAT_READS, by default 10^6,
# or 20000 on a PVM host (kvm_pvm), where KVM emulates every guest
# instruction and 10^6 locked pvclock reads would take some 10 minutes.
#
# A fourth field "resume: OPTIONS" makes a two-phase (migration) case:
#   1. xtshim run --vcpus N OPTIONS --save-on-suspend F --cmdline ... IMAGE
#      (the guest suspends; the VMM saves it and exits 0);
#   2. xtshim inspect F must accept the file;
#   3. after $COMPAT_PAUSE_MS ms (default 300), xtshim run --from-xen F
#      RESUME-OPTIONS; the case is judged on this run's output.
# A guest that ends phase 1 with its own "Test result:" is judged on that.
# More placeholders: {pause_ms}, and {kvm_tsc}: "host" on a KVM that ignores
# TSC offsets (PVM: the VMM must then say so on stderr), else "continuous".
#
# COMPAT_BACKEND=B adds "--backend B" to every run (first phase and resume)
# and names B in every line, so one suite can run per backend mode.  In a
# command line {backend} becomes B (or "auto"), for tests that assert what
# KVM does where its records or timers differ from xtshim's.
#
# Output: one line per case (PASS/FAIL/SKIP, with the figures the guest
# printed as "figure: NAME VALUE UNIT"), then "N passed, N failed, N skipped".
# Without a usable /dev/kvm every case is reported as skipped, loudly.
#
# A guest line "utc-window: NS" (the UTC it read from the wallclock) makes
# the runner check NS against [host UTC before launch - 1 ms, host UTC when
# that line arrived + 1 ms]: output is read line by line as it comes, so
# the window is the true bound on when the guest read its clock.
set -u
shopt -s lastpipe     # the last command of a pipeline runs here: its variables stay
xtshim=$1 dir=$2 vcpu_counts=$3
shift 3
src=${COMPAT_SRC:-$(cd "$(dirname "$0")/.." && pwd)}   # where TEST/cases live
pass=0 fail=0 skip=0
timeout_s=${COMPAT_TIMEOUT:-60}
backend=${COMPAT_BACKEND:-}
backend_opts=()
[ -n "$backend" ] && backend_opts=(--backend "$backend")
tolerance_ns=1000000

kvm_ok=1
if [ ! -c /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	kvm_ok=0
	echo "SKIP: /dev/kvm is missing or not accessible: no guest is booted"
fi

if [ -z "${COMPAT_READS:-}" ] && [ -d /sys/module/kvm_pvm ]; then
	COMPAT_READS=20000
	echo "NOTE: PVM host (kvm_pvm): guest code is emulated; read loops cut to" \
	     "$COMPAT_READS (COMPAT_READS=1000000 for the full count)"
fi
reads=${COMPAT_READS:-1000000}
pause_ms=${COMPAT_PAUSE_MS:-300}
# PVM runs guests on the host TSC whatever offset is set (docs/vmm.md).
kvm_tsc=continuous
[ -d /sys/module/kvm_pvm ] && kvm_tsc=host

# "cpu MHz : 2596.124" -> 2596124, only when given to the kHz.
host_khz=$(sed -n 's/^cpu MHz[[:space:]]*:[[:space:]]*\([0-9]*\)\.\([0-9]\{3\}\)$/\1\2/p' \
	/proc/cpuinfo 2>/dev/null | head -n 1)

# Host UTC in ns into $now, from $EPOCHREALTIME (bash 5, microseconds): no fork.
stamp() { now=${EPOCHREALTIME/[.,]/}000; }

trim() { local s=$1; s=${s#"${s%%[![:space:]]*}"}; echo "${s%"${s##*[![:space:]]}"}"; }

# Cases of one test, as "VCPUS|OPTIONS|CMDLINE" lines.
cases_of() {
	local f="$src/$1/cases"
	if [ -f "$f" ]; then
		grep -v '^[[:space:]]*\(#\|$\)' "$f"
	else
		echo "$vcpu_counts||"
	fi
}

# Run `xtshim run ARGS...`; sets out, rc, t_launch, utc_line_ns, utc_seen_ns.
run_vmm() {
	local line ts now
	out='' rc=1 utc_line_ns='' utc_seen_ns=''
	stamp
	t_launch=$now
	{ timeout "$timeout_s" "$xtshim" run "${backend_opts[@]}" "$@" 2>&1
	  echo "__rc=$?"; } |
	while IFS= read -r line; do
		stamp
		ts=$now
		case $line in
		__rc=*) rc=${line#__rc=}; continue ;;
		utc-window:*)
			utc_line_ns=$(trim "${line#utc-window:}")
			utc_seen_ns=$ts ;;
		esac
		out+="$line"$'\n'
	done
}

# One case's command line with its placeholders filled in (UTC: now).
expand() {
	local cmd=$1 now
	stamp
	cmd=${cmd//\{utc_ns\}/$now}
	cmd=${cmd//\{reads\}/$reads}
	cmd=${cmd//\{pause_ms\}/$pause_ms}
	cmd=${cmd//\{kvm_tsc\}/$kvm_tsc}
	cmd=${cmd//\{backend\}/${backend:-auto}}
	if [ -n "$host_khz" ]; then
		cmd=${cmd//\{host_khz\}/$host_khz}
	else
		cmd=$(sed 's/[^ ]*{host_khz}[^ ]*//g' <<<"$cmd")
	fi
	echo "$cmd"
}

# Run one case; sets out, rc, t_launch, utc_line_ns, utc_seen_ns.
boot() {
	local img=$1 n=$2 opts=$3 cmd
	cmd=$(expand "$4")
	# shellcheck disable=SC2086 # options are words on purpose
	run_vmm --vcpus "$n" $opts --cmdline "$cmd" "$img"
}

# A two-phase case: boot until the guest suspends and is saved, inspect the
# file, resume it.  Sets what boot() sets (from the resumed run, or from
# phase 1 if the guest finished there) plus why (a runner-side failure) and
# extra (figures seen by the runner).
boot_resume() {
	local img=$1 n=$2 opts=$3 cmd resume_opts=$5 save out1 rc1 t_end1 elapsed
	why='' extra=''
	cmd=$(expand "$4")
	save=$(mktemp "${TMPDIR:-/tmp}/xtshim-migrate.XXXXXX") || { why="mktemp failed"; return; }
	# shellcheck disable=SC2086
	run_vmm --vcpus "$n" $opts --save-on-suspend "$save" --cmdline "$cmd" "$img"
	out1=$out rc1=$rc
	stamp
	t_end1=$now
	if grep -aq 'Test result:' <<<"$out1"; then
		rm -f "$save"
		return           # the guest did not suspend: judged as it ended
	fi
	if [ "$rc1" -ne 0 ] || [ ! -s "$save" ]; then
		why="phase 1 (run until suspend, --save-on-suspend) exit status $rc1, save file ${save}"
		[ -s "$save" ] || why+=" missing or empty"
		out=$out1
		rm -f "$save"
		return
	fi
	if ! "$xtshim" inspect "$save" >/dev/null 2>&1; then
		why="xtshim inspect rejected the saved file"
		out="$out1$("$xtshim" inspect "$save" 2>&1 | tail -n 5)"
		rm -f "$save"
		return
	fi
	extra="save_file=$(($(stat -c %s "$save") >> 20)) MiB"
	sleep "$((pause_ms / 1000)).$(printf '%03d' $((pause_ms % 1000)))"
	# shellcheck disable=SC2086
	run_vmm --from-xen "$save" $resume_opts
	rm -f "$save"
	elapsed=$(sed -n 's/^xtshim: clock: .* \([0-9]*\) ns since the save.*/\1/p' <<<"$out")
	[ -n "$elapsed" ] && extra+="; downtime=$((elapsed / 1000000)) ms"
	extra+="; vmm_gap=$(((t_launch - t_end1) / 1000000)) ms"
	if [ "$kvm_tsc" = host ] && ! grep -aq 'guest TSC could not be restored' <<<"$out"; then
		why="this KVM ignores TSC offsets, yet the VMM did not report the TSC jump"
	elif [ "$kvm_tsc" = continuous ] && grep -aq 'guest TSC could not be restored' <<<"$out"; then
		why="the VMM could not restore the guest TSC on a KVM expected to honour offsets"
	fi
	out="$out1--- resumed ---"$'\n'"$out"
}

for t in "$@"; do
	while IFS='|' read -r counts opts cmd resume; do
		counts=$(trim "$counts") opts=$(trim "$opts") cmd=$(trim "$cmd") resume=$(trim "$resume")
		two_phase=0
		case $resume in
		resume:*) two_phase=1 resume=$(trim "${resume#resume:}") ;;
		?*) echo "FAIL $t: cases line with a fourth field that is not 'resume: ...'"
		    fail=$((fail + 1)); continue ;;
		esac
		for env in 64 32; do
			for n in $counts; do
				name="${backend:+[$backend] }$t-$env vcpus=$n${opts:+ $opts}${cmd:+ [$cmd]}"
				[ $two_phase = 1 ] && name+=" -> resume${resume:+ $resume}"
				img="$dir/$t-$env.elf"
				if [ $kvm_ok = 0 ]; then
					echo "SKIP $name (no /dev/kvm)"
					skip=$((skip + 1))
					continue
				fi
				why='' extra=''
				if [ $two_phase = 1 ]; then
					boot_resume "$img" "$n" "$opts" "$cmd" "$resume"
				else
					boot "$img" "$n" "$opts" "$cmd"
				fi
				result=$(grep -a 'Test result:' <<<"$out" | tail -n 1 |
					 sed 's/.*Test result: *//')
				figures=$(sed -n 's/^figure: *\([^ ]*\) \([^ ]*\) *\(.*\)$/\1=\2 \3/p' <<<"$out" |
					  sed 's/ *$//' | paste -sd';' - | sed 's/;/; /g')
				[ -n "$extra" ] && figures+="${figures:+; }$extra"
				if [ -z "$why" ] && [ -n "$utc_line_ns" ]; then
					lo=$((utc_line_ns - t_launch)) hi=$((utc_seen_ns - utc_line_ns))
					figures+="${figures:+; }utc_after_launch=$lo ns; utc_before_seen=$hi ns"
					if [ $lo -lt -$tolerance_ns ] || [ $hi -lt -$tolerance_ns ]; then
						why="guest UTC $utc_line_ns outside [$t_launch, $utc_seen_ns] +- 1 ms"
					fi
				fi
				if [ -z "$why" ] && [ "$result" = SUCCESS ] && [ "$rc" -eq 0 ]; then
					echo "PASS $name${figures:+ ($figures)}"
					pass=$((pass + 1))
				elif [ -z "$why" ] && [ "$result" = SKIP ] && [ "$rc" -eq 0 ]; then
					echo "SKIP $name: $(grep -a '^SKIP:' <<<"$out" | head -n 1)"
					skip=$((skip + 1))
				else
					echo "FAIL $name (result '${result:-none}', exit status $rc${why:+; $why})"
					sed 's/^/    | /' <<<"$out" | tail -n 40
					fail=$((fail + 1))
				fi
			done
		done
	done <<<"$(cases_of "$t")"
done
echo "$pass passed, $fail failed, $skip skipped"
[ $fail -eq 0 ]
