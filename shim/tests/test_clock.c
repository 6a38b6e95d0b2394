/*
 * The clock model: a new guest, the CPUID timing leaf, GUEST_STOPPED, and
 * save/restore under freeze / track / threshold, checked against arithmetic
 * written out here from the definitions.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

#define NS 1000000000ULL
#define T0_REALTIME (1750000000ULL * NS + 123456789ULL)

static struct xts_clock make_clock(uint32_t khz, unsigned vcpus, uint64_t host_tsc, uint64_t start)
{
	struct xts_clock_params p = {
		.arch = XTS_ARCH_X86, .nr_vcpus = vcpus, .host_tsc_khz = khz,
		.start_tsc = start, .tsc_mode = XTS_TSC_MODE_DEFAULT,
	};
	struct xts_host_sample now = { .host_tsc = host_tsc, .realtime_ns = T0_REALTIME };
	struct xts_clock c;

	assert_int_equal(xts_clock_new(&c, &p, &now), 0);
	return c;
}

/* (a) A new guest: system time 0 and the chosen TSC at creation, wallclock = realtime then. */
static void test_new_guest(void **state)
{
	struct xts_clock c = make_clock(3000000, 2, 5000000000ULL, 777);
	uint32_t mul;
	int8_t shift;

	assert_int_equal(xts_clock_system_ns(&c, 5000000000ULL), 0);
	assert_int_equal(xts_clock_guest_tsc(&c, 0, 5000000000ULL), 777);
	assert_int_equal(xts_clock_guest_tsc(&c, 1, 5000000000ULL + 10), 787);
	/* One second of 3 GHz ticks later: 1e9 ns within the scale's truncation. */
	assert_in_range(xts_clock_system_ns(&c, 5000000000ULL + 3000000000ULL), NS - 2, NS);
	assert_int_equal(c.wc_sec, T0_REALTIME / NS);
	assert_int_equal(c.wc_nsec, T0_REALTIME % NS);
	assert_int_equal(c.incarnation, 1);
	ref_scale(3000000000ULL, &mul, &shift);
	assert_int_equal(c.line.mul, mul);
	assert_int_equal(c.line.shift, shift);
}

static void test_new_guest_rejects(void **state)
{
	struct xts_clock_params p = { .arch = XTS_ARCH_X86, .nr_vcpus = 1, .host_tsc_khz = 1000000 };
	struct xts_host_sample now = { 0 };
	struct xts_clock c, before;

	memset(&c, 0xa5, sizeof(c));
	before = c;
	p.nr_vcpus = 0;
	assert_int_equal(xts_clock_new(&c, &p, &now), -EINVAL);
	p.nr_vcpus = XTS_MAX_VCPUS + 1;
	assert_int_equal(xts_clock_new(&c, &p, &now), -EINVAL);
	p.nr_vcpus = 1;
	p.host_tsc_khz = 0;
	assert_int_equal(xts_clock_new(&c, &p, &now), -EINVAL);
	p.host_tsc_khz = 1000000;
	p.tsc_mode = 3;
	assert_int_equal(xts_clock_new(&c, &p, &now), -EINVAL);
	p.tsc_mode = 0;
	p.guest_tsc_khz = 0xffffffffu;   /* 4.3 THz: beyond the scale's range */
	assert_int_equal(xts_clock_new(&c, &p, &now), -ERANGE);
	p.guest_tsc_khz = 0;
	p.arch = XTS_ARCH_ARM64;
	p.tsc_ratio = XTS_TSC_RATIO_ONE * 2;   /* the arm64 counter cannot be scaled */
	assert_int_equal(xts_clock_new(&c, &p, &now), -EINVAL);
	assert_memory_equal(&c, &before, sizeof(c));
}

