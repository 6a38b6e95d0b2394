/*
 * KVM in-kernel Xen uAPI that Debian 12's <linux/kvm.h> (Linux 6.1) lacks.
 * Values checked against Linux's include/uapi/linux/kvm.h (moved to
 * arch/x86/include/uapi/asm/kvm.h in 6.9); each is defined only when the
 * installed header does not define it, so a newer header wins.  Not
 * installed: the public API uses XTS_KVM_XEN_* names.
 */
#ifndef XTS_SHIM_X86_KVM_XEN_UAPI_H
#define XTS_SHIM_X86_KVM_XEN_UAPI_H

#include <linux/kvm.h>

/* KVM_CHECK_EXTENSION(KVM_CAP_XEN_HVM) bits / KVM_XEN_HVM_CONFIG.flags. */
#ifndef KVM_XEN_HVM_CONFIG_HYPERCALL_MSR
#define KVM_XEN_HVM_CONFIG_HYPERCALL_MSR        (1 << 0)  /* bits 0-3: Linux 5.12 */
#endif
#ifndef KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL
#define KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL      (1 << 1)
#endif
#ifndef KVM_XEN_HVM_CONFIG_SHARED_INFO
#define KVM_XEN_HVM_CONFIG_SHARED_INFO          (1 << 2)
#endif
#ifndef KVM_XEN_HVM_CONFIG_RUNSTATE
#define KVM_XEN_HVM_CONFIG_RUNSTATE             (1 << 3)
#endif
#ifndef KVM_XEN_HVM_CONFIG_EVTCHN_2LEVEL
#define KVM_XEN_HVM_CONFIG_EVTCHN_2LEVEL        (1 << 4)
#endif
#ifndef KVM_XEN_HVM_CONFIG_EVTCHN_SEND
#define KVM_XEN_HVM_CONFIG_EVTCHN_SEND          (1 << 5)
#endif
#ifndef KVM_XEN_HVM_CONFIG_RUNSTATE_UPDATE_FLAG
#define KVM_XEN_HVM_CONFIG_RUNSTATE_UPDATE_FLAG (1 << 6)  /* after 6.1 */
#endif
#ifndef KVM_XEN_HVM_CONFIG_PVCLOCK_TSC_UNSTABLE
#define KVM_XEN_HVM_CONFIG_PVCLOCK_TSC_UNSTABLE (1 << 7)  /* after 6.1 */
#endif
#ifndef KVM_XEN_HVM_CONFIG_SHARED_INFO_HVA
#define KVM_XEN_HVM_CONFIG_SHARED_INFO_HVA      (1 << 8)  /* after 6.1 */
#endif

/* VM attribute types (KVM_XEN_HVM_SET_ATTR). */
#ifndef KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG
#define KVM_XEN_ATTR_TYPE_RUNSTATE_UPDATE_FLAG  0x5
#endif
#ifndef KVM_XEN_ATTR_TYPE_SHARED_INFO_HVA
#define KVM_XEN_ATTR_TYPE_SHARED_INFO_HVA       0x6
#endif
/* vCPU attribute types (KVM_XEN_VCPU_SET_ATTR). */
#ifndef KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO_HVA
#define KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO_HVA    0x9
#endif

/* "No address": deactivates shared_info / vcpu_info / time info. */
#ifndef KVM_XEN_INVALID_GFN
#define KVM_XEN_INVALID_GFN ((__u64)-1)
#endif
#ifndef KVM_XEN_INVALID_GPA
#define KVM_XEN_INVALID_GPA ((__u64)-1)
#endif

/*
 * The attribute unions start with a byte (long_mode, vector and, from 6.3,
 * runstate_update_flag share it); 6.1's struct lacks the last name, so it is
 * written through `vector`, which is the same byte.
 */
#define XTS_KVM_XEN_ATTR_U8(a) ((a)->u.vector)

#endif
