/*
 * xts_arm64_apply_counter() against a fake KVM that records every ioctl and
 * behaves like the kernel's two interfaces: the VM counter offset (taken
 * as is) and the one-reg counter write (offset = kernel's own counter read
 * - value).  Request numbers and the register id are rebuilt here from the
 * ioctl encoding and the architectural system-register encoding, not taken
 * from the library's headers.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

/* asm-generic _IOC (x86 and arm64 alike): dir << 30 | size << 16 | type << 8 | nr */
#define REF_IOC(dir, nr, size) (((unsigned long)(dir) << 30) | ((unsigned long)(size) << 16) | \
				(0xAEul << 8) | (nr))
#define REF_CHECK_EXTENSION      REF_IOC(0, 0x03, 0)
#define REF_SET_ONE_REG          REF_IOC(1, 0xac, 16)     /* struct kvm_one_reg */
#define REF_SET_COUNTER_OFFSET   REF_IOC(1, 0xb5, 16)     /* struct kvm_arm_counter_offset */
#define REF_CAP_COUNTER_OFFSET   227

/* KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM64_SYSREG | encoding */
static uint64_t ref_sysreg_id(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2)
{
	return 0x6000000000000000ULL | 0x0030000000000000ULL | (0x0013ULL << 16) |
	       (op0 << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2;
}

struct call {
	int fd;
	unsigned long req;
	uint64_t a, b;              /* CHECK_EXTENSION: cap; ONE_REG: id, value; OFFSET: off, rsvd */
};

struct fake {
	struct call calls[64];
	unsigned n;
	int cap;                    /* CHECK_EXTENSION(227) answer */
	unsigned busy;              /* -EBUSY answers to the offset ioctl before it works */
	int offset_rc;              /* then this answer, if not 0 */
	int fail_fd, fail_rc;       /* this fd's ioctl fails with fail_rc */
	uint64_t counter;           /* host physical counter */
	uint64_t step;              /* it advances this much per host_counter() read */
	uint64_t kernel_lag;        /* and this much more before the kernel's own read */
	uint64_t voffset;           /* KVM state: guest = host - voffset */
	bool vm_offset_set;
	unsigned waits[16];
	unsigned nwaits;
};

static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	struct fake *f = opaque;
	struct call *c = &f->calls[f->n < 64 ? f->n++ : 63];

	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->req = req;
	if (fd == f->fail_fd)
		return f->fail_rc;
	if (req == REF_CHECK_EXTENSION) {
		c->a = (uint64_t)(uintptr_t)arg;
		return c->a == REF_CAP_COUNTER_OFFSET ? f->cap : 0;
	}
	if (req == REF_SET_COUNTER_OFFSET) {
		const uint64_t *w = arg;

		c->a = w[0];
		c->b = w[1];
		if (f->busy) {
			f->busy--;
			return -EBUSY;
		}
		if (f->offset_rc)
			return f->offset_rc;
		if (c->b)
			return -EINVAL;
		f->voffset = c->a;
		f->vm_offset_set = true;
		return 0;
	}
	if (req == REF_SET_ONE_REG) {
		const uint64_t *w = arg;     /* {u64 id; u64 addr} */
		uint64_t value;

		memcpy(&value, (const void *)(uintptr_t)w[1], sizeof(value));
		c->a = w[0];
		c->b = value;
		if (c->a != ref_sysreg_id(3, 3, 14, 3, 2))
			return -ENOENT;
		f->counter += f->kernel_lag;
		if (!f->vm_offset_set)      /* ignored once the VM offset was used */
			f->voffset = f->counter - value;
		return 0;
	}
	return -ENOTTY;
}

static uint64_t fake_counter(void *opaque)
{
	struct fake *f = opaque;

	f->counter += f->step;
	return f->counter;
}

static void fake_wait(void *opaque, unsigned attempt)
{
	struct fake *f = opaque;

	if (f->nwaits < 16)
		f->waits[f->nwaits++] = attempt;
}

static const struct xts_arm64_kvm_ops fake_ops = {
	.ioctl = fake_ioctl,
	.host_counter = fake_counter,
	.busy_wait = fake_wait,
};

static const int vcpu_fds[4] = { 20, 21, 22, 23 };
#define VM_FD 10

/* An arm64 guest at 24 MHz whose counter read `start` when the host counter read `host`. */
static void make_clock(struct xts_clock *c, uint32_t nr, uint64_t host, uint64_t start)
{
	struct xts_clock_params p;
	struct xts_host_sample now = { .host_tsc = host, .realtime_ns = 1700000000ULL * 1000000000ULL };

	assert_int_equal(xts_arm64_clock_params(&p, nr, 24000000, start), 0);
	assert_int_equal(xts_clock_new(c, &p, &now), 0);
}