/* (d) CPUID base+3: Xen's layout of the three subleaves. */
static void test_cpuid_timing(void **state)
{
	struct xts_clock c = make_clock(2294686, 1, 0, 0);
	uint32_t r[4], mul;
	int8_t shift;

	c.tsc_mode = XTS_TSC_MODE_NEVER_EMULATE;
	c.incarnation = 3;
	c.flags |= XTS_CLOCK_HOST_TSC_RELIABLE;
	assert_int_equal(xts_clock_cpuid_timing(&c, 0, r), 0);
	assert_int_equal(r[0], 2);                /* reliable, not emulated */
	/* Xen's EAX: bit 0 vtsc, bit 1 host_tsc_is_safe(), bit 2 the host's RDTSCP. */
	c.flags |= XTS_CLOCK_HOST_RDTSCP;
	assert_int_equal(xts_clock_cpuid_timing(&c, 0, r), 0);
	assert_int_equal(r[0], 2 | 4);
	c.flags &= ~XTS_CLOCK_HOST_TSC_RELIABLE;
	assert_int_equal(xts_clock_cpuid_timing(&c, 0, r), 0);
	assert_int_equal(r[0], 4);
	c.flags = (c.flags & ~XTS_CLOCK_HOST_RDTSCP) | XTS_CLOCK_HOST_TSC_RELIABLE;
	assert_int_equal(r[1], 2);
	assert_int_equal(r[2], 2294686);
	assert_int_equal(r[3], 3);
	assert_int_equal(xts_clock_cpuid_timing(&c, 1, r), 0);
	ref_scale(2294686000ULL, &mul, &shift);
	assert_int_equal(r[2], mul);
	assert_int_equal((int32_t)r[3], shift);
	assert_int_equal(r[2], 0xdf1fcc33u);      /* the worked value in the facts */
	assert_int_equal(xts_clock_cpuid_timing(&c, 2, r), 0);
	assert_int_equal(r[0], 2294686);
	assert_int_equal(xts_clock_cpuid_timing(&c, 3, r), -EINVAL);
}

/*
 * Subleaf 1 EAX:EBX is Xen's vtsc_offset: tsc_set_info() (arch/x86/time.c)
 * makes it "system time now - elapsed_nsec", called at domain build with
 * elapsed_nsec 0, and leaves it alone for never_emulate.  Xen's value is
 * thus the system time at creation, which xts_clock_new defines as 0; a
 * restore keeps system time continuous, so the origin stays where it was.
 */
static void test_cpuid_timing_offset(void **state)
{
	struct xts_clock c = make_clock(3000000, 2, 5000000000ULL, 777);
	struct xts_restore_params rp = { .policy = XTS_POLICY_FREEZE, .host_tsc_khz = 3000000 };
	struct xts_host_sample save = { 5000000000ULL + 90000000000ULL, T0_REALTIME + 30 * NS };
	struct xts_host_sample resume = { 123456789ULL, T0_REALTIME + 50 * NS };
	struct xts_time_state st;
	uint32_t r[4];

	assert_int_equal(xts_clock_system_ns(&c, 5000000000ULL), 0);   /* the build instant */
	for (uint32_t mode = XTS_TSC_MODE_DEFAULT; mode <= XTS_TSC_MODE_NEVER_EMULATE; mode += 2) {
		c.tsc_mode = mode;
		assert_int_equal(xts_clock_cpuid_timing(&c, 1, r), 0);
		assert_int_equal(r[0], 0);
		assert_int_equal(r[1], 0);
	}
	assert_int_equal(xts_clock_save(&c, &save, &st), 0);
	assert_int_equal(xts_clock_restore(&c, &st, &rp, &resume, NULL), 0);
	/*
	 * 30 s of 3 GHz ticks before the save: system time goes on from there,
	 * not from 0 (less the scale's truncation, under 1 ns per second).
	 */
	assert_in_range(xts_clock_system_ns(&c, resume.host_tsc), 30 * NS - 30, 30 * NS);
	assert_int_equal(xts_clock_cpuid_timing(&c, 1, r), 0);
	assert_int_equal(r[0] | r[1], 0);
}

static void test_guest_stopped_once_per_vcpu(void **state)
{
	struct xts_clock c = make_clock(1000000, 3, 0, 0);
	struct vcpu_time_info rec;
	unsigned v;

	assert_int_equal(xts_clock_vcpu_record(&c, 0, 10, &rec), 0);
	assert_int_equal(rec.flags, 0);       /* TSC_STABLE is off by default, as on Xen */
	xts_clock_request_guest_stopped(&c);
	for (v = 0; v < 3; v++) {
		assert_int_equal(xts_clock_vcpu_record(&c, v, 10, &rec), 0);
		assert_int_equal(rec.flags, XEN_PVCLOCK_GUEST_STOPPED);
		assert_int_equal(xts_clock_vcpu_record(&c, v, 10, &rec), 0);
		assert_int_equal(rec.flags, 0);
	}
	c.flags |= XTS_CLOCK_TSC_STABLE;
	assert_int_equal(xts_clock_vcpu_record(&c, 2, 10, &rec), 0);
	assert_int_equal(rec.flags, XEN_PVCLOCK_TSC_STABLE_BIT);
	assert_int_equal(xts_clock_vcpu_record(&c, 3, 10, &rec), -EINVAL);
}

