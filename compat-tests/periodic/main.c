/*
 * Periodic timer (VCPUOP_set_periodic_timer / stop_periodic_timer), as Xen
 * runs it (xen/common/sched/core.c, vcpu_periodic_timer_work()):
 *  - periods below 1 ms (999999 ns, 0) or above STIME_DELTA_MAX (2^62 - 1)
 *    are refused with -EINVAL;
 *  - an HVM vCPU starts without one: no VIRQ_TIMER until a timer is set;
 *  - the first event is last_event + period with last_event 0, so once
 *    system time is past one period the set itself sends VIRQ_TIMER: the
 *    port is pending when the hypercall returns;
 *  - each next event comes a period after the one sent (its time being
 *    the hypervisor's clock read for it), never sooner.  The guest polls
 *    the port with interrupts off (a halted HVM vCPU is descheduled on Xen,
 *    which stops its periodic timer) and reads its own pvclock after each
 *    sight: the k-th event after the first is seen no sooner than k periods
 *    after a read taken before the set.  That is the bound that holds under
 *    any load; a bound per gap does not, because the hypervisor reads its
 *    clock for an event some time before the guest can see the event, and
 *    that delay has no limit (a preempted host thread), so two sights can
 *    be less than a period apart.  The gaps are reported as figures;
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

static volatile xen_ulong_t *port_word(evtchn_port_t port, xen_ulong_t *bit)
{
	*bit = (xen_ulong_t)1 << (port % (8 * sizeof(xen_ulong_t)));
	return &shared_info->evtchn_pending[port / (8 * sizeof(xen_ulong_t))];
}

/* Clear the port's pending bit; true if it was set.  (Interrupts off: no handler runs.) */
static bool take_port(evtchn_port_t port)
{
	xen_ulong_t bit;
	volatile xen_ulong_t *word = port_word(port, &bit);
	return __atomic_fetch_and(word, ~bit, __ATOMIC_SEQ_CST) & bit;
}

/*
 * Poll the port until it is pending (then clear it and return true, with
 * *seen_at a time read after the sight: the event came before it) or
 * system time reaches limit_ns.
 */
static bool poll_port(evtchn_port_t port, uint64_t limit_ns, uint64_t *seen_at)
{
	xen_ulong_t bit;
	volatile xen_ulong_t *word = port_word(port, &bit);
	while (!(__atomic_load_n(word, __ATOMIC_SEQ_CST) & bit)) {
		if (xen_system_time() >= limit_ns)
			return false;
		cpu_relax();
	}
	*seen_at = xen_system_time();
	take_port(port);
	return true;
}

static void check_ticks(void)
{
	evtchn_port_t port = timer_port[0];
	uint64_t seen_at[TICKS], gaps[TICKS - 1];
	unsigned got = 0;

	local_irq_disable();
	take_port(port);
	uint64_t before = xen_system_time();
	if (!expect_rc(set_periodic(0, PERIOD_NS), 0, "set_periodic_timer(5 ms)"))
		return;
	uint64_t after = xen_system_time();
	/* Sent inside the call (last_event 0 + period has passed): pending now. */
	bool at_once = take_port(port);
	if (before >= PERIOD_NS)
		check(at_once, "no VIRQ_TIMER pending when set_periodic_timer returned (system time "
		      "%llu ms: Xen sends the first tick at once)",
		      (unsigned long long)(before / NS_PER_MS));
	else
		printk("note: system time %llu ns < one period: the first tick is not due at once\n",
		       (unsigned long long)before);
	report_figure("set_periodic_call", after - before, "ns");
	if (at_once)
		seen_at[got++] = after;
	uint64_t limit = after + TICKS * PERIOD_NS + GIVE_UP_NS;
	while (got < TICKS && poll_port(port, limit, &seen_at[got]))
		got++;
	uint64_t stop = xen_system_time();
	expect_rc(stop_periodic(0), 0, "stop_periodic_timer");
	if (!check(got >= TICKS, "%u of %u ticks within %llu ms", got, TICKS,
		   (unsigned long long)((stop - before) / NS_PER_MS)))
		return;
	/* Event k is a period after event k - 1, and the first came after `before`. */
	for (unsigned k = 1; k < TICKS; k++)
		if (!check(seen_at[k] >= before + k * PERIOD_NS,
			   "tick %u after the first seen %llu ns after the set, before %u periods",
			   k, (unsigned long long)(seen_at[k] - before), k))
			break;
	for (unsigned k = 1; k < TICKS; k++)
		gaps[k - 1] = seen_at[k] - seen_at[k - 1];
	sort_u64(gaps, TICKS - 1);
	report_figure("tick_gap_min", gaps[0], "ns");
	report_figure("tick_gap_p50", percentile(gaps, TICKS - 1, 50), "ns");
	report_figure("tick_gap_p99", percentile(gaps, TICKS - 1, 99), "ns");

	/*
	 * Stopped: the stop is synchronous (no event is sent once it returns),
	 * so whatever is pending now came before it; quiet for several periods.
	 */
	take_port(port);
	uint64_t seen = stop;
	unsigned base = ticks[0];
	bool late = poll_port(port, xen_system_time() + 4 * PERIOD_NS, &seen);
	check(!late, "VIRQ_TIMER %llu ns after stop_periodic_timer returned",
	      (unsigned long long)(seen - stop));
	check(ticks[0] == base, "%u VIRQ_TIMER handled after stop_periodic_timer", ticks[0] - base);
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
	/* Xen's upper limit, STIME_DELTA_MAX = 2^62 - 1 ns; 2^63 is refused too. */
	expect_rc(set_periodic(0, 1ULL << 62), -XEN_EINVAL, "set_periodic_timer(2^62 ns)");
	expect_rc(set_periodic(0, 1ULL << 63), -XEN_EINVAL, "set_periodic_timer(2^63 ns)");
	/* STIME_DELTA_MAX itself is taken; its first event is 2^62 ns away. */
	expect_rc(set_periodic(0, (1ULL << 62) - 1), 0, "set_periodic_timer(2^62 - 1 ns)");
	expect_rc(stop_periodic(0), 0, "stop_periodic_timer");

	/* No periodic timer at start (HVM), and the refused ones set none either. */
	local_irq_enable();
	delay_ns(4 * PERIOD_NS);
	local_irq_disable();
	check(ticks[0] == 0, "%u VIRQ_TIMER events with no timer set", ticks[0]);

	check_ticks();
	if (smp_possible_cpus() > 1)
		check_other_vcpu();
}
