/*
 * Dispatcher rules, xen_version, CPUID leaves, the hypercall page and MSR,
 * domain creation checks.
 */
#include <sys/mman.h>
#include "hypercalls/tests/fake.h"

static void test_unknown_and_unimplemented(void **state)
{
	struct fake *f = fake_new(2);
	uint32_t nrs[] = { __HYPERVISOR_mmu_update, __HYPERVISOR_multicall, __HYPERVISOR_iret,
			   __HYPERVISOR_domctl, 43, 63, 127, 128, 0xffffffffu };
	unsigned i;

	for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++)
		assert_int_equal(hc(f, 0, nrs[i], 0, 0, 0), -XEN_ENOSYS);
	/* Unknown sub-commands of implemented hypercalls. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, 99, ARG, 0), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, 63, ARG, 0), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vcpu_op, 99, 0, ARG), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_sched_op, 99, ARG, 0), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_event_channel_op, 99, ARG, 0), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_hvm_op, 99, ARG, 0), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_console_io, 99, 0, ARG), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_grant_table_op, 0, ARG, 1), -XEN_ENOSYS);
	assert_int_equal(hc(f, 0, __HYPERVISOR_vm_assist, 7, VMASST_TYPE_runstate_update_flag, 0),
			 -XEN_ENOSYS);
	/* Out-of-range vCPU index from the VMM itself. */
	assert_int_equal(hc(f, 2, __HYPERVISOR_xen_version, XENVER_version, 0, 0), -XEN_EINVAL);
	fake_free(f);
}

static void test_cpl3_is_eperm(void **state)
{
	struct fake *f = fake_new(1);
	uint32_t nrs[] = { __HYPERVISOR_xen_version, __HYPERVISOR_sched_op, __HYPERVISOR_vcpu_op,
			   __HYPERVISOR_memory_op, __HYPERVISOR_mmu_update, 200 };
	struct xts_hcall h = { .long_mode = true };
	unsigned i, cpl;
	int64_t ret;

	for (cpl = 1; cpl <= 3; cpl++)
		for (i = 0; i < sizeof(nrs) / sizeof(nrs[0]); i++) {
			h.nr = nrs[i];
			h.cpl = cpl;
			h.args[0] = SCHEDOP_shutdown;
			h.args[1] = ARG;
			assert_int_equal(xts_hypercall(f->d, 0, &h, &ret), XTS_HCALL_DONE);
			assert_int_equal(ret, -XEN_EPERM);
		}
	assert_int_equal(f->n_shutdown, 0);   /* the shutdown at CPL > 0 did nothing */
	fake_free(f);
}

static void test_xen_version(void **state)
{
	struct fake *f = fake_new(1);
	struct xen_feature_info fi = { .submap_idx = 0 };
	char extra[16];
	uint32_t bits;

	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_version, 0, 0), (4 << 16) | 17);
	/* `int cmd`: the upper half of a 64-bit register is not part of it. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, 0xabcd00000000ULL | XENVER_version, 0, 0),
			 (4 << 16) | 17);
	assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_xen_version, XENVER_version, 0, 0, NULL),
			 0x40011);
	memcpy(gp(f, ARG), &fi, sizeof(fi));
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, ARG, 0), 0);
	memcpy(&fi, gp(f, ARG), sizeof(fi));
	bits = (1u << 8) | (1u << 9);
	assert_int_equal(fi.submap & bits, bits);
	assert_int_equal(fi.submap & (1u << XENFEAT_dom0), 0);
	/* 18, 19 (runstate / vcpu_time phys areas) are Xen 4.18 features: not for 4.17. */
	assert_int_equal(fi.submap & ((1u << 18) | (1u << 19)), 0);
	/* Xen 4.17 common/kernel.c: any submap_idx but 0 is -EINVAL, nothing written. */
	fi.submap_idx = 1;
	fi.submap = 0xfeedf00d;
	memcpy(gp(f, ARG), &fi, sizeof(fi));
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, ARG, 0),
			 -XEN_EINVAL);
	memcpy(&fi, gp(f, ARG), sizeof(fi));
	assert_int_equal(fi.submap, 0xfeedf00d);
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_pagesize, 0, 0), 4096);
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_extraversion, ARG, 0), 0);
	memcpy(extra, gp(f, ARG), 16);
	assert_non_null(memchr(extra, 0, 16));
	/* Hostile pointers: outside RAM, wrapping, crossing out of RAM. */
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, RAM_SIZE, 0),
			 -XEN_EFAULT);
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, UINT64_MAX - 3, 0),
			 -XEN_EFAULT);
	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_extraversion, RAM_SIZE - 8, 0),
			 -XEN_EFAULT);
	assert_int_equal(ld64(f, RAM_SIZE - 8), 0);   /* nothing written half-way */
	fake_free(f);
}