/* Deadline -> host TSC with a scaling ratio: the first host tick that reaches it. */
static void test_host_tsc_at_ns_with_ratio(void **state)
{
	uint64_t seed = 31337;
	int i;

	for (i = 0; i < 20000; i++) {
		struct xts_clock c = make_clock(2000000, 1, ref_rand(&seed) >> 20, ref_rand(&seed) >> 20);
		uint64_t deadline = ref_rand_range(&seed, 0, 1ULL << 45), h;

		c.tsc_ratio = ref_rand_range(&seed, XTS_TSC_RATIO_ONE / 2, XTS_TSC_RATIO_ONE * 2);
		assert_int_equal(xts_clock_host_tsc_at_ns(&c, deadline, &h), 0);
		assert_true(xts_clock_system_ns(&c, h) >= deadline);
		if (xts_clock_system_ns(&c, h - 1) >= deadline)
			/* only allowed when h is the line's anchor (deadline already passed) */
			assert_int_equal(xts_clock_guest_tsc(&c, 0, h), c.line.tsc);
	}
}

/*
 * A KVM that ignores TSC offsets: after xts_clock_follow_host_tsc() every vCPU's
 * guest TSC is the host TSC, and each vCPU's published record gives, at host
 * TSC h, what the old line gave at the TSC that vCPU would have read.
 */
static void test_follow_host_tsc(void **state)
{
	uint64_t seed = 0xf011;
	int i;

	for (i = 0; i < 2000; i++) {
		struct xts_clock c = make_clock(2000000, 3, ref_rand(&seed) >> 8, ref_rand(&seed) >> 8);
		struct xts_clock old;
		uint64_t h0 = ref_rand(&seed) >> 8;
		int64_t jump = 0;
		unsigned v;

		c.vcpu_tsc_skew[1] = 1000;
		c.vcpu_tsc_skew[2] = -3;
		old = c;
		assert_int_equal(xts_clock_follow_host_tsc(&c, &jump), 0);
		assert_int_equal((uint64_t)jump, h0 - (h0 + old.tsc_offset));
		for (v = 0; v < 3; v++) {
			uint64_t h = h0 + ref_rand_range(&seed, 0, 1ULL << 36);
			uint64_t g_old = h + old.tsc_offset;   /* vCPU 0's TSC before */
			struct vcpu_time_info rec;

			/* vCPU 0's TSC is 0 until the line's anchor; pick h after it. */
			if ((int64_t)(g_old - old.line.tsc) < 0)
				continue;
			assert_int_equal(xts_clock_guest_tsc(&c, v, h), h);
			assert_int_equal(xts_clock_vcpu_record(&c, v, h, &rec), 0);
			assert_int_equal(ref_pvclock(rec.tsc_timestamp, rec.system_time,
						     rec.tsc_to_system_mul, rec.tsc_shift, h),
					 ref_line(&old.line, g_old));
		}
	}
}

static void test_follow_host_tsc_refuses(void **state)
{
	struct xts_clock c = make_clock(2000000, 1, 5, 7), before;
	int64_t jump = 9;

	c.tsc_ratio = XTS_TSC_RATIO_ONE * 2;
	before = c;
	assert_int_equal(xts_clock_follow_host_tsc(&c, &jump), -ENOTSUP);
	c.tsc_ratio = XTS_TSC_RATIO_ONE;
	c.arch = XTS_ARCH_ARM64;
	before.tsc_ratio = XTS_TSC_RATIO_ONE;
	before.arch = XTS_ARCH_ARM64;
	assert_int_equal(xts_clock_follow_host_tsc(&c, &jump), -ENOTSUP);
	assert_memory_equal(&c, &before, sizeof(c));
	assert_int_equal(jump, 9);
}

