/*
 * The layout table, and the compile-time proof that every number in it is
 * what the Xen public headers say.
 */
#include "abi/xen-abi.h"
#include "abi/layout.h"

#define XTS_ASSERT_OFF(type, field, val) \
	_Static_assert(offsetof(type, field) == (val), #type "." #field " offset")
#define XTS_ASSERT_SIZE(type, val) \
	_Static_assert(sizeof(type) == (val), "sizeof(" #type ")")

/* vcpu_time_info: the same 32 bytes for every guest width. */
XTS_ASSERT_SIZE(struct vcpu_time_info, XTS_VCPU_TIME_INFO_SIZE);
XTS_ASSERT_OFF(struct vcpu_time_info, version, 0);
XTS_ASSERT_OFF(struct vcpu_time_info, tsc_timestamp, 8);
XTS_ASSERT_OFF(struct vcpu_time_info, system_time, 16);
XTS_ASSERT_OFF(struct vcpu_time_info, tsc_to_system_mul, 24);
XTS_ASSERT_OFF(struct vcpu_time_info, tsc_shift, 28);
XTS_ASSERT_OFF(struct vcpu_time_info, flags, 29);
XTS_ASSERT_SIZE(struct vcpu_time_info_x86_32, XTS_VCPU_TIME_INFO_SIZE);
XTS_ASSERT_SIZE(struct vcpu_time_info_arm64, XTS_VCPU_TIME_INFO_SIZE);

/* x86_64 */
XTS_ASSERT_SIZE(struct shared_info_x86_64, XTS_X86_64_SHARED_INFO_SIZE);
XTS_ASSERT_OFF(struct shared_info_x86_64, evtchn_pending, XTS_X86_64_EVTCHN_PENDING);
XTS_ASSERT_OFF(struct shared_info_x86_64, evtchn_mask, XTS_X86_64_EVTCHN_MASK);
XTS_ASSERT_OFF(struct shared_info_x86_64, wc_version, XTS_X86_64_WC_VERSION);
XTS_ASSERT_OFF(struct shared_info_x86_64, wc_sec, XTS_X86_64_WC_SEC);
XTS_ASSERT_OFF(struct shared_info_x86_64, wc_nsec, XTS_X86_64_WC_NSEC);
XTS_ASSERT_OFF(struct shared_info_x86_64, wc_sec_hi, XTS_X86_64_WC_SEC_HI);
XTS_ASSERT_SIZE(struct vcpu_info_x86_64, XTS_X86_64_VCPU_INFO_SIZE);
XTS_ASSERT_OFF(struct vcpu_info_x86_64, evtchn_upcall_pending, XTS_VI_UPCALL_PENDING);
#ifdef XEN_HAVE_PV_UPCALL_MASK   /* only set by the native x86 headers */
XTS_ASSERT_OFF(struct vcpu_info_x86_64, evtchn_upcall_mask, XTS_VI_UPCALL_MASK);
#else
XTS_ASSERT_OFF(struct vcpu_info_x86_64, pad0, XTS_VI_UPCALL_MASK);
#endif
XTS_ASSERT_OFF(struct vcpu_info_x86_64, evtchn_pending_sel, XTS_X86_64_VI_PENDING_SEL);
XTS_ASSERT_OFF(struct vcpu_info_x86_64, time, XTS_X86_64_VI_TIME);
/* The native runstate struct is the x86_64 layout on an x86_64 build. */
#if defined(__x86_64__)
XTS_ASSERT_SIZE(struct vcpu_runstate_info, XTS_X86_64_RUNSTATE_SIZE);
XTS_ASSERT_OFF(struct vcpu_runstate_info, state_entry_time, XTS_X86_64_RUNSTATE_ENTRY);
XTS_ASSERT_OFF(struct vcpu_runstate_info, time, XTS_X86_64_RUNSTATE_TIME);
#elif defined(__aarch64__)
XTS_ASSERT_SIZE(struct vcpu_runstate_info, XTS_ARM64_RUNSTATE_SIZE);
XTS_ASSERT_OFF(struct vcpu_runstate_info, state_entry_time, XTS_ARM64_RUNSTATE_ENTRY);
XTS_ASSERT_OFF(struct vcpu_runstate_info, time, XTS_ARM64_RUNSTATE_TIME);
#endif

/* i386 (runstate is asserted by abi/i386/layout-check.c under -m32) */
XTS_ASSERT_SIZE(struct shared_info_x86_32, XTS_X86_32_SHARED_INFO_SIZE);
XTS_ASSERT_OFF(struct shared_info_x86_32, evtchn_pending, XTS_X86_32_EVTCHN_PENDING);
XTS_ASSERT_OFF(struct shared_info_x86_32, evtchn_mask, XTS_X86_32_EVTCHN_MASK);
XTS_ASSERT_OFF(struct shared_info_x86_32, wc_version, XTS_X86_32_WC_VERSION);
XTS_ASSERT_OFF(struct shared_info_x86_32, wc_sec, XTS_X86_32_WC_SEC);
XTS_ASSERT_OFF(struct shared_info_x86_32, wc_nsec, XTS_X86_32_WC_NSEC);
XTS_ASSERT_OFF(struct shared_info_x86_32, arch.wc_sec_hi, XTS_X86_32_WC_SEC_HI);
XTS_ASSERT_SIZE(struct vcpu_info_x86_32, XTS_X86_32_VCPU_INFO_SIZE);
XTS_ASSERT_OFF(struct vcpu_info_x86_32, evtchn_pending_sel, XTS_X86_32_VI_PENDING_SEL);
XTS_ASSERT_OFF(struct vcpu_info_x86_32, time, XTS_X86_32_VI_TIME);

/* arm64 */
XTS_ASSERT_SIZE(struct shared_info_arm64, XTS_ARM64_SHARED_INFO_SIZE);
XTS_ASSERT_OFF(struct shared_info_arm64, evtchn_pending, XTS_ARM64_EVTCHN_PENDING);
XTS_ASSERT_OFF(struct shared_info_arm64, evtchn_mask, XTS_ARM64_EVTCHN_MASK);
XTS_ASSERT_OFF(struct shared_info_arm64, wc_version, XTS_ARM64_WC_VERSION);
XTS_ASSERT_OFF(struct shared_info_arm64, wc_sec, XTS_ARM64_WC_SEC);
XTS_ASSERT_OFF(struct shared_info_arm64, wc_nsec, XTS_ARM64_WC_NSEC);
XTS_ASSERT_OFF(struct shared_info_arm64, wc_sec_hi, XTS_ARM64_WC_SEC_HI);
XTS_ASSERT_SIZE(struct vcpu_info_arm64, XTS_ARM64_VCPU_INFO_SIZE);
XTS_ASSERT_OFF(struct vcpu_info_arm64, evtchn_pending_sel, XTS_ARM64_VI_PENDING_SEL);
XTS_ASSERT_OFF(struct vcpu_info_arm64, time, XTS_ARM64_VI_TIME);

/* PVH start info and the HVM save records xtshim reads or writes. */
XTS_ASSERT_SIZE(struct hvm_start_info, 56);
XTS_ASSERT_OFF(struct hvm_start_info, cmdline_paddr, 24);
XTS_ASSERT_OFF(struct hvm_start_info, memmap_paddr, 40);
XTS_ASSERT_OFF(struct hvm_start_info, memmap_entries, 48);
XTS_ASSERT_SIZE(struct hvm_memmap_table_entry, 24);
XTS_ASSERT_SIZE(struct hvm_save_descriptor, 8);
XTS_ASSERT_SIZE(struct hvm_save_header, 24);
XTS_ASSERT_OFF(struct hvm_save_header, gtsc_khz, 20);
XTS_ASSERT_SIZE(struct hvm_hw_cpu, 1032);
XTS_ASSERT_OFF(struct hvm_hw_cpu, tsc, 1008);
XTS_ASSERT_SIZE(struct hvm_tsc_adjust, 8);

#define XTS_LAYOUT_ROW(P, nm, slots)                                       \
	{ .name = nm, .shared_info_size = P##_SHARED_INFO_SIZE,              \
	  .legacy_vcpus = slots, .evtchn_pending = P##_EVTCHN_PENDING,       \
	  .evtchn_mask = P##_EVTCHN_MASK,                                    \
	  .word_bytes = P##_VI_PENDING_SEL,                                  \
	  .nr_evtchns = (P##_VI_PENDING_SEL * 8) * (P##_VI_PENDING_SEL * 8), \
	  .wc_version = P##_WC_VERSION, .wc_sec = P##_WC_SEC,                \
	  .wc_nsec = P##_WC_NSEC, .wc_sec_hi = P##_WC_SEC_HI,                \
	  .vcpu_info_size = P##_VCPU_INFO_SIZE,                              \
	  .vi_pending_sel = P##_VI_PENDING_SEL, .vi_time = P##_VI_TIME,      \
	  .runstate_size = P##_RUNSTATE_SIZE,                                \
	  .runstate_entry = P##_RUNSTATE_ENTRY,                              \
	  .runstate_time = P##_RUNSTATE_TIME }

/*
 * pending_sel sits right after the two u8 flags, padded to the size of a
 * xen_ulong_t, so its offset doubles as the word size; asserted here so the
 * table macro above can rely on it.
 */
_Static_assert(sizeof(((struct vcpu_info_x86_64 *)0)->evtchn_pending_sel) == XTS_X86_64_VI_PENDING_SEL, "word");
_Static_assert(sizeof(((struct vcpu_info_x86_32 *)0)->evtchn_pending_sel) == XTS_X86_32_VI_PENDING_SEL, "word");
_Static_assert(sizeof(((struct vcpu_info_arm64 *)0)->evtchn_pending_sel) == XTS_ARM64_VI_PENDING_SEL, "word");
_Static_assert(sizeof(((struct shared_info_x86_64 *)0)->vcpu_info) / XTS_X86_64_VCPU_INFO_SIZE == 32, "slots");
_Static_assert(sizeof(((struct shared_info_x86_32 *)0)->vcpu_info) / XTS_X86_32_VCPU_INFO_SIZE == 32, "slots");
_Static_assert(sizeof(((struct shared_info_arm64 *)0)->vcpu_info) / XTS_ARM64_VCPU_INFO_SIZE == 1, "slots");

static const struct xts_layout layouts[] = {
	[XTS_LAYOUT_X86_64] = XTS_LAYOUT_ROW(XTS_X86_64, "x86_64", 32),
	[XTS_LAYOUT_X86_32] = XTS_LAYOUT_ROW(XTS_X86_32, "x86_32", 32),
	[XTS_LAYOUT_ARM64]  = XTS_LAYOUT_ROW(XTS_ARM64, "arm64", 1),
};

const struct xts_layout *xts_layout_get(enum xts_layout_id id)
{
	if ((unsigned)id >= sizeof(layouts) / sizeof(layouts[0]))
		return NULL;
	return &layouts[id];
}
