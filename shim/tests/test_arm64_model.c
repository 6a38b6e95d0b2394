/*
 * The arm64 counter through the generic save/restore calls: what the guest
 * counter reads after freeze / track / threshold, checked against counter
 * arithmetic written out here (ticks = ns * Hz / 1e9), the KVM offset
 * convention, and refusal of a CNTFRQ change.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

#define NS 1000000000ULL
#define HZ_24M 24000000ULL

/* Ticks of a counter at hz in ns nanoseconds, rounded down. */
static uint64_t ref_ticks(uint64_t ns, uint64_t hz)
{
	return (uint64_t)((u128)ns * hz / NS);
}

/* An arm64 guest with nr vCPUs at hz, booted (counter 0) at host counter h0 and UTC t0. */
static void boot(struct xts_clock *c, uint32_t nr, uint64_t hz, uint64_t h0, uint64_t t0)
{
	struct xts_clock_params p;
	struct xts_host_sample now = { .host_tsc = h0, .realtime_ns = t0 };

	assert_int_equal(xts_arm64_clock_params(&p, nr, hz, 0), 0);
	assert_int_equal(xts_clock_new(c, &p, &now), 0);
}

/* What KVM would make the guest read at host counter h after taking the model's offset. */
static uint64_t kvm_guest_counter(const struct xts_clock *c, uint64_t h)
{
	uint64_t off;

	assert_int_equal(xts_arm64_kvm_offset(c, &off), 0);
	return h - off;
}

struct move {
	uint64_t src_h0, src_h1;     /* source host counter at boot and at save */
	uint64_t dst_h;              /* destination host counter at restore */
	uint64_t t0, gap_ns;         /* UTC at boot; real time between save and restore */
	uint64_t run_ns;             /* guest ran this long before the save */
};

static int do_move(const struct move *m, enum xts_policy pol, uint64_t threshold_ns,
		   struct xts_clock *dst, struct xts_time_state *st, struct xts_restore_result *res)
{
	struct xts_clock src;
	struct xts_restore_params rp;
	struct xts_host_sample save_at = { .host_tsc = m->src_h1, .realtime_ns = m->t0 + m->run_ns };
	struct xts_host_sample rest_at = { .host_tsc = m->dst_h, .realtime_ns = m->t0 + m->run_ns + m->gap_ns };

	boot(&src, 4, HZ_24M, m->src_h0, m->t0);
	assert_int_equal(xts_clock_save(&src, &save_at, st), 0);
	assert_int_equal(xts_arm64_check_state(st, HZ_24M, 0, NULL, 0), 0);
	assert_int_equal(xts_arm64_restore_params(&rp, pol, threshold_ns, 0, HZ_24M), 0);
	return xts_clock_restore(dst, st, &rp, &rest_at, res);
}

static const struct move base_move = {
	.src_h0 = 4000000000000ULL,
	.src_h1 = 4000000000000ULL + 24000000ULL * 3600,   /* one hour later */
	.dst_h = 777777777ULL,                              /* a younger host */
	.t0 = 1700000000ULL * NS,
	.gap_ns = 90 * NS + 123456789,
	.run_ns = 3600 * NS,
};

/* Freeze: the counter resumes at exactly the value it had when saved, on every vCPU. */
static void test_freeze(void **state)
{
	struct xts_clock c;
	struct xts_time_state st;
	struct xts_restore_result res;
	const struct move *m = &base_move;
	uint64_t at_save = m->src_h1 - m->src_h0;   /* booted at counter 0 */
	unsigned i;

	assert_int_equal(do_move(m, XTS_POLICY_FREEZE, 0, &c, &st, &res), 0);
	assert_int_equal(res.applied, XTS_POLICY_FREEZE);
	assert_false(res.rate_changed);
	for (i = 0; i < 4; i++)
		assert_int_equal(st.guest_tsc[i], at_save);
	assert_int_equal(kvm_guest_counter(&c, m->dst_h), at_save);
	assert_int_equal(kvm_guest_counter(&c, m->dst_h + 2400), at_save + 2400);
	for (i = 0; i < 4; i++)
		assert_int_equal(xts_clock_guest_tsc(&c, i, m->dst_h + 5), at_save + 5);
	/* KVM's offset: destination counter minus the frozen value, mod 2^64. */
	{
		uint64_t off;

		assert_int_equal(xts_arm64_kvm_offset(&c, &off), 0);
		assert_int_equal(off, m->dst_h - at_save);
	}
	/*
	 * System time stood still, so the wallclock absorbed the whole gap: the
	 * guest's UTC (wc + system time) moved by exactly the real gap.
	 */
	{
		u128 utc_saved = (u128)st.wc_sec * NS + st.wc_nsec + ref_line(&st.line, at_save);
		u128 utc_resumed = (u128)c.wc_sec * NS + c.wc_nsec + xts_clock_system_ns(&c, m->dst_h);

		assert_int_equal(xts_clock_system_ns(&c, m->dst_h), ref_line(&st.line, at_save));
		assert_true(utc_resumed - utc_saved == m->gap_ns);
	}
}

