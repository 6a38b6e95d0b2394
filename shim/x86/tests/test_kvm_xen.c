/*
 * Kernel backend (KVM in-kernel Xen) through a fake KVM: capability
 * decisions, the exact ioctl sequences and their arguments, the restore
 * order of facts §8, refusals before any ioctl, and failures at every step.
 *
 * The clock runs on a simulated 1 GHz host TSC: at that rate Xen's scale is
 * mul 0x80000000, shift +1, which is exact, so system time at host TSC H is
 * H - T0 and the guest TSC is START_TSC + H - T0: expectations below are
 * computed from those two facts, not from the code under test.
 */
#include "shim/x86/tests/test_kvm_xen_fake.h"

#define HOST_KHZ   1000000u
#define T0         5000000000000ULL       /* host TSC when the guest was created */
#define R0         1700000000000000000ULL /* realtime then */
#define START_TSC  123456789ULL
#define NV         34                     /* > 32: vCPUs without a legacy vcpu_info slot */
#define SHINFO_GFN 0x1234ULL
#define XENVER     0x40011u

static struct fk *F;
static struct xts_clock C;
static int vcpu_fds[NV];
static struct xts_kvm_xen K;
static struct xts_kvm_xen_vm_state VM;
static struct xts_kvm_xen_vcpu_state VS[NV];

static void make_clock(struct xts_clock *c, unsigned nr, uint32_t host_khz, uint32_t guest_khz)
{
	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86, .nr_vcpus = nr, .host_tsc_khz = host_khz,
		.guest_tsc_khz = guest_khz, .start_tsc = START_TSC,
	};
	struct xts_host_sample now = { .host_tsc = T0, .realtime_ns = R0 };
	assert_int_equal(xts_clock_new(c, &p, &now), 0);
}

static void make_backend(uint32_t caps, enum xts_kvm_xen_want want)
{
	char why[256];
	memset(&K, 0, sizeof(K));
	K.ops = &fk_ops;
	K.ctx = F;
	K.vm_fd = FK_VM_FD;
	K.nr_vcpus = NV;
	K.vcpu_fds = vcpu_fds;
	K.xen_version = XENVER;
	K.shared_info_gfn = XTS_KVM_XEN_NO_GPA;
	assert_int_equal(xts_kvm_xen_plan(caps, want, false, &K.plan, why, sizeof(why)), 0);
}

/* A restore-like state: shared_info mapped, some explicit registrations, timers, runstate. */
static void make_state(void)
{
	VM = (struct xts_kvm_xen_vm_state){
		.long_mode = true, .shared_info_gfn = SHINFO_GFN, .upcall_vector = 0xf3,
		.runstate_update_flag = true,
	};
	for (unsigned i = 0; i < NV; i++) {
		VS[i] = (struct xts_kvm_xen_vcpu_state){
			.xen_vcpu_id = i,
			.vcpu_info_gpa = XTS_KVM_XEN_NO_GPA,
			.time_info_gpa = XTS_KVM_XEN_NO_GPA,
			.runstate_gpa = XTS_KVM_XEN_NO_GPA,
		};
	}
	VS[1].vcpu_info_gpa = 0x200040;          /* registered: overrides the slot */
	VS[33].vcpu_info_gpa = 0x201000;         /* >= 32 with a registration */
	VS[2].time_info_gpa = 0x300020;
	VS[0].runstate_gpa = 0x400ff0;           /* crosses a page: KVM copes */
	VS[0].runstate_valid = true;
	VS[0].runstate_state = RUNSTATE_running;
	VS[0].runstate_time_ns[0] = 1000;
	VS[0].runstate_time_ns[1] = 20;
	VS[0].runstate_time_ns[2] = 300;
	VS[0].runstate_time_ns[3] = 4;
	VS[0].runstate_entry_ns = 1324;
	VS[3].runstate_gpa = 0x401000;
	VS[3].runstate_state = RUNSTATE_offline;
	VS[0].upcall_vector = 0xf4;
	VS[0].timer_port = 3;
	VS[0].timer_deadline_ns = 90000000;      /* Xen system time */
	VS[5].timer_port = 9;                    /* bound, not armed */
}

static int setup(void **state)
{
	F = calloc(1, sizeof(*F));
	F->fail_at = -1;
	F->host_tsc = T0 + 50000000;             /* 50 ms after creation */
	F->tsc_step = 1000;
	F->realtime_ns = R0 + 50000000;
	for (unsigned i = 0; i < NV; i++)
		vcpu_fds[i] = FK_VCPU_FD0 + (int)i;
	make_clock(&C, NV, HOST_KHZ, 0);
	make_state();
	return 0;
}

static int teardown(void **state)
{
	free(F);
	return 0;
}

/* ---- probe and plan ---- */

static void test_probe(void **state)
{
	F->caps = 0x1ff;
	assert_int_equal(xts_kvm_xen_probe(&fk_ops, F, FK_KVM_FD), 0x1ff);
	assert_int_equal(F->n, 1);
	assert_int_equal(F->calls[0].fd, FK_KVM_FD);
	assert_true(F->calls[0].req == KVM_CHECK_EXTENSION);
	assert_int_equal(F->calls[0].value, KVM_CAP_XEN_HVM);
	F->caps = 0;
	assert_int_equal(xts_kvm_xen_probe(&fk_ops, F, FK_KVM_FD), 0);
	F->fail_at = 2;
	F->fail_err = -EINVAL;
	assert_int_equal(xts_kvm_xen_probe(&fk_ops, F, FK_KVM_FD), 0);
}

