/*
 * Migration continuity: the guest reads its clocks, suspends with
 * SCHEDOP_shutdown(SHUTDOWN_suspend), and checks them again when the call
 * returns 0 in the resumed domain (`xl save` + `xl restore` on Xen;
 * `xtshim run --save-on-suspend F` + `xtshim run --from-xen F` here).
 *
 * After the return, as after a Xen restore, nothing registered survives:
 * the guest installs the hypercall page, maps shared_info, registers every
 * vCPU's vcpu_info and upcall vector again before reading time.  Then:
 *  - CPUID base+3 incarnation is the old one + 1;
 *  - system time did not go back, and (freeze policy) advanced by less than
 *    max_gap_ms: the time the guest was stopped does not count; with
 *    policy=track (the VMM resumed with --clock-policy track) it advanced by
 *    the UTC gap, within max_gap_ms, and by at least pause_ms;
 *  - wallclock + system time is UTC again: at least pause_ms (the runner's
 *    wait between the two VMMs) past the UTC read before, and "utc-window:"
 *    lets the runner bound it by the host's UTC;
 *  - the TSC: tsc=continuous (a KVM that honours TSC offsets, or Xen)
 *    resumes where it stopped: converted at the CPUID kHz, its advance
 *    plus pause_ms is within the UTC gap (freeze: the pause not counted),
 *    or (track) within max_gap_ms of the UTC gap.  UTC is the reference
 *    because the LAPIC timer does not survive: KVM_SET_LAPIC on restore
 *    restarts a running timer from its initial count (vmm/kvm-cpu.c).
 *    tsc=host (a KVM that ignores offsets, e.g. PVM) is the host TSC:
 *    only "it did not go back" is checked and the jump is a figure;
 *  - with 2 vCPUs, vCPU 1 (halted across the save) sees its own system time
 *    continue too.
 * Command line: max_gap_ms=N pause_ms=N tsc=continuous|host [policy=track].
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "migrate: Xen time across SCHEDOP_shutdown(suspend) and resume";

#define TSC_SLACK_MS 2   /* TSC and UTC reads not at one instant, kHz rounding */

static volatile bool resumed;
static volatile uint64_t sec_before[MAX_CPUS], sec_after[MAX_CPUS];
static volatile bool sec_ready[MAX_CPUS];

/* A secondary vCPU: read time, then idle (hlt) until the resume is done. */
static void secondary(unsigned cpu)
{
	sec_before[cpu] = xen_system_time();
	__atomic_store_n(&sec_ready[cpu], true, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&resumed, __ATOMIC_SEQ_CST)) {
		safe_halt();              /* the LAPIC heartbeat wakes it */
		local_irq_disable();
	}
	sec_after[cpu] = xen_system_time();
}

struct clocks {
	uint64_t sys_ns, tsc, utc_ns;
	uint32_t incarnation, khz;
};

static void read_clocks(struct clocks *c)
{
	uint32_t r[4], nsec;
	uint64_t sec;
	cpuid_count(xen_cpuid_base + 3, 0, r);
	c->incarnation = r[3];
	c->khz = r[2];
	xen_wallclock(&sec, &nsec);
	struct vcpu_time_info t;
	c->tsc = xen_time_snapshot(0, &t);
	c->sys_ns = pvclock_at(&t, c->tsc);
	c->utc_ns = sec * NS_PER_S + nsec + c->sys_ns;
}

/*
 * What a restored guest does before it reads time again (Linux:
 * xen_hvm_post_suspend, xen_vcpu_restore): Xen takes another vCPU's
 * vcpu_info only while that vCPU is down, so each one is taken down,
 * registered and brought back up where it stopped.
 */
static bool reregister(unsigned ncpus)
{
	if (!xtest_setup(SETUP_ALL))
		return false;
	for (unsigned cpu = 1; cpu < ncpus; cpu++) {
		long up = vcpu_op(VCPUOP_is_up, cpu, NULL);
		int rc = up > 0 ? (int)vcpu_op(VCPUOP_down, cpu, NULL) : 0;
		if (!rc)
			rc = xen_register_vcpu_info(cpu);
		if (!rc)
			rc = xen_set_upcall_vector(cpu);
		if (!rc && up > 0)
			rc = (int)vcpu_op(VCPUOP_up, cpu, NULL);
		if (rc) {
			xerror("re-registering vCPU %u after resume: %d (%s)", cpu, rc,
			       xen_errno_name(rc));
			return false;
		}
	}
	return true;
}

