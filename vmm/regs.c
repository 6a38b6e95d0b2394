/*
 * Architectural vCPU states: the PVH entry (32-bit flat protected mode,
 * paging off, EBX = hvm_start_info) and the states a guest asks for with
 * VCPUOP_initialise (struct vcpu_hvm_context, 32- or 64-bit).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vmm/vmm.h"

#define CR0_PE   (1ULL << 0)
#define CR0_ET   (1ULL << 4)
#define CR0_PG   (1ULL << 31)
#define CR4_PAE  (1ULL << 5)
#define EFER_LME (1ULL << 8)
#define EFER_LMA (1ULL << 10)
#define RFLAGS_FIXED (1ULL << 1)

/* Segment attributes in Xen's vcpu_hvm_context "_ar" encoding. */
#define AR_TYPE(ar) ((ar) & 0xf)
#define AR_S(ar)    (((ar) >> 4) & 1)
#define AR_DPL(ar)  (((ar) >> 5) & 3)
#define AR_P(ar)    (((ar) >> 7) & 1)
#define AR_AVL(ar)  (((ar) >> 8) & 1)
#define AR_L(ar)    (((ar) >> 9) & 1)
#define AR_DB(ar)   (((ar) >> 10) & 1)
#define AR_G(ar)    (((ar) >> 11) & 1)

#define AR_CODE32   0xc9b   /* G DB P S type 0xb (execute/read, accessed) */
#define AR_DATA32   0xc93   /* G DB P S type 0x3 (read/write, accessed) */
#define AR_CODE64   0xa9b   /* G L  P S type 0xb */
#define AR_TSS32    0x08b   /* P type 0xb (busy 32-bit TSS) */

static struct kvm_segment seg_from_ar(uint16_t sel, uint64_t base, uint32_t limit, uint16_t ar)
{
	struct kvm_segment s = {
		.base = base, .limit = limit, .selector = sel,
		.type = AR_TYPE(ar), .present = AR_P(ar), .dpl = AR_DPL(ar),
		.db = AR_DB(ar), .s = AR_S(ar), .l = AR_L(ar), .g = AR_G(ar),
		.avl = AR_AVL(ar), .unusable = !AR_P(ar),
	};
	return s;
}

