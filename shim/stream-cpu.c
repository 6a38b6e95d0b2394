/*
 * struct hvm_hw_cpu -> KVM register state.
 *
 * Segment attributes: Xen saves them packed as in an SVM VMCB (bits 0-3
 * type, 4 S, 5-6 DPL, 7 P, 8 AVL, 9 L, 10 D/B, 11 G); Xen clears P for a
 * segment VMX marks unusable, so KVM's `unusable` is !P.  Limits are the
 * expanded byte limits on both sides.  The FPU is the 512-byte FXSAVE image.
 */
#include <errno.h>
#include <string.h>
#include "abi/xen-stream.h"
#include "shim/stream-cpu.h"

static void seg(struct kvm_segment *k, uint32_t sel, uint32_t limit, uint64_t base, uint32_t attr)
{
	memset(k, 0, sizeof(*k));
	k->selector = (uint16_t)sel;
	k->limit = limit;
	k->base = base;
	k->type = attr & 0xf;
	k->s = (attr >> 4) & 1;
	k->dpl = (attr >> 5) & 3;
	k->present = (attr >> 7) & 1;
	k->avl = (attr >> 8) & 1;
	k->l = (attr >> 9) & 1;
	k->db = (attr >> 10) & 1;
	k->g = (attr >> 11) & 1;
	k->unusable = !k->present;
}

/* FXSAVE image (Intel SDM vol. 1, table 10-2, 64-bit format) -> kvm_fpu. */
static void fxsave_to_kvm(const uint8_t *fx, struct kvm_fpu *f)
{
	memset(f, 0, sizeof(*f));
	memcpy(&f->fcw, fx + 0, 2);
	memcpy(&f->fsw, fx + 2, 2);
	f->ftwx = fx[4];
	memcpy(&f->last_opcode, fx + 6, 2);
	memcpy(&f->last_ip, fx + 8, 8);
	memcpy(&f->last_dp, fx + 16, 8);
	memcpy(&f->mxcsr, fx + 24, 4);
	for (int i = 0; i < 8; i++)
		memcpy(f->fpr[i], fx + 32 + 16 * i, 16);
	for (int i = 0; i < 16; i++)
		memcpy(f->xmm[i], fx + 160 + 16 * i, 16);
}

static uint32_t arbytes(const struct kvm_segment *k)
{
	return (k->type & 0xfu) | (uint32_t)(k->s & 1) << 4 | (uint32_t)(k->dpl & 3) << 5 |
	       (uint32_t)(k->present && !k->unusable) << 7 | (uint32_t)(k->avl & 1) << 8 |
	       (uint32_t)(k->l & 1) << 9 | (uint32_t)(k->db & 1) << 10 | (uint32_t)(k->g & 1) << 11;
}

static void kvm_to_fxsave(const struct kvm_fpu *f, uint8_t *fx)
{
	memset(fx, 0, 512);
	memcpy(fx + 0, &f->fcw, 2);
	memcpy(fx + 2, &f->fsw, 2);
	fx[4] = f->ftwx;
	memcpy(fx + 6, &f->last_opcode, 2);
	memcpy(fx + 8, &f->last_ip, 8);
	memcpy(fx + 16, &f->last_dp, 8);
	memcpy(fx + 24, &f->mxcsr, 4);
	for (int i = 0; i < 8; i++)
		memcpy(fx + 32 + 16 * i, f->fpr[i], 16);
	for (int i = 0; i < 16; i++)
		memcpy(fx + 160 + 16 * i, f->xmm[i], 16);
}

static uint64_t msr(const struct xts_xen_cpu_kvm *k, uint32_t index)
{
	for (uint32_t i = 0; i < k->nr_msrs && i < XTS_XEN_CPU_MSRS; i++)
		if (k->msrs[i].index == index)
			return k->msrs[i].data;
	return 0;
}