static struct xts_arm64_kvm kvm_for(struct fake *f, uint32_t nr)
{
	struct xts_arm64_kvm k = {
		.ops = &fake_ops, .opaque = f, .vm_fd = VM_FD,
		.nr_vcpus = nr, .vcpu_fds = vcpu_fds,
	};
	return k;
}

/* The library's fallback numbers are the kernel's, and CNT really is CVAL's encoding. */
static void test_uapi_numbers(void **state)
{
	struct fake f = { .cap = 1, .fail_fd = -100 };
	struct xts_arm64_kvm k = kvm_for(&f, 1);
	struct xts_clock c;

	make_clock(&c, 1, 1000, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), 0);
	assert_int_equal(f.calls[0].req, 0xAE03);
	assert_int_equal(f.calls[1].req, 0x4010AEB5);
	/* The id KVM calls TIMER_CNT is CNTV_CVAL_EL0's encoding, not CNTVCT_EL0's. */
	assert_int_equal(ref_sysreg_id(3, 3, 14, 3, 2), 0x603000000013DF1AULL);
	assert_int_not_equal(ref_sysreg_id(3, 3, 14, 0, 2), 0x603000000013DF1AULL);
}

/* Linux >= 6.4: one capability check, one VM ioctl, offset = host - start. */
static void test_vm_offset_path(void **state)
{
	const uint64_t host0 = 987654321012ULL, start = 5000;
	struct fake f = { .cap = 1, .fail_fd = -100 };
	struct xts_arm64_kvm k = kvm_for(&f, 4);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;
	uint64_t h;

	make_clock(&c, 4, host0, start);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), 0);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_VM_OFFSET);
	assert_string_equal(xts_arm64_counter_path_name(rep.path), "KVM_ARM_SET_COUNTER_OFFSET");
	assert_int_equal(rep.busy_retries, 0);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.calls[0].fd, VM_FD);
	assert_int_equal(f.calls[0].req, REF_CHECK_EXTENSION);
	assert_int_equal(f.calls[0].a, REF_CAP_COUNTER_OFFSET);
	assert_int_equal(f.calls[1].fd, VM_FD);
	assert_int_equal(f.calls[1].req, REF_SET_COUNTER_OFFSET);
	assert_int_equal(f.calls[1].a, host0 - start);
	assert_int_equal(f.calls[1].b, 0);
	assert_int_equal(rep.counter_offset, host0 - start);
	/* What the guest reads through KVM equals the model at any host instant. */
	for (h = host0; h < host0 + 1000000; h += 99991)
		assert_int_equal(h - f.voffset, xts_clock_guest_tsc(&c, 3, h));
}

/* Older kernels: the counter value goes to every vCPU, computed from a fresh host read. */
static void test_one_reg_path(void **state)
{
	const uint64_t host0 = 1ULL << 40, start = 123456789;
	struct fake f = { .cap = 0, .fail_fd = -100, .counter = (1ULL << 40) + 5000, .step = 7 };
	struct xts_arm64_kvm k = kvm_for(&f, 4);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;
	unsigned i;

	make_clock(&c, 4, host0, start);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), 0);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_ONE_REG);
	assert_int_equal(rep.vcpus_written, 4);
	assert_int_equal(f.n, 5);
	assert_int_equal(f.calls[0].req, REF_CHECK_EXTENSION);
	for (i = 0; i < 4; i++) {
		/* the i-th host read returned counter0 + 7 * (i + 1) */
		uint64_t read = (1ULL << 40) + 5000 + 7 * (i + 1);

		assert_int_equal(f.calls[1 + i].fd, vcpu_fds[i]);
		assert_int_equal(f.calls[1 + i].req, REF_SET_ONE_REG);
		assert_int_equal(f.calls[1 + i].a, 0x603000000013DF1AULL);
		assert_int_equal(f.calls[1 + i].b, start + (read - host0));
	}
	/* With no gap between our read and the kernel's, the result is exact. */
	assert_int_equal(f.voffset, host0 - start);
}

/* The one-reg path is off by exactly the ticks between our read and the kernel's. */
static void test_one_reg_error_is_the_lag(void **state)
{
	struct fake f = { .cap = 0, .fail_fd = -100, .counter = 1000000, .step = 3, .kernel_lag = 11 };
	struct xts_arm64_kvm k = kvm_for(&f, 2);
	struct xts_clock c;
	uint64_t h = 5555555;

	make_clock(&c, 2, 1000000, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), 0);
	assert_int_equal(xts_clock_guest_tsc(&c, 0, h) - (h - f.voffset), 11);
}

