/*
 * Kernel backend ops used while the guest runs, through the fake KVM:
 * mirroring the guest's registrations (update_vm / update_vcpu), event
 * delivery (EVTCHN_SEND, IPI loop-back ports), the vCPU read-back and
 * RUNSTATE_CURRENT.
 *
 * Expected values come from KVM's uapi and arch/x86/kvm/xen.c, not from
 * the code under test: which fd (VM vs vCPU), which attribute type, which
 * union member KVM reads, KVM's own limits (vectors >= 0x10, 2-level ports
 * below 4096 / 1024, runstates 0..3, priority KVM_IRQ_ROUTING_XEN_EVTCHN_-
 * PRIO_2LEVEL), and Xen's layout for the legacy vcpu_info slot
 * (shared_info page + 64 * Xen vCPU id).
 */
#include "shim/x86/tests/test_kvm_xen_fake.h"

#define NV         34                     /* > 32: vCPUs without a legacy vcpu_info slot */
#define ALL_CAPS   0x1ffu
#define GFN        0x1234ULL
#define NO_GPA     UINT64_MAX             /* KVM_XEN_INVALID_GPA / _GFN: (__u64)-1 */
/* Xen's public event_channel.h: EVTCHNSTAT_ipi (KVM's IPI loop-back requires it). */
#define XEN_EVTCHNSTAT_IPI 5u

static struct fk *F;
static int vcpu_fds[NV];
static struct xts_kvm_xen K;

static void make_backend(uint32_t caps)
{
	char why[256];
	memset(&K, 0, sizeof(K));
	K.ops = &fk_ops;
	K.ctx = F;
	K.vm_fd = FK_VM_FD;
	K.nr_vcpus = NV;
	K.vcpu_fds = vcpu_fds;
	K.xen_version = 0x40011;
	K.shared_info_gfn = NO_GPA;
	assert_int_equal(xts_kvm_xen_plan(caps, XTS_KVM_XEN_WANT_KERNEL, false, &K.plan, why,
					  sizeof(why)), 0);
	/* As after xts_kvm_xen_setup_vm() + xts_kvm_xen_load(). */
	K.configured = true;
	K.clock_set = true;
}

static int setup(void **state)
{
	F = calloc(1, sizeof(*F));
	F->fail_at = -1;
	for (unsigned i = 0; i < NV; i++)
		vcpu_fds[i] = FK_VCPU_FD0 + 10 * (int)i;   /* not the index: a swapped fd shows */
	make_backend(ALL_CAPS);
	return 0;
}

static int teardown(void **state)
{
	free(F);
	return 0;
}

static uint16_t attr_type(const struct fk_call *c)
{
	return ((const uint16_t *)c->arg)[0];    /* both attr structs start with __u16 type */
}

/* Call i is KVM_XEN_HVM_SET_ATTR of `type` on the VM fd. */
static const struct kvm_xen_hvm_attr *vm_set(unsigned i, uint16_t type)
{
	assert_true(i < F->n);
	const struct fk_call *c = &F->calls[i];
	assert_int_equal(c->fd, FK_VM_FD);
	assert_true(c->req == KVM_XEN_HVM_SET_ATTR);
	assert_int_equal(attr_type(c), type);
	return fk_vm_attr(c);
}

/* Call i is KVM_XEN_VCPU_{SET,GET}_ATTR of `type` on vCPU v's fd. */
static const struct kvm_xen_vcpu_attr *vcpu_call(unsigned i, unsigned long req, unsigned v,
						  uint16_t type)
{
	assert_true(i < F->n);
	const struct fk_call *c = &F->calls[i];
	assert_int_equal(c->fd, FK_VCPU_FD0 + 10 * (int)v);
	assert_true(c->req == req);
	assert_int_equal(attr_type(c), type);
	return fk_vcpu_attr(c);
}

static const struct kvm_xen_vcpu_attr *vcpu_set(unsigned i, unsigned v, uint16_t type)
{
	return vcpu_call(i, KVM_XEN_VCPU_SET_ATTR, v, type);
}

static void reset_calls(void)
{
	F->n = 0;
	F->fail_at = -1;
}

/* ---- KVM_XEN_HVM_EVTCHN_SEND ---- */

