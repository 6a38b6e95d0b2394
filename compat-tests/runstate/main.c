/*
 * Runstate: the area registered with VCPUOP_register_runstate_memory_area
 * (5, virtual) or register_runstate_phys_area (14, physical, Xen 4.18;
 * -ENOSYS before), read under XEN_RUNSTATE_UPDATE
 * (VMASST_TYPE_runstate_update_flag on).
 *  - It is filled at once and says "running" while we read it.
 *  - The header promises the times do not drift from system time:
 *    state_entry_time - sum(time[]) is the same in every reading (xtshim
 *    counts the time before the domain existed as offline, so with
 *    runstate_sum_exact on the command line it must be 0).
 *  - Across SCHEDOP_block until a singleshot timer fires, the area moves:
 *    time[blocked] grows, by no more than the time the block took.
 *  - VCPUOP_get_runstate_info agrees with the area.
 *  - With 2 vCPUs: vCPU 1 is offline before it starts; blocked while it
 *    waits in SCHEDOP_block for an IPI event vCPU 0 sends; its blocked
 *    time grew when it is back.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "runstate: vcpu_runstate_info areas and SCHEDOP_block";

#define VCPUOP_register_runstate_phys_area 14   /* Xen 4.18; not in 4.17's headers */
#define GIVE_UP_NS (2 * NS_PER_S)
#define BLOCK_NS   (20 * NS_PER_MS)

static struct vcpu_runstate_info areas[MAX_CPUS][2] __attribute__((aligned(64)));
static volatile unsigned fired[MAX_CPUS];
static bool exact_sum;
static bool on_xen;   /* peer=xen: run on real Xen (xenpeer/) */

static void on_event(evtchn_port_t port, void *arg)
{
	fired[this_cpu()]++;
}

/* A consistent copy: retry while XEN_RUNSTATE_UPDATE is set or the entry time moved. */
static void read_area(volatile struct vcpu_runstate_info *a, struct vcpu_runstate_info *out)
{
	uint64_t e1, e2;
	do {
		e1 = a->state_entry_time;
		barrier();
		memcpy(out, (const void *)a, sizeof(*out));
		barrier();
		e2 = a->state_entry_time;
	} while ((e1 & XEN_RUNSTATE_UPDATE) || e1 != e2);
}

static uint64_t sum(const struct vcpu_runstate_info *r)
{
	return r->time[0] + r->time[1] + r->time[2] + r->time[3];
}

/* One base for all vCPUs under xtshim; per vCPU on Xen, where each vCPU's
 * times start at its own creation (vcpu_create()). */
static int64_t drift_bases[MAX_CPUS] = { [0 ... MAX_CPUS - 1] = INT64_MIN };

static void check_sum(unsigned cpu, const struct vcpu_runstate_info *r, const char *when)
{
	int64_t d = (int64_t)(r->state_entry_time - sum(r));
	if (exact_sum && on_xen)
		/*
		 * Deliberate difference: Xen starts a vCPU's runstate at its
		 * creation, offline with all times 0 and state_entry_time = NOW()
		 * (xen/common/domain.c, vcpu_create()), so entry - sum(times) is
		 * the creation time: positive, and below the entry time.
		 */
		check(d > 0 && (uint64_t)d <= r->state_entry_time,
		      "vCPU %u %s (Xen): entry - sum(times) = %lld, want the creation time in (0, %llu]",
		      cpu, when, (long long)d, (unsigned long long)r->state_entry_time);
	else if (exact_sum)
		check(d == 0, "vCPU %u %s: times sum to %llu, state_entry_time %llu", cpu, when,
		      (unsigned long long)sum(r), (unsigned long long)r->state_entry_time);
	int64_t *base = &drift_bases[on_xen && cpu < MAX_CPUS ? cpu : 0];
	if (*base == INT64_MIN)
		*base = d;
	else
		check(d == *base, "vCPU %u %s: entry - sum(times) is %lld, was %lld", cpu, when,
		      (long long)d, (long long)*base);
}

static long register_runstate(unsigned cpu, bool phys, void *area)
{
	struct vcpu_register_runstate_memory_area r;
	memset(&r, 0, sizeof(r));
	r.addr.p = (uintptr_t)area;
	return vcpu_op(phys ? VCPUOP_register_runstate_phys_area :
		       VCPUOP_register_runstate_memory_area, cpu, &r);
}