int xts_kvm_to_xen_cpu(const struct xts_xen_cpu_kvm *k, void *out)
{
	struct hvm_hw_cpu c;

	memset(&c, 0, sizeof(c));
	if (k->fpu_valid) {
		kvm_to_fxsave(&k->fpu, c.fpu_regs);
		c.flags = XEN_X86_FPU_INITIALISED;
	}
	c.rax = k->regs.rax; c.rbx = k->regs.rbx; c.rcx = k->regs.rcx; c.rdx = k->regs.rdx;
	c.rbp = k->regs.rbp; c.rsi = k->regs.rsi; c.rdi = k->regs.rdi; c.rsp = k->regs.rsp;
	c.r8 = k->regs.r8; c.r9 = k->regs.r9; c.r10 = k->regs.r10; c.r11 = k->regs.r11;
	c.r12 = k->regs.r12; c.r13 = k->regs.r13; c.r14 = k->regs.r14; c.r15 = k->regs.r15;
	c.rip = k->regs.rip;
	c.rflags = k->regs.rflags;
	c.cr0 = k->sregs.cr0; c.cr2 = k->sregs.cr2; c.cr3 = k->sregs.cr3; c.cr4 = k->sregs.cr4;
	c.dr0 = k->debugregs.db[0]; c.dr1 = k->debugregs.db[1];
	c.dr2 = k->debugregs.db[2]; c.dr3 = k->debugregs.db[3];
	c.dr6 = k->debugregs.dr6; c.dr7 = k->debugregs.dr7;
#define SEG(x, f) do { c.x##_sel = k->sregs.f.selector; c.x##_limit = k->sregs.f.limit; \
		       c.x##_base = k->sregs.f.base; c.x##_arbytes = arbytes(&k->sregs.f); } while (0)
	SEG(cs, cs); SEG(ds, ds); SEG(es, es); SEG(fs, fs);
	SEG(gs, gs); SEG(ss, ss); SEG(tr, tr); SEG(ldtr, ldt);
#undef SEG
	c.gdtr_base = k->sregs.gdt.base;
	c.gdtr_limit = k->sregs.gdt.limit;
	c.idtr_base = k->sregs.idt.base;
	c.idtr_limit = k->sregs.idt.limit;
	c.msr_efer = k->sregs.efer;
	c.sysenter_cs = msr(k, 0x174);
	c.sysenter_esp = msr(k, 0x175);
	c.sysenter_eip = msr(k, 0x176);
	c.shadow_gs = msr(k, 0xc0000102);
	c.msr_lstar = msr(k, 0xc0000082);
	c.msr_star = msr(k, 0xc0000081);
	c.msr_cstar = msr(k, 0xc0000083);
	c.msr_syscall_mask = msr(k, 0xc0000084);
	c.msr_tsc_aux = msr(k, 0xc0000103);
	c.tsc = k->tsc;
	c.pending_vector = k->pending_vector;
	c.pending_type = k->pending_type & 7;
	c.pending_error_valid = k->pending_error_valid;
	c.pending_valid = k->pending_valid;
	c.error_code = k->error_code;
	memcpy(out, &c, sizeof(c));
	return 0;
}