struct plan_case {
	uint32_t caps;
	enum xts_kvm_xen_want want;
	bool stable;
	int rc;
	enum xts_kvm_xen_transport transport;
	enum xts_kvm_xen_records records;
	uint32_t flags;
	bool runstate, timers, forced;
	const char *why_has, *why_not;
};

static void test_plan_table(void **state)
{
	const uint32_t I = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL, U = KVM_XEN_HVM_CONFIG_PVCLOCK_TSC_UNSTABLE;
	/* With KVM records, EVTCHN_SEND as a config flag: KVM's SCHEDOP_poll sees KVM's events. */
	const uint32_t E = KVM_XEN_HVM_CONFIG_EVTCHN_SEND;
	const enum xts_kvm_xen_transport IO = XTS_KVM_XEN_TRANSPORT_IOPORT, KT = XTS_KVM_XEN_TRANSPORT_KVM;
	const enum xts_kvm_xen_records XR = XTS_KVM_XEN_RECORDS_XTSHIM, KR = XTS_KVM_XEN_RECORDS_KVM;
	const struct plan_case t[] = {
		/* No in-kernel Xen (this machine). */
		{ 0, XTS_KVM_XEN_WANT_AUTO, false, 0, IO, XR, 0, 0, 0, 0, "no KVM_CAP_XEN_HVM", NULL },
		{ 0, XTS_KVM_XEN_WANT_KERNEL, false, -ENOTSUP, IO, XR, 0, 0, 0, 0,
		  "KVM_CAP_XEN_HVM = 0", NULL },
		{ 0, XTS_KVM_XEN_WANT_KVM_TRANSPORT, false, -ENOTSUP, IO, XR, 0, 0, 0, 0,
		  "KVM_CAP_XEN_HVM = 0", NULL },
		{ 0, XTS_KVM_XEN_WANT_USERSPACE, false, 0, IO, XR, 0, 0, 0, 0, NULL, NULL },
		/* Intercept without the MSR bit: no transport either. */
		{ 0x2, XTS_KVM_XEN_WANT_AUTO, false, 0, IO, XR, 0, 0, 0, 0, "hypercall intercept", NULL },
		{ 0x2, XTS_KVM_XEN_WANT_KVM_TRANSPORT, false, -ENOTSUP, IO, XR, 0, 0, 0, 0,
		  "KVM_XEN_HVM_CONFIG_HYPERCALL_MSR", "INTERCEPT_HCALL" },
		/* Transport only. */
		{ 0x3, XTS_KVM_XEN_WANT_AUTO, false, 0, KT, XR, I, 0, 0, 0,
		  "KVM could not keep them", NULL },
		{ 0x3, XTS_KVM_XEN_WANT_KERNEL, false, -ENOTSUP, IO, XR, 0, 0, 0, 0,
		  "lacks KVM_XEN_HVM_CONFIG_SHARED_INFO", "HYPERCALL_MSR" },
		{ 0x1b, XTS_KVM_XEN_WANT_KERNEL, false, -ENOTSUP, IO, XR, 0, 0, 0, 0,
		  "KVM_XEN_HVM_CONFIG_SHARED_INFO", "RUNSTATE" },
		/* Linux 5.12's set: records, no runstate-less extras, stable flag forced. */
		{ 0x7, XTS_KVM_XEN_WANT_KERNEL, false, 0, KT, KR, I, 0, 0, 1, NULL, NULL },
		{ 0x7, XTS_KVM_XEN_WANT_KERNEL, true, 0, KT, KR, I, 0, 0, 0, NULL, NULL },
		{ 0xf, XTS_KVM_XEN_WANT_KERNEL, false, 0, KT, KR, I, 1, 0, 1, NULL, NULL },
		/* Auto keeps xtshim's exact records even where KVM could keep them. */
		{ 0xf, XTS_KVM_XEN_WANT_AUTO, false, 0, KT, XR, I, 0, 0, 0, "xtshim records",
		  "could not" },
		/* Everything: PVCLOCK_TSC_UNSTABLE unless the stable flag is asked for. */
		{ 0x1ff, XTS_KVM_XEN_WANT_KERNEL, false, 0, KT, KR, I | U | E, 1, 1, 0, NULL, NULL },
		{ 0x1ff, XTS_KVM_XEN_WANT_KERNEL, true, 0, KT, KR, I | E, 1, 1, 0, NULL, NULL },
		/* EVTCHN_SEND without PVCLOCK_TSC_UNSTABLE (Linux 6.1): stable forced. */
		{ 0x3f, XTS_KVM_XEN_WANT_KERNEL, false, 0, KT, KR, I | E, 1, 1, 1, "KVM records",
		  NULL },
		{ 0x1ff, XTS_KVM_XEN_WANT_AUTO, false, 0, KT, XR, I, 0, 0, 0, NULL, NULL },
		{ 0x1ff, XTS_KVM_XEN_WANT_KVM_TRANSPORT, false, 0, KT, XR, I, 0, 0, 0, NULL, NULL },
		{ 0x1ff, XTS_KVM_XEN_WANT_USERSPACE, false, 0, IO, XR, 0, 0, 0, 0, NULL, NULL },
		{ 0x1ff, (enum xts_kvm_xen_want)9, false, -EINVAL, IO, XR, 0, 0, 0, 0, "unknown", NULL },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct xts_kvm_xen_plan p;
		char why[256];
		memset(&p, 0xa5, sizeof(p));
		int rc = xts_kvm_xen_plan(t[i].caps, t[i].want, t[i].stable, &p, why, sizeof(why));
		print_message("case %zu: caps %#x want %d -> %d \"%s\"\n", i, t[i].caps,
			      (int)t[i].want, rc, why);
		assert_int_equal(rc, t[i].rc);
		if (t[i].why_has)
			assert_non_null(strstr(why, t[i].why_has));
		if (t[i].why_not)
			assert_null(strstr(why, t[i].why_not));
		if (rc) {
			/* A refusal leaves the plan alone. */
			assert_int_equal(((uint8_t *)&p)[0], 0xa5);
			continue;
		}
		assert_int_equal(p.transport, t[i].transport);
		assert_int_equal(p.records, t[i].records);
		assert_int_equal(p.config_flags, t[i].flags);
		assert_int_equal(p.caps, t[i].caps);
		assert_int_equal(p.kvm_runstate, t[i].runstate);
		assert_int_equal(p.kvm_timers, t[i].timers);
		assert_int_equal(p.kvm_xen_version, t[i].timers);
		assert_int_equal(p.tsc_stable_forced, t[i].forced);
	}
}