static void test_evtchn_send(void **state)
{
	K.long_mode = true;
	assert_int_equal(xts_kvm_xen_evtchn_send(&K, 3, 2), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(F->calls[0].fd, FK_VM_FD);
	assert_true(F->calls[0].req == KVM_XEN_HVM_EVTCHN_SEND);
	const struct kvm_irq_routing_xen_evtchn *e = (const void *)F->calls[0].arg;
	assert_int_equal(e->port, 3);
	/*
	 * KVM finds the target with kvm_get_vcpu_by_id(): KVM's vCPU id (the
	 * APIC id, KVM_CREATE_VCPU's argument, which the VMM makes the index),
	 * not the Xen vCPU id that the VCPU_ID attribute sets.
	 */
	assert_int_equal(e->vcpu, 2);
	/* KVM refuses any other priority (kvm_xen_hvm_evtchn_send()). */
	assert_int_equal(e->priority, KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL);

	/* KVM's error reaches the caller. */
	reset_calls();
	F->fail_at = 0;
	F->fail_err = -EINVAL;
	assert_int_equal(xts_kvm_xen_evtchn_send(&K, 3, 2), -EINVAL);
	assert_int_equal(F->n, 1);
}

/* The ports KVM takes: 1 .. max_evtchn_port() - 1, which depends on the layout KVM holds. */
static void test_evtchn_port_limits(void **state)
{
	struct { bool long_mode; uint32_t port; unsigned vcpu; int rc; } cases[] = {
		{ true,  1,    0,      0 },
		{ true,  4095, NV - 1, 0 },         /* EVTCHN_2L_NR_CHANNELS 64-bit: 64 * 64 */
		{ true,  4096, 0, -EINVAL },
		{ true,  0,    0, -EINVAL },         /* port 0 is never valid */
		{ true,  3,    NV, -EINVAL },        /* no such vCPU */
		{ true,  UINT32_MAX, 0, -EINVAL },
		{ false, 1023, 0,      0 },          /* COMPAT_EVTCHN_2L_NR_CHANNELS: 32 * 32 */
		{ false, 1024, 0, -EINVAL },
		{ false, 4095, 0, -EINVAL },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		K.long_mode = cases[i].long_mode;
		for (int assign = 0; assign < 3; assign++) {
			reset_calls();
			int r = assign == 2 ? xts_kvm_xen_evtchn_send(&K, cases[i].port, cases[i].vcpu)
					    : xts_kvm_xen_ipi_port(&K, cases[i].port, cases[i].vcpu,
								   assign);
			if (r != cases[i].rc)
				fail_msg("case %u (long_mode %d port %u vcpu %u) op %d: %d, expected %d",
					 i, cases[i].long_mode, cases[i].port, cases[i].vcpu, assign, r,
					 cases[i].rc);
			/* Refused before any ioctl; accepted with exactly one. */
			assert_int_equal(F->n, cases[i].rc ? 0 : 1);
		}
	}
}

/* Event channels need KVM records with EVTCHN_SEND; a plan without it gets no ioctl. */
static void test_evtchn_needs_evtchn_send(void **state)
{
	make_backend(XTS_KVM_XEN_RECORDS_NEED | XTS_KVM_XEN_RUNSTATE);
	K.long_mode = true;
	assert_int_equal(xts_kvm_xen_evtchn_send(&K, 3, 0), -ENOTSUP);
	assert_int_equal(xts_kvm_xen_ipi_port(&K, 3, 0, true), -ENOTSUP);
	assert_int_equal(F->n, 0);

	/* xtshim records: KVM keeps no event channels. */
	char why[256];
	assert_int_equal(xts_kvm_xen_plan(ALL_CAPS, XTS_KVM_XEN_WANT_KVM_TRANSPORT, false, &K.plan,
					  why, sizeof(why)), 0);
	assert_int_equal(xts_kvm_xen_evtchn_send(&K, 3, 0), -ENOTSUP);
	assert_int_equal(xts_kvm_xen_ipi_port(&K, 3, 0, false), -ENOTSUP);
	assert_int_equal(F->n, 0);
}

/* ---- KVM_XEN_HVM_SET_ATTR EVTCHN: IPI ports KVM answers itself ---- */

static void test_ipi_port(void **state)
{
	K.long_mode = true;
	assert_int_equal(xts_kvm_xen_ipi_port(&K, 9, 5, true), 0);
	assert_int_equal(F->n, 1);
	const struct kvm_xen_hvm_attr *a = vm_set(0, KVM_XEN_ATTR_TYPE_EVTCHN);
	assert_int_equal(a->u.evtchn.send_port, 9);
	assert_int_equal(a->u.evtchn.type, XEN_EVTCHNSTAT_IPI);
	assert_int_equal(a->u.evtchn.flags, 0);                  /* 0: assign */
	/* kvm_xen_eventfd_assign(): an IPI must deliver to its own port number. */
	assert_int_equal(a->u.evtchn.deliver.port.port, 9);
	assert_int_equal(a->u.evtchn.deliver.port.vcpu, 5);      /* KVM vCPU id, as for SEND */
	assert_int_equal(a->u.evtchn.deliver.port.priority, KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL);

	reset_calls();
	assert_int_equal(xts_kvm_xen_ipi_port(&K, 9, 5, false), 0);
	assert_int_equal(F->n, 1);
	a = vm_set(0, KVM_XEN_ATTR_TYPE_EVTCHN);
	assert_int_equal(a->u.evtchn.send_port, 9);
	assert_int_equal(a->u.evtchn.flags, KVM_XEN_EVTCHN_DEASSIGN);

	/* KVM answers -EEXIST for a port already assigned: the caller sees it. */
	reset_calls();
	F->fail_at = 0;
	F->fail_err = -EEXIST;
	assert_int_equal(xts_kvm_xen_ipi_port(&K, 9, 5, true), -EEXIST);
}

/* ---- KVM_XEN_VCPU_SET_ATTR RUNSTATE_CURRENT ---- */

static void test_set_runstate(void **state)
{
	/* Xen's public vcpu.h: running 0, runnable 1, blocked 2, offline 3. */
	for (uint32_t s = 0; s <= 3; s++) {
		reset_calls();
		assert_int_equal(xts_kvm_xen_set_runstate(&K, 7, s), 0);
		assert_int_equal(F->n, 1);
		const struct kvm_xen_vcpu_attr *a = vcpu_set(0, 7, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_CURRENT);
		assert_int_equal(a->u.runstate.state, s);
	}

	/* KVM takes 0..RUNSTATE_offline only; refused without an ioctl. */
	const uint32_t bad[] = { 4, 5, 0x80000000u, UINT32_MAX };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset_calls();
		assert_int_equal(xts_kvm_xen_set_runstate(&K, 0, bad[i]), -EINVAL);
		assert_int_equal(F->n, 0);
	}
	reset_calls();
	assert_int_equal(xts_kvm_xen_set_runstate(&K, NV, 2), -EINVAL);
	assert_int_equal(xts_kvm_xen_set_runstate(&K, UINT32_MAX, 2), -EINVAL);
	assert_int_equal(F->n, 0);

	/* KVM's error reaches the caller. */
	F->fail_at = 0;
	F->fail_err = -EOPNOTSUPP;
	assert_int_equal(xts_kvm_xen_set_runstate(&K, 1, 2), -EOPNOTSUPP);

	/* Without KVM_XEN_HVM_CONFIG_RUNSTATE the attribute does not exist. */
	make_backend(XTS_KVM_XEN_RECORDS_NEED | XTS_KVM_XEN_EVTCHN_SEND);
	reset_calls();
	assert_int_equal(xts_kvm_xen_set_runstate(&K, 1, 2), -EINVAL);
	assert_int_equal(F->n, 0);
}

