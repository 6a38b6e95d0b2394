/*
 * vcpu_op areas and bring-up, shared_info placement and wallclock,
 * runstate accounting.  Time values are checked against the pvclock
 * formula applied here to the simulated host (1 GHz, system time 0 at T0).
 */
#include "hypercalls/tests/fake.h"

#define VCPUOP __HYPERVISOR_vcpu_op
#define VI_TIME 32

static struct vcpu_time_info rec_at(struct fake *f, uint64_t gpa)
{
	struct vcpu_time_info t;

	memcpy(&t, gp(f, gpa), sizeof(t));
	return t;
}

/* The record at `gpa` tells the right system time now, with an even version. */
static void check_record(struct fake *f, uint64_t gpa)
{
	struct vcpu_time_info t = rec_at(f, gpa);

	assert_int_equal(t.version & 1, 0);
	assert_int_not_equal(t.version, 0);
	assert_int_not_equal(t.tsc_to_system_mul, 0);
	assert_int_equal(pvclock_ns(&t, guest_tsc(f)), sys_ns(f));
}

static void test_shinfo_map_and_wallclock(void **state)
{
	struct fake *f = fake_new(2);
	uint64_t sec;
	uint32_t nsec;

	f->host_tsc = T0 + 123456789;
	map_shinfo(f, SHINFO_GPA);
	check_record(f, SHINFO_GPA + VI_TIME);
	check_record(f, SHINFO_GPA + 64 + VI_TIME);
	/* Wallclock: UTC at system time 0 is REALTIME0 (the clock was created then). */
	assert_int_equal(xts_read_wallclock(&f->mem, SHINFO_GPA, XTS_LAYOUT_X86_64, &sec, &nsec), 0);
	assert_int_equal(sec, REALTIME0 / 1000000000ULL);
	assert_int_equal(nsec, REALTIME0 % 1000000000ULL);
	assert_int_equal(ld32(f, SHINFO_GPA + 3076), REALTIME0 / 1000000000ULL);

	/* Remap: everything moves to the new frame. */
	map_shinfo(f, 0x40000);
	check_record(f, 0x40000 + VI_TIME);
	assert_int_equal(xts_read_wallclock(&f->mem, 0x40000, XTS_LAYOUT_X86_64, &sec, &nsec), 0);
	assert_int_equal(sec, REALTIME0 / 1000000000ULL);

	/* Latching the 32-bit layout rewrites the wallclock where i386 guests read it. */
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, false), 0);
	assert_int_equal(ld32(f, 0x40000 + 2308), REALTIME0 / 1000000000ULL);
	assert_int_equal(ld32(f, 0x40000 + 2312), REALTIME0 % 1000000000ULL);
	fake_free(f);
}

static void test_shinfo_map_hostile(void **state)
{
	struct fake *f = fake_new(1);
	struct xen_add_to_physmap a = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
					.idx = 0, .gpfn = RAM_SIZE >> 12 };
	uint64_t gpfns[] = { RAM_SIZE >> 12, UINT64_MAX, UINT64_MAX >> 12, 1ULL << 52 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		a.gpfn = gpfns[i];
		memcpy(gp(f, ARG), &a, sizeof(a));
		assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0),
				 -XEN_EINVAL);
	}
	a.gpfn = 0x20;
	a.idx = 1;
	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -XEN_EINVAL);
	a.idx = 0;
	a.domid = 3;
	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -XEN_ESRCH);
	a.domid = DOMID_SELF;
	/* No grant frames (Xen without CONFIG_GRANT_TABLE): -EINVAL, at any index. */
	a.space = XENMAPSPACE_grant_table;
	for (a.idx = 0; a.idx < 5; a.idx += 4) {
		memcpy(gp(f, ARG), &a, sizeof(a));
		assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0),
				 -XEN_EINVAL);
	}
	a.idx = 0;
	a.space = XENMAPSPACE_gmfn;
	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0),
			 -XEN_EOPNOTSUPP);
	a.space = 99;
	memcpy(gp(f, ARG), &a, sizeof(a));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, RAM_SIZE - 8, 0),
			 -XEN_EFAULT);
	/* Nothing was mapped: frame 0x20 is untouched. */
	assert_int_equal(ld64(f, 0x20000 + VI_TIME + 16), 0);
	fake_free(f);
}

/* A 32-bit caller's xen_add_to_physmap: idx at 8 and gpfn at 12, 4 bytes each. */
static void test_shinfo_map_32bit(void **state)
{
	struct fake *f = fake_new(1);
	uint8_t raw[16] = { 0 };
	uint16_t dom = DOMID_SELF;
	uint32_t gpfn = 0x21;

	memcpy(raw, &dom, 2);
	memcpy(raw + 12, &gpfn, 4);
	memcpy(gp(f, ARG), raw, sizeof(raw));
	assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, ARG, 0,
				 NULL), 0);
	check_record(f, 0x21000 + VI_TIME);
	fake_free(f);
}