static void check_registered(unsigned cpu, volatile struct vcpu_runstate_info *a, const char *what)
{
	struct vcpu_runstate_info r;
	read_area(a, &r);
	printk("vCPU %u %s: state %d entry %llu running %llu runnable %llu blocked %llu offline %llu\n",
	       cpu, what, r.state, (unsigned long long)r.state_entry_time,
	       (unsigned long long)r.time[0], (unsigned long long)r.time[1],
	       (unsigned long long)r.time[2], (unsigned long long)r.time[3]);
	check(r.state == RUNSTATE_running, "vCPU %u %s: state %d while running", cpu, what, r.state);
	check(r.state_entry_time != 0 && r.state_entry_time <= xen_system_time(),
	      "vCPU %u %s: state_entry_time %llu", cpu, what, (unsigned long long)r.state_entry_time);
	check_sum(cpu, &r, what);
}

/*
 * SCHEDOP_block until *count moves.  It returns at once while an upcall is
 * pending (as on Xen), so each round lets the upcall run with sti; hlt
 * (the pending vector is taken at once; the library's LAPIC heartbeat
 * bounds the hlt otherwise) before blocking again.
 */
static void block_until(volatile unsigned *count, unsigned seen, uint64_t limit)
{
	while (*count == seen && xen_system_time() < limit) {
		long rc = sched_op(SCHEDOP_block, NULL);
		if (!expect_rc(rc, 0, "vCPU %u: SCHEDOP_block", this_cpu()))
			break;
		safe_halt();
		local_irq_disable();
	}
}

/* Block until a singleshot timer BLOCK_NS ahead fires; the area must show it. */
static void check_block(unsigned cpu, volatile struct vcpu_runstate_info *a, const char *figure)
{
	struct vcpu_runstate_info before, after;
	read_area(a, &before);
	unsigned seen = fired[cpu];
	uint64_t t0 = xen_system_time();
	if (!expect_rc(xen_set_singleshot(cpu, t0 + BLOCK_NS, 0), 0, "vCPU %u: singleshot", cpu))
		return;
	block_until(&fired[cpu], seen, t0 + GIVE_UP_NS);
	uint64_t t1 = xen_system_time();
	read_area(a, &after);
	if (!check(fired[cpu] != seen, "vCPU %u: SCHEDOP_block did not end with the timer", cpu))
		return;
	uint64_t grew = after.time[RUNSTATE_blocked] - before.time[RUNSTATE_blocked];
	printk("vCPU %u: blocked %llu ns of a %llu ns wait\n", cpu, (unsigned long long)grew,
	       (unsigned long long)(t1 - t0));
	check(grew > 0, "vCPU %u: blocked time did not grow across SCHEDOP_block", cpu);
	check(grew <= t1 - t0, "vCPU %u: blocked time grew %llu ns in a %llu ns wait", cpu,
	      (unsigned long long)grew, (unsigned long long)(t1 - t0));
	check(after.state == RUNSTATE_running, "vCPU %u: state %d after the block", cpu, after.state);
	check(after.state_entry_time > before.state_entry_time, "vCPU %u: state_entry_time did "
	      "not move across the block", cpu);
	for (unsigned i = 0; i < 4; i++)
		check(after.time[i] >= before.time[i], "vCPU %u: time[%u] went back", cpu, i);
	check_sum(cpu, &after, "after SCHEDOP_block");
	report_figure(figure, grew, "ns");
}

static void check_get_info(unsigned cpu, volatile struct vcpu_runstate_info *a)
{
	struct vcpu_runstate_info r, g;
	read_area(a, &r);
	long rc = vcpu_op(VCPUOP_get_runstate_info, cpu, &g);
	if (!expect_rc(rc, 0, "VCPUOP_get_runstate_info(%u)", cpu))
		return;
	check(g.state == RUNSTATE_running, "get_runstate_info: state %d", g.state);
	check(g.state_entry_time >= r.state_entry_time, "get_runstate_info entry %llu, area %llu",
	      (unsigned long long)g.state_entry_time, (unsigned long long)r.state_entry_time);
	for (unsigned i = 0; i < 4; i++)
		check(g.time[i] >= r.time[i], "get_runstate_info time[%u] %llu below the area's %llu",
		      i, (unsigned long long)g.time[i], (unsigned long long)r.time[i]);
}

/* ---- vCPU 1: blocks until vCPU 0 sends to its IPI port ---- */
static volatile evtchn_port_t ipi_port;
static volatile bool vcpu1_blocking, vcpu1_done;
static volatile uint64_t vcpu1_blocked_grew;

