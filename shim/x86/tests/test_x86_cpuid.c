/*
 * The CPUID table a vCPU gets: host leaves minus the whole hypervisor range
 * (no "KVMKVMKVM"), APIC ids rewritten per vCPU, Xen's leaves added from the
 * callback, with subleaves where the callback distinguishes them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include <linux/kvm.h>

#include "shim/xtshim.h"

static const struct kvm_cpuid_entry2 host[] = {
	{ .function = 0, .eax = 0xd, .ebx = 0x756e6547 },
	{ .function = 1, .eax = 0x806f8, .ebx = 0x00020800, .ecx = 0x80000000 },
	{ .function = 0xb, .index = 0, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 1, .edx = 0 },
	{ .function = 0xb, .index = 1, .flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .eax = 4, .edx = 0 },
	/* KVM's own signature and features: must all go. */
	{ .function = 0x40000000, .eax = 0x40000001, .ebx = 0x4b4d564b, .ecx = 0x564b4d56, .edx = 0x4d },
	{ .function = 0x40000001, .eax = 0x01007afb },
	{ .function = 0x40000100, .eax = 0x40000101 },
	{ .function = 0x80000000, .eax = 0x80000008 },
};

/* A Xen with leaves base..base+4, base+3 having three distinct subleaves. */
static bool fake_xen(void *arg, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	unsigned *calls = arg;
	(*calls)++;
	if (leaf < 0x40000000 || leaf > 0x40000004)
		return false;
	if (leaf == 0x40000003) {
		if (sub > 2)
			return false;
		r[0] = 0x300 + sub, r[1] = sub, r[2] = 2000000 + sub, r[3] = 1;
		return true;
	}
	/* Other leaves ignore the subleaf, as Xen's do. */
	r[0] = leaf == 0x40000000 ? 0x40000004 : leaf, r[1] = 0x566e6558, r[2] = 0, r[3] = 0;
	return true;
}

static const struct kvm_cpuid_entry2 *find(const struct kvm_cpuid_entry2 *e, unsigned n,
					   uint32_t fn, uint32_t idx)
{
	for (unsigned i = 0; i < n; i++)
		if (e[i].function == fn && e[i].index == idx)
			return &e[i];
	return NULL;
}

static void test_merge(void **state)
{
	struct kvm_cpuid_entry2 out[64];
	unsigned n = 0, calls = 0;
	const unsigned nhost = sizeof(host) / sizeof(host[0]);

	assert_int_equal(xts_x86_cpuid_merge(host, nhost, 5, fake_xen, &calls, out, 64, &n), 0);

	/* Host leaves outside 0x4xxxxxxx are kept: 0, 1, 0xb.0, 0xb.1, 0x80000000. */
	/* Xen: base, base+1, base+2, base+3 x3, base+4 = 7 entries. */
	assert_int_equal(n, 5 + 7);
	for (unsigned i = 0; i < n; i++) {
		assert_false(out[i].ebx == 0x4b4d564b);             /* "KVMK" */
		assert_false(out[i].function == 0x40000100);
	}
	const struct kvm_cpuid_entry2 *l1 = find(out, n, 1, 0);
	assert_non_null(l1);
	assert_int_equal(l1->ebx >> 24, 5);                      /* initial APIC id */
	assert_int_equal(l1->ebx & 0xffffff, 0x020800);          /* the rest untouched */
	assert_int_equal(l1->ecx, 0x80000000);                   /* hypervisor bit kept */
	assert_int_equal(find(out, n, 0xb, 0)->edx, 5);
	assert_int_equal(find(out, n, 0xb, 1)->edx, 5);

	const struct kvm_cpuid_entry2 *b = find(out, n, 0x40000000, 0);
	assert_non_null(b);
	assert_int_equal(b->eax, 0x40000004);
	assert_int_equal(b->flags, 0);
	for (uint32_t sub = 0; sub < 3; sub++) {
		const struct kvm_cpuid_entry2 *t = find(out, n, 0x40000003, sub);
		assert_non_null(t);
		assert_int_equal(t->flags, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
		assert_int_equal(t->ecx, 2000000 + sub);
	}
	assert_null(find(out, n, 0x40000003, 3));
	assert_non_null(find(out, n, 0x40000004, 0));
	assert_null(find(out, n, 0x40000005, 0));
}

static bool no_xen(void *arg, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	return false;
}

/* A base leaf claiming a maximum outside base..base+0xff is capped to the base. */
static bool wild_xen(void *arg, uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	r[0] = 0xffffffff, r[1] = r[2] = r[3] = 0;
	return leaf == 0x40000000;
}

static void test_limits(void **state)
{
	struct kvm_cpuid_entry2 out[64];
	unsigned n = 99, calls = 0;
	const unsigned nhost = sizeof(host) / sizeof(host[0]);

	assert_int_equal(xts_x86_cpuid_merge(host, nhost, 0, no_xen, NULL, out, 64, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(xts_x86_cpuid_merge(host, nhost, 0, wild_xen, NULL, out, 64, &n), 0);
	assert_int_equal(n, 6);
	/* Too small a table: -E2BIG, and *nr_out untouched. */
	n = 99;
	assert_int_equal(xts_x86_cpuid_merge(host, nhost, 0, fake_xen, &calls, out, 8, &n), -E2BIG);
	assert_int_equal(n, 99);
	/* The initial APIC id is 8 bits. */
	assert_int_equal(xts_x86_cpuid_merge(host, nhost, 256, fake_xen, &calls, out, 64, &n),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