/* Track: the counter advances by the real gap at the guest's rate. */
static void test_track(void **state)
{
	struct xts_clock c;
	struct xts_time_state st;
	struct xts_restore_result res;
	const struct move *m = &base_move;
	uint64_t want = (m->src_h1 - m->src_h0) + ref_ticks(m->gap_ns, HZ_24M);

	assert_int_equal(do_move(m, XTS_POLICY_TRACK, 0, &c, &st, &res), 0);
	assert_int_equal(res.applied, XTS_POLICY_TRACK);
	assert_int_equal(res.elapsed_ns, m->gap_ns);
	assert_int_equal(kvm_guest_counter(&c, m->dst_h), want);
	/* 90.123456789 s at 24 MHz is 2162962962.9 ticks. */
	assert_int_equal(ref_ticks(m->gap_ns, HZ_24M), 2162962962ULL);
}

/* Threshold: track at or below it, freeze above it (with GUEST_STOPPED requested). */
static void test_threshold(void **state)
{
	struct xts_clock c;
	struct xts_time_state st;
	struct xts_restore_result res;
	struct move m = base_move;
	uint64_t at_save = m.src_h1 - m.src_h0;

	assert_int_equal(do_move(&m, XTS_POLICY_THRESHOLD, m.gap_ns, &c, &st, &res), 0);
	assert_int_equal(res.applied, XTS_POLICY_TRACK);
	assert_int_equal(kvm_guest_counter(&c, m.dst_h), at_save + ref_ticks(m.gap_ns, HZ_24M));

	assert_int_equal(do_move(&m, XTS_POLICY_THRESHOLD, m.gap_ns - 1, &c, &st, &res), 0);
	assert_int_equal(res.applied, XTS_POLICY_FREEZE);
	assert_int_equal(kvm_guest_counter(&c, m.dst_h), at_save);
	assert_int_not_equal(c.stopped_pending[0] & 0xf, 0);
}

/* A destination clock behind the source counts as no gap: track then equals freeze. */
static void test_negative_gap(void **state)
{
	struct xts_clock c;
	struct xts_time_state st;
	struct xts_restore_result res;
	struct xts_restore_params rp;
	struct move m = base_move;
	struct xts_host_sample back = { .host_tsc = m.dst_h, .realtime_ns = m.t0 + m.run_ns - 5 * NS };

	assert_int_equal(do_move(&m, XTS_POLICY_FREEZE, 0, &c, &st, &res), 0);
	assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_TRACK, 0, 0, HZ_24M), 0);
	assert_int_equal(xts_clock_restore(&c, &st, &rp, &back, &res), 0);
	assert_int_equal(res.elapsed_ns, 0);
	assert_int_equal(kvm_guest_counter(&c, m.dst_h), m.src_h1 - m.src_h0);
}

/* The counter offset wraps mod 2^64 when the destination counter is behind the guest's. */
static void test_offset_wraps(void **state)
{
	struct xts_clock c;
	struct xts_time_state st;
	struct xts_restore_result res;
	struct move m = base_move;
	uint64_t off;

	m.dst_h = 1000;       /* just booted: far below the guest's counter */
	assert_int_equal(do_move(&m, XTS_POLICY_FREEZE, 0, &c, &st, &res), 0);
	assert_int_equal(xts_arm64_kvm_offset(&c, &off), 0);
	assert_true(off > (1ULL << 63));                  /* a "negative" offset */
	assert_int_equal(kvm_guest_counter(&c, 1000), m.src_h1 - m.src_h0);
}