/* ---- VM setup ---- */

static void test_setup_vm_kernel(void **state)
{
	struct xts_kvm_xen_report rep;
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, &rep), 0);
	assert_int_equal(F->n, 2);
	assert_int_equal(rep.steps_done, 2);
	assert_int_equal(rep.failed_step, -1);

	const struct fk_call *c = &F->calls[0];
	assert_int_equal(c->fd, FK_VM_FD);
	assert_true(c->req == KVM_XEN_HVM_CONFIG);
	const struct kvm_xen_hvm_config *cfg = (const void *)c->arg;
	/* INTERCEPT_HCALL | EVTCHN_SEND (in-kernel SCHEDOP_poll) | PVCLOCK_TSC_UNSTABLE */
	assert_int_equal(cfg->flags, (1u << 1) | (1u << 5) | (1u << 7));
	assert_int_equal(cfg->msr, 0x40000000u);
	assert_int_equal(cfg->blob_addr_32, 0);  /* KVM refuses blobs with the intercept */
	assert_int_equal(cfg->blob_addr_64, 0);
	assert_int_equal(cfg->blob_size_32, 0);
	assert_int_equal(cfg->blob_size_64, 0);

	c = &F->calls[1];
	assert_true(c->req == KVM_XEN_HVM_SET_ATTR);
	assert_int_equal(fk_vm_attr(c)->type, 4);                /* XEN_VERSION */
	assert_int_equal(fk_vm_attr(c)->u.xen_version, XENVER);
	assert_true(K.configured);
}

static void test_setup_vm_transport_and_userspace(void **state)
{
	/* Before any vCPU exists: only the VM fd and the plan matter. */
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.nr_vcpus = 0;
	K.vcpu_fds = NULL;
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	assert_int_equal(F->n, 2);
	K.vm_fd = -1;
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), -EINVAL);
	assert_int_equal(F->n, 2);
	F->n = 0;

	make_backend(0x3, XTS_KVM_XEN_WANT_AUTO);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	assert_int_equal(F->n, 1);
	const struct kvm_xen_hvm_config *cfg = (const void *)F->calls[0].arg;
	assert_int_equal(cfg->flags, 1u << 1);
	assert_int_equal(cfg->msr, 0x40000000u);

	F->n = 0;
	make_backend(0x1ff, XTS_KVM_XEN_WANT_USERSPACE);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	assert_int_equal(F->n, 0);
	assert_false(K.configured);
}

/* ---- the whole restore sequence ---- */

enum { PH_TSC_KHZ, PH_TSC_OFF, PH_CLOCK, PH_SHINFO, PH_VCPU_AREAS, PH_RUNSTATE, PH_TIMER };

/* Which §8 phase a recorded call belongs to. */
static int phase(const struct fk_call *c)
{
	if (c->req == KVM_SET_TSC_KHZ)
		return PH_TSC_KHZ;
	if (c->req == KVM_SET_DEVICE_ATTR || c->req == KVM_GET_DEVICE_ATTR)
		return PH_TSC_OFF;
	if (c->req == KVM_SET_CLOCK)
		return PH_CLOCK;
	if (c->req == KVM_XEN_HVM_SET_ATTR)
		return PH_SHINFO;
	if (c->req == KVM_GET_CLOCK)
		return PH_TIMER;
	assert_true(c->req == KVM_XEN_VCPU_SET_ATTR);
	switch (fk_vcpu_attr(c)->type) {
	case KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR:
	case KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_CURRENT:
	case KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA:
		return PH_RUNSTATE;
	case KVM_XEN_VCPU_ATTR_TYPE_TIMER:
		return PH_TIMER;
	default:
		return PH_VCPU_AREAS;
	}
}

static unsigned count_type(int fd, unsigned long req, int type)
{
	unsigned n = 0;
	for (int i = fk_find(F, 0, fd, req, type); i >= 0; i = fk_find(F, (unsigned)i + 1, fd, req, type))
		n++;
	return n;
}

