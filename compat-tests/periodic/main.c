/*
 * Periodic timer (VCPUOP_set_periodic_timer / stop_periodic_timer):
 *  - periods below 1 ms (999999 ns, 0) are refused with -EINVAL;
 *  - an HVM vCPU starts without one: no VIRQ_TIMER until a timer is set;
 *  - N ticks of period P arrive, the k-th never before set + k * P (Xen
 *    counts each period from the previous event, so that bound holds
 *    whatever the delivery delay); spacing figures are reported;
 *  - stopping it stops the ticks;
 *  - with 2 vCPUs, vCPU 0 sets and stops vCPU 1's periodic timer, and the
 *    ticks arrive on vCPU 1.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "periodic: VIRQ_TIMER from the periodic Xen timer";

#define PERIOD_NS  (5 * NS_PER_MS)
#define TICKS      20
#define GIVE_UP_NS (2 * NS_PER_S)

static volatile unsigned ticks[MAX_CPUS];
static volatile uint64_t tick_at[MAX_CPUS][TICKS + 8];

static void on_timer(evtchn_port_t port, void *arg)
{
	unsigned cpu = this_cpu(), n = ticks[cpu];
	if (n < TICKS + 8)
		tick_at[cpu][n] = xen_system_time();
	ticks[cpu] = n + 1;
}

static long set_periodic(unsigned cpu, uint64_t period)
{
	struct vcpu_set_periodic_timer p = { .period_ns = period };
	return vcpu_op(VCPUOP_set_periodic_timer, cpu, &p);
}

static long stop_periodic(unsigned cpu)
{
	return vcpu_op(VCPUOP_stop_periodic_timer, cpu, NULL);
}

static evtchn_port_t timer_port[MAX_CPUS];

/*
 * After the stop: wait until the timer's port is no longer pending (an
 * event raised before the stop has reached the handler); from then on any
 * tick comes from a timer that should not exist.  Delivery can take tens
 * of ms on a loaded host, so this is not a fixed delay.
 */
static unsigned drained_ticks(unsigned cpu)
{
	evtchn_port_t port = timer_port[cpu];
	xen_ulong_t bit = (xen_ulong_t)1 << (port % (8 * sizeof(xen_ulong_t)));
	volatile xen_ulong_t *word = &shared_info->evtchn_pending[port / (8 * sizeof(xen_ulong_t))];
	uint64_t limit = xen_system_time() + GIVE_UP_NS;
	local_irq_enable();
	while ((*word & bit) && xen_system_time() < limit)
		cpu_relax();
	local_irq_disable();
	check(!(*word & bit), "vCPU %u: the timer port stays pending", cpu);
	return ticks[cpu];
}

static void check_ticks(void)
{
	uint64_t gaps[TICKS - 1];
	unsigned base = ticks[0];
	uint64_t set = xen_system_time();
	if (!expect_rc(set_periodic(0, PERIOD_NS), 0, "set_periodic_timer(5 ms)"))
		return;
	while (ticks[0] - base < TICKS)
		if (!halt_count(&ticks[0], ticks[0], set + TICKS * PERIOD_NS + GIVE_UP_NS))
			break;
	uint64_t stop = xen_system_time();
	expect_rc(stop_periodic(0), 0, "stop_periodic_timer");
	unsigned got = ticks[0] - base;
	if (!check(got >= TICKS, "%u of %u ticks within %llu ms", got, TICKS,
		   (unsigned long long)((stop - set) / NS_PER_MS)))
		return;
	for (unsigned k = 1; k <= TICKS; k++) {
		uint64_t t = tick_at[0][base + k - 1];
		if (!check(t >= set + k * PERIOD_NS, "tick %u at %llu ns after the set, before %u periods",
			   k, (unsigned long long)(t - set), k))
			break;
		if (k > 1)
			gaps[k - 2] = t - tick_at[0][base + k - 2];
	}
	sort_u64(gaps, TICKS - 1);
	report_figure("tick_gap_min", gaps[0], "ns");
	report_figure("tick_gap_p50", percentile(gaps, TICKS - 1, 50), "ns");
	report_figure("tick_gap_p99", percentile(gaps, TICKS - 1, 99), "ns");

	/* Stopped: quiet for several periods. */
	unsigned after = drained_ticks(0);
	local_irq_enable();
	delay_ns(4 * PERIOD_NS);
	local_irq_disable();
	check(ticks[0] == after, "%u ticks after stop_periodic_timer", ticks[0] - after);
}

