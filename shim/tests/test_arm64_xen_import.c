/*
 * A Xen on Arm domain's counter into the model: the timer records of an HVM
 * context blob (built here byte by byte: {u16 typecode, u16 instance,
 * u32 length} descriptors, timer body vtb_offset@0 ctl@8 cval@16 type@24,
 * 32 bytes), then the saved state restored on KVM and applied through a
 * one-call fake, end to end.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "shim/tests/ref.h"

#define NS 1000000000ULL

struct blob {
	uint8_t b[4096];
	size_t len;
};

static void put_le(struct blob *x, uint64_t v, unsigned bytes)
{
	unsigned i;

	for (i = 0; i < bytes; i++)
		x->b[x->len++] = (uint8_t)(v >> (8 * i));
}

static void put_desc(struct blob *x, uint16_t type, uint16_t inst, uint32_t len)
{
	put_le(x, type, 2);
	put_le(x, inst, 2);
	put_le(x, len, 4);
}

static void put_timer(struct blob *x, uint16_t vcpu, uint32_t type, uint64_t vtb_offset)
{
	put_desc(x, 3, vcpu, 32);
	put_le(x, vtb_offset, 8);
	put_le(x, 0x5, 4);               /* ctl: enabled, masked */
	put_le(x, 0, 4);
	put_le(x, 0xfeedface, 8);        /* cval */
	put_le(x, type, 4);
	put_le(x, 0, 4);
}

/* A context as Xen would save it: a header record, VIRT + PHYS timers per vCPU, END. */
static void make_ctx(struct blob *x, unsigned nr, uint64_t voff)
{
	unsigned i;

	x->len = 0;
	put_desc(x, 1, 0, 12);           /* some header: skipped by type */
	put_le(x, 0x92385520, 4);
	put_le(x, 1, 4);
	put_le(x, 0x410fd034, 4);
	for (i = 0; i < nr; i++) {
		put_timer(x, (uint16_t)i, 0, voff);
		put_timer(x, (uint16_t)i, 1, voff ^ 0x1234);  /* the PHYS base differs; ignored */
	}
	put_desc(x, 0, 0, 0);
}

static void test_offset_from_context(void **state)
{
	struct blob x;
	uint64_t off = 0;

	make_ctx(&x, 4, 0x0000123456789abcULL);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 4, &off), 0);
	assert_int_equal(off, 0x0000123456789abcULL);
	/* Bytes after END do not matter. */
	x.b[x.len++] = 0xff;
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 4, &off), 0);
	/* Without END, the last record must end the blob exactly. */
	make_ctx(&x, 2, 77);
	x.len -= 8;
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 2, &off), 0);
	assert_int_equal(off, 77);
}

static void test_bad_contexts(void **state)
{
	struct blob x;
	uint64_t off = 0xdead;

	/* vCPUs disagree: Xen keeps one offset per domain. */
	make_ctx(&x, 2, 1000);
	x.len = 8 + 12 + 40 * 2;             /* after vCPU 0's two records */
	put_timer(&x, 1, 0, 1001);
	put_desc(&x, 0, 0, 0);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 2, &off), -EINVAL);
	/* A vCPU without a VIRT record. */
	make_ctx(&x, 2, 1000);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 3, &off), -EINVAL);
	/* An instance beyond the domain's vCPUs. */
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 1, &off), -EINVAL);
	/* The same vCPU twice. */
	x.len -= 8;
	put_timer(&x, 1, 0, 1000);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 2, &off), -EINVAL);
	/* A timer record of the wrong size. */
	x.len = 0;
	put_desc(&x, 3, 0, 24);
	put_le(&x, 5, 8);
	put_le(&x, 0, 8);
	put_le(&x, 0, 8);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 1, &off), -EINVAL);
	/* An unknown timer type. */
	x.len = 0;
	put_timer(&x, 0, 2, 5);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 1, &off), -EINVAL);
	/* A length running past the blob, and a cut descriptor. */
	make_ctx(&x, 1, 5);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, 8 + 12 + 20, 1, &off), -EINVAL);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, 8 + 12 + 40 + 40 + 4, 1, &off), -EINVAL);
	/* Empty, NULL, vCPU counts out of range. */
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, 0, 1, &off), -EINVAL);
	assert_int_equal(xts_arm64_xen_timer_offset(NULL, 8, 1, &off), -EINVAL);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 0, &off), -EINVAL);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, XTS_MAX_VCPUS + 1, &off), -EINVAL);
	assert_int_equal(off, 0xdead);
}