static void test_load_kernel_records(void **state)
{
	struct xts_kvm_xen_report rep;
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	F->n = 0;
	/* KVM's answer to KVM_GET_CLOCK: kvmclock K1 at host TSC H1. */
	const uint64_t H1 = T0 + 70000000, K1 = 70000000 + 777;
	F->get_clock = (struct kvm_clock_data){ .clock = K1, .flags = KVM_CLOCK_HOST_TSC, .host_tsc = H1 };
	const uint64_t sample_tsc = F->host_tsc, sample_rt = F->realtime_ns;

	assert_int_equal(xts_kvm_xen_load(&K, &C, &VM, VS, &rep), 0);
	assert_int_equal(rep.failed_step, -1);
	assert_int_equal(rep.steps_done, F->n);

	/* The order of facts §8, call by call. */
	for (unsigned i = 1; i < F->n; i++) {
		if (phase(&F->calls[i]) < phase(&F->calls[i - 1]))
			fail_msg("call %u (req %#lx) is in phase %d after phase %d", i,
				 F->calls[i].req, phase(&F->calls[i]), phase(&F->calls[i - 1]));
	}

	/* TSC rate and offsets on every vCPU fd, exactly the model's guest TSC. */
	for (unsigned v = 0; v < NV; v++) {
		int i = fk_find(F, 0, vcpu_fds[v], KVM_SET_TSC_KHZ, -1);
		assert_true(i >= 0);
		assert_int_equal(F->calls[i].value, HOST_KHZ);
		i = fk_find(F, 0, vcpu_fds[v], KVM_SET_DEVICE_ATTR, -1);
		assert_true(i >= 0);
		const struct kvm_device_attr *da = (const void *)F->calls[i].arg;
		assert_int_equal(da->group, KVM_VCPU_TSC_CTRL);
		assert_int_equal(da->attr, KVM_VCPU_TSC_OFFSET);
		assert_int_equal(F->calls[i].pointee, START_TSC - T0);   /* mod 2^64 */
	}

	/* kvmclock := system time at the sample, realtime for KVM's catch-up. */
	int ic = fk_find(F, 0, FK_VM_FD, KVM_SET_CLOCK, -1);
	assert_true(ic >= 0);
	const struct kvm_clock_data *cd = (const void *)F->calls[ic].arg;
	assert_int_equal(cd->clock, sample_tsc - T0);
	assert_int_equal(cd->flags, KVM_CLOCK_REALTIME);
	assert_int_equal(cd->realtime, sample_rt);

	/* Long mode before shared_info, both after the clock. */
	int il = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_LONG_MODE);
	int is = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_SHARED_INFO);
	assert_true(ic < il && il < is);
	assert_int_equal(fk_vm_attr(&F->calls[il])->u.long_mode, 1);
	assert_int_equal(fk_vm_attr(&F->calls[is])->u.shared_info.gfn, SHINFO_GFN);
	int iu = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_UPCALL_VECTOR);
	assert_int_equal(fk_vm_attr(&F->calls[iu])->u.vector, 0xf3);
	int ir = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG);
	assert_true(ir >= 0);
	assert_int_equal(fk_vm_attr(&F->calls[ir])->u.vector, 1);
	assert_int_equal(K.shared_info_gfn, SHINFO_GFN);

	/* VCPU_INFO once for every vCPU, below 32 too. */
	assert_int_equal(count_type(-1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO), NV);
	for (unsigned v = 0; v < NV; v++) {
		int i = fk_find(F, 0, vcpu_fds[v], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO);
		assert_true(i >= 0);
		uint64_t want = v == 1 ? 0x200040 : v == 33 ? 0x201000
			      : v < 32 ? SHINFO_GFN * 4096 + 64 * v : UINT64_MAX;
		assert_int_equal(fk_vcpu_attr(&F->calls[i])->u.gpa, want);

		i = fk_find(F, 0, vcpu_fds[v], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID);
		assert_true(i >= 0);
		assert_int_equal(fk_vcpu_attr(&F->calls[i])->u.vcpu_id, v);

		i = fk_find(F, 0, vcpu_fds[v], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO);
		assert_true(i >= 0);
		assert_int_equal(fk_vcpu_attr(&F->calls[i])->u.gpa, v == 2 ? 0x300020 : UINT64_MAX);

		i = fk_find(F, 0, vcpu_fds[v], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR);
		assert_true(i >= 0);
		assert_int_equal(fk_vcpu_attr(&F->calls[i])->u.vector, v == 0 ? 0xf4 : 0);
	}

	/* Runstate: vCPU 0 restores data then its address; vCPU 3 its state then address. */
	int d0 = fk_find(F, 0, vcpu_fds[0], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA);
	int a0 = fk_find(F, 0, vcpu_fds[0], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR);
	assert_true(d0 >= 0 && a0 > d0);
	const struct kvm_xen_vcpu_attr *ra = fk_vcpu_attr(&F->calls[d0]);
	assert_int_equal(ra->u.runstate.state, RUNSTATE_running);
	assert_int_equal(ra->u.runstate.state_entry_time, 1324);
	assert_int_equal(ra->u.runstate.time_running, 1000);
	assert_int_equal(ra->u.runstate.time_runnable, 20);
	assert_int_equal(ra->u.runstate.time_blocked, 300);
	assert_int_equal(ra->u.runstate.time_offline, 4);
	assert_int_equal(fk_vcpu_attr(&F->calls[a0])->u.gpa, 0x400ff0);
	int c3 = fk_find(F, 0, vcpu_fds[3], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_CURRENT);
	int a3 = fk_find(F, 0, vcpu_fds[3], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR);
	assert_true(c3 >= 0 && a3 > c3);
	assert_int_equal(fk_vcpu_attr(&F->calls[c3])->u.runstate.state, RUNSTATE_offline);
	assert_int_equal(count_type(-1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR), 2);

	/* Timers: one per vCPU; the armed one at deadline - system(H1) + K1 in kvmclock. */
	assert_int_equal(count_type(-1, KVM_GET_CLOCK, -1), 1);
	assert_int_equal(count_type(-1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_TIMER), NV);
	int t0 = fk_find(F, 0, vcpu_fds[0], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_TIMER);
	const struct kvm_xen_vcpu_attr *ta = fk_vcpu_attr(&F->calls[t0]);
	assert_int_equal(ta->u.timer.port, 3);
	assert_int_equal(ta->u.timer.priority, KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL);
	assert_int_equal(ta->u.timer.expires_ns, 90000000 - (H1 - T0) + K1);
	int t5 = fk_find(F, 0, vcpu_fds[5], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_TIMER);
	assert_int_equal(fk_vcpu_attr(&F->calls[t5])->u.timer.port, 9);
	assert_int_equal(fk_vcpu_attr(&F->calls[t5])->u.timer.expires_ns, 0);
	int t7 = fk_find(F, 0, vcpu_fds[7], KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_TIMER);
	assert_int_equal(fk_vcpu_attr(&F->calls[t7])->u.timer.port, 0);   /* disarmed, no port */
	assert_true(K.clock_set);
}