/* Everything not given by an entry state: no LDT, an empty TR, empty IDT. */
static void sregs_base(struct kvm_sregs *s)
{
	s->tr = seg_from_ar(0, 0, 0x67, AR_TSS32);
	s->ldt = seg_from_ar(0, 0, 0, 0x82);
	s->ldt.unusable = 1;
	s->gdt.base = 0, s->gdt.limit = 0xffff;
	s->idt.base = 0, s->idt.limit = 0xffff;
	s->cr2 = 0, s->cr8 = 0;
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

static int set_state(struct vmm_cpu *c, struct kvm_sregs *s, struct kvm_regs *r)
{
	struct kvm_mp_state mp = { .mp_state = KVM_MP_STATE_RUNNABLE };
	if (ioctl(c->fd, KVM_SET_MP_STATE, &mp) < 0)
		return -errno;
	if (ioctl(c->fd, KVM_SET_SREGS, s) < 0)
		return -errno;
	if (ioctl(c->fd, KVM_SET_REGS, r) < 0)
		return -errno;
	return 0;
}

int regs__pvh_entry(struct vmm_cpu *c, uint64_t entry, uint64_t start_info)
{
	struct kvm_sregs s;
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	sregs_base(&s);
	s.cs = seg_from_ar(0x8, 0, 0xffffffff, AR_CODE32);
	s.ds = s.es = s.fs = s.gs = s.ss = seg_from_ar(0x10, 0, 0xffffffff, AR_DATA32);
	s.cr0 = CR0_PE | CR0_ET;
	s.cr3 = 0, s.cr4 = 0, s.efer = 0;

	struct kvm_regs r = { .rip = entry, .rbx = start_info, .rflags = RFLAGS_FIXED };
	return set_state(c, &s, &r);
}

int regs__check_hvm_context(const vcpu_hvm_context_t *ctx)
{
	if (ctx->mode == VCPU_HVM_MODE_32B) {
		const struct vcpu_hvm_x86_32 *x = &ctx->cpu_regs.x86_32;
		const uint16_t ars[] = { x->cs_ar, x->ds_ar, x->ss_ar, x->es_ar, x->tr_ar };
		for (size_t i = 0; i < sizeof(ars) / sizeof(ars[0]); i++)
			if (ars[i] & 0xf000)
				return -XEN_EINVAL;
		/* As Xen: CS, SS and TR not null, CS code, TR a busy 32-bit TSS. */
		if (!x->cs_ar || !x->ss_ar || !x->tr_ar)
			return -XEN_EINVAL;
		if (!AR_P(x->cs_ar) || !AR_S(x->cs_ar) || !(AR_TYPE(x->cs_ar) & 0x8))
			return -XEN_EINVAL;
		if (AR_S(x->tr_ar) || AR_TYPE(x->tr_ar) != 0xb || !AR_P(x->tr_ar))
			return -XEN_EINVAL;
		/* No long mode without paging. */
		if ((x->efer & EFER_LMA) && !(x->cr0 & CR0_PG))
			return -XEN_EINVAL;
		return 0;
	}
	if (ctx->mode == VCPU_HVM_MODE_64B) {
		const struct vcpu_hvm_x86_64 *x = &ctx->cpu_regs.x86_64;
		/* Long mode needs paging and PAE, and both LME and LMA. */
		if (!(x->cr0 & CR0_PG) || !(x->cr0 & CR0_PE) || !(x->cr4 & CR4_PAE) ||
		    (x->efer & (EFER_LME | EFER_LMA)) != (EFER_LME | EFER_LMA))
			return -XEN_EINVAL;
		return 0;
	}
	return -XEN_EINVAL;
}

/*
 * Where each register sits in kvm_regs / kvm_sregs and in the two
 * vcpu_hvm_context layouts (the 32-bit one has 4-byte fields, except EFER).
 */
static const struct ctx_reg {
	size_t kvm_off;         /* in kvm_regs (first table) or kvm_sregs (second) */
	size_t off32, size32, off64;
} ctx_gprs[] = {
#define F32(f) offsetof(struct vcpu_hvm_x86_32, f), sizeof(((struct vcpu_hvm_x86_32 *)0)->f)
#define GPR(k, e) { offsetof(struct kvm_regs, k), F32(e), offsetof(struct vcpu_hvm_x86_64, k) }
	GPR(rax, eax), GPR(rcx, ecx), GPR(rdx, edx), GPR(rbx, ebx), GPR(rsp, esp),
	GPR(rbp, ebp), GPR(rsi, esi), GPR(rdi, edi), GPR(rip, eip), GPR(rflags, eflags),
#undef GPR
}, ctx_crs[] = {
#define CR(k) { offsetof(struct kvm_sregs, k), F32(k), offsetof(struct vcpu_hvm_x86_64, k) }
	CR(cr0), CR(cr3), CR(cr4), CR(efer),
#undef CR
#undef F32
};

static void copy_regs(void *dst, const struct ctx_reg *map, size_t n, const void *ctx, bool is64)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		if (is64)
			memcpy(&v, (const uint8_t *)ctx + map[i].off64, 8);
		else
			memcpy(&v, (const uint8_t *)ctx + map[i].off32, map[i].size32);
		memcpy((uint8_t *)dst + map[i].kvm_off, &v, 8);
	}
}

int regs__hvm_context(struct vmm_cpu *c, const vcpu_hvm_context_t *ctx)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	bool is64 = ctx->mode == VCPU_HVM_MODE_64B;

	if (regs__check_hvm_context(ctx))
		return -EINVAL;
	if (ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	sregs_base(&s);
	memset(&r, 0, sizeof(r));
	copy_regs(&r, ctx_gprs, sizeof(ctx_gprs) / sizeof(ctx_gprs[0]), &ctx->cpu_regs, is64);
	copy_regs(&s, ctx_crs, sizeof(ctx_crs) / sizeof(ctx_crs[0]), &ctx->cpu_regs, is64);
	r.rflags |= RFLAGS_FIXED;
	s.cr0 |= CR0_ET;

	if (is64) {
		/* Xen gives a 64-bit context flat long-mode segments. */
		s.cs = seg_from_ar(0x8, 0, 0xffffffff, AR_CODE64);
		s.ds = s.es = s.fs = s.gs = s.ss = seg_from_ar(0x10, 0, 0xffffffff, AR_DATA32);
	} else {
		const struct vcpu_hvm_x86_32 *x = &ctx->cpu_regs.x86_32;
		s.cs = seg_from_ar(0x8, x->cs_base, x->cs_limit, x->cs_ar);
		s.ds = seg_from_ar(0x10, x->ds_base, x->ds_limit, x->ds_ar);
		s.ss = seg_from_ar(0x10, x->ss_base, x->ss_limit, x->ss_ar);
		s.es = seg_from_ar(0x10, x->es_base, x->es_limit, x->es_ar);
		s.fs = s.gs = s.ds;
		s.tr = seg_from_ar(0x18, x->tr_base, x->tr_limit, x->tr_ar);
	}
	return set_state(c, &s, &r);
}
