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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
