/*
 * The Xen side of a guest: its clock model, the xtshim domain (hypercall
 * layer), host timers, and per-vCPU CPUID and TSC.  Userspace backend: every
 * Xen record is maintained by libxtshim; KVM only runs the vCPUs.
 */
#include <cpuid.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

static void xen__timer_fired(void *opaque, unsigned idx)
{
	struct vmm *v = opaque;
	xts_domain_timer_fired(v->dom, idx);
}

/* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in all states. */
bool xen__host_tsc_invariant(void)
{
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000007, &a, &b, &c, &d))
		return false;
	return d & (1u << 8);
}

/* What CPUID base+3 subleaf 0 EAX says about this host (Xen: host_tsc_is_safe, RDTSCP). */
uint32_t xen__host_clock_flags(void)
{
	unsigned a, b, c, d;
	uint32_t f = xen__host_tsc_invariant() ? XTS_CLOCK_HOST_TSC_RELIABLE : 0;

	if (__get_cpuid(0x80000001, &a, &b, &c, &d) && (d & (1u << 27)))
		f |= XTS_CLOCK_HOST_RDTSCP;
	return f;
}

/*
 * Transport and record keeper from --backend and KVM_CAP_XEN_HVM, right
 * after KVM_CREATE_VM (KVM_XEN_HVM_CONFIG must precede the vCPUs' first
 * run).  With KVM-kept records (--backend kernel) the domain leaves the
 * records to KVM and xen-kernel.c mirrors the guest's registrations.
 */
int xen__pick_backend(struct vmm *v)
{
	static const enum xts_kvm_xen_want want[] = {
		[VMM_BACKEND_AUTO] = XTS_KVM_XEN_WANT_AUTO,
		[VMM_BACKEND_USERSPACE] = XTS_KVM_XEN_WANT_USERSPACE,
		[VMM_BACKEND_KERNEL] = XTS_KVM_XEN_WANT_KERNEL,
		[VMM_BACKEND_KERNEL_TRANSPORT] = XTS_KVM_XEN_WANT_KVM_TRANSPORT,
	};
	char why[256];
	uint32_t caps = xts_kvm_xen_probe(NULL, NULL, v->kvm_fd);
	int r = xts_kvm_xen_plan(caps, want[v->opts.backend], false, &v->kx.plan, why, sizeof(why));
	if (r) {
		fprintf(stderr, "xtshim run: --backend: %s\n", why);
		return r;
	}
	if (v->opts.verbose)
		fprintf(stderr, "xtshim: backend: %s\n", why);
	v->kx.vm_fd = v->vm_fd;
	v->kx.nr_vcpus = v->nr_vcpus;
	v->kx.xen_version = v->opts.xen_version;
	v->kx.shared_info_gfn = XTS_KVM_XEN_NO_GPA;
	struct xts_kvm_xen_report rep;
	if ((r = xts_kvm_xen_setup_vm(&v->kx, &rep))) {
		fprintf(stderr, "xtshim: in-kernel Xen set-up: %s: %s\n", rep.what, strerror(-r));
		return r;
	}
	return 0;
}

int xen__init(struct vmm *v)
{
	uint32_t khz;
	int r = xts_kvm_tsc_khz(v->cpus[0].fd, &khz);
	if (r) {
		fprintf(stderr, "xtshim: KVM_GET_TSC_KHZ: %s\n", strerror(-r));
		return r;
	}

	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86,
		.nr_vcpus = v->nr_vcpus,
		.host_tsc_khz = khz,
		.guest_tsc_khz = 0,
		.tsc_ratio = 0,
		.start_tsc = 0,              /* like a freshly reset machine */
		.tsc_mode = v->opts.tsc_mode,
		.flags = xen__host_clock_flags(),
	};
	struct xts_host_sample now;
	xts_host_sample_now(&now);
	if ((r = xts_clock_new(&v->clock, &p, &now))) {
		fprintf(stderr, "xtshim: clock model: %s\n", strerror(-r));
		return r;
	}
	/*
	 * A KVM that ignores TSC offsets runs the guest on the host TSC: the
	 * model follows it, system time still starting at 0 at `now`.
	 */
	r = xts_kvm_apply_tsc(v->cpus[0].fd, &v->clock, 0);
	if (r == -EOPNOTSUPP) {
		int64_t jump;

		if ((r = xts_clock_follow_host_tsc(&v->clock, &jump)))
			return r;
		v->tsc_is_host_tsc = true;
		if (v->opts.verbose)
			fprintf(stderr, "xtshim: KVM ignores the vCPU TSC offset: guest TSC = host TSC\n");
	} else if (r) {
		fprintf(stderr, "xtshim: vCPU 0 TSC offset: %s\n", strerror(-r));
		return r;
	}
	v->console_pfn = VMM_CONSOLE_PFN;
	v->store_pfn = VMM_STORE_PFN;
	return xen__create_domain(v);
}