static int64_t reg_vcpu_info(struct fake *f, unsigned caller, unsigned vcpu, uint64_t mfn,
			     uint32_t off)
{
	struct vcpu_register_vcpu_info r = { .mfn = mfn, .offset = off };

	memcpy(gp(f, ARG), &r, sizeof(r));
	return hc(f, caller, VCPUOP, VCPUOP_register_vcpu_info, vcpu, ARG);
}

static void test_register_vcpu_info(void **state)
{
	struct fake *f = fake_new(2);
	uint64_t new = 0x50000 + 128;

	map_shinfo(f, SHINFO_GPA);
	*(uint8_t *)gp(f, SHINFO_GPA + 1) = 1;        /* upcall_mask, to be carried over */
	f->host_tsc = T0 + 777777;
	assert_int_equal(reg_vcpu_info(f, 0, 5, 0x50, 128), -XEN_ENOENT);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_register_vcpu_info, 0, RAM_SIZE), -XEN_EFAULT);
	assert_int_equal(ld64(f, new + VI_TIME + 16), 0);   /* nothing written */

	assert_int_equal(reg_vcpu_info(f, 0, 0, 0x50, 128), 0);
	check_record(f, new + VI_TIME);
	assert_int_equal(*(uint8_t *)gp(f, new + 1), 1);                   /* copied */
	assert_int_equal(ld64(f, new + 8), UINT64_MAX);                    /* pending_sel: all */
	assert_int_equal(*(uint8_t *)gp(f, new), 1);                       /* upcall_pending */
	/* Time updates now go to the new place only. */
	{
		uint32_t legacy_version = ld32(f, SHINFO_GPA + VI_TIME);

		f->host_tsc = T0 + 888888;
		xts_domain_update_time(f->d);
		check_record(f, new + VI_TIME);
		assert_int_equal(ld32(f, SHINFO_GPA + VI_TIME), legacy_version);
	}
	fake_free(f);
}

/*
 * Where VCPUOP_register_vcpu_info may put a vcpu_info, release by release.
 * The errnos are read off Xen's source; the first failing check decides.
 *  4.17, xen/common/domain.c map_vcpu_info(): offset > 4096 - 64 -ENXIO,
 *    offset not a multiple of alignof(vcpu_info) (8; 4 for the compat one
 *    of a 32-bit shared_info) -ENXIO, already registered -EINVAL, another
 *    vCPU not VPF_down -EINVAL, no page at the gfn -EINVAL.
 *  4.18, common_vcpu_op(): (mfn << 12) + offset all ones or not in frame
 *    mfn -EINVAL, already registered -EBUSY; then map_guest_area(): the
 *    64 bytes cross a page -ENXIO, not aligned to xen_ulong_t (8, or 4)
 *    -ENXIO, check_get_page_from_gfn() -EINVAL; another vCPU is paused,
 *    not refused.
 */
enum vi_target { VI_SELF, VI_OTHER_OFFLINE, VI_OTHER_UP };

static const struct vi_case {
	const char *what;
	enum vi_target target;
	bool layout32;          /* 32-bit shared_info latched */
	bool registered;        /* the target already has one, at 0x51000 */
	uint64_t mfn;
	uint32_t offset;
	int64_t rc417, rc418;
} vi_cases[] = {
	{ "fits",                       VI_SELF,  false, false, 0x50, 128, 0, 0 },
	{ "crosses, aligned",           VI_SELF,  false, false, 0x50, 4040, -XEN_ENXIO, -XEN_ENXIO },
	{ "offset 4096",                VI_SELF,  false, false, 0x50, 4096, -XEN_ENXIO, -XEN_EINVAL },
	{ "offset 2^32 - 1",            VI_SELF,  false, false, 0x50, 0xffffffffu, -XEN_ENXIO, -XEN_EINVAL },
	{ "4-aligned, 64-bit layout",   VI_SELF,  false, false, 0x50, 132, -XEN_ENXIO, -XEN_ENXIO },
	{ "4-aligned, 32-bit layout",   VI_SELF,  true,  false, 0x50, 132, 0, 0 },
	{ "2-aligned, 32-bit layout",   VI_SELF,  true,  false, 0x50, 130, -XEN_ENXIO, -XEN_ENXIO },
	{ "frame past RAM",             VI_SELF,  false, false, RAM_SIZE >> 12, 0, -XEN_EINVAL, -XEN_EINVAL },
	{ "mfn 2^52 (the shift wraps)", VI_SELF,  false, false, 1ULL << 52, 0, -XEN_EINVAL, -XEN_EINVAL },
	{ "mfn ~0, misaligned",         VI_SELF,  false, false, UINT64_MAX, 4, -XEN_ENXIO, -XEN_EINVAL },
	{ "registered",                 VI_SELF,  false, true,  0x50, 128, -XEN_EINVAL, -XEN_EBUSY },
	{ "registered, crosses",        VI_SELF,  false, true,  0x50, 4040, -XEN_ENXIO, -XEN_EBUSY },
	{ "registered, offset 4096",    VI_SELF,  false, true,  0x50, 4096, -XEN_ENXIO, -XEN_EINVAL },
	{ "other vCPU offline",         VI_OTHER_OFFLINE, false, false, 0x50, 128, 0, 0 },
	{ "other vCPU up",              VI_OTHER_UP, false, false, 0x50, 128, -XEN_EINVAL, 0 },
	{ "other vCPU up, past RAM",    VI_OTHER_UP, false, false, RAM_SIZE >> 12, 0, -XEN_EINVAL, -XEN_EINVAL },
	{ "other vCPU up, crosses",     VI_OTHER_UP, false, false, 0x50, 4040, -XEN_ENXIO, -XEN_ENXIO },
	{ "other vCPU up, registered",  VI_OTHER_UP, false, true,  0x50, 128, -XEN_EINVAL, -XEN_EBUSY },
};