static volatile bool vcpu1_ready, vcpu1_stop, vcpu1_drain, vcpu1_checked;
static volatile unsigned vcpu1_late_ticks;

/* vCPU 1 counts its ticks; asked to, it drains and counts what still comes. */
static void secondary(unsigned cpu)
{
	evtchn_port_t port;
	if (!expect_rc(timer_bind(cpu, on_timer, NULL, &port), 0, "vCPU %u: binding VIRQ_TIMER", cpu))
		return;
	timer_port[cpu] = port;
	vcpu1_ready = true;
	local_irq_enable();
	while (!vcpu1_stop) {
		if (vcpu1_drain) {
			/* Here, outside the handler: what drained_ticks() counts is final. */
			unsigned after = drained_ticks(cpu);
			local_irq_enable();
			delay_ns(4 * PERIOD_NS);
			vcpu1_late_ticks = ticks[cpu] - after;
			vcpu1_drain = false;
			vcpu1_checked = true;
		}
		cpu_relax();
	}
	local_irq_disable();
}

static void check_other_vcpu(void)
{
	if (!smp_start(1, secondary))
		return;
	uint64_t limit = xen_system_time() + GIVE_UP_NS;
	while (!vcpu1_ready && xen_system_time() < limit)
		cpu_relax();
	if (!vcpu1_ready) {
		xfail("vCPU 1 did not bind VIRQ_TIMER");
		return;
	}
	if (expect_rc(set_periodic(1, PERIOD_NS), 0, "vCPU 0 setting vCPU 1's periodic timer")) {
		limit = xen_system_time() + GIVE_UP_NS;
		while (ticks[1] < 3 && xen_system_time() < limit)
			cpu_relax();
		check(ticks[1] >= 3, "vCPU 1 got %u ticks from the timer vCPU 0 set", ticks[1]);
		expect_rc(stop_periodic(1), 0, "vCPU 0 stopping vCPU 1's periodic timer");
		vcpu1_drain = true;
		limit = xen_system_time() + 2 * GIVE_UP_NS;
		while (!vcpu1_checked && xen_system_time() < limit)
			cpu_relax();
		if (check(vcpu1_checked, "vCPU 1 did not report after the stop"))
			check(!vcpu1_late_ticks, "vCPU 1 got %u ticks after its timer was stopped",
			      vcpu1_late_ticks);
	}
	vcpu1_stop = true;
	smp_wait(1, GIVE_UP_NS);
}

void test_main(void)
{
	evtchn_port_t port;
	if (!xtest_setup(SETUP_ALL))
		return;
	if (!expect_rc(timer_bind(0, on_timer, NULL, &port), 0, "binding VIRQ_TIMER"))
		return;
	timer_port[0] = port;
	expect_rc(set_periodic(0, NS_PER_MS - 1), -XEN_EINVAL, "set_periodic_timer(999999 ns)");
	expect_rc(set_periodic(0, 0), -XEN_EINVAL, "set_periodic_timer(0)");

	/* No periodic timer at start (HVM), and the refused ones set none either. */
	local_irq_enable();
	delay_ns(4 * PERIOD_NS);
	local_irq_disable();
	check(ticks[0] == 0, "%u VIRQ_TIMER events with no timer set", ticks[0]);

	check_ticks();
	if (smp_possible_cpus() > 1)
		check_other_vcpu();
}