/* ---- KVM_XEN_VCPU_GET_ATTR TIMER / RUNSTATE_DATA ---- */

static void test_read_vcpu(void **state)
{
	struct xts_kvm_xen_vcpu_readback rb;

	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_TIMER].u.timer.port = 7;
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_TIMER].u.timer.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL;
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_TIMER].u.timer.expires_ns = 123456789012ULL;
	/* Distinct values per field, and times adding up to the entry time as KVM keeps them. */
	struct kvm_xen_vcpu_attr *rs = &F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA];
	rs->u.runstate.state = 2;                   /* RUNSTATE_blocked */
	rs->u.runstate.time_running = 1000000003;
	rs->u.runstate.time_runnable = 20000;
	rs->u.runstate.time_blocked = 300;
	rs->u.runstate.time_offline = 4;
	rs->u.runstate.state_entry_time = 1000020307;

	memset(&rb, 0xa5, sizeof(rb));
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, 3, &rb), 0);
	assert_int_equal(F->n, 2);
	for (unsigned i = 0; i < F->n; i++) {
		assert_int_equal(F->calls[i].fd, FK_VCPU_FD0 + 30);
		assert_true(F->calls[i].req == KVM_XEN_VCPU_GET_ATTR);
	}
	assert_true(fk_find(F, 0, FK_VCPU_FD0 + 30, KVM_XEN_VCPU_GET_ATTR,
			    KVM_XEN_VCPU_ATTR_TYPE_TIMER) >= 0);
	assert_true(fk_find(F, 0, FK_VCPU_FD0 + 30, KVM_XEN_VCPU_GET_ATTR,
			    KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA) >= 0);
	assert_int_equal(rb.timer_port, 7);
	assert_int_equal(rb.timer_expires_ns, 123456789012ULL);
	assert_true(rb.runstate_valid);
	assert_int_equal(rb.runstate_state, 2);
	assert_int_equal(rb.runstate_entry_ns, 1000020307);
	/* Indexed by Xen's runstate numbers: running 0, runnable 1, blocked 2, offline 3. */
	assert_int_equal(rb.runstate_time_ns[0], 1000000003);
	assert_int_equal(rb.runstate_time_ns[1], 20000);
	assert_int_equal(rb.runstate_time_ns[2], 300);
	assert_int_equal(rb.runstate_time_ns[3], 4);

	/* KVM's "no timer pending" (timer_expires 0) stays 0. */
	reset_calls();
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_TIMER].u.timer.expires_ns = 0;
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, 3, &rb), 0);
	assert_int_equal(rb.timer_port, 7);
	assert_int_equal(rb.timer_expires_ns, 0);

	/* A failing read is reported, not passed off as data. */
	for (int at = 0; at < 2; at++) {
		reset_calls();
		F->fail_at = at;
		F->fail_err = -EIO;
		assert_int_equal(xts_kvm_xen_read_vcpu(&K, 3, &rb), -EIO);
		assert_int_equal(F->n, (unsigned)at + 1);
	}

	reset_calls();
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, NV, &rb), -EINVAL);
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, 0, NULL), -EINVAL);
	assert_int_equal(F->n, 0);
}