/* False when the errno differs from Xen's (reported, so one run lists them all). */
static bool run_vi_case(const struct vi_case *k, uint32_t version, int64_t want)
{
	struct fake *f = fake_new_ex(2, version, false);
	unsigned vcpu = k->target == VI_SELF ? 0 : 1;
	uint64_t gpa = (k->mfn << 12) + k->offset, before;
	struct xts_vcpu_areas va;
	int64_t rc;

	map_shinfo(f, SHINFO_GPA);
	if (k->layout32)
		assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, false), 0);
	if (k->target == VI_OTHER_UP)
		xts_domain_vcpu_running(f->d, 1, true);
	if (k->registered)
		assert_int_equal(reg_vcpu_info(f, vcpu, vcpu, 0x51, 0), 0);
	assert_int_equal(xts_domain_get_areas(f->d, NULL, vcpu, &va), 0);
	before = va.vcpu_info_gpa;
	rc = reg_vcpu_info(f, 0, vcpu, k->mfn, k->offset);
	if (rc != want) {
		print_error("%s at %#x: got %lld, Xen says %lld\n", k->what, version,
			    (long long)rc, (long long)want);
		fake_free(f);
		return false;
	}
	assert_int_equal(xts_domain_get_areas(f->d, NULL, vcpu, &va), 0);
	if (rc) {
		assert_int_equal(va.vcpu_info_gpa, before);
		/* Nothing written (0x51000 is the earlier registration's). */
		if (gpa + 64 <= RAM_SIZE && gpa >= 0x50000 && gpa != 0x51000)
			assert_int_equal(ld64(f, gpa + VI_TIME + 8), 0);
	} else {
		assert_int_equal(va.vcpu_info_gpa, gpa);
		check_record(f, gpa + VI_TIME);                        /* 4-aligned too */
		assert_int_equal(k->layout32 ? ld32(f, gpa + 4) : ld64(f, gpa + 8),
				 k->layout32 ? UINT32_MAX : UINT64_MAX);  /* pending_sel */
	}
	fake_free(f);
	return true;
}

static void test_register_vcpu_info_by_version(void **state)
{
	unsigned i, wrong = 0;

	for (i = 0; i < sizeof(vi_cases) / sizeof(vi_cases[0]); i++) {
		wrong += !run_vi_case(&vi_cases[i], 0x40011, vi_cases[i].rc417);
		wrong += !run_vi_case(&vi_cases[i], 0x40012, vi_cases[i].rc418);
	}
	assert_int_equal(wrong, 0);
}

static int64_t reg_area(struct fake *f, unsigned cmd, unsigned vcpu, uint64_t addr)
{
	memcpy(gp(f, ARG), &addr, 8);
	return hc(f, vcpu, VCPUOP, cmd, vcpu, ARG);
}

/* The body of a record: every field after the version. */
static void check_body_same(struct fake *f, uint64_t a, uint64_t b)
{
	assert_memory_equal(gp(f, a + 8), gp(f, b + 8), 24);
}

