/*
 * --backend kernel: KVM keeps the Xen records (vcpu_time_info from
 * kvmclock, the wallclock, runstate), runs the singleshot timers and
 * delivers every event channel; the domain only answers the hypercalls KVM
 * passes up (KVM_EXIT_XEN) and stops writing those records itself
 * (xts_domain_config.external_records).
 *
 * What the guest registers reaches the domain first; each vCPU thread
 * mirrors the changes into KVM before its next KVM_RUN (xen_kernel__sync),
 * because a vCPU attribute can only be set while that vCPU is out of
 * KVM_RUN (KVM takes the vCPU mutex).  The VM attributes are set by the
 * first thread that sees the change, which then kicks the others so they
 * re-point their vcpu_info (the legacy slot moves with shared_info).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "vmm/vmm.h"

/* How often a vCPU blocked in SCHEDOP_block re-checks for events KVM raised itself. */
#define BLOCK_RECHECK_NS 1000000ULL

bool xen_kernel__active(const struct vmm *v)
{
	return v->kx.plan.records == XTS_KVM_XEN_RECORDS_KVM;
}

static struct xts_kvm_xen_vcpu_state boot_vcpu_state(unsigned id)
{
	return (struct xts_kvm_xen_vcpu_state){
		.xen_vcpu_id = id,
		.vcpu_info_gpa = XTS_KVM_XEN_NO_GPA,
		.time_info_gpa = XTS_KVM_XEN_NO_GPA,
		.runstate_gpa = XTS_KVM_XEN_NO_GPA,
	};
}

/*
 * After the vCPUs exist: TSC, kvmclock := the model's system time, and
 * nothing registered yet (every vCPU's vcpu_info explicitly invalid).
 */
int xen_kernel__load(struct vmm *v)
{
	struct xts_kvm_xen_vcpu_state st[XTS_MAX_VCPUS];
	struct xts_kvm_xen_report rep;
	int r;

	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		v->kx_fds[i] = v->cpus[i].fd;
		st[i] = boot_vcpu_state(i);
	}
	v->kx.vcpu_fds = v->kx_fds;
	v->kx_vm = (struct xts_kvm_xen_vm_state){ .long_mode = true,
						  .shared_info_gfn = XTS_KVM_XEN_NO_GPA };
	if ((r = xts_kvm_xen_load(&v->kx, &v->clock, &v->kx_vm, st, &rep))) {
		fprintf(stderr, "xtshim: --backend kernel: loading KVM's Xen state: %s: %s\n",
			rep.what, strerror(-r));
		return r;
	}
	for (unsigned i = 0; i < v->nr_vcpus; i++) {
		v->cpus[i].kx_has = st[i];
		/* What load gave KVM for vcpu_info: no shared_info yet, so none. */
		v->cpus[i].kx_has.vcpu_info_gpa = XTS_KVM_XEN_NO_GPA;
	}
	return 0;
}

/* On vCPU c's thread, outside KVM_RUN: push what the guest registered since the last look. */
int xen_kernel__sync(struct vmm_cpu *c)
{
	struct vmm *v = c->vmm;
	struct xts_domain_areas da;
	struct xts_vcpu_areas va;
	struct xts_kvm_xen_report rep;
	bool kick_others = false;
	int r = 0;

	if (xts_domain_get_areas(v->dom, &da, c->id, &va))
		return -EINVAL;
	if (da.generation == c->kx_gen)
		return 0;
	pthread_mutex_lock(&v->kx_lock);
	if (da.generation != v->kx_gen) {
		struct xts_kvm_xen_vm_state want = {
			.long_mode = da.long_mode,
			.shared_info_gfn = da.shared_info_gpa == XTS_NO_AREA ? XTS_KVM_XEN_NO_GPA
									     : da.shared_info_gpa >> 12,
			.upcall_vector = da.callback_vector,
			.runstate_update_flag = da.runstate_update_flag,
		};
		/*
		 * Mapping shared_info again where it is makes Xen rewrite the
		 * wallclock and the time records; KVM does the same when
		 * SHARED_INFO is set (kvm_xen_shared_info_init()), so set it again.
		 */
		if (da.shared_info_maps != v->kx_shinfo_maps)
			v->kx_vm.shared_info_gfn = XTS_KVM_XEN_NO_GPA - 1;  /* no real gfn: forces it */
		r = xts_kvm_xen_update_vm(&v->kx, &v->kx_vm, &want, &rep);
		if (!r) {
			v->kx_shinfo_maps = da.shared_info_maps;
			v->kx_gen = da.generation;
			kick_others = true;
		}
	}
	if (!r) {
		struct xts_kvm_xen_vcpu_state want = boot_vcpu_state(c->id);
		want.vcpu_info_gpa = va.vcpu_info_gpa;         /* XTS_NO_AREA == NO_GPA */
		want.time_info_gpa = va.time_gpa;
		want.runstate_gpa = va.runstate_gpa[0];       /* contiguous (domain checks) */
		want.upcall_vector = va.upcall_vector;
		want.timer_port = va.timer_port;
		r = xts_kvm_xen_update_vcpu(&v->kx, c->id, &c->kx_has, &want, &rep);
	}
	pthread_mutex_unlock(&v->kx_lock);
	if (r) {
		fprintf(stderr, "xtshim: vCPU %u: mirroring the guest's registrations into KVM: "
			"%s: %s\n", c->id, rep.what, strerror(-r));
		return r;
	}
	c->kx_gen = da.generation;
	if (kick_others)
		for (unsigned i = 0; i < v->nr_vcpus; i++)
			if (i != c->id)
				kvm_cpu__request(&v->cpus[i], CPU_REQ_SYNC);
	return 0;
}