/* A boot: nothing registered yet, Linux 5.12's capability set (no runstate, no timers). */
static void test_load_boot_minimal_caps(void **state)
{
	make_backend(0x7, XTS_KVM_XEN_WANT_KERNEL);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	assert_int_equal(F->n, 1);    /* no XEN_VERSION attr without EVTCHN_SEND */
	F->n = 0;
	struct xts_kvm_xen_vm_state vm = { .long_mode = false, .shared_info_gfn = XTS_KVM_XEN_NO_GPA };
	for (unsigned i = 0; i < NV; i++)
		VS[i] = (struct xts_kvm_xen_vcpu_state){ .xen_vcpu_id = i,
			.vcpu_info_gpa = XTS_KVM_XEN_NO_GPA, .time_info_gpa = XTS_KVM_XEN_NO_GPA,
			.runstate_gpa = XTS_KVM_XEN_NO_GPA };
	assert_int_equal(xts_kvm_xen_load(&K, &C, &vm, VS, NULL), 0);
	/* 3 per vCPU for the TSC, the clock, long mode, shared_info, vector, 2 per vCPU areas. */
	assert_int_equal(F->n, 3 * NV + 1 + 3 + 2 * NV);
	int is = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_SHARED_INFO);
	assert_int_equal(fk_vm_attr(&F->calls[is])->u.shared_info.gfn, UINT64_MAX);
	/* Not mapped yet: every vCPU is told it has no vcpu_info. */
	for (int i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO); i >= 0;
	     i = fk_find(F, (unsigned)i + 1, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO))
		assert_int_equal(fk_vcpu_attr(&F->calls[i])->u.gpa, UINT64_MAX);
	assert_int_equal(count_type(-1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID), 0);
	assert_int_equal(count_type(-1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_TIMER), 0);
	assert_int_equal(count_type(-1, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG), 0);
}

static void test_load_transport_only(void **state)
{
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KVM_TRANSPORT);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	F->n = 0;
	/* KVM only transports: the TSC is programmed, kvmclock and records are left alone. */
	assert_int_equal(xts_kvm_xen_load(&K, &C, NULL, NULL, NULL), 0);
	assert_int_equal(F->n, 3 * NV);
	assert_int_equal(count_type(-1, KVM_SET_CLOCK, -1), 0);
	assert_false(K.clock_set);
	assert_int_equal(xts_kvm_xen_refresh_wallclock(&K, NULL), 0);
	assert_int_equal(F->n, 3 * NV);

	/* A KVM that drops the offset (PVM): refused at the read-back of vCPU 0. */
	struct xts_kvm_xen_report rep;
	F->n = 0;
	F->ignore_tsc_offset = true;
	memset(F->tsc_off, 0, sizeof(F->tsc_off));
	assert_int_equal(xts_kvm_xen_load(&K, &C, NULL, NULL, &rep), -EOPNOTSUPP);
	assert_int_equal(F->n, NV + 2);               /* rates, then vCPU 0's set + get */
	assert_int_equal(rep.steps_done, NV + 2);
	assert_int_equal(rep.failed_step, NV + 1);
	assert_non_null(strstr(rep.what, "ignored"));
	assert_non_null(strstr(rep.what, "vCPU 0"));
}