static void test_time_areas(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40012, false);   /* VCPUOP 14/15: Xen 4.18 */
	const uint64_t pri = SHINFO_GPA + VI_TIME;

	map_shinfo(f, SHINFO_GPA);
	f->host_tsc = T0 + 5555;
	assert_int_equal(reg_area(f, 15, 0, 0x61000 - 16), -XEN_ENXIO);    /* crosses */
	assert_int_equal(reg_area(f, 15, 0, 0x60004), -XEN_ENXIO);         /* misaligned */
	assert_int_equal(reg_area(f, 15, 0, RAM_SIZE), -XEN_EINVAL);
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, RAM_SIZE - 8),
			 -XEN_EINVAL);
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, RAM_SIZE),
			 -XEN_EFAULT);
	assert_int_equal(ld64(f, 0x60000 + 16), 0);

	/* A virtual area alone: refreshed with the primary at registration. */
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, 0x60040), 0);
	check_record(f, 0x60040);
	assert_int_equal(ld32(f, 0x60040), ld32(f, pri));
	/* Moved: the new place gets the updates. */
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, 0x60080), 0);
	f->host_tsc = T0 + 99999999;
	xts_domain_update_time(f->d);
	check_record(f, 0x60080);
	check_record(f, pri);
	check_body_same(f, 0x60080, pri);
	/* Unregister (NULL handle) stops updates. */
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, 0), 0);
	{
		struct vcpu_time_info before = rec_at(f, 0x60080);

		f->host_tsc += 1ULL << 40;
		xts_domain_update_time(f->d);
		assert_memory_equal(gp(f, 0x60080), &before, 32);
	}
	/* A physical area: published alone at registration, then with the primary. */
	assert_int_equal(reg_area(f, 15, 0, 0x60000), 0);
	f->host_tsc += 1000;
	xts_domain_update_time(f->d);
	check_record(f, 0x60000);
	check_body_same(f, 0x60000, pri);
	/* ~0 unregisters a physical area. */
	assert_int_equal(reg_area(f, 15, 0, UINT64_MAX), 0);
	{
		struct vcpu_time_info before = rec_at(f, 0x60000);

		f->host_tsc += 1000;
		xts_domain_update_time(f->d);
		assert_memory_equal(gp(f, 0x60000), &before, 32);
	}
	/*
	 * 32-bit callers: a virtual handle is the low 32 bits, a physical
	 * address all 64 (so this one is outside RAM).
	 */
	{
		uint64_t addr = (1ULL << 32) | 0x62000;

		memcpy(gp(f, ARG), &addr, 8);
		assert_int_equal(hc_mode(f, 0, false, VCPUOP, VCPUOP_register_vcpu_time_memory_area, 0,
					 ARG, NULL), 0);
		check_record(f, 0x62000);
		assert_int_equal(hc_mode(f, 0, false, VCPUOP, 15, 0, ARG, NULL), -XEN_EINVAL);
	}
	/* With the 32-bit layout latched, map_guest_area() asks 4-byte alignment only. */
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, false), 0);
	assert_int_equal(reg_area(f, 15, 0, 0x66002), -XEN_ENXIO);
	assert_int_equal(reg_area(f, 15, 0, 0x66004), 0);
	{
		struct vcpu_time_info t = rec_at(f, 0x66004);

		assert_int_equal(t.version, 0);
		assert_int_equal(pvclock_ns(&t, guest_tsc(f)), sys_ns(f));
	}
	fake_free(f);
}

/*
 * Xen 4.18 keeps both secondary areas (xen/arch/x86/time.c): while a
 * physical one is set, update_secondary_system_time() writes only it
 * (time_guest_area.map first, the VCPUOP 13 handle otherwise), with the
 * primary's version: write_time_guest_area() stores the primary's odd
 * version, the body, then that + 1.  A physical area is filled as it is
 * registered by force_update_secondary_system_time(): version -1 during
 * the write, so 0 after, and the primary record is left alone.
 */
