/*
 * VCPUOP_send_nmi (11) and VCPUOP_get_physid (12) as Xen 4.17's x86
 * do_vcpu_op (arch/x86/domain.c) answers them for an HVM domU.
 */
#include "hypercalls/tests/fake.h"

static unsigned n_nmi, nmi_vcpu[8];

static void f_nmi(void *o, unsigned vcpu)
{
	if (n_nmi < 8)
		nmi_vcpu[n_nmi] = vcpu;
	n_nmi++;
}

static const struct xts_platform_ops nmi_ops = {
	.inject_upcall = f_inject, .kick = f_kick, .arm_timer = f_arm,
	.vcpu_initialise = f_init, .vcpu_up = f_up, .vcpu_down = f_down,
	.shutdown = f_shutdown, .console_write = f_console, .host_sample = f_sample,
	.inject_nmi = f_nmi,
};

/* fake_new with the NMI op: the domain is made again over the same config. */
static struct fake *fake_nmi(unsigned nr_vcpus)
{
	struct fake *f = fake_new(nr_vcpus);

	xts_domain_destroy(f->d);
	f->cfg.ops = &nmi_ops;
	assert_int_equal(xts_domain_create(&f->cfg, &f->d), 0);
	n_nmi = 0;
	return f;
}

static void test_send_nmi(void **state)
{
	struct fake *f = fake_nmi(3);

	/* A non-NULL argument is -EINVAL, and nothing is raised. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 1, ARG), -XEN_EINVAL);
	/* 32-bit callers: only the low half of the register is the handle. */
	assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 1,
				 1ull << 32, NULL), 0);
	assert_int_equal(n_nmi, 1);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 1, 1ull << 32),
			 -XEN_EINVAL);
	/* No such vCPU: -ENOENT before the argument is looked at (domain_vcpu() first). */
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 3, ARG), -XEN_ENOENT);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 3, 0), -XEN_ENOENT);
	assert_int_equal(n_nmi, 1);
	/* Itself, another vCPU, and vCPU 2 which was never brought up. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 0, 0), 0);
	assert_int_equal(hc(f, 1, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 2, 0), 0);
	assert_int_equal(n_nmi, 3);
	assert_int_equal(nmi_vcpu[0], 1);
	assert_int_equal(nmi_vcpu[1], 0);
	assert_int_equal(nmi_vcpu[2], 2);
	fake_free(f);
}

/* Xen's vcpu_kick() runs vcpu_unblock(): an NMI ends SCHEDOP_block. */
static void test_send_nmi_ends_block(void **state)
{
	struct fake *f = fake_nmi(2);
	enum xts_hcall_action act;
	unsigned kicks;

	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	assert_false(xts_domain_vcpu_runnable(f->d, 0));
	kicks = f->n_kick;
	assert_int_equal(hc(f, 1, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 0, 0), 0);
	assert_int_equal(n_nmi, 1);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	assert_int_equal(f->n_kick, kicks + 1);
	assert_int_equal(f->kick_vcpu[kicks], 0);
	fake_free(f);
}

/* A VMM that cannot raise NMIs: the sub-op does not exist, as before. */
static void test_send_nmi_without_op(void **state)
{
	struct fake *f = fake_new(2);

	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_send_nmi, 1, 0), -XEN_ENOSYS);
	fake_free(f);
}

/*
 * A domU is never the hardware domain, so is_hwdom_pinned_vcpu() fails and
 * Xen answers -EINVAL before writing the result.
 */
static void test_get_physid(void **state)
{
	struct fake *f = fake_nmi(2);

	memset(gp(f, ARG), 0x5a, 16);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_get_physid, 0, ARG), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_get_physid, 1, RAM_SIZE), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, VCPUOP_get_physid, 2, ARG), -XEN_ENOENT);
	assert_int_equal(ld64(f, ARG), 0x5a5a5a5a5a5a5a5aull);
	assert_int_equal(ld64(f, ARG + 8), 0x5a5a5a5a5a5a5a5aull);
	assert_int_equal(n_nmi, 0);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_send_nmi),
		cmocka_unit_test(test_send_nmi_ends_block),
		cmocka_unit_test(test_send_nmi_without_op),
		cmocka_unit_test(test_get_physid),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
