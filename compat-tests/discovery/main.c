/*
 * Discovery: the Xen CPUID leaves a guest finds before anything else.
 * The signature scan (and no KVM signature beside it), the version leaf
 * against XENVER_version and the configured version (xen_version=X.Y on
 * the command line), the hypercall leaf and the page its MSR fills
 * (int3 padding, ud2 at the iret stub, #GP for a misaligned address), and
 * the HVM leaf's vcpu id on every vCPU.
 */
#include "compat-tests/lib/xtest.h"
#include <xen/arch-x86/cpuid.h>

const char test_title[] = "discovery: Xen CPUID leaves and the hypercall page";

static uint32_t hvm_leaf[MAX_CPUS][4];

static void read_hvm_leaf(unsigned cpu)
{
	cpuid_count(xen_cpuid_base + 4, 0, hvm_leaf[cpu]);
}

static void check_signature(void)
{
	unsigned xen = 0;
	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		uint32_t r[4];
		cpuid_count(base, 0, r);
		check(memcmp(&r[1], "KVMKVMKVM\0\0\0", 12) != 0,
		      "KVM signature at %#x: guests would pick kvmclock", base);
		if (r[1] == XEN_CPUID_SIGNATURE_EBX && r[2] == XEN_CPUID_SIGNATURE_ECX &&
		    r[3] == XEN_CPUID_SIGNATURE_EDX)
			xen++;
	}
	check(xen == 1, "%u Xen signatures in 0x40000000..0x4000ff00, want 1", xen);
	uint32_t r[4];
	cpuid_count(xen_cpuid_base, 0, r);
	printk("signature at %#x, max leaf %#x\n", xen_cpuid_base, r[0]);
	/* Leaves 1..4 (version, hypercall, time, HVM) are what every guest reads. */
	check(r[0] >= xen_cpuid_base + 4 && r[0] < xen_cpuid_base + 0x100,
	      "max leaf %#x does not cover base+4 (base %#x)", r[0], xen_cpuid_base);
}

static void check_version(void)
{
	uint32_t r[4];
	char buf[16];
	cpuid_count(xen_cpuid_base + 1, 0, r);
	printk("version leaf %u.%u\n", r[0] >> 16, r[0] & 0xffff);
	check(r[0] >> 16 >= 3, "version leaf major %u is below 3", r[0] >> 16);
	long v = xen_version(XENVER_version, NULL);
	check((uint32_t)v == r[0], "XENVER_version %#lx differs from CPUID base+1 %#x", v, r[0]);
	if (cmdline_arg("xen_version", buf, sizeof(buf))) {
		const char *dot;
		uint64_t major = strtou64(buf, &dot), minor = *dot == '.' ? strtou64(dot + 1, NULL) : 0;
		check(r[0] == (major << 16 | minor), "version leaf %#x, configured %s", r[0], buf);
	}
}

static void check_hypercall_leaf(void)
{
	uint32_t r[4];
	cpuid_count(xen_cpuid_base + 2, 0, r);
	printk("hypercall leaf: %u page(s), MSR %#x\n", r[0], r[1]);
	check(r[0] >= 1, "hypercall leaf offers %u pages", r[0]);
	check(r[1] == 0x40000000, "hypercall MSR %#x, Xen uses 0x40000000", r[1]);

	/* Xen's page: 32-byte stubs, int3 padding, ud2 for HYPERVISOR_iret. */
	const uint8_t *iret = hypercall_page + __HYPERVISOR_iret * 32;
	check(iret[0] == 0x0f && iret[1] == 0x0b, "stub %u (iret) starts %02x %02x, want ud2",
	      __HYPERVISOR_iret, iret[0], iret[1]);
	check(hypercall_page[4095] == 0xcc, "the page ends with %#x, want int3 padding",
	      hypercall_page[4095]);
	for (unsigned nr = 0; nr < 128; nr++)
		if (nr != __HYPERVISOR_iret && hypercall_page[nr * 32] == 0xcc) {
			xfail("stub %u is empty", nr);
			break;
		}

	/* A misaligned page address is refused with #GP; the page stays usable. */
	int vec = wrmsr_safe(r[1], (uintptr_t)hypercall_page + 8);
	check(vec == 13, "hypercall MSR write of a misaligned address: vector %d, want #GP (13)",
	      vec);
	check(xen_version(XENVER_version, NULL) > 0, "hypercalls fail after the refused MSR write");
}

void test_main(void)
{
	if (!xtest_setup(SETUP_HCALL | SETUP_SHINFO))
		return;
	check_signature();
	check_version();
	check_hypercall_leaf();

	unsigned n = smp_possible_cpus();
	read_hvm_leaf(0);
	for (unsigned cpu = 1; cpu < n && cpu < MAX_CPUS; cpu++)
		smp_run(cpu, read_hvm_leaf, 2 * NS_PER_S);
	for (unsigned cpu = 0; cpu < n && cpu < MAX_CPUS; cpu++) {
		uint32_t *h = hvm_leaf[cpu];
		printk("vCPU %u: HVM leaf eax %#x vcpu id %u domid %u\n", cpu, h[0], h[1], h[2]);
		if (check(h[0] & XEN_HVM_CPUID_VCPU_ID_PRESENT, "vCPU %u: HVM leaf has no vcpu id", cpu))
			check(h[1] == cpu, "vCPU %u: HVM leaf vcpu id %u", cpu, h[1]);
	}
	report_figure("vcpus", n, "");
}
