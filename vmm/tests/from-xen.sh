#!/bin/bash
# `xtshim run --from-xen` / `--save-on-suspend` from the operator's side:
#   from-xen.sh XTSHIM IMAGE_DIR
# A guest (compat-tests/migrate) is saved once; the file is then inspected,
# resumed from a pipe, resumed through xl's migration receiver protocol
# (this script plays xl's sending side, tools/xl/xl_migrate.c), and refused
# in every way an operator can get it wrong.  Ends with
# "N passed, N failed, N skipped".
set -u
xtshim=$1 dir=$2
pass=0 fail=0 skip=0
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xtshim-from-xen.XXXXXX") || exit 1
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT

ok() { echo "PASS $1"; pass=$((pass + 1)); }
ko() { echo "FAIL $1"; fail=$((fail + 1)); [ -n "${2:-}" ] && sed 's/^/    | /' "$2" | tail -n 15; }
# expect NAME WANT_STATUS PATTERN (in stderr+stdout) -- COMMAND...
expect() {
	local name=$1 want=$2 pat=$3
	shift 4
	timeout 60 "$@" >"$tmp/out" 2>&1
	local rc=$?
	if [ "$rc" -ne "$want" ]; then
		ko "$name: exit status $rc, want $want" "$tmp/out"
	elif [ -n "$pat" ] && ! grep -aq -- "$pat" "$tmp/out"; then
		ko "$name: no '$pat' in the output" "$tmp/out"
	else
		ok "$name"
	fi
}

# Option errors come before KVM is opened.
expect "--from-xen with an image" 1 "no GUEST.elf" -- \
	"$xtshim" run --from-xen /dev/null "$dir/migrate-64.elf"
expect "--xl-migrate-receive needs stdin" 1 "--from-xen -" -- \
	"$xtshim" run --from-xen /dev/null --xl-migrate-receive
expect "--clock-policy bogus" 1 "not freeze, track" -- \
	"$xtshim" run --clock-policy warp --from-xen /dev/null
expect "--clock-policy threshold:x" 1 "nanoseconds" -- \
	"$xtshim" run --clock-policy threshold:x --from-xen /dev/null
expect "--pvclock without --from-xen" 1 "need --from-xen" -- \
	"$xtshim" run --pvclock 0:0x1000 "$dir/migrate-64.elf"
expect "--pvclock bad vCPU" 1 "VCPU:GPA" -- \
	"$xtshim" run --pvclock 999:0x1000 --from-xen /dev/null
expect "--cmdline with --from-xen" 1 "own command" -- \
	"$xtshim" run --cmdline x --from-xen /dev/null

if [ ! -w /dev/kvm ]; then
	echo "SKIP: no /dev/kvm: no guest saved or resumed"
	skip=$((skip + 8))
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
fi

tsc=continuous
[ -d /sys/module/kvm_pvm ] && tsc=host
save=$tmp/guest.xl
expect "save on suspend" 0 "suspending" -- \
	"$xtshim" run --vcpus 2 --save-on-suspend "$save" \
	--cmdline "max_gap_ms=2000 tsc=$tsc" "$dir/migrate-64.elf"
if [ ! -s "$save" ]; then
	ko "no save file; the rest cannot run"
	echo "$pass passed, $fail failed, $skip skipped"
	exit 1
fi
expect "inspect accepts the saved file" 0 "acceptable" -- "$xtshim" inspect "$save"
expect "inspect --json" 0 '"acceptable"' -- "$xtshim" inspect --json "$save"

# Refusals: nothing runs (no guest output), status 1, the reason named.
head -c 5000000 "$save" >"$tmp/short.xl"
expect "truncated stream refused" 1 "REJECTED: .*PAGE_DATA" -- \
	"$xtshim" run --from-xen "$tmp/short.xl"
expect "--mem too small names the pfn" 1 "pfn 0x1000 lies outside guest RAM" -- \
	"$xtshim" run --mem 16 --from-xen "$save"
expect "--vcpus mismatch" 1 "has 2 vCPU" -- "$xtshim" run --vcpus 1 --from-xen "$save"
expect "missing file" 1 "No such file" -- "$xtshim" run --from-xen "$tmp/nonexistent"

# Streams made from the spec by the fixture generator: valid, but not guests.
gen=$(dirname "$xtshim")/xtshim-gen-fixtures
if [ -x "$gen" ] && "$gen" "$tmp/fx" >/dev/null 2>&1; then
	expect "time-only HVM stream refused (no registers)" 1 "no register state" -- \
		"$xtshim" run --from-xen "$tmp/fx/hvm-xl-v3-le-4vcpu.bin"
	expect "PV stream refused" 1 "PV guest cannot run on KVM" -- \
		"$xtshim" run --from-xen "$tmp/fx/pv-xl-v3-le-1vcpu.bin"
else
	echo "SKIP: no $gen: generated streams not tried"
	skip=$((skip + 2))
fi

# Resumed from a pipe (the receive time stands for the save instant).
expect "resume from stdin" 0 "Test result: SUCCESS" -- \
	sh -c 'exec "$1" run --from-xen - < "$2"' sh "$xtshim" "$save"

# xl migrate: the receiver's banner, the stream, "ready", our "go", its report.
xl_send() {
	local banner ready report rfd wfd
	coproc RECV { exec "$xtshim" run --from-xen - --xl-migrate-receive 2>"$tmp/recv.err"; }
	# Plain copies: bash closes coproc descriptors in pipelines' subshells.
	exec {rfd}<&"${RECV[0]}" {wfd}>&"${RECV[1]}"
	banner=$(dd bs=1 count=54 status=none <&$rfd)
	[ "$banner" = "xl migration receiver ready, send binary domain data." ] ||
		{ echo "banner '$banner'"; return 1; }
	cat "$save" >&$wfd
	ready=$(dd bs=1 count=34 status=none <&$rfd | tr '\0' '@')
	[ "$ready" = "domain received, ready to unpause@" ] || { echo "ready '$ready'"; return 1; }
	printf 'domain is yours, you are cleared to unpause\0' >&$wfd
	report=$(dd bs=1 count=40 status=none <&$rfd | od -An -c | tr -d ' \n')
	exec {wfd}>&- {rfd}<&-
	[ "$report" = 'mycopyunpauseresultsareasfollows\0\0' ] || { echo "report '$report'"; return 1; }
	wait "$RECV_PID"
}
expect "xl migrate: a truncated stream is refused" 1 "REJECTED" -- \
	sh -c 'exec "$1" run --from-xen - --xl-migrate-receive < "$2"' sh "$xtshim" "$tmp/short.xl"
if grep -aq "domain received" "$tmp/out"; then
	ko "xl migrate: 'ready' sent for a truncated stream" "$tmp/out"
fi
if xl_send >"$tmp/out" 2>&1 && grep -aq "Test result: SUCCESS" "$tmp/recv.err"; then
	ok "xl migrate receiver: handshake, resume, guest SUCCESS"
else
	cat "$tmp/recv.err" >>"$tmp/out" 2>/dev/null
	ko "xl migrate receiver" "$tmp/out"
fi

echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]
