/*
 * The host's generic timer as seen from a Linux arm64 process.
 *
 * EL0 may read CNTVCT_EL0; CNTPCT_EL0 is usually trapped.  A Linux host
 * (VHE or not) runs its own code with a virtual offset of 0, so CNTVCT_EL0
 * there is the physical counter KVM's offsets are relative to.  The ISB
 * keeps the read from being taken early, ahead of the code before it.
 */
#include <stdint.h>
#include <time.h>
#include "shim/xtshim.h"

uint64_t xts_host_tsc(void)
{
	uint64_t v;

	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

uint64_t xts_arm64_host_cntfrq_hz(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
	return v;
}

void xts_host_sample_now(struct xts_host_sample *now)
{
	uint64_t narrowest = UINT64_MAX;
	int i;

	/* Of a few counter/realtime/counter brackets, keep the tightest one's midpoint. */
	for (i = 0; i < 4; i++) {
		struct timespec ts;
		uint64_t before = xts_host_tsc(), after;

		clock_gettime(CLOCK_REALTIME, &ts);
		after = xts_host_tsc();
		if (after - before >= narrowest)
			continue;
		narrowest = after - before;
		now->host_tsc = before + narrowest / 2;
		now->realtime_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	}
}

static uint64_t host_counter(void *opaque)
{
	return xts_host_tsc();
}

static void busy_sleep(void *opaque, unsigned attempt)
{
	const struct timespec ms = { .tv_sec = 0, .tv_nsec = 1000000 };

	nanosleep(&ms, NULL);
}

const struct xts_arm64_kvm_ops xts_arm64_kvm_host_ops = {
	.ioctl = xts_arm64_sys_ioctl,
	.host_counter = host_counter,
	.busy_wait = busy_sleep,
};
