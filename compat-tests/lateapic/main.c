/*
 * An upcall raised while the guest's LAPIC is still software-disabled.
 *
 * Linux sets its per-vCPU upcall vector (HVMOP_set_evtchn_upcall_vector)
 * in setup_arch, long before it enables its LAPIC, and the hypercall
 * re-asserts an upcall already pending.  Xen's vlapic_set_irq()
 * (xen/arch/x86/hvm/vlapic.c) sets IRR whatever the LAPIC's state, so the
 * vector is taken as soon as the guest enables the LAPIC and interrupts.
 * A hypervisor that drops it instead leaves upcall_pending at 1 with no
 * interrupt to clear it, and no later event (no 0 -> 1 edge) ever raises
 * the vector again: the guest's first timer event never comes.
 *  - the upcall re-asserted while the LAPIC was off arrives once it is on;
 *  - after it, a VIRQ_TIMER event is delivered.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "lateapic: an upcall raised while the LAPIC is disabled";

#define LAPIC_SVR   ((volatile uint32_t *)(uintptr_t)0xfee000f0u)
#define SVR_ENABLE  0x100u
#define GIVE_UP_NS  (5 * NS_PER_S)     /* only ends a wait that failed */

static volatile unsigned fired;

static void on_timer(evtchn_port_t port, void *arg)
{
	fired++;
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO))
		return;
	local_irq_disable();
	*LAPIC_SVR &= ~SVR_ENABLE;

	/* register_vcpu_info marks everything pending (upcall_pending = 1). */
	if (!expect_rc(xen_register_vcpu_info(0), 0, "register_vcpu_info"))
		return;
	volatile struct vcpu_info *vi = xen_vcpu_info(0);
	check(vi->evtchn_upcall_pending == 1, "upcall_pending %u after register_vcpu_info",
	      vi->evtchn_upcall_pending);
	uint64_t before = upcall_count(0);
	if (!expect_rc(xen_set_upcall_vector(0), 0, "set_evtchn_upcall_vector with the LAPIC off"))
		return;

	lapic_init();                       /* enabled again, heartbeat restarted */
	uint64_t limit = xen_system_time() + GIVE_UP_NS;
	while (upcall_count(0) == before && xen_system_time() < limit)
		safe_halt();
	local_irq_disable();
	if (!check(upcall_count(0) > before, "the upcall raised while the LAPIC was disabled "
		   "never arrived (upcall_pending %u)", vi->evtchn_upcall_pending))
		return;
	printk("upcall taken after the LAPIC was enabled: %llu upcall(s)\n",
	       (unsigned long long)(upcall_count(0) - before));

	evtchn_port_t port;
	if (!expect_rc(evtchn_bind_virq(VIRQ_TIMER, 0, on_timer, NULL, &port), 0, "bind VIRQ_TIMER"))
		return;
	uint64_t deadline = xen_system_time() + NS_PER_MS;
	if (!expect_rc(xen_set_singleshot(0, deadline, 0), 0, "set_singleshot_timer"))
		return;
	check(halt_count(&fired, 0, deadline + GIVE_UP_NS),
	      "no VIRQ_TIMER within 5 s of its deadline after the late upcall");
}
