/*
 * Publication into guest memory and the guest memory helper: wallclock
 * bytes checked through the Xen foreign-layout structs (not xtshim's own
 * table), the version protocol, bounds, and "nothing written on error".
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "abi/xen-abi.h"
#include "shim/tests/ref.h"

#define RAM_GPA   0x100000ULL
#define RAM_SIZE  (64 * 4096ULL)

struct fixture {
	struct xts_gmem mem;
	uint8_t *ram, *copy;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->ram = aligned_alloc(4096, RAM_SIZE);
	f->copy = malloc(RAM_SIZE);
	memset(f->ram, 0xcc, RAM_SIZE);
	assert_int_equal(xts_gmem_add(&f->mem, RAM_GPA, RAM_SIZE, f->ram), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	free(f->ram);
	free(f->copy);
	free(f);
	return 0;
}

static void snapshot(struct fixture *f) { memcpy(f->copy, f->ram, RAM_SIZE); }
static void assert_untouched(struct fixture *f) { assert_memory_equal(f->ram, f->copy, RAM_SIZE); }

/* The 64-bit layout read back through struct shared_info_x86_64. */
static void test_wallclock_x86_64(void **state)
{
	struct fixture *f = *state;
	struct shared_info_x86_64 *si = (void *)(f->ram + 4096);
	uint64_t sec = 0;
	uint32_t nsec = 0, v0;

	si->wc_version = 10;
	v0 = si->wc_version;
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA + 4096, XTS_LAYOUT_X86_64,
					       1700000000ULL, 999999999u), 0);
	assert_int_equal(si->wc_version, v0 + 2);
	assert_int_equal(si->wc_sec, 1700000000u);
	assert_int_equal(si->wc_nsec, 999999999u);
	assert_int_equal(si->wc_sec_hi, 0);
	assert_int_equal(xts_read_wallclock(&f->mem, RAM_GPA + 4096, XTS_LAYOUT_X86_64, &sec, &nsec), 0);
	assert_int_equal(sec, 1700000000ULL);
	assert_int_equal(nsec, 999999999u);
}

/* The 32-bit layout: wc_sec_hi lives in arch, after the 32 legacy vcpu_infos of the i386 size. */
static void test_wallclock_x86_32_past_2106(void **state)
{
	struct fixture *f = *state;
	struct shared_info_x86_32 *si = (void *)(f->ram + 8192);
	/* 2200-01-01T00:00:00Z = 7258118400 s: needs 33 bits. */
	const uint64_t sec2200 = 7258118400ULL;
	uint64_t sec;
	uint32_t nsec;

	memset(si, 0, 4096);
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA + 8192, XTS_LAYOUT_X86_32, sec2200, 5), 0);
	assert_int_equal(si->wc_sec, (uint32_t)sec2200);
	assert_int_equal(si->arch.wc_sec_hi, 1);
	assert_int_equal(si->wc_nsec, 5);
	assert_int_equal(si->wc_version, 2);
	/* Nothing went to where the 64-bit layout keeps those fields. */
	assert_int_equal(*(uint32_t *)((uint8_t *)si + offsetof(struct shared_info_x86_64, wc_sec_hi)), 0);
	assert_int_equal(xts_read_wallclock(&f->mem, RAM_GPA + 8192, XTS_LAYOUT_X86_32, &sec, &nsec), 0);
	assert_int_equal(sec, sec2200);
}

static void test_wallclock_arm64(void **state)
{
	struct fixture *f = *state;
	struct shared_info_arm64 *si = (void *)(f->ram + 3 * 4096);

	memset(si, 0, sizeof(*si));
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA + 3 * 4096, XTS_LAYOUT_ARM64,
					       (5ULL << 32) | 17, 3), 0);
	assert_int_equal(si->wc_sec, 17);
	assert_int_equal(si->wc_sec_hi, 5);
	assert_int_equal(si->wc_nsec, 3);
	assert_int_equal(si->wc_version, 2);
}