/* What this KVM does not keep is not asked for, and reads as absent. */
static void test_read_vcpu_absent(void **state)
{
	struct xts_kvm_xen_vcpu_readback rb;

	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_TIMER].u.timer.port = 7;
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_TIMER].u.timer.expires_ns = 5555;
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA].u.runstate.state = 1;
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA].u.runstate.state_entry_time = 9;
	F->vcpu_get[KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA].u.runstate.time_running = 9;

	/* No KVM_XEN_HVM_CONFIG_RUNSTATE: timer only. */
	make_backend(XTS_KVM_XEN_RECORDS_NEED | XTS_KVM_XEN_EVTCHN_SEND);
	memset(&rb, 0xa5, sizeof(rb));
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, 1, &rb), 0);
	assert_int_equal(F->n, 1);
	vcpu_call(0, KVM_XEN_VCPU_GET_ATTR, 1, KVM_XEN_VCPU_ATTR_TYPE_TIMER);
	assert_int_equal(rb.timer_expires_ns, 5555);
	assert_false(rb.runstate_valid);
	assert_int_equal(rb.runstate_state, 0);
	assert_int_equal(rb.runstate_entry_ns, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rb.runstate_time_ns[i], 0);

	/* No KVM_XEN_HVM_CONFIG_EVTCHN_SEND: KVM runs no Xen timers: runstate only. */
	make_backend(XTS_KVM_XEN_RECORDS_NEED | XTS_KVM_XEN_RUNSTATE);
	reset_calls();
	memset(&rb, 0xa5, sizeof(rb));
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, 1, &rb), 0);
	assert_int_equal(F->n, 1);
	vcpu_call(0, KVM_XEN_VCPU_GET_ATTR, 1, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_DATA);
	assert_int_equal(rb.timer_port, 0);
	assert_int_equal(rb.timer_expires_ns, 0);
	assert_true(rb.runstate_valid);
	assert_int_equal(rb.runstate_state, 1);
	assert_int_equal(rb.runstate_entry_ns, 9);

	/* xtshim records: KVM holds nothing to read. */
	char why[256];
	assert_int_equal(xts_kvm_xen_plan(ALL_CAPS, XTS_KVM_XEN_WANT_KVM_TRANSPORT, false, &K.plan,
					  why, sizeof(why)), 0);
	reset_calls();
	assert_int_equal(xts_kvm_xen_read_vcpu(&K, 1, &rb), -EINVAL);
	assert_int_equal(F->n, 0);
}

/* ---- mirroring a vCPU's registrations (update_vcpu) ---- */

/* vCPU 3 as load left it: Xen id 5 (not its index), nothing registered, KVM given nothing. */
#define V3      3u
#define V3_ID   5u

static struct xts_kvm_xen_vcpu_state vcpu_boot(uint32_t xen_id)
{
	return (struct xts_kvm_xen_vcpu_state){
		.xen_vcpu_id = xen_id, .vcpu_info_gpa = NO_GPA, .time_info_gpa = NO_GPA,
		.runstate_gpa = NO_GPA,
	};
}

static void assert_vcpu_state(const struct xts_kvm_xen_vcpu_state *a,
			      const struct xts_kvm_xen_vcpu_state *b)
{
	assert_int_equal(a->xen_vcpu_id, b->xen_vcpu_id);
	assert_int_equal(a->vcpu_info_gpa, b->vcpu_info_gpa);
	assert_int_equal(a->time_info_gpa, b->time_info_gpa);
	assert_int_equal(a->runstate_gpa, b->runstate_gpa);
	assert_int_equal(a->upcall_vector, b->upcall_vector);
	assert_int_equal(a->timer_port, b->timer_port);
}

/* Without a registration KVM must be given Xen's legacy slot: shared_info + 64 * Xen id. */
static void test_update_vcpu_legacy_slot(void **state)
{
	struct xts_kvm_xen_report rep;
	K.long_mode = true;
	K.shared_info_gfn = GFN;
	struct xts_kvm_xen_vcpu_state has = vcpu_boot(V3_ID), want = vcpu_boot(V3_ID);

	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(vcpu_set(0, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO)->u.gpa,
			 0x1234000 + 5 * 64);
	assert_int_equal(has.vcpu_info_gpa, 0x1234140);
	assert_int_equal(rep.steps_done, 1);
	assert_int_equal(rep.failed_step, -1);

	/* Nothing changed: nothing sent. */
	reset_calls();
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 0);
	assert_int_equal(rep.steps_done, 0);

	/* A registration replaces the slot. */
	want.vcpu_info_gpa = 0x5000c0;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(vcpu_set(0, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO)->u.gpa, 0x5000c0);
	assert_int_equal(has.vcpu_info_gpa, 0x5000c0);

	/* Xen id 33 has no slot (32 in shared_info): KVM keeps "none", so no ioctl. */
	reset_calls();
	struct xts_kvm_xen_vcpu_state h33 = vcpu_boot(33), w33 = vcpu_boot(33);
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, 33, &h33, &w33, NULL), 0);
	assert_int_equal(F->n, 0);
	assert_int_equal(h33.vcpu_info_gpa, NO_GPA);

	/*
	 * update_vm moves shared_info: the slot moves with it, and only
	 * update_vcpu tells KVM (the VMM then syncs every vCPU on its thread).
	 */
	struct xts_kvm_xen_vm_state vhas = { .long_mode = true, .shared_info_gfn = GFN };
	struct xts_kvm_xen_vm_state vwant = vhas;
	vwant.shared_info_gfn = 0x4321;
	has = vcpu_boot(V3_ID);
	has.vcpu_info_gpa = 0x1234140;
	want = vcpu_boot(V3_ID);
	reset_calls();
	assert_int_equal(xts_kvm_xen_update_vm(&K, &vhas, &vwant, NULL), 0);
	reset_calls();
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, NULL), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(vcpu_set(0, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO)->u.gpa,
			 0x4321000 + 5 * 64);
	assert_int_equal(has.vcpu_info_gpa, 0x4321140);

	/* shared_info unmapped: the slot KVM was given goes away (KVM_XEN_INVALID_GPA). */
	has = vcpu_boot(V3_ID);
	has.vcpu_info_gpa = 0x4321140;
	want = vcpu_boot(V3_ID);
	K.shared_info_gfn = NO_GPA;
	reset_calls();
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, NULL), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(vcpu_set(0, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO)->u.gpa, NO_GPA);
	assert_int_equal(has.vcpu_info_gpa, NO_GPA);
}

