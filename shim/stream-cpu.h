/*
 * A Xen HVM CPU save record (struct hvm_hw_cpu, typecode 2) as KVM wants
 * it, for `run --from-xen` (x86 Linux only; not installed).
 *
 * The VMM collects CPU entries through the stream visitor (layer
 * XTS_STREAM_HVM, type 2, body valid during the callback), converts them
 * here, and sets them with KVM_SET_REGS / KVM_SET_SREGS / KVM_SET_FPU /
 * KVM_SET_MSRS / KVM_SET_DEBUGREGS.  apic_base and cr8 are left 0 (they
 * come from the LAPIC records); the TSC is the clock model's business.
 */
#ifndef XTS_SHIM_STREAM_CPU_H
#define XTS_SHIM_STREAM_CPU_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/kvm.h>

#define XTS_XEN_CPU_MSRS 9

struct xts_xen_cpu_kvm {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	struct kvm_debugregs debugregs;
	bool fpu_valid;               /* Xen had initialised the FPU */
	struct kvm_fpu fpu;           /* from the FXSAVE image */
	uint32_t nr_msrs;
	struct kvm_msr_entry msrs[XTS_XEN_CPU_MSRS];
	bool pending_valid;           /* an event Xen was about to inject */
	uint8_t pending_vector, pending_type;   /* type: VMX interruption type */
	bool pending_error_valid;
	uint32_t error_code;
	uint64_t tsc;                 /* guest TSC ticks at the save instant */
};

/*
 * body/len: one CPU entry (1032 bytes, or the 1016-byte pre-4.9 layout).
 * -EINVAL for another length; *out changes only on success.
 */
int xts_xen_cpu_to_kvm(const void *body, uint32_t len, struct xts_xen_cpu_kvm *out);

/*
 * The reverse, for writing a guest back as a Xen stream: a 1032-byte
 * struct hvm_hw_cpu (xen/hvm/save.h) into `out`.  FXSAVE bytes KVM does
 * not carry are zero (an MXCSR_MASK of 0 means the architectural default).
 * MSRs not in k->msrs are 0.
 */
int xts_kvm_to_xen_cpu(const struct xts_xen_cpu_kvm *k, void *out);

#endif