/* Host timers and the domain, over the clock model already in v->clock. */
int xen__create_domain(struct vmm *v)
{
	int r;

	if ((r = xts_host_timers_create(v->nr_vcpus, v->clock.host_tsc_khz, xen__timer_fired, v,
					&v->timers))) {
		fprintf(stderr, "xtshim: host timers: %s\n", strerror(-r));
		return r;
	}

	struct xts_domain_config cfg = {
		.mem = &v->gmem,
		.clock = &v->clock,
		.nr_vcpus = v->nr_vcpus,
		.domid = 1,
		.xen_version = v->opts.xen_version,
		.ops = &platform__ops,
		.opaque = v,
		/* KVM transport: Xen's own vmcall/vmmcall stubs, caught by INTERCEPT_HCALL. */
		.transport = v->kx.plan.transport == XTS_KVM_XEN_TRANSPORT_KVM ?
			     xts_kvm_xen_stub_transport() : XTS_TRANSPORT_IOPORT,
		.hcall_io_port = VMM_HCALL_PORT,
		.console_pfn = v->console_pfn,
		.store_pfn = v->store_pfn,
		.external_records = xen_kernel__active(v),
	};
	if ((r = xts_domain_create(&cfg, &v->dom))) {
		fprintf(stderr, "xtshim: Xen domain: %s\n", strerror(-r));
		return r;
	}
	return 0;
}

int xen__setup_vcpu(struct vmm_cpu *c)
{
	struct vmm *v = c->vmm;
	struct kvm_cpuid2 *cpuid;
	int r = xts_kvm_cpuid(v->kvm_fd, v->dom, c->id, &cpuid);
	if (r) {
		fprintf(stderr, "xtshim: vCPU %u CPUID: %s\n", c->id, strerror(-r));
		return r;
	}
	r = ioctl(c->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	if (r) {
		fprintf(stderr, "xtshim: vCPU %u KVM_SET_CPUID2: %s\n", c->id, strerror(-r));
		return r;
	}
	/* Exact guest TSC before the vCPU first runs: offset from the model. */
	r = xts_kvm_apply_tsc(c->fd, &v->clock, c->id);
	if (r == -EOPNOTSUPP && v->tsc_is_host_tsc)
		r = 0;
	if (r) {
		fprintf(stderr, "xtshim: vCPU %u TSC offset: %s\n", c->id, strerror(-r));
		return r;
	}
	return 0;
}

void xen__exit(struct vmm *v)
{
	if (v->timers && v->opts.verbose) {
		struct xts_host_timers_stats s;
		xts_host_timers_stats(v->timers, &s);
		fprintf(stderr, "xtshim: host timers: %llu fired, late (host side) p50 < %llu ns, "
			"p99 < %llu ns, max %llu ns\n", (unsigned long long)s.fired,
			(unsigned long long)xts_host_timers_quantile_ns(&s, 500),
			(unsigned long long)xts_host_timers_quantile_ns(&s, 990),
			(unsigned long long)s.max_late_ns);
	}
	/* Timers first: their callback reaches into the domain. */
	xts_host_timers_destroy(v->timers);
	v->timers = NULL;
	if (v->dom)
		xts_domain_destroy(v->dom);
	v->dom = NULL;
}
