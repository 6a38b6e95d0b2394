/*
 * Test fixture for the hypercall layer: a malloc'd guest RAM registered with
 * the guest memory helper, a real clock model on a simulated 1 GHz host TSC
 * (so one host tick is one ns of Xen system time, a fact the tests use to
 * compute expectations independently), and platform ops that record calls.
 */
#ifndef XTS_HC_TEST_FAKE_H
#define XTS_HC_TEST_FAKE_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "abi/xen-abi.h"
#include "abi/layout.h"
#include "shim/xtshim.h"

#define RAM_SIZE     (16ULL << 20)
#define HOST_KHZ     1000000u              /* 1 GHz: 1 tick = 1 ns */
#define T0           1000000000000ULL      /* host TSC at domain creation */
#define REALTIME0    1700000000123456789ULL
#define START_TSC    5000000ULL            /* guest TSC at creation */
#define MAX_EVENTS   256

struct fake {
	uint8_t *ram;
	struct xts_gmem mem;
	struct xts_clock clock;
	struct xts_domain *d;
	struct xts_domain_config cfg;
	uint64_t host_tsc;
	/* recorded calls */
	unsigned n_inject, inject_vcpu[MAX_EVENTS];
	uint8_t inject_vec[MAX_EVENTS];
	unsigned n_kick, kick_vcpu[MAX_EVENTS];
	unsigned n_arm;
	uint64_t armed[XTS_MAX_VCPUS];
	unsigned n_shutdown, shutdown_reason;
	unsigned n_init, n_up, n_down, last_vcpu_op;
	int init_rc, up_rc;
	char console[1 << 16];
	size_t console_len;
	uint64_t gva_offset;                   /* translate_gva: gpa = gva - offset */
};

static __attribute__((unused)) struct fake *F;

static __attribute__((unused)) void f_inject(void *o, unsigned vcpu, uint8_t vector)
{
	struct fake *f = o;

	if (f->n_inject < MAX_EVENTS) {
		f->inject_vcpu[f->n_inject] = vcpu;
		f->inject_vec[f->n_inject] = vector;
	}
	f->n_inject++;
}

static __attribute__((unused)) void f_kick(void *o, unsigned vcpu)
{
	struct fake *f = o;

	if (f->n_kick < MAX_EVENTS)
		f->kick_vcpu[f->n_kick] = vcpu;
	f->n_kick++;
}

static __attribute__((unused)) void f_arm(void *o, unsigned vcpu, uint64_t deadline)
{
	struct fake *f = o;

	f->n_arm++;
	f->armed[vcpu] = deadline;
}

static __attribute__((unused)) int f_init(void *o, unsigned vcpu, const void *ctx, size_t len)
{
	struct fake *f = o;

	f->n_init++;
	f->last_vcpu_op = vcpu;
	return f->init_rc;
}

static __attribute__((unused)) int f_up(void *o, unsigned vcpu)
{
	struct fake *f = o;

	f->n_up++;
	f->last_vcpu_op = vcpu;
	return f->up_rc;
}

static __attribute__((unused)) int f_down(void *o, unsigned vcpu)
{
	struct fake *f = o;

	f->n_down++;
	f->last_vcpu_op = vcpu;
	return 0;
}

static __attribute__((unused)) void f_shutdown(void *o, unsigned reason)
{
	struct fake *f = o;

	f->n_shutdown++;
	f->shutdown_reason = reason;
}

static __attribute__((unused)) void f_console(void *o, const char *buf, size_t len)
{
	struct fake *f = o;

	if (f->console_len + len <= sizeof(f->console)) {
		memcpy(f->console + f->console_len, buf, len);
		f->console_len += len;
	}
}

static __attribute__((unused)) void f_sample(void *o, struct xts_host_sample *now)
{
	struct fake *f = o;

	now->host_tsc = f->host_tsc;
	now->realtime_ns = REALTIME0 + (f->host_tsc - T0);
}

static __attribute__((unused)) int f_translate(void *o, unsigned vcpu, uint64_t gva, uint64_t *gpa)
{
	struct fake *f = o;

	if (gva < f->gva_offset)
		return -14;
	*gpa = gva - f->gva_offset;
	return 0;
}

static __attribute__((unused)) const struct xts_platform_ops fake_ops = {
	.inject_upcall = f_inject, .kick = f_kick, .arm_timer = f_arm,
	.vcpu_initialise = f_init, .vcpu_up = f_up, .vcpu_down = f_down,
	.shutdown = f_shutdown, .console_write = f_console, .host_sample = f_sample,
};

static __attribute__((unused)) const struct xts_platform_ops fake_ops_translate = {
	.inject_upcall = f_inject, .kick = f_kick, .arm_timer = f_arm,
	.vcpu_initialise = f_init, .vcpu_up = f_up, .vcpu_down = f_down,
	.shutdown = f_shutdown, .console_write = f_console, .host_sample = f_sample,
	.translate_gva = f_translate,
};

#define CONSOLE_PFN 0x800
#define STORE_PFN   0x801