/* The guest's registrations, as its vCPU attributes, each once and on its own vCPU's fd. */
static void test_update_vcpu_registrations(void **state)
{
	struct xts_kvm_xen_report rep;
	K.long_mode = true;
	struct xts_kvm_xen_vcpu_state has = vcpu_boot(V3_ID), want = vcpu_boot(V3_ID);
	want.vcpu_info_gpa = 0x5000c0;
	want.time_info_gpa = 0x600020;
	want.runstate_gpa = 0x700ff0;          /* may cross a page: KVM maps two */
	want.upcall_vector = 0xf5;
	want.timer_port = 7;

	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 5);
	assert_int_equal(rep.steps_done, 5);
	int i;
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO)->u.gpa, 0x5000c0);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO)->u.gpa,
			 0x600020);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR)->u.gpa,
			 0x700ff0);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR)->u.vector,
			 0xf5);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_TIMER);
	const struct kvm_xen_vcpu_attr *t = vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_TIMER);
	assert_int_equal(t->u.timer.port, 7);
	/* KVM refuses a port with any other priority (kvm_xen_vcpu_set_attr()). */
	assert_int_equal(t->u.timer.priority, KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL);
	/* Binding the port arms nothing: deadlines are the guest's (set_timer_op) or load's. */
	assert_int_equal(t->u.timer.expires_ns, 0);
	assert_vcpu_state(&has, &want);

	/* Unchanged: no ioctl, in particular no TIMER (it would stop KVM's running timer). */
	reset_calls();
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 0);

	/* One change, one ioctl: the timer port unbound. */
	want.timer_port = 0;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(vcpu_set(0, V3, KVM_XEN_VCPU_ATTR_TYPE_TIMER)->u.timer.port, 0);
	assert_int_equal(has.timer_port, 0);

	/* Deregistrations are KVM_XEN_INVALID_GPA / vector 0. */
	reset_calls();
	want.time_info_gpa = NO_GPA;
	want.runstate_gpa = NO_GPA;
	want.upcall_vector = 0;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 3);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO)->u.gpa, NO_GPA);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR)->u.gpa, NO_GPA);
	i = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR);
	assert_int_equal(vcpu_set((unsigned)i, V3, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR)->u.vector, 0);
	assert_vcpu_state(&has, &want);
}

static const char *vcpu_attr_name(uint16_t type)
{
	switch (type) {
	case KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO:      return "VCPU_INFO";
	case KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO: return "VCPU_TIME_INFO";
	case KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR:  return "RUNSTATE_ADDR";
	case KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR:  return "UPCALL_VECTOR";
	case KVM_XEN_VCPU_ATTR_TYPE_TIMER:          return "TIMER";
	default:                                    return "?";
	}
}

/* has's field for a vCPU attribute: what KVM holds after that attribute was (not) taken. */
static bool vcpu_field_is(const struct xts_kvm_xen_vcpu_state *s, uint16_t type,
			  const struct xts_kvm_xen_vcpu_state *ref)
{
	switch (type) {
	case KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO:      return s->vcpu_info_gpa == ref->vcpu_info_gpa;
	case KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO: return s->time_info_gpa == ref->time_info_gpa;
	case KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR:  return s->runstate_gpa == ref->runstate_gpa;
	case KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR:  return s->upcall_vector == ref->upcall_vector;
	case KVM_XEN_VCPU_ATTR_TYPE_TIMER:          return s->timer_port == ref->timer_port;
	default:                                    fail_msg("attribute type %u", type);
	}
	return false;
}

/*
 * KVM cannot undo an attribute: after KVM refuses the k-th one, has must
 * hold exactly the ones it took, and the report must name the refused one.
 */
