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
