/*
 * 2-level event channels against Xen's rules: pending / mask / pending_sel
 * / upcall_pending, upcall injection, and the event_channel_op commands.
 * Bit positions are computed here from the 2-level ABI (word = port / bits
 * per xen_ulong_t) and the offsets in the Xen public headers.
 */
#include "hypercalls/tests/fake.h"

#define EVOP __HYPERVISOR_event_channel_op

static bool sh_bit64(struct fake *f, size_t field, uint32_t port)
{
	return (ld64(f, SHINFO_GPA + field + (port / 64) * 8) >> (port % 64)) & 1;
}

static void set_sh_bit64(struct fake *f, size_t field, uint32_t port, bool v)
{
	uint64_t w = ld64(f, SHINFO_GPA + field + (port / 64) * 8);

	w = v ? w | (1ULL << (port % 64)) : w & ~(1ULL << (port % 64));
	memcpy(gp(f, SHINFO_GPA + field + (port / 64) * 8), &w, 8);
}

#define PENDING offsetof(struct shared_info_x86_64, evtchn_pending)
#define MASK    offsetof(struct shared_info_x86_64, evtchn_mask)
#define VI(v)   (SHINFO_GPA + (v) * sizeof(struct vcpu_info_x86_64))
#define VI_UPCALL_PENDING(v) VI(v) + offsetof(struct vcpu_info_x86_64, evtchn_upcall_pending)
#define VI_SEL(v) VI(v) + offsetof(struct vcpu_info_x86_64, evtchn_pending_sel)

static uint32_t bind_ipi(struct fake *f, unsigned vcpu)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu };

	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_ipi, ARG, 0), 0);
	memcpy(&b, gp(f, ARG), sizeof(b));
	return b.port;
}

static int64_t send(struct fake *f, unsigned vcpu, uint32_t port)
{
	struct evtchn_send s = { .port = port };

	memcpy(gp(f, ARG2), &s, sizeof(s));
	return hc(f, vcpu, EVOP, EVTCHNOP_send, ARG2, 0);
}

static int64_t port_op(struct fake *f, uint32_t cmd, uint32_t port)
{
	memcpy(gp(f, ARG2), &port, 4);
	return hc(f, 0, EVOP, cmd, ARG2, 0);
}

static void test_ipi_delivery_and_mask(void **state)
{
	struct fake *f = fake_new(2);
	uint32_t port;

	map_shinfo(f, SHINFO_GPA);
	set_callback_vector(f, 0xf3);
	port = bind_ipi(f, 1);
	/* Console and xenstore took ports 1 and 2. */
	assert_int_equal(port, 3);

	assert_int_equal(send(f, 0, port), 0);
	assert_true(sh_bit64(f, PENDING, port));
	assert_int_equal((ld64(f, VI_SEL(1)) >> (port / 64)) & 1, 1);
	assert_int_equal(*(uint8_t *)gp(f, VI_UPCALL_PENDING(1)), 1);
	assert_int_equal(f->n_inject, 1);
	assert_int_equal(f->inject_vcpu[0], 1);
	assert_int_equal(f->inject_vec[0], 0xf3);

	/* Already pending: nothing more. */
	assert_int_equal(send(f, 0, port), 0);
	assert_int_equal(f->n_inject, 1);

	/* Guest handles it, then masks the port: a masked port pends but does not upcall. */
	set_sh_bit64(f, PENDING, port, false);
	memset(gp(f, VI_SEL(1)), 0, 8);
	*(uint8_t *)gp(f, VI_UPCALL_PENDING(1)) = 0;
	set_sh_bit64(f, MASK, port, true);
	assert_int_equal(send(f, 0, port), 0);
	assert_true(sh_bit64(f, PENDING, port));
	assert_int_equal(ld64(f, VI_SEL(1)), 0);
	assert_int_equal(*(uint8_t *)gp(f, VI_UPCALL_PENDING(1)), 0);
	assert_int_equal(f->n_inject, 1);

	/* Unmask of a pending port raises the upcall. */
	assert_int_equal(port_op(f, EVTCHNOP_unmask, port), 0);
	assert_false(sh_bit64(f, MASK, port));
	assert_int_equal(*(uint8_t *)gp(f, VI_UPCALL_PENDING(1)), 1);
	assert_int_equal(f->n_inject, 2);
	assert_int_equal(f->inject_vcpu[1], 1);

	/* Unmask of a port that is not pending: no upcall. */
	set_sh_bit64(f, PENDING, port, false);
	*(uint8_t *)gp(f, VI_UPCALL_PENDING(1)) = 0;
	memset(gp(f, VI_SEL(1)), 0, 8);
	set_sh_bit64(f, MASK, port, true);
	assert_int_equal(port_op(f, EVTCHNOP_unmask, port), 0);
	assert_int_equal(f->n_inject, 2);
	fake_free(f);
}