static void secondary(unsigned cpu)
{
	volatile struct vcpu_runstate_info *a = &areas[cpu][0];
	if (!expect_rc(register_runstate(cpu, false, (void *)a), 0, "vCPU %u: runstate area", cpu) ||
	    !expect_rc(xen_set_upcall_vector(cpu), 0, "vCPU %u: upcall vector", cpu))
		return;
	check_registered(cpu, a, "memory area (5)");
	struct evtchn_bind_ipi b = { .vcpu = cpu };
	if (!expect_rc(evtchn_op(EVTCHNOP_bind_ipi, &b), 0, "vCPU %u: bind_ipi", cpu) ||
	    !expect_rc(evtchn_set_handler(b.port, cpu, on_event, NULL), 0, "vCPU %u: IPI handler", cpu))
		return;
	evtchn_unmask(b.port);
	/* Let the upcall left pending by vcpu_info registration run first. */
	safe_halt();
	local_irq_disable();
	struct vcpu_runstate_info before, after;
	read_area(a, &before);
	unsigned seen = fired[cpu];
	ipi_port = b.port;
	vcpu1_blocking = true;
	block_until(&fired[cpu], seen, xen_system_time() + 2 * GIVE_UP_NS);
	read_area(a, &after);
	check(fired[cpu] != seen, "vCPU %u: the IPI never arrived", cpu);
	vcpu1_blocked_grew = after.time[RUNSTATE_blocked] - before.time[RUNSTATE_blocked];
	check_sum(cpu, &after, "after the IPI");
	vcpu1_done = true;
}

static void check_other_vcpu(void)
{
	struct vcpu_runstate_info g;
	if (expect_rc(vcpu_op(VCPUOP_get_runstate_info, 1, &g), 0, "get_runstate_info(1) before up"))
		check(g.state == RUNSTATE_offline, "vCPU 1 before VCPUOP_up: state %d, want offline",
		      g.state);
	if (!smp_start(1, secondary))
		return;
	uint64_t limit = xen_system_time() + GIVE_UP_NS;
	while (!vcpu1_blocking && xen_system_time() < limit)
		cpu_relax();
	if (!check(vcpu1_blocking, "vCPU 1 did not get to SCHEDOP_block"))
		return;
	/* Wait until vCPU 1 shows as blocked, then wake it. */
	bool seen_blocked = false;
	while (xen_system_time() < limit && !seen_blocked) {
		read_area(&areas[1][0], &g);
		seen_blocked = g.state == RUNSTATE_blocked;
	}
	check(seen_blocked, "vCPU 1 in SCHEDOP_block never showed as blocked");
	delay_ns(5 * NS_PER_MS);
	struct evtchn_send s = { .port = ipi_port };
	expect_rc(evtchn_op(EVTCHNOP_send, &s), 0, "EVTCHNOP_send to vCPU 1's IPI port");
	if (!smp_wait(1, GIVE_UP_NS) || !vcpu1_done)
		return;
	check(vcpu1_blocked_grew > 0, "vCPU 1: blocked time did not grow while it waited");
	report_figure("vcpu1_blocked_ns_ipi", vcpu1_blocked_grew, "ns");
}

void test_main(void)
{
	evtchn_port_t port;
	if (!xtest_setup(SETUP_ALL))
		return;
	exact_sum = cmdline_has("runstate_sum_exact");
	on_xen = cmdline_has("peer=xen");
	if (!expect_rc(timer_bind(0, on_event, NULL, &port), 0, "binding VIRQ_TIMER"))
		return;
	expect_rc(HYPERCALL2(__HYPERVISOR_vm_assist, VMASST_CMD_enable,
			     VMASST_TYPE_runstate_update_flag), 0, "vm_assist(runstate_update_flag)");

	volatile struct vcpu_runstate_info *a = &areas[0][0];
	if (expect_rc(register_runstate(0, false, (void *)a), 0, "register_runstate_memory_area")) {
		check_registered(0, a, "memory area (5)");
		check_block(0, a, "blocked_ns_area5");
		check_get_info(0, a);
	}
	/*
	 * The physical-address flavour replaces it; the old area is left alone.
	 * Before 4.18 there is no such sub-op: common_vcpu_op()'s -ENOSYS.
	 */
	volatile struct vcpu_runstate_info *p = &areas[0][1];
	if (xen_version(XENVER_version, NULL) < 0x40012) {
		expect_rc(register_runstate(0, true, (void *)p), -XEN_ENOSYS,
			  "register_runstate_phys_area before Xen 4.18");
	} else if (expect_rc(register_runstate(0, true, (void *)p), 0, "register_runstate_phys_area")) {
		check_registered(0, p, "phys area (14)");
		check_block(0, p, "blocked_ns_area14");
	}
	if (smp_possible_cpus() > 1)
		check_other_vcpu();
}
