/*
 * The arm64 KVM uAPI xtshim uses, from <linux/kvm.h> where the build's
 * headers have it.  Debian 12's 6.1 headers predate the VM counter offset
 * (Linux 6.4), and an x86 build sees no arm64 <asm/kvm.h> at all, so the
 * missing pieces are spelled out here under the kernel's own names.
 * Internal header: not installed.
 */
#ifndef XTS_ARM64_UAPI_H
#define XTS_ARM64_UAPI_H

#include <linux/kvm.h>

#ifndef KVM_CAP_COUNTER_OFFSET
#define KVM_CAP_COUNTER_OFFSET 227
#endif

/*
 * VM ioctl: guest counter = host physical counter - counter_offset, for the
 * virtual and the physical view alike; reserved must be 0.  A header that
 * has the ioctl has the struct too.
 */
#ifndef KVM_ARM_SET_COUNTER_OFFSET
struct kvm_arm_counter_offset {
	__u64 counter_offset;
	__u64 reserved;
};
#define KVM_ARM_SET_COUNTER_OFFSET _IOW(KVMIO, 0xb5, struct kvm_arm_counter_offset)
#endif
_Static_assert(sizeof(struct kvm_arm_counter_offset) == 16, "kvm_arm_counter_offset");

/*
 * The one-reg id KVM names KVM_REG_ARM_TIMER_CNT is the system-register
 * encoding of CNTV_CVAL_EL0 (op0 3, op1 3, CRn 14, CRm 3, op2 2), and
 * KVM_REG_ARM_TIMER_CVAL carries CNTVCT_EL0's (CRm 0).  The two were
 * swapped when the uAPI was first written and stay swapped for
 * compatibility: the counter is written through the uAPI value below,
 * never through an id built from the architectural encoding.
 */
#ifndef KVM_REG_ARM_TIMER_CNT
#define KVM_REG_ARM_TIMER_CNT 0x603000000013DF1AULL
#endif
_Static_assert(KVM_REG_ARM_TIMER_CNT == 0x603000000013DF1AULL, "KVM_REG_ARM_TIMER_CNT");

#endif