static void test_xen_version_417_vs_custom(void **state)
{
	struct fake *f = fake_new_ex(1, 0x40013, false);

	assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_version, 0, 0), 0x40013);
	fake_free(f);
	/* From 4.18 on, the phys-area features (XENFEAT 18, 19) are advertised. */
	for (uint32_t ver = 0x40012; ver <= 0x40013; ver++) {
		struct xen_feature_info fi = { .submap_idx = 0 };

		f = fake_new_ex(1, ver, false);
		memcpy(gp(f, ARG), &fi, sizeof(fi));
		assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, ARG, 0), 0);
		memcpy(&fi, gp(f, ARG), sizeof(fi));
		assert_int_equal(fi.submap & ((1u << 18) | (1u << 19)), (1u << 18) | (1u << 19));
		fake_free(f);
	}
}

/*
 * Submap 0 exactly, per reported version.  Expected bits are read off Xen's
 * do_xen_version (common/kernel.c) for an HVM domU that has paging_mode_translate,
 * no PIRQs and no VMASST pae_extended_cr3, written as numbers from
 * public/features.h: 0 writable_page_tables, 2 auto_translated_physmap,
 * 8 hvm_callback_vector, 9 hvm_safe_pvclock, 13 memory_op_vnode_supported,
 * 16 not_direct_mapped; from RELEASE-4.18.0 also 18 runstate_phys_area,
 * 19 vcpu_time_phys_area.
 */
static void test_xen_features_exact(void **state)
{
	static const struct { uint32_t ver, submap; } tab[] = {
		{ 0x30002, 0x00012305 },
		{ 0x40011, 0x00012305 },       /* 4.17 */
		{ 0x40012, 0x000d2305 },       /* 4.18 */
		{ 0x40013, 0x000d2305 },
	};

	for (unsigned i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		struct fake *f = fake_new_ex(1, tab[i].ver, false);
		struct xen_feature_info fi = { .submap_idx = 0, .submap = 0xa5a5a5a5 };

		memcpy(gp(f, ARG), &fi, sizeof(fi));
		assert_int_equal(hc(f, 0, __HYPERVISOR_xen_version, XENVER_get_features, ARG, 0), 0);
		memcpy(&fi, gp(f, ARG), sizeof(fi));
		if (fi.submap != tab[i].submap)
			fail_msg("version %#x: submap %#x, Xen gives %#x", tab[i].ver, fi.submap,
				 tab[i].submap);
		fake_free(f);
	}
}

/*
 * XENMEM_get_vnumainfo for a domain without vNUMA, as Xen's do_memory_op
 * (common/memory.c): a start extent -EINVAL, the 40-byte structure read
 * whole (-EFAULT), pad must be 0 (-EINVAL), the domain must exist
 * (-ESRCH), then -EOPNOTSUPP; nothing is written back.
 */
static void test_vnumainfo(void **state)
{
	struct fake *f = fake_new(1);
	struct xen_vnuma_topology_info t = { .domid = DOMID_SELF, .nr_vnodes = 4 };

	memcpy(gp(f, ARG), &t, sizeof(t));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo, ARG, 0),
			 -XEN_EOPNOTSUPP);
	assert_int_equal(ld32(f, ARG + 4), 4);
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo | (1 << 6), ARG, 0),
			 -XEN_EINVAL);
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo, RAM_SIZE - 39, 0),
			 -XEN_EFAULT);
	t.domid = 7;                                   /* the fixture's own domid */
	memcpy(gp(f, ARG), &t, sizeof(t));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo, ARG, 0),
			 -XEN_EOPNOTSUPP);
	t.domid = 8;
	memcpy(gp(f, ARG), &t, sizeof(t));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo, ARG, 0),
			 -XEN_ESRCH);
	t.domid = DOMID_SELF;
	t.pad = 1;
	memcpy(gp(f, ARG), &t, sizeof(t));
	assert_int_equal(hc(f, 0, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo, ARG, 0),
			 -XEN_EINVAL);
	/* 32-bit callers: the same 40 bytes. */
	assert_int_equal(hc_mode(f, 0, false, __HYPERVISOR_memory_op, XENMEM_get_vnumainfo,
				 RAM_SIZE - 39, 0, NULL), -XEN_EFAULT);
	fake_free(f);
}