static void test_upcall_vector_per_vcpu(void **state)
{
	struct fake *f = fake_new(2);
	struct xen_hvm_evtchn_upcall_vector u = { .vcpu = 1, .vector = 0x0f };
	uint32_t port;

	map_shinfo(f, SHINFO_GPA);
	set_callback_vector(f, 0xf3);
	memcpy(gp(f, ARG), &u, sizeof(u));
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, ARG, 0),
			 -XEN_EINVAL);
	u.vector = 0xe1;
	u.vcpu = 2;
	memcpy(gp(f, ARG), &u, sizeof(u));
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, ARG, 0),
			 -XEN_ENOENT);
	u.vcpu = 1;
	memcpy(gp(f, ARG), &u, sizeof(u));
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, ARG, 0), 0);
	port = bind_ipi(f, 1);
	assert_int_equal(send(f, 0, port), 0);
	assert_int_equal(f->n_inject, 1);
	assert_int_equal(f->inject_vec[0], 0xe1);   /* per-vCPU vector wins */
	port = bind_ipi(f, 0);
	assert_int_equal(send(f, 0, port), 0);
	assert_int_equal(f->n_inject, 2);
	assert_int_equal(f->inject_vec[1], 0xf3);   /* vCPU 0 uses CALLBACK_IRQ */
	fake_free(f);
}

static void test_no_callback_no_injection(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t port;

	map_shinfo(f, SHINFO_GPA);
	port = bind_ipi(f, 0);
	assert_int_equal(send(f, 0, port), 0);
	assert_true(sh_bit64(f, PENDING, port));
	assert_int_equal(f->n_inject, 0);
	/* Setting the vector later with an event outstanding does inject. */
	{
		struct xen_hvm_evtchn_upcall_vector u = { .vcpu = 0, .vector = 0x40 };

		memcpy(gp(f, ARG), &u, sizeof(u));
		assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, HVMOP_set_evtchn_upcall_vector, ARG, 0), 0);
		assert_int_equal(f->n_inject, 1);
		assert_int_equal(f->inject_vec[0], 0x40);
	}
	fake_free(f);
}

static void test_bind_virq_rules(void **state)
{
	struct fake *f = fake_new(2);
	struct evtchn_bind_virq b;
	uint32_t p0, p1;

	map_shinfo(f, SHINFO_GPA);
	p0 = bind_virq(f, 0, VIRQ_TIMER);
	p1 = bind_virq(f, 1, VIRQ_TIMER);
	assert_int_not_equal(p0, p1);
	b = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 0 };
	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_virq, ARG, 0), -XEN_EEXIST);
	b = (struct evtchn_bind_virq){ .virq = NR_VIRQS, .vcpu = 0 };
	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_virq, ARG, 0), -XEN_EINVAL);
	b = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 2 };
	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_virq, ARG, 0), -XEN_ENOENT);
	b = (struct evtchn_bind_virq){ .virq = VIRQ_TIMER, .vcpu = 0xffffffff };
	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_virq, ARG, 0), -XEN_ENOENT);
	/* A global VIRQ only on vCPU 0. */
	b = (struct evtchn_bind_virq){ .virq = VIRQ_CONSOLE, .vcpu = 1 };
	memcpy(gp(f, ARG), &b, sizeof(b));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_virq, ARG, 0), -XEN_EINVAL);
	/* Raising VIRQ_TIMER on vCPU 1 sets its port. */
	xts_domain_send_virq(f->d, 1, VIRQ_TIMER);
	assert_true(sh_bit64(f, PENDING, p1));
	assert_false(sh_bit64(f, PENDING, p0));
	/* Close clears the binding and the pending bit; closing again is -EINVAL. */
	assert_int_equal(port_op(f, EVTCHNOP_close, p1), 0);
	assert_false(sh_bit64(f, PENDING, p1));
	assert_int_equal(port_op(f, EVTCHNOP_close, p1), -XEN_EINVAL);
	assert_int_equal(port_op(f, EVTCHNOP_close, 0), -XEN_EINVAL);
	assert_int_equal(port_op(f, EVTCHNOP_close, 4096), -XEN_EINVAL);
	xts_domain_send_virq(f->d, 1, VIRQ_TIMER);
	assert_false(sh_bit64(f, PENDING, p1));
	/* The port is reused by the next binding. */
	assert_int_equal(bind_virq(f, 1, VIRQ_TIMER), p1);
	fake_free(f);
}