static void test_time_areas_both(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40012, false);
	const uint64_t pri = SHINFO_GPA + VI_TIME, virt = 0x63000, phys = 0x64000;
	struct vcpu_time_info v_before;
	struct xts_vcpu_areas va;
	uint32_t pv;

	map_shinfo(f, SHINFO_GPA);
	f->host_tsc = T0 + 1234;
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, virt), 0);
	assert_int_equal(ld32(f, virt), ld32(f, pri));

	/* Registering the physical area: version 0 there, the primary untouched. */
	*(uint32_t *)gp(f, phys) = 77;                       /* whatever was there */
	pv = ld32(f, pri);
	v_before = rec_at(f, virt);
	f->host_tsc = T0 + 2345;
	assert_int_equal(reg_area(f, 15, 0, phys), 0);
	assert_int_equal(ld32(f, phys), 0);
	assert_int_equal(ld32(f, pri), pv);
	{
		struct vcpu_time_info t = rec_at(f, phys);

		assert_int_not_equal(t.tsc_to_system_mul, 0);
		assert_int_equal(pvclock_ns(&t, guest_tsc(f)), sys_ns(f));
	}
	assert_int_equal(xts_domain_get_areas(f->d, NULL, 0, &va), 0);
	assert_int_equal(va.time_gpa, phys);                 /* KVM's one area: the physical */

	/* Updates: the physical area takes the primary's version, the virtual none. */
	*(uint32_t *)gp(f, pri) = 41;                        /* a guest scribbling on it */
	*(uint32_t *)gp(f, phys) = 1000;
	f->host_tsc = T0 + 3456;
	xts_domain_update_time(f->d);
	assert_int_equal(ld32(f, pri), 44);                  /* (41 + 1) | 1, + 1 */
	assert_int_equal(ld32(f, phys), 44);
	check_body_same(f, phys, pri);
	check_record(f, phys);
	assert_memory_equal(gp(f, virt), &v_before, 32);
	/* VCPUOP 13 again while the physical area is set: still only that one. */
	assert_int_equal(reg_area(f, VCPUOP_register_vcpu_time_memory_area, 0, virt + 64), 0);
	assert_int_equal(ld32(f, phys), ld32(f, pri));
	assert_int_equal(ld64(f, virt + 64 + 8), 0);

	/* Physical area gone: the virtual one gets the updates again, same version rule. */
	assert_int_equal(reg_area(f, 15, 0, UINT64_MAX), 0);
	assert_int_equal(xts_domain_get_areas(f->d, NULL, 0, &va), 0);
	assert_int_equal(va.time_gpa, virt + 64);
	f->host_tsc = T0 + 4567;
	xts_domain_update_time(f->d);
	check_record(f, virt + 64);
	assert_int_equal(ld32(f, virt + 64), ld32(f, pri));
	check_body_same(f, virt + 64, pri);
	fake_free(f);
}

/*
 * Xen writes the VCPUOP 13 area through the page tables of the moment
 * (__copy_to_guest() on every update).  xtshim translates it again when
 * it writes it in a hypercall of that vCPU; elsewhere it uses the last
 * translation (see time_virt_retranslate() for why).
 */
static void test_time_area_follows_mapping(void **state)
{
	struct fake *f = fake_new_ex(2, 0x40011, true);
	const uint64_t off = 0xffff800000000000ULL, va = off + 0x65000;
	const uint64_t shift = 0x1000;          /* the new mapping: va -> 0x64000 */
	struct xen_add_to_physmap m = { .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info,
					.gpfn = SHINFO_GPA >> 12 };
	struct xts_domain_areas da, db;
	struct xts_vcpu_areas a;
	struct vcpu_time_info old;

	f->gva_offset = off;
	memcpy(gp(f, ARG), &m, sizeof(m));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, off + ARG, 0), 0);
	memcpy(gp(f, ARG), &va, 8);
	f->host_tsc = T0 + 1111;
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_register_vcpu_time_memory_area, 0, off + ARG), 0);
	check_record(f, 0x65000);
	old = rec_at(f, 0x65000);

	/* The guest remaps the page; vCPU 1's hypercall republishes: not vCPU 0's view. */
	f->gva_offset = off + shift;
	assert_int_equal(xts_domain_get_areas(f->d, &da, 0, NULL), 0);
	memcpy(gp(f, ARG), &m, sizeof(m));
	f->host_tsc = T0 + 2222;
	assert_int_equal(hc(f, 1, __HYPERVISOR_memory_op, XENMEM_add_to_physmap,
			    off + shift + ARG, 0), 0);
	assert_int_equal(ld64(f, 0x64000 + 8), 0);
	check_record(f, 0x65000);

	/* vCPU 0's own hypercall writes it where it now is; the old page is left. */
	memcpy(gp(f, ARG), &m, sizeof(m));
	old = rec_at(f, 0x65000);
	f->host_tsc = T0 + 3333;
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap,
			    off + shift + ARG, 0), 0);
	check_record(f, 0x64000);
	assert_int_equal(ld32(f, 0x64000), ld32(f, SHINFO_GPA + VI_TIME));
	assert_memory_equal(gp(f, 0x65000), &old, 32);
	assert_int_equal(xts_domain_get_areas(f->d, &db, 0, &a), 0);
	assert_int_equal(a.time_gpa, 0x64000);
	assert_true(db.generation != da.generation);         /* a record keeper follows */
	/* Later updates from elsewhere use that translation. */
	f->host_tsc = T0 + 4444;
	xts_domain_update_time(f->d);
	check_record(f, 0x64000);

	/* Unmapped now (below the fake's offset): nothing written, not even at the last place. */
	f->gva_offset = va + 1;
	old = rec_at(f, 0x64000);
	memcpy(gp(f, ARG), &m, sizeof(m));
	f->host_tsc = T0 + 5555;
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_add_to_physmap, va + 1 + ARG, 0), 0);
	assert_memory_equal(gp(f, 0x64000), &old, 32);
	xts_domain_update_time(f->d);
	assert_memory_equal(gp(f, 0x64000), &old, 32);
	assert_int_equal(xts_domain_get_areas(f->d, NULL, 0, &a), 0);
	assert_int_equal(a.time_gpa, XTS_NO_AREA);
	fake_free(f);
}

