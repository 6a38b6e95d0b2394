/* Finding Xen and the per-domain / per-vCPU set-up every guest does. */
#include "compat-tests/lib/guest.h"
#include "compat-tests/lib/internal.h"

uint32_t xen_cpuid_base;
volatile shared_info_t *shared_info;
static bool page_ready;
static uint8_t shared_info_page[4096] __attribute__((aligned(4096)));
static struct vcpu_info vcpu_info_area[MAX_CPUS] __attribute__((aligned(64)));
static volatile struct vcpu_info *vcpu_info_ptr[MAX_CPUS];

bool xen_detect(void)
{
	for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
		uint32_t r[4];
		cpuid_count(base, 0, r);
		if (!memcmp(&r[1], "XenV", 4) && !memcmp(&r[2], "MMXe", 4) &&
		    !memcmp(&r[3], "nVMM", 4) && r[0] - base >= 2) {
			xen_cpuid_base = base;
			return true;
		}
	}
	return false;
}

bool hypercall_page_ready(void)
{
	return page_ready;
}

int xen_install_hypercall_page(void)
{
	uint32_t r[4];
	if (!xen_cpuid_base)
		return -XEN_ENODEV;
	cpuid_count(xen_cpuid_base + 2, 0, r);
	if (r[0] < 1)
		return -XEN_ENODEV;
	/* The guest is identity mapped: this address is also the GPA. */
	wrmsr(r[1], (uintptr_t)hypercall_page);
	for (unsigned i = 0; i < 32; i++)
		if (hypercall_page[i])
			return (page_ready = true), 0;
	return -XEN_EIO;        /* the write "worked" but nothing was filled in */
}

int xen_map_shared_info(void)
{
	struct xen_add_to_physmap xatp = {
		.domid = DOMID_SELF,
		.space = XENMAPSPACE_shared_info,
		.idx = 0,
		.gpfn = (uintptr_t)shared_info_page >> 12,
	};
	long rc = memory_op(XENMEM_add_to_physmap, &xatp);
	if (rc)
		return (int)rc;
	shared_info = (volatile shared_info_t *)shared_info_page;
	return 0;
}

volatile struct vcpu_info *xen_vcpu_info(unsigned cpu)
{
	if (cpu < MAX_CPUS && vcpu_info_ptr[cpu])
		return vcpu_info_ptr[cpu];
	if (shared_info && cpu < XEN_LEGACY_MAX_VCPUS)
		return &shared_info->vcpu_info[cpu];
	return NULL;
}

int xen_register_vcpu_info(unsigned cpu)
{
	if (cpu >= MAX_CPUS)
		return -XEN_EINVAL;
	uintptr_t gpa = (uintptr_t)&vcpu_info_area[cpu];
	struct vcpu_register_vcpu_info r = { .mfn = gpa >> 12, .offset = gpa & 0xfff };
	long rc = vcpu_op(VCPUOP_register_vcpu_info, cpu, &r);
	if (rc)
		return (int)rc;
	vcpu_info_ptr[cpu] = &vcpu_info_area[cpu];
	return 0;
}

int xen_set_upcall_vector(unsigned cpu)
{
	struct xen_hvm_evtchn_upcall_vector a = { .vcpu = cpu, .vector = UPCALL_VECTOR };
	return (int)hvm_op(HVMOP_set_evtchn_upcall_vector, &a);
}

int xen_set_callback_vector(void)
{
	struct xen_hvm_param p = {
		.domid = DOMID_SELF,
		.index = HVM_PARAM_CALLBACK_IRQ,
		.value = (uint64_t)HVM_PARAM_CALLBACK_TYPE_VECTOR << 56 | UPCALL_VECTOR,
	};
	return (int)hvm_op(HVMOP_set_param, &p);
}