int xts_xen_cpu_to_kvm(const void *body, uint32_t len, struct xts_xen_cpu_kvm *out)
{
	struct hvm_hw_cpu c;
	struct xts_xen_cpu_kvm k;
	const struct hvm_hw_cpu_compat *old = body;

	if (len == sizeof(struct hvm_hw_cpu)) {
		memcpy(&c, body, sizeof(c));
	} else if (len == sizeof(struct hvm_hw_cpu_compat)) {
		/* As Xen's own loader fixes it up: no TSC_AUX, FPU initialised. */
		memset(&c, 0, sizeof(c));
		memcpy(&c, body, offsetof(struct hvm_hw_cpu_compat, tsc));
		c.tsc = old->tsc;
		c.pending_event = old->pending_event;
		c.error_code = old->error_code;
		c.msr_tsc_aux = 0;
		c.flags = XEN_X86_FPU_INITIALISED;
	} else {
		return -EINVAL;
	}
	_Static_assert(offsetof(struct hvm_hw_cpu_compat, tsc) == offsetof(struct hvm_hw_cpu, msr_tsc_aux),
		       "the compat layout is the current one without msr_tsc_aux and flags");

	memset(&k, 0, sizeof(k));
	k.regs = (struct kvm_regs){
		.rax = c.rax, .rbx = c.rbx, .rcx = c.rcx, .rdx = c.rdx,
		.rsi = c.rsi, .rdi = c.rdi, .rsp = c.rsp, .rbp = c.rbp,
		.r8 = c.r8, .r9 = c.r9, .r10 = c.r10, .r11 = c.r11,
		.r12 = c.r12, .r13 = c.r13, .r14 = c.r14, .r15 = c.r15,
		.rip = c.rip, .rflags = c.rflags,
	};
	seg(&k.sregs.cs, c.cs_sel, c.cs_limit, c.cs_base, c.cs_arbytes);
	seg(&k.sregs.ds, c.ds_sel, c.ds_limit, c.ds_base, c.ds_arbytes);
	seg(&k.sregs.es, c.es_sel, c.es_limit, c.es_base, c.es_arbytes);
	seg(&k.sregs.fs, c.fs_sel, c.fs_limit, c.fs_base, c.fs_arbytes);
	seg(&k.sregs.gs, c.gs_sel, c.gs_limit, c.gs_base, c.gs_arbytes);
	seg(&k.sregs.ss, c.ss_sel, c.ss_limit, c.ss_base, c.ss_arbytes);
	seg(&k.sregs.tr, c.tr_sel, c.tr_limit, c.tr_base, c.tr_arbytes);
	seg(&k.sregs.ldt, c.ldtr_sel, c.ldtr_limit, c.ldtr_base, c.ldtr_arbytes);
	k.sregs.gdt.base = c.gdtr_base;
	k.sregs.gdt.limit = (uint16_t)c.gdtr_limit;
	k.sregs.idt.base = c.idtr_base;
	k.sregs.idt.limit = (uint16_t)c.idtr_limit;
	k.sregs.cr0 = c.cr0;
	k.sregs.cr2 = c.cr2;
	k.sregs.cr3 = c.cr3;
	k.sregs.cr4 = c.cr4;
	k.sregs.efer = c.msr_efer;

	k.debugregs.db[0] = c.dr0;
	k.debugregs.db[1] = c.dr1;
	k.debugregs.db[2] = c.dr2;
	k.debugregs.db[3] = c.dr3;
	k.debugregs.dr6 = c.dr6;
	k.debugregs.dr7 = c.dr7;

	k.fpu_valid = c.flags & XEN_X86_FPU_INITIALISED;
	if (k.fpu_valid)
		fxsave_to_kvm(c.fpu_regs, &k.fpu);

	static const uint32_t idx[XTS_XEN_CPU_MSRS] = {
		0x174, 0x175, 0x176,                    /* SYSENTER_CS/ESP/EIP */
		0xc0000102,                              /* KERNEL_GS_BASE */
		0xc0000082, 0xc0000081, 0xc0000083,      /* LSTAR, STAR, CSTAR */
		0xc0000084,                              /* SFMASK */
		0xc0000103,                              /* TSC_AUX */
	};
	const uint64_t val[XTS_XEN_CPU_MSRS] = {
		c.sysenter_cs, c.sysenter_esp, c.sysenter_eip, c.shadow_gs,
		c.msr_lstar, c.msr_star, c.msr_cstar, c.msr_syscall_mask, c.msr_tsc_aux,
	};
	for (unsigned i = 0; i < XTS_XEN_CPU_MSRS; i++) {
		k.msrs[i].index = idx[i];
		k.msrs[i].data = val[i];
	}
	k.nr_msrs = XTS_XEN_CPU_MSRS;

	k.pending_valid = c.pending_valid;
	k.pending_vector = c.pending_vector;
	k.pending_type = c.pending_type;
	k.pending_error_valid = c.pending_error_valid;
	k.error_code = c.error_code;
	k.tsc = c.tsc;
	*out = k;
	return 0;
}
