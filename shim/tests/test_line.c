/*
 * Time lines: re-published records stay exactly on the guest's line;
 * continuation and re-anchoring are exact at the switch point and monotonic
 * across it; ticks -> ns -> ticks round trips.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

/* A random but realistic line: a real frequency's scale, or a raw mul with trailing zeros. */
static struct xts_line random_line(uint64_t *seed)
{
	struct xts_line l;

	if (ref_rand(seed) & 1) {
		ref_scale(ref_rand_range(seed, 1000000ULL, 20000000000ULL), &l.mul, &l.shift);
	} else {
		l.mul = ((uint32_t)ref_rand(seed) | 1) << ref_rand_range(seed, 0, 12);
		if (!l.mul)
			l.mul = 1;
		l.shift = (int8_t)ref_rand_range(seed, 0, 14) - 6;
	}
	l.tsc = ref_rand(seed) >> 2;
	l.system_ns = ref_rand(seed) >> 4;
	return l;
}

/*
 * Every anchor xts_line_advance() picks gives the guest formula the same
 * value as the original record at that anchor and at any later TSC.
 */
static void test_advance_is_exact(void **state)
{
	uint64_t seed = 0xfeedface;
	int i, j;

	for (i = 0; i < 20000; i++) {
		struct xts_line l = random_line(&seed), a;
		uint64_t period = xts_line_period(&l);
		uint64_t tsc = l.tsc + (ref_rand(&seed) >> ref_rand_range(&seed, 8, 30));

		assert_true(period != 0 && (period & (period - 1)) == 0);
		assert_int_equal(xts_line_advance(&l, tsc, &a), 0);
		assert_true(a.tsc <= tsc && tsc - a.tsc < period);
		assert_int_equal((a.tsc - l.tsc) % period, 0);
		for (j = 0; j < 16; j++) {
			uint64_t g = tsc + (j ? ref_rand(&seed) >> ref_rand_range(&seed, 20, 40) : 0);
			uint64_t want = ref_line(&l, g), got = ref_line(&a, g);

			if (want != got)
				print_error("mul=%#x shift=%d anchor=%llu new=%llu g=%llu: %llu != %llu\n",
					    l.mul, l.shift, (unsigned long long)l.tsc,
					    (unsigned long long)a.tsc, (unsigned long long)g,
					    (unsigned long long)got, (unsigned long long)want);
			assert_int_equal(got, want);
		}
		/* The anchor itself lands on the line. */
		assert_int_equal(a.system_ns, ref_line(&l, a.tsc));
	}
}

/*
 * The period is needed: for a line with an odd mul and shift 0, re-anchoring
 * one tick off the lattice does change some value (this is why the lattice
 * exists; if this ever stopped failing the period could shrink).
 */
static void test_off_lattice_anchor_breaks(void **state)
{
	struct xts_line l = { .tsc = 0, .system_ns = 0, .mul = 0x9abcdef1u, .shift = 0 }, b;
	uint64_t g, mismatches = 0;

	assert_int_equal(xts_line_period(&l), 1ULL << 32);
	b = l;
	b.tsc = 12345;
	b.system_ns = ref_line(&l, b.tsc);
	for (g = b.tsc; g < b.tsc + 100000; g++)
		mismatches += ref_line(&b, g) != ref_line(&l, g);
	assert_true(mismatches > 0);
}

static void test_advance_before_anchor(void **state)
{
	struct xts_line l = { .tsc = 1000, .system_ns = 5, .mul = 0x80000000u, .shift = 1 }, a = l;

	assert_int_equal(xts_line_advance(&l, 999, &a), -ERANGE);
	assert_int_equal(a.tsc, 1000);
	l.mul = 0;
	assert_int_equal(xts_line_advance(&l, 2000, &a), -EINVAL);
	l.mul = 1;
	l.shift = 32;
	assert_int_equal(xts_line_check(&l), -EINVAL);
}

/*
 * Inverse: the TSC returned for a deadline is the first one at which the
 * line reaches it (checked at t and t - 1 with the reference formula), and
 * ticks -> ns -> ticks returns a TSC with the same ns value.
 */