static void test_wallclock_rejects(void **state)
{
	struct fixture *f = *state;

	snapshot(f);
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA, XTS_LAYOUT_X86_64, 1, 1000000000u), -EINVAL);
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA + 8, XTS_LAYOUT_X86_64, 1, 0), -EINVAL);
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA, 3, 1, 0), -EINVAL);
	assert_int_equal(xts_publish_wallclock(&f->mem, RAM_GPA + RAM_SIZE, XTS_LAYOUT_X86_64, 1, 0), -EFAULT);
	assert_int_equal(xts_publish_wallclock(&f->mem, 0, XTS_LAYOUT_X86_64, 1, 0), -EFAULT);
	assert_int_equal(xts_publish_wallclock(&f->mem, UINT64_MAX & ~4095ULL, XTS_LAYOUT_X86_64, 1, 0), -EFAULT);
	assert_untouched(f);
}

/* The version protocol: whatever the guest left there, the result is even and newer. */
static void test_publish_time_version(void **state)
{
	struct fixture *f = *state;
	struct vcpu_time_info *t = (void *)(f->ram + 4 * 4096 + 64);
	struct vcpu_time_info rec = {
		.version = 12345, .tsc_timestamp = 0x1122334455667788ULL,
		.system_time = 0x0102030405060708ULL, .tsc_to_system_mul = 0xdeadbeef,
		.tsc_shift = -3, .flags = XEN_PVCLOCK_TSC_STABLE_BIT,
	};
	static const uint32_t initial[] = { 0, 1, 7, 0xfffffffeu, 0xffffffffu };
	unsigned i;

	for (i = 0; i < sizeof(initial) / sizeof(initial[0]); i++) {
		uint32_t want = ((initial[i] + 1) | 1) + 1;

		t->version = initial[i];
		assert_int_equal(xts_publish_time_gpa(&f->mem, RAM_GPA + 4 * 4096 + 64, &rec), 0);
		assert_int_equal(t->version, want);
		assert_int_equal(t->version & 1, 0);
		assert_int_equal(t->tsc_timestamp, rec.tsc_timestamp);
		assert_int_equal(t->system_time, rec.system_time);
		assert_int_equal(t->tsc_to_system_mul, rec.tsc_to_system_mul);
		assert_int_equal(t->tsc_shift, rec.tsc_shift);
		assert_int_equal(t->flags, rec.flags);
	}
}

/*
 * A record only 4-byte aligned (a 32-bit guest's vcpu_info may sit there,
 * as Xen allows), and one written with a given version (a secondary area
 * takes the primary's): the returned odd version is the one used.
 */
static void test_publish_time_unaligned_and_given_version(void **state)
{
	struct fixture *f = *state;
	uint8_t *base = f->ram + 5 * 4096 + 4;
	struct vcpu_time_info rec = {
		.tsc_timestamp = 0x1122334455667788ULL, .system_time = 0x0102030405060708ULL,
		.tsc_to_system_mul = 0xdeadbeef, .tsc_shift = -3, .flags = 1,
	};
	struct vcpu_time_info got;
	uint32_t odd;

	memset(base, 0, 32);
	memcpy(base, &(uint32_t){ 9 }, 4);
	odd = xts_publish_time((volatile struct vcpu_time_info *)base, &rec);
	assert_int_equal(odd, 11);                          /* (9 + 1) | 1 */
	memcpy(&got, base, sizeof(got));
	assert_int_equal(got.version, 12);
	assert_int_equal(got.tsc_timestamp, rec.tsc_timestamp);
	assert_int_equal(got.system_time, rec.system_time);
	assert_int_equal(got.tsc_to_system_mul, rec.tsc_to_system_mul);
	assert_int_equal(got.tsc_shift, rec.tsc_shift);
	assert_int_equal(got.flags, rec.flags);

	/* Given version: whatever was there, odd then odd + 1 (UINT32_MAX wraps to 0). */
	xts_publish_time_version((volatile struct vcpu_time_info *)base, &rec, UINT32_MAX);
	memcpy(&got, base, sizeof(got));
	assert_int_equal(got.version, 0);
	assert_int_equal(got.system_time, rec.system_time);
	xts_publish_time_version((volatile struct vcpu_time_info *)base, &rec, 41);
	memcpy(&got, base, sizeof(got));
	assert_int_equal(got.version, 42);
}