/*
 * Every truncation of a good blob: accepted exactly where the format says a
 * blob may end, and then with the right offset; refused everywhere else.
 * The blob is 3 vCPUs: header (8 + 12), then VIRT/PHYS per vCPU (40 bytes
 * each, vCPU 2's VIRT the fifth record), then END (8).  A blob may end
 * after END, or (no END) right after a whole record once every vCPU has
 * its VIRT record: at 20 + 5 * 40 (PHYS of vCPU 2 missing, ignored) or at
 * 20 + 6 * 40.  The lengths are counted here by hand, not from make_ctx().
 */
static void test_truncations(void **state)
{
	struct blob x;
	size_t n;
	unsigned accepted = 0;

	make_ctx(&x, 3, 4242);
	assert_int_equal(x.len, 20 + 6 * 40 + 8);
	for (n = 0; n <= x.len; n++) {
		uint64_t off = 0;
		int rc = xts_arm64_xen_timer_offset(x.b, n, 3, &off);
		bool ok = n == 20 + 5 * 40 || n == 20 + 6 * 40 || n == 20 + 6 * 40 + 8;

		if (rc != (ok ? 0 : -EINVAL) || (ok && off != 4242))
			fail_msg("length %zu of %zu: rc %d offset %llu, want rc %d%s", n, x.len,
				 rc, (unsigned long long)off, ok ? 0 : -EINVAL,
				 ok ? " offset 4242" : "");
		accepted += rc == 0;
	}
	assert_int_equal(accepted, 3);
}

/*
 * A blob written out as bytes (not through put_le()), little-endian as an
 * Arm host saves it: header, vCPU 0 VIRT timer with vtb_offset
 * 0x0123456789abcdef, END.  The parser must read exactly that value.
 */
static void test_literal_blob(void **state)
{
	static const uint8_t blob[] = {
		0x01, 0x00, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00,   /* HEADER, inst 0, 4 bytes */
		0xaa, 0xbb, 0xcc, 0xdd,
		0x03, 0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x00,   /* TIMER, inst 0, 32 bytes */
		0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01,   /* vtb_offset */
		0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   /* ctl, pad */
		0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe,   /* cval */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   /* type VIRT, pad */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,   /* END */
	};
	uint64_t off = 0;

	assert_int_equal(xts_arm64_xen_timer_offset(blob, sizeof(blob), 1, &off), 0);
	if (off != 0x0123456789abcdefULL)
		fail_msg("vtb_offset read as %#llx, the bytes say 0x0123456789abcdef",
			 (unsigned long long)off);
}