/* A failure at every step: exactly the steps before it are applied and claimed. */
static void test_load_fail_each_step(void **state)
{
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	assert_int_equal(xts_kvm_xen_setup_vm(&K, NULL), 0);
	F->n = 0;
	F->get_clock = (struct kvm_clock_data){ .clock = 1, .flags = KVM_CLOCK_HOST_TSC, .host_tsc = T0 };
	assert_int_equal(xts_kvm_xen_load(&K, &C, &VM, VS, NULL), 0);
	const unsigned total = F->n;
	struct fk_call *ref = malloc(sizeof(F->calls));
	memcpy(ref, F->calls, sizeof(F->calls));
	int ic = fk_find(F, 0, FK_VM_FD, KVM_SET_CLOCK, -1);
	int il = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_LONG_MODE);
	int is = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_SHARED_INFO);

	for (unsigned k = 0; k < total; k++) {
		struct xts_kvm_xen_report rep;
		make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
		K.configured = true;
		F->n = 0;
		F->fail_at = (int)k;
		F->fail_err = -EFAULT;
		int rc = xts_kvm_xen_load(&K, &C, &VM, VS, &rep);
		assert_int_equal(rc, -EFAULT);
		assert_int_equal(rep.err, -EFAULT);
		assert_int_equal(rep.failed_step, (int)k);
		assert_int_equal(rep.steps_done, k);
		assert_int_equal(F->n, k + 1);              /* nothing after the failure */
		assert_true(F->calls[k].req == ref[k].req);
		assert_true(rep.what[0] != '\0');
		/* The report names the request that failed. */
		const char *name = ref[k].req == KVM_SET_TSC_KHZ ? "KVM_SET_TSC_KHZ"
				 : ref[k].req == KVM_SET_DEVICE_ATTR ? "KVM_SET_DEVICE_ATTR KVM_VCPU_TSC_OFFSET"
				 : ref[k].req == KVM_GET_DEVICE_ATTR ? "KVM_GET_DEVICE_ATTR KVM_VCPU_TSC_OFFSET"
				 : ref[k].req == KVM_SET_CLOCK ? "KVM_SET_CLOCK"
				 : ref[k].req == KVM_GET_CLOCK ? "KVM_GET_CLOCK"
				 : ref[k].req == KVM_XEN_HVM_SET_ATTR ? "KVM_XEN_HVM_SET_ATTR"
				 : "KVM_XEN_VCPU_SET_ATTR";
		if (!strstr(rep.what, name))
			fail_msg("step %u: \"%s\" does not name %s", k, rep.what, name);
		if (ref[k].fd >= FK_VCPU_FD0) {
			char v[32];
			snprintf(v, sizeof(v), "(vCPU %d)", ref[k].fd - FK_VCPU_FD0);
			assert_non_null(strstr(rep.what, v));
		}
		/* What the backend claims KVM holds. */
		assert_int_equal(K.clock_set, (int)k > ic);
		assert_int_equal(K.long_mode, (int)k > il);
		assert_int_equal(K.shared_info_gfn, (int)k > is ? SHINFO_GFN : XTS_KVM_XEN_NO_GPA);
	}
	free(ref);
}