/*
 * VCPUOP 14 and 15 exist from Xen 4.18: 4.17's do_vcpu_op() hands them to
 * common_vcpu_op(), whose default case is -ENOSYS (after the vCPU id check).
 */
static void test_phys_areas_need_4_18(void **state)
{
	static const uint32_t versions[] = { 0x30000, 0x40011, 0x40012, 0x50000 };
	unsigned i;

	for (i = 0; i < 4; i++) {
		struct fake *f = fake_new_ex(2, versions[i], false);
		bool has = versions[i] >= 0x40012;
		struct xts_vcpu_areas va;

		map_shinfo(f, SHINFO_GPA);
		f->host_tsc = T0 + 4444;
		assert_int_equal(reg_area(f, 14, 0, 0x70000), has ? 0 : -XEN_ENOSYS);
		assert_int_equal(reg_area(f, 15, 0, 0x60000), has ? 0 : -XEN_ENOSYS);
		/* An argument that cannot be read: 4.17 never looks at it. */
		assert_int_equal(hc(f, 0, VCPUOP, 15, 0, RAM_SIZE), has ? -XEN_EFAULT : -XEN_ENOSYS);
		memcpy(gp(f, ARG), &(uint64_t){ 0x60000 }, 8);
		assert_int_equal(hc(f, 0, VCPUOP, 14, 2, ARG), -XEN_ENOENT);
		assert_int_equal(xts_domain_get_areas(f->d, NULL, 0, &va), 0);
		if (has) {
			assert_int_equal(va.runstate_gpa[0], 0x70000);
			assert_int_equal(va.time_gpa, 0x60000);
			assert_int_equal(ld32(f, 0x70000), RUNSTATE_runnable);
		} else {
			assert_int_equal(va.runstate_gpa[0], XTS_NO_AREA);
			assert_int_equal(va.time_gpa, XTS_NO_AREA);
			assert_int_equal(ld64(f, 0x70000 + 8), 0);      /* nothing written */
			assert_int_equal(ld64(f, 0x60000 + 16), 0);
		}
		fake_free(f);
	}
}

static void read_runstate64(struct fake *f, uint64_t gpa, uint32_t *state, uint64_t *entry,
			    uint64_t t[4])
{
	*state = ld32(f, gpa);
	*entry = ld64(f, gpa + 8);
	memcpy(t, gp(f, gpa + 16), 32);
}

static void test_runstate(void **state)
{
	struct fake *f = fake_new_ex(2, 0x40012, false);   /* VCPUOP 14/15: Xen 4.18 */
	uint32_t st;
	uint64_t entry, t[4];
	enum xts_hcall_action act;

	map_shinfo(f, SHINFO_GPA);
	set_callback_vector(f, 0xf3);
	f->host_tsc = T0 + 1000;
	assert_int_equal(reg_area(f, 14, 0, 0x70000), 0);
	read_runstate64(f, 0x70000, &st, &entry, t);
	assert_int_equal(st, RUNSTATE_runnable);
	assert_int_equal(t[0] + t[1] + t[2] + t[3], entry);

	f->host_tsc = T0 + 5000;
	xts_domain_vcpu_running(f->d, 0, true);
	read_runstate64(f, 0x70000, &st, &entry, t);
	assert_int_equal(st, RUNSTATE_running);
	assert_int_equal(entry, 5000);
	assert_int_equal(t[RUNSTATE_runnable], 5000);  /* runnable since creation at 0 */

	/* Block from 9000 to 20000: blocked time grows by 11000. */
	f->host_tsc = T0 + 9000;
	assert_int_equal(hc_mode(f, 0, true, __HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, &act), 0);
	assert_int_equal(act, XTS_HCALL_BLOCK);
	read_runstate64(f, 0x70000, &st, &entry, t);
	assert_int_equal(st, RUNSTATE_blocked);
	assert_int_equal(t[RUNSTATE_running], 4000);
	f->host_tsc = T0 + 20000;
	xts_domain_send_virq(f->d, 0, VIRQ_TIMER);        /* not bound: no wake */
	assert_false(xts_domain_vcpu_runnable(f->d, 0));
	bind_virq(f, 0, VIRQ_TIMER);
	xts_domain_send_virq(f->d, 0, VIRQ_TIMER);
	assert_true(xts_domain_vcpu_runnable(f->d, 0));
	read_runstate64(f, 0x70000, &st, &entry, t);
	assert_int_equal(st, RUNSTATE_runnable);
	assert_int_equal(t[RUNSTATE_blocked], 11000);
	assert_int_equal(t[0] + t[1] + t[2] + t[3], entry);

	/* get_runstate_info of vCPU 1 (offline all along), 64-bit and 32-bit callers. */
	f->host_tsc = T0 + 30000;
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_get_runstate_info, 1, ARG), 0);
	read_runstate64(f, ARG, &st, &entry, t);
	assert_int_equal(st, RUNSTATE_offline);
	assert_int_equal(t[RUNSTATE_offline], 30000);
	memset(gp(f, ARG), 0xee, 64);
	assert_int_equal(hc_mode(f, 0, false, VCPUOP, VCPUOP_get_runstate_info, 1, ARG, NULL), 0);
	assert_int_equal(ld32(f, ARG), RUNSTATE_offline);
	assert_int_equal(ld64(f, ARG + 4), 0);                 /* entry at 4 on i386 */
	assert_int_equal(ld64(f, ARG + 12 + 3 * 8), 30000);    /* time[offline] at 12 + 24 */
	assert_int_equal(*(uint8_t *)gp(f, ARG + 44), 0xee);   /* 44 bytes, no more */
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_get_runstate_info, 1, RAM_SIZE - 40), -XEN_EFAULT);
	fake_free(f);
}

