/* xts_scale_from_hz / xts_scale_delta against Xen's worked values and an independent derivation. */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

static void check_hz(uint64_t hz, uint32_t want_mul, int8_t want_shift)
{
	uint32_t mul = 0;
	int8_t shift = 0;

	assert_int_equal(xts_scale_from_hz(hz, &mul, &shift), 0);
	if (mul != want_mul || shift != want_shift)
		print_error("hz=%llu: got mul=%#x shift=%d, want mul=%#x shift=%d\n",
			    (unsigned long long)hz, mul, shift, want_mul, want_shift);
	assert_int_equal(mul, want_mul);
	assert_int_equal(shift, want_shift);
}

/* The worked examples in the facts (from Xen's and KVM's own arithmetic). */
static void test_worked_values(void **state)
{
	check_hz(1000000000ULL, 0x80000000u, 1);
	check_hz(3000000000ULL, 0xaaaaaaaau, -1);
	check_hz(2294686000ULL, 0xdf1fcc33u, -1);
}

/*
 * 10^5 random frequencies between 1 MHz and 20 GHz: identical to the
 * reference derivation, and the scale converts one second of ticks to
 * 1e9 ns within the truncation it is allowed (mul is floored and the
 * frequency loses at most |shift| low bits: relative error < 2^-29).
 */
static void test_random_frequencies(void **state)
{
	uint64_t seed = 0x5ca1ab1e12345678ULL;
	int i;

	for (i = 0; i < 100000; i++) {
		uint64_t hz = ref_rand_range(&seed, 1000000ULL, 20000000000ULL);
		uint32_t mul, rmul;
		int8_t shift, rshift;
		uint64_t ns;

		ref_scale(hz, &rmul, &rshift);
		check_hz(hz, rmul, rshift);
		assert_int_equal(xts_scale_from_hz(hz, &mul, &shift), 0);
		/* mul is a fraction in [0.5, 1) of 2^32. */
		assert_true(mul >= 0x80000000u);
		ns = ref_pvclock(0, 0, mul, shift, hz);
		if (ns > 1000000000ULL || ns < 1000000000ULL - 1000000000ULL / (1u << 29) - 2)
			print_error("hz=%llu: one second scales to %llu ns\n",
				    (unsigned long long)hz, (unsigned long long)ns);
		assert_in_range(ns, 1000000000ULL - 1000000000ULL / (1u << 29) - 2, 1000000000ULL);
	}
}

/* Boundaries of the normalisation loops: exactly 1e9 and 2e9 and their neighbours. */
static void test_loop_boundaries(void **state)
{
	static const uint64_t hz[] = {
		999999999ULL, 1000000000ULL, 1000000001ULL, 1999999999ULL,
		2000000000ULL, 2000000001ULL, 4000000000ULL, 4000000002ULL,
		500000000ULL, 500000001ULL, 1000ULL, 1ULL << 40,
	};
	unsigned i;

	for (i = 0; i < sizeof(hz) / sizeof(hz[0]); i++) {
		uint32_t rmul;
		int8_t rshift;

		ref_scale(hz[i], &rmul, &rshift);
		check_hz(hz[i], rmul, rshift);
	}
}

static void test_bad_frequencies(void **state)
{
	uint32_t mul = 0x1234;
	int8_t shift = 7;

	assert_int_equal(xts_scale_from_hz(0, &mul, &shift), -EINVAL);
	assert_int_equal(xts_scale_from_hz(999, &mul, &shift), -ERANGE);
	assert_int_equal(xts_scale_from_hz((1ULL << 40) + 1, &mul, &shift), -ERANGE);
	assert_int_equal(xts_scale_from_hz(UINT64_MAX, &mul, &shift), -ERANGE);
	/* Outputs untouched on failure. */
	assert_int_equal(mul, 0x1234);
	assert_int_equal(shift, 7);
}

/* The library's delta scaling is the guest formula for both shift signs. */
static void test_scale_delta_matches_formula(void **state)
{
	uint64_t seed = 42;
	int i;

	for (i = 0; i < 100000; i++) {
		uint64_t d = ref_rand(&seed) >> ref_rand_range(&seed, 0, 40);
		uint32_t mul = (uint32_t)ref_rand(&seed) | 1;
		int8_t shift = (int8_t)ref_rand_range(&seed, 0, 20) - 10;

		assert_int_equal(xts_scale_delta(d, mul, shift), ref_pvclock(0, 0, mul, shift, d));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_worked_values),
		cmocka_unit_test(test_random_frequencies),
		cmocka_unit_test(test_loop_boundaries),
		cmocka_unit_test(test_bad_frequencies),
		cmocka_unit_test(test_scale_delta_matches_formula),
	};
	return cmocka_run_group_tests_name("scale", tests, NULL, NULL);
}
