/*
 * Benchmarks inside the guest (`make bench`):
 *  - hypercall round trip (xen_version through the hypercall page, i.e.
 *    guest -> VMM dispatcher -> guest) against a null trapping exit (an
 *    `out` to port 0x80, which the VMM ignores), measured in the same run;
 *  - timer lateness: singleshot timers 1..2 ms ahead, fire time (system time
 *    read in the upcall) minus deadline, as a distribution.
 * Figures are printed as "figure: NAME VALUE UNIT".
 */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/xtest.h"

const char test_title[] = "bench: hypercall round trip, null exit, timer lateness";

#define ROUNDS      5
#define CALLS       4000
#define TIMERS      300

static volatile uint64_t fired_ns;
static volatile unsigned fired;

static void on_timer(evtchn_port_t port, void *arg)
{
	fired_ns = xen_system_time();
	fired++;
}

static void sort(int64_t *v, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		int64_t x = v[i];
		unsigned j = i;
		for (; j && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static uint64_t ticks_to_ns(uint64_t ticks)
{
	struct vcpu_time_info t;
	xen_time_snapshot(0, &t);
	return pvclock_scale(ticks, t.tsc_to_system_mul, t.tsc_shift);
}

/* Median over ROUNDS of the mean cost of CALLS operations, in TSC ticks. */
static uint64_t measure(bool hcall)
{
	int64_t per[ROUNDS];
	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t t0 = rdtsc_ordered();
		for (unsigned i = 0; i < CALLS; i++) {
			if (hcall)
				xen_version(XENVER_version, NULL);
			else
				outb(0x80, 0);
		}
		per[r] = (int64_t)((rdtsc_ordered() - t0) / CALLS);
	}
	sort(per, ROUNDS);
	return (uint64_t)per[ROUNDS / 2];
}

static void bench_calls(void)
{
	/* Interleave so both see the same host conditions. */
	measure(true);
	measure(false);
	uint64_t h = measure(true), n = measure(false);
	uint64_t h2 = measure(true), n2 = measure(false);
	h = h < h2 ? h : h2;
	n = n < n2 ? n : n2;
	report_figure("hypercall_round_trip_ns", ticks_to_ns(h), "ns");
	report_figure("null_exit_ns", ticks_to_ns(n), "ns");
	report_figure("hypercall_to_null_ratio_x1000", n ? h * 1000 / n : 0, "");
	printk("hypercall round trip %llu ns, null exit %llu ns, ratio %llu.%03llu\n",
	       (unsigned long long)ticks_to_ns(h), (unsigned long long)ticks_to_ns(n),
	       (unsigned long long)(n ? h / n : 0), (unsigned long long)(n ? h * 1000 / n % 1000 : 0));
}

static int64_t late[TIMERS];

static void bench_timers(void)
{
	evtchn_port_t port;
	int rc = timer_bind(0, on_timer, NULL, &port);
	if (rc) {
		xerror("binding VIRQ_TIMER with an upcall vector: %d", rc);
		return;
	}
	/* idle=spin: wait with interrupts on but without hlt (delivery to a running vCPU). */
	char buf[8];
	bool spin = cmdline_arg("idle", buf, sizeof(buf)) && !strcmp(buf, "spin");
	unsigned early = 0, n = 0;
	uint32_t spread = 12345;
	local_irq_enable();
	for (unsigned i = 0; i < TIMERS; i++) {
		/* 1..2 ms ahead, varied so deadlines do not line up with host ticks. */
		spread = spread * 1103515245u + 12345u;
		uint64_t deadline = xen_system_time() + 1000000 + (spread >> 12) % 1000000;
		unsigned seen = fired;
		if ((rc = (int)xen_set_singleshot(0, deadline, 0))) {
			xerror("set_singleshot_timer: %d", rc);
			break;
		}
		while (fired == seen) {
			if (spin)
				cpu_relax();
			else
				safe_halt();
		}
		late[n++] = (int64_t)(fired_ns - deadline);
		if (fired_ns < deadline)
			early++;
	}
	local_irq_disable();
	if (!n)
		return;
	sort(late, n);
	report_figure("timer_late_p50_ns", (uint64_t)late[n / 2], "ns");
	report_figure("timer_late_p99_ns", (uint64_t)late[n * 99 / 100], "ns");
	report_figure("timer_late_max_ns", (uint64_t)late[n - 1], "ns");
	report_figure("timer_early_fires", early, "");
	printk("timer lateness over %u timers: p50 %lld ns, p99 %lld ns, max %lld ns, min %lld ns, "
	       "early %u\n", n, (long long)late[n / 2], (long long)late[n * 99 / 100],
	       (long long)late[n - 1], (long long)late[0], early);
	if (early)
		xfail("%u timers fired before their deadline", early);
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO | SETUP_VCPU_INFO))
		return;
	bench_calls();
	bench_timers();
}