static void test_tsc_at_ns_is_first(void **state)
{
	uint64_t seed = 0xabcdef;
	int i;

	for (i = 0; i < 50000; i++) {
		struct xts_line l = random_line(&seed);
		uint64_t d = ref_rand(&seed) >> ref_rand_range(&seed, 16, 40);
		uint64_t ns = ref_line(&l, l.tsc + d), t;

		if (ref_rand(&seed) & 1)
			ns += ref_rand_range(&seed, 0, 3);
		assert_int_equal(xts_line_tsc_at_ns(&l, ns, &t), 0);
		assert_true(ref_line(&l, t) >= ns);
		if (t != l.tsc)
			assert_true(ref_line(&l, t - 1) < ns);
		/* round trip */
		assert_int_equal(xts_line_tsc_at_ns(&l, ref_line(&l, l.tsc + d), &t), 0);
		assert_true(t <= l.tsc + d);
		assert_int_equal(ref_line(&l, t), ref_line(&l, l.tsc + d));
	}
}

static void test_tsc_at_ns_past_and_far(void **state)
{
	struct xts_line l = { .tsc = 500, .system_ns = 1000000, .mul = 0x80000000u, .shift = 1 };
	uint64_t t = 0;

	assert_int_equal(xts_line_tsc_at_ns(&l, 10, &t), 0);
	assert_int_equal(t, 500);
	assert_int_equal(xts_line_tsc_at_ns(&l, 1000000, &t), 0);
	assert_int_equal(t, 500);
	/* 1 GHz line: +1 ns is exactly +1 tick. */
	assert_int_equal(xts_line_tsc_at_ns(&l, 1000001, &t), 0);
	assert_int_equal(t, 501);
	/* 2^63 - 1 ns at 1 GHz is still reachable, in 2^63 - 1 ticks. */
	assert_int_equal(xts_line_tsc_at_ns(&l, 1000000 + (1ULL << 63) - 1, &t), 0);
	assert_int_equal(t, 500 + (1ULL << 63) - 1);
	/* At 4 GHz (0.25 ns a tick) 2^62 ns needs 2^64 ticks: out of range, t untouched. */
	l.shift = -1;
	t = 77;
	assert_int_equal(xts_line_tsc_at_ns(&l, 1000000 + (1ULL << 62), &t), -ERANGE);
	assert_int_equal(t, 77);
}

static struct xts_clock base_clock(uint64_t *seed, uint32_t khz)
{
	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86, .nr_vcpus = 4, .host_tsc_khz = khz,
		.start_tsc = ref_rand(seed) >> 8,
	};
	struct xts_host_sample now = { .host_tsc = ref_rand(seed) >> 2,
				       .realtime_ns = 1700000000ULL * 1000000000ULL };
	struct xts_clock c;

	assert_int_equal(xts_clock_new(&c, &p, &now), 0);
	return c;
}

/*
 * (b) Continuation: after xts_clock_continue() with a record the guest saw,
 * every record the model produces later gives the same value as that record
 * at every TSC (checked with the reference formula on the seen record).
 */
static void test_continue_exact(void **state)
{
	uint64_t seed = 0x1234;
	int i, j;

	for (i = 0; i < 2000; i++) {
		struct xts_clock c = base_clock(&seed, 2500000);
		struct xts_line l = random_line(&seed);
		struct vcpu_time_info seen = {
			.version = 2 * (uint32_t)ref_rand_range(&seed, 0, 1000),
			.tsc_timestamp = l.tsc, .system_time = l.system_ns,
			.tsc_to_system_mul = l.mul, .tsc_shift = l.shift,
		};
		unsigned vcpu = (unsigned)ref_rand_range(&seed, 0, 3);
		uint64_t host0;

		c.vcpu_tsc_skew[vcpu] = (int64_t)(ref_rand(&seed) >> 40) - (1 << 23);
		assert_int_equal(xts_clock_continue(&c, vcpu, &seen), 0);
		/* host TSC at which this vCPU's guest TSC equals the seen timestamp */
		host0 = seen.tsc_timestamp - c.tsc_offset - (uint64_t)c.vcpu_tsc_skew[vcpu];
		for (j = 0; j < 8; j++) {
			uint64_t host = host0 + (ref_rand(&seed) >> ref_rand_range(&seed, 24, 40));
			uint64_t g = xts_clock_guest_tsc(&c, vcpu, host);
			struct vcpu_time_info rec;

			assert_int_equal(xts_clock_vcpu_record(&c, vcpu, host, &rec), 0);
			assert_true(rec.tsc_timestamp <= g);
			for (int k = 0; k < 4; k++) {
				uint64_t at = g + ref_rand_range(&seed, 0, 1ULL << 34);

				assert_int_equal(xts_pvclock_read(&rec, at),
						 ref_pvclock(seen.tsc_timestamp, seen.system_time,
							     seen.tsc_to_system_mul, seen.tsc_shift, at));
			}
		}
	}
}

