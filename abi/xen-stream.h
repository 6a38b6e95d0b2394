/*
 * Xen migration stream formats, as `xl save` / `xl migrate` write them
 * (Xen 4.6 and later: "migration v2").  Xen does not install these as
 * public headers; they are written here from the specifications
 * (docs/specs/libxc-migration-stream.pandoc, libxl-migration-stream.pandoc)
 * and from the byte layout xl itself writes (tools/xl/xl_saverestore.c).
 *
 * Three layers nest:
 *   xl save file  = xl header + optional data (JSON config) + libxl stream
 *   libxl stream  = libxl header + records; a LIBXC_CONTEXT record (body 0)
 *                   is followed inline by a whole libxc stream
 *   libxc stream  = image header + domain header + records up to END
 *
 * Byte order:
 *   xl header      the saving host's order, told by `byteorder`
 *   libxl header   always big-endian; records in the order of options bit 0
 *   libxc image    always big-endian; domain header and records in the
 *                  order of options bit 0
 *   HVM_CONTEXT, SHARED_INFO and page bodies are x86 memory images written
 *                  by Xen: little-endian whatever the stream order says
 * The structs below give the layout only; the parser reads every field
 * through explicit byte-order helpers, never by casting stream bytes.
 *
 * The HVM context blob inside an HVM_CONTEXT record is Xen's own save
 * format: those structs (struct hvm_save_descriptor, struct hvm_hw_cpu, ...)
 * ARE public headers (xen/hvm/save.h) and are used from there.
 */
#ifndef XTS_ABI_XEN_STREAM_H
#define XTS_ABI_XEN_STREAM_H

#include <stdint.h>
#include <stddef.h>
#include "abi/xen-abi.h"

/* ---- xl save file header (tools/xl/xl.h: struct save_file_header) ---- */
#define XTS_XL_MAGIC          "Xen saved domain, xl format\n \0 \r"
#define XTS_XL_MAGIC_LEN      32
#define XTS_XL_BYTEORDER      0x01020304u
#define XTS_XL_MFLAG_JSON     (1u << 0)  /* optional data holds the JSON config */
#define XTS_XL_MFLAG_STREAMV2 (1u << 1)  /* a libxl v2 stream follows */
#define XTS_XL_MFLAGS_KNOWN   (XTS_XL_MFLAG_JSON | XTS_XL_MFLAG_STREAMV2)

struct xts_xl_header {
	char magic[XTS_XL_MAGIC_LEN];
	uint32_t byteorder;          /* XTS_XL_BYTEORDER in the writer's order */
	uint32_t mandatory_flags;    /* an unknown bit means: cannot restore */
	uint32_t optional_flags;
	uint32_t optional_data_len;  /* bytes of optional data after the header */
};
/* Optional data, with XTS_XL_MFLAG_JSON: u32 config_len, config_len bytes of
 * JSON (NUL-terminated as xl writes it), possibly more data after. */

/* ---- libxl stream (libxl_sr_stream_format.h) ---- */
#define XTS_LIBXL_IDENT       0x4c6962786c466d74ull  /* "LibxlFmt" */
#define XTS_LIBXL_VERSION     2u
#define XTS_LIBXL_OPT_BE      (1u << 0)   /* records are big-endian */
#define XTS_LIBXL_OPT_LEGACY  (1u << 1)   /* converted from a pre-4.6 stream */

struct xts_libxl_header {
	uint64_t ident;              /* big-endian */
	uint32_t version;            /* big-endian */
	uint32_t options;            /* big-endian */
};

struct xts_libxl_rec_header {
	uint32_t type;
	uint32_t length;             /* body bytes, padding to 8 not included */
};

enum xts_libxl_rec_type {
	XTS_LIBXL_REC_END                    = 0,
	XTS_LIBXL_REC_LIBXC_CONTEXT          = 1,
	XTS_LIBXL_REC_EMULATOR_XENSTORE_DATA = 2,
	XTS_LIBXL_REC_EMULATOR_CONTEXT       = 3,
	XTS_LIBXL_REC_CHECKPOINT_END         = 4,
	XTS_LIBXL_REC_CHECKPOINT_STATE       = 5,
};