/* A CHECK_EXTENSION error (kernel without VM-fd checks) means the old path. */
static void test_cap_error_falls_back(void **state)
{
	struct fake f = { .cap = -EINVAL, .fail_fd = -100, .step = 1 };
	struct xts_arm64_kvm k = kvm_for(&f, 1);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;

	make_clock(&c, 1, 77, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), 0);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_ONE_REG);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.calls[1].req, REF_SET_ONE_REG);
}

/* -EBUSY (a vCPU inside KVM_RUN) is retried, waiting in between. */
static void test_busy_is_retried(void **state)
{
	struct fake f = { .cap = 1, .busy = 3, .fail_fd = -100 };
	struct xts_arm64_kvm k = kvm_for(&f, 1);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;
	unsigned i;

	make_clock(&c, 1, 1 << 20, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), 0);
	assert_int_equal(rep.busy_retries, 3);
	assert_int_equal(f.n, 5);
	for (i = 1; i < 5; i++)
		assert_int_equal(f.calls[i].req, REF_SET_COUNTER_OFFSET);
	assert_int_equal(f.nwaits, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(f.waits[i], i + 1);
	assert_true(f.vm_offset_set);
}

/* ... but not forever: after busy_retries retries the caller gets -EBUSY. */
static void test_busy_gives_up(void **state)
{
	struct fake f = { .cap = 1, .busy = 1000, .fail_fd = -100 };
	struct xts_arm64_kvm k = kvm_for(&f, 1);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;

	k.busy_retries = 5;
	make_clock(&c, 1, 1 << 20, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), -EBUSY);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_VM_OFFSET);
	assert_int_equal(rep.busy_retries, 5);
	assert_int_equal(f.n, 1 + 6);
	assert_false(f.vm_offset_set);
}

/* An error from the VM ioctl other than -EBUSY is returned at once, with no fallback. */
static void test_vm_ioctl_error(void **state)
{
	struct fake f = { .cap = 1, .fail_fd = -100, .offset_rc = -EPERM };
	struct xts_arm64_kvm k = kvm_for(&f, 1);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;

	make_clock(&c, 1, 1 << 20, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), -EPERM);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_VM_OFFSET);
	assert_int_equal(f.n, 2);
	assert_int_equal(f.nwaits, 0);
}

/* A one-reg failure names how far it got. */
static void test_one_reg_failure(void **state)
{
	struct fake f = { .cap = 0, .fail_fd = 22, .fail_rc = -EFAULT, .step = 1 };
	struct xts_arm64_kvm k = kvm_for(&f, 4);
	struct xts_arm64_apply_report rep;
	struct xts_clock c;

	make_clock(&c, 4, 1 << 20, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), -EFAULT);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_ONE_REG);
	assert_int_equal(rep.vcpus_written, 2);
	assert_int_equal(f.n, 1 + 3);
}

/* Models KVM cannot run are refused before any ioctl. */
static void test_refuses_bad_models(void **state)
{
	struct fake f = { .cap = 1, .fail_fd = -100, .step = 1 };
	struct xts_arm64_kvm k = kvm_for(&f, 2);
	struct xts_clock c;

	make_clock(&c, 2, 1 << 20, 0);
	c.vcpu_tsc_skew[1] = 5;          /* the counter is VM-wide */
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), -EINVAL);
	make_clock(&c, 2, 1 << 20, 0);
	c.arch = XTS_ARCH_X86;
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), -EINVAL);
	make_clock(&c, 2, 1 << 20, 0);
	c.tsc_ratio = XTS_TSC_RATIO_ONE + 1;
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), -EINVAL);
	make_clock(&c, 3, 1 << 20, 0);   /* vCPU count differs from the KVM side */
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), -EINVAL);
	assert_int_equal(f.n, 0);

	/* The one-reg path needs the vCPU fds: refused after the (harmless) check only. */
	f.cap = 0;
	k.vcpu_fds = NULL;
	make_clock(&c, 2, 1 << 20, 0);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, NULL), -EINVAL);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.calls[0].req, REF_CHECK_EXTENSION);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uapi_numbers),
		cmocka_unit_test(test_vm_offset_path),
		cmocka_unit_test(test_one_reg_path),
		cmocka_unit_test(test_one_reg_error_is_the_lag),
		cmocka_unit_test(test_cap_error_falls_back),
		cmocka_unit_test(test_busy_is_retried),
		cmocka_unit_test(test_busy_gives_up),
		cmocka_unit_test(test_vm_ioctl_error),
		cmocka_unit_test(test_one_reg_failure),
		cmocka_unit_test(test_refuses_bad_models),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