static void test_publish_time_rejects(void **state)
{
	struct fixture *f = *state;
	struct vcpu_time_info rec = { .tsc_to_system_mul = 1 };

	snapshot(f);
	assert_int_equal(xts_publish_time_gpa(&f->mem, RAM_GPA + 4, &rec), -EINVAL);             /* misaligned */
	assert_int_equal(xts_publish_time_gpa(&f->mem, RAM_GPA + 4096 - 16, &rec), -EFAULT);     /* crosses a page */
	assert_int_equal(xts_publish_time_gpa(&f->mem, RAM_GPA - 4096, &rec), -EFAULT);          /* below RAM */
	assert_int_equal(xts_publish_time_gpa(&f->mem, RAM_GPA + RAM_SIZE - 16, &rec), -EFAULT); /* runs past RAM */
	assert_int_equal(xts_publish_time_gpa(&f->mem, UINT64_MAX - 7, &rec), -EFAULT);          /* wraps */
	assert_untouched(f);
}

static void test_gmem_bounds(void **state)
{
	struct xts_gmem m = { 0 };
	static uint8_t a[8192], b[8192];
	uint8_t buf[16];

	assert_int_equal(xts_gmem_add(&m, 0x1000, sizeof(a), a), 0);
	assert_int_equal(xts_gmem_add(&m, 0x3000, sizeof(b), b), 0);          /* adjacent: 0x1000-0x3000, 0x3000-0x5000 */
	assert_int_equal(xts_gmem_add(&m, 0x2000, 0x1000, b), -EINVAL);       /* overlap */
	assert_int_equal(xts_gmem_add(&m, 0x9000, 0, b), -EINVAL);            /* empty */
	assert_int_equal(xts_gmem_add(&m, UINT64_MAX - 10, 100, b), -EINVAL); /* wraps */
	assert_int_equal(xts_gmem_add(&m, 0x9000, 16, NULL), -EINVAL);
	assert_int_equal(m.nr, 2);

	assert_ptr_equal(xts_gmem_ptr(&m, 0x1000, 1, 0), a);
	assert_ptr_equal(xts_gmem_ptr(&m, 0x2fff, 1, 0), a + 0x1fff);
	assert_ptr_equal(xts_gmem_ptr(&m, 0x3000, 0x2000, 0), b);
	assert_null(xts_gmem_ptr(&m, 0x2ff8, 16, 0));                        /* straddles two regions */
	assert_null(xts_gmem_ptr(&m, 0xfff, 2, 0));                           /* starts below RAM */
	assert_null(xts_gmem_ptr(&m, 0x4fff, 2, 0));                          /* ends past RAM */
	assert_null(xts_gmem_ptr(&m, 0x1000, 0, 0));                          /* empty */
	assert_null(xts_gmem_ptr(&m, 0x1008, UINT64_MAX, 0));                 /* wraps */
	assert_null(xts_gmem_ptr(&m, UINT64_MAX, 2, 0));
	assert_null(xts_gmem_ptr(&m, 0x1ff8, 16, XTS_GMEM_NO_PAGE_CROSS));    /* crosses 0x2000 */
	assert_ptr_equal(xts_gmem_ptr(&m, 0x1ff0, 16, XTS_GMEM_NO_PAGE_CROSS), a + 0xff0);

	memset(buf, 0x77, sizeof(buf));
	assert_int_equal(xts_gmem_read(&m, 0x2ff8, buf, 16), -EFAULT);
	assert_int_equal(buf[0], 0x77);
	assert_int_equal(xts_gmem_write(&m, 0x4ff8, buf, 16), -EFAULT);
	assert_int_equal(xts_gmem_write(&m, 0x4ff0, buf, 16), 0);
	assert_memory_equal(b + 0x1ff0, buf, 16);
	assert_int_equal(xts_gmem_read(&m, 0x1000, buf, 16), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_wallclock_x86_64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wallclock_x86_32_past_2106, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wallclock_arm64, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wallclock_rejects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_time_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_time_unaligned_and_given_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_time_rejects, setup, teardown),
		cmocka_unit_test(test_gmem_bounds),
	};
	return cmocka_run_group_tests_name("publish", tests, NULL, NULL);
}
