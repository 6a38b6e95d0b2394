/*
 * Smoke test: the minimal path every Xen guest takes.  Find Xen, install the
 * hypercall page, map shared_info, register vcpu_info, read system time and
 * the wallclock, then take one VIRQ_TIMER from a singleshot timer through the
 * upcall vector, never before its deadline.
 */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/xtest.h"

const char test_title[] = "smoke: find Xen, read time, take a timer upcall";

#define TIMER_DELAY_NS   2000000ULL       /* 2 ms */
#define GIVE_UP_NS    2000000000ULL       /* 2 s of system time */
#define UTC_2020          1577836800ULL   /* 2020-01-01T00:00:00Z */

static volatile uint64_t fired_at_ns[MAX_CPUS];
static volatile unsigned fired[MAX_CPUS];
static volatile bool cpu_done[MAX_CPUS];

static void on_timer(evtchn_port_t port, void *arg)
{
	unsigned cpu = this_cpu();
	fired_at_ns[cpu] = xen_system_time();
	fired[cpu]++;
}

static void check_time(void)
{
	struct vcpu_time_info a, b;
	uint64_t tsc_a = xen_time_snapshot(0, &a);
	uint64_t tsc_b = xen_time_snapshot(0, &b);
	uint64_t ta = pvclock_at(&a, tsc_a), tb = pvclock_at(&b, tsc_b);

	printk("time: version %u tsc_timestamp %llu system_time %llu mul %#x shift %d flags %#x\n",
	       a.version, (unsigned long long)a.tsc_timestamp,
	       (unsigned long long)a.system_time, a.tsc_to_system_mul, a.tsc_shift, a.flags);
	if (a.version & 1)
		xfail("time record version %u is odd after a stable read", a.version);
	if (!a.tsc_to_system_mul)
		xfail("tsc_to_system_mul is 0: no time record was published");
	if (tb < ta)
		xfail("system time went backwards: %llu then %llu",
		      (unsigned long long)ta, (unsigned long long)tb);
	printk("system time %llu ns at TSC %llu\n", (unsigned long long)tb,
	       (unsigned long long)tsc_b);

	uint64_t sec;
	uint32_t nsec;
	xen_wallclock(&sec, &nsec);
	uint64_t utc_s = sec + (nsec + tb) / 1000000000ULL;
	printk("wallclock %llu.%09u; UTC now %llu s\n", (unsigned long long)sec, nsec,
	       (unsigned long long)utc_s);
	if (nsec >= 1000000000u)
		xfail("wc_nsec %u is not below 10^9", nsec);
	if (utc_s < UTC_2020)
		xfail("UTC from the wallclock (%llu s) is before 2020", (unsigned long long)utc_s);
}

/* On `cpu` itself: one singleshot timer, delivered as VIRQ_TIMER to this vCPU. */
/*
 * upcall=callback on the command line: the domain-wide vector of
 * HVM_PARAM_CALLBACK_IRQ (set once, by vCPU 0) instead of per-vCPU vectors.
 */
static int bind_timer(unsigned cpu, evtchn_port_t *port)
{
	if (!cmdline_has("upcall=callback"))
		return timer_bind(cpu, on_timer, NULL, port);
	int rc = cpu ? 0 : xen_set_callback_vector();
	return rc ? rc : evtchn_bind_virq(VIRQ_TIMER, cpu, on_timer, NULL, port);
}

static void check_timer(unsigned cpu)
{
	evtchn_port_t port;
	int rc = bind_timer(cpu, &port);
	if (rc) {
		xfail("vCPU %u: upcall vector + bind_virq(VIRQ_TIMER): %d", cpu, rc);
		return;
	}
	uint64_t deadline = xen_system_time() + TIMER_DELAY_NS;
	long r = xen_set_singleshot(cpu, deadline, 0);
	if (r) {
		xfail("vCPU %u: set_singleshot_timer: %ld", cpu, r);
		return;
	}
	local_irq_enable();
	while (!fired[cpu] && xen_system_time() < deadline + GIVE_UP_NS)
		safe_halt();
	local_irq_disable();
	if (!fired[cpu]) {
		xfail("vCPU %u: no VIRQ_TIMER within 2 s of the deadline (port %u, upcalls %llu)",
		      cpu, port, (unsigned long long)upcall_count(cpu));
		return;
	}
	printk("vCPU %u: VIRQ_TIMER on port %u, %llu ns after the deadline\n", cpu, port,
	       (unsigned long long)(fired_at_ns[cpu] - deadline));
	if (fired_at_ns[cpu] < deadline)
		xfail("vCPU %u: timer fired %llu ns before its deadline", cpu,
		      (unsigned long long)(deadline - fired_at_ns[cpu]));
}

static void secondary(unsigned cpu)
{
	check_timer(cpu);
	cpu_done[cpu] = true;
}

/*
 * With a second vCPU: start it (VCPUOP_initialise + up, or INIT/SIPI with
 * ap_start=sipi on the command line); it repeats the timer check.
 */
static void check_secondary(void)
{
	unsigned n = smp_possible_cpus();
	printk("%u vCPU(s)\n", n);
	if (n < 2)
		return;
	bool sipi = cmdline_has("ap_start=sipi");
	printk("starting vCPU 1 through %s\n", sipi ? "INIT/SIPI" : "VCPUOP_initialise + up");
	int rc = sipi ? smp_start_cpu_sipi(1, secondary) : smp_start_cpu(1, secondary);
	if (rc) {
		xfail("starting vCPU 1: %d", rc);
		return;
	}
	uint64_t give_up = xen_system_time() + 2 * GIVE_UP_NS;
	while (!cpu_done[1] && xen_system_time() < give_up)
		cpu_relax();
	if (!cpu_done[1])
		xfail("vCPU 1 did not finish its timer check");
}

void test_main(void)
{
	if (!xen_detect()) {
		xskip("no Xen CPUID leaves: not running on Xen or xtshim");
		return;
	}
	uint32_t r[4];
	cpuid_count(xen_cpuid_base + 1, 0, r);
	printk("Xen CPUID base %#x, version leaf %u.%u\n", xen_cpuid_base, r[0] >> 16,
	       r[0] & 0xffff);

	int rc = xen_install_hypercall_page();
	if (rc) {
		xfail("installing the hypercall page: %d", rc);
		return;
	}
	long ver = xen_version(XENVER_version, NULL);
	if ((uint32_t)ver != r[0])
		xfail("XENVER_version %#lx differs from CPUID base+1 %#x", ver, r[0]);
	static const char hello[] = "console_io: hello from the smoke guest\n";
	long crc = console_io_write(hello, sizeof(hello) - 1);
	if (cmdline_has("peer=xen")) {
		/*
		 * Deliberate difference: a release Xen refuses CONSOLEIO_write to a
		 * domU (xen/include/xsm/dummy.h, xsm_console_io(): XSM_PRIV unless
		 * CONFIG_VERBOSE_DEBUG), where xtshim lets its guest write.
		 */
		if (crc != -XEN_EPERM)
			xfail("console_io write on a release Xen: got %ld, want -EPERM", crc);
	} else if (crc < 0) {
		xfail("console_io write failed");
	}

	if ((rc = xen_map_shared_info())) {
		xfail("add_to_physmap(shared_info): %d", rc);
		return;
	}
	if ((rc = xen_register_vcpu_info(0))) {
		xfail("register_vcpu_info: %d", rc);
		return;
	}
	check_time();
	check_timer(0);
	check_secondary();
}
