/*
 * Guest-width layout table.  Everything xtshim writes into shared_info,
 * vcpu_info or a runstate area is placed through this table, so no code path
 * exists twice for 32- and 64-bit guests.  Each number is asserted against
 * the Xen public headers (abi/layout.c natively, abi/i386/layout-check.c
 * compiled with -m32 for the i386-only runstate layout).
 */
#ifndef XTS_ABI_LAYOUT_H
#define XTS_ABI_LAYOUT_H

#include <stdint.h>
#include "shim/xtshim.h"   /* enum xts_layout_id */

/* x86_64 guests: xen/foreign/x86_64.h */
#define XTS_X86_64_SHARED_INFO_SIZE   3136
#define XTS_X86_64_EVTCHN_PENDING     2048
#define XTS_X86_64_EVTCHN_MASK        2560
#define XTS_X86_64_WC_VERSION         3072
#define XTS_X86_64_WC_SEC             3076
#define XTS_X86_64_WC_NSEC            3080
#define XTS_X86_64_WC_SEC_HI          3084
#define XTS_X86_64_VI_PENDING_SEL     8
#define XTS_X86_64_VCPU_INFO_SIZE     64
#define XTS_X86_64_VI_TIME            32
#define XTS_X86_64_RUNSTATE_SIZE      48
#define XTS_X86_64_RUNSTATE_ENTRY     8
#define XTS_X86_64_RUNSTATE_TIME      16

/* i386 guests: xen/foreign/x86_32.h; runstate from the native i386 header */
#define XTS_X86_32_SHARED_INFO_SIZE   2344
#define XTS_X86_32_EVTCHN_PENDING     2048
#define XTS_X86_32_EVTCHN_MASK        2176
#define XTS_X86_32_WC_VERSION         2304
#define XTS_X86_32_WC_SEC             2308
#define XTS_X86_32_WC_NSEC            2312
#define XTS_X86_32_WC_SEC_HI          2340   /* arch.wc_sec_hi */
#define XTS_X86_32_VI_PENDING_SEL     4
#define XTS_X86_32_VCPU_INFO_SIZE     64
#define XTS_X86_32_VI_TIME            32
#define XTS_X86_32_RUNSTATE_SIZE      44
#define XTS_X86_32_RUNSTATE_ENTRY     4
#define XTS_X86_32_RUNSTATE_TIME      12

/* arm64 guests: xen/foreign/arm64.h (one legacy vcpu_info slot) */
#define XTS_ARM64_SHARED_INFO_SIZE    1088
#define XTS_ARM64_EVTCHN_PENDING      48
#define XTS_ARM64_EVTCHN_MASK         560
#define XTS_ARM64_WC_VERSION          1072
#define XTS_ARM64_WC_SEC              1076
#define XTS_ARM64_WC_NSEC             1080
#define XTS_ARM64_WC_SEC_HI           1084
#define XTS_ARM64_VI_PENDING_SEL      8
#define XTS_ARM64_VCPU_INFO_SIZE      48
#define XTS_ARM64_VI_TIME             16
#define XTS_ARM64_RUNSTATE_SIZE       48
#define XTS_ARM64_RUNSTATE_ENTRY      8
#define XTS_ARM64_RUNSTATE_TIME       16

/* Common to every layout. */
#define XTS_VI_UPCALL_PENDING         0
#define XTS_VI_UPCALL_MASK            1
#define XTS_VCPU_TIME_INFO_SIZE       32

struct xts_layout {
	const char *name;
	uint32_t shared_info_size;
	uint32_t legacy_vcpus;       /* vcpu_info slots inside shared_info */
	uint32_t evtchn_pending;     /* offset of the pending bitmap */
	uint32_t evtchn_mask;        /* offset of the mask bitmap */
	uint32_t word_bytes;         /* xen_ulong_t: bitmap word and pending_sel size */
	uint32_t nr_evtchns;         /* 2-level ABI: word_bits * word_bits */
	uint32_t wc_version, wc_sec, wc_nsec, wc_sec_hi;
	uint32_t vcpu_info_size;
	uint32_t vi_pending_sel, vi_time;  /* offsets inside vcpu_info */
	uint32_t runstate_size, runstate_entry, runstate_time;
};

/* NULL for an id outside the table. */
const struct xts_layout *xts_layout_get(enum xts_layout_id id);

#endif
