/*
 * Reading a Xen hypercall out of x86 registers, and trapping the hypercall
 * MSR, the way Xen's hvm_hypercall() and its MSR handler see them.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/kvm.h>

#include "shim/xtshim.h"

#define X86_EFER_LMA   (1ULL << 10)
#define X86_CR0_PE     (1ULL << 0)
#define X86_RFLAGS_VM  (1ULL << 17)

bool xts_x86_long_mode(const struct kvm_sregs *s)
{
	return (s->efer & X86_EFER_LMA) && s->cs.l;
}

void xts_x86_hcall_decode(const struct kvm_regs *r, const struct kvm_sregs *s,
			  struct xts_hcall *h)
{
	memset(h, 0, sizeof(*h));
	h->long_mode = xts_x86_long_mode(s);
	/*
	 * Xen's hvm_hypercall() switches on the guest mode: real mode (0) skips
	 * the privilege check and runs the call with the 32-bit convention;
	 * virtual-8086 mode (1) gets -EPERM like CPL 3; protected and long mode
	 * check hvm_get_cpl(), which is SS.DPL.  In real mode SS.DPL means
	 * nothing (KVM may report a stale value), so the caller counts as CPL 0.
	 */
	if (!(s->cr0 & X86_CR0_PE))
		h->cpl = 0;
	else if (r->rflags & X86_RFLAGS_VM)
		h->cpl = 3;
	else
		h->cpl = s->ss.dpl;

	if (h->long_mode) {
		/* All of RAX is the number: anything above 32 bits is unknown. */
		h->nr = r->rax > UINT32_MAX ? UINT32_MAX : (uint32_t)r->rax;
		const uint64_t a[6] = { r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9 };
		memcpy(h->args, a, sizeof(a));
	} else {
		h->nr = (uint32_t)r->rax;
		const uint64_t a[6] = {
			(uint32_t)r->rbx, (uint32_t)r->rcx, (uint32_t)r->rdx,
			(uint32_t)r->rsi, (uint32_t)r->rdi, (uint32_t)r->rbp,
		};
		memcpy(h->args, a, sizeof(a));
	}
}

void xts_x86_hcall_result(struct kvm_regs *r, bool long_mode, int64_t ret)
{
	r->rax = long_mode ? (uint64_t)ret : (uint64_t)(uint32_t)ret;
}

int xts_kvm_trap_msr_write(int vm_fd, uint32_t msr)
{
	struct kvm_enable_cap cap = {
		.cap = KVM_CAP_X86_USER_SPACE_MSR,
		.args[0] = KVM_MSR_EXIT_REASON_FILTER,
	};
	if (ioctl(vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return -errno;

	/* A clear bit denies the access, and a denied access exits to us. */
	uint8_t deny = 0;
	struct kvm_msr_filter f = {
		.flags = KVM_MSR_FILTER_DEFAULT_ALLOW,
		.ranges[0] = {
			.flags = KVM_MSR_FILTER_WRITE,
			.nmsrs = 1,
			.base = msr,
			.bitmap = &deny,
		},
	};
	if (ioctl(vm_fd, KVM_X86_SET_MSR_FILTER, &f) < 0)
		return -errno;
	return 0;
}