static void test_status_and_unbound(void **state)
{
	struct fake *f = fake_new(2);
	struct evtchn_alloc_unbound a = { .dom = DOMID_SELF, .remote_dom = 0 };
	struct evtchn_status s;
	uint32_t port;

	map_shinfo(f, SHINFO_GPA);
	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_alloc_unbound, ARG, 0), 0);
	memcpy(&a, gp(f, ARG), sizeof(a));
	port = a.port;
	/* Sending on an unbound port is dropped silently. */
	assert_int_equal(send(f, 0, port), 0);
	assert_false(sh_bit64(f, PENDING, port));

	s = (struct evtchn_status){ .dom = DOMID_SELF, .port = port };
	memcpy(gp(f, ARG), &s, sizeof(s));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_status, ARG, 0), 0);
	memcpy(&s, gp(f, ARG), sizeof(s));
	assert_int_equal(s.status, EVTCHNSTAT_unbound);
	assert_int_equal(s.u.unbound.dom, 0);

	s = (struct evtchn_status){ .dom = 7, .port = bind_virq(f, 1, VIRQ_TIMER) };
	memcpy(gp(f, ARG), &s, sizeof(s));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_status, ARG, 0), 0);
	memcpy(&s, gp(f, ARG), sizeof(s));
	assert_int_equal(s.status, EVTCHNSTAT_virq);
	assert_int_equal(s.u.virq, VIRQ_TIMER);
	assert_int_equal(s.vcpu, 1);

	s = (struct evtchn_status){ .dom = DOMID_SELF, .port = 1000 };
	memcpy(gp(f, ARG), &s, sizeof(s));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_status, ARG, 0), 0);
	memcpy(&s, gp(f, ARG), sizeof(s));
	assert_int_equal(s.status, EVTCHNSTAT_closed);

	s = (struct evtchn_status){ .dom = 3, .port = 1 };
	memcpy(gp(f, ARG), &s, sizeof(s));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_status, ARG, 0), -XEN_ESRCH);
	s = (struct evtchn_status){ .dom = DOMID_SELF, .port = 5000 };
	memcpy(gp(f, ARG), &s, sizeof(s));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_status, ARG, 0), -XEN_EINVAL);

	a = (struct evtchn_alloc_unbound){ .dom = 3, .remote_dom = 0 };
	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_alloc_unbound, ARG, 0), -XEN_EPERM);
	fake_free(f);
}