static void test_runstate_update_flag_and_width(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40012, false);   /* VCPUOP 14/15: Xen 4.18 */
	uint64_t entry;

	assert_int_equal(hc(f, 0, __HYPERVISOR_vm_assist, VMASST_CMD_enable, 4, 0), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vm_assist, VMASST_CMD_enable,
			    VMASST_TYPE_runstate_update_flag, 0), 0);
	/* Registered by virtual address, straddling a page: both halves written. */
	assert_int_equal(reg_area(f, VCPUOP_register_runstate_memory_area, 0, 0x71000 - 20), 0);
	f->host_tsc = T0 + 4242;
	xts_domain_vcpu_running(f->d, 0, true);
	assert_int_equal(ld32(f, 0x71000 - 20), RUNSTATE_running);
	memcpy(&entry, gp(f, 0x71000 - 12), 8);
	assert_int_equal(entry, 4242);                  /* flag cleared when done */
	assert_int_equal(ld64(f, 0x71000 - 20 + 16), 0);
	assert_int_equal(ld64(f, 0x71000 - 20 + 24), 4242);  /* runnable time crosses the page */
	/* The 32-bit layout once latched: 44 bytes, entry at 4. */
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, false), 0);
	assert_int_equal(reg_area(f, 14, 0, 0x72004), 0);
	assert_int_equal(ld64(f, 0x72004 + 4), 4242);
	assert_int_equal(ld64(f, 0x72004 + 12 + 8), 4242);
	/* Misaligned or crossing physical runstate areas are refused. */
	assert_int_equal(reg_area(f, 14, 0, 0x72ffc), -XEN_ENXIO);
	fake_free(f);
}

static void test_up_down_initialise(void **state)
{
	struct fake *f = fake_new(3);
	vcpu_hvm_context_t ctx = { .mode = VCPU_HVM_MODE_32B };

	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_is_up, 0, 0), 1);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_is_up, 1, 0), 0);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_is_up, 3, 0), -XEN_ENOENT);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_is_up, 0x100000000ULL, 0), 1); /* int vcpuid */
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_up, 1, 0), -XEN_EINVAL);   /* not initialised */
	assert_int_equal(f->n_up, 0);

	ctx.mode = 7;
	memcpy(gp(f, ARG), &ctx, sizeof(ctx));
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 1, ARG), -XEN_EINVAL);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 1, RAM_SIZE - 8), -XEN_EFAULT);
	assert_int_equal(f->n_init, 0);
	ctx.mode = VCPU_HVM_MODE_32B;
	memcpy(gp(f, ARG), &ctx, sizeof(ctx));
	f->init_rc = -XEN_ENOMEM;            /* the VMM refuses: the vCPU stays uninitialised */
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 1, ARG), -XEN_ENOMEM);
	f->init_rc = 0;
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 1, ARG), 0);
	assert_int_equal(f->n_init, 2);
	assert_int_equal(f->last_vcpu_op, 1);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 1, ARG), -XEN_EEXIST);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_up, 1, 0), 0);
	assert_int_equal(f->n_up, 1);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_is_up, 1, 0), 1);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_up, 1, 0), 0);       /* already up */
	assert_int_equal(f->n_up, 1);
	assert_int_equal(hc(f, 1, VCPUOP, VCPUOP_down, 1, 0), 0);
	assert_int_equal(f->n_down, 1);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_is_up, 1, 0), 0);
	/* The last vCPU going down powers the domain off. */
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_down, 0, 0), 0);
	assert_int_equal(f->n_shutdown, 1);
	assert_int_equal(f->shutdown_reason, SHUTDOWN_poweroff);
	fake_free(f);
}