/* Sub-header of both emulator records. */
struct xts_libxl_emulator_header {
	uint32_t id;                 /* 0 unknown, 1 qemu-traditional, 2 qemu-upstream */
	uint32_t index;
};
#define XTS_LIBXL_EMULATOR_MAX_ID 2u

/* ---- libxc stream (xg_sr_stream_format.h) ---- */
#define XTS_LIBXC_MARKER      0xffffffffffffffffull
#define XTS_LIBXC_ID          0x58454e46u  /* "XENF" */
#define XTS_LIBXC_VERSION_MIN 2u
#define XTS_LIBXC_VERSION_MAX 3u           /* v3 adds STATIC_DATA_END */
#define XTS_LIBXC_OPT_BE      (1u << 0)

struct xts_libxc_image_header {
	uint64_t marker;             /* big-endian, all ones */
	uint32_t id;                 /* big-endian */
	uint32_t version;            /* big-endian */
	uint16_t options;            /* big-endian */
	uint16_t rsvd1;
	uint32_t rsvd2;
};

enum xts_libxc_dom_type {
	XTS_LIBXC_DOM_X86_PV  = 1,
	XTS_LIBXC_DOM_X86_HVM = 2,
	XTS_LIBXC_DOM_X86_PVH = 3,   /* reserved by the spec; Xen writes HVM for PVH */
	XTS_LIBXC_DOM_ARM     = 4,
};

struct xts_libxc_domain_header {
	uint32_t type;               /* enum xts_libxc_dom_type */
	uint16_t page_shift;
	uint16_t rsvd;
	uint32_t xen_major;
	uint32_t xen_minor;
};

struct xts_libxc_rec_header {
	uint32_t type;               /* bit 31: optional record */
	uint32_t length;             /* body bytes, padding to 8 not included */
};

#define XTS_LIBXC_REC_OPTIONAL   0x80000000u
#define XTS_LIBXC_REC_MAX_LENGTH (128u << 20)  /* REC_LENGTH_MAX in libxc */
#define XTS_STREAM_ALIGN         8u

enum xts_libxc_rec_type {
	XTS_LIBXC_REC_END                      = 0,
	XTS_LIBXC_REC_PAGE_DATA                = 1,
	XTS_LIBXC_REC_X86_PV_INFO              = 2,
	XTS_LIBXC_REC_X86_PV_P2M_FRAMES        = 3,
	XTS_LIBXC_REC_X86_PV_VCPU_BASIC        = 4,
	XTS_LIBXC_REC_X86_PV_VCPU_EXTENDED     = 5,
	XTS_LIBXC_REC_X86_PV_VCPU_XSAVE        = 6,
	XTS_LIBXC_REC_SHARED_INFO              = 7,
	XTS_LIBXC_REC_X86_TSC_INFO             = 8,
	XTS_LIBXC_REC_HVM_CONTEXT              = 9,
	XTS_LIBXC_REC_HVM_PARAMS               = 10,
	XTS_LIBXC_REC_TOOLSTACK                = 11,
	XTS_LIBXC_REC_X86_PV_VCPU_MSRS         = 12,
	XTS_LIBXC_REC_VERIFY                   = 13,
	XTS_LIBXC_REC_CHECKPOINT               = 14,
	XTS_LIBXC_REC_CHECKPOINT_DIRTY_PFN_LIST = 15,
	XTS_LIBXC_REC_STATIC_DATA_END          = 16,  /* v3 only */
	XTS_LIBXC_REC_X86_CPUID_POLICY         = 17,
	XTS_LIBXC_REC_X86_MSR_POLICY           = 18,
	XTS_LIBXC_REC_NR_KNOWN                 = 19,
};