static void test_cpuid(void **state)
{
	struct fake *f = fake_new(2);
	uint32_t r[4], t[4];
	char sig[13] = { 0 };

	assert_false(xts_domain_cpuid(f->d, 0, 0x3fffffff, 0, r));
	assert_false(xts_domain_cpuid(f->d, 0, 0x40000100, 0, r));
	assert_true(xts_domain_cpuid(f->d, 0, 0x40000000, 0, r));
	assert_int_equal(r[0], 0x40000005);
	memcpy(sig, &r[1], 4);
	memcpy(sig + 4, &r[2], 4);
	memcpy(sig + 8, &r[3], 4);
	assert_string_equal(sig, "XenVMMXenVMM");
	assert_true(xts_domain_cpuid(f->d, 0, 0x40000001, 0, r));
	assert_int_equal(r[0], (4u << 16) | 17);
	assert_true(xts_domain_cpuid(f->d, 0, 0x40000002, 0, r));
	assert_int_equal(r[0], 1);
	assert_int_equal(r[1], 0x40000000);
	/* Timing leaf: what the clock model says (guest kHz in ECX, incarnation 1). */
	assert_true(xts_domain_cpuid(f->d, 0, 0x40000003, 0, r));
	assert_int_equal(xts_clock_cpuid_timing(&f->clock, 0, t), 0);
	assert_memory_equal(r, t, sizeof(t));
	assert_int_equal(r[2], HOST_KHZ);
	assert_int_equal(r[3], 1);
	assert_true(xts_domain_cpuid(f->d, 0, 0x40000003, 7, r));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	assert_true(xts_domain_cpuid(f->d, 1, 0x40000004, 0, r));
	/* Xen sets IOMMU_MAPPINGS always (cpuid_hypervisor_leaves, since 4.11). */
	assert_int_equal(r[0] & (1u << 2), 1u << 2);   /* public arch-x86/cpuid.h: bit 2 */
	/* ... and has subleaf 0 only: others read as zeros. */
	assert_true(xts_domain_cpuid(f->d, 1, 0x40000004, 1, t));
	assert_int_equal(t[0] | t[1] | t[2] | t[3], 0);
	assert_true(xts_domain_cpuid(f->d, 1, 0x40000004, 0, r));
	assert_int_equal(r[0] & ((1u << 3) | (1u << 4) | (1u << 6)), (1u << 3) | (1u << 4) | (1u << 6));
	assert_int_equal(r[1], 1);
	assert_int_equal(r[2], 7);
	assert_true(xts_domain_cpuid(f->d, 0, 0x400000ff, 0, r));
	assert_int_equal(r[0] | r[1] | r[2] | r[3], 0);
	fake_free(f);
}

/* Expected stub bytes, spelled out from the instruction encodings. */
static void test_hypercall_page_bytes(void **state)
{
	uint8_t page[4096];
	unsigned nr;

	xts_hypercall_page_fill(page, XTS_TRANSPORT_VMCALL, 0);
	for (nr = 0; nr < 128; nr++) {
		uint8_t *p = page + nr * 32;

		if (nr == 23) {
			assert_int_equal(p[0], 0x0f);
			assert_int_equal(p[1], 0x0b);
			continue;
		}
		uint8_t want[9] = { 0xb8, (uint8_t)nr, 0, 0, 0, 0x0f, 0x01, 0xc1, 0xc3 };
		assert_memory_equal(p, want, sizeof(want));
	}
	xts_hypercall_page_fill(page, XTS_TRANSPORT_VMMCALL, 0);
	{
		uint8_t want[9] = { 0xb8, 17, 0, 0, 0, 0x0f, 0x01, 0xd9, 0xc3 };
		assert_memory_equal(page + 17 * 32, want, sizeof(want));
	}
	xts_hypercall_page_fill(page, XTS_TRANSPORT_IOPORT, 0x9a);
	for (nr = 0; nr < 128; nr++) {
		uint8_t *p = page + nr * 32;
		uint8_t want[18] = {
			0x8c, 0xc8,             /* mov %cs,%eax */
			0xa8, 0x03,             /* test $3,%al */
			0x75, 0x08,             /* jnz +8 -> offset 14 */
			0xb8, (uint8_t)nr, 0, 0, 0,
			0xe7, 0x9a,             /* out %eax,$0x9a */
			0xc3,
			0x6a, 0xff,             /* push $-1 */
			0x58, 0xc3,             /* pop %rax; ret */
		};
		unsigned i;

		if (nr == 23)
			continue;
		assert_memory_equal(p, want, sizeof(want));
		/* The jnz lands on the -EPERM path: 6 + 8 == 14. */
		assert_int_equal(6 + (int8_t)p[5], 14);
		for (i = sizeof(want); i < 32; i++)
			assert_int_equal(p[i], 0xcc);
	}
}

