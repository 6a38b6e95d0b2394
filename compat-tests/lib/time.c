/*
 * Xen time as a guest reads it: the pvclock formula on a vcpu_time_info
 * copied under its version protocol, the shared_info wallclock, and
 * singleshot timers.  No 128-bit arithmetic, so i386 computes the same.
 */
#include "compat-tests/lib/guest.h"

uint64_t pvclock_scale(uint64_t delta, uint32_t mul, int8_t shift)
{
	if (shift < 0)
		delta >>= -shift;
	else
		delta <<= shift;
	/* (delta * mul) >> 32 from two 32x32 products: exact mod 2^64. */
	uint64_t lo = (uint64_t)(uint32_t)delta * mul;
	uint64_t hi = (delta >> 32) * mul;
	return hi + (lo >> 32);
}

uint64_t pvclock_at(const struct vcpu_time_info *t, uint64_t tsc)
{
	return t->system_time + pvclock_scale(tsc - t->tsc_timestamp, t->tsc_to_system_mul,
					      t->tsc_shift);
}

uint64_t xen_time_snapshot(unsigned cpu, struct vcpu_time_info *t)
{
	volatile struct vcpu_time_info *src = &xen_vcpu_info(cpu)->time;
	uint32_t v;
	uint64_t tsc;
	do {
		v = src->version;
		barrier();
		t->version = v;
		t->tsc_timestamp = src->tsc_timestamp;
		t->system_time = src->system_time;
		t->tsc_to_system_mul = src->tsc_to_system_mul;
		t->tsc_shift = src->tsc_shift;
		t->flags = src->flags;
		tsc = rdtsc_ordered();
		barrier();
	} while ((v & 1) || v != src->version);
	return tsc;
}

uint64_t xen_system_time(void)
{
	struct vcpu_time_info t;
	uint64_t tsc = xen_time_snapshot(this_cpu(), &t);
	return pvclock_at(&t, tsc);
}

void xen_wallclock(uint64_t *sec, uint32_t *nsec)
{
	uint32_t v;
	do {
		v = shared_info->wc_version;
		barrier();
		*sec = (uint64_t)shared_info->xen_wc_sec_hi << 32 | shared_info->wc_sec;
		*nsec = shared_info->wc_nsec;
		barrier();
	} while ((v & 1) || v != shared_info->wc_version);
}

long xen_set_singleshot(unsigned cpu, uint64_t deadline_ns, uint32_t flags)
{
	struct vcpu_set_singleshot_timer t = { .timeout_abs_ns = deadline_ns, .flags = flags };
	return vcpu_op(VCPUOP_set_singleshot_timer, cpu, &t);
}

long xen_stop_singleshot(unsigned cpu)
{
	return vcpu_op(VCPUOP_stop_singleshot_timer, cpu, NULL);
}