/* platform ops (domain lock held: nothing here calls back into the domain) */
void xen_kernel__send_event(struct vmm *v, unsigned vcpu, uint32_t port)
{
	int r = xts_kvm_xen_evtchn_send(&v->kx, port, vcpu);
	if (r)
		fprintf(stderr, "xtshim: KVM_XEN_HVM_EVTCHN_SEND port %u to vCPU %u: %s\n", port,
			vcpu, strerror(-r));
	/* A vCPU blocked in userspace (SCHEDOP_block) looks at upcall_pending again. */
	if (vcpu < v->nr_vcpus)
		kvm_cpu__wake(&v->cpus[vcpu]);
}

int xen_kernel__ipi_port(struct vmm *v, uint32_t port, unsigned vcpu, bool bound)
{
	int r = xts_kvm_xen_ipi_port(&v->kx, port, vcpu, bound);
	if (r && v->opts.verbose)
		fprintf(stderr, "xtshim: IPI port %u %s KVM: %s\n", port,
			bound ? "not handed to" : "not taken back from", strerror(-r));
	return r;
}

/* Only the caller's own vCPU: another one may be inside KVM_RUN, holding its mutex. */
int xen_kernel__read_runstate(struct vmm *v, unsigned caller, unsigned vcpu, uint32_t *state,
			      uint64_t *entry_ns, uint64_t time_ns[4])
{
	struct xts_kvm_xen_vcpu_readback rb;
	if (caller != vcpu || vcpu >= v->nr_vcpus || xts_kvm_xen_read_vcpu(&v->kx, vcpu, &rb) ||
	    !rb.runstate_valid)
		return -EAGAIN;
	*state = rb.runstate_state;
	*entry_ns = rb.runstate_entry_ns;
	memcpy(time_ns, rb.runstate_time_ns, sizeof(rb.runstate_time_ns));
	return 0;
}

/* KVM's line: the one its records carry, which the model only met at load. */
int xen_kernel__system_time(struct vmm *v, uint64_t *ns, uint64_t *host_tsc)
{
	struct xts_kvm_clock_sample s;
	int r = xts_kvm_xen_clock_sample(&v->kx, &s);
	if (r)
		return r;
	*ns = s.kvmclock_ns;
	*host_tsc = s.host_tsc;
	return 0;
}

/*
 * How long a vCPU in SCHEDOP_block may sleep before looking again: until
 * KVM's own timer for it is due (read back, kvmclock) or BLOCK_RECHECK_NS
 * for the IPIs KVM delivers in-kernel, whichever comes first.
 */
uint64_t xen_kernel__block_sleep_ns(struct vmm_cpu *c)
{
	struct vmm *v = c->vmm;
	struct xts_kvm_xen_vcpu_readback rb;
	struct xts_kvm_clock_sample s;

	if (xts_kvm_xen_read_vcpu(&v->kx, c->id, &rb) || !rb.timer_expires_ns ||
	    xts_kvm_xen_clock_sample(&v->kx, &s))
		return BLOCK_RECHECK_NS;
	if (rb.timer_expires_ns <= s.kvmclock_ns)
		return 0;
	uint64_t left = rb.timer_expires_ns - s.kvmclock_ns;
	return left < BLOCK_RECHECK_NS ? left : BLOCK_RECHECK_NS;
}

/* KVM accounts a vCPU out of KVM_RUN as running: tell it while it really blocks. */
void xen_kernel__blocked(struct vmm_cpu *c, bool blocked)
{
	struct vmm *v = c->vmm;
	if (!v->kx.plan.kvm_runstate)
		return;
	int r = xts_kvm_xen_set_runstate(&v->kx, c->id, blocked ? RUNSTATE_blocked
								 : RUNSTATE_running);
	if (r && v->opts.verbose)
		fprintf(stderr, "xtshim: vCPU %u: RUNSTATE_CURRENT: %s\n", c->id, strerror(-r));
}

/*
 * Before a save: the guest's time is KVM's line (kvmclock), not the
 * model's, which only agreed with it at load.  The model continues the
 * record KVM last wrote into vCPU 0's vcpu_info, so the stream carries the
 * line the guest saw; the wallclock follows from it (UTC - system time,
 * which is how KVM computes its own).  Nothing registered yet: the model
 * still is what kvmclock was set from.
 */
int xen_kernel__adopt_clock(struct vmm *v)
{
	struct xts_domain_areas da;
	struct xts_vcpu_areas va;
	struct vcpu_time_info rec;
	struct xts_host_sample now;
	uint32_t off;
	uint64_t gpa;
	int r;

	if ((r = xts_domain_get_areas(v->dom, &da, 0, &va)))
		return r;
	if (va.vcpu_info_gpa != XTS_NO_AREA)
		gpa = va.vcpu_info_gpa;
	else if (da.shared_info_gpa != XTS_NO_AREA)
		gpa = da.shared_info_gpa;                    /* vCPU 0's slot */
	else
		return 0;
	if ((r = xts_layout_vcpu_time_offset(da.long_mode ? XTS_LAYOUT_X86_64 : XTS_LAYOUT_X86_32,
					     &off)) ||
	    (r = xts_gmem_read(&v->gmem, gpa + off, &rec, sizeof(rec))))
		return r;
	if (!rec.version)
		return 0;       /* KVM has not written it yet: the guest read no time from it */
	if ((r = xts_clock_continue(&v->clock, 0, &rec))) {
		fprintf(stderr, "xtshim: save: KVM's vCPU 0 record (version %u, mul %#x, shift %d) "
			"cannot be continued: %s\n", rec.version, rec.tsc_to_system_mul,
			rec.tsc_shift, strerror(-r));
		return r;
	}
	xts_host_sample_now(&now);
	return xts_clock_set_wallclock(&v->clock, &now);
}
