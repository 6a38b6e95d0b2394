/*
 * What only an arm64 process can check: the generic timer as this host
 * shows it, the kernel's own arm64 uAPI header, and, on an arm64 KVM host,
 * the counter KVM reports back after xts_arm64_apply_counter().  Under
 * qemu-user (the cross build's `make check`) the KVM part skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>
#include <cmocka.h>
#include "shim/xtshim.h"

#define SYSREG(op0, op1, crn, crm, op2) \
	(0x6030000000130000ULL | ((op0) << 14) | ((op1) << 11) | ((crn) << 7) | ((crm) << 3) | (op2))

static void test_cntfrq(void **state)
{
	uint64_t hz = xts_arm64_host_cntfrq_hz();
	struct xts_clock_params p;

	print_message("CNTFRQ_EL0 = %llu Hz\n", (unsigned long long)hz);
	assert_int_not_equal(hz, 0);
	/* A VMM on this host can describe its counter to the model. */
	assert_int_equal(xts_arm64_clock_params(&p, 1, hz, 0), 0);
	assert_int_equal((uint64_t)p.host_tsc_khz * 1000, hz);
}

static void test_counter_monotonic(void **state)
{
	uint64_t prev = xts_host_tsc();
	int i;

	for (i = 0; i < 100000; i++) {
		uint64_t now = xts_host_tsc();

		if (now < prev)
			print_error("counter went back from %llu to %llu\n",
				    (unsigned long long)prev, (unsigned long long)now);
		assert_true(now >= prev);
		prev = now;
	}
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* The sample's two values lie inside brackets taken around the call. */
static void test_sample_bracketed(void **state)
{
	struct xts_host_sample s;
	uint64_t c0 = xts_host_tsc(), r0 = realtime_ns(), c1, r1;

	xts_host_sample_now(&s);
	r1 = realtime_ns();
	c1 = xts_host_tsc();
	assert_in_range(s.host_tsc, c0, c1);
	assert_in_range(s.realtime_ns, r0, r1);
}

/* The kernel header itself carries the CNT/CVAL swap the library relies on. */
static void test_uapi_header(void **state)
{
	assert_int_equal(KVM_REG_ARM_TIMER_CNT, SYSREG(3, 3, 14, 3, 2));   /* CNTV_CVAL_EL0's encoding */
	assert_int_equal(KVM_REG_ARM_TIMER_CVAL, SYSREG(3, 3, 14, 0, 2));  /* CNTVCT_EL0's encoding */
	assert_int_equal(KVM_REG_ARM_TIMER_CNT, 0x603000000013DF1AULL);
#ifdef KVM_CAP_COUNTER_OFFSET
	assert_int_equal(KVM_CAP_COUNTER_OFFSET, 227);
#endif
}

/*
 * On an arm64 KVM host: apply a model to a real VM and read the counter
 * back through KVM_GET_ONE_REG.  It must lie between the model's values at
 * host counter reads bracketing the read-back, widened on the one-reg path
 * by at most the duration of the apply (KVM's read trails ours).
 */
static void test_real_kvm(void **state)
{
	struct kvm_vcpu_init init;
	struct xts_arm64_kvm k;
	struct xts_arm64_apply_report rep;
	struct xts_clock_params p;
	struct xts_host_sample now;
	struct xts_clock c;
	struct kvm_one_reg reg;
	uint64_t cnt, b0, b1, a0, a1, slack;
	int kvm, vm = -1, vcpu = -1;

	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0) {
		print_message("SKIP: no /dev/kvm: the KVM counter check needs an arm64 KVM host\n");
		skip();
	}
	vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (vm < 0 || ioctl(vm, KVM_ARM_PREFERRED_TARGET, &init) < 0) {
		print_message("SKIP: /dev/kvm is not an arm64 KVM (qemu-user on another host?)\n");
		if (vm >= 0)
			close(vm);
		close(kvm);
		skip();
	}
	vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	assert_true(vcpu >= 0);
	assert_int_equal(ioctl(vcpu, KVM_ARM_VCPU_INIT, &init), 0);

	xts_host_sample_now(&now);
	assert_int_equal(xts_arm64_clock_params(&p, 1, xts_arm64_host_cntfrq_hz(), 1000), 0);
	assert_int_equal(xts_clock_new(&c, &p, &now), 0);
	k = (struct xts_arm64_kvm){ .ops = &xts_arm64_kvm_host_ops, .vm_fd = vm, .nr_vcpus = 1,
				    .vcpu_fds = &vcpu };
	a0 = xts_host_tsc();
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), 0);
	a1 = xts_host_tsc();
	print_message("path: %s\n", xts_arm64_counter_path_name(rep.path));

	reg.id = KVM_REG_ARM_TIMER_CNT;
	reg.addr = (uint64_t)(uintptr_t)&cnt;
	b0 = xts_host_tsc();
	assert_int_equal(ioctl(vcpu, KVM_GET_ONE_REG, &reg), 0);
	b1 = xts_host_tsc();
	slack = rep.path == XTS_ARM64_COUNTER_ONE_REG ? a1 - a0 : 0;
	assert_in_range(cnt, xts_clock_guest_tsc(&c, 0, b0) - slack, xts_clock_guest_tsc(&c, 0, b1));
	close(vcpu);
	close(vm);
	close(kvm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cntfrq),
		cmocka_unit_test(test_counter_monotonic),
		cmocka_unit_test(test_sample_bracketed),
		cmocka_unit_test(test_uapi_header),
		cmocka_unit_test(test_real_kvm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
