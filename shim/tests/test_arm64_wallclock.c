/*
 * The shared_info wallclock of an arm64 guest, byte by byte: offsets from
 * Xen's own foreign header (xen/foreign/arm64.h), values decoded here as
 * little-endian bytes, and a reader written like Linux's arm64
 * xen_read_wallclock() (retry while the version is odd or moved).
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>
#include "shim/tests/ref.h"
#include <xen/foreign/arm64.h>

#define SI_GPA  0x40001000ULL
#define FILL    0xa5

static uint8_t ram[3 * 4096] __attribute__((aligned(4096)));

static uint32_t le32_at(const uint8_t *p, size_t off)
{
	return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 | (uint32_t)p[off + 2] << 16 |
	       (uint32_t)p[off + 3] << 24;
}

static void setup_mem(struct xts_gmem *m)
{
	memset(m, 0, sizeof(*m));
	memset(ram, FILL, sizeof(ram));
	assert_int_equal(xts_gmem_add(m, SI_GPA - 4096, sizeof(ram), ram), 0);
}

/* The guest's read loop: seconds split in wc_sec / wc_sec_hi, as Linux joins them. */
static void guest_read(const uint8_t *si, uint64_t *sec, uint32_t *nsec)
{
	const size_t v_off = offsetof(struct shared_info_arm64, wc_version);
	uint32_t v;

	do {
		v = le32_at(si, v_off);
		*sec = (uint64_t)le32_at(si, offsetof(struct shared_info_arm64, wc_sec_hi)) << 32 |
		       le32_at(si, offsetof(struct shared_info_arm64, wc_sec));
		*nsec = le32_at(si, offsetof(struct shared_info_arm64, wc_nsec));
	} while ((v & 1) || v != le32_at(si, v_off));
}

/* Every byte of the page but the 16 wallclock bytes keeps its fill. */
static void assert_only_wallclock_written(const uint8_t *page)
{
	const size_t lo = offsetof(struct shared_info_arm64, wc_version);
	const size_t hi = offsetof(struct shared_info_arm64, wc_sec_hi) + 4;
	size_t i;

	assert_int_equal(hi - lo, 16);
	for (i = 0; i < 4096; i++) {
		if (i >= lo && i < hi)
			continue;
		if (page[i] != FILL)
			print_error("byte %zu of the page changed to %#x\n", i, page[i]);
		assert_int_equal(page[i], FILL);
	}
}

static void test_bytes(void **state)
{
	const uint64_t sec = 0x123456789ULL;   /* past 2106: needs wc_sec_hi */
	const uint32_t nsec = 999999999;
	uint8_t *page = ram + 4096;
	struct xts_gmem m;
	uint64_t rsec;
	uint32_t rnsec;

	setup_mem(&m);
	memset(page + offsetof(struct shared_info_arm64, wc_version), 0, 4);
	assert_int_equal(xts_publish_wallclock(&m, SI_GPA, XTS_LAYOUT_ARM64, sec, nsec), 0);
	assert_int_equal(le32_at(page, offsetof(struct shared_info_arm64, wc_version)), 2);
	assert_int_equal(le32_at(page, offsetof(struct shared_info_arm64, wc_sec)), 0x23456789);
	assert_int_equal(le32_at(page, offsetof(struct shared_info_arm64, wc_nsec)), nsec);
	assert_int_equal(le32_at(page, offsetof(struct shared_info_arm64, wc_sec_hi)), 1);
	assert_only_wallclock_written(page);
	/* Nothing landed where an x86_64 guest would look (3072..3087). */
	assert_int_equal(le32_at(page, 3076), 0xa5a5a5a5);

	guest_read(page, &rsec, &rnsec);
	assert_int_equal(rsec, sec);
	assert_int_equal(rnsec, nsec);
	assert_int_equal(xts_read_wallclock(&m, SI_GPA, XTS_LAYOUT_ARM64, &rsec, &rnsec), 0);
	assert_int_equal(rsec, sec);
	assert_int_equal(rnsec, nsec);

	/* The next update follows the version found in guest memory (here odd garbage). */
	page[offsetof(struct shared_info_arm64, wc_version)] = 7;
	assert_int_equal(xts_publish_wallclock(&m, SI_GPA, XTS_LAYOUT_ARM64, 5, 6), 0);
	assert_int_equal(le32_at(page, offsetof(struct shared_info_arm64, wc_version)) & 1, 0);
	assert_true(le32_at(page, offsetof(struct shared_info_arm64, wc_version)) > 7);
	assert_int_equal(le32_at(page, offsetof(struct shared_info_arm64, wc_sec_hi)), 0);
	guest_read(page, &rsec, &rnsec);
	assert_int_equal(rsec, 5);
	assert_int_equal(rnsec, 6);
}

/* The layout the publication uses is the foreign header's, field by field. */
static void test_layout_matches_header(void **state)
{
	uint32_t off;

	assert_int_equal(xts_layout_vcpu_time_offset(XTS_LAYOUT_ARM64, &off), 0);
	assert_int_equal(off, offsetof(struct vcpu_info_arm64, time));
	assert_int_equal(offsetof(struct shared_info_arm64, wc_version), 1072);
	assert_int_equal(sizeof(struct vcpu_info_arm64), 48);
	assert_int_equal(sizeof(struct shared_info_arm64), 1088);
}

/* Bad input leaves guest memory alone. */
static void test_refusals(void **state)
{
	struct xts_gmem m;

	setup_mem(&m);
	assert_int_equal(xts_publish_wallclock(&m, SI_GPA + 8, XTS_LAYOUT_ARM64, 1, 2), -EINVAL);
	assert_int_equal(xts_publish_wallclock(&m, SI_GPA, XTS_LAYOUT_ARM64, 1, 1000000000), -EINVAL);
	assert_int_equal(xts_publish_wallclock(&m, SI_GPA + 0x100000, XTS_LAYOUT_ARM64, 1, 2), -EFAULT);
	assert_only_wallclock_written(ram + 4096);
	assert_int_equal(le32_at(ram + 4096, offsetof(struct shared_info_arm64, wc_sec)), 0xa5a5a5a5);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes),
		cmocka_unit_test(test_layout_matches_header),
		cmocka_unit_test(test_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