static void test_hostile_evtchn_args(void **state)
{
	struct fake *f = fake_new(2);
	uint32_t port;

	map_shinfo(f, SHINFO_GPA);
	/* Unreadable argument: nothing allocated (the next bind still gets port 3). */
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_ipi, RAM_SIZE - 4, 0), -XEN_EFAULT);
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_virq, UINT64_MAX - 4, 0), -XEN_EFAULT);
	assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_alloc_unbound, 1ULL << 63, 0), -XEN_EFAULT);
	port = bind_ipi(f, 0);
	assert_int_equal(port, 3);
	assert_int_equal(send(f, 0, 0), -XEN_EINVAL);
	assert_int_equal(send(f, 0, 4096), -XEN_EINVAL);
	assert_int_equal(send(f, 0, 0xffffffff), -XEN_EINVAL);
	assert_int_equal(send(f, 0, 77), -XEN_EINVAL);        /* free port */
	assert_int_equal(send(f, 0, bind_virq(f, 0, VIRQ_TIMER)), -XEN_EINVAL);
	assert_int_equal(port_op(f, EVTCHNOP_unmask, 4096), -XEN_EINVAL);
	{
		struct evtchn_bind_vcpu bv = { .port = port, .vcpu = 1 };

		memcpy(gp(f, ARG), &bv, sizeof(bv));
		assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_vcpu, ARG, 0), -XEN_EINVAL); /* IPI */
		bv.vcpu = 9;
		memcpy(gp(f, ARG), &bv, sizeof(bv));
		assert_int_equal(hc(f, 0, EVOP, EVTCHNOP_bind_vcpu, ARG, 0), -XEN_ENOENT);
	}
	fake_free(f);
}

/* A 32-bit guest: 32-bit words, pending_sel at 4, 1024 ports. */
static void test_32bit_layout(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t port = 0, i, w;
	struct evtchn_bind_ipi b = { .vcpu = 0 };

	map_shinfo(f, SHINFO_GPA);
	/* Latch the 32-bit layout through CALLBACK_IRQ from a 32-bit caller. */
	{
		struct xen_hvm_param p = { .domid = DOMID_SELF, .index = HVM_PARAM_CALLBACK_IRQ,
					   .value = (2ULL << 56) | 0xf3 };

		memcpy(gp(f, ARG), &p, sizeof(p));
		assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_hvm_op, HVMOP_set_param, ARG, 0, NULL), 0);
	}
	/* Allocate up to port 40 so the pending_sel bit is word 1. */
	for (i = 0; i < 38; i++) {
		memcpy(gp(f, ARG), &b, sizeof(b));
		assert_int_equal(hc_mode(f, 0, false, EVOP, EVTCHNOP_bind_ipi, ARG, 0, NULL), 0);
		memcpy(&b, gp(f, ARG), sizeof(b));
		port = b.port;
	}
	assert_int_equal(port, 40);
	memcpy(gp(f, ARG2), &port, 4);
	assert_int_equal(hc_mode(f, 0, false, EVOP, EVTCHNOP_send, ARG2, 0, NULL), 0);
	w = ld32(f, SHINFO_GPA + offsetof(struct shared_info_x86_32, evtchn_pending) + 4);
	assert_int_equal(w, 1u << (40 - 32));
	assert_int_equal(ld32(f, SHINFO_GPA + offsetof(struct vcpu_info_x86_32, evtchn_pending_sel)),
			 1u << 1);
	assert_int_equal(f->n_inject, 1);
	/* Ports beyond the 32-bit 2-level limit do not exist. */
	port = 1024;
	memcpy(gp(f, ARG2), &port, 4);
	assert_int_equal(hc_mode(f, 0, false, EVOP, EVTCHNOP_unmask, ARG2, 0, NULL), -XEN_EINVAL);
	fake_free(f);
}

/* Before shared_info is mapped, events pend in a shadow that the mapping carries over. */
static void test_events_before_shinfo_map(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t port = bind_ipi(f, 0);

	assert_int_equal(send(f, 0, port), 0);
	map_shinfo(f, SHINFO_GPA);
	assert_true(sh_bit64(f, PENDING, port));
	assert_int_equal(*(uint8_t *)gp(f, VI_UPCALL_PENDING(0)), 1);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipi_delivery_and_mask),
		cmocka_unit_test(test_upcall_vector_per_vcpu),
		cmocka_unit_test(test_no_callback_no_injection),
		cmocka_unit_test(test_bind_virq_rules),
		cmocka_unit_test(test_status_and_unbound),
		cmocka_unit_test(test_hostile_evtchn_args),
		cmocka_unit_test(test_32bit_layout),
		cmocka_unit_test(test_events_before_shinfo_map),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
