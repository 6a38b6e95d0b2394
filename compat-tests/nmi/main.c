/*
 * VCPUOP_send_nmi and VCPUOP_get_physid, as Xen 4.17's x86 do_vcpu_op
 * (xen/arch/x86/domain.c) answers an HVM domU:
 *  - send_nmi: a non-NULL argument is -EINVAL and raises nothing; a vCPU
 *    the domain does not have is -ENOENT; otherwise the target takes an
 *    NMI (vector 2) whatever its IF, including the caller itself.
 *  - with 2 vCPUs: an NMI reaches vCPU 1 halted, and ends its
 *    SCHEDOP_block (Xen's vcpu_kick unblocks it) well before the
 *    singleshot timer that guards the wait.
 *  - get_physid: -EINVAL for a domU (only a hardware domain's pinned vCPU
 *    has one), the result left untouched.
 * A 32-bit image skips the halted case (no iret in its trap return).
 */
#include "compat-tests/lib/xtest.h"
#include "compat-tests/lib/internal.h"

const char test_title[] = "nmi: VCPUOP_send_nmi and VCPUOP_get_physid";

#define NMI_VECTOR 2
#define WAIT_NS    (2 * NS_PER_S)
#define GUARD_NS   (6 * NS_PER_S)

static volatile unsigned nmis[MAX_CPUS];
static bool (*next_hook)(struct cpu_regs *regs);

static bool nmi_hook(struct cpu_regs *regs)
{
	if (regs->vec == NMI_VECTOR) {
		nmis[this_cpu()]++;
		return true;
	}
	return next_hook && next_hook(regs);
}

static void check_refusals(void)
{
	static uint8_t arg[16];
	unsigned n = smp_possible_cpus();

	expect_rc(vcpu_op(VCPUOP_send_nmi, 0, arg), -XEN_EINVAL, "send_nmi with an argument");
	expect_rc(vcpu_op(VCPUOP_send_nmi, n, NULL), -XEN_ENOENT, "send_nmi to vCPU %u of %u", n, n);
	delay_ns(10 * NS_PER_MS);
	check(nmis[0] == 0, "%u NMI(s) taken after refused send_nmi calls", nmis[0]);

	struct vcpu_get_physid p;
	memset(&p, 0x5a, sizeof(p));
	expect_rc(vcpu_op(VCPUOP_get_physid, 0, &p), -XEN_EINVAL, "get_physid of a domU vCPU");
	check(p.phys_id == 0x5a5a5a5a5a5a5a5aull, "get_physid wrote %#llx",
	      (unsigned long long)p.phys_id);
}

/* NMIs are not gated by IF: the hypercall's return is enough. */
static void check_self(void)
{
	unsigned seen = nmis[0];

	local_irq_disable();
	if (!expect_rc(vcpu_op(VCPUOP_send_nmi, 0, NULL), 0, "send_nmi to itself"))
		return;
	uint64_t limit = xen_system_time() + WAIT_NS;
	while (nmis[0] == seen && xen_system_time() < limit)
		cpu_relax();
	check(nmis[0] == seen + 1, "vCPU 0 took %u NMI(s) from send_nmi to itself, want 1",
	      nmis[0] - seen);
}

static volatile unsigned phase;      /* vCPU 1: 1 about to halt, 2 about to block */
static volatile bool timer_fired;

/*
 * The 32-bit library returns from traps with popf; ret, not iret (see
 * lib/entry.S), so after its first NMI a 32-bit vCPU blocks NMIs for
 * good: vCPU 1 then takes only the SCHEDOP_block one.
 */
#ifdef __x86_64__
#define NMIS_BEFORE_BLOCK 1
#else
#define NMIS_BEFORE_BLOCK 0
#endif

static void on_timer(evtchn_port_t port, void *arg)
{
	timer_fired = true;
}

static void secondary(unsigned cpu)
{
	evtchn_port_t port;

	if (NMIS_BEFORE_BLOCK) {
		phase = 1;
		halt_count(&nmis[cpu], 0, xen_system_time() + GUARD_NS);
	}
	if (timer_bind(cpu, on_timer, NULL, &port) ||
	    xen_set_singleshot(cpu, xen_system_time() + GUARD_NS, 0)) {
		xfail("vCPU %u: no guard timer", cpu);
		return;
	}
	phase = 2;
	local_irq_enable();
	while (nmis[cpu] < NMIS_BEFORE_BLOCK + 1 && !timer_fired)
		sched_op(SCHEDOP_block, NULL);
	local_irq_disable();
	xen_stop_singleshot(cpu);
}

/*
 * Once vCPU 1 reached phase `ph` and had time to halt or block, one NMI
 * must reach it: `want` in all.
 */
static void nmi_to_1(unsigned ph, unsigned want, const char *how)
{
	uint64_t limit = xen_system_time() + WAIT_NS;
	while (phase != ph && xen_system_time() < limit)
		cpu_relax();
	if (!check(phase == ph, "vCPU 1 did not get %s", how))
		return;
	delay_ns(50 * NS_PER_MS);
	if (!expect_rc(vcpu_op(VCPUOP_send_nmi, 1, NULL), 0, "send_nmi to vCPU 1 (%s)", how))
		return;
	limit = xen_system_time() + WAIT_NS;
	while (nmis[1] < want && xen_system_time() < limit)
		cpu_relax();
	check(nmis[1] == want, "vCPU 1 (%s): %u NMI(s) in all within %llu ms, want %u%s", how,
	      nmis[1], (unsigned long long)(WAIT_NS / NS_PER_MS), want,
	      timer_fired ? " (its guard timer fired first)" : "");
}

static void check_other(void)
{
	if (!smp_start(1, secondary))
		return;
	if (NMIS_BEFORE_BLOCK)
		nmi_to_1(1, 1, "halted");
	nmi_to_1(2, NMIS_BEFORE_BLOCK + 1, "in SCHEDOP_block");
	smp_wait(1, GUARD_NS);
}

void test_main(void)
{
	if (!xtest_setup(SETUP_ALL))
		return;
	next_hook = trap_hook;
	trap_hook = nmi_hook;
	check_refusals();
	check_self();
	if (smp_possible_cpus() < 2)
		return;
	check_other();
}
