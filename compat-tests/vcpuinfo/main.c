/*
 * VCPUOP_register_vcpu_info: moving vCPU 0's vcpu_info out of shared_info.
 *  - Refused without side effects: an area crossing a page, a frame
 *    outside RAM (the next valid registration still works).
 *  - The moved vcpu_info carries what the old one held (upcall mask), a
 *    fresh time record (published at registration), and everything marked
 *    pending (upcall_pending, pending_sel all ones) so no event is lost.
 *  - From then on the time record is published there, not in shared_info.
 *  - A second registration is refused by the release's rule: -EINVAL up to
 *    4.17 (map_vcpu_info() in xen/common/domain.c), -EBUSY from 4.18
 *    (common_vcpu_op()); with 2 vCPUs, vCPU 1 (registered by the library
 *    at start-up) gets the same, and vCPU 0 cannot register for the
 *    running vCPU 1.  A page-crossing one is -ENXIO in both.
 */
#include "compat-tests/lib/xtest.h"

const char test_title[] = "vcpuinfo: VCPUOP_register_vcpu_info";

static uint8_t page[2][4096] __attribute__((aligned(4096)));
static long busy;   /* already registered: the release's errno */

static long register_at(unsigned cpu, uint64_t gpa)
{
	struct vcpu_register_vcpu_info r = { .mfn = gpa >> 12, .offset = (uint32_t)(gpa & 0xfff) };
	return vcpu_op(VCPUOP_register_vcpu_info, cpu, &r);
}

static void check_refusals(void)
{
	long rc = register_at(0, (uintptr_t)page[0] + 4096 - 32);
	expect_rc(rc, -XEN_ENXIO, "a vcpu_info crossing a page");
	rc = register_at(0, 0xfffff000ULL << 12);
	expect_rc(rc, -XEN_EINVAL, "a vcpu_info outside guest RAM");
}

/* Any republish of vCPU 0's record: registering a secondary time area does one. */
static void republish(void)
{
	static struct vcpu_time_info area __attribute__((aligned(64)));
	struct vcpu_register_time_memory_area a;
	memset(&a, 0, sizeof(a));
	a.addr.p = (uintptr_t)&area;
	expect_rc(vcpu_op(VCPUOP_register_vcpu_time_memory_area, 0, &a), 0,
		  "register_vcpu_time_memory_area (to have the record republished)");
}

static void check_move(void)
{
	volatile struct vcpu_info *old = &shared_info->vcpu_info[0];
	old->evtchn_upcall_mask = 1;      /* must travel with the move */

	/* The library's own (zeroed) area, so its time helpers follow the move. */
	if (!expect_rc(xen_register_vcpu_info(0), 0, "register_vcpu_info"))
		return;
	volatile struct vcpu_info *vi = xen_vcpu_info(0);
	if (!check(vi != old, "the library still points at shared_info"))
		return;
	printk("moved: mask %u pending %u sel %#lx time version %u mul %#x\n",
	       vi->evtchn_upcall_mask, vi->evtchn_upcall_pending,
	       (unsigned long)vi->evtchn_pending_sel, vi->time.version, vi->time.tsc_to_system_mul);
	check(vi->evtchn_upcall_mask == 1, "upcall mask %u after the move, was 1",
	      vi->evtchn_upcall_mask);
	check(vi->evtchn_upcall_pending == 1, "upcall_pending %u after the move: events may be lost",
	      vi->evtchn_upcall_pending);
	check(vi->evtchn_pending_sel == (xen_ulong_t)~0UL, "pending_sel %#lx after the move",
	      (unsigned long)vi->evtchn_pending_sel);
	check(vi->time.version && !(vi->time.version & 1) && vi->time.tsc_to_system_mul,
	      "no time record in the moved vcpu_info (version %u)", vi->time.version);

	/* Its time is now: within the hypervisor's clock bracket. */
	struct vcpu_time_info t;
	uint64_t tsc = xen_time_snapshot(0, &t);
	uint64_t ns = pvclock_at(&t, tsc);
	struct xen_hvm_get_time gt = { 0 };
	if (expect_rc(hvm_op(HVMOP_get_time, &gt), 0, "HVMOP_get_time"))
		check(gt.now + 1000 >= ns, "moved record says %llu ns, the hypervisor then %llu ns",
		      (unsigned long long)ns, (unsigned long long)gt.now);

	/* Updates go to the new place only. */
	struct vcpu_time_info poison;
	memset(&poison, 0x5a, sizeof(poison));
	poison.version = 0x5a5a5a5a;
	memcpy((void *)&old->time, &poison, sizeof(poison));
	uint32_t v = vi->time.version;
	republish();
	check(vi->time.version != v, "the moved record was not republished (version %u)", v);
	check(!memcmp((const void *)&old->time, &poison, sizeof(poison)),
	      "shared_info's slot still receives vCPU 0's time after the move");

	expect_rc(register_at(0, (uintptr_t)page[1] + 512), busy, "second register_vcpu_info");
}

static volatile long vcpu1_again;
static void secondary(unsigned cpu)
{
	vcpu1_again = register_at(cpu, (uintptr_t)page[0] + 256);
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO))
		return;
	busy = xen_version(XENVER_version, NULL) >= 0x40012 ? -XEN_EBUSY : -XEN_EINVAL;
	check_refusals();
	check_move();
	if (smp_possible_cpus() > 1 && smp_run(1, secondary, 2 * NS_PER_S)) {
		expect_rc(vcpu1_again, busy, "vCPU 1 registering its vcpu_info again");
		long rc = register_at(1, (uintptr_t)page[0] + 384);
		check(rc < 0, "vCPU 0 moved the running vCPU 1's vcpu_info (%ld)", rc);
	}
}