/* ---- save / restore ---- */

struct pair {
	struct xts_clock src, dst;
	struct xts_time_state st;
	struct xts_host_sample save_at, restore_at;
};

static void setup_pair(struct pair *p, uint32_t khz, uint64_t gap_ns)
{
	p->src = make_clock(khz, 3, 1000, 0);
	p->src.vcpu_tsc_skew[1] = 5000;
	p->src.vcpu_tsc_skew[2] = -7;
	p->save_at.host_tsc = 1000 + 60ULL * khz * 1000;   /* one minute of uptime */
	p->save_at.realtime_ns = T0_REALTIME + 60 * NS;
	assert_int_equal(xts_clock_save(&p->src, &p->save_at, &p->st), 0);
	/* The destination host's TSC has nothing to do with the source's. */
	p->restore_at.host_tsc = 987654321987ULL;
	p->restore_at.realtime_ns = p->save_at.realtime_ns + gap_ns;
}

static struct xts_restore_params rparams(enum xts_policy pol, uint32_t khz)
{
	struct xts_restore_params rp = { .policy = pol, .host_tsc_khz = khz };

	return rp;
}

static void test_restore_freeze(void **state)
{
	struct pair p;
	struct xts_restore_params rp = rparams(XTS_POLICY_FREEZE, 3000000);
	struct xts_restore_result r;
	uint64_t sys_saved, wc_old, wc_new;
	struct vcpu_time_info rec;
	unsigned v;

	setup_pair(&p, 3000000, 30 * NS);
	sys_saved = xts_clock_system_ns(&p.src, p.save_at.host_tsc);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.applied, XTS_POLICY_FREEZE);
	assert_int_equal(r.elapsed_ns, 30 * NS);
	/* Every vCPU's TSC resumes exactly where it stopped, skews kept. */
	for (v = 0; v < 3; v++)
		assert_int_equal(xts_clock_guest_tsc(&p.dst, v, p.restore_at.host_tsc), p.st.guest_tsc[v]);
	assert_int_equal(p.st.guest_tsc[1] - p.st.guest_tsc[0], 5000);
	/* System time resumes exactly; UTC catches up through the wallclock. */
	assert_int_equal(xts_clock_system_ns(&p.dst, p.restore_at.host_tsc), sys_saved);
	wc_old = p.src.wc_sec * NS + p.src.wc_nsec;
	wc_new = p.dst.wc_sec * NS + p.dst.wc_nsec;
	assert_int_equal(wc_new - wc_old, 30 * NS);
	assert_int_equal(p.dst.incarnation, p.src.incarnation + 1);
	/* A frozen guest is told it was stopped. */
	assert_int_equal(xts_clock_vcpu_record(&p.dst, 0, p.restore_at.host_tsc, &rec), 0);
	assert_true(rec.flags & XEN_PVCLOCK_GUEST_STOPPED);
}

static void test_restore_track(void **state)
{
	struct pair p;
	struct xts_restore_params rp = rparams(XTS_POLICY_TRACK, 3000000);
	struct xts_restore_result r;
	uint64_t sys_saved, sys_now, want_tsc, wc_old, wc_new;
	struct vcpu_time_info rec;

	setup_pair(&p, 3000000, 2 * NS + 500);
	sys_saved = xts_clock_system_ns(&p.src, p.save_at.host_tsc);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.applied, XTS_POLICY_TRACK);
	/* 2.0000005 s at 3 GHz = 6000001500 ticks. */
	want_tsc = p.st.guest_tsc[0] + 6000001500ULL;
	assert_int_equal(xts_clock_guest_tsc(&p.dst, 0, p.restore_at.host_tsc), want_tsc);
	sys_now = xts_clock_system_ns(&p.dst, p.restore_at.host_tsc);
	assert_in_range(sys_now - sys_saved, 2 * NS + 500 - 3, 2 * NS + 500);
	/* UTC = wc + system time still equals the real time: wc moves by the rounding only. */
	wc_old = p.src.wc_sec * NS + p.src.wc_nsec;
	wc_new = p.dst.wc_sec * NS + p.dst.wc_nsec;
	assert_int_equal(wc_new + sys_now, wc_old + sys_saved + 2 * NS + 500);
	assert_int_equal(xts_clock_vcpu_record(&p.dst, 0, p.restore_at.host_tsc, &rec), 0);
	assert_false(rec.flags & XEN_PVCLOCK_GUEST_STOPPED);
}