static void test_update_vcpu_fail_each_step(void **state)
{
	const uint16_t types[] = {
		KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO, KVM_XEN_VCPU_ATTR_TYPE_VCPU_TIME_INFO,
		KVM_XEN_VCPU_ATTR_TYPE_RUNSTATE_ADDR, KVM_XEN_VCPU_ATTR_TYPE_UPCALL_VECTOR,
		KVM_XEN_VCPU_ATTR_TYPE_TIMER,
	};
	const struct xts_kvm_xen_vcpu_state old = vcpu_boot(V3_ID);
	struct xts_kvm_xen_vcpu_state want = old;
	want.vcpu_info_gpa = 0x5000c0;
	want.time_info_gpa = 0x600020;
	want.runstate_gpa = 0x700100;
	want.upcall_vector = 0xf5;
	want.timer_port = 7;
	K.long_mode = true;

	for (int k = 0; k < 5; k++) {
		struct xts_kvm_xen_report rep;
		struct xts_kvm_xen_vcpu_state has = old;
		reset_calls();
		F->fail_at = k;
		F->fail_err = -EFAULT;
		assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), -EFAULT);
		assert_int_equal(F->n, (unsigned)k + 1);
		assert_int_equal(rep.failed_step, k);
		assert_int_equal(rep.steps_done, k);
		assert_int_equal(rep.err, -EFAULT);
		uint16_t failed = attr_type(&F->calls[k]);
		char name[64];
		snprintf(name, sizeof(name), "KVM_XEN_VCPU_SET_ATTR %s (vCPU 3)", vcpu_attr_name(failed));
		if (strcmp(rep.what, name))
			fail_msg("step %d: report '%s', expected '%s'", k, rep.what, name);
		for (unsigned t = 0; t < 5; t++) {
			bool sent_ok = fk_find(F, 0, -1, KVM_XEN_VCPU_SET_ATTR, types[t]) >= 0 &&
				       types[t] != failed;
			if (!vcpu_field_is(&has, types[t], sent_ok ? &want : &old))
				fail_msg("failing step %d (%s): has's %s is not what KVM holds", k,
					 vcpu_attr_name(failed), vcpu_attr_name(types[t]));
		}
		/* A second try sends exactly what KVM did not take. */
		F->fail_at = -1;
		unsigned before = F->n;
		assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, NULL), 0);
		assert_int_equal(F->n - before, 5 - k);
		assert_vcpu_state(&has, &want);
	}
}

/* What KVM would refuse, or what update_vcpu may not change, is refused before any ioctl. */
static void test_update_vcpu_refusals(void **state)
{
	struct xts_kvm_xen_report rep;
	struct xts_kvm_xen_vcpu_state has, want, saved;
	K.long_mode = true;
	has = vcpu_boot(V3_ID);
	has.vcpu_info_gpa = 0x5000c0;
	has.timer_port = 7;
	saved = has;

	static const char *const cases[] = {
		"xen_vcpu_id", "runstate data", "timer deadline", "upcall_vector 0x0f",
		"upcall_vector 0x01", "timer_port 4096", "vcpu_info crosses a page",
		"time_info crosses a page", "runstate_state 4",
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		want = saved;
		switch (i) {
		case 0: want.xen_vcpu_id = 6; break;             /* VCPU_ID is load's */
		case 1: want.runstate_valid = true; break;       /* so is runstate data */
		case 2: want.timer_deadline_ns = 1000; break;    /* and a deadline */
		case 3: want.upcall_vector = 0x0f; break;        /* KVM: vectors < 0x10 -EINVAL */
		case 4: want.upcall_vector = 0x01; break;
		case 5: want.timer_port = 4096; break;           /* 64-bit 2-level: 4096 ports */
		case 6: want.vcpu_info_gpa = 0x500fc1; break;    /* + 64 crosses 0x501000 */
		case 7: want.time_info_gpa = 0x600fe8; break;    /* + 32 crosses 0x601000 */
		case 8: want.runstate_gpa = 0x700000; want.runstate_state = 4; break;
		}
		reset_calls();
		int r = xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep);
		if (r != -EINVAL || F->n)
			fail_msg("%s: %d with %u ioctls, expected -EINVAL and none", cases[i], r, F->n);
		assert_vcpu_state(&has, &saved);
	}

	/* The 32-bit layout has 1024 ports; 1023 and the 64-bit 4095 are fine. */
	K.long_mode = false;
	want = saved;
	want.timer_port = 1024;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), -EINVAL);
	assert_int_equal(F->n, 0);
	want.timer_port = 1023;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 1);
	K.long_mode = true;
	want.timer_port = 4095;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), 0);
	assert_int_equal(F->n, 2);

	/* No such vCPU. */
	reset_calls();
	want = has;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, NV, &has, &want, &rep), -EINVAL);
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, UINT32_MAX, &has, &want, &rep), -EINVAL);
	assert_int_equal(F->n, 0);

	/* Attributes that need capabilities this KVM lacks. */
	make_backend(XTS_KVM_XEN_RECORDS_NEED);
	has = vcpu_boot(V3_ID);
	want = has;
	want.runstate_gpa = 0x700000;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), -ENOTSUP);
	want = has;
	want.timer_port = 7;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), -ENOTSUP);
	want = has;
	want.upcall_vector = 0xf5;
	assert_int_equal(xts_kvm_xen_update_vcpu(&K, V3, &has, &want, &rep), -ENOTSUP);
	assert_int_equal(F->n, 0);
}

/* ---- mirroring the VM's registrations (update_vm) ---- */

static const struct xts_kvm_xen_vm_state vm_boot = { .shared_info_gfn = NO_GPA };
static const struct xts_kvm_xen_vm_state vm_mapped = {
	.long_mode = true, .shared_info_gfn = GFN, .upcall_vector = 0xf3,
	.runstate_update_flag = true,
};

static void assert_vm_state(const struct xts_kvm_xen_vm_state *a,
			    const struct xts_kvm_xen_vm_state *b)
{
	assert_int_equal(a->long_mode, b->long_mode);
	assert_int_equal(a->shared_info_gfn, b->shared_info_gfn);
	assert_int_equal(a->upcall_vector, b->upcall_vector);
	assert_int_equal(a->runstate_update_flag, b->runstate_update_flag);
}

