/*
 * XEN_RUNSTATE_UPDATE as a guest reading its runstate area concurrently
 * would see it.  Every write into guest memory goes through the wrapper
 * below (this program is linked with -Wl,--wrap=xts_gmem_write, see
 * hypercalls/build.mk), which samples the watched state_entry_time just
 * before and just after the write: what a reader could find meanwhile.
 * Stores the layer makes without the helper are not seen one by one, only
 * their effect on the next sample.
 *
 * Expectations from Xen 4.18 xen/common/domain.c update_runstate_area():
 * a physical area (VCPUOP 14) is always updated with the flag set in the
 * whole field first and cleared last, no VM_ASSIST check; a virtual one
 * (VCPUOP 5) carries it only with VMASST_TYPE_runstate_update_flag.
 */
#include "hypercalls/tests/fake.h"

#define VCPUOP __HYPERVISOR_vcpu_op
#define MAX_SEEN 64

int __real_xts_gmem_write(const struct xts_gmem *m, uint64_t gpa, const void *buf, uint64_t len);

static uint64_t watch = UINT64_MAX;     /* gpa of the watched state_entry_time */
static uint64_t seen[MAX_SEEN];
static unsigned n_seen;

static void sample(void)
{
	if (watch == UINT64_MAX || !F || n_seen == MAX_SEEN)
		return;
	memcpy(&seen[n_seen++], F->ram + watch, 8);
}

int __wrap_xts_gmem_write(const struct xts_gmem *m, uint64_t gpa, const void *buf, uint64_t len)
{
	int rc;

	sample();
	rc = __real_xts_gmem_write(m, gpa, buf, len);
	sample();
	return rc;
}

static int64_t reg_area(struct fake *f, unsigned cmd, uint64_t addr)
{
	memcpy(gp(f, ARG), &addr, 8);
	return hc(f, 0, VCPUOP, cmd, 0, ARG);
}

enum { NEVER, SOMETIMES, ALWAYS };

/*
 * Register an area (phys or not), let the vCPU start running at system
 * time 7777 and check the flag in what was sampled during that update.
 */
static void check_update(bool phys, bool assist, bool layout32, uint64_t addr, int want)
{
	struct fake *f = fake_new_ex(1, 0x40012, false);
	unsigned entry_off = layout32 ? 4 : 8, i, flagged = 0;

	if (layout32)
		assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, false), 0);
	if (assist)
		assert_int_equal(hc(f, 0, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
				    VMASST_TYPE_runstate_update_flag, 0), 0);
	assert_int_equal(reg_area(f, phys ? 14 : VCPUOP_register_runstate_memory_area, addr), 0);

	watch = addr + entry_off;
	n_seen = 0;
	f->host_tsc = T0 + 7777;
	xts_domain_vcpu_running(f->d, 0, true);
	watch = UINT64_MAX;

	assert_true(n_seen >= 2);
	for (i = 0; i < n_seen; i++) {
		if (!(seen[i] & XEN_RUNSTATE_UPDATE))
			continue;
		flagged++;
		/* The flag guards the new value: never set over the old entry (0). */
		if (phys)
			assert_int_equal(seen[i] & ~XEN_RUNSTATE_UPDATE, 7777);
	}
	if (want == NEVER && flagged)
		print_error("flag seen in %u of %u samples\n", flagged, n_seen);
	if (want == ALWAYS && flagged != n_seen)
		print_error("flag missing in %u of %u samples\n", n_seen - flagged, n_seen);
	if (want == NEVER)
		assert_int_equal(flagged, 0);
	else if (want == ALWAYS)
		assert_int_equal(flagged, n_seen);
	else
		assert_true(flagged > 0);
	/* Done: the entry time itself, flag cleared; the state that goes with it. */
	assert_int_equal(ld64(f, addr + entry_off), 7777);
	assert_int_equal(ld32(f, addr), RUNSTATE_running);
	fake_free(f);
}

/* The point of issue #13 item 7: no assist, yet the phys area is flagged. */
static void test_phys_area_flag_without_assist(void **state)
{
	check_update(true, false, false, 0x70000, ALWAYS);
}

static void test_phys_area_flag_with_assist(void **state)
{
	check_update(true, true, false, 0x70000, ALWAYS);
}

/* A 32-bit guest's area may be 4-byte aligned: state_entry_time at 4 mod 8. */
static void test_phys_area_flag_32bit(void **state)
{
	check_update(true, false, true, 0x72004, ALWAYS);
}

static void test_virtual_area_no_flag_without_assist(void **state)
{
	check_update(false, false, false, 0x71000, NEVER);
}

/* With the assist: the top byte goes first and comes back last (not all samples). */
static void test_virtual_area_flag_with_assist(void **state)
{
	check_update(false, true, false, 0x71000, SOMETIMES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phys_area_flag_without_assist),
		cmocka_unit_test(test_phys_area_flag_with_assist),
		cmocka_unit_test(test_phys_area_flag_32bit),
		cmocka_unit_test(test_virtual_area_no_flag_without_assist),
		cmocka_unit_test(test_virtual_area_flag_with_assist),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