/* VCPUOP_initialise needs a vcpu_info: vCPUs >= 32 must register one first. */
static void test_initialise_needs_vcpu_info(void **state)
{
	struct fake *f = fake_new(33);
	vcpu_hvm_context_t ctx = { .mode = VCPU_HVM_MODE_64B };

	memcpy(gp(f, ARG2), &ctx, sizeof(ctx));
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 32, ARG2), -XEN_EINVAL);
	assert_int_equal(reg_vcpu_info(f, 0, 32, 0x80, 0), 0);
	assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_initialise, 32, ARG2), 0);
	fake_free(f);
}

/* Hypercall arguments are guest-virtual: the platform's translation is used, page by page. */
static void test_translate_gva(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40011, true);
	struct xen_feature_info fi = { 0 };
	const uint64_t off = 0xffff800000000000ULL;

	f->gva_offset = off;
	memcpy(gp(f, ARG), &fi, sizeof(fi));
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, off + ARG, 0), 0);
	memcpy(&fi, gp(f, ARG), sizeof(fi));
	assert_int_not_equal(fi.submap, 0);
	/* Not mapped (below the offset) and mapped but outside RAM. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, ARG, 0), -XEN_EFAULT);
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, off + RAM_SIZE, 0),
			 -XEN_EFAULT);
	/* VCPUOP 13 takes a virtual address, translated at registration. */
	{
		uint64_t va = off + 0x60000;

		memcpy(gp(f, ARG), &va, 8);
		f->host_tsc = T0 + 31337;
		assert_int_equal(hc(f, 0, VCPUOP, VCPUOP_register_vcpu_time_memory_area, 0, off + ARG), 0);
		check_record(f, 0x60000);
	}
	fake_free(f);
}

/* The registrations a kernel backend forwards to KVM, and their generation. */
static void test_get_areas(void **state)
{
	struct fake *f = fake_new_ex(2, 0x40012, false);   /* VCPUOP 14/15: Xen 4.18 */
	struct xts_domain_areas da, db;
	struct xts_vcpu_areas va;

	assert_int_equal(xts_domain_get_areas(f->d, &da, 0, &va), 0);
	assert_int_equal(da.shared_info_gpa, XTS_NO_AREA);
	assert_true(da.long_mode);
	assert_int_equal(va.vcpu_info_gpa, XTS_NO_AREA);
	assert_int_equal(va.time_gpa, XTS_NO_AREA);
	assert_int_equal(va.runstate_gpa[0], XTS_NO_AREA);
	assert_int_equal(xts_domain_get_areas(f->d, NULL, 2, &va), -EINVAL);

	map_shinfo(f, SHINFO_GPA);
	set_callback_vector(f, 0xf3);
	assert_int_equal(reg_vcpu_info(f, 1, 1, 0x50, 64), 0);
	assert_int_equal(reg_area(f, 15, 1, 0x60000), 0);
	assert_int_equal(reg_area(f, VCPUOP_register_runstate_memory_area, 1, 0x71000 - 8), 0);
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, false), 0);
	assert_int_equal(xts_domain_get_areas(f->d, &db, 1, &va), 0);
	assert_true(db.generation > da.generation);
	assert_int_equal(db.shared_info_gpa, SHINFO_GPA);
	assert_false(db.long_mode);
	assert_int_equal(db.callback_vector, 0xf3);
	assert_int_equal(va.vcpu_info_gpa, 0x50040);
	assert_int_equal(va.time_gpa, 0x60000);
	assert_int_equal(va.runstate_gpa[0], 0x71000 - 8);
	assert_int_equal(va.runstate_gpa[1], 0x71000);
	assert_int_equal(va.runstate_len0, 8);
	/* Nothing changed: same generation. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_version, 0, 0), 0x40012);
	assert_int_equal(xts_domain_get_areas(f->d, &da, 0, NULL), 0);
	assert_int_equal(da.generation, db.generation);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shinfo_map_and_wallclock),
		cmocka_unit_test(test_shinfo_map_hostile),
		cmocka_unit_test(test_shinfo_map_32bit),
		cmocka_unit_test(test_register_vcpu_info),
		cmocka_unit_test(test_register_vcpu_info_by_version),
		cmocka_unit_test(test_time_areas),
		cmocka_unit_test(test_phys_areas_need_4_18),
		cmocka_unit_test(test_time_areas_both),
		cmocka_unit_test(test_time_area_follows_mapping),
		cmocka_unit_test(test_runstate),
		cmocka_unit_test(test_runstate_update_flag_and_width),
		cmocka_unit_test(test_up_down_initialise),
		cmocka_unit_test(test_initialise_needs_vcpu_info),
		cmocka_unit_test(test_translate_gva),
		cmocka_unit_test(test_get_areas),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