static void test_update_vm_boot_to_mapped(void **state)
{
	struct xts_kvm_xen_report rep;
	struct xts_kvm_xen_vm_state has = vm_boot;

	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &vm_mapped, &rep), 0);
	assert_int_equal(F->n, 4);
	assert_int_equal(rep.steps_done, 4);
	assert_int_equal(rep.failed_step, -1);
	/*
	 * The layout before the page: SHARED_INFO makes KVM write the
	 * wallclock at once, where LONG_MODE says the guest looks
	 * (kvm_xen_shared_info_init()).
	 */
	assert_int_equal(vm_set(0, KVM_XEN_ATTR_TYPE_LONG_MODE)->u.long_mode, 1);
	assert_int_equal(vm_set(1, KVM_XEN_ATTR_TYPE_SHARED_INFO)->u.shared_info.gfn, GFN);
	int iv = fk_find(F, 2, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_UPCALL_VECTOR);
	int iu = fk_find(F, 2, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG);
	assert_true(iv >= 0 && iu >= 0);
	assert_int_equal(vm_set((unsigned)iv, KVM_XEN_ATTR_TYPE_UPCALL_VECTOR)->u.vector, 0xf3);
	/* runstate_update_flag is the union's first byte, as long_mode and vector. */
	assert_int_equal(F->calls[iu].arg[offsetof(struct kvm_xen_hvm_attr, u)], 1);
	assert_vm_state(&has, &vm_mapped);
	/* The backend's own record of KVM's layout (ports, legacy slots) follows. */
	assert_true(K.long_mode);
	assert_int_equal(K.shared_info_gfn, GFN);

	reset_calls();
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &vm_mapped, &rep), 0);
	assert_int_equal(F->n, 0);
	assert_int_equal(rep.steps_done, 0);
}

static void test_update_vm_only_changes(void **state)
{
	struct xts_kvm_xen_vm_state has = vm_mapped, want = vm_mapped;
	K.long_mode = true;
	K.shared_info_gfn = GFN;

	want.upcall_vector = 0x10;                      /* the lowest vector KVM takes */
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, NULL), 0);
	assert_int_equal(F->n, 1);
	assert_int_equal(vm_set(0, KVM_XEN_ATTR_TYPE_UPCALL_VECTOR)->u.vector, 0x10);

	reset_calls();
	want.runstate_update_flag = false;
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, NULL), 0);
	assert_int_equal(F->n, 1);
	vm_set(0, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG);
	assert_int_equal(F->calls[0].arg[offsetof(struct kvm_xen_hvm_attr, u)], 0);

	/*
	 * shared_info moved: LONG_MODE goes with it although unchanged here,
	 * because KVM also latches the layout itself when the guest writes
	 * the hypercall MSR (kvm_xen_write_hypercall_page()).
	 */
	reset_calls();
	want.shared_info_gfn = 0x4321;
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, NULL), 0);
	assert_int_equal(F->n, 2);
	assert_int_equal(vm_set(0, KVM_XEN_ATTR_TYPE_LONG_MODE)->u.long_mode, 1);
	assert_int_equal(vm_set(1, KVM_XEN_ATTR_TYPE_SHARED_INFO)->u.shared_info.gfn, 0x4321);
	assert_int_equal(K.shared_info_gfn, 0x4321);

	/* Unmapped: KVM_XEN_INVALID_GFN, (__u64)-1. */
	reset_calls();
	want.shared_info_gfn = NO_GPA;
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, NULL), 0);
	assert_int_equal(F->n, 2);
	assert_int_equal(vm_set(1, KVM_XEN_ATTR_TYPE_SHARED_INFO)->u.shared_info.gfn, UINT64_MAX);

	/* The layout switches to 32-bit: the (re)mapped page follows it. */
	reset_calls();
	want.shared_info_gfn = GFN;
	want.long_mode = false;
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, NULL), 0);
	assert_int_equal(F->n, 2);
	assert_int_equal(vm_set(0, KVM_XEN_ATTR_TYPE_LONG_MODE)->u.long_mode, 0);
	assert_int_equal(vm_set(1, KVM_XEN_ATTR_TYPE_SHARED_INFO)->u.shared_info.gfn, GFN);
	assert_false(K.long_mode);
	assert_vm_state(&has, &want);

	/* The layout alone changes (page unchanged): KVM must still be told. */
	reset_calls();
	want.long_mode = true;
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, NULL), 0);
	assert_int_equal(F->n, 2);
	assert_int_equal(vm_set(0, KVM_XEN_ATTR_TYPE_LONG_MODE)->u.long_mode, 1);
	assert_int_equal(vm_set(1, KVM_XEN_ATTR_TYPE_SHARED_INFO)->u.shared_info.gfn, GFN);
	assert_true(K.long_mode);
	assert_vm_state(&has, &want);
}