/* PAGE_DATA: header, count pfn words, then one page per pfn that has data. */
struct xts_libxc_page_data_header {
	uint32_t count;              /* > 0 */
	uint32_t rsvd;
	/* uint64_t pfn[count]; page data follows */
};
#define XTS_PFN_TYPE_SHIFT     60
#define XTS_PFN_TYPE_MASK      0xf000000000000000ull
#define XTS_PFN_RSVD_MASK      0x0ff0000000000000ull   /* bits 59-52 */
#define XTS_PFN_MASK           0x000fffffffffffffull   /* bits 51-0 */
/* XEN_DOMCTL_PFINFO_* >> 28: 0 NOTAB, 1-4 L1-L4TAB, 5-8 reserved,
 * 9-0xc pinned L1-L4, 0xd BROKEN, 0xe XALLOC, 0xf XTAB (no data for d/e/f). */
#define XTS_PFN_TYPE_NOTAB     0x0u
#define XTS_PFN_TYPE_BROKEN    0xdu
#define XTS_PFN_TYPE_XALLOC    0xeu
#define XTS_PFN_TYPE_XTAB      0xfu

/* X86_PV_INFO */
struct xts_libxc_x86_pv_info {
	uint8_t guest_width;         /* 4 or 8 */
	uint8_t pt_levels;           /* 3 or 4 */
	uint8_t rsvd[6];
};

/* X86_PV_VCPU_* records start with this. */
struct xts_libxc_pv_vcpu_header {
	uint32_t vcpu_id;
	uint32_t rsvd;
};

/* X86_TSC_INFO (field order differs from struct xen_domctl_tsc_info). */
struct xts_libxc_tsc_info {
	uint32_t mode;               /* TSC_MODE_*: 0 default, 1 always emulate, 2 never emulate */
	uint32_t khz;                /* guest TSC kHz */
	uint64_t nsec;               /* elapsed ns (emulated TSC) */
	uint32_t incarnation;
	uint32_t rsvd;
};

/* HVM_PARAMS: header, then count entries.  Only non-zero params are sent. */
struct xts_libxc_hvm_params_header {
	uint32_t count;
	uint32_t rsvd;
};
struct xts_libxc_hvm_param {
	uint64_t index;
	uint64_t value;
};

/*
 * xtshim's own optional record (bit 31 set, so Xen's restore skips it):
 * the last pvclock record a vCPU saw and the guest's wallclock, as
 * xtshim-xen-export reads them from a running domain's shared_info.  With
 * it, the guest's Xen system time line continues exactly on KVM.
 */
#define XTS_LIBXC_REC_XTSHIM_TIME 0xd8540001u     /* 0x80000000 | "XT" 0001 */
#define XTS_XTSHIM_TIME_WALLCLOCK (1u << 0)        /* wc_* are valid */
struct xts_libxc_xtshim_time {
	uint32_t vcpu;               /* whose record `time` is */
	uint32_t flags;              /* XTS_XTSHIM_TIME_* */
	struct vcpu_time_info time;  /* little-endian, as in guest memory */
	uint64_t wc_sec;             /* UTC at system time 0 (incl. wc_sec_hi) */
	uint32_t wc_nsec;
	uint32_t wc_version;
};

