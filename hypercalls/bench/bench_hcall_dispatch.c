/*
 * Cost of the hypercall layer itself, without any VM exit: ns per call of
 * xts_hypercall() for a few common hypercalls on simulated guest RAM, and of
 * xts_domain_timer_fired() for a due singleshot timer.  The VMM's benchmark
 * adds the exit round trip on top of these figures.
 *
 *   make bench   (or build/bench/bench_hcall_dispatch)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "abi/xen-abi.h"
#include "shim/xtshim.h"

#define RAM      (4ULL << 20)
#define N        200000
#define SHINFO   0x20000ULL
#define ARG      0x10000ULL

static uint64_t sim_tsc = 1ULL << 40;

static void inject(void *o, unsigned v, uint8_t vec) { }
static void kick(void *o, unsigned v) { }
static void arm(void *o, unsigned v, uint64_t d) { }
static void cons(void *o, const char *b, size_t n) { }
static void sample(void *o, struct xts_host_sample *s)
{
	s->host_tsc = sim_tsc;
	s->realtime_ns = sim_tsc;
}

static const struct xts_platform_ops ops = {
	.inject_upcall = inject, .kick = kick, .arm_timer = arm,
	.console_write = cons, .host_sample = sample,
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median over 9 batches of N calls, in ns per call. */
static void run(const char *name, struct xts_domain *d, uint8_t *ram, struct xts_hcall *h,
		void (*reset)(uint8_t *ram))
{
	uint64_t per[9];
	int64_t ret;
	unsigned b, i;

	for (b = 0; b < 9; b++) {
		uint64_t t = now_ns();

		for (i = 0; i < N; i++) {
			xts_hypercall(d, 0, h, &ret);
			if (reset)
				reset(ram);
		}
		per[b] = (now_ns() - t) * 1000 / N;
	}
	qsort(per, 9, sizeof(per[0]), cmp);
	printf("%-28s %6llu.%03llu ns/call (median of 9 x %u), last ret %lld\n", name,
	       (unsigned long long)(per[4] / 1000), (unsigned long long)(per[4] % 1000), N,
	       (long long)ret);
}

static void clear_events(uint8_t *ram)
{
	memset(ram + SHINFO + 2048, 0, 512);   /* pending bitmap */
	memset(ram + SHINFO, 0, 16);           /* vCPU 0 upcall_pending, pending_sel */
}

int main(void)
{
	uint8_t *ram = aligned_alloc(4096, RAM);
	struct xts_gmem mem = { 0 };
	struct xts_clock clock;
	struct xts_clock_params p = { .arch = XTS_ARCH_X86, .nr_vcpus = 1, .host_tsc_khz = 2000000 };
	struct xts_host_sample s = { .host_tsc = sim_tsc, .realtime_ns = 1 };
	struct xts_domain_config cfg = { .mem = &mem, .clock = &clock, .nr_vcpus = 1,
					 .xen_version = 0x40011, .ops = &ops };
	struct xts_domain *d;
	struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
					.gpfn = SHINFO >> 12 };
	struct evtchn_bind_ipi bi = { .vcpu = 0 };
	struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = 1ULL << 50 };
	struct xts_hcall h = { .long_mode = true };
	int64_t ret;

	if (!ram || xts_gmem_add(&mem, 0, RAM, ram) || xts_clock_new(&clock, &p, &s) ||
	    xts_domain_create(&cfg, &d)) {
		fprintf(stderr, "bench_hcall_dispatch: setup failed\n");
		return 1;
	}
	memset(ram, 0, RAM);
	memcpy(ram + ARG, &a, sizeof(a));
	h = (struct xts_hcall){ .nr = __HYPERVISOR_memory_op, .long_mode = true,
				.args = { XENMEM_add_to_physmap, ARG } };
	xts_hypercall(d, 0, &h, &ret);
	memcpy(ram + ARG, &bi, sizeof(bi));
	h = (struct xts_hcall){ .nr = __HYPERVISOR_event_channel_op, .long_mode = true,
				.args = { EVTCHNOP_bind_ipi, ARG } };
	xts_hypercall(d, 0, &h, &ret);
	memcpy(&bi, ram + ARG, sizeof(bi));
	memcpy(ram + ARG + 64, &bi.port, 4);
	memcpy(ram + ARG + 128, &ss, sizeof(ss));

	h = (struct xts_hcall){ .nr = __HYPERVISOR_xen_version, .long_mode = true,
				.args = { XENVER_version } };
	run("xen_version(version)", d, ram, &h, NULL);
	h = (struct xts_hcall){ .nr = __HYPERVISOR_event_channel_op, .long_mode = true,
				.args = { EVTCHNOP_send, ARG + 64 } };
	run("event_channel_op(send) IPI", d, ram, &h, clear_events);
	h = (struct xts_hcall){ .nr = __HYPERVISOR_vcpu_op, .long_mode = true,
				.args = { VCPUOP_set_singleshot_timer, 0, ARG + 128 } };
	run("vcpu_op(set_singleshot)", d, ram, &h, NULL);
	h = (struct xts_hcall){ .nr = __HYPERVISOR_set_timer_op, .long_mode = true,
				.args = { 1ULL << 49 } };
	run("set_timer_op", d, ram, &h, NULL);
	h = (struct xts_hcall){ .nr = 99, .long_mode = true };
	run("unknown (-ENOSYS)", d, ram, &h, NULL);
	/* A VMM reporting running/not running around every KVM_RUN pays this per exit. */
	{
		uint64_t area = 0x30000, per[9], t;
		unsigned b, i;

		memcpy(ram + ARG, &area, 8);
		h = (struct xts_hcall){ .nr = __HYPERVISOR_vcpu_op, .long_mode = true,
					.args = { 14, 0, ARG } };
		xts_hypercall(d, 0, &h, &ret);
		for (b = 0; b < 9; b++) {
			t = now_ns();
			for (i = 0; i < N; i++) {
				xts_domain_vcpu_running(d, 0, false);
				xts_domain_vcpu_running(d, 0, true);
			}
			per[b] = (now_ns() - t) * 1000 / N;
		}
		qsort(per, 9, sizeof(per[0]), cmp);
		printf("%-28s %6llu.%03llu ns/pair (median of 9 x %u), register ret %lld\n",
		       "vcpu_running(false+true)", (unsigned long long)(per[4] / 1000),
		       (unsigned long long)(per[4] % 1000), N, (long long)ret);
	}
	xts_domain_destroy(d);
	free(ram);
	return 0;
}