/* Refused before any ioctl, has untouched: what KVM would refuse, or cannot do. */
static void test_update_vm_refusals(void **state)
{
	struct xts_kvm_xen_report rep;
	struct xts_kvm_xen_vm_state has = vm_boot, want;
	const uint8_t vectors[] = { 0x01, 0x0f };       /* KVM: 0 or >= 0x10 */
	for (unsigned i = 0; i < sizeof(vectors); i++) {
		want = vm_mapped;
		want.upcall_vector = vectors[i];
		assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, &rep), -EINVAL);
	}
	want = vm_mapped;
	want.shared_info_gfn = 1ULL << 52;              /* beyond any x86 physical address */
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &want, &rep), -EINVAL);
	assert_int_equal(xts_kvm_xen_update_vm(&K, NULL, &vm_mapped, &rep), -EINVAL);
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, NULL, &rep), -EINVAL);
	assert_int_equal(F->n, 0);
	assert_vm_state(&has, &vm_boot);

	/* Without KVM_XEN_HVM_CONFIG_RUNSTATE_UPDATE_FLAG the attribute does not exist. */
	make_backend(ALL_CAPS & ~XTS_KVM_XEN_RUNSTATE_UPDATE_FLAG);
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &vm_mapped, &rep), -ENOTSUP);
	assert_int_equal(F->n, 0);
	assert_vm_state(&has, &vm_boot);

	/* xtshim records: KVM keeps no shared_info. */
	char why[256];
	assert_int_equal(xts_kvm_xen_plan(ALL_CAPS, XTS_KVM_XEN_WANT_KVM_TRANSPORT, false, &K.plan,
					  why, sizeof(why)), 0);
	assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &vm_mapped, &rep), -EINVAL);
	assert_int_equal(F->n, 0);
}

static const char *vm_attr_name(uint16_t type)
{
	switch (type) {
	case KVM_XEN_ATTR_TYPE_LONG_MODE:            return "LONG_MODE";
	case KVM_XEN_ATTR_TYPE_SHARED_INFO:          return "SHARED_INFO";
	case KVM_XEN_ATTR_TYPE_UPCALL_VECTOR:        return "UPCALL_VECTOR";
	case KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG: return "RUNSTATE_UPDATE_FLAG";
	default:                                     return "?";
	}
}

static bool vm_field_is(const struct xts_kvm_xen_vm_state *s, uint16_t type,
			const struct xts_kvm_xen_vm_state *ref)
{
	switch (type) {
	case KVM_XEN_ATTR_TYPE_LONG_MODE:            return s->long_mode == ref->long_mode;
	case KVM_XEN_ATTR_TYPE_SHARED_INFO:          return s->shared_info_gfn == ref->shared_info_gfn;
	case KVM_XEN_ATTR_TYPE_UPCALL_VECTOR:        return s->upcall_vector == ref->upcall_vector;
	case KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG: return s->runstate_update_flag == ref->runstate_update_flag;
	default:                                     fail_msg("attribute type %u", type);
	}
	return false;
}

/*
 * KVM refuses the k-th attribute: has must say what KVM holds, field by
 * field (a layout KVM took stays taken when the page that follows is
 * refused), and so must the backend's own record of the layout, which
 * decides the port limit and the legacy vcpu_info slots.
 */
static void test_update_vm_fail_each_step(void **state)
{
	const uint16_t types[] = {
		KVM_XEN_ATTR_TYPE_LONG_MODE, KVM_XEN_ATTR_TYPE_SHARED_INFO,
		KVM_XEN_ATTR_TYPE_UPCALL_VECTOR, KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG,
	};
	for (int k = 0; k < 4; k++) {
		struct xts_kvm_xen_report rep;
		struct xts_kvm_xen_vm_state has = vm_boot;
		make_backend(ALL_CAPS);
		reset_calls();
		F->fail_at = k;
		F->fail_err = -ENOMEM;
		assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &vm_mapped, &rep), -ENOMEM);
		assert_int_equal(F->n, (unsigned)k + 1);
		assert_int_equal(rep.failed_step, k);
		assert_int_equal(rep.steps_done, k);
		assert_int_equal(rep.err, -ENOMEM);
		uint16_t failed = attr_type(&F->calls[k]);
		char name[64];
		snprintf(name, sizeof(name), "KVM_XEN_HVM_SET_ATTR %s", vm_attr_name(failed));
		if (strcmp(rep.what, name))
			fail_msg("step %d: report '%s', expected '%s'", k, rep.what, name);
		for (unsigned t = 0; t < 4; t++) {
			bool taken = fk_find(F, 0, FK_VM_FD, KVM_XEN_HVM_SET_ATTR, types[t]) >= 0 &&
				     types[t] != failed;
			if (!vm_field_is(&has, types[t], taken ? &vm_mapped : &vm_boot))
				fail_msg("failing step %d (%s): has's %s is not what KVM holds", k,
					 vm_attr_name(failed), vm_attr_name(types[t]));
		}
		assert_int_equal(K.long_mode, has.long_mode);
		assert_int_equal(K.shared_info_gfn, has.shared_info_gfn);

		F->fail_at = -1;
		assert_int_equal(xts_kvm_xen_update_vm(&K, &has, &vm_mapped, NULL), 0);
		assert_vm_state(&has, &vm_mapped);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_evtchn_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evtchn_port_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_evtchn_needs_evtchn_send, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipi_port, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_runstate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_vcpu, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_vcpu_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vcpu_legacy_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vcpu_registrations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vcpu_fail_each_step, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vcpu_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vm_boot_to_mapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vm_only_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vm_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_update_vm_fail_each_step, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
