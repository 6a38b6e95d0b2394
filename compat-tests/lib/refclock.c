/*
 * References the time tests measure against, independent of the code under
 * test: the LAPIC timer as a second clock, and Xen's set_time_scale().
 *
 * The LAPIC timer.  KVM's in-kernel LAPIC counts TMCCT down at 1 GHz /
 * divider (Linux arch/x86/kvm/lapic.h APIC_BUS_CYCLE_NS_DEFAULT 1; the VMM
 * does not change it with KVM_CAP_X86_APIC_BUS_CYCLES_NS), TMCCT computed
 * from the host's hrtimer (ktime), not from the guest TSC, its offset or
 * scaling, nor from the pvclock record xtshim publishes.  Xen's vLAPIC
 * counts at 100 MHz (APIC_BUS_CYCLE_NS 10 in xen/arch/x86/include/asm/hvm/
 * vlapic.h, 4.17 and later) from hvm_get_guest_time(), i.e. Xen's NOW():
 * on Xen the reference shares Xen's calibration with the record, so there
 * it checks the record against Xen's clock, not Xen's clock itself.
 *
 * The heartbeat (traps.c) uses the same timer.  A window takes it over
 * with interrupts off, so no handler or hlt loop runs on this vCPU while
 * it is borrowed; lapic_heartbeat() restarts it before interrupts come
 * back on.  Other vCPUs have their own LAPICs and keep their heartbeats.
 */
#include "compat-tests/lib/xtest.h"

#define LAPIC_BASE 0xfee00000u
#define LAPIC_LVTT 0x320
#define LAPIC_TMICT 0x380
#define LAPIC_TMCCT 0x390
#define LAPIC_TDCR 0x3e0
#define LVT_MASKED (1u << 16)

static volatile uint32_t *reg(unsigned off)
{
	return (volatile uint32_t *)(uintptr_t)(LAPIC_BASE + off);
}

unsigned refclock_bus_ns(void)
{
	uint64_t n;
	if (cmdline_u64("apic_bus_ns", &n) && n)
		return (unsigned)n;
	return cmdline_has("peer=xen") ? 10 : 1;
}

static unsigned long save_flags_cli(void)
{
	unsigned long f;
	__asm__ __volatile__("pushf; pop %0; cli" : "=r"(f) :: "memory");
	return f;
}

/* One TMCCT read between two TSC reads: the count, the TSC midpoint and half-width. */
static uint32_t read_count(uint64_t *tsc, uint64_t *half)
{
	uint64_t a = rdtsc_ordered();
	uint32_t c = *reg(LAPIC_TMCCT);
	uint64_t b = rdtsc_ordered();
	*tsc = a + (b - a) / 2;
	*half = (b - a + 1) / 2;
	return c;
}

/*
 * The tightest of READS_PER_END reads: under emulation one read now and
 * then takes milliseconds (the vCPU thread preempted inside the exit),
 * and its midpoint would then be that far off.
 */
#define READS_PER_END 8
static uint32_t read_end(uint64_t *tsc, uint64_t *half)
{
	uint64_t t, h;
	uint32_t best = read_count(tsc, half);
	for (unsigned i = 1; i < READS_PER_END; i++) {
		uint32_t c = read_count(&t, &h);
		if (h < *half) {
			best = c;
			*tsc = t;
			*half = h;
		}
	}
	return best;
}

void refclock_window(uint64_t ns, struct ref_window *w, void (*before)(void),
		     void (*after)(void))
{
	unsigned bus = refclock_bus_ns();
	uint64_t counts = ns / bus + 1, e0, e1;
	if (counts > 0xf0000000u)
		counts = 0xf0000000u;
	unsigned long flags = save_flags_cli();
	*reg(LAPIC_LVTT) = LVT_MASKED | HEARTBEAT_VECTOR;   /* one-shot, no interrupt */
	*reg(LAPIC_TDCR) = 0xb;                             /* divide by 1 */
	*reg(LAPIC_TMICT) = 0xffffffffu;
	if (before)
		before();
	uint32_t c0 = read_end(&w->tsc0, &e0), c1;
	do
		c1 = read_count(&w->tsc1, &e1);
	while (c0 - c1 < counts && c1 != 0);
	c1 = read_end(&w->tsc1, &e1);
	if (after)
		after();
	lapic_heartbeat();
	if (flags & 0x200)
		local_irq_enable();
	w->ns = (uint64_t)(c0 - c1) * bus;
	w->tsc_err = e0 > e1 ? e0 : e1;
}

bool refclock_measure(uint64_t ns, uint64_t max_err_ppm, struct ref_window *w,
		      void (*before)(void), void (*after)(void))
{
	for (unsigned i = 0; i < 3; i++) {
		refclock_window(ns, w, before, after);
		uint64_t ticks = w->tsc1 - w->tsc0;
		if (ticks && 2 * w->tsc_err * 1000000 / ticks <= max_err_ppm)
			return true;
	}
	xerror("LAPIC reads bracketed by +-%llu TSC ticks in a %llu-tick window: too slow to "
	       "measure against", (unsigned long long)w->tsc_err,
	       (unsigned long long)(w->tsc1 - w->tsc0));
	return false;
}

/*
 * Xen's set_time_scale() (xen/arch/x86/time.c, 4.17): halve the rate to
 * <= 2*10^9, double it to > 10^9, mul_frac = div_frac(10^9, tps32) =
 * (10^9 << 32) / tps32.  Written from the Xen source, not from shim/.
 */
void xen_time_scale(uint64_t hz, uint32_t *mul, int *shift)
{
	int s = 0;
	while (hz > 2000000000ULL) {
		hz >>= 1;
		s--;
	}
	uint32_t t32 = (uint32_t)hz;
	while (t32 <= 1000000000u) {
		t32 <<= 1;
		s++;
	}
	*mul = (uint32_t)((1000000000ULL << 32) / t32);
	*shift = s;
}
