/*
 * Names and per-typecode rules of the Xen stream formats, shared by the
 * parser, the writer and `inspect`.
 */
#include <stdio.h>
#include "shim/stream-internal.h"

const char *xts_libxl_rec_name(uint32_t type)
{
	static const char *const names[] = {
		[XTS_LIBXL_REC_END] = "END",
		[XTS_LIBXL_REC_LIBXC_CONTEXT] = "LIBXC_CONTEXT",
		[XTS_LIBXL_REC_EMULATOR_XENSTORE_DATA] = "EMULATOR_XENSTORE_DATA",
		[XTS_LIBXL_REC_EMULATOR_CONTEXT] = "EMULATOR_CONTEXT",
		[XTS_LIBXL_REC_CHECKPOINT_END] = "CHECKPOINT_END",
		[XTS_LIBXL_REC_CHECKPOINT_STATE] = "CHECKPOINT_STATE",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "unknown";
}

const char *xts_libxc_rec_name(uint32_t type)
{
	static const char *const names[XTS_LIBXC_REC_NR_KNOWN] = {
		[XTS_LIBXC_REC_END] = "END",
		[XTS_LIBXC_REC_PAGE_DATA] = "PAGE_DATA",
		[XTS_LIBXC_REC_X86_PV_INFO] = "X86_PV_INFO",
		[XTS_LIBXC_REC_X86_PV_P2M_FRAMES] = "X86_PV_P2M_FRAMES",
		[XTS_LIBXC_REC_X86_PV_VCPU_BASIC] = "X86_PV_VCPU_BASIC",
		[XTS_LIBXC_REC_X86_PV_VCPU_EXTENDED] = "X86_PV_VCPU_EXTENDED",
		[XTS_LIBXC_REC_X86_PV_VCPU_XSAVE] = "X86_PV_VCPU_XSAVE",
		[XTS_LIBXC_REC_SHARED_INFO] = "SHARED_INFO",
		[XTS_LIBXC_REC_X86_TSC_INFO] = "X86_TSC_INFO",
		[XTS_LIBXC_REC_HVM_CONTEXT] = "HVM_CONTEXT",
		[XTS_LIBXC_REC_HVM_PARAMS] = "HVM_PARAMS",
		[XTS_LIBXC_REC_TOOLSTACK] = "TOOLSTACK",
		[XTS_LIBXC_REC_X86_PV_VCPU_MSRS] = "X86_PV_VCPU_MSRS",
		[XTS_LIBXC_REC_VERIFY] = "VERIFY",
		[XTS_LIBXC_REC_CHECKPOINT] = "CHECKPOINT",
		[XTS_LIBXC_REC_CHECKPOINT_DIRTY_PFN_LIST] = "CHECKPOINT_DIRTY_PFN_LIST",
		[XTS_LIBXC_REC_STATIC_DATA_END] = "STATIC_DATA_END",
		[XTS_LIBXC_REC_X86_CPUID_POLICY] = "X86_CPUID_POLICY",
		[XTS_LIBXC_REC_X86_MSR_POLICY] = "X86_MSR_POLICY",
	};
	if (type == XTS_LIBXC_REC_XTSHIM_TIME)
		return "XTSHIM_TIME";
	return type < XTS_LIBXC_REC_NR_KNOWN ? names[type] : "unknown";
}

const char *xts_layer_name(uint32_t layer)
{
	switch (layer) {
	case XTS_STREAM_XL: return "xl";
	case XTS_STREAM_LIBXL: return "libxl";
	case XTS_STREAM_LIBXC: return "libxc";
	case XTS_STREAM_HVM: return "HVM context";
	}
	return "?";
}

#define VCPU  true
#define DOM   false
#define FIXED(t) HVM_SAVE_LENGTH(t), HVM_SAVE_LENGTH(t)
/*
 * Lengths Xen's loader accepts: exact for most entries; CPU also in its
 * pre-4.9 compat size; entries Xen loads with zero-extension (LAPIC,
 * VIRIDIAN_VCPU, VMCE_VCPU) any length up to the full one;
 * XSAVE and MSR entries are variable (checked by the parser).
 */
static const struct xts_hvm_entry_rule hvm_rules[] = {
	[0]  = { "END", 0, 0, DOM, 0 },
	[1]  = { "HEADER", FIXED(HEADER), DOM, 0 },
	[2]  = { "CPU", sizeof(struct hvm_hw_cpu_compat), HVM_SAVE_LENGTH(CPU), VCPU, 0 },
	[3]  = { "PIC", FIXED(PIC), DOM, 1 },
	[4]  = { "IOAPIC", FIXED(IOAPIC), DOM, 0 },
	[5]  = { "LAPIC", 0, HVM_SAVE_LENGTH(LAPIC), VCPU, 0 },
	[6]  = { "LAPIC_REGS", FIXED(LAPIC_REGS), VCPU, 0 },
	[7]  = { "PCI_IRQ", FIXED(PCI_IRQ), DOM, 0 },
	[8]  = { "ISA_IRQ", FIXED(ISA_IRQ), DOM, 0 },
	[9]  = { "PCI_LINK", FIXED(PCI_LINK), DOM, 0 },
	[10] = { "PIT", FIXED(PIT), DOM, 0 },
	[11] = { "RTC", FIXED(RTC), DOM, 0 },
	[12] = { "HPET", FIXED(HPET), DOM, 0 },
	[13] = { "PMTIMER", FIXED(PMTIMER), DOM, 0 },
	[14] = { "MTRR", FIXED(MTRR), VCPU, 0 },
	[15] = { "VIRIDIAN_DOMAIN", FIXED(VIRIDIAN_DOMAIN), DOM, 0 },
	[16] = { "CPU_XSAVE", sizeof(struct hvm_hw_cpu_xsave), XTS_LIBXC_REC_MAX_LENGTH, VCPU, 0 },
	[17] = { "VIRIDIAN_VCPU", 0, HVM_SAVE_LENGTH(VIRIDIAN_VCPU), VCPU, 0 },
	[18] = { "VMCE_VCPU", 0, HVM_SAVE_LENGTH(VMCE_VCPU), VCPU, 0 },
	[19] = { "TSC_ADJUST", FIXED(TSC_ADJUST), VCPU, 0 },
	[20] = { "CPU_MSR", sizeof(struct hvm_msr), XTS_LIBXC_REC_MAX_LENGTH, VCPU, 0 },
};
#define NR_HVM_RULES (sizeof(hvm_rules) / sizeof(hvm_rules[0]))
_Static_assert(NR_HVM_RULES == HVM_SAVE_CODE_MAX + 1, "one rule per Xen save typecode");

const struct xts_hvm_entry_rule *xts_hvm_entry_rule(uint32_t typecode)
{
	return typecode < NR_HVM_RULES ? &hvm_rules[typecode] : NULL;
}

const char *xts_hvm_entry_name(uint32_t typecode)
{
	if (typecode < NR_HVM_RULES)
		return hvm_rules[typecode].name;
	if (typecode >= XTS_HVM_VENDOR_FIRST && typecode <= XTS_HVM_VENDOR_LAST)
		return "vendor-reserved";
	return "unknown";
}

int xts_why(char *buf, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (buf && len) {
		va_start(ap, fmt);
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

void xts_stream_set_error(struct xts_stream_error *e, int err, uint32_t layer, int64_t index,
			  uint32_t type, uint64_t offset, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return;
	e->err = err;
	e->layer = layer;
	e->index = index;
	e->type = type;
	e->offset = offset;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}