/*
 * Run the IOPORT stubs for real in this (CPL 3, 64-bit) process: the CPL
 * check must take the -EPERM path before `out`, which would fault here,
 * and return -1 sign-extended to 64 bits.
 */
static void test_ioport_stub_runs_at_cpl3(void **state)
{
#if defined(__x86_64__)
	uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned nr;

	assert_true(page != MAP_FAILED);
	xts_hypercall_page_fill(page, XTS_TRANSPORT_IOPORT, 0x80);
	assert_int_equal(mprotect(page, 4096, PROT_READ | PROT_EXEC), 0);
	for (nr = 0; nr < 128; nr++) {
		long (*stub)(void) = (long (*)(void))(void *)(page + nr * 32);

		if (nr == 23)
			continue;
		assert_int_equal(stub(), -XEN_EPERM);
	}
	munmap(page, 4096);
#else
	skip();
#endif
}

static void test_hypercall_msr(void **state)
{
	struct fake *f = fake_new(1);
	uint8_t want[4096];

	memset(gp(f, 0x30000), 0x5a, 4096);
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30001, true), -EINVAL);
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, RAM_SIZE, true), -EINVAL);
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, UINT64_MAX & ~0xfffULL, true),
			 -EINVAL);
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 1, 0x30000, true), -EINVAL);
	assert_int_equal(*(uint8_t *)gp(f, 0x30000), 0x5a);
	assert_int_equal(xts_domain_write_hypercall_msr(f->d, 0, 0x30000, true), 0);
	xts_hypercall_page_fill(want, XTS_TRANSPORT_IOPORT, 0x80);
	assert_memory_equal(gp(f, 0x30000), want, 4096);
	fake_free(f);
}

static void test_create_rejects(void **state)
{
	struct fake *f = fake_new(2);
	struct xts_domain_config c = f->cfg;
	struct xts_platform_ops ops = *f->cfg.ops;
	struct xts_domain *d = NULL;

	c.nr_vcpus = 3;
	assert_int_equal(xts_domain_create(&c, &d), -EINVAL);
	c = f->cfg;
	c.hcall_io_port = 0x100;
	assert_int_equal(xts_domain_create(&c, &d), -EINVAL);
	c = f->cfg;
	c.console_pfn = RAM_SIZE >> 12;
	assert_int_equal(xts_domain_create(&c, &d), -EINVAL);
	c = f->cfg;
	c.store_pfn = c.console_pfn;
	assert_int_equal(xts_domain_create(&c, &d), -EINVAL);
	c = f->cfg;
	c.transport = 7;
	assert_int_equal(xts_domain_create(&c, &d), -EINVAL);
	c = f->cfg;
	ops.arm_timer = NULL;
	c.ops = &ops;
	assert_int_equal(xts_domain_create(&c, &d), -EINVAL);
	assert_null(d);
	assert_string_equal(xts_hypercall_name(17), "xen_version");
	assert_string_equal(xts_hypercall_name(34), "hvm_op");
	assert_string_equal(xts_hypercall_name(1000), "unknown");
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_and_unimplemented),
		cmocka_unit_test(test_cpl3_is_eperm),
		cmocka_unit_test(test_xen_version),
		cmocka_unit_test(test_xen_version_417_vs_custom),
		cmocka_unit_test(test_xen_features_exact),
		cmocka_unit_test(test_vnumainfo),
		cmocka_unit_test(test_cpuid),
		cmocka_unit_test(test_hypercall_page_bytes),
		cmocka_unit_test(test_ioport_stub_runs_at_cpl3),
		cmocka_unit_test(test_hypercall_msr),
		cmocka_unit_test(test_create_rejects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