/* guest = host + tsc_offset in the model is guest = host - counter_offset in KVM. */
static void test_offset_convention(void **state)
{
	uint64_t seed = 0xa4a64a64a64a6401ULL;
	struct xts_clock c;
	int i;

	boot(&c, 2, HZ_24M, 0, NS);
	for (i = 0; i < 10000; i++) {
		uint64_t h = ref_rand(&seed), off;

		c.tsc_offset = ref_rand(&seed);
		assert_int_equal(xts_arm64_kvm_offset(&c, &off), 0);
		assert_int_equal(h - off, xts_clock_guest_tsc(&c, 1, h));
		assert_int_equal(off + c.tsc_offset, 0);
	}
}

/* Hosts whose CNTFRQ differ: refused with a message, even by 1 kHz (42 ppm). */
static void test_rate_mismatch_refused(void **state)
{
	const uint64_t other[] = { 25000000, 24001000, 19200000, 1000000000 };
	struct xts_clock src, dst, before;
	struct xts_time_state st;
	struct xts_restore_params rp;
	struct xts_restore_result res;
	struct xts_host_sample save_at = { .host_tsc = 1 << 30, .realtime_ns = 1700000000ULL * NS };
	struct xts_host_sample rest_at = { .host_tsc = 1 << 20, .realtime_ns = 1700000001ULL * NS };
	char msg[512];
	unsigned i;

	boot(&src, 2, HZ_24M, 0, 1699999000ULL * NS);
	assert_int_equal(xts_clock_save(&src, &save_at, &st), 0);
	boot(&dst, 2, HZ_24M, 5, 6);
	before = dst;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(xts_arm64_check_state(&st, other[i], 0, msg, sizeof(msg)), -ERANGE);
		assert_non_null(strstr(msg, "24000000 Hz"));
		assert_non_null(strstr(msg, "CNTFRQ"));
		assert_non_null(strstr(msg, "XTS_RESTORE_ACCEPT_RATE_CHANGE"));
		assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_FREEZE, 0, 0, other[i]), 0);
		assert_int_equal(xts_clock_restore(&dst, &st, &rp, &rest_at, &res), -ERANGE);
		assert_memory_equal(&dst, &before, sizeof(dst));
	}
	/* The operator accepts it: the counter keeps its value and runs at the new rate. */
	assert_int_equal(xts_arm64_check_state(&st, 25000000, XTS_RESTORE_ACCEPT_RATE_CHANGE,
					       msg, sizeof(msg)), 0);
	assert_non_null(strstr(msg, "25000000 Hz"));
	assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_FREEZE, 0,
						  XTS_RESTORE_ACCEPT_RATE_CHANGE, 25000000), 0);
	assert_int_equal(xts_clock_restore(&dst, &st, &rp, &rest_at, &res), 0);
	assert_true(res.rate_changed);
	assert_int_equal(dst.guest_tsc_khz, 25000);
	assert_int_equal(kvm_guest_counter(&dst, rest_at.host_tsc), st.guest_tsc[0]);
	/* System time goes on at the new rate from the resume point: 25e6 ticks = 1 s. */
	assert_int_equal(xts_clock_system_ns(&dst, rest_at.host_tsc + 25000000) -
			 xts_clock_system_ns(&dst, rest_at.host_tsc), NS);
}

/* Pre-flight refusals name the field. */
static void test_check_state_fields(void **state)
{
	struct xts_clock src;
	struct xts_time_state st;
	struct xts_host_sample at = { .host_tsc = 1 << 30, .realtime_ns = 1700000000ULL * NS };
	char msg[256];

	boot(&src, 3, HZ_24M, 0, 1699999000ULL * NS);
	assert_int_equal(xts_clock_save(&src, &at, &st), 0);
	st.guest_tsc[2]++;
	assert_int_equal(xts_arm64_check_state(&st, HZ_24M, 0, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "guest_tsc[2]"));
	st.guest_tsc[2]--;
	st.arch = XTS_ARCH_X86;
	assert_int_equal(xts_arm64_check_state(&st, HZ_24M, 0, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "arch"));
	st.arch = XTS_ARCH_ARM64;
	assert_int_equal(xts_arm64_check_state(&st, 24000500, 0, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "24000500"));
	/* A short buffer is still terminated. */
	assert_int_equal(xts_arm64_check_state(&st, 25000000, 0, msg, 8), -ERANGE);
	assert_int_equal(strlen(msg), 7);
}