/* The state: counter = source counter - vtb_offset everywhere, UTC consistent. */
static void test_state_from_xen(void **state)
{
	const uint64_t hz = 62500000, voff = 1000000000000ULL, run = 86400ULL * 3 * NS + 17;
	struct xts_arm64_xen_import in = {
		.vtb_offset = voff,
		.source_counter = voff + (uint64_t)((u128)run * hz / NS),
		.saved_realtime_ns = 1750000000ULL * NS + 5,
		.cntfrq_hz = hz,
		.nr_vcpus = 3,
	};
	struct xts_time_state st;
	uint64_t counter = in.source_counter - voff, sys, exact;
	u128 utc;
	unsigned i;

	assert_int_equal(xts_arm64_state_from_xen(&in, &st), 0);
	assert_int_equal(st.arch, XTS_ARCH_ARM64);
	assert_int_equal(st.nr_vcpus, 3);
	for (i = 0; i < 3; i++)
		assert_int_equal(st.guest_tsc[i], counter);
	assert_int_equal(st.guest_tsc_khz, 62500);
	assert_int_equal(st.saved_realtime_ns, in.saved_realtime_ns);
	/* System time is the counter in ns, within the scale's truncation (< 2^-29 relative + 1). */
	sys = ref_line(&st.line, counter);
	exact = (uint64_t)((u128)counter * NS / hz);
	assert_true(sys <= exact);
	assert_true(exact - sys <= exact / (1u << 29) + 1);
	/* UTC = wc + system time is the saved UTC exactly. */
	utc = (u128)st.wc_sec * NS + st.wc_nsec + sys;
	assert_true(utc == in.saved_realtime_ns);
	assert_int_equal(xts_arm64_check_state(&st, hz, 0, NULL, 0), 0);

	in.source_counter = voff - 1;    /* before the domain existed */
	assert_int_equal(xts_arm64_state_from_xen(&in, &st), -EINVAL);
	in.source_counter = voff + 1;
	in.cntfrq_hz = 62500001;
	assert_int_equal(xts_arm64_state_from_xen(&in, &st), -EINVAL);
}

/* Fake KVM for the end-to-end test: answers the capability and keeps the offset. */
static uint64_t kvm_offset_seen;
static int fake_ioctl(void *opaque, int fd, unsigned long req, void *arg)
{
	if (req == 0xAE03)                         /* KVM_CHECK_EXTENSION */
		return 1;
	if (req == 0x4010AEB5) {                   /* KVM_ARM_SET_COUNTER_OFFSET */
		memcpy(&kvm_offset_seen, arg, 8);
		return 0;
	}
	return -ENOTTY;
}

/* Xen on Arm -> KVM with freeze: the guest counter on KVM resumes at Xen's value. */
static void test_xen_to_kvm(void **state)
{
	const uint64_t hz = 24000000, voff = 333333333333ULL, src = voff + 24000000ULL * 500;
	const struct xts_arm64_kvm_ops ops = { .ioctl = fake_ioctl };
	struct xts_arm64_kvm k = { .ops = &ops, .vm_fd = 3, .nr_vcpus = 2 };
	struct xts_arm64_xen_import in = {
		.vtb_offset = voff, .source_counter = src,
		.saved_realtime_ns = 1750000000ULL * NS, .cntfrq_hz = hz, .nr_vcpus = 2,
	};
	struct xts_host_sample now = { .host_tsc = 99, .realtime_ns = 1750000010ULL * NS };
	struct xts_arm64_apply_report rep;
	struct xts_restore_params rp;
	struct xts_restore_result res;
	struct xts_time_state st;
	struct xts_clock c;
	struct blob x;
	uint64_t off;

	make_ctx(&x, 2, voff);
	assert_int_equal(xts_arm64_xen_timer_offset(x.b, x.len, 2, &off), 0);
	in.vtb_offset = off;
	assert_int_equal(xts_arm64_state_from_xen(&in, &st), 0);
	assert_int_equal(xts_arm64_restore_params(&rp, XTS_POLICY_FREEZE, 0, 0, hz), 0);
	assert_int_equal(xts_clock_restore(&c, &st, &rp, &now, &res), 0);
	assert_int_equal(c.incarnation, 2);
	assert_int_equal(xts_arm64_apply_counter(&k, &c, &rep), 0);
	assert_int_equal(rep.path, XTS_ARM64_COUNTER_VM_OFFSET);
	/* KVM guest counter at host 99 + t = Xen guest counter at save + t. */
	assert_int_equal((uint64_t)(99 - kvm_offset_seen), src - voff);
	assert_int_equal((uint64_t)(99 + 1000 - kvm_offset_seen), src - voff + 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offset_from_context),
		cmocka_unit_test(test_bad_contexts),
		cmocka_unit_test(test_truncations),
		cmocka_unit_test(test_literal_blob),
		cmocka_unit_test(test_state_from_xen),
		cmocka_unit_test(test_xen_to_kvm),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
