/*
 * The guest's side of vcpu_time_info: the formula, and the seqlock-style
 * read loop a guest runs against a record the host may be rewriting.
 */
#include "shim/xtshim.h"

uint64_t xts_pvclock_read(const struct vcpu_time_info *t, uint64_t tsc)
{
	return t->system_time +
	       xts_scale_delta(tsc - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
}

uint64_t xts_pvclock_read_stable(const volatile struct vcpu_time_info *t,
				 uint64_t (*read_tsc)(void *), void *arg,
				 struct vcpu_time_info *snapshot)
{
	struct vcpu_time_info s;
	uint32_t v;
	uint64_t tsc;

	do {
		v = __atomic_load_n(&t->version, __ATOMIC_ACQUIRE);
		if (v & 1)
			continue;
		s.version = v;
		s.tsc_timestamp = __atomic_load_n(&t->tsc_timestamp, __ATOMIC_RELAXED);
		s.system_time = __atomic_load_n(&t->system_time, __ATOMIC_RELAXED);
		s.tsc_to_system_mul = __atomic_load_n(&t->tsc_to_system_mul, __ATOMIC_RELAXED);
		s.tsc_shift = __atomic_load_n(&t->tsc_shift, __ATOMIC_RELAXED);
		s.flags = __atomic_load_n(&t->flags, __ATOMIC_RELAXED);
		tsc = read_tsc(arg);
		/* Body loads (and the TSC read) complete before the version re-check. */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((v & 1) || __atomic_load_n(&t->version, __ATOMIC_RELAXED) != v);

	if (snapshot)
		*snapshot = s;
	return xts_pvclock_read(&s, tsc);
}