void test_main(void)
{
	uint64_t max_gap_ms = 500, pause_ms = 0;
	char tsc_mode[16] = "continuous";
	if (!xtest_setup(SETUP_ALL))
		return;
	cmdline_u64("max_gap_ms", &max_gap_ms);
	cmdline_u64("pause_ms", &pause_ms);
	cmdline_arg("tsc", tsc_mode, sizeof(tsc_mode));
	bool tsc_continuous = !strcmp(tsc_mode, "continuous");
	bool track = cmdline_has("policy=track");
	if (!tsc_continuous && strcmp(tsc_mode, "host")) {
		xerror("tsc=%s: want continuous or host", tsc_mode);
		return;
	}

	unsigned ncpus = smp_possible_cpus();
	if (ncpus > MAX_CPUS)
		ncpus = MAX_CPUS;
	for (unsigned cpu = 1; cpu < ncpus; cpu++) {
		if (!smp_start(cpu, secondary))
			return;
		uint64_t limit = xen_system_time() + 2 * NS_PER_S;
		while (!__atomic_load_n(&sec_ready[cpu], __ATOMIC_SEQ_CST) &&
		       xen_system_time() < limit)
			cpu_relax();
		if (!check(sec_ready[cpu], "vCPU %u did not start", cpu))
			return;
	}

	struct clocks b, a;
	read_clocks(&b);
	printk("before: system time %llu ns, TSC %llu, UTC %llu ns, incarnation %u, %u kHz\n",
	       (unsigned long long)b.sys_ns, (unsigned long long)b.tsc,
	       (unsigned long long)b.utc_ns, b.incarnation, b.khz);
	printk("suspending (%u vCPU(s))\n", ncpus);

	struct sched_shutdown s = { .reason = SHUTDOWN_suspend };
	long rc = sched_op(SCHEDOP_shutdown, &s);
	uint64_t tsc_first = rdtsc_ordered();       /* before anything else runs */

	printk("SCHEDOP_shutdown(suspend) returned %ld\n", rc);
	if (!expect_rc(rc, 0, "SCHEDOP_shutdown(suspend) in the resumed domain (1: cancelled)"))
		return;
	if (!reregister(ncpus))
		return;
	read_clocks(&a);
	printk("utc-window: %llu\n", (unsigned long long)a.utc_ns);
	printk("after: system time %llu ns, TSC %llu, UTC %llu ns, incarnation %u, %u kHz\n",
	       (unsigned long long)a.sys_ns, (unsigned long long)a.tsc,
	       (unsigned long long)a.utc_ns, a.incarnation, a.khz);

	check(a.incarnation == b.incarnation + 1, "incarnation %u after resume, %u before: want +1",
	      a.incarnation, b.incarnation);
	check(a.khz == b.khz, "guest TSC kHz changed from %u to %u", b.khz, a.khz);
	uint64_t gap = a.sys_ns - b.sys_ns;
	if (check(a.sys_ns >= b.sys_ns, "system time went back from %llu to %llu ns",
		  (unsigned long long)b.sys_ns, (unsigned long long)a.sys_ns)) {
		report_figure("system_time_gap", gap / NS_PER_US, "us");
		if (!track)
			check(gap < max_gap_ms * NS_PER_MS, "system time advanced %llu ms across the "
			      "suspend: more than %llu ms (the stopped time counts)",
			      (unsigned long long)(gap / NS_PER_MS), (unsigned long long)max_gap_ms);
		else
			check(gap >= pause_ms * NS_PER_MS, "policy=track: system time advanced %llu "
			      "ms, less than the %llu ms the guest was stopped",
			      (unsigned long long)(gap / NS_PER_MS), (unsigned long long)pause_ms);
	}
	if (track && a.utc_ns > b.utc_ns && a.sys_ns >= b.sys_ns) {
		uint64_t utc_gap = a.utc_ns - b.utc_ns;
		uint64_t diff = utc_gap > gap ? utc_gap - gap : gap - utc_gap;
		report_figure("track_error", diff / NS_PER_US, "us");
		check(diff < max_gap_ms * NS_PER_MS, "policy=track: system time advanced %llu ms "
		      "but UTC %llu ms", (unsigned long long)(gap / NS_PER_MS),
		      (unsigned long long)(utc_gap / NS_PER_MS));
	}
	if (check(a.utc_ns > b.utc_ns, "UTC went back from %llu to %llu ns",
		  (unsigned long long)b.utc_ns, (unsigned long long)a.utc_ns)) {
		report_figure("utc_gap", (a.utc_ns - b.utc_ns) / NS_PER_MS, "ms");
		check(a.utc_ns - b.utc_ns >= pause_ms * NS_PER_MS, "UTC advanced %llu ms; the guest "
		      "was stopped for at least %llu ms", (unsigned long long)((a.utc_ns - b.utc_ns) /
		      NS_PER_MS), (unsigned long long)pause_ms);
	}

	/* TSC ticks -> ns at the advertised rate (32-bit safe: no 128-bit product). */
	uint64_t dt = tsc_first - b.tsc;
	uint64_t dt_ns = dt / b.khz * 1000000 + dt % b.khz * 1000000 / b.khz;
	check(tsc_first > b.tsc, "TSC went back across the resume: %llu -> %llu",
	      (unsigned long long)b.tsc, (unsigned long long)tsc_first);
	if (tsc_continuous) {
		/*
		 * Against UTC, which the host steps by the real time the guest
		 * was stopped (the runner bounds "utc-window:" by its own UTC
		 * and waits pause_ms between the two VMMs): under freeze the
		 * TSC, at the CPUID kHz, must not have counted that pause,
		 * dt + pause_ms <= UTC gap (+ TSC_SLACK_MS of rounding); under
		 * track it counted the downtime with system time, dt within
		 * max_gap_ms of the UTC gap.
		 */
		report_figure("tsc_gap", dt_ns / NS_PER_US, "us");
		uint64_t utc_gap = a.utc_ns > b.utc_ns ? a.utc_ns - b.utc_ns : 0;
		if (!track)
			check(tsc_first <= b.tsc ||
			      dt_ns + pause_ms * NS_PER_MS <= utc_gap + TSC_SLACK_MS * NS_PER_MS,
			      "freeze: the TSC advanced %llu ms across the resume, UTC %llu ms: it "
			      "counted the %llu ms the guest was stopped",
			      (unsigned long long)(dt_ns / NS_PER_MS),
			      (unsigned long long)(utc_gap / NS_PER_MS), (unsigned long long)pause_ms);
		else
			check(tsc_first <= b.tsc || (dt_ns > utc_gap ? dt_ns - utc_gap :
			      utc_gap - dt_ns) < max_gap_ms * NS_PER_MS,
			      "track: the TSC advanced %llu ms across the resume, UTC %llu ms",
			      (unsigned long long)(dt_ns / NS_PER_MS),
			      (unsigned long long)(utc_gap / NS_PER_MS));
	} else {
		report_figure("tsc_jump", dt_ns / NS_PER_MS, "ms");
		printk("tsc=host: the TSC is the host's, not restored (not checked for continuity)\n");
	}

	__atomic_store_n(&resumed, true, __ATOMIC_SEQ_CST);
	/*
	 * Only a bound on giving up, not a figure: under software emulation a
	 * freshly restored vCPU thread has been seen to need more than 2 s.
	 */
	for (unsigned cpu = 1; cpu < ncpus; cpu++) {
		if (!smp_wait(cpu, 10 * NS_PER_S))
			continue;
		uint64_t gap1 = sec_after[cpu] - sec_before[cpu];
		check(sec_after[cpu] >= sec_before[cpu], "vCPU %u: system time went back from %llu "
		      "to %llu ns", cpu, (unsigned long long)sec_before[cpu],
		      (unsigned long long)sec_after[cpu]);
		check(sec_after[cpu] < sec_before[cpu] || gap1 < 2 * max_gap_ms * NS_PER_MS + gap,
		      "vCPU %u: system time advanced %llu ms across the suspend", cpu,
		      (unsigned long long)(gap1 / NS_PER_MS));
	}
}