/* Parameters: CNTFRQ must be a whole kHz count that fits the model. */
static void test_params(void **state)
{
	struct xts_clock_params p;
	struct xts_restore_params rp;

	assert_int_equal(xts_arm64_clock_params(&p, 1, 0, 0), -EINVAL);
	assert_int_equal(xts_arm64_clock_params(&p, 1, 24000500, 0), -EINVAL);
	assert_int_equal(xts_arm64_clock_params(&p, 1, 4294967296000ULL, 0), -EINVAL);
	assert_int_equal(xts_arm64_clock_params(&p, 0, HZ_24M, 0), -EINVAL);
	assert_int_equal(xts_arm64_clock_params(&p, XTS_MAX_VCPUS + 1, HZ_24M, 0), -EINVAL);
	assert_int_equal(xts_arm64_clock_params(&p, 2, 19200000, 42), 0);
	assert_int_equal(p.arch, XTS_ARCH_ARM64);
	assert_int_equal(p.host_tsc_khz, 19200);
	assert_int_equal(p.guest_tsc_khz, 19200);
	assert_int_equal(p.tsc_ratio, XTS_TSC_RATIO_ONE);
	assert_int_equal(p.start_tsc, 42);
	assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_THRESHOLD + 1, 0, 0, HZ_24M), -EINVAL);
	assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_FREEZE, 0, 2, HZ_24M), -EINVAL);
	assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_TRACK, 7, 0, 62500000), 0);
	assert_false(rp.host_can_scale);
	assert_int_equal(rp.host_tsc_khz, 62500);
	assert_int_equal(rp.threshold_ns, 7);
}

/* Random moves: freeze and track against the counter arithmetic, at several rates. */
static void test_random_moves(void **state)
{
	const uint64_t rates[] = { 19200000, 24000000, 25000000, 50000000, 62500000, 1000000000 };
	uint64_t seed = 0x0123456789abcdefULL;
	int i;

	for (i = 0; i < 3000; i++) {
		uint64_t hz = rates[ref_rand(&seed) % 6];
		uint64_t h0 = ref_rand(&seed) >> 8, run = ref_rand_range(&seed, 0, 30ULL * 86400 * NS);
		uint64_t h1 = h0 + ref_ticks(run, hz), hd = ref_rand(&seed);
		uint64_t gap = ref_rand_range(&seed, 0, 7ULL * 86400 * NS), t0 = 1500000000ULL * NS;
		enum xts_policy pol = ref_rand(&seed) & 1 ? XTS_POLICY_TRACK : XTS_POLICY_FREEZE;
		struct xts_host_sample s1 = { h1, t0 + run }, s2 = { hd, t0 + run + gap };
		struct xts_clock src, dst;
		struct xts_time_state st;
		struct xts_restore_params rp;
		struct xts_restore_result res;
		uint64_t want = ref_ticks(run, hz);

		boot(&src, 2, hz, h0, t0);
		assert_int_equal(xts_clock_save(&src, &s1, &st), 0);
		assert_int_equal(xts_arm64_restore_params(&rp, pol, 0, 0, hz), 0);
		assert_int_equal(xts_clock_restore(&dst, &st, &rp, &s2, &res), 0);
		if (pol == XTS_POLICY_TRACK)
			want += ref_ticks(gap, hz);
		if (kvm_guest_counter(&dst, hd) != want)
			print_error("seed iteration %d: hz=%llu h0=%llu run=%llu gap=%llu pol=%d\n", i,
				    (unsigned long long)hz, (unsigned long long)h0,
				    (unsigned long long)run, (unsigned long long)gap, pol);
		assert_int_equal(kvm_guest_counter(&dst, hd), want);
		assert_int_equal(kvm_guest_counter(&dst, hd + 12345), want + 12345);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_freeze),
		cmocka_unit_test(test_track),
		cmocka_unit_test(test_threshold),
		cmocka_unit_test(test_negative_gap),
		cmocka_unit_test(test_offset_wraps),
		cmocka_unit_test(test_offset_convention),
		cmocka_unit_test(test_rate_mismatch_refused),
		cmocka_unit_test(test_check_state_fields),
		cmocka_unit_test(test_params),
		cmocka_unit_test(test_random_moves),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