static void test_restore_threshold(void **state)
{
	struct pair p;
	struct xts_restore_params rp = rparams(XTS_POLICY_THRESHOLD, 3000000);
	struct xts_restore_result r;

	rp.threshold_ns = 5 * NS;
	setup_pair(&p, 3000000, 5 * NS);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.applied, XTS_POLICY_TRACK);
	setup_pair(&p, 3000000, 5 * NS + 1);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.applied, XTS_POLICY_FREEZE);
	/* A destination clock behind the source's counts as no gap at all. */
	setup_pair(&p, 3000000, 0);
	p.restore_at.realtime_ns -= 10 * NS;
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.elapsed_ns, 0);
	assert_int_equal(r.applied, XTS_POLICY_TRACK);
}

/* The TSC rate: same, within KVM's 250 ppm, scaled, refused, or explicitly changed. */
static void test_restore_rate(void **state)
{
	struct pair p;
	struct xts_restore_params rp = rparams(XTS_POLICY_FREEZE, 3000000 + 750);  /* exactly 250 ppm */
	struct xts_restore_result r;
	struct xts_clock before;
	uint64_t sys_saved;

	setup_pair(&p, 3000000, NS);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.tsc_ratio, XTS_TSC_RATIO_ONE);
	assert_false(r.rate_changed);
	assert_int_equal(p.dst.guest_tsc_khz, 3000000);

	rp.host_tsc_khz = 3000000 + 751;                                   /* beyond tolerance */
	memset(&p.dst, 0x5a, sizeof(p.dst));
	before = p.dst;
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), -ERANGE);
	assert_memory_equal(&p.dst, &before, sizeof(before));

	rp.host_tsc_khz = 2000000;
	rp.host_can_scale = true;                                          /* 3/2 in 16.48 */
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_int_equal(r.tsc_ratio, XTS_TSC_RATIO_ONE + XTS_TSC_RATIO_ONE / 2);
	assert_int_equal(xts_clock_guest_tsc(&p.dst, 0, p.restore_at.host_tsc), p.st.guest_tsc[0]);
	assert_int_equal(xts_clock_guest_tsc(&p.dst, 0, p.restore_at.host_tsc + 2000),
			 p.st.guest_tsc[0] + 3000);

	rp.host_can_scale = false;
	rp.flags = XTS_RESTORE_ACCEPT_RATE_CHANGE;
	sys_saved = xts_clock_system_ns(&p.src, p.save_at.host_tsc);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, &r), 0);
	assert_true(r.rate_changed);
	assert_int_equal(p.dst.guest_tsc_khz, 2000000);
	/* No step where the rate changes, and the new rate is 2 GHz. */
	assert_int_equal(xts_clock_system_ns(&p.dst, p.restore_at.host_tsc), sys_saved);
	assert_in_range(xts_clock_system_ns(&p.dst, p.restore_at.host_tsc + 2000000000ULL) - sys_saved,
			NS - 2, NS);
}

static void test_restore_rejects_bad_state(void **state)
{
	struct pair p;
	struct xts_restore_params rp = rparams(XTS_POLICY_FREEZE, 3000000);
	struct xts_time_state bad;
	struct xts_clock before;

	setup_pair(&p, 3000000, NS);
	memset(&p.dst, 0x11, sizeof(p.dst));
	before = p.dst;
#define EXPECT_BAD(mutation) do { bad = p.st; mutation; \
	assert_int_equal(xts_clock_restore(&p.dst, &bad, &rp, &p.restore_at, NULL), -EINVAL); \
	assert_memory_equal(&p.dst, &before, sizeof(before)); } while (0)
	EXPECT_BAD(bad.nr_vcpus = 0);
	EXPECT_BAD(bad.nr_vcpus = XTS_MAX_VCPUS + 1);
	EXPECT_BAD(bad.arch = 7);
	EXPECT_BAD(bad.guest_tsc_khz = 0);
	EXPECT_BAD(bad.tsc_mode = 9);
	EXPECT_BAD(bad.wc_nsec = 1000000000u);
	EXPECT_BAD(bad.line.mul = 0);
	EXPECT_BAD(bad.line.shift = 40);
	EXPECT_BAD(bad.incarnation = UINT32_MAX);
	EXPECT_BAD(bad.flags = 0x80);
	EXPECT_BAD(bad.line.tsc = bad.guest_tsc[0] + 1);   /* saved before its own line began */
	/* An arm64 counter is VM-wide: per-vCPU differences cannot come from a real guest. */
	EXPECT_BAD(bad.arch = XTS_ARCH_ARM64; bad.guest_tsc[1] = bad.guest_tsc[0];
		   bad.guest_tsc[2] = bad.guest_tsc[0] + 1);
