/*
 * The KVM virtual machine: /dev/kvm, the VM, guest RAM and the in-kernel
 * interrupt controllers.  The in-kernel LAPIC lets any thread inject the
 * event-channel upcall as an MSI without stopping the target vCPU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vmm/vmm.h"

/* Intel needs three pages for the real-mode TSS below 4 GiB; out of RAM. */
#define KVM_TSS_GPA 0xfffbd000ULL

static int kvm__check_caps(struct vmm *v)
{
	static const struct { long cap; const char *name; } need[] = {
		{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
		{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
		{ KVM_CAP_GET_TSC_KHZ, "KVM_CAP_GET_TSC_KHZ" },
		{ KVM_CAP_VCPU_ATTRIBUTES, "KVM_CAP_VCPU_ATTRIBUTES" },
		{ KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR" },
		{ KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER" },
	};
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
		if (ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, need[i].cap) <= 0) {
			fprintf(stderr, "xtshim: KVM lacks %s\n", need[i].name);
			return -ENOTSUP;
		}
	}
	return 0;
}

static int kvm__init_ram(struct vmm *v)
{
	v->ram_size = v->opts.mem_mib << 20;
	v->ram = mmap(NULL, v->ram_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->ram == MAP_FAILED) {
		v->ram = NULL;
		return -errno;
	}
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = v->ram_size,
		.userspace_addr = (uint64_t)(uintptr_t)v->ram,
	};
	if (ioctl(v->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return -errno;
	return xts_gmem_add(&v->gmem, 0, v->ram_size, v->ram);
}

int kvm__init(struct vmm *v)
{
	int r;

	v->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (v->kvm_fd < 0) {
		r = -errno;
		fprintf(stderr, "xtshim: /dev/kvm: %s\n", strerror(errno));
		return r;
	}
	if (ioctl(v->kvm_fd, KVM_GET_API_VERSION, 0) != KVM_API_VERSION) {
		fprintf(stderr, "xtshim: unexpected KVM API version\n");
		return -ENOTSUP;
	}
	if ((r = kvm__check_caps(v)))
		return r;
	r = ioctl(v->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (r <= 0)
		return -EINVAL;
	v->run_size = (size_t)r;

	v->vm_fd = ioctl(v->kvm_fd, KVM_CREATE_VM, 0);
	if (v->vm_fd < 0) {
		r = -errno;
		fprintf(stderr, "xtshim: KVM_CREATE_VM: %s\n", strerror(errno));
		return r;
	}
	if (ioctl(v->vm_fd, KVM_SET_TSS_ADDR, KVM_TSS_GPA) < 0)
		return -errno;
	if (ioctl(v->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		r = -errno;
		fprintf(stderr, "xtshim: KVM_CREATE_IRQCHIP: %s\n", strerror(errno));
		return r;
	}
	if ((r = kvm__init_ram(v))) {
		fprintf(stderr, "xtshim: guest RAM (%llu MiB): %s\n",
			(unsigned long long)v->opts.mem_mib, strerror(-r));
		return r;
	}
	if ((r = xts_kvm_trap_msr_write(v->vm_fd, XTS_XEN_HYPERCALL_MSR))) {
		fprintf(stderr, "xtshim: trapping the hypercall MSR: %s\n", strerror(-r));
		return r;
	}
	return 0;
}

void kvm__exit(struct vmm *v)
{
	if (v->ram)
		munmap(v->ram, v->ram_size);
	if (v->vm_fd >= 0)
		close(v->vm_fd);
	if (v->kvm_fd >= 0)
		close(v->kvm_fd);
	v->ram = NULL;
	v->vm_fd = v->kvm_fd = -1;
}

/* A fixed, edge-triggered interrupt to one LAPIC in physical destination mode. */
int kvm__signal_msi(struct vmm *v, unsigned apic_id, uint8_t vector)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000u | (apic_id << 12),
		.data = vector,
	};
	int r = ioctl(v->vm_fd, KVM_SIGNAL_MSI, &msi);
	return r < 0 ? -errno : r;
}

/*
 * An NMI to one LAPIC: MSI delivery mode 100b (data bits 10:8), vector
 * ignored.  KVM_SIGNAL_MSI is a VM ioctl and takes no vCPU mutex, so any
 * thread may send it while the target sits in KVM_RUN (even halted in
 * the kernel): the in-kernel LAPIC queues the NMI and kicks the vCPU.
 * KVM_NMI is a vCPU ioctl: from another thread it would sleep on the
 * mutex KVM_RUN holds until the target exits, with the domain lock held.
 */
int kvm__signal_nmi(struct vmm *v, unsigned apic_id)
{
	struct kvm_msi msi = {
		.address_lo = 0xfee00000u | (apic_id << 12),
		.data = 4u << 8,
	};
	return ioctl(v->vm_fd, KVM_SIGNAL_MSI, &msi) < 0 ? -errno : 0;
}