static void test_continue_rejects(void **state)
{
	uint64_t seed = 99;
	struct xts_clock c = base_clock(&seed, 3000000), before = c;
	struct vcpu_time_info seen = { .version = 3, .tsc_to_system_mul = 0x80000000u, .tsc_shift = 1 };

	assert_int_equal(xts_clock_continue(&c, 0, &seen), -EINVAL);     /* torn (odd) */
	seen.version = 4;
	seen.tsc_to_system_mul = 0;
	assert_int_equal(xts_clock_continue(&c, 0, &seen), -EINVAL);     /* mul 0 */
	seen.tsc_to_system_mul = 1;
	seen.tsc_shift = -40;
	assert_int_equal(xts_clock_continue(&c, 0, &seen), -EINVAL);     /* shift */
	seen.tsc_shift = 0;
	assert_int_equal(xts_clock_continue(&c, 4, &seen), -EINVAL);     /* no such vCPU */
	assert_memory_equal(&c, &before, sizeof(c));
}

/*
 * (c) Re-anchoring to a new frequency: the value at the switch TSC is
 * unchanged to the nanosecond, and reading the old line before the switch
 * and the new one after it never goes backwards.
 */
static void test_set_frequency_no_step(void **state)
{
	uint64_t seed = 0x777;
	int i;

	for (i = 0; i < 5000; i++) {
		struct xts_clock c = base_clock(&seed, (uint32_t)ref_rand_range(&seed, 1000000, 5000000));
		struct xts_line old = c.line;
		uint64_t sw = old.tsc + (ref_rand(&seed) >> ref_rand_range(&seed, 10, 30));
		uint64_t hz = ref_rand_range(&seed, 1000000ULL, 20000000000ULL);
		uint64_t prev = 0, g;

		assert_int_equal(xts_clock_set_frequency(&c, sw, hz), 0);
		assert_int_equal(ref_line(&c.line, sw), ref_line(&old, sw));
		for (g = sw - 2000; g != sw + 2000; g++) {
			uint64_t v = g < sw ? ref_line(&old, g) : ref_line(&c.line, g);

			assert_true(v >= prev);
			prev = v;
		}
	}
}

static void test_set_frequency_rejects(void **state)
{
	uint64_t seed = 5;
	struct xts_clock c = base_clock(&seed, 3000000), before = c;

	assert_int_equal(xts_clock_set_frequency(&c, c.line.tsc - 1, 1000000000ULL), -ERANGE);
	assert_int_equal(xts_clock_set_frequency(&c, c.line.tsc + 1, 0), -EINVAL);
	assert_memory_equal(&c, &before, sizeof(c));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_advance_is_exact),
		cmocka_unit_test(test_off_lattice_anchor_breaks),
		cmocka_unit_test(test_advance_before_anchor),
		cmocka_unit_test(test_tsc_at_ns_is_first),
		cmocka_unit_test(test_tsc_at_ns_past_and_far),
		cmocka_unit_test(test_continue_exact),
		cmocka_unit_test(test_continue_rejects),
		cmocka_unit_test(test_set_frequency_no_step),
		cmocka_unit_test(test_set_frequency_rejects),
	};
	return cmocka_run_group_tests_name("line", tests, NULL, NULL);
}