/* ---- sizes and offsets the parser and writer rely on ---- */
#define XTS_STREAM_ASSERT_SIZE(t, n) _Static_assert(sizeof(t) == (n), "sizeof(" #t ")")
#define XTS_STREAM_ASSERT_OFF(t, f, n) \
	_Static_assert(offsetof(t, f) == (n), #t "." #f " offset")

XTS_STREAM_ASSERT_SIZE(struct xts_xl_header, 48);
XTS_STREAM_ASSERT_OFF(struct xts_xl_header, byteorder, 32);
XTS_STREAM_ASSERT_OFF(struct xts_xl_header, mandatory_flags, 36);
XTS_STREAM_ASSERT_OFF(struct xts_xl_header, optional_flags, 40);
XTS_STREAM_ASSERT_OFF(struct xts_xl_header, optional_data_len, 44);
_Static_assert(sizeof(XTS_XL_MAGIC) - 1 == XTS_XL_MAGIC_LEN, "xl magic is 32 bytes");

XTS_STREAM_ASSERT_SIZE(struct xts_libxl_header, 16);
XTS_STREAM_ASSERT_OFF(struct xts_libxl_header, version, 8);
XTS_STREAM_ASSERT_OFF(struct xts_libxl_header, options, 12);
XTS_STREAM_ASSERT_SIZE(struct xts_libxl_rec_header, 8);
XTS_STREAM_ASSERT_SIZE(struct xts_libxl_emulator_header, 8);

XTS_STREAM_ASSERT_SIZE(struct xts_libxc_image_header, 24);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_image_header, id, 8);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_image_header, version, 12);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_image_header, options, 16);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_domain_header, 16);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_domain_header, page_shift, 4);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_domain_header, xen_major, 8);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_domain_header, xen_minor, 12);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_rec_header, 8);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_page_data_header, 8);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_x86_pv_info, 8);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_pv_vcpu_header, 8);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_tsc_info, 24);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_tsc_info, khz, 4);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_tsc_info, nsec, 8);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_tsc_info, incarnation, 16);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_hvm_params_header, 8);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_hvm_param, 16);
XTS_STREAM_ASSERT_SIZE(struct xts_libxc_xtshim_time, 56);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_xtshim_time, time, 8);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_xtshim_time, wc_sec, 40);
XTS_STREAM_ASSERT_OFF(struct xts_libxc_xtshim_time, wc_nsec, 48);

/* The HVM save records xtshim reads the time from (public headers). */
XTS_STREAM_ASSERT_SIZE(struct hvm_save_descriptor, 8);
XTS_STREAM_ASSERT_OFF(struct hvm_save_descriptor, instance, 2);
XTS_STREAM_ASSERT_OFF(struct hvm_save_descriptor, length, 4);
XTS_STREAM_ASSERT_SIZE(struct hvm_save_header, 24);
XTS_STREAM_ASSERT_OFF(struct hvm_save_header, version, 4);
XTS_STREAM_ASSERT_OFF(struct hvm_save_header, changeset, 8);
XTS_STREAM_ASSERT_OFF(struct hvm_save_header, cpuid, 16);
XTS_STREAM_ASSERT_OFF(struct hvm_save_header, gtsc_khz, 20);
XTS_STREAM_ASSERT_SIZE(struct hvm_hw_cpu, 1032);
XTS_STREAM_ASSERT_SIZE(struct hvm_hw_cpu_compat, 1016);
XTS_STREAM_ASSERT_OFF(struct hvm_hw_cpu, tsc, 1008);
XTS_STREAM_ASSERT_SIZE(struct hvm_hw_lapic, 24);
XTS_STREAM_ASSERT_OFF(struct hvm_hw_lapic, tdt_msr, 16);
XTS_STREAM_ASSERT_SIZE(struct hvm_hw_rtc, 24);
XTS_STREAM_ASSERT_OFF(struct hvm_hw_rtc, rtc_offset, 16);
XTS_STREAM_ASSERT_SIZE(struct hvm_tsc_adjust, 8);
XTS_STREAM_ASSERT_SIZE(struct hvm_hw_cpu_xsave, 600);
XTS_STREAM_ASSERT_SIZE(struct hvm_msr, 8);
XTS_STREAM_ASSERT_SIZE(struct hvm_one_msr, 16);

#define XTS_HVM_MAGIC          0x54381286u   /* HVM_FILE_MAGIC */
#define XTS_HVM_VERSION        1u            /* HVM_FILE_VERSION */
#define XTS_HVM_VENDOR_FIRST   22u           /* 22-34: a vendor's private Xen */
#define XTS_HVM_VENDOR_LAST    34u

#endif