#undef EXPECT_BAD
	/* The same arm64 state with equal counters is accepted (rate: same kHz). */
	bad = p.st;
	bad.arch = XTS_ARCH_ARM64;
	bad.guest_tsc[1] = bad.guest_tsc[2] = bad.guest_tsc[0];
	assert_int_equal(xts_clock_restore(&p.dst, &bad, &rp, &p.restore_at, NULL), 0);
	memset(&p.dst, 0x11, sizeof(p.dst));
	rp.policy = 3;
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, NULL), -EINVAL);
	rp.policy = XTS_POLICY_FREEZE;
	rp.host_tsc_khz = 0;
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, NULL), -EINVAL);
	assert_memory_equal(&p.dst, &before, sizeof(before));
}

/* Chained moves: A -> B -> C with freeze gives the same system time as never moving minus the gaps. */
static void test_restore_chain(void **state)
{
	struct pair p;
	struct xts_restore_params rp = rparams(XTS_POLICY_FREEZE, 3000000);
	struct xts_time_state st2;
	struct xts_host_sample s2 = { .host_tsc = 987654321987ULL + 3000000000ULL * 10,
				      .realtime_ns = 0 };
	struct xts_host_sample r3 = { .host_tsc = 42, .realtime_ns = 0 };
	struct xts_clock c3;
	uint64_t sys_saved;

	setup_pair(&p, 3000000, 7 * NS);
	sys_saved = xts_clock_system_ns(&p.src, p.save_at.host_tsc);
	assert_int_equal(xts_clock_restore(&p.dst, &p.st, &rp, &p.restore_at, NULL), 0);
	s2.realtime_ns = p.restore_at.realtime_ns + 10 * NS;
	assert_int_equal(xts_clock_save(&p.dst, &s2, &st2), 0);
	r3.realtime_ns = s2.realtime_ns + 100 * NS;
	assert_int_equal(xts_clock_restore(&c3, &st2, &rp, &r3, NULL), 0);
	/* 10 s (3e10 ticks) ran on B; the 7 s and 100 s gaps were frozen. */
	assert_int_equal(xts_clock_system_ns(&c3, 42),
			 ref_line(&p.st.line, p.st.guest_tsc[0] + 30000000000ULL));
	assert_in_range(xts_clock_system_ns(&c3, 42) - sys_saved, 10 * NS - 5, 10 * NS);
	assert_int_equal(c3.incarnation, 3);
	assert_int_equal(xts_clock_guest_tsc(&c3, 1, 42) - xts_clock_guest_tsc(&c3, 0, 42), 5000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_guest),
		cmocka_unit_test(test_new_guest_rejects),
		cmocka_unit_test(test_cpuid_timing),
		cmocka_unit_test(test_cpuid_timing_offset),
		cmocka_unit_test(test_guest_stopped_once_per_vcpu),
		cmocka_unit_test(test_host_tsc_at_ns_with_ratio),
		cmocka_unit_test(test_follow_host_tsc),
		cmocka_unit_test(test_follow_host_tsc_refuses),
		cmocka_unit_test(test_restore_freeze),
		cmocka_unit_test(test_restore_track),
		cmocka_unit_test(test_restore_threshold),
		cmocka_unit_test(test_restore_rate),
		cmocka_unit_test(test_restore_rejects_bad_state),
		cmocka_unit_test(test_restore_chain),
	};
	return cmocka_run_group_tests_name("clock", tests, NULL, NULL);
}
