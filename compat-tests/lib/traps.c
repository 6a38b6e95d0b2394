/* The IDT, exception reports, the upcall vector and the local APIC. */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/internal.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_TPR  0x80
#define LAPIC_EOI  0xb0
#define LAPIC_SVR  0xf0

#define LAPIC_LVTT 0x320
#define LAPIC_TICR 0x380
#define LAPIC_TDCR 0x3e0
#define LVTT_PERIODIC (1u << 17)
/*
 * KVM's virtual APIC bus runs at 1 GHz (APIC_BUS_CYCLE_NS_DEFAULT 1 in
 * Linux arch/x86/kvm/lapic.h): one count per ns, a 10 ms heartbeat.  Xen's
 * runs at 100 MHz (APIC_BUS_CYCLE_NS 10, xen/arch/x86/include/asm/hvm/
 * vlapic.h): there the same count is a 100 ms heartbeat.
 */
#define HEARTBEAT_NS 10000000u

extern const uintptr_t trap_stubs[32], trap_stub_upcall, trap_stub_spurious, trap_stub_heartbeat;

#ifdef __x86_64__
struct gate {
	uint16_t off0, sel;
	uint8_t ist, attr;
	uint16_t off1;
	uint32_t off2, rsvd;
};
#define CODE_SEL SEL_CODE64
#else
struct gate {
	uint16_t off0, sel;
	uint8_t zero, attr;
	uint16_t off1;
};
#define CODE_SEL SEL_CODE32
#endif

static struct gate idt[256] __attribute__((aligned(16)));
bool (*trap_hook)(struct cpu_regs *regs);

static void set_gate(unsigned vec, uintptr_t fn)
{
	struct gate g = { .off0 = (uint16_t)fn, .sel = CODE_SEL, .attr = 0x8e,
			  .off1 = (uint16_t)(fn >> 16) };
#ifdef __x86_64__
	g.off2 = (uint32_t)((uint64_t)fn >> 32);
#endif
	idt[vec] = g;
}

void traps_init(void)
{
	if (!idt[0].attr) {
		for (unsigned v = 0; v < 32; v++)
			set_gate(v, trap_stubs[v]);
		set_gate(UPCALL_VECTOR, trap_stub_upcall);
		set_gate(SPURIOUS_VECTOR, trap_stub_spurious);
		set_gate(HEARTBEAT_VECTOR, trap_stub_heartbeat);
	}
	struct __attribute__((packed)) { uint16_t limit; uintptr_t base; } ptr = {
		sizeof(idt) - 1, (uintptr_t)idt,
	};
	__asm__ __volatile__("lidt %0" :: "m"(ptr));
}

static volatile uint32_t *lapic_reg(unsigned off)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + off);
}

/*
 * Besides enabling the LAPIC, start a periodic LAPIC timer (KVM's own, not a
 * Xen timer): every `while (!cond) safe_halt();` loop then wakes at least
 * every 10 ms.  A wake-up lost between sti and hlt (hosts that emulate those
 * instructions one at a time without the STI shadow) costs 10 ms instead
 * of hanging the test, and its give-up condition is checked.
 */
void lapic_init(void)
{
	*lapic_reg(LAPIC_TPR) = 0;
	*lapic_reg(LAPIC_SVR) = 0x100 | SPURIOUS_VECTOR;
	lapic_heartbeat();
}

/* (Re)start the heartbeat; lib/refclock.c borrows the timer and calls this. */
void lapic_heartbeat(void)
{
	/* LVTT first: a mode change clears TMICT (KVM's apic_update_lvtt()). */
	*lapic_reg(LAPIC_LVTT) = LVTT_PERIODIC | HEARTBEAT_VECTOR;
	*lapic_reg(LAPIC_TDCR) = 0xb;              /* divide by 1 */
	*lapic_reg(LAPIC_TICR) = HEARTBEAT_NS;
}

void lapic_eoi(void)
{
	*lapic_reg(LAPIC_EOI) = 0;
}

void trap_handler(struct cpu_regs *regs)
{
	if (regs->vec == UPCALL_VECTOR) {
		/* Xen's per-vCPU vector needs the EOI; for CALLBACK_IRQ it is harmless. */
		evtchn_upcall(this_cpu());
		lapic_eoi();
		return;
	}
	if (regs->vec == SPURIOUS_VECTOR)
		return;
	if (regs->vec == HEARTBEAT_VECTOR) {
		lapic_eoi();
		return;
	}
	if (trap_hook && trap_hook(regs))
		return;
	uintptr_t cr2;
	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	panic("vCPU %u: exception %lu error %#lx at ip %#lx (cr2 %#lx)", this_cpu(),
	      (unsigned long)regs->vec, (unsigned long)regs->err, (unsigned long)regs->ip,
	      (unsigned long)cr2);
}