/* KVM_SET_CLOCK without KVM_CLOCK_REALTIME (Linux < 5.16): a fresh sample, no flags. */
static void test_load_old_set_clock(void **state)
{
	struct xts_kvm_xen_report rep;
	make_backend(0x7, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	F->no_clock_flags = true;
	VM.runstate_update_flag = false;
	for (unsigned i = 0; i < NV; i++)
		VS[i] = (struct xts_kvm_xen_vcpu_state){ .xen_vcpu_id = i,
			.vcpu_info_gpa = XTS_KVM_XEN_NO_GPA, .time_info_gpa = XTS_KVM_XEN_NO_GPA,
			.runstate_gpa = XTS_KVM_XEN_NO_GPA };
	assert_int_equal(xts_kvm_xen_load(&K, &C, &VM, VS, &rep), 0);
	int first = fk_find(F, 0, FK_VM_FD, KVM_SET_CLOCK, -1);
	int second = fk_find(F, (unsigned)first + 1, FK_VM_FD, KVM_SET_CLOCK, -1);
	assert_true(first >= 0 && second == first + 1);
	const struct kvm_clock_data *a = (const void *)F->calls[first].arg;
	const struct kvm_clock_data *b = (const void *)F->calls[second].arg;
	assert_int_equal(a->flags, KVM_CLOCK_REALTIME);
	assert_int_equal(b->flags, 0);
	/* The retry is later by exactly one simulated sample step (1 GHz: ticks are ns). */
	assert_int_equal(b->clock, a->clock + F->tsc_step);
	/* The refused attempt is not counted as a step. */
	assert_int_equal(rep.steps_done, F->n - 1);
	assert_true(K.clock_set);
}

/* A deadline kvmclock cannot hold is only known after KVM_GET_CLOCK: reported there. */
static void test_load_timer_out_of_range(void **state)
{
	struct xts_kvm_xen_report rep;
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	F->get_clock = (struct kvm_clock_data){ .clock = UINT64_MAX - 1000,
						.flags = KVM_CLOCK_HOST_TSC, .host_tsc = T0 };
	assert_int_equal(xts_kvm_xen_load(&K, &C, &VM, VS, &rep), -ERANGE);
	int g = fk_find(F, 0, FK_VM_FD, KVM_GET_CLOCK, -1);
	assert_true(g >= 0);
	assert_int_equal(F->n, (unsigned)g + 1);        /* no TIMER attribute issued */
	assert_int_equal(rep.steps_done, F->n);
	assert_int_equal(rep.failed_step, (int)F->n);
	assert_non_null(strstr(rep.what, "timer_deadline_ns"));
	assert_non_null(strstr(rep.what, "vCPU 0"));
}

/* ---- refusals: validated before the first ioctl ---- */

static void expect_refusal(int rc_want, const char *field)
{
	struct xts_kvm_xen_report rep;
	F->n = 0;
	int rc = xts_kvm_xen_load(&K, &C, &VM, VS, &rep);
	print_message("refusal: %d \"%s\"\n", rc, rep.what);
	assert_int_equal(rc, rc_want);
	assert_int_equal(F->n, 0);
	assert_int_equal(rep.steps_done, 0);
	assert_int_equal(rep.failed_step, -1);
	assert_non_null(strstr(rep.what, field));
}

static void test_refusals(void **state)
{
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	expect_refusal(-EINVAL, "KVM_XEN_HVM_CONFIG not done");
	K.configured = true;

	VS[4].upcall_vector = 0x0f;
	expect_refusal(-EINVAL, "upcall_vector");
	make_state();
	VM.upcall_vector = 0x01;
	expect_refusal(-EINVAL, "vm upcall_vector");
	make_state();
	VS[0].runstate_entry_ns = 1325;
	expect_refusal(-EINVAL, "runstate_entry_ns");
	make_state();
	VS[0].runstate_time_ns[0] = 1000 + 60000000;   /* adds up, but after system time now */
	VS[0].runstate_entry_ns = 1324 + 60000000;
	expect_refusal(-EINVAL, "after system time now");
	make_state();
	VS[6].vcpu_info_gpa = 0x200fc8;                 /* 64 bytes crossing into the next page */
	expect_refusal(-EINVAL, "vcpu_info_gpa");
	make_state();
	VS[6].time_info_gpa = 0x200ff0;
	expect_refusal(-EINVAL, "time_info_gpa");
	make_state();
	VS[6].timer_deadline_ns = 5;
	expect_refusal(-EINVAL, "timer_deadline_ns without timer_port");
	make_state();
	VS[0].timer_port = 4096;
	expect_refusal(-EINVAL, "timer_port");
	make_state();
	VM.long_mode = false;
	VS[0].timer_port = 1024;                        /* 32-bit 2-level: 1024 ports */
	expect_refusal(-EINVAL, "timer_port");
	make_state();
	VS[3].runstate_state = 4;
	expect_refusal(-EINVAL, "runstate_state");
	make_state();
	VS[9].xen_vcpu_id = 4;
	expect_refusal(-EINVAL, "also vCPU 4");
	make_state();
	VM.shared_info_gfn = 1ULL << 52;
	expect_refusal(-EINVAL, "shared_info_gfn");
	make_state();

	/* Features the capabilities do not have. */
	make_backend(0x7, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	expect_refusal(-ENOTSUP, "runstate_update_flag");
	VM.runstate_update_flag = false;
	expect_refusal(-ENOTSUP, "KVM_XEN_HVM_CONFIG_RUNSTATE");
	VS[0].runstate_gpa = VS[3].runstate_gpa = XTS_KVM_XEN_NO_GPA;
	VS[0].runstate_valid = false;
	expect_refusal(-ENOTSUP, "KVM_XEN_HVM_CONFIG_EVTCHN_SEND");
	make_state();

	/* Clocks this backend cannot program exactly. */
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	struct xts_clock saved = C;
	C.tsc_ratio = XTS_TSC_RATIO_ONE + 1;
	expect_refusal(-ENOTSUP, "tsc_ratio");
	C = saved;
	C.guest_tsc_khz = HOST_KHZ + 300;               /* 300 ppm */
	expect_refusal(-ENOTSUP, "guest_tsc_khz");
	C = saved;
	C.guest_tsc_khz = HOST_KHZ + 250;               /* 250 ppm: KVM runs it unscaled */
	F->n = 0;
	assert_int_equal(xts_kvm_xen_load(&K, &C, &VM, VS, NULL), 0);
	C = saved;

	/* Plans that do not hang together. */
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	K.plan.transport = XTS_KVM_XEN_TRANSPORT_IOPORT;
	expect_refusal(-EINVAL, "KVM transport");
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	K.plan.caps = 0x3;
	expect_refusal(-ENOTSUP, "caps");
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.vcpu_fds = NULL;
	expect_refusal(-EINVAL, "vcpu_fds");
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	F->n = 0;
	assert_int_equal(xts_kvm_xen_load(&K, &C, NULL, VS, NULL), -EINVAL);
	assert_int_equal(F->n, 0);
}

/* ---- runtime changes ---- */

static void test_shared_info_and_wallclock(void **state)
{
	struct xts_kvm_xen_report rep;
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	/* Nothing mapped: nothing to refresh. */
	assert_int_equal(xts_kvm_xen_refresh_wallclock(&K, &rep), 0);
	assert_int_equal(F->n, 0);

	assert_int_equal(xts_kvm_xen_set_shared_info(&K, false, 0x77, &rep), 0);
	assert_int_equal(F->n, 2);
	assert_int_equal(fk_vm_attr(&F->calls[0])->type, KVM_XEN_ATTR_TYPE_LONG_MODE);
	assert_int_equal(fk_vm_attr(&F->calls[0])->u.long_mode, 0);
	assert_int_equal(fk_vm_attr(&F->calls[1])->type, KVM_XEN_ATTR_TYPE_SHARED_INFO);
	assert_int_equal(fk_vm_attr(&F->calls[1])->u.shared_info.gfn, 0x77);

	/* After a clock change: exactly one LONG_MODE write with the current layout. */
	F->n = 0;
	assert_int_equal(xts_kvm_xen_refresh_wallclock(&K, &rep), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(F->calls[0].fd, FK_VM_FD);
	assert_int_equal(fk_vm_attr(&F->calls[0])->type, KVM_XEN_ATTR_TYPE_LONG_MODE);
	assert_int_equal(fk_vm_attr(&F->calls[0])->u.long_mode, 0);

	/* Unmapping, and a failure that must not be claimed. */
	F->n = 0;
	assert_int_equal(xts_kvm_xen_set_shared_info(&K, true, XTS_KVM_XEN_NO_GPA, NULL), 0);
	assert_int_equal(fk_vm_attr(&F->calls[1])->u.shared_info.gfn, UINT64_MAX);
	F->n = 0;
	F->fail_at = 1;
	F->fail_err = -EINVAL;
	assert_int_equal(xts_kvm_xen_set_shared_info(&K, false, 0x99, &rep), -EINVAL);
	assert_int_equal(rep.failed_step, 1);
	assert_non_null(strstr(rep.what, "SHARED_INFO"));
	assert_int_equal(K.shared_info_gfn, XTS_KVM_XEN_NO_GPA);
	assert_false(K.long_mode);                      /* LONG_MODE=0 was applied */
	F->fail_at = -1;
	F->n = 0;
	assert_int_equal(xts_kvm_xen_set_shared_info(&K, false, 1ULL << 60, &rep), -EINVAL);
	assert_int_equal(F->n, 0);

	/* xtshim records: KVM is never told about shared_info. */
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KVM_TRANSPORT);
	F->n = 0;
	assert_int_equal(xts_kvm_xen_set_shared_info(&K, true, 0x77, &rep), -EINVAL);
	assert_int_equal(F->n, 0);
}

static void test_setup_vcpu(void **state)
{
	struct xts_kvm_xen_report rep;
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	K.configured = true;
	assert_int_equal(xts_kvm_xen_setup_vcpu(&K, &C, 2, &VS[2], &rep), -EINVAL);
	assert_non_null(strstr(rep.what, "kvmclock not set"));
	K.clock_set = true;
	K.shared_info_gfn = SHINFO_GFN;
	K.long_mode = true;
	F->n = 0;
	F->get_clock = (struct kvm_clock_data){ .clock = 40000000, .flags = KVM_CLOCK_HOST_TSC,
						.host_tsc = T0 + 40000000 };
	struct xts_kvm_xen_vcpu_state s = VS[0];
	assert_int_equal(xts_kvm_xen_setup_vcpu(&K, &C, 0, &s, &rep), 0);
	static const int want[] = {
		KVM_XEN_VCPU_ATTR_TYPE_VCPU_ID, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO,
		KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR,
		KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR,
		-1 /* KVM_GET_CLOCK */, KVM_XEN_VCPU_ATTR_TYPE_TIMER,
	};
	assert_int_equal(F->n, sizeof(want) / sizeof(want[0]));
	for (unsigned i = 0; i < F->n; i++) {
		if (want[i] < 0) {
			assert_true(F->calls[i].req == KVM_GET_CLOCK);
			assert_int_equal(F->calls[i].fd, FK_VM_FD);
			continue;
		}
		assert_int_equal(F->calls[i].fd, vcpu_fds[0]);
		assert_int_equal(fk_vcpu_attr(&F->calls[i])->type, want[i]);
	}
	assert_int_equal(fk_vcpu_attr(&F->calls[1])->u.gpa, SHINFO_GFN * 4096);
	/* kvmclock and system time agree here: the expiry is the deadline itself. */
	assert_int_equal(fk_vcpu_attr(&F->calls[7])->u.timer.expires_ns, 90000000);
	assert_int_equal(xts_kvm_xen_setup_vcpu(&K, &C, NV, &s, &rep), -EINVAL);
}

/* KVM without KVM_CLOCK_HOST_TSC: the host TSC is the midpoint of two samples around the call. */
static void test_clock_sample_fallback(void **state)
{
	make_backend(0x1ff, XTS_KVM_XEN_WANT_KERNEL);
	F->get_clock = (struct kvm_clock_data){ .clock = 555, .flags = 0, .host_tsc = 42 };
	uint64_t before = F->host_tsc;
	struct xts_kvm_clock_sample s;
	assert_int_equal(xts_kvm_xen_clock_sample(&K, &s), 0);
	assert_false(s.exact);
	assert_int_equal(s.kvmclock_ns, 555);
	assert_int_equal(s.host_tsc, before + F->tsc_step / 2);
	F->get_clock.flags = KVM_CLOCK_HOST_TSC;
	assert_int_equal(xts_kvm_xen_clock_sample(&K, &s), 0);
	assert_true(s.exact);
	assert_int_equal(s.host_tsc, 42);
	F->fail_at = (int)F->n;
	F->fail_err = -ENOTTY;
	assert_int_equal(xts_kvm_xen_clock_sample(&K, &s), -ENOTTY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_plan_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_vm_kernel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_vm_transport_and_userspace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_kernel_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_boot_minimal_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_transport_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_fail_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_timer_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_old_set_clock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_info_and_wallclock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_setup_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_sample_fallback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
