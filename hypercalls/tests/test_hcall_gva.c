/*
 * Guest-virtual arguments in long mode must be canonical: a translation
 * that looks only at the low address bits (KVM_TRANSLATE does) must not
 * turn 0x8000000000010000 into a valid RAM address.  The fake translation
 * here maps gva - offset, so without the canonical check the call below
 * would read guest RAM and succeed.
 */
#include "hypercalls/tests/fake.h"

static int64_t get_time_at(struct fake *f, bool long_mode, uint64_t gva)
{
	return hc_mode(f, 0, long_mode, __HYPERVISOR_hvm_op, HVMOP_get_time, gva, 0, NULL);
}

static void test_non_canonical_refused(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40011, true);

	/* Not canonical for 4- or 5-level paging: bit 63 set, bits 62..56 clear. */
	f->gva_offset = 0x8000000000000000ULL;
	assert_int_equal(get_time_at(f, true, 0x8000000000000000ULL + ARG), -XEN_EFAULT);
	/* Bit 56 set, bits 63..57 clear: not canonical either. */
	f->gva_offset = 0x0100000000000000ULL;
	assert_int_equal(get_time_at(f, true, 0x0100000000000000ULL + ARG), -XEN_EFAULT);
	/* A range running from canonical into non-canonical addresses. */
	f->gva_offset = 0x00fffffffffff000ULL;
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, CONSOLEIO_write, 32,
			    0x00fffffffffffff0ULL), -XEN_EFAULT);
	fake_free(f);
}

static void test_canonical_accepted(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40011, true);
	struct xen_hvm_get_time t;

	/* The kernel half (sign-extended) is fine. */
	f->gva_offset = 0xffff800000000000ULL;
	f->host_tsc = T0 + 4242;
	assert_int_equal(get_time_at(f, true, 0xffff800000000000ULL + ARG), 0);
	memcpy(&t, gp(f, ARG), sizeof(t));
	assert_int_equal(t.now, 4242);       /* 1 GHz fake host: 1 tick = 1 ns */
	/* 32-bit callers are cut to 32 bits before any of this. */
	f->gva_offset = 0;
	assert_int_equal(get_time_at(f, false, 0x8000000000000000ULL + ARG), 0);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_non_canonical_refused),
		cmocka_unit_test(test_canonical_accepted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