static __attribute__((unused)) struct fake *fake_new_ex(unsigned nr_vcpus, uint32_t xen_version, bool translate)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86, .nr_vcpus = nr_vcpus, .host_tsc_khz = HOST_KHZ,
		.start_tsc = START_TSC,
	};
	struct xts_host_sample now = { .host_tsc = T0, .realtime_ns = REALTIME0 };

	assert_non_null(f);
	f->ram = aligned_alloc(4096, RAM_SIZE);
	assert_non_null(f->ram);
	memset(f->ram, 0, RAM_SIZE);
	assert_int_equal(xts_gmem_add(&f->mem, 0, RAM_SIZE, f->ram), 0);
	assert_int_equal(xts_clock_new(&f->clock, &p, &now), 0);
	f->host_tsc = T0;
	f->cfg = (struct xts_domain_config){
		.mem = &f->mem, .clock = &f->clock, .nr_vcpus = nr_vcpus, .domid = 7,
		.xen_version = xen_version, .ops = translate ? &fake_ops_translate : &fake_ops,
		.opaque = f, .transport = XTS_TRANSPORT_IOPORT, .hcall_io_port = 0x80,
		.console_pfn = CONSOLE_PFN, .store_pfn = STORE_PFN,
	};
	assert_int_equal(xts_domain_create(&f->cfg, &f->d), 0);
	F = f;
	return f;
}

static __attribute__((unused)) struct fake *fake_new(unsigned nr_vcpus)
{
	return fake_new_ex(nr_vcpus, 0x40011, false);
}

static __attribute__((unused)) void fake_free(struct fake *f)
{
	xts_domain_destroy(f->d);
	free(f->ram);
	free(f);
	F = NULL;
}

/* Xen system time at the simulated host TSC: 1 GHz, zero at creation. */
static __attribute__((unused)) uint64_t sys_ns(const struct fake *f)
{
	return f->host_tsc - T0;
}

static __attribute__((unused)) int64_t hc_mode(struct fake *f, unsigned vcpu, bool long_mode, uint32_t nr,
		       uint64_t a0, uint64_t a1, uint64_t a2, enum xts_hcall_action *act)
{
	struct xts_hcall h = { .nr = nr, .args = { a0, a1, a2 }, .cpl = 0, .long_mode = long_mode };
	int64_t ret = 12345;
	enum xts_hcall_action a = xts_hypercall(f->d, vcpu, &h, &ret);

	if (act)
		*act = a;
	else
		assert_int_equal(a, XTS_HCALL_DONE);
	return ret;
}

static __attribute__((unused)) int64_t hc(struct fake *f, unsigned vcpu, uint32_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return hc_mode(f, vcpu, true, nr, a0, a1, a2, NULL);
}

/* A guest address inside RAM for argument structures. */
#define ARG   0x10000ULL
#define ARG2  0x11000ULL
#define SHINFO_GPA 0x20000ULL

static __attribute__((unused)) void *gp(const struct fake *f, uint64_t gpa)
{
	return f->ram + gpa;
}

static __attribute__((unused)) uint64_t ld64(const struct fake *f, uint64_t gpa)
{
	uint64_t v;

	memcpy(&v, f->ram + gpa, 8);
	return v;
}

static __attribute__((unused)) uint32_t ld32(const struct fake *f, uint64_t gpa)
{
	uint32_t v;

	memcpy(&v, f->ram + gpa, 4);
	return v;
}

/* Map shared_info at SHINFO_GPA. */
static __attribute__((unused)) void map_shinfo(struct fake *f, uint64_t gpa)
{
	struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
					.idx = 0, .gpfn = gpa >> 12 };

	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), 0);
}

static __attribute__((unused)) uint32_t bind_virq(struct fake *f, unsigned vcpu, uint32_t virq)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu };

	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, vcpu, __HYPERVISOR_event_channel_op, EVTCHNOP_bind_virq, ARG, 0), 0);
	memcpy(&b, gp(f, ARG), sizeof(b));
	return b.port;
}

static __attribute__((unused)) void set_callback_vector(struct fake *f, uint8_t vec)
{
	struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
				   .value = (2ULL << 56) | vec };

	memcpy(gp(f, ARG), &p, sizeof(p));
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0), 0);
}

/* The guest's pvclock formula, written out independently of the library. */
static __attribute__((unused)) uint64_t pvclock_ns(const struct vcpu_time_info *t, uint64_t tsc)
{
	uint64_t delta = tsc - t->tsc_timestamp;

	if (t->tsc_shift < 0)
		delta >>= -t->tsc_shift;
	else
		delta <<= t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

/* Guest TSC of vCPU 0 at the simulated host TSC (ratio 1, offset from START_TSC). */
static __attribute__((unused)) uint64_t guest_tsc(const struct fake *f)
{
	return START_TSC + (f->host_tsc - T0);
}

/* The host timer of `vcpu` expires (it is spent: the fake forgets it first). */
static __attribute__((unused)) void fire(struct fake *f, unsigned vcpu)
{
	f->armed[vcpu] = 0;
	xts_domain_timer_fired(f->d, vcpu);
}

#endif
